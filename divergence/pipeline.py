"""The one Python API behind the CLI and the HTTP server: load → clean → segment → embed → align → judge → report."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from divergence.align import Centering, Match, background_sentences, best_matches, evidence_units
from divergence.attribution import attribution_divergence
from divergence.clean import clean
from divergence.cluster import EventClusterer
from divergence.config import Settings, judge_model_path, load_settings
from divergence.encoder import get_encoder
from divergence.encoder.embed import Encoder
from divergence.errors import ModelError, NotEnoughDocuments
from divergence.features import DocumentFacts
from divergence.judge import ClaimJudge, judge, load_judge
from divergence.load import load_documents
from divergence.metadata import describe
from divergence.model import Claim, ClaimReport, Document, DocumentSummary, Event, Judgement, Problem, Report, Status
from divergence.profile import Profile, build_profile
from divergence.segment import segment

Input = str | Document | tuple[str, str]


def prepare(document: Document, settings: Settings) -> tuple[Document, list[Claim]]:
    """Clean, describe and segment one loaded document."""
    document = describe(clean(document), settings.language_seed)
    return document, segment(document, settings.language_seed)


def _centering(encoder: Encoder) -> Centering:
    cached = getattr(encoder, "_centering", None)
    if cached is None:
        cached = Centering().fit(encoder.encode(list(background_sentences())))
        encoder._centering = cached
    return cached


def _summary(document: Document, claims: int) -> DocumentSummary:
    return DocumentSummary(
        id=document.id,
        language=document.language,
        source=document.source,
        published=document.published,
        event_date=document.event_date,
        title=document.title,
        path=document.path,
        url=document.url,
        claims=claims,
        removed_chars=sum(s.end - s.start for s in document.removed),
        warnings=document.warnings,
    )


@dataclass
class Aligned:
    """One claim of ``document`` and its best evidence in ``other`` (None when ``other`` has no claims)."""

    document: Document
    other: Document
    claim: Claim
    match: Match | None


def align_documents(
    documents: Sequence[Document],
    claims: dict[str, list[Claim]],
    settings: Settings,
    encoder: Encoder,
    known_vectors: dict[str, np.ndarray] | None = None,
    directions: set[tuple[str, str]] | None = None,
) -> Iterator[Aligned]:
    """Every claim of every document with its best evidence in every other document.

    ``known_vectors`` are centred claim vectors already computed (by clustering), so only the
    joined evidence units are embedded here. ``directions`` limits the output to some
    (document, other) pairs.
    """
    centering = _centering(encoder)
    claim_vectors: dict[str, np.ndarray] = {}
    units = {}
    unit_vectors = {}
    for document in documents:
        doc_claims = claims[document.id]
        units[document.id] = evidence_units(document, doc_claims, settings.evidence_window)
        known = (known_vectors or {}).get(document.id)
        texts = [] if known is not None else [c.text for c in doc_claims]
        texts += [u.text for u in units[document.id][len(doc_claims) :]]
        vectors = centering.transform(encoder.encode(texts)) if texts else np.zeros((0, encoder.dimension), dtype=np.float32)
        if known is not None:
            vectors = np.vstack([known, vectors]) if len(vectors) else known
        claim_vectors[document.id] = vectors[: len(doc_claims)]
        unit_vectors[document.id] = vectors
    for document in documents:
        for other in documents:
            if other.id == document.id or (directions is not None and (document.id, other.id) not in directions):
                continue
            matches = best_matches(claim_vectors[document.id], units[other.id], unit_vectors[other.id])
            for claim, match in zip(claims[document.id], matches, strict=False):
                yield Aligned(document, other, claim, match)


def load_claim_judge(settings: Settings) -> ClaimJudge:
    path = judge_model_path(settings)
    try:
        return load_judge(str(path))
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot load the claim judge: {error}", str(path)) from error


def compare_prepared(
    documents: Sequence[Document],
    claims: dict[str, list[Claim]],
    settings: Settings,
    encoder: Encoder,
    event_id: str | None = None,
    known_vectors: dict[str, np.ndarray] | None = None,
) -> Event:
    """Judge every claim of every document against every other document of one event."""
    model = load_claim_judge(settings)
    facts = {d.id: DocumentFacts.of(claims[d.id], d.language) for d in documents}
    statuses: dict[str, dict[str, Judgement]] = {c.id: {} for d in documents for c in claims[d.id]}
    for aligned in align_documents(documents, claims, settings, encoder, known_vectors):
        judgement, _ = judge(aligned.claim, aligned.match, facts[aligned.other.id], model, settings)
        if aligned.match is not None and judgement.status in (Status.supported, Status.partial):
            divergence = attribution_divergence(aligned.claim, aligned.match.unit.claims)
            if divergence is not None:
                judgement = judgement.model_copy(update={"attribution": divergence})
        statuses[aligned.claim.id][aligned.other.id] = judgement
    if settings.nli_model:
        _add_nli_opinions(statuses, {c.id: c for d in documents for c in claims[d.id]}, settings)
    reports = [ClaimReport(**c.model_dump(), statuses=statuses[c.id]) for d in documents for c in claims[d.id]]
    ids = [d.id for d in documents]
    dates = sorted(d.event_date.date for d in documents if d.event_date and d.event_date.date)
    label = next((d.title for d in documents if d.title), None)
    event_id = event_id or "event-" + hashlib.blake2b("\n".join(sorted(ids)).encode(), digest_size=4).hexdigest()
    return Event(id=event_id, documents=ids, claims=reports, date=dates[0] if dates else None, label=label)


def _add_nli_opinions(statuses: dict[str, dict[str, Judgement]], by_id: dict[str, Claim], settings: Settings) -> None:
    """One batched cross-encoder call over every judged claim that has evidence."""
    from divergence.nli import add_opinion, get_nli_model

    model = get_nli_model(settings.nli_model, settings.device)
    keys = [(claim_id, other) for claim_id, row in statuses.items() for other, j in row.items() if j.evidence is not None]
    pairs = [(statuses[c][o].evidence.text, by_id[c].text) for c, o in keys]
    for (claim_id, other), probabilities in zip(keys, model.predict(pairs), strict=True):
        statuses[claim_id][other] = add_opinion(by_id[claim_id].text, statuses[claim_id][other], probabilities, settings.nli_threshold)


def _prepare_inputs(
    inputs: Iterable[Input], settings: Settings, problems: list[Problem] | None
) -> tuple[list[Document], dict[str, list[Claim]], list[Problem]]:
    documents, load_problems = load_documents(inputs, settings.max_document_chars)
    all_problems = [*(problems or []), *load_problems]
    prepared: list[Document] = []
    claims: dict[str, list[Claim]] = {}
    for document in documents:
        document, doc_claims = prepare(document, settings)
        if not doc_claims:
            all_problems.append(Problem(path=document.path or document.id, code="E106", message="no claims left after cleaning"))
            continue
        prepared.append(document)
        claims[document.id] = doc_claims
    return prepared, claims, all_problems


def compare(
    inputs: Iterable[Input],
    settings: Settings | None = None,
    *,
    problems: list[Problem] | None = None,
    **overrides,
) -> Report:
    """Compare documents about one event, claim by claim.

    ``inputs`` are paths (files or folders, ``-`` for stdin), ``(id, text)``
    pairs, or Document objects. Unreadable inputs are reported in
    ``Report.problems`` and skipped; fewer than two usable documents raise
    NotEnoughDocuments. Copies of one text are compared once.
    """
    settings = settings or load_settings(**overrides)
    prepared, claims, all_problems = _prepare_inputs(inputs, settings, problems)
    if len(prepared) < 2:
        found = ", ".join(d.id for d in prepared) or "none"
        raise NotEnoughDocuments(f"compare needs at least two usable documents (usable: {found})")
    encoder = get_encoder(settings)
    copies = _copies(prepared, settings.near_duplicate_threshold)
    sources = [d for d in prepared if d.id not in copies]
    if len(sources) < 2:
        raise NotEnoughDocuments(f"compare needs two different documents; {', '.join(copies)} copy {sources[0].id}")
    event = compare_prepared(sources, claims, settings, encoder)
    event.documents = [d.id for d in prepared]
    event.duplicates = copies
    return Report(
        model=settings.model,
        documents=[_summary(d, len(claims[d.id])) for d in prepared],
        events=[event],
        problems=all_problems,
    )


def _copies(documents: Sequence[Document], threshold: float) -> dict[str, str]:
    """Copy → the document it republishes: texts sharing most word 5-grams; the longest is the original."""
    from divergence.profile import jaccard, normalised_words, shingles

    sets = [shingles(normalised_words(" ".join(d.span_text(span) for span in d.body))) for d in documents]
    copies: dict[str, str] = {}
    for i, j in itertools.combinations(range(len(documents)), 2):
        if jaccard(sets[i], sets[j]) >= threshold:
            original, copy = (i, j) if len(sets[i]) >= len(sets[j]) else (j, i)
            original_id = copies.get(documents[original].id, documents[original].id)
            copies[documents[copy].id] = original_id
    return copies


def cluster(
    inputs: Iterable[Input],
    settings: Settings | None = None,
    *,
    problems: list[Problem] | None = None,
    **overrides,
) -> Report:
    """Group documents into events; the report lists each event's documents and why they belong together."""
    settings = settings or load_settings(**overrides)
    return _cluster_inputs(inputs, settings, problems)[0]


