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
    """For each claim vector, the best unit; joined units win only if they beat the best single claim.

    Every score, margin and choice is computed for all claims at once on the similarity matrix; only the
    chosen unit of each claim becomes a :class:`Match` (and so reaches the feature extractor).
    """
    if not units:
        return [None] * len(claim_vectors)
    if not len(claim_vectors):
        return []
    similarity = claim_vectors @ unit_vectors.T
    singles = np.array([len(u.claims) == 1 for u in units])
    single_columns = np.flatnonzero(singles)
    single_similarity = similarity[:, single_columns]
    rows = np.arange(len(similarity))
    best_single_position = single_similarity.argmax(axis=1)
    best_single = single_columns[best_single_position]
    best = similarity.argmax(axis=1)
    single_score = similarity[rows, best_single]
    if len(single_columns) > 1:
        runner_up = np.partition(single_similarity, len(single_columns) - 2, axis=1)[:, len(single_columns) - 2]
    else:
        runner_up = np.zeros(len(similarity), dtype=similarity.dtype)
    # Joining sentences may only add evidence for a claim that spans them.
    chosen = np.where(similarity[rows, best] > single_score + 0.02, best, best_single)
    mutual = single_similarity.argmax(axis=0)[best_single_position] == rows
    joined_score = similarity[:, ~singles].max(axis=1) if (~singles).any() else single_score
    score = similarity[rows, chosen]
    return [
        Match(units[c], float(sc), float(si), float(r), bool(m), float(j))
        for c, sc, si, r, m, j in zip(chosen.tolist(), score, single_score, runner_up, mutual, joined_score, strict=True)
    ]
