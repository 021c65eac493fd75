"""Find, for every claim, its best evidence in another document.

Scores are cosines of centred vectors (:mod:`divergence.encoder.centring`):
unrelated ≈ 0, same topic ≈ 0.25, translations ≈ 0.55–0.8.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from divergence.datamodel import Claim, Document


@dataclass
class Unit:
    """A piece of evidence: one claim, or adjacent claims of the same document read together."""

    claims: list[Claim]
    start: int
    end: int
    text: str


def evidence_units(document: Document, claims: list[Claim], window: int) -> list[Unit]:
    units = [Unit([c], c.start, c.end, c.text) for c in claims]
    for size in range(2, window + 1):
        for i in range(len(claims) - size + 1):
            group = claims[i : i + size]
            start, end = group[0].start, group[-1].end
            units.append(Unit(group, start, end, document.text[start:end]))
    return units


@dataclass
class Match:
    unit: Unit
    score: float
    single_score: float
    runner_up: float
    mutual: bool = False
    joined_score: float = 0.0
    """The best score of any joined unit: evidence spread over neighbouring sentences."""


def best_matches(claim_vectors: np.ndarray, units: list[Unit], unit_vectors: np.ndarray) -> list[Match | None]:
    """For each claim vector, the best unit; joined units win only if they beat the best single claim."""
    if not units:
        return [None] * len(claim_vectors)
    similarity = claim_vectors @ unit_vectors.T
    singles = np.array([len(u.claims) == 1 for u in units])
    single_columns = np.flatnonzero(singles)
    reverse_best = similarity[:, single_columns].argmax(axis=0) if len(similarity) else np.array([], dtype=int)
    matches: list[Match | None] = []
    for index, row in enumerate(similarity):
        single_row = np.where(singles, row, -np.inf)
        best_single = int(np.argmax(single_row))
        best = int(np.argmax(row))
        ordered = np.sort(single_row[np.isfinite(single_row)])
        runner_up = float(ordered[-2]) if len(ordered) > 1 else 0.0
        # Joining sentences may only add evidence for a claim that spans them.
        chosen = best if row[best] > row[best_single] + 0.02 else best_single
        mutual = bool(reverse_best[np.searchsorted(single_columns, best_single)] == index)
        joined = row[~singles]
        joined_score = float(joined.max()) if len(joined) else float(row[best_single])
        matches.append(Match(units[chosen], float(row[chosen]), float(row[best_single]), runner_up, mutual, joined_score))
    return matches
