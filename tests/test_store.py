"""The corpus store: ingest, dedupe, events, show, score, migration from an older schema, SIGKILL mid-ingest."""

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import divergence
from divergence import score
from divergence.datamodel import Document, ScoreReport, Status
from divergence.errors import MalformedRecord
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


def test_show_and_the_stores_score_carry_provenance(corpus_path, settings):
    """`show -f json`, GET /v1/events/{id}/report and POST /v1/score (Corpus.score) gave `"provenance": null`, unlike compare."""
    from divergence.report.provenance import provenance_of
    from divergence.runtime import runtime_for

    expected = provenance_of(runtime_for(settings)).model_dump(mode="json", exclude={"generated_at"})
    event = next(e for e in json.loads(run_cli("events", "--store", corpus_path, "-f", "json").stdout) if len(e["documents"]) >= 2)
    shown = json.loads(run_cli("show", event["id"], "--store", corpus_path, "-f", "json").stdout)
    assert {k: v for k, v in shown["provenance"].items() if k != "generated_at"} == expected
    with Corpus(corpus_path, settings, read_only=True) as corpus:
        scored = corpus.score(INCOMING, add=False)
    assert scored.provenance.model_dump(mode="json", exclude={"generated_at"}) == expected


def test_an_untitled_article_starts_an_event_with_a_label(tmp_path):
    """An untitled .txt alone in its event was listed with no headline (`"label": null`) until a regroup gave it one."""
    article = tmp_path / "brief.txt"
    article.write_text("---\npublished: 2026-11-16\n---\nPresident Anton Keller spoke by telephone with President Elena Varga "
                       "on Monday.\nThe two presidents discussed gas transit.\n", encoding="utf-8")
    store = tmp_path / "corpus.db"
    assert run_cli("ingest", article, "--store", store).returncode == 0
    listed = json.loads(run_cli("events", "--store", store, "-f", "json").stdout)
    assert [(e["documents"], e["label"]) for e in listed] == [
        (["brief"], "President Anton Keller spoke by telephone with President Elena Varga on Monday.")]


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


# --- hardening (issue 12) ---------------------------------------------------------------------------------------


