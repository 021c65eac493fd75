"""The corpus store on a real PostgreSQL server: the store tests of SQLite, plus concurrent writers.

A throwaway cluster (initdb under a temporary folder, unix socket) is started once per session and stopped
at the end; the tests are skipped, saying why, where no server can be started (``make postgres`` installs
Debian's package). Concurrency is checked by an invariant that holds whatever the interleaving: the events of
a store written by several processes at once are those of one process ingesting the same documents in the
order the store committed them, so no two workers created the same event twice.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from divergence import score
from divergence.datamodel import ScoreReport, Status
from divergence.ingest.load import load_documents
from divergence.store import open_store
from divergence.store.corpus import Corpus
from divergence.store.postgres import MIGRATIONS, SCHEMA_VERSION, PostgresStore
from tests.conftest import FIXTURES, ROOT
from tests.test_api import _free_port
from tests.test_store_regroup import ORDERS, ingest_in_order, split_off, stored_events

INCOMING = FIXTURES / "incoming" / "baltic_daily.txt"
MODEL = "builtin:multilingual-e5-small"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="session")
def postgres():
    try:
        import psycopg  # noqa: F401

        from dev.pg_cluster import ThrowawayPostgres, Unavailable
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -e '.[postgres]')")
    try:
        server = ThrowawayPostgres()
    except Unavailable as error:
        pytest.skip(f"no PostgreSQL server here: {error}")
    try:
        server.start()
    except (Unavailable, subprocess.CalledProcessError) as error:
        server.stop()
        detail = getattr(error, "stderr", b"") or b""
        pytest.skip(f"cannot start a PostgreSQL server: {error} {detail.decode(errors='replace').strip()}")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def corpus_url(postgres, settings):
    url = postgres.url("fixtures")
    with Corpus(url, settings) as corpus:
        result = corpus.ingest([FIXTURES / "events"])
    assert len(result.added) == 19 and not result.problems
    return url


def _snapshot(url, settings):
    with open_store(url, settings.model) as store:
        return store.count(), sorted((e.id, tuple(e.documents)) for e in store.events())


def _grouping(store) -> set[frozenset[str]]:
    return {frozenset(e.documents) for e in store.events()}


def _sequential_grouping(documents, settings, folder) -> set[frozenset[str]]:
    """The events one process makes ingesting ``documents`` in this order into a fresh SQLite store."""
    with Corpus(folder / "replay.db", settings) as corpus:
        corpus.ingest(documents)
        return _grouping(corpus.store)


def test_open_store_picks_the_backend(corpus_url, settings, tmp_path):
    with open_store(corpus_url, settings.model) as store:
        assert isinstance(store, PostgresStore)
    with open_store(tmp_path / "local.db", settings.model) as store:
        assert not isinstance(store, PostgresStore)


def test_same_events_as_the_sqlite_store(corpus_url, settings, tmp_path):
    with Corpus(tmp_path / "local.db", settings) as corpus:
        corpus.ingest([FIXTURES / "events"])
        local = sorted((e.id, tuple(e.documents), e.label) for e in corpus.store.events())
    with open_store(corpus_url, settings.model) as store:
        assert sorted((e.id, tuple(e.documents), e.label) for e in store.events()) == local


def test_reingesting_changes_nothing(corpus_url, settings):
    before = _snapshot(corpus_url, settings)
    with Corpus(corpus_url, settings) as corpus:
        result = corpus.ingest([FIXTURES / "events"])
    assert not result.added and len(result.unchanged) == 19
    assert _snapshot(corpus_url, settings) == before


def test_store_is_versioned_and_holds_float16_vectors_with_their_model(corpus_url, settings):
    with open_store(corpus_url, settings.model) as store:
        assert store.schema_version == SCHEMA_VERSION
        (name, dimension), = store.db.execute("SELECT name, dimension FROM embedding_models").fetchall()
        assert name == settings.model and dimension == 384
        blob = store.db.execute("SELECT vector FROM claim_vectors LIMIT 1").fetchone()[0]
        assert len(blob) == 384 * 2
        assert store.integrity() == "ok"


def test_another_model_is_refused(corpus_url):
    with open_store(corpus_url, "some/other-model") as store, pytest.raises(Exception, match="holds vectors of builtin:multilingual-e5-small"):
        store.check_model()


def test_stored_events_group_each_fixture_call(corpus_url, settings):
    gold = json.loads((FIXTURES / "gold" / "events.json").read_text(encoding="utf-8"))["events"]
    with open_store(corpus_url, settings.model) as store:
        for event, members in gold.items():
            assert len({store.event_of(doc) for doc in members}) == 1, event


def test_cli_events_and_show(corpus_url):
    listed = subprocess.run([sys.executable, "-m", "divergence", "events", "--store", corpus_url, "-f", "json"],
                            capture_output=True, text=True, cwd=ROOT, check=True)
    event = next(e for e in json.loads(listed.stdout) if "call-keller-varga/norland_times" in e["documents"])
    shown = subprocess.run([sys.executable, "-m", "divergence", "show", event["id"], "--store", corpus_url, "-f", "json"],
                           capture_output=True, text=True, cwd=ROOT, check=True)
    report = json.loads(shown.stdout)
    assert report["events"][0]["id"] == event["id"]
    kinds = {c["kind"] for claim in report["events"][0]["claims"] for j in claim["statuses"].values() for c in j["conflicts"]}
    assert {"number", "actor"} <= kinds


def test_show_unknown_event_is_a_one_line_error(corpus_url):
    result = subprocess.run([sys.executable, "-m", "divergence", "show", "event-nope", "--store", corpus_url],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "event-nope" in result.stderr


def test_unreachable_server_is_a_one_line_error(postgres):
    url = f"postgresql://divergence:secret@/nowhere?host={postgres.root}/no-socket-here"
    result = subprocess.run([sys.executable, "-m", "divergence", "events", "--store", url], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "[E500]" in result.stderr and "cannot connect" in result.stderr
    assert "secret" not in result.stderr


def test_score_finds_the_event_and_reports_divergence(corpus_url, settings):
    count = _snapshot(corpus_url, settings)[0]
    report = score(INCOMING, corpus_url, settings, add=False)
    assert isinstance(report, ScoreReport) and not report.added
    assert _snapshot(corpus_url, settings)[0] == count
    assert not report.new_event
    assert set(report.sources) == {"call-keller-varga/agence_europe", "call-keller-varga/norland_times", "call-keller-varga/ostrava_vesti"}
    assert 0.0 < report.divergence < 1.0
    length = next(c for c in report.claims if "two hours" in c.text)
    assert length.statuses["call-keller-varga/norland_times"].status is Status.contradicted
    assert any("fishing quotas" in c.text for c in report.omitted)


def test_score_cli_fail_above_and_add(postgres, corpus_url, settings):
    import psycopg

    with psycopg.connect(postgres.url("postgres"), autocommit=True) as admin:
        admin.execute('CREATE DATABASE "scored" TEMPLATE "fixtures"')
    store = postgres.url("scored")
    base = [sys.executable, "-m", "divergence", "score", str(INCOMING), "--store", store, "-f", "json"]
    strict = subprocess.run(base + ["--no-add", "--fail-above", "0.05"], capture_output=True, text=True, cwd=ROOT)
    assert strict.returncode == 4 and json.loads(strict.stdout)["divergence"] > 0.05
    lenient = subprocess.run(base + ["--fail-above", "0.99"], capture_output=True, text=True, cwd=ROOT)
    assert lenient.returncode == 0 and json.loads(lenient.stdout)["added"] is True
    with open_store(store, settings.model) as opened:
        assert opened.has_document("baltic_daily")
    again = json.loads(subprocess.run(base, capture_output=True, text=True, cwd=ROOT).stdout)
    assert again["copy_of"] == "baltic_daily" and again["added"] is False


def test_new_event_when_nothing_matches(corpus_url, settings):
    report = score(("weather", "Heavy snow closed the airport of Norlund for two days in January, officials said."),
                   corpus_url, settings, add=False)
    assert report.new_event and report.divergence is None and report.sources == []


def test_store_of_an_older_schema_is_migrated(postgres, corpus_url, settings):
    import psycopg

    old_url = postgres.url("old")
    with psycopg.connect(old_url, autocommit=True) as old, psycopg.connect(corpus_url) as current:
        MIGRATIONS[0](old)
        old.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        old.execute("INSERT INTO schema_version VALUES (1)")
        ids = [r[0] for r in current.execute("SELECT document FROM event_documents WHERE document LIKE 'call-keller-varga/%%'")]
        copies = {
            "documents": ("id, content_hash, ingested_at, data", "id = ANY(%s)"),
            "claims": ("id, document, position, data", "document = ANY(%s)"),
            "embedding_models": ("name, dimension", "cardinality(%s::text[]) > 0"),
            "claim_vectors": ("claim, model, vector", "claim IN (SELECT id FROM claims WHERE document = ANY(%s))"),
            "events": ("id, created_at", "id IN (SELECT event FROM event_documents WHERE document = ANY(%s))"),
            "event_documents": ("document, event, probability, reason", "document = ANY(%s)"),
        }
        for table, (columns, where) in copies.items():
            rows = current.execute(f"SELECT {columns} FROM {table} WHERE {where}", (ids,)).fetchall()
            with old.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {table}({columns}) VALUES ({','.join(['%s'] * len(columns.split(',')))})", rows)
    with open_store(old_url, settings.model) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.db.execute("SELECT COUNT(*) FROM documents WHERE vector IS NULL").fetchone()[0] == 0
        assert store.integrity() == "ok"
        events_before = store.db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        assert store.db.execute("SELECT nextval('event_numbers')").fetchone()[0] == events_before + 1
    report = score(INCOMING, old_url, settings, add=False)
    assert not report.new_event and len(report.sources) == 3


def test_newer_schema_is_refused_clearly(postgres, settings):
    url = postgres.url("future")
    with open_store(url, settings.model) as store:
        store.db.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION + 5,))
    with pytest.raises(Exception, match="newer divergence"):
        PostgresStore(url, settings.model)


@pytest.mark.parametrize("seed", ORDERS)
def test_any_arrival_order_gives_the_events_and_ids_of_analyze(seed, postgres, settings, fixture_documents, analyzed_events):
    stored, added = ingest_in_order(postgres.url(f"order_{seed}"), settings, fixture_documents, seed)
    assert stored == analyzed_events
    assert added == {doc: event for event, docs in analyzed_events.items() for doc in docs}


def test_recluster_merges_a_split_event_and_keeps_unchanged_ids(postgres, settings, fixture_documents, analyzed_events):
    url = postgres.url("recluster")
    with Corpus(url, settings) as corpus:
        corpus.ingest(fixture_documents)
        split_off(corpus, "tallberg-trade/kartenia_segodnya")
        split_off(corpus, "call-keller-brandt/severny_vestnik")
        assert len(stored_events(corpus)) == len(analyzed_events) + 2
    done = subprocess.run([sys.executable, "-m", "divergence", "recluster", "--store", url, "-f", "json"],
                          capture_output=True, text=True, cwd=ROOT, env=ENV)
    assert done.returncode == 0, done.stderr
    assert sorted(json.loads(done.stdout)["removed"]) == ["event-split-call-keller-brandt-severny_vestnik",
                                                          "event-split-tallberg-trade-kartenia_segodnya"]
    with Corpus(url, settings) as corpus:
        assert stored_events(corpus) == analyzed_events and corpus.store.integrity() == "ok"
        (reason,) = corpus.store.db.execute(
            "SELECT reason FROM event_documents WHERE document = 'call-keller-brandt/severny_vestnik'").fetchone()
    assert reason.startswith("regrouped with call-keller-brandt/capital_post")


def test_assignment_waits_for_a_worker_assigning_in_the_same_days(postgres, settings, runtime):
    """A second worker's document cannot be assigned while the first holds its days; once the first commits,
    the second sees its document and joins its event instead of starting the same event again."""
    url = postgres.url("locks")
    folder = FIXTURES / "events" / "call-keller-varga"
    first_doc, second_doc = sorted(folder.iterdir())[:2]
    first, second = Corpus(url, runtime=runtime), Corpus(url, runtime=runtime)
    watcher = PostgresStore(url, settings.model)
    results = {}
    try:
        with first.store.assigning(None, 0):  # the first worker is assigning an undated document: it reaches every day
            thread = threading.Thread(target=lambda: results.update(second.ingest([second_doc]).added))
            thread.start()
            waiting = []
            while not waiting and thread.is_alive():
                waiting = watcher.db.execute(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'").fetchall()
                time.sleep(0.05)
            assert waiting and not results, "the second worker did not wait for the first"
            added = first.ingest([first_doc]).added  # inside the held scope: committed when it ends
        thread.join()
    finally:
        for opened in (first, second, watcher):
            opened.close()
    (second_event,) = results.values()
    with PostgresStore(url, settings.model) as store:  # one event of both (its id names both documents: it changed when the second joined)
        assert [sorted(e.documents) for e in store.events()] == [sorted([*added, *results])]
        assert [e.id for e in store.events()] == [second_event]


def test_workers_in_distant_weeks_do_not_wait_for_each_other(postgres, settings):
    url = postgres.url("distant")
    with PostgresStore(url, settings.model) as one, PostgresStore(url, settings.model) as other:
        with one.assigning(739000, settings.time_block_days):
            other.db.execute("SET lock_timeout = '5s'")
            with other.assigning(739000 + 10 * settings.time_block_days, settings.time_block_days):
                pass  # granted at once: the two documents can never share an event
            other.db.execute("SET lock_timeout = '50ms'")
            with pytest.raises(Exception, match="lock timeout"), other.assigning(None, 0):
                pass  # an undated document reaches every week, so it waits


_INGESTER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from divergence.ingest.load import load_documents
    from divergence.store.corpus import Corpus
    corpus = Corpus(sys.argv[1])
    documents, _ = load_documents([sys.argv[2]], 200000)
    if sys.argv[3] == "reversed":
        documents.reverse()
    go = Path(sys.argv[4])
    go.with_suffix("." + sys.argv[3]).touch()
    while not go.exists():
        time.sleep(0.05)
    result = corpus.ingest(documents)
    print(len(result.added), len(result.unchanged), flush=True)
    """
)


