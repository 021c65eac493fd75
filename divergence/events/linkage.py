"""How strongly a document belongs to a group of documents, one rule for batch clustering and the store.

The link between a document and an event is the *average* same-event
probability over the event's documents (average linkage). Batch clustering
cuts components with scikit-learn's average-linkage agglomerative
clustering; incremental assignment in the store scores a new document
against each candidate event with :func:`linkage_score`. Average linkage
does not chain: an undated article similar to two calls cannot merge them.
"""

from __future__ import annotations

from collections.abc import Iterable

LINKAGE = "average"
"""The scikit-learn ``AgglomerativeClustering`` linkage matching :func:`linkage_score`."""


def linkage_score(probabilities: Iterable[float]) -> float:
    """Average same-event probability between one document and the members of a group."""
    values = list(probabilities)
    return sum(values) / len(values) if values else 0.0


def group_indices(labels) -> list[list[int]]:
    """Indices of the items sharing each label, in order of first appearance."""
    groups: dict = {}
    for index, label in enumerate(labels):
        groups.setdefault(label.item() if hasattr(label, "item") else label, []).append(index)
    return list(groups.values())
