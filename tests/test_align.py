"""The vectorised alignment picks, for every claim, what the claim-by-claim definition picks."""

from __future__ import annotations

import numpy as np

from divergence.judge.align import Match, Unit, best_matches


def claim_by_claim(claim_vectors: np.ndarray, units: list[Unit], unit_vectors: np.ndarray) -> list[Match]:
    """The definition, one claim at a time: best single claim, runner-up, mutual best, joined units."""
    similarity = claim_vectors @ unit_vectors.T
    singles = [index for index, unit in enumerate(units) if len(unit.claims) == 1]
    joined = [index for index, unit in enumerate(units) if len(unit.claims) > 1]
    matches = []
    for index, row in enumerate(similarity):
        best_single = max(singles, key=lambda column: (row[column], -column))
        best = max(range(len(units)), key=lambda column: (row[column], -column))
        ordered = sorted(row[singles])
        runner_up = float(ordered[-2]) if len(ordered) > 1 else 0.0
        chosen = best if row[best] > row[best_single] + 0.02 else best_single
        reverse = max(range(len(similarity)), key=lambda claim: (similarity[claim, best_single], -claim))
        joined_score = float(max(row[joined])) if joined else float(row[best_single])
        matches.append(Match(units[chosen], float(row[chosen]), float(row[best_single]), runner_up, reverse == index, joined_score))
    return matches


def _units(singles: int, joined: int) -> list[Unit]:
    return [Unit([object()], i, i + 1, f"s{i}") for i in range(singles)] + [Unit([object(), object()], i, i + 2, f"j{i}") for i in range(joined)]


def test_vectorised_alignment_equals_the_claim_by_claim_definition():
    rng = np.random.default_rng(0)
    for trial in range(400):
        claims, singles = int(rng.integers(1, 9)), int(rng.integers(1, 8))
        units = _units(singles, int(rng.integers(0, singles)))
        claim_vectors = rng.normal(size=(claims, 6)).astype(np.float32)
        unit_vectors = rng.normal(size=(len(units), 6)).astype(np.float32)
        if trial % 2:  # ties: equal scores must resolve to the same (first) unit and claim
            claim_vectors, unit_vectors = np.round(claim_vectors), np.round(unit_vectors)
        got, want = best_matches(claim_vectors, units, unit_vectors), claim_by_claim(claim_vectors, units, unit_vectors)
        assert [(m.unit.text, m.score, m.single_score, m.runner_up, m.mutual, m.joined_score) for m in got] == \
               [(m.unit.text, m.score, m.single_score, m.runner_up, m.mutual, m.joined_score) for m in want], trial


def test_a_joined_unit_wins_only_by_more_than_the_margin():
    units = _units(2, 1)
    unit_vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]], dtype=np.float32)
    close, spread = np.array([[0.99, 0.141]], dtype=np.float32), np.array([[0.8, 0.6]], dtype=np.float32)
    assert best_matches(close, units, unit_vectors)[0].unit.text == "s0"
    joined = best_matches(spread, units, unit_vectors)[0]
    assert joined.unit.text == "j0" and joined.score > joined.single_score + 0.02


def test_no_units_and_no_claims():
    assert best_matches(np.zeros((2, 3), dtype=np.float32), [], np.zeros((0, 3), dtype=np.float32)) == [None, None]
    assert best_matches(np.zeros((0, 3), dtype=np.float32), _units(2, 1), np.ones((3, 3), dtype=np.float32)) == []
