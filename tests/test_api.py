"""The HTTP API, over a real uvicorn on 127.0.0.1: endpoints, errors, OpenAPI, and a bounded load test."""

import csv
import html
import io
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from divergence.store.sqlite import Store
from tests.conftest import FIXTURES, ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _docs(folder: Path) -> list[dict]:
    return [{"id": p.stem, "text": p.read_text(encoding="utf-8")} for p in sorted(folder.iterdir())]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = tmp_path_factory.mktemp("api") / "corpus.db"
    port = _free_port()
    log = open(store.with_suffix(".log"), "w")  # noqa: SIM115 - the server writes it while the tests run
    process = subprocess.Popen(
        [sys.executable, "-m", "divergence", "serve", "--store", str(store), "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "DIVERGENCE_REQUEST_BODY_TIMEOUT": "3"},
        stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            pytest.fail(f"server exited: {store.with_suffix('.log').read_text()}")
        time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("server did not start")
    with httpx.Client(base_url=base, timeout=120) as client:
        yield client, store
    process.terminate()
    process.wait(timeout=30)
    log.close()


def test_documents_events_report_and_score(server):
    client, _ = server
    added = client.post("/v1/documents", json={"documents": _docs(FIXTURES / "events" / "call-keller-varga")})
    assert added.status_code == 201, added.text
    body = added.json()
    assert len(body["added"]) == 3 and len(set(body["added"].values())) == 1
    event_id = next(iter(body["added"].values()))
    again = client.post("/v1/documents", json={"documents": _docs(FIXTURES / "events" / "call-keller-varga")}).json()
    assert again["added"] == {} and len(again["unchanged"]) == 3

    assert event_id in {e["id"] for e in client.get("/v1/events").json()}
    assert client.get(f"/v1/events/{event_id}").json()["documents"] == list(body["added"])
    report = client.get(f"/v1/events/{event_id}/report").json()
    assert report["schema_version"] == "1.5" and report["events"][0]["claims"]

    incoming = (FIXTURES / "incoming" / "baltic_daily.txt").read_text(encoding="utf-8")
    scored = client.post("/v1/score", params={"add": "false"}, json={"id": "baltic_daily", "text": incoming}).json()
    assert scored["event_id"] == event_id and 0 < scored["divergence"] < 1 and scored["added"] is False


def test_compare_endpoint(server):
    client, _ = server
    response = client.post("/v1/compare", json={"documents": _docs(FIXTURES / "events" / "brandt-visit")})
    assert response.status_code == 200
    kinds = {c["kind"] for claim in response.json()["events"][0]["claims"] for j in claim["statuses"].values() for c in j["conflicts"]}
    assert "date" in kinds


def test_compare_and_event_report_render_every_format(server):
    client, _ = server
    documents = {"documents": _docs(FIXTURES / "events" / "brandt-visit")}
    report = client.post("/v1/compare", json=documents).json()
    claims = [claim for event in report["events"] for claim in event["claims"]]

    page = client.post("/v1/compare", params={"format": "html"}, json=documents)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.lstrip().lower().startswith("<!doctype html") and html.escape(claims[0]["text"], quote=False) in page.text

    rows = list(csv.DictReader(io.StringIO(client.post("/v1/compare", params={"format": "csv"}, json=documents).text)))
    assert len(rows) == sum(len(claim["statuses"]) for claim in claims)

    markdown = client.post("/v1/compare", params={"format": "markdown"}, json=documents)
    assert markdown.headers["content-type"].startswith("text/markdown") and markdown.text.startswith("#")

    refused = client.post("/v1/compare", params={"format": "pdf"}, json=documents)
    assert refused.status_code == 422 and "format" in refused.json()["error"]["message"]

    event_id = next(iter(client.post("/v1/documents", json=documents).json()["added"].values()))
    stored_page = client.get(f"/v1/events/{event_id}/report", params={"format": "html"})
    assert stored_page.headers["content-type"].startswith("text/html") and event_id in stored_page.text


@pytest.mark.parametrize(
    "method, path, payload, status",
    [
        ("post", "/v1/documents", {"documents": []}, 422),
        ("post", "/v1/documents", {"documents": [{"id": "x", "text": "   "}]}, 422),
        ("post", "/v1/score", {"id": "x"}, 422),
        ("post", "/v1/compare", {"documents": [{"id": "only", "text": "One document is not enough to compare anything."}]}, 422),
        ("get", "/v1/events/event-nope", None, 404),
        ("get", "/v1/events/event-nope/report", None, 404),
    ],
)
def test_bad_requests_get_json_errors(server, method, path, payload, status):
    client, _ = server
    response = client.request(method.upper(), path, json=payload)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] and error["message"]


def test_malformed_json_and_oversized_body(server):
    client, _ = server
    broken = client.post("/v1/documents", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "E422"
    huge = client.post("/v1/documents", content=b"x" * 2_100_000, headers={"content-type": "application/json"})
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "E413"


def test_openapi_is_published(server):
    client, _ = server
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/compare", "/v1/score", "/v1/documents", "/v1/events", "/v1/events/{event_id}", "/v1/events/{event_id}/report",
            "/healthz"} <= set(paths)


def test_load_300_requests_8_at_a_time(server):
    client, store = server
    towns = ["Tallberg", "Norlund", "Ostrava City", "Geneva", "Lindau", "Varnes"]

    def request(i: int) -> tuple[int, str | None]:
        kind = i % 4
        if kind == 0:
            text = (f"Delegation {i} from Norland visited {towns[i % len(towns)]} on {1 + i % 27} May to discuss shipment {i} "
                    f"of timber. The visit lasted {i % 9 + 1} hours, officials said.")
            response = client.post("/v1/documents", json={"documents": [{"id": f"load-{i}", "text": text}]})
            return response.status_code, f"load-{i}" if response.status_code == 201 else None
        if kind == 1:
            return client.get("/v1/events").status_code, None
        if kind == 2:
            return client.get("/healthz").status_code, None
        response = client.post("/v1/score", params={"add": "false"},
                               json={"id": f"probe-{i}", "text": f"Officials in {towns[i % len(towns)]} said talks on shipment {i} went well."})
        return response.status_code, None

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(request, range(300)))
    failures = [status for status, _ in results if status >= 500 or status in (0, 413)]
    assert not failures, failures
    assert all(status in (200, 201) for status, _ in results), sorted({s for s, _ in results})
    accepted = [doc for _, doc in results if doc]
    assert len(accepted) == 75
    with Store(store, "builtin:multilingual-e5-small") as opened:
        assert all(opened.has_document(doc) for doc in accepted)
        assert opened.integrity() == "ok"


