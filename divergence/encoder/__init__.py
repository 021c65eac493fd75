"""Sentence encoder: the built-in multilingual e5, or any sentence-transformers model."""

from divergence.encoder.embed import Encoder, encoder_key, resolve_model

__all__ = ["Encoder", "encoder_key", "resolve_model"]
