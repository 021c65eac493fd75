"""Approximate nearest-neighbour search over document vectors, persisted next to the store.

usearch (HNSW, maintained, one small wheel with no system dependencies)
keeps vectors as float16 and saves to one file that can be memory-mapped;
faiss-cpu is heavier for the same HNSW, and sqlite-vec's vec0 scan is exact
(linear in the corpus). The index is derived data: it lives in
``<store>.usearch`` and is rebuilt from the store whenever it is missing or
does not hold exactly the store's documents (after a crash, for instance).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import numpy as np

from divergence.store.sqlite import Store


def empty_index(dimension: int):
    from usearch.index import Index

    return Index(ndim=dimension, metric="cos", dtype="f16", connectivity=16, expansion_add=64, expansion_search=64)


class DocumentIndex:
    def __init__(self, store: Store, dimension: int):
        self.store = store
        self.path = Path(str(store.path) + ".usearch")
        self.dimension = dimension
        self._index = empty_index(dimension)
        rowids, vectors = store.document_vectors()
        fresh = False
        if self.path.is_file():
            try:
                self._index.load(str(self.path))
                fresh = len(self._index) == len(rowids) and (not len(rowids) or bool(self._index.contains(int(rowids[-1]))))
            except Exception:  # noqa: BLE001 - a damaged index file is rebuilt, never trusted
                fresh = False
        if not fresh:
            if self.path.is_file():
                logging.getLogger("divergence").info("rebuilding the stale index %s", self.path)
            self._index = empty_index(dimension)
            if len(rowids):
                self._index.add(rowids, vectors.astype(np.float32))
            self.save()

    @classmethod
    def wrap(cls, index) -> DocumentIndex:
        """An index held in memory only (no file, no store) over a built usearch ``index``: one time partition of a shared store."""
        wrapped = cls.__new__(cls)
        wrapped.store, wrapped.path, wrapped.dimension, wrapped._index = None, None, index.ndim, index
        return wrapped

    def __len__(self) -> int:
        return len(self._index)

    def add(self, rowid: int, vector: np.ndarray) -> None:
        self._index.add(np.array([rowid], dtype=np.uint64), vector.reshape(1, -1).astype(np.float32))

    def save(self) -> None:
        """Write the index beside the store; not on a read-only store, and a failure only costs a rebuild next time."""
        if self.store.read_only:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self._index.save(str(tmp))
            tmp.replace(self.path)
        except (OSError, RuntimeError) as error:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            logging.getLogger("divergence").warning("could not save the index %s (%s); it is rebuilt on the next run", self.path, error)

    def search(self, vector: np.ndarray, k: int, floor: float | None = None, exact: bool = False,
               days: tuple[int, int] | None = None) -> list[tuple[int, float]]:
        """(rowid, cosine similarity) of the ``k`` nearest documents (of any day: one file holds them all, ``days`` is for
        the partitioned index of a shared store).

        HNSW can miss a small, distant group of documents (a new story among thousands of others) when
        the greedy walk stays in a denser region; when nothing reaches ``floor``, the search is repeated
        exactly (a SIMD scan of the float16 vectors), so a miss costs time, never a wrong "new event".
        """
        if not len(self._index):
            return []
        count = min(k, len(self._index))
        matches = self._index.search(vector.astype(np.float32), count, exact=exact)
        hits = [(int(key), 1.0 - float(distance)) for key, distance in zip(matches.keys, matches.distances, strict=True)]
        if floor is not None and not exact and not any(similarity >= floor for _, similarity in hits):
            return self.search(vector, k, floor, exact=True)
        return hits
