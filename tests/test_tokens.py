"""Token-level alignment: evidence about the claim, not about the event (issue 11, part 3).

A claim's specific words either have counterparts in its best evidence or they do not; the recall of its
pieces on the encoder's token states (weighted by how specific each piece is within the event) moves the
judge's status between absent, partial and supported. Every engine path reads the same recall, or none.
"""

import numpy as np
import pytest

from divergence import compare
from divergence.config import load_settings
from divergence.datamodel import Status
from divergence.encoder.centring import background_sentences
from divergence.encoder.tokens import TokenStateCache, TokenTable, from_bytes, to_bytes
from divergence.engines.precomputed import PrecomputedEncoder, judge_one_event
from divergence.errors import ConfigError
from divergence.ingest.prepare import prepare_inputs
from divergence.judge.align import evidence_units
from divergence.judge.classifier import by_token_recall
from divergence.judge.parts import judged_texts
from divergence.judge.tokens import PieceWeights, token_recall

READOUT = ("Emmanuel Macron and Vladimir Putin spoke by telephone on Friday. The two presidents discussed the situation in Libya. "
           "They agreed to stay in contact.")
ASKED = "Macron also asked Putin about the journalist detained in Moscow."
CALL = "Macron and Putin held a phone conversation on Friday."


def _judged(claim: str, settings, reference: str = READOUT):
    report = compare([("ref", reference), ("claim", claim)], settings)
    (judgement,) = [c.statuses["ref"] for c in report.events[0].claims if c.document == "claim"]
    return judgement


@pytest.mark.parametrize(("claim", "gold", "without"), [
    # The readout never mentions a journalist: its best match shares only the leaders' names.
    (ASKED, Status.absent, Status.partial),
    # The same call in other words: every specific word has its counterpart.
    (CALL, Status.supported, Status.partial),
    ("They talked about Libya during the call.", Status.supported, Status.partial),
])
def test_token_recall_decides_between_absent_partial_and_supported(settings, claim, gold, without):
    judgement = _judged(claim, settings)
    assert judgement.status is gold, judgement.reason
    assert "token recall" in judgement.reason
    assert _judged(claim, settings.model_copy(update={"token_alignment": False})).status is without


def test_the_reason_names_the_token_recall_and_the_probability_follows_the_status(settings):
    judgement = _judged(ASKED, settings)
    assert judgement.reason.startswith("no sentence of the other document says this: the words that set it apart have no counterpart")
    assert max(judgement.probabilities, key=judgement.probabilities.get) == "absent"


def test_rule_moves_one_step_and_never_touches_a_contradiction(settings):
    assert by_token_recall(Status.supported, 0.70, settings) is Status.absent
    assert by_token_recall(Status.partial, 0.70, settings) is Status.absent
    assert by_token_recall(Status.absent, 0.85, settings) is Status.partial  # not straight to supported
    assert by_token_recall(Status.partial, 0.90, settings) is Status.supported
    assert by_token_recall(Status.supported, 0.85, settings) is Status.supported
    assert by_token_recall(Status.contradicted, 0.10, settings) is Status.contradicted
    assert by_token_recall(Status.partial, None, settings) is Status.partial
    # Across languages a topical best match reaches that recall: an absent claim stays absent.
    assert by_token_recall(Status.absent, 0.85, settings, cross_lingual=True) is Status.absent
    assert by_token_recall(Status.partial, 0.70, settings, cross_lingual=True) is Status.absent


def test_thresholds_out_of_order_are_refused(monkeypatch):
    monkeypatch.setenv("DIVERGENCE_TOKEN_RECALL_ABSENT", "0.9")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert refused.value.line() == ("[E400] environment variable DIVERGENCE_TOKEN_RECALL_ABSENT: must not exceed "
                                    "token_recall_partial (0.9 > 0.81)")


def test_pieces_in_every_sentence_of_the_event_weigh_least():
    weights = PieceWeights([np.array([1, 2, 3]), np.array([1, 2]), np.array([1, 4])])
    common, rare, unseen = weights.of(np.array([1, 4, 9]))
    assert common < rare == unseen


def test_recall_counts_the_specific_pieces_more():
    states = np.eye(3, dtype=np.float32)
    weights = PieceWeights([np.array([1, 7]), np.array([1]), np.array([1])])
    claim = (np.array([1, 7]), states[:2])
    # Evidence holding the common piece only: its recall is far below one holding the specific piece only.
    assert token_recall(claim, (np.array([1]), states[:1]), weights) < token_recall(claim, (np.array([7]), states[1:2]), weights)
    assert token_recall(claim, claim, weights) == pytest.approx(1.0)