def _copy_store(corpus_path, target):
    with sqlite3.connect(corpus_path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return target


def test_ids_with_control_characters_never_reach_the_store(corpus_path, settings, tmp_path):
    store = _copy_store(corpus_path, tmp_path / "ids.db")
    with Corpus(store, settings) as corpus:
        result = corpus.ingest([("split\nid", "The harbour of Varnes reopened on Monday after the storm, the port said."),
                                ("clean-id", "The harbour of Varnes reopened on Monday after the storm, officials said.")])
        assert list(result.added) == ["clean-id"] and [p.code for p in result.problems] == ["E104"]
        with pytest.raises(MalformedRecord):
            corpus.store.add(Document(id="a\nb", text="x"), [], np.zeros((0, 384), dtype=np.float32), "hash", None, None, "test")
    listed = run_cli("events", "--store", store, "-f", "json")
    assert sorted(d for e in json.loads(listed.stdout) for d in e["documents"]) == sorted([*_all_ids(corpus_path), "clean-id"])


def _all_ids(path):
    with Store(path, "builtin:multilingual-e5-small") as store:
        return store.all_ids()


def test_a_duplicate_found_at_commit_time_is_already_stored(corpus_path, settings, tmp_path):
    """Two ingests of one file: the second looked before the first committed (simulated: its look outside the
    transaction finds nothing), so the duplicate shows up inside its transaction."""
    store = _copy_store(corpus_path, tmp_path / "race.db")
    text = "The ferry between Tallberg and Varnes resumed on Tuesday after three days of strikes, the operator said."
    with Corpus(store, settings) as first, Corpus(store, settings) as second:
        assert first.ingest([("ferry", text)]).added
        looked_early = second.store.find_hash
        second.store.find_hash = lambda digest: looked_early(digest) if second.store.db.in_transaction else None
        result = second.ingest([("ferry-again", text)])
    assert result.added == {} and result.unchanged == {"ferry-again": "ferry"} and not result.problems
    assert _all_ids(store).count("ferry") == 1 and "ferry-again" not in _all_ids(store)


def _damage(path):
    """Overwrite every page but the first (the schema) with garbage, as a failing disk would."""
    size = path.stat().st_size
    with open(path, "r+b") as file:
        file.seek(4096)
        file.write(bytes((i * 7 + 13) % 256 for i in range(size - 4096)))


def test_a_damaged_store_is_one_clear_error_everywhere(corpus_path, tmp_path):
    store = _copy_store(corpus_path, tmp_path / "damaged.db")
    _damage(store)
    for args in (["events"], ["score", INCOMING, "--no-add"], ["show", "event-x"], ["ingest", INCOMING], ["check"], ["serve", "--port", "9"]):
        done = run_cli(*args, "--store", store)
        assert done.returncode == 1, (args, done.stderr)
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(("divergence: [E502]", "divergence: [E500]")) and str(store) in line, (args, line)
    assert run_cli("check", "--store", store).stderr.startswith(f"divergence: [E502] {store}: integrity check failed (")
    healthy = run_cli("check", "--store", corpus_path)
    assert (healthy.returncode, healthy.stdout) == (0, f"{corpus_path}: ok\n")


_READ_ONLY_CHILD = textwrap.dedent(
    """
    import json, sys
    from tests.cli_runner import run_cli
    store, incoming = sys.argv[1], sys.argv[2]
    runs = {name: run_cli(*args, "--store", store) for name, args in {
        "events": ["events", "-f", "json"], "score": ["score", incoming, "--no-add", "-f", "json"],
        "ingest": ["ingest", incoming]}.items()}
    print(json.dumps({name: [r.returncode, r.stdout, r.stderr] for name, r in runs.items()}))
    """
)


def test_a_read_only_store_can_be_read(corpus_path, tmp_path):
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("root ignores file modes and setpriv (util-linux) is not there to drop that power")
    folder = tmp_path / "ro"
    folder.mkdir()
    store = _copy_store(corpus_path, folder / "corpus.db")
    with Corpus(store):  # its index file, as a server would have left it
        pass
    store.chmod(0o444)
    folder.chmod(0o555)
    try:
        # root may write anything: drop that power, as for any other user
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"] if os.geteuid() == 0 else []
        child = subprocess.run([*prefix, sys.executable, "-c", _READ_ONLY_CHILD, str(store), str(INCOMING)], capture_output=True,
                               text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    finally:
        folder.chmod(0o755)
    runs = json.loads(child.stdout)
    assert runs["events"][0] == 0 and len(json.loads(runs["events"][1])) >= 5, runs["events"]
    assert runs["score"][0] == 0 and json.loads(runs["score"][1])["added"] is False, runs["score"]
    assert runs["ingest"][0] == 1 and runs["ingest"][2] == f"divergence: [E503] {store}: the store is read-only (this command needs to write to it)\n"


def test_a_sqlite_file_of_another_application_is_refused_and_left_alone(tmp_path):
    foreign = tmp_path / "accounts.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE accounts (name TEXT)")
        db.execute("INSERT INTO accounts VALUES ('kept')")
    db.close()
    for args in (["ingest", INCOMING], ["recluster"], ["events"], ["score", INCOMING, "--no-add"]):
        done = run_cli(*args, "--store", foreign)
        assert (done.returncode, done.stderr) == (1, f"divergence: [E500] {foreign}: not a divergence store "
                                                     "(it holds other tables: accounts)\n"), args
    with sqlite3.connect(foreign) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master")]
        assert (tables, db.execute("PRAGMA user_version").fetchone()[0]) == (["accounts"], 0)
    db.close()


def test_scoring_an_unusable_article_is_its_own_one_line_error(corpus_path, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    for extra in (["--no-add"], []):
        done = run_cli("score", empty, "--store", corpus_path, *extra)
        assert (done.returncode, done.stderr) == (1, f"divergence: [E101] {empty}: the file is empty\n"), extra


_READ_ONLY_MOUNT_CHILD = textwrap.dedent(
    """
    import json, sys
    from tests.cli_runner import run_cli
    store, incoming = sys.argv[1], sys.argv[2]
    runs = {name: run_cli(*args, "--store", store) for name, args in {
        "ingest": ["ingest", incoming], "recluster": ["recluster"], "events": ["events", "-f", "json"]}.items()}
    print(json.dumps({name: [r.returncode, r.stdout, r.stderr] for name, r in runs.items()}))
    """
)


def test_a_store_on_a_read_only_file_system_says_so(corpus_path, tmp_path):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("mounting read-only in a private namespace needs root and unshare (util-linux)")
    folder = tmp_path / "mounted"
    folder.mkdir()
    store = _copy_store(corpus_path, folder / "corpus.db")
    script = f'mount --bind -o ro "{folder}" "{folder}" && exec "{sys.executable}" -c "$0" "$1" "$2"'
    child = subprocess.run(["unshare", "-m", "sh", "-c", script, _READ_ONLY_MOUNT_CHILD, str(store), str(INCOMING)],
                           capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    if child.returncode != 0 and "mount" in child.stderr:
        pytest.skip(f"cannot mount here: {child.stderr.strip()}")
    runs = json.loads(child.stdout)
    refusal = f"divergence: [E503] {store}: the store is read-only (this command needs to write to it)\n"
    assert runs["ingest"][0] == 1 and runs["ingest"][2] == refusal, runs["ingest"]
    assert runs["recluster"][0] == 1 and runs["recluster"][2] == refusal, runs["recluster"]
    assert runs["events"][0] == 0 and len(json.loads(runs["events"][1])) >= 5, runs["events"]


def test_output_onto_the_store_is_refused_before_anything_is_written(corpus_path, tmp_path):
    store = _copy_store(corpus_path, tmp_path / "kept.db")
    before = store.read_bytes()
    for args in (["recluster"], ["events"], ["show", "event-x"], ["score", INCOMING, "--no-add"], ["ingest", INCOMING]):
        for target in (store, tmp_path / "kept.db.usearch", tmp_path / "." / "kept.db-wal"):
            done = run_cli(*args, "--store", store, "-o", target)
            assert (done.returncode, done.stderr) == (1, f"divergence: [E600] {target}: is a file of the store "
                                                         "(--store); choose another output\n"), (args, target)
    assert store.read_bytes() == before and run_cli("check", "--store", store).returncode == 0


def test_a_document_stored_under_a_suffixed_id_is_reported_under_that_id(corpus_path, tmp_path, settings):
    store = _copy_store(corpus_path, tmp_path / "renamed.db")
    other = tmp_path / "incoming" / "norland-budget" / "norland_times.txt"
    other.parent.mkdir(parents=True)
    original = (FIXTURES / "events" / "norland-budget" / "norland_times.txt").read_text(encoding="utf-8")
    other.write_text(original.replace("112 votes to 64", "98 votes to 71"), encoding="utf-8")
    done = run_cli("ingest", tmp_path / "incoming", "--store", store, "-f", "json")
    assert done.returncode == 0, done.stderr
    stored_as = json.loads(done.stdout)["renamed"]["norland-budget/norland_times"]
    assert stored_as.startswith("norland-budget/norland_times~")
    stored_events = json.loads(run_cli("events", "--store", store, "-f", "json").stdout)
    listed = {doc for event in stored_events for doc in event["documents"]}
    assert {"norland-budget/norland_times", stored_as} <= listed
    # `analyze` of the same files names the second one alike, so its event has the store's id too.
    analysed = divergence.analyze([FIXTURES / "events", tmp_path / "incoming"], settings)
    (analysed_event,) = [event for event in analysed.events if stored_as in event.documents]
    (stored_event,) = [event for event in stored_events if stored_as in event["documents"]]
    assert (analysed_event.id, sorted(analysed_event.documents)) == (stored_event["id"], sorted(stored_event["documents"]))
    other.write_text(original.replace("112 votes to 64", "97 votes to 72"), encoding="utf-8")
    text = run_cli("ingest", tmp_path / "incoming", "--store", store).stdout
    (line,) = [line for line in text.splitlines() if line.startswith("added")]
    assert re.fullmatch(r"added      norland-budget/norland_times → event-[0-9a-f]{8} "
                        r"\(stored as norland-budget/norland_times~[0-9a-f]{8}\)", line), line
