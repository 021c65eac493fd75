"""Vectors computed elsewhere (by the encoder actors of a cluster), served through the encoder's interface.

A :class:`~divergence.runtime.Runtime` whose encoder is a :class:`PrecomputedEncoder` runs every stage
unchanged (``Runtime.embed`` stays the one path from text to centred vectors) without loading a model.
"""

from __future__ import annotations

import numpy as np

from divergence.config import Settings
from divergence.datamodel import Claim, Document, Event
from divergence.encoder.centring import Centering
from divergence.encoder.tokens import TokenTable
from divergence.errors import ModelError
from divergence.judge.event import judge_event
from divergence.runtime import Runtime


class PrecomputedEncoder:
    """``encode`` looks texts up in a table of unit vectors made by the real encoder; a text not in it is a bug, not a fallback."""

    def __init__(self, table: dict[str, np.ndarray], dimension: int):
        self.table = table
        self.dimension = dimension

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        missing = [text for text in texts if text not in self.table]
        if missing:
            raise ModelError(f"{len(missing)} text(s) were not embedded by the engine, e.g. {missing[0][:60]!r}")
        return np.stack([self.table[text] for text in texts])


def precomputed_runtime(settings: Settings, encoder: PrecomputedEncoder, centring: Centering | None = None,
                        tokens: TokenTable | None = None) -> Runtime:
    """A runtime reading vectors from ``encoder`` (and, when given, the centring already fitted on its background, and
    the claims' token states: without them the judge reads no token recall, see divergence.judge.tokens)."""
    runtime = Runtime(settings)
    runtime.encoder = encoder
    if centring is not None:
        runtime.centring = centring
    if tokens is not None:
        runtime.token_encoder = tokens
    return runtime


def judge_one_event(settings: Settings, encoder: PrecomputedEncoder, centring: Centering, sources: list[Document],
                    claims: dict[str, list[Claim]], event_id: str, known_vectors: dict[str, np.ndarray],
                    tokens: TokenTable | None = None) -> Event:
    """One event's comparison, as the local engine makes it, on a worker that holds no model."""
    return judge_event(sources, claims, precomputed_runtime(settings, encoder, centring, tokens), event_id, known_vectors=known_vectors)
