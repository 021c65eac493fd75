"""On-disk embedding cache keyed by model and text hash, so a re-run embeds nothing twice."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np


def through_cache(texts: list[str], cache, compute) -> list:
    """What ``compute`` gives for each of ``texts``, in order, computing only the texts ``cache`` lacks (each once)
    and storing them there; ``cache`` has ``get_many(keys) -> dict`` and ``put_many(dict)``."""
    keys = [text_key(text) for text in texts]
    found = cache.get_many(sorted(set(keys)))
    missing = sorted({key: text for key, text in zip(keys, texts, strict=True) if key not in found}.items())
    if missing:
        fresh = dict(zip((key for key, _ in missing), compute([text for _, text in missing]), strict=True))
        cache.put_many(fresh)
        found.update(fresh)
    return [found[key] for key in keys]


def text_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class EmbeddingCache:
    def __init__(self, path: Path, model_key: str):
        self.path = Path(path)
        self.model_key = model_key
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS embedding (model TEXT, key TEXT, vector BLOB, PRIMARY KEY (model, key))"
        )

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, vector FROM embedding WHERE model = ? AND key IN ({marks})", [self.model_key, *chunk]
            )
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def dimension(self) -> int | None:
        """The length of this model's cached vectors, None when none is cached yet."""
        row = self._db.execute("SELECT length(vector) FROM embedding WHERE model = ? LIMIT 1", [self.model_key]).fetchone()
        return row[0] // np.dtype(np.float32).itemsize if row else None

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embedding (model, key, vector) VALUES (?, ?, ?)",
                [(self.model_key, key, np.asarray(v, dtype=np.float32).tobytes()) for key, v in items.items()],
            )

    def close(self) -> None:
        self._db.close()
