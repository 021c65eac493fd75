from __future__ import annotations

import os
from pathlib import Path

import pytest

from divergence.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SEEDS = ROOT.parent / "shared" / "seeds"

# Reports carry their time of generation (provenance); a fixed one (reproducible-builds convention) lets tests
# compare two runs byte for byte, also in the subprocesses they start. tests/test_report.py checks both ways.
os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")


@pytest.fixture(scope="session")
def settings():
    return load_settings()


@pytest.fixture(scope="session")
def runtime(settings):
    from divergence.runtime import runtime_for

    return runtime_for(settings)


@pytest.fixture(scope="session")
def encoder(runtime):
    return runtime.encoder


@pytest.fixture(scope="session")
def fixture_reports(settings):
    """One compare report per fixture event, computed once."""
    from dev.fixture_agreement import claim_golds
    from divergence import compare

    reports = {}
    for gold in claim_golds(FIXTURES):
        reports[gold["event"]] = (gold, compare([FIXTURES / "events" / gold["event"]], settings))
    return reports


@pytest.fixture(scope="session")
def analyzed_events(settings) -> dict[str, list[str]]:
    """Event id → documents, as `analyze` finds them in the fixtures: what every store must agree with."""
    from divergence import analyze

    return {e.id: sorted(e.documents) for e in analyze([FIXTURES / "events"], settings).events}


@pytest.fixture(scope="session")
def fixture_documents() -> list:
    from divergence.ingest.load import load_documents

    documents, problems = load_documents([FIXTURES / "events"])
    assert not problems
    return documents
