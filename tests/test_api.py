"""The HTTP API, over a real uvicorn on 127.0.0.1: endpoints, errors, OpenAPI, and a bounded load test."""

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
    process = subprocess.Popen(
        [sys.executable, "-m", "divergence", "serve", "--store", str(store), "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
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
            pytest.fail(f"server exited: {process.stdout.read()}")
        time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("server did not start")
    with httpx.Client(base_url=base, timeout=120) as client:
        yield client, store
    process.terminate()
    process.wait(timeout=30)


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
    assert report["schema_version"] == "1.3" and report["events"][0]["claims"]

    incoming = (FIXTURES / "incoming" / "baltic_daily.txt").read_text(encoding="utf-8")
    scored = client.post("/v1/score", params={"add": "false"}, json={"id": "baltic_daily", "text": incoming}).json()
    assert scored["event_id"] == event_id and 0 < scored["divergence"] < 1 and scored["added"] is False


def test_compare_endpoint(server):
    client, _ = server
    response = client.post("/v1/compare", json={"documents": _docs(FIXTURES / "events" / "brandt-visit")})
    assert response.status_code == 200
    kinds = {c["kind"] for claim in response.json()["events"][0]["claims"] for j in claim["statuses"].values() for c in j["conflicts"]}
    assert "date" in kinds


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
