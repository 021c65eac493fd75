"""The store agrees with batch clustering: any arrival order gives the events and ids of `analyze`; `recluster` repairs.

The PostgreSQL store runs the same checks in tests/test_store_postgres.py (helpers below).
"""

from __future__ import annotations

import json
import random

import pytest

from divergence.store.corpus import Corpus
from tests.cli_runner import run_cli
from tests.conftest import FIXTURES

ORDERS = (1, 2, 3, 4, 5)


def stored_events(corpus: Corpus) -> dict[str, list[str]]:
    return {e.id: sorted(e.documents) for e in corpus.store.events()}


def shuffled(documents: list, seed: int) -> list:
    order = documents[:]
    random.Random(seed).shuffle(order)
    return order


def ingest_in_order(target, settings, documents: list, seed: int) -> tuple[dict[str, list[str]], dict[str, str]]:
    """(the stored events, ingest's report of each document's event) after ingesting ``documents`` in one random order."""
    with Corpus(target, settings) as corpus:
        result = corpus.ingest(shuffled(documents, seed))
        assert corpus.store.integrity() == "ok"
        return stored_events(corpus), result.added


def split_off(corpus: Corpus, doc_id: str) -> str:
    """Move one document into an event of its own, as a store that never re-examined its events could hold."""
    alone = f"event-split-{doc_id.replace('/', '-')}"
    corpus.store.reassign_events({alone: [doc_id]}, {alone: "split"}, {doc_id: (None, "split by the test")})
    return alone


def test_analyze_finds_the_gold_events(analyzed_events):
    gold = json.loads((FIXTURES / "gold" / "events.json").read_text(encoding="utf-8"))["events"]
    assert sorted(analyzed_events.values()) == sorted(sorted(docs) for docs in gold.values())


def test_the_orders_differ(fixture_documents):
    orders = {tuple(d.id for d in shuffled(fixture_documents, seed)) for seed in ORDERS}
    assert len(orders) == len(ORDERS)
    # In at least one order the Russian report of the Tallberg talks arrives after the English one
    # (the case where one-at-a-time assignment used to start an event of its own).
    assert any(order.index("tallberg-trade/kartenia_segodnya") > order.index("tallberg-trade/norland_herald") for order in orders)


@pytest.mark.parametrize("seed", ORDERS)
def test_any_arrival_order_gives_the_events_and_ids_of_analyze(seed, tmp_path, settings, fixture_documents, analyzed_events):
    stored, added = ingest_in_order(tmp_path / "corpus.db", settings, fixture_documents, seed)
    assert stored == analyzed_events
    # Each document is reported in the event it ended in, not the one it started.
    assert added == {doc: event for event, docs in analyzed_events.items() for doc in docs}


def test_a_document_that_arrives_later_keeps_the_ties_of_its_company(tmp_path, settings, fixture_documents):
    """Renaming an event (a document joined it) leaves the recorded ties of its members as they were."""
    tallberg = [d for d in fixture_documents if d.id.startswith("tallberg-trade/")]
    english = next(d for d in tallberg if d.id == "tallberg-trade/norland_herald")
    with Corpus(tmp_path / "corpus.db", settings) as corpus:
        corpus.ingest([english])
        first_reason = corpus.store.db.execute("SELECT reason FROM event_documents WHERE document = ?", (english.id,)).fetchone()[0]
        corpus.ingest([d for d in tallberg if d is not english])
        (event,) = corpus.store.events()
        assert sorted(event.documents) == sorted(d.id for d in tallberg)
        reasons = dict(corpus.store.db.execute("SELECT document, reason FROM event_documents"))
    assert reasons[english.id] == first_reason and first_reason.startswith("new event")


def test_recluster_merges_a_split_event_and_keeps_unchanged_ids(tmp_path, settings, fixture_documents, analyzed_events):
    path = tmp_path / "corpus.db"
    with Corpus(path, settings) as corpus:
        corpus.ingest(fixture_documents)
        split_off(corpus, "tallberg-trade/kartenia_segodnya")
        split_off(corpus, "call-keller-brandt/severny_vestnik")
        before = stored_events(corpus)
    assert len(before) == len(analyzed_events) + 2

    # A window over April: the Tallberg talks are repaired (the Russian report has no year, but it is a
    # candidate of the dated English one); the March call outside the window stays split.
    april = run_cli("recluster", "--store", path, "--since", "2025-04-01", "--until", "2025-04-30", "-f", "json")
    assert april.returncode == 0, april.stderr
    assert json.loads(april.stdout)["removed"] and "event-split-tallberg-trade-kartenia_segodnya" in json.loads(april.stdout)["removed"]
    with Corpus(path, settings) as corpus:
        after_april = stored_events(corpus)
    tallberg = next(e for e, docs in analyzed_events.items() if "tallberg-trade/norland_herald" in docs)
    assert after_april[tallberg] == analyzed_events[tallberg]
    assert "event-split-call-keller-brandt-severny_vestnik" in after_april

    everything = run_cli("recluster", "--store", path)
    assert everything.returncode == 0, everything.stderr
    assert everything.stdout.endswith("events unchanged, 1 new or regrouped, 1 removed\n")
    with Corpus(path, settings) as corpus:
        assert stored_events(corpus) == analyzed_events
        assert corpus.store.integrity() == "ok"
        moved = corpus.store.db.execute("SELECT reason FROM event_documents WHERE document = 'call-keller-brandt/severny_vestnik'").fetchone()[0]
    assert moved.startswith("regrouped with call-keller-brandt/")
    # Events whose documents never changed kept their ids throughout.
    unchanged = {e for e, docs in before.items() if analyzed_events.get(e) == docs}
    assert len(unchanged) == len(analyzed_events) - 2
    again = run_cli("recluster", "--store", path, "-f", "json")
    assert json.loads(again.stdout)["changed"] == {} and sorted(json.loads(again.stdout)["kept"]) == sorted(analyzed_events)


def test_recluster_rejects_a_bad_date_and_a_missing_store(tmp_path):
    missing = run_cli("recluster", "--store", tmp_path / "none.db")
    assert missing.returncode == 1 and "no such store" in missing.stderr and missing.stderr.count("\n") == 1
    bad = run_cli("recluster", "--store", tmp_path / "none.db", "--since", "March")
    assert bad.returncode == 2 and "--since 'March' is not a date (YYYY-MM-DD)" in bad.stderr
    backwards = run_cli("recluster", "--store", tmp_path / "none.db", "--since", "2025-05-01", "--until", "2025-04-01")
    assert backwards.returncode == 2 and "--since 2025-05-01 is after --until 2025-04-01" in backwards.stderr


def test_a_candidate_event_regrouped_meanwhile_is_skipped(tmp_path, settings, fixture_documents):
    """A read-only score takes no lock: another writer may rename the event of a candidate document between the two
    reads (a concurrent ingest regrouping it). That event is skipped, not a crash (it was a 500 under load)."""
    with Corpus(tmp_path / "corpus.db", settings) as corpus:
        corpus.ingest([d for d in fixture_documents if d.id.startswith("call-keller-varga/")])
        corpus.store.event_of = lambda doc_id: "event-renamed-meanwhile"
        report = corpus.score(FIXTURES / "incoming" / "baltic_daily.txt", add=False)
    assert report.new_event and report.candidates == {} and report.sources == []
