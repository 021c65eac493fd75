"""Put embeddings on a corrected scale: unrelated ≈ 0, same topic ≈ 0.25, translations ≈ 0.55–0.8.

e5 compresses cosine into a narrow band (unrelated sentences ≈ 0.79,
translations ≈ 0.94), so raw cosines cannot carry thresholds. Embeddings are
centred on the mean of a fixed background of unrelated sentences shipped
with the package, then re-normalised. The centre depends only on the model,
so a claim's score against a sentence never depends on which other
documents are in the run.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np


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
