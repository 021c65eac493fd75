"""The hostile-input battery (issue 12): every class of bad input through compare, analyze, ingest and the HTTP API.

What it asserts: no traceback anywhere, exit codes as documented (0 done, 1 error, 2 usage, 3 some inputs set aside),
every good document still processed and stored. `python -m pytest -s tests/test_battery.py` prints its counts.

Also here, because they need real processes: output is the same bytes under two hash seeds, and the installed wheel
works outside the checkout.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from divergence.ingest.load import load_documents
from divergence.store.sqlite import Store
from tests.cli_runner import run_cli
from tests.conftest import FIXTURES, ROOT

EVENTS = FIXTURES / "events"
GOOD_FIXTURES = sorted((EVENTS / "brandt-visit").iterdir())
COUNTS: dict[str, int] = {}


def _count(key: str, n: int = 1) -> None:
    COUNTS[key] = COUNTS.get(key, 0) + n


@pytest.fixture(scope="module", autouse=True)
def _print_counts():
    """The battery's counts for the record, when the module ends (run pytest with -s to see them)."""
    yield
    if COUNTS:
        print("\nbattery counts:", json.dumps(COUNTS, sort_keys=True))


def _text_of(event: str, index: int = 0) -> str:
    return sorted((EVENTS / event).iterdir())[index].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A folder of good documents (some needing repair) mixed with one file of every bad class; expected outcome per file."""
    folder = tmp_path_factory.mktemp("battery")
    good: dict[str, str] = {}  # file name → document id
    for path in GOOD_FIXTURES:
        (folder / path.name).write_bytes(path.read_bytes())
        good[path.name] = load_documents([path])[0][0].id  # the id of its front matter
    stray = (EVENTS / "geneva-ministers" / "kartenia_segodnya.txt").read_bytes()  # Russian: mostly multi-byte UTF-8
    cut = stray.index(b" ", len(stray) // 2)
    (folder / "stray_byte.txt").write_bytes(stray[:cut] + b"\xff" + stray[cut:])  # W101, still used
    (folder / "utf16.txt").write_bytes(_text_of("norland-budget").encode("utf-16-le"))  # no BOM
    paragraphs = "".join(f"<p>{line}</p>" for line in _text_of("tallberg-trade").splitlines() if line.strip())
    (folder / "padded.html").write_text("<html><body><article>" + paragraphs + "</article>" + "<div>filler</div>" * 40_000
                                        + "</body></html>", encoding="utf-8")  # W102: cut before extraction
    (folder / "y[bold]x[b].txt").write_text(_text_of("call-keller-varga"), encoding="utf-8")
    good.update({"stray_byte.txt": "stray_byte", "utf16.txt": "utf16", "padded.html": "padded", "y[bold]x[b].txt": "y[bold]x[b]"})
    bad = {
        "empty.txt": ("", "E101"),
        "binary.txt": (b"\x00\x01\x02\x03" * 256, "E102"),
        "broken.json": ('{"id": "x", "text": ', "E104"),
        "deep.json": ("[" * 200_000 + "]" * 200_000, "E104"),
        "typed.json": (json.dumps({"url": 3, "language": 7, "text": "The ministers met."}), "E104"),
        "newline_id.jsonl": (json.dumps({"id": "a\nb", "text": "The ministers met in Geneva."}) + "\n", "E104"),
        "list_text.json": (json.dumps({"text": [[["deep"]]]}), "E104"),
    }
    for name, (content, _) in bad.items():
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_text(content, encoding="utf-8")
    named = {str(folder / "notes.docx"): "E103", str(folder / "missing.txt"): "E105", "/dev/zero": "E102"}
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 not a text file")
    expected = {str(folder / name): code for name, (_, code) in bad.items()} | named
    expected[str(folder / "newline_id.jsonl") + ":1"] = expected.pop(str(folder / "newline_id.jsonl"))
    return folder, good, expected


def _args(inputs) -> list[str]:
    folder, _, expected = inputs
    return [str(folder), str(folder / "notes.docx"), str(folder / "missing.txt"), "/dev/zero", "--set", "max_file_bytes=3000000", "--set", "max_html_bytes=100000"]


def _check_run(done, expect_code: int) -> None:
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, done.stderr
    assert done.returncode == expect_code, done.stderr
    _count("runs")


def _check_set_aside(stderr: str, expected: dict[str, str]) -> None:
    lines = stderr.strip().splitlines()
    for path, code in expected.items():
        assert any(line.startswith(f"divergence: {path}: [{code}]") for line in lines), (path, code, lines)
    assert sum("warning: " in line for line in lines) >= 2  # the stray byte and the cut HTML


@pytest.mark.parametrize("command", ["compare", "analyze"])
def test_reports_keep_every_good_document(inputs, command):
    _, good, expected = inputs
    done = run_cli(command, *_args(inputs), "-f", "json")
    _check_run(done, 3)
    _check_set_aside(done.stderr, expected)
    report = json.loads(done.stdout)
    assert {d["id"] for d in report["documents"]} == set(good.values())
    assert {(p["path"], p["code"]) for p in report["problems"] if p["set_aside"]} == set(expected.items())
    _count(f"{command}: bad inputs set aside", len(expected))
    _count(f"{command}: good documents processed", len(report["documents"]))


def test_ingest_stores_every_good_document(inputs, tmp_path):
    _, good, expected = inputs
    store = tmp_path / "battery.db"
    done = run_cli("ingest", *_args(inputs), "--store", store, "-f", "json")
    _check_run(done, 3)
    _check_set_aside(done.stderr, expected)
    result = json.loads(done.stdout)
    assert set(result["added"]) | set(result["unchanged"]) == set(good.values())
    with Store(store, "builtin:multilingual-e5-small") as opened:
        assert opened.integrity() == "ok"
        assert set(opened.all_ids()) == set(result["added"])
    again = run_cli("ingest", *_args(inputs), "--store", store, "-f", "json")
    _check_run(again, 3)
    assert json.loads(again.stdout)["added"] == {}
    listed = run_cli("events", "--store", store, "-f", "json")
    _check_run(listed, 0)
    assert sorted(d for e in json.loads(listed.stdout) for d in e["documents"]) == sorted(result["added"])
    _count("ingest: bad inputs set aside", len(expected))
    _count("ingest: good documents stored", len(set(opened_ids(store))))


def opened_ids(store: Path) -> list[str]:
    with Store(store, "builtin:multilingual-e5-small", read_only=True) as opened:
        return opened.all_ids()


def _usage_cases(tmp_path: Path) -> list[tuple[list[str], int, str]]:
    a, b = (str(p) for p in GOOD_FIXTURES[:2])
    file = tmp_path / "a-file"
    file.write_text("x", encoding="utf-8")
    dash = tmp_path / "-dash.txt"
    dash.write_text(GOOD_FIXTURES[0].read_text(encoding="utf-8"), encoding="utf-8")
    store = str(tmp_path / "none.db")
    return [
        (["bogus"], 2, "divergence: No such command 'bogus'."),
        ([], 2, "divergence: Missing command."),
        (["compare", "-dash.txt", a], 2, "divergence: No such option: -d"),
        (["compare", a, b, "--set", "bogus=1"], 2, "divergence: [E400] setting bogus: unknown setting"),
        (["compare", a, b, "--set", "max_document_chars=-1"], 2, "divergence: [E400] setting max_document_chars: must be from"),
        (["compare", a, b, "--set", "cluster_threshold=nan"], 2, "divergence: [E400] setting cluster_threshold: must be a finite number"),
        (["compare", a, b, "--set", "partial_threshold=0.9"], 2, "divergence: [E400] setting partial_threshold: must not exceed supported_threshold"),
        (["compare", a, b, "--set", "candidate_neighbours=-1"], 2, "divergence: [E400] setting candidate_neighbours: must be from 1"),
        (["score", a, "--store", store, "--fail-above", "nan"], 2, "divergence: Invalid value for --fail-above"),
        (["events", "--store", store, "-f", "html"], 2, "divergence: Invalid value for '--format'"),
        (["ingest", a, "--store", store, "-f", "markdown"], 2, "divergence: Invalid value for '--format'"),
        (["compare", a, b, "-o", str(tmp_path)], 1, f"divergence: [E600] {tmp_path}: is a directory"),
        (["compare", a, b, "-o", str(file / "report.json")], 1, f"divergence: [E600] {file / 'report.json'}: {file} is not a directory"),
        (["compare", a, b, "-o", "/proc/version"], 1, "divergence: [E600] /proc/version: cannot write"),
        (["compare", a], 1, "divergence: [E200] compare needs at least two usable documents"),
        (["events", "--store", store], 1, f"divergence: [E500] {store}: no such store"),
        (["compare", "-f", "json", "--", str(dash), b], 0, ""),
    ]


def test_usage_and_output_errors_are_one_line(tmp_path):
    for args, code, start in _usage_cases(tmp_path):
        done = run_cli(*args)
        assert "Traceback" not in done.stderr, (args, done.stderr)
        assert done.returncode == code, (args, done.returncode, done.stderr)
        if start and not start.startswith("Usage"):
            assert done.stderr.startswith(start) and done.stderr.count("\n") == 1, (args, done.stderr)
        elif start:
            assert start in done.stderr
        _count("usage and output errors")
    assert not list(tmp_path.glob("*.tmp")) and not list(Path("/proc").glob(".version*.tmp"))
    assert run_cli("--version").stdout.startswith("divergence ")


def test_fewer_than_two_documents_names_every_reason(inputs):
    folder, _, _ = inputs
    done = run_cli("compare", GOOD_FIXTURES[0], folder / "empty.txt", folder / "typed.json")
    _check_run(done, 1)
    assert done.stderr.splitlines() == [
        f"divergence: {folder / 'empty.txt'}: [E101] the file is empty",
        f"divergence: {folder / 'typed.json'}: [E104] field 'url' must be a string, got a number",
        f"divergence: [E200] compare needs at least two usable documents (usable: {load_documents([GOOD_FIXTURES[0]])[0][0].id})",
    ]


def test_http_api_refuses_bad_requests_and_stores_good_documents(tmp_path, settings):
    from fastapi.testclient import TestClient

    from divergence.interfaces.server import create_app

    store = tmp_path / "api.db"
    bad = [
        ("POST", "/v1/documents", {"content": b"{not json"}, 422),
        ("POST", "/v1/documents", {"content": b"[" * 100_000 + b"]" * 100_000}, 400),
        ("POST", "/v1/documents", {"content": b"x" * 2_100_000}, 413),
        ("POST", "/v1/documents", {"json": {"documents": [{"id": "a\nb", "text": "The ministers met."}]}}, 422),
        ("POST", "/v1/documents", {"json": {"documents": [{"id": 3, "text": "The ministers met."}]}}, 422),
        ("POST", "/v1/documents", {"json": {"documents": [{"id": "x", "text": "   "}]}}, 422),
        ("POST", "/v1/documents", {"json": {"documents": []}}, 422),
        ("POST", "/v1/documents", {"json": {"documents": [{"id": "x", "text": "ok", "url": 3}]}}, 422),
        ("POST", "/v1/score", {"json": {"id": "x"}}, 422),
        ("POST", "/v1/compare", {"json": {"documents": [{"id": "one", "text": "One document is not enough."}]}}, 422),
        ("GET", "/v1/events/%0A", {}, 404),
        ("GET", "/v1/events/event-nope/report", {}, 404),
        ("GET", "/nowhere", {}, 404),
        ("DELETE", "/v1/events", {}, 405),
        ("GET", "/v1/events?limit=-1", {}, 422),
    ]
    good = [{"id": load_documents([path])[0][0].id, "text": path.read_text(encoding="utf-8")} for path in GOOD_FIXTURES]
    with TestClient(create_app(store, settings), raise_server_exceptions=False) as client:
        for method, path, kwargs, status in bad:
            headers = {"content-type": "application/json"} if "content" in kwargs else {}
            response = client.request(method, path, headers=headers, **kwargs)
            assert response.status_code == status, (method, path, response.status_code, response.text[:200])
            error = response.json()["error"]
            assert set(error) == {"code", "message"} and f"[{error['code']}]" not in error["message"], error
            _count("HTTP: bad requests refused")
        added = client.post("/v1/documents", json={"documents": good})
        assert added.status_code == 201 and set(added.json()["added"]) == {d["id"] for d in good}
        assert client.get("/healthz").json()["documents"] == len(good)
    _count("HTTP: good documents stored", len(opened_ids(store)))
    assert set(opened_ids(store)) == {d["id"] for d in good}


# --- real processes ---------------------------------------------------------------------------------------------


def _cluster_json(seed: str) -> bytes:
    return subprocess.run([sys.executable, "-m", "divergence", "cluster", str(EVENTS), "-f", "json"], capture_output=True, cwd=ROOT,
                          env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}, timeout=900, check=True).stdout


def test_same_bytes_under_two_hash_seeds():
    first, second = _cluster_json("1"), _cluster_json("2")
    assert any(e["participants"] for e in json.loads(first)["events"])
    assert first == second


def test_installed_wheel_works_outside_the_checkout(tmp_path):
    """Build the wheel, install it alone into a fresh virtualenv that borrows the dependencies, and compare from /tmp."""
    wheels = tmp_path / "wheels"
    build = tmp_path / "source"
    _copy_tree(ROOT, build)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(build)],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = wheels.glob("divergence-*.whl")
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    site = next(target.glob("lib/python*/site-packages"))
    borrowed = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "typer").is_dir())
    (site / "borrowed.pth").write_text(borrowed + "\n", encoding="utf-8")
    python = target / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=600)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"DIVERGENCE_MODELS_DIR": str(ROOT / "models")}
    where = subprocess.run([str(python), "-c", "import divergence.config as c; print(c.__file__); print(c.judge_model_path(c.load_settings()))"],
                           capture_output=True, text=True, cwd="/tmp", env=env, check=True).stdout.split()
    assert all(str(target) in line for line in where), where
    done = subprocess.run([str(target / "bin" / "divergence"), "compare", *(str(p) for p in GOOD_FIXTURES), "-f", "json"],
                          capture_output=True, text=True, cwd="/tmp", env=env, timeout=900)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["documents"]) == len(GOOD_FIXTURES) and report["events"][0]["claims"]
    assert not any(p["code"].startswith("E3") for p in report["problems"])


def _copy_tree(source: Path, target: Path) -> None:
    """The files git tracks (the links in divergence/fitted resolved), so the build leaves nothing in the checkout."""
    import shutil

    files = subprocess.run(["git", "-C", str(source), "ls-files", "--cached", "--others", "--exclude-standard"],
                           capture_output=True, text=True, check=True).stdout.split("\n")
    for name in filter(None, files):
        path = source / name
        if path.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / name)


def test_unwritable_cache_directory_is_one_line(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("DIVERGENCE_CACHE_DIR", str(blocker / "cache"))
    done = run_cli("compare", *(str(p) for p in GOOD_FIXTURES[:2]))
    assert done.returncode == 1
    assert done.stderr == (f"divergence: [E401] {blocker / 'cache'}: cannot write there (Not a directory); set cache_dir "
                           "(DIVERGENCE_CACHE_DIR) to a writable folder, or embedding_cache=false\n")


def test_problems_are_printed_once_and_quiet_and_verbose_work(inputs):
    folder, _, _ = inputs
    a, b = (str(p) for p in GOOD_FIXTURES[:2])
    args = ["compare", a, b, str(folder / "empty.txt"), str(folder / "stray_byte.txt")]
    done = run_cli(*args)
    _check_run(done, 3)
    assert done.stderr.count("[E101]") == 1 and done.stderr.count("[W101]") == 1
    assert "[E101]" not in done.stdout and "[W101]" not in done.stdout  # the terminal gets them once, on stderr
    quiet = run_cli("--quiet", *args, "-f", "json")
    _check_run(quiet, 3)
    assert quiet.stderr.count("[E101]") == 1 and "[W101]" not in quiet.stderr
    verbose = run_cli("--verbose", *args, "-f", "json")
    _check_run(verbose, 3)
    stages = [line for line in verbose.stderr.splitlines() if line.startswith("divergence: ") and " s  " in line]
    messages = [line.split(" s  ", 1)[1] for line in stages]
    # compare embeds the documents once more to check they report one event, then judges them
    assert re.fullmatch(r"judging \d+ claims of 3 documents", messages[0]), messages
    assert all(re.fullmatch(r"(judging|embedding) \d+ claims of 3 documents", m) for m in messages[:-1]), messages
    assert messages[-1] == "done (reading and preparing the documents)"


def test_output_onto_an_input_is_refused_before_any_work(tmp_path):
    """`compare DIR -o DIR/a.txt` wrote the report over the article it had just read (exit 0, the input lost)."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for source in GOOD_FIXTURES[:2]:
        (folder / source.name).write_bytes(source.read_bytes())
    first = folder / GOOD_FIXTURES[0].name
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    store = tmp_path / "corpus.db"
    for args, given in ((["compare", folder, "-o", first], folder), (["compare", first, GOOD_FIXTURES[1], "-o", first], first),
                        (["cluster", folder, "-o", first], folder), (["analyze", "-o", first, "--", first, "-"], first),
                        (["ingest", folder, "--store", store, "-o", first], folder), (["score", first, "--store", store, "-o", first], first)):
        done = run_cli(*args)
        assert (done.returncode, done.stdout, done.stderr) == (
            1, "", f"divergence: [E600] {first}: is an input ({given}); the report would overwrite it, choose another output\n"), args
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before and not store.exists()
    assert not list(tmp_path.rglob("*.tmp"))
    # A file the folder's reading skips (another type) may be written over: it is not an input.
    (folder / "report.csv").write_text("old", encoding="utf-8")
    assert run_cli("cluster", folder, "-f", "json", "-o", folder / "report.csv").returncode == 0
    assert json.loads((folder / "report.csv").read_text(encoding="utf-8"))["events"]


def test_a_file_name_with_a_newline_or_an_escape_sequence_is_one_escaped_line(tmp_path):
    """`bad\\nname.txt` split its error over two lines; an ANSI escape in a file name reached the terminal as is."""
    (tmp_path / "bad\nname.txt").write_text("", encoding="utf-8")
    (tmp_path / "x\x1b[31mred.txt").write_text("", encoding="utf-8")
    done = run_cli("compare", tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"divergence: {tmp_path}/bad\\nname.txt: [E101] the file is empty",
        f"divergence: {tmp_path}/x\\x1b[31mred.txt: [E101] the file is empty",
        "divergence: [E200] compare needs at least two usable documents (usable: none)",
    ]
