"""Event clustering: gold events of the fixtures, hard negatives, copies, undated documents, scale."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from dev.cluster_metrics import bcubed, pairwise
from divergence.events.cluster import EventClusterer
from divergence.events.profile import Profile
from divergence.events.same_event import SameEventModel, days_apart
from tests.conftest import FIXTURES, SEEDS
from tests.test_compare import run_cli


@pytest.fixture(scope="session")
def gold_events():
    return json.loads((FIXTURES / "gold" / "events.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def fixture_analysis(settings):
    from divergence import analyze

    return analyze([FIXTURES / "events"], settings)


def _event_of(report, document_id):
    return next(e for e in report.events if document_id in e.documents)


def test_fixtures_cluster_exactly_into_their_gold_events(fixture_analysis, gold_events):
    found = sorted(sorted(e.documents) for e in fixture_analysis.events)
    assert found == sorted(sorted(docs) for docs in gold_events["events"].values())


def test_same_presidents_on_another_day_stay_apart(fixture_analysis):
    march = _event_of(fixture_analysis, "call-keller-varga/norland_times")
    may = _event_of(fixture_analysis, "call-keller-varga-may/norland_times")
    assert march.id != may.id
    assert (march.date, may.date) == (dt.date(2025, 3, 11), dt.date(2025, 5, 20))


def test_other_call_and_other_news_of_the_same_day_stay_apart(fixture_analysis):
    varga = _event_of(fixture_analysis, "call-keller-varga/norland_times")
    brandt = _event_of(fixture_analysis, "call-keller-brandt/capital_post")
    budget = _event_of(fixture_analysis, "norland-budget/norland_times")
    assert len({varga.id, brandt.id, budget.id}) == 3
    assert varga.date == brandt.date == budget.date
    assert set(varga.participants) == {"Keller", "Varga"} and set(brandt.participants) == {"Keller", "Brandt"}


def test_undated_document_joins_on_content_and_is_reported(fixture_analysis):
    may = _event_of(fixture_analysis, "call-keller-varga-may/norland_times")
    assert "call-keller-varga-may/ostrava_analitika" in may.documents
    warnings = [p for p in fixture_analysis.problems if p.code == "W201"]
    assert any(p.path.endswith("ostrava_analitika.txt") and not p.set_aside for p in warnings)


def test_republished_wire_copy_is_a_copy_not_a_source(fixture_analysis, gold_events):
    geneva = _event_of(fixture_analysis, "geneva-ministers/global_wire")
    assert geneva.duplicates == gold_events["duplicates"]
    copy = "geneva-ministers/daily_courier"
    assert all(copy not in c.statuses and c.document != copy for c in geneva.claims)
    assert any(link.reason.startswith("copy") for link in geneva.links)


def test_every_event_with_two_sources_is_compared_and_singletons_are_not(fixture_analysis):
    for event in fixture_analysis.events:
        sources = [d for d in event.documents if d not in event.duplicates]
        assert bool(event.claims) == (len(sources) >= 2), event.id
        assert len(event.links) == len(event.documents) - 1
        for claim in event.claims:
            assert set(claim.statuses) == set(sources) - {claim.document}


def test_contradiction_found_by_compare_is_found_by_analyze(fixture_analysis):
    geneva = _event_of(fixture_analysis, "geneva-ministers/global_wire")
    prisoners = next(c for c in geneva.claims if c.document == "geneva-ministers/le_courrier" and "vingt" in c.text)
    assert prisoners.statuses["geneva-ministers/global_wire"].status.value == "contradicted"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed articles not present")
def test_seeds_split_into_their_true_events(settings):
    from divergence import cluster

    report = cluster([SEEDS], settings)
    groups = sorted(sorted(d[:3] for d in e.documents) for e in report.events)
    assert groups == [["000", "003"], ["001"], ["002"], ["004"]]


def test_cluster_cli_prints_json_events(tmp_path):
    out = tmp_path / "events.json"
    done = run_cli("cluster", str(FIXTURES / "events" / "call-keller-varga"), str(FIXTURES / "events" / "call-keller-varga-may"),
                   "--format", "json", "--output", str(out))
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert len(report["events"]) == 2 and all(e["claims"] == [] for e in report["events"])
    assert "W201" in done.stderr  # the undated analysis is named, and still clustered


def test_analyze_cli_reports_unreadable_file_and_goes_on(tmp_path):
    bad = tmp_path / "broken.bin"
    bad.write_bytes(b"\x00\x01\x02" * 50)
    done = run_cli("analyze", str(FIXTURES / "events" / "brandt-visit"), str(bad), "--format", "json")
    assert done.returncode == 3
    assert "broken.bin" in done.stderr and "[E102]" in done.stderr
    report = json.loads(done.stdout)
    assert len(report["events"]) == 1 and len(report["events"][0]["documents"]) == 3


def test_bcubed_and_pairwise_on_a_worked_example():
    # Truth {a,b,c} {d}; predicted {a,b} {c,d}.
    truth, predicted = ["x", "x", "x", "y"], [1, 1, 2, 2]
    b = bcubed(predicted, truth)
    assert b.precision == pytest.approx((1 + 1 + 0.5 + 0.5) / 4)
    assert b.recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)
    p = pairwise(predicted, truth)
    assert (p.precision, p.recall) == (pytest.approx(0.5), pytest.approx(1 / 3))


def _profile(name, day=None, month_day=None, window=0, vector=None):
    return Profile(id=name, vector=vector if vector is not None else np.ones(4) / 2, day=day, month_day=month_day, window_days=window)


def test_dates_compare_as_intervals_and_on_a_circular_calendar():
    tuesday = dt.date(2025, 3, 11).toordinal()
    assert days_apart(_profile("a", day=tuesday), _profile("b", day=tuesday + 4, window=6)) == (0.0, True)
    assert days_apart(_profile("a", day=tuesday), _profile("b", day=tuesday + 9)) == (9.0, True)
    assert days_apart(_profile("a", month_day=(12, 30)), _profile("b", month_day=(1, 2))) == (3.0, False)
    assert days_apart(_profile("a", day=tuesday), _profile("b")) == (None, False)


def test_candidates_grow_linearly_with_the_corpus():
    """Time blocking and a neighbour cap keep scored pairs at O(n·k), never O(n²)."""
    model = SameEventModel(weights=(5.0, 0.0, 1.0, -4.0, 0.0, 0.0), intercept=-3.0, time_scale_days=3.0)
    rng = np.random.default_rng(0)
    counts = []
    for n in (500, 2000):
        vectors = rng.normal(size=(n, 16)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        start = dt.date(2024, 1, 1).toordinal()
        profiles = [_profile(str(i), day=start + i // 50, vector=vectors[i]) for i in range(n)]
        clusterer = EventClusterer(model=model, neighbours=10, min_similarity=-1.0).fit(profiles)
        counts.append(clusterer.candidate_pairs_)
        assert clusterer.candidate_pairs_ <= n * 10
    assert counts[1] / counts[0] < 4.5  # 4x the documents, ~4x the pairs (all pairs would be 16x)