def analyze(
    inputs: Iterable[Input],
    settings: Settings | None = None,
    *,
    problems: list[Problem] | None = None,
    **overrides,
) -> Report:
    """Cluster documents into events, then compare every event with two or more sources claim by claim."""
    settings = settings or load_settings(**overrides)
    report, prepared, claims, profiles = _cluster_inputs(inputs, settings, problems)
    by_id = {d.id: d for d in prepared}
    vectors = {p.id: p.claim_vectors for p in profiles}
    encoder = get_encoder(settings)
    compared = []
    for event in report.events:
        sources = [by_id[i] for i in event.documents if i not in event.duplicates]
        if len(sources) >= 2:
            judged = compare_prepared(sources, claims, settings, encoder, event.id, known_vectors=vectors)
            event = event.model_copy(update={"claims": judged.claims})
        compared.append(event)
    return report.model_copy(update={"events": compared})


def _cluster_inputs(
    inputs: Iterable[Input], settings: Settings, problems: list[Problem] | None
) -> tuple[Report, list[Document], dict[str, list[Claim]], list[Profile]]:
    """Load, prepare and cluster; the report has its events (without claims) and every problem."""
    prepared, claims, all_problems = _prepare_inputs(inputs, settings, problems)
    events, warnings, profiles = _cluster_prepared(prepared, claims, settings)
    report = Report(
        model=settings.model,
        documents=[_summary(d, len(claims[d.id])) for d in prepared],
        events=events,
        problems=all_problems + warnings,
    )
    return report, prepared, claims, profiles


