"""Sentence encoder: the built-in multilingual e5, or any sentence-transformers model."""

from divergence.encoder.embed import Encoder, get_encoder, resolve_model

__all__ = ["Encoder", "get_encoder", "resolve_model"]