# --- hardening (issue 12) ---------------------------------------------------------------------------------------


def _raw(port: int, request: bytes, pause_after: bytes | None = None) -> bytes:
    """Send ``request`` over a plain socket (what httpx will not send: chunked floods, half bodies, bad headers)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
            if b"\r\n\r\n" in reply and b'"error"' in reply and reply.rstrip().endswith(b"}}"):
                break
        return reply


def _port(client) -> int:
    return client.base_url.port


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [("GET", "/nowhere", 404, "E404"), ("DELETE", "/v1/events", 405, "E405"), ("GET", "/v1/documents", 405, "E405")],
)
def test_framework_errors_have_the_documented_shape(server, method, path, status, code):
    client, _ = server
    response = client.request(method, path)
    assert response.status_code == status
    assert set(response.json()) == {"error"} and response.json()["error"]["code"] == code


def test_messages_do_not_repeat_their_code(server):
    client, _ = server
    response = client.post("/v1/compare", json={"documents": [{"id": "only", "text": "One document is not enough to compare."}]})
    error = response.json()["error"]
    assert error["code"] == "E200" and "[E200]" not in error["message"] and error["message"].startswith("compare needs")
    broken = client.post("/v1/documents", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.json()["error"]["message"].startswith("the body is not valid JSON")


def test_chunked_body_is_refused_while_it_streams(server):
    client, _ = server

    def chunks():
        piece = b"x" * 65536
        for _ in range(64):  # 4 MB, no Content-Length
            yield piece

    response = client.post("/v1/documents", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "E413"
    assert client.get("/healthz").status_code == 200


def test_bad_content_length_and_stalled_body(server):
    client, _ = server
    port = _port(client)
    bad = _raw(port, b"POST /v1/documents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12abc\r\n\r\n{}")
    assert bad.startswith(b"HTTP/1.1 400")
    stalled = _raw(port, b"POST /v1/documents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"documents\"")
    assert stalled.startswith(b"HTTP/1.1 408") and b'"E408"' in stalled


def test_control_characters_in_ids_are_refused(server):
    client, _ = server
    response = client.post("/v1/documents", json={"documents": [{"id": "a\nb", "text": "The ministers met in Geneva."}]})
    assert response.status_code == 422 and response.json()["error"]["message"].startswith("body.documents.0.id")


def test_events_are_paged(server):
    client, _ = server
    client.post("/v1/documents", json={"documents": _docs(FIXTURES / "events" / "call-keller-varga")})
    client.post("/v1/documents", json={"documents": _docs(FIXTURES / "events" / "brandt-visit")})
    everything = client.get("/v1/events")
    total = int(everything.headers["x-total-count"])
    assert total == len(everything.json()) >= 2
    first, second = client.get("/v1/events", params={"limit": 1}), client.get("/v1/events", params={"limit": 1, "offset": 1})
    assert [e["id"] for e in first.json() + second.json()] == [e["id"] for e in everything.json()[:2]]
    assert client.get("/v1/events", params={"limit": 0}).status_code == 422


def test_docs_work_offline(server):
    client, _ = server
    page = client.get("/docs").text
    assert "cdn" not in page.lower()
    scripts = [part.split('"')[0] for part in page.split('src="')[1:]]
    assert scripts and all(client.get(src).status_code == 200 for src in scripts)
    assert len(client.get(scripts[0]).content) > 100_000  # the Swagger UI bundle itself


def test_one_log_line_per_request_and_a_start_up_line(server):
    client, store = server
    client.get("/healthz", params={"probe": "log"})
    time.sleep(0.5)  # the access line is written after the response
    log = store.with_suffix(".log").read_text()
    assert "divergence: serving" in log and " on http://127.0.0.1:" in log
    assert sum('"GET /healthz?probe=log HTTP/1.1" 200' in line for line in log.splitlines()) == 1


def test_healthz_answers_while_an_ingest_holds_the_store(tmp_path, settings, monkeypatch):
    import threading

    from fastapi.testclient import TestClient

    from divergence.interfaces.server import create_app
    from divergence.store.corpus import Corpus

    entered, release = threading.Event(), threading.Event()
    original = Corpus.ingest

    def held_ingest(self, *args, **kwargs):
        entered.set()
        release.wait(120)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Corpus, "ingest", held_ingest)
    with TestClient(create_app(tmp_path / "held.db", settings)) as client:
        body = {"documents": [{"id": "a", "text": "The ministers met in Geneva on Thursday."}]}
        writer = threading.Thread(target=lambda: client.post("/v1/documents", json=body))
        writer.start()
        try:
            assert entered.wait(120)
            answer: dict = {}
            probe = threading.Thread(target=lambda: answer.update(client.get("/healthz").json()))
            probe.start()
            probe.join(60)  # with the store lock taken, this would wait for the ingest (released only below)
            assert answer == {"status": "ok", "model": settings.model, "documents": 0}
        finally:
            release.set()
            writer.join(120)
        assert client.get("/healthz").json()["documents"] == 1
