"""Token-level alignment of a claim with its evidence, weighted by how specific each piece is within the event.

A sentence vector says two sentences are about the same thing; it cannot say whether the *specific* words of
the claim ("Mali", "drones", "New START") have a counterpart in the evidence, or only the names and vocabulary
every source of the event shares. Each piece of the claim is matched to its most similar piece of the evidence
(cosine of the encoder's contextual token states, which works across languages: BERTScore's recall), and the
matches are averaged with weights saying how specific the piece is within the event: a smoothed inverse frequency
over the event's sentences, so the leaders' names, "president", "call" and punctuation, found in many of them,
weigh little.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import numpy as np

from divergence.encoder.tokens import TokenStates


class PieceWeights:
    """How specific each piece is within one event: log(1 + N / n), n of the event's N sentences holding it."""

    def __init__(self, sentences: Iterable[np.ndarray]):
        self.frequency: Counter = Counter()
        self.count = 0
        for ids in sentences:
            self.frequency.update(set(ids.tolist()))
            self.count += 1

    def of(self, ids: np.ndarray) -> np.ndarray:
        # A piece in every sentence weighs log(1 + 1) ≈ 0.69, one seen once log(1 + N); unseen ones as if seen once.
        return np.array([math.log(1.0 + self.count / max(1, self.frequency.get(int(i), 0))) for i in ids], dtype=np.float64)


def joined(states: list[TokenStates]) -> TokenStates:
    """The token states of adjacent sentences read as one piece of evidence."""
    if len(states) == 1:
        return states[0]
    return np.concatenate([s[0] for s in states]), np.vstack([s[1] for s in states])


def token_recall(claim: TokenStates, evidence: TokenStates, weights: PieceWeights) -> float:
    """Weighted recall of the claim's pieces in the evidence: each piece's best cosine to any evidence piece."""
    claim_ids, claim_states = claim
    evidence_ids, evidence_states = evidence
    if not len(claim_ids) or not len(evidence_ids):
        return 0.0
    best = (claim_states @ evidence_states.T).max(axis=1)
    w = weights.of(claim_ids)
    return float((best * w).sum() / w.sum())
