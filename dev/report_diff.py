"""What "the same report" means across engines: same events, claims, statuses, evidence and reasons.

Scores may differ in their last digits (the Ray actors embed in other batches than the local encoder:
float32 noise, cosine > 0.9999), so floats compare within a tolerance and reasons with their numbers
taken out; everything else compares exactly. Provenance (time of generation, engine) is left out.
"""

from __future__ import annotations

import json
import re

_NUMBER = re.compile(r"-?\d+\.\d+")


def canonical(report) -> dict:
    """The report as JSON data, events in id order, without provenance."""
    data = json.loads(report.model_dump_json())
    data["events"] = sorted(data["events"], key=lambda e: e["id"])
    data.pop("provenance", None)
    return data


def differences(a, b, path: str = "", tolerance: float = 2e-3) -> list[str]:
    """Where two JSON values differ: floats within ``tolerance``, everything else exactly."""
    if isinstance(a, float) and isinstance(b, float | int) or isinstance(b, float) and isinstance(a, int):
        return [] if abs(a - b) <= tolerance else [f"{path}: {a} vs {b}"]
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for key in a for d in differences(a[key], b[key], f"{path}.{key}", tolerance)]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]", tolerance)]
    if isinstance(a, str) and isinstance(b, str) and a != b and _NUMBER.sub("#", a) == _NUMBER.sub("#", b):
        # Reasons quote scores ("similarity 0.80, p=0.79"): compare the numbers, a rounding step apart at most.
        return [d for x, y in zip(_NUMBER.findall(a), _NUMBER.findall(b), strict=True)
                for d in differences(float(x), float(y), path, tolerance + 0.01)]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]
