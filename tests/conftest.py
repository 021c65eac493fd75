from __future__ import annotations

from pathlib import Path

import pytest

from divergence.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.fixture(scope="session")
def settings():
    return load_settings()


@pytest.fixture(scope="session")
def encoder(settings):
    from divergence.encoder import get_encoder

    return get_encoder(settings)


@pytest.fixture(scope="session")
def fixture_reports(settings):
    """One compare report per fixture event, computed once."""
    import json

    from divergence import compare

    reports = {}
    for gold_path in sorted((FIXTURES / "gold").glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        if "event" not in gold:  # events.json: the clustering gold
            continue
        reports[gold["event"]] = (gold, compare([FIXTURES / "events" / gold["event"]], settings))
    return reports
