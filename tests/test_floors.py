"""The floor check of `make eval` and `make train`: figures only move up."""

import json
from pathlib import Path

from dev.evaluate import below_floors, read_floors


def test_a_figure_under_its_floor_fails_within_tolerance():
    floors = {"semeval_spearman": 0.6, "fixture_agreement": 0.96}
    assert below_floors({"semeval_spearman": 0.596, "fixture_agreement": 0.97}, floors) == []
    assert below_floors({"semeval_spearman": 0.594}, floors) == ["semeval_spearman 0.594 < floor 0.600"]
    assert below_floors({"unpinned": 0.0}, floors) == []


def test_an_undefined_figure_fails():
    # A constant model has no rank correlation: NaN must not slip past "<".
    assert below_floors({"semeval_spearman": float("nan")}, {"semeval_spearman": 0.6}) == ["semeval_spearman nan < floor 0.600"]


def test_pinned_floors_are_numbers_in_the_unit_interval():
    floors = read_floors()
    assert floors == json.loads((Path(__file__).parents[1] / "eval_floors.json").read_text())
    assert floors and all(isinstance(v, float | int) and 0 <= v <= 1 for v in floors.values())
