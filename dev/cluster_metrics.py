"""BCubed and pairwise precision/recall/F1 of a clustering against true events."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def bcubed(predicted: list, truth: list) -> Scores:
    """Per item: the share of its predicted cluster that shares its true event, and vice versa (Amigó et al. 2009)."""
    pairs = Counter(zip(predicted, truth, strict=False))
    in_predicted, in_truth = Counter(predicted), Counter(truth)
    precision = sum(count * count / in_predicted[p] for (p, _), count in pairs.items()) / len(predicted)
    recall = sum(count * count / in_truth[t] for (_, t), count in pairs.items()) / len(truth)
    return Scores(precision, recall)


def pairwise(predicted: list, truth: list) -> Scores:
    together = same = both = 0
    for i, j in itertools.combinations(range(len(truth)), 2):
        p, t = predicted[i] == predicted[j], truth[i] == truth[j]
        together += p
        same += t
        both += p and t
    return Scores(both / together if together else 1.0, both / same if same else 1.0)


def wrong_groups(predicted: list, truth: list) -> tuple[int, int]:
    """(predicted groups holding more than one true event, true events spread over more than one group)."""
    events_in = {p: {t for q, t in zip(predicted, truth, strict=True) if q == p} for p in set(predicted)}
    groups_of = {t: {p for p, u in zip(predicted, truth, strict=True) if u == t} for t in set(truth)}
    return sum(len(e) > 1 for e in events_in.values()), sum(len(g) > 1 for g in groups_of.values())


def wrong_pairs(predicted: list, truth: list, ids: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(pairs put together that report different events, pairs of one event kept apart), by document id."""
    merged, split = [], []
    for i, j in itertools.combinations(range(len(truth)), 2):
        together, same = predicted[i] == predicted[j], truth[i] == truth[j]
        if together and not same:
            merged.append((ids[i], ids[j]))
        elif same and not together:
            split.append((ids[i], ids[j]))
    return merged, split