def _cluster_prepared(
    documents: list[Document], claims: dict[str, list[Claim]], settings: Settings
) -> tuple[list[Event], list[Problem], list[Profile]]:
    from divergence.config import same_event_model_path
    from divergence.events import assemble_events, undated_warnings
    from divergence.similarity import load_same_event_model

    if not documents:
        return [], [], []
    encoder = get_encoder(settings)
    profiles = profile_documents(documents, claims, encoder)
    try:
        model = load_same_event_model(str(same_event_model_path(settings)))
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot load the same-event model: {error}") from error
    clusterer = EventClusterer.from_settings(settings, model).fit(profiles)
    return assemble_events(documents, profiles, clusterer), undated_warnings(documents, profiles), profiles


def profile_documents(
    documents: Sequence[Document], claims: dict[str, list[Claim]], encoder: Encoder
) -> list[Profile]:
    """Embed every claim once (cached) and build each document's clustering profile."""
    centering = _centering(encoder)
    texts = [c.text for d in documents for c in claims[d.id]]
    vectors = centering.transform(encoder.encode(texts)) if texts else np.zeros((0, encoder.dimension))
    profiles, cursor = [], 0
    for document in documents:
        count = len(claims[document.id])
        profiles.append(build_profile(document, claims[document.id], vectors[cursor : cursor + count]))
        cursor += count
    return profiles


def score(
    source: Input,
    store: str | Path,
    settings: Settings | None = None,
    *,
    add: bool = True,
    **overrides,
):
    """Score one article against a corpus store (see divergence.corpus.Corpus.score); adds it unless ``add=False``."""
    from divergence.corpus import Corpus

    settings = settings or load_settings(**overrides)
    with Corpus(store, settings) as corpus:
        return corpus.score(source, add=add)
