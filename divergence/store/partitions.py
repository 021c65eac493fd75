"""Document vectors of a shared store, indexed per time partition and rebuilt from the database.

Several processes write a PostgreSQL store, so no process can keep one index
file up to date. Each process instead holds one HNSW index per time partition
(a week of event days, plus one for undated documents), built from the
database the first time a search reaches that partition and rebuilt whenever
the database holds another number of documents there (documents are only
ever added). A search reaches the partitions of its day range and the
undated one; an undated probe reaches every partition.
"""

from __future__ import annotations

import numpy as np

from divergence.store.index import DocumentIndex, empty_index


class PartitionedIndex:
    def __init__(self, store, dimension: int):
        self.store = store
        self.dimension = dimension
        self._partitions: dict[int | None, DocumentIndex] = {}

    def __len__(self) -> int:
        self.refresh(None)
        return sum(len(index) for index in self._partitions.values())

    def refresh(self, days: tuple[int, int] | None) -> list[int | None]:
        """Rebuild every stale partition within ``days`` (all when None) from the database; returns the partitions in reach."""
        sizes = self.store.partition_sizes(days)
        for partition, size in sizes.items():
            held = self._partitions.get(partition)
            if held is None or len(held) != size:
                keys, vectors = self.store.document_vectors(partition, every=False)
                index = empty_index(self.dimension)
                if len(keys):
                    index.add(keys, vectors.astype(np.float32))
                self._partitions[partition] = DocumentIndex.wrap(index)
        return list(sizes)

    def add(self, rowid: int, vector: np.ndarray) -> None:
        """Nothing to do: the next search that reaches the document's partition sees it in the database."""

    def save(self) -> None:
        """Nothing to save: the database is the index's only source."""

    def search(self, vector: np.ndarray, k: int, floor: float | None = None, exact: bool = False,
               days: tuple[int, int] | None = None) -> list[tuple[int, float]]:
        """(sequence number, cosine similarity) of the ``k`` nearest documents within ``days`` (inclusive; None: anywhere).

        As :meth:`DocumentIndex.search`: when nothing reaches ``floor``, the search is repeated exactly.
        """
        # The partitions are refreshed once per search: counting them is a round trip to the database, most of a
        # search's time at 100k documents, and the exact repeat reads the same partitions.
        partitions = self.refresh(days)
        hits = self._search(partitions, vector, k, exact)
        if floor is not None and not exact and not any(similarity >= floor for _, similarity in hits):
            return self._search(partitions, vector, k, exact=True)
        return hits

    def _search(self, partitions: list[int | None], vector: np.ndarray, k: int, exact: bool) -> list[tuple[int, float]]:
        hits = []
        for partition in partitions:
            hits += self._partitions[partition].search(vector, k, exact=exact)
        hits.sort(key=lambda hit: (-hit[1], hit[0]))
        return hits[:k]
