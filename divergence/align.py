"""Find, for every claim, its best evidence in another document, on a corrected scale.

e5 compresses cosine into a narrow band (unrelated sentences ≈ 0.79,
translations ≈ 0.94), so raw cosines cannot carry thresholds. Embeddings are
centred on the mean of a fixed background of unrelated sentences shipped
with the package, then re-normalised: on that scale unrelated sentences
score ≈ 0, same-topic sentences ≈ 0.25 and translations ≈ 0.55–0.8. The
centre depends only on the model, so a claim's score against a sentence
never depends on which other documents are in the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from divergence.model import Claim, Document


@lru_cache(maxsize=1)
def background_sentences() -> tuple[str, ...]:
    text = resources.files("divergence.data").joinpath("background.txt").read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line.strip() and not line.startswith("#"))


class Centering:
    """Subtract the background mean and re-normalise (fit/transform, like a scaler)."""

    def fit(self, background: np.ndarray) -> Centering:
        self.mean_ = background.mean(axis=0)
        return self

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        centred = vectors - self.mean_
        norms = np.linalg.norm(centred, axis=1, keepdims=True)
        return centred / np.maximum(norms, 1e-9)


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
