"""``--engine ray`` on a local Ray instance: the same report and the same store as the local engine."""

import json

import numpy as np
import pytest

from divergence.interfaces.cli import run
from divergence.pipeline import analyze
from divergence.store import open_store
from tests.conftest import FIXTURES

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")


@pytest.fixture(scope="module")
def engine():
    from divergence.engines.ray_engine import RayEngine

    started = RayEngine(num_cpus=2)
    yield started
    started.shutdown()


def _canonical(report) -> str:
    """The report as JSON with sorted keys and events in id order: what "the same output" means."""
    data = json.loads(report.model_dump_json())
    data["events"] = sorted(data["events"], key=lambda e: e["id"])
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _differences(a, b, path="", tolerance=2e-3):
    """Where two JSON values differ: floats within ``tolerance``, everything else exactly."""
    if isinstance(a, float) and isinstance(b, float | int) or isinstance(b, float) and isinstance(a, int):
        return [] if abs(a - b) <= tolerance else [f"{path}: {a} vs {b}"]
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for key in a for d in _differences(a[key], b[key], f"{path}.{key}", tolerance)]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{path}[{i}]", tolerance)]
    if isinstance(a, str) and isinstance(b, str) and a != b:
        # Reasons quote scores ("similarity 0.80, p=0.79"); compare them with the numbers taken out.
        import re

        number = re.compile(r"-?\d+\.\d+")
        if number.sub("#", a) == number.sub("#", b):
            return [d for x, y in zip(number.findall(a), number.findall(b), strict=True)
                    for d in _differences(float(x), float(y), path, tolerance + 0.01)]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def test_analyze_on_ray_gives_the_local_report(engine, settings, tmp_path):
    local = analyze([FIXTURES / "events"], settings)
    # A fresh embedding cache: the encoder actors compute every vector themselves.
    fresh = settings.model_copy(update={"cache_dir": tmp_path / "cache"})
    on_ray = analyze([FIXTURES / "events"], fresh, engine=engine)
    assert sum(1 for e in on_ray.events if e.claims) >= 5
    # Same events, claims, statuses, evidence and reasons; scores may differ in the last digits, because
    # the actors embed in other batches than the local encoder (float32 noise, cosine > 0.9999).
    ours, theirs = json.loads(_canonical(on_ray)), json.loads(_canonical(local))
    for data in (ours, theirs):
        data.pop("provenance", None)
    assert _differences(ours, theirs) == []


def test_ingest_on_ray_gives_the_local_store(engine, settings, tmp_path, capsys):
    stores, printed = {}, {}
    for name in ("local", "ray"):
        stores[name] = tmp_path / f"{name}.db"
        fresh = ["--set", f"cache_dir={tmp_path / 'cache'}"] if name == "ray" else []  # the actors embed every claim
        code = run(["ingest", str(FIXTURES / "events"), "--store", str(stores[name]), "--engine", name, *fresh])
        out, err = capsys.readouterr()
        assert code == 0, err
        printed[name] = out.replace(str(stores[name]), "STORE")
    assert printed["ray"] == printed["local"] and printed["ray"].count("added ") == 19
    events, vectors = {}, {}
    for name, path in stores.items():
        with open_store(path, settings.model) as store:
            events[name] = sorted((e.id, tuple(e.documents), e.label) for e in store.events())
            vectors[name] = np.vstack([stored.vectors for stored in store.load(store.all_ids())])
    assert len(events["ray"]) >= 6 and events["ray"] == events["local"]
    # Vectors embedded in other batches differ in the last bits of float32 (and so, rarely, of the stored float16).
    cosines = (vectors["ray"] * vectors["local"]).sum(axis=1) / np.linalg.norm(vectors["ray"], axis=1) / np.linalg.norm(vectors["local"], axis=1)
    assert cosines.min() > 0.9999


def test_unknown_engine_is_a_usage_error(capsys):
    assert run(["analyze", str(FIXTURES / "events"), "--engine", "spark"]) == 2
    assert "spark" in capsys.readouterr().err