def test_token_states_round_trip_through_the_cache(runtime, tmp_path):
    (states,) = runtime.token_states([CALL])
    ids, vectors = states
    assert len(ids) == len(vectors) > 5 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    # The text's own pieces, as the tokenizer cuts the text alone (the prompt's pieces left out).
    from pathlib import Path

    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(runtime.encoder.path) / "tokenizer.json"))
    assert [int(i) for i in ids] == tokenizer.encode(CALL, add_special_tokens=False).ids
    cache = TokenStateCache(tmp_path / "tokens.sqlite", "model")
    cache.put_many({"k": states})
    back = cache.get_many(["k"])["k"]
    assert (back[0] == ids).all() and np.abs(back[1] - vectors).max() < 2e-3
    assert all((a == b).all() for a, b in zip(from_bytes(*to_bytes(back)), back, strict=True))


@pytest.fixture(scope="module")
def prepared(settings):
    documents, claims, _ = prepare_inputs([("ref", READOUT), ("claim", f"{ASKED} {CALL}")], settings)
    return documents, claims


def _on_precomputed(runtime, documents, claims, tokens):
    """The event judged as a Ray task judges it: from vectors (and maybe token states) computed beforehand."""
    settings = runtime.settings
    texts = [*background_sentences(), *(c.text for d in documents for c in claims[d.id])]
    texts += [u.text for d in documents for u in evidence_units(d, claims[d.id], settings.evidence_window)]
    texts += [t for d in documents for t in judged_texts(d, claims[d.id], settings)]
    texts = sorted(set(texts))
    encoder = PrecomputedEncoder(dict(zip(texts, runtime.encoder.encode(texts), strict=True)), runtime.encoder.dimension)
    known = {d.id: runtime.embed([c.text for c in claims[d.id]]) for d in documents}
    event = judge_one_event(settings, encoder, runtime.centring, documents, claims, "e", known, tokens)
    return {(c.text, o): j.status for c in event.claims for o, j in c.statuses.items()}


def test_precomputed_vectors_with_token_states_judge_as_the_local_engine(runtime, prepared):
    documents, claims = prepared
    texts = sorted({c.text for d in documents for c in claims[d.id]})
    table = TokenTable(dict(zip(texts, runtime.token_states(texts), strict=True)))
    local = compare(list(zip(["ref", "claim"], [READOUT, f"{ASKED} {CALL}"], strict=True)), runtime.settings)
    expected = {(c.text, o): j.status for c in local.events[0].claims for o, j in c.statuses.items()}
    assert _on_precomputed(runtime, documents, claims, table) == expected
    assert expected[(CALL, "ref")] is Status.supported


def test_without_token_states_the_judge_decides_as_without_token_alignment(runtime, settings, prepared):
    """The int8 encoder and vectors computed elsewhere without token states: no recall is read, nothing moves."""
    documents, claims = prepared
    off = compare([("ref", READOUT), ("claim", f"{ASKED} {CALL}")], settings.model_copy(update={"token_alignment": False}))
    expected = {(c.text, o): j.status for c in off.events[0].claims for o, j in c.statuses.items()}
    assert _on_precomputed(runtime, documents, claims, None) == expected
    assert expected[(CALL, "ref")] is Status.partial


def test_the_int8_encoder_reads_its_own_token_states(settings):
    """The int8 ONNX build returns the last layer's states beside the pooled vector: the judge's token alignment works
    on it as on float32 (the same statuses on this pair, one of them moved by the token rule), without torch."""
    from divergence.encoder.embed import fast_encoder_built
    from divergence.runtime import Runtime

    int8 = settings.model_copy(update={"encoder_backend": "onnx-int8"})
    if not fast_encoder_built(int8):
        pytest.skip("int8 encoder not built (make model builds it)")
    assert Runtime(int8).token_encoder is not None
    texts = [("ref", READOUT), ("claim", f"{ASKED} {CALL}")]
    on_int8 = compare(texts, int8)
    on_float32 = compare(texts, settings.model_copy(update={"encoder_backend": "torch"}))
    statuses = lambda report: {(c.text, o): j.status for c in report.events[0].claims for o, j in c.statuses.items()}  # noqa: E731
    assert statuses(on_int8) == statuses(on_float32)
    assert statuses(on_int8)[(CALL, "ref")] is Status.supported
    without = compare(texts, int8.model_copy(update={"token_alignment": False}))
    assert statuses(without)[(CALL, "ref")] is Status.partial
