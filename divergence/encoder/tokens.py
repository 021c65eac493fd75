"""The encoder's contextual token states, for token-level alignment of a claim with its evidence.

Sentence vectors say whether two sentences are about the same thing; token states say which words of one have a
counterpart in the other (BERTScore/SimAlign-style, across languages too). They come from the same model as the sentence vectors, read at its last layer (sentence-transformers'
``output_value="token_embeddings"``, or the int8 ONNX build's second output), without the prompt and the special
tokens, and are kept on disk (float16, keyed by model, backend and text hash) like the sentence vectors, so a warm
run loads no model. A runtime reading vectors computed elsewhere (:mod:`divergence.engines.precomputed`) reads token states
computed there too (:class:`TokenTable`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from divergence.encoder.cache import through_cache

TokenStates = tuple[np.ndarray, np.ndarray]
"""(piece ids, unit-length states): one row per piece of the text, prompt and special tokens left out."""


class TokenStateCache:
    """Token states keyed by model and text hash, stored as float16 (about 0.8 KB per piece)."""

    def __init__(self, path: Path, model_key: str):
        self.model_key = model_key
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS tokens (model TEXT, key TEXT, ids BLOB, states BLOB, PRIMARY KEY (model, key))")

    def get_many(self, keys: list[str]) -> dict[str, TokenStates]:
        found: dict[str, TokenStates] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = self._db.execute(
                f"SELECT key, ids, states FROM tokens WHERE model = ? AND key IN ({','.join('?' * len(chunk))})", [self.model_key, *chunk]
            )
            for key, ids, states in rows:
                found[key] = from_bytes(ids, states)
        return found

    def put_many(self, items: dict[str, TokenStates]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO tokens (model, key, ids, states) VALUES (?, ?, ?, ?)",
                                 [(self.model_key, key, *to_bytes(states)) for key, states in items.items()])


def to_bytes(states: TokenStates) -> tuple[bytes, bytes]:
    """(int32 ids, float16 states) as bytes: how token states are stored and shipped to other processes."""
    ids, vectors = states
    return ids.astype(np.int32).tobytes(), vectors.astype(np.float16).tobytes()


def from_bytes(ids: bytes, states: bytes) -> TokenStates:
    piece_ids = np.frombuffer(ids, dtype=np.int32)
    return piece_ids, np.frombuffer(states, dtype=np.float16).reshape(len(piece_ids), -1).astype(np.float32)


def _token_states(model, texts: list[str], prefix: str, batch_size: int) -> list[TokenStates]:
    """Unit-length last-layer states of each text's own pieces (the prompt's pieces, [CLS] and [SEP] left out)."""
    tokenizer = model.tokenizer
    skip = 1 + len(tokenizer(prefix, add_special_tokens=False)["input_ids"]) if prefix else 1
    states = model.encode(texts, prompt=prefix, batch_size=batch_size, output_value="token_embeddings",
                          convert_to_numpy=False, show_progress_bar=False)
    ids = tokenizer([prefix + t for t in texts], add_special_tokens=True, truncation=True, max_length=model.get_max_seq_length())["input_ids"]
    out = []
    for piece_ids, state in zip(ids, states, strict=True):
        own = state.float().cpu().numpy()[skip:-1]
        piece_ids = np.asarray(piece_ids[skip : skip + len(own)], dtype=np.int32)
        own = own[: len(piece_ids)]
        out.append((piece_ids, (own / np.maximum(np.linalg.norm(own, axis=1, keepdims=True), 1e-9)).astype(np.float32)))
    return out


class TokenEncoder:
    """Token states from the sentence encoder's own model (loaded on first need, shared with it), cached."""

    def __init__(self, encoder, prefix: str, batch_size: int, cache: TokenStateCache | None):
        self.encoder = encoder
        self.prefix = prefix
        self.batch_size = batch_size
        self.cache = cache

    def encode_uncached(self, texts: list[str]) -> list[TokenStates]:
        if not texts:
            return []
        if self.encoder.backend == "onnx-int8":
            return self.encoder.with_fast_model(lambda fast: fast.token_states(texts, self.prefix))
        return self.encoder.with_torch_model(lambda model: _token_states(model, texts, self.prefix, self.batch_size))

    def encode(self, texts: list[str]) -> list[TokenStates]:
        """Token states of ``texts`` in order; only texts not in the cache go through the model."""
        if self.cache is None:
            return self.encode_uncached(texts)
        return through_cache(texts, self.cache, self.encode_uncached)


class TokenTable:
    """Token states computed elsewhere (by the encoder actors of a cluster), served as :class:`TokenEncoder` serves them."""

    def __init__(self, table: dict[str, TokenStates]):
        self.table = table

    def encode(self, texts: list[str]) -> list[TokenStates]:
        missing = [t for t in texts if t not in self.table]
        if missing:
            from divergence.errors import ModelError

            raise ModelError(f"{len(missing)} text(s) have no token states from the engine, e.g. {missing[0][:60]!r}")
        return [self.table[t] for t in texts]


def token_encoder_for(settings, encoder) -> TokenEncoder | None:
    """The token-state source beside ``encoder``: its own model (float32 or the int8 build), with a cache beside its
    embedding cache (whose key names the backend and build, so float32 and int8 states never mix).

    None where there are no token states to read: an encoder that is not a local model (vectors computed elsewhere,
    unless their token states came with them: :class:`TokenTable`).
    """
    from divergence.encoder.embed import Encoder

    if not isinstance(encoder, Encoder) or encoder.backend not in ("torch", "onnx-int8"):
        return None
    cache = None
    if encoder.cache is not None:
        cache = TokenStateCache(Path(settings.cache_dir) / "token_states.sqlite", encoder.cache.model_key)
    return TokenEncoder(encoder, settings.query_prefix, settings.batch_size, cache)