def test_two_ingesting_processes_write_one_event_per_story(postgres, settings, tmp_path):
    url = postgres.url("two_ingesters")
    go = tmp_path / "go"
    children = [subprocess.Popen([sys.executable, "-c", _INGESTER, url, str(FIXTURES / "events"), order, str(go)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=ENV)
                for order in ("forward", "reversed")]
    while not all(go.with_suffix(f".{order}").exists() for order in ("forward", "reversed")):
        assert all(child.poll() is None for child in children), [child.stderr.read() for child in children]
        time.sleep(0.1)
    go.touch()  # both models loaded: start ingesting at once
    outputs = [child.communicate(timeout=600) for child in children]
    assert all(child.returncode == 0 for child in children), [err for _, err in outputs]
    counts = [tuple(map(int, out.split())) for out, _ in outputs]
    assert sum(added for added, _ in counts) == 19 and all(added + unchanged == 19 for added, unchanged in counts)
    with open_store(url, settings.model) as store:
        assert store.count() == 19 and store.integrity() == "ok"
        order, grouping = store.all_ids(), _grouping(store)
    documents = {d.id: d for d in load_documents([FIXTURES / "events"], 200000)[0]}
    assert grouping == _sequential_grouping([documents[i] for i in order], settings, tmp_path)


def test_two_api_workers_and_8_concurrent_clients(postgres, settings, tmp_path):
    import httpx

    url = postgres.url("api")
    ports = [_free_port(), _free_port()]
    servers = [subprocess.Popen([sys.executable, "-m", "divergence", "serve", "--store", url, "--host", "127.0.0.1", "--port", str(port)],
                                cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for port in ports]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        deadline = time.monotonic() + 180
        for base, server in zip(bases, servers, strict=True):
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.5)
        towns = ["Tallberg", "Norlund", "Ostrava City"]
        texts = {}

        def request(i: int) -> tuple[int, str | None]:
            with httpx.Client(base_url=bases[i % 2], timeout=300) as client:
                kind = i % 4
                if kind in (0, 2):  # writes: three stories, each told by several documents arriving at both workers at once
                    story = i % 3
                    doc_id = f"load-{i}"
                    texts[doc_id] = (f"Delegation {story} from Norland visited {towns[story]} on {3 + story} May 2025 to discuss "
                                     f"shipment {story} of timber. The visit lasted {story + 2} hours, officials said "
                                     f"in statement number {i}.")
                    response = client.post("/v1/documents", json={"documents": [{"id": doc_id, "text": texts[doc_id]}]})
                    return response.status_code, response.json() if response.status_code == 201 else None
                if kind == 1:
                    return client.get("/v1/events").status_code, None
                response = client.post("/v1/score", params={"add": "false"},
                                       json={"id": f"probe-{i}", "text": f"Officials in {towns[i % 3]} said talks on shipment {i % 3} went well."})
                return response.status_code, None

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(request, range(48)))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    assert all(status in (200, 201) for status, _ in results), sorted({s for s, _ in results})
    written = [body for _, body in results if body]
    assert len(written) == 24
    added = [doc for body in written for doc in body["added"]]
    assert len(added) == 24  # each text differs, so nothing is "already stored"
    with open_store(url, settings.model) as store:
        assert all(store.has_document(doc) for doc in added) and store.count() == 24 and store.integrity() == "ok"
        order, grouping = store.all_ids(), _grouping(store)
    assert grouping == _sequential_grouping([(i, texts[i]) for i in order], settings, tmp_path)


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


def test_sigkill_mid_ingest_keeps_every_returned_document(postgres):
    url = postgres.url("killed")
    child = subprocess.Popen([sys.executable, "-c", _CHILD, url], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=ENV)
    stored = []
    for line in child.stdout:
        stored.append(line.split()[1])
        if len(stored) >= 5:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    with open_store(url, MODEL) as store:
        assert store.integrity() == "ok"
        assert all(store.has_document(doc_id) for doc_id in stored)
        # The killed transaction released its partition locks: the next writer is not blocked.
        store.db.execute("SET lock_timeout = '10s'")
        with store.assigning(None, 0):
            pass
    with Corpus(url) as corpus:
        assert len(corpus.index) == corpus.store.count()
