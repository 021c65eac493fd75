"""The corpus store: ingest, dedupe, events, show, score, migration from an older schema, SIGKILL mid-ingest."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from divergence import score
from divergence.datamodel import ScoreReport, Status
from divergence.store.corpus import Corpus
from divergence.store.sqlite import MIGRATIONS, SCHEMA_VERSION, Store
from tests.cli_runner import run_cli
from tests.conftest import FIXTURES, ROOT

INCOMING = FIXTURES / "incoming" / "baltic_daily.txt"


@pytest.fixture(scope="module")
def corpus_path(tmp_path_factory, settings):
    path = tmp_path_factory.mktemp("store") / "corpus.db"
    with Corpus(path, settings) as corpus:
        result = corpus.ingest([FIXTURES / "events"])
    assert len(result.added) == 19 and not result.problems
    return path


def _snapshot(path, settings):
    with Store(path, settings.model) as store:
        return store.count(), sorted((e.id, tuple(e.documents)) for e in store.events())


def test_reingesting_changes_nothing(corpus_path, settings, tmp_path):
    before = _snapshot(corpus_path, settings)
    with Corpus(corpus_path, settings) as corpus:
        result = corpus.ingest([FIXTURES / "events"])
    assert not result.added and len(result.unchanged) == 19
    assert _snapshot(corpus_path, settings) == before


def test_store_is_wal_versioned_and_holds_float16_vectors_with_their_model(corpus_path, settings):
    with Store(corpus_path, settings.model) as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.schema_version == SCHEMA_VERSION
        (name, dimension), = store.db.execute("SELECT name, dimension FROM embedding_models").fetchall()
        assert name == settings.model and dimension == 384
        blob = store.db.execute("SELECT vector FROM claim_vectors LIMIT 1").fetchone()[0]
        assert len(blob) == 384 * 2


def test_stored_events_group_each_fixture_call(corpus_path, settings):
    gold = json.loads((FIXTURES / "gold" / "events.json").read_text(encoding="utf-8"))["events"]
    with Store(corpus_path, settings.model) as store:
        for event, members in gold.items():
            if event == "tallberg-trade":
                continue  # joined one document at a time, its Russian report starts an event of its own (see README)
            stored = {store.event_of(doc) for doc in members}
            assert len(stored) == 1, (event, stored)


def test_cli_events_and_show(corpus_path):
    listed = run_cli("events", "--store", corpus_path, "-f", "json")
    assert listed.returncode == 0, listed.stderr
    events = json.loads(listed.stdout)
    event = next(e for e in events if "call-keller-varga/norland_times" in e["documents"])
    shown = run_cli("show", event["id"], "--store", corpus_path, "-f", "json")
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert report["events"][0]["id"] == event["id"]
    kinds = {c["kind"] for claim in report["events"][0]["claims"] for j in claim["statuses"].values() for c in j["conflicts"]}
    assert {"number", "actor"} <= kinds


def test_show_unknown_event_is_a_one_line_error(corpus_path):
    result = run_cli("show", "event-nope", "--store", corpus_path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "event-nope" in result.stderr


def test_score_finds_the_event_and_reports_divergence(corpus_path, settings):
    count = _snapshot(corpus_path, settings)[0]
    report = score(INCOMING, corpus_path, settings, add=False)
    assert isinstance(report, ScoreReport) and not report.added
    assert _snapshot(corpus_path, settings)[0] == count
    assert not report.new_event
    assert set(report.sources) == {"call-keller-varga/agence_europe", "call-keller-varga/norland_times", "call-keller-varga/ostrava_vesti"}
    assert 0.0 < report.divergence < 1.0
    by_text = {c.text: c for c in report.claims}
    length = next(c for t, c in by_text.items() if "two hours" in t)
    assert length.statuses["call-keller-varga/norland_times"].status is Status.contradicted
    assert any("fishing quotas" in c.text for c in report.omitted)
    assert [c.text for c in report.claims if c.id in report.unique] == [c.text for c in report.claims if "ferry" in c.text]


def test_score_cli_fail_above_and_add(corpus_path, settings, tmp_path):
    store = tmp_path / "copy.db"
    source = sqlite3.connect(corpus_path)
    source.backup(sqlite3.connect(store))
    base = ["score", INCOMING, "--store", store, "-f", "json"]
    strict = run_cli(*base, "--no-add", "--fail-above", "0.05")
    assert strict.returncode == 4
    assert json.loads(strict.stdout)["divergence"] > 0.05
    lenient = run_cli(*base, "--fail-above", "0.99")
    assert lenient.returncode == 0 and json.loads(lenient.stdout)["added"] is True
    with Store(store, settings.model) as opened:
        assert opened.has_document("baltic_daily")
    again = run_cli(*base)
    data = json.loads(again.stdout)
    assert data["copy_of"] == "baltic_daily" and data["added"] is False


def test_new_event_when_nothing_matches(corpus_path, settings):
    report = score(("weather", "Heavy snow closed the airport of Norlund for two days in January, officials said."),
                   corpus_path, settings, add=False)
    assert report.new_event and report.divergence is None and report.sources == []


def test_store_of_an_older_schema_is_migrated(tmp_path, settings, corpus_path):
    old = tmp_path / "old.db"
    db = sqlite3.connect(old, isolation_level=None)
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    # Copy the v1 columns of a few documents from a current store.
    current = sqlite3.connect(corpus_path)
    ids = [r[0] for r in current.execute("SELECT document FROM event_documents WHERE document LIKE 'call-keller-varga/%'")]
    marks = ",".join("?" * len(ids))
    for table, columns in (("documents", "id, content_hash, ingested_at, data"), ("claims", "id, document, position, data"),
                           ("embedding_models", "id, name, dimension"), ("claim_vectors", "claim, model, vector"),
                           ("events", "id, created_at"), ("event_documents", "document, event, probability, reason")):
        where = {"documents": f"id IN ({marks})", "claims": f"document IN ({marks})", "event_documents": f"document IN ({marks})",
                 "claim_vectors": f"claim IN (SELECT id FROM claims WHERE document IN ({marks}))",
                 "events": f"id IN (SELECT event FROM event_documents WHERE document IN ({marks}))"}.get(table, "1")
        rows = current.execute(f"SELECT {columns} FROM {table} WHERE {where}", ids if "?" in where else []).fetchall()
        db.executemany(f"INSERT INTO {table}({columns}) VALUES ({','.join('?' * len(columns.split(',')))})", rows)
    db.close()
    with Store(old, settings.model) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.db.execute("SELECT COUNT(*) FROM documents WHERE vector IS NULL").fetchone()[0] == 0
        assert store.integrity() == "ok"
    report = score(INCOMING, old, settings, add=False)
    assert not report.new_event and len(report.sources) == 3


def test_newer_schema_is_refused_clearly(tmp_path, settings):
    path = tmp_path / "future.db"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(Exception, match="newer divergence"):
        Store(path, settings.model)


_CHILD = textwrap.dedent(
    """
    import sys
    from divergence.store.corpus import Corpus
    corpus = Corpus(sys.argv[1])
    for i in range(200):
        text = (f"Minister number {i} of Norland met delegation {i} in Tallberg on {1 + i % 27} April. "
                f"They discussed shipment {i} of timber and {i + 3} trucks of grain. The talks lasted {i + 1} hours.")
        result = corpus.ingest([(f"doc-{i}", text)])
        assert result.added, result
        print(f"stored doc-{i}", flush=True)
    """
)


def test_sigkill_mid_ingest_keeps_every_returned_document(tmp_path):
    path = tmp_path / "killed.db"
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    stored = []
    for line in child.stdout:
        stored.append(line.split()[1])
        if len(stored) >= 5:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    with Store(path, "builtin:multilingual-e5-small") as store:
        assert store.integrity() == "ok"
        for doc_id in stored:
            assert store.has_document(doc_id), doc_id
        # No document without its event, claims or vectors: each ingest was one transaction.
        assert store.db.execute("SELECT COUNT(*) FROM documents WHERE id NOT IN (SELECT document FROM event_documents)").fetchone()[0] == 0
        assert store.db.execute("SELECT COUNT(*) FROM claims WHERE id NOT IN (SELECT claim FROM claim_vectors)").fetchone()[0] == 0
    # The stale index is rebuilt on open.
    with Corpus(path) as corpus:
        assert len(corpus.index) == corpus.store.count()
