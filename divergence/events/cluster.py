"""Group document profiles into events.

1. Candidates: documents are blocked by event date (a document only meets
   those within ``time_block_days`` of it, year-less dates on a circular
   calendar) and, inside a block, only its ``candidate_neighbours`` most
   similar documents; undated documents search every document. Nothing is
   ever compared with everything, so the work grows with the number of
   documents times the block size, not with its square.
2. Each candidate pair gets a probability of reporting the same event from
   :class:`divergence.similarity.SameEventModel`.
3. Pairs above ``cluster_threshold`` form a graph; inside each connected
   component, scikit-learn's average-linkage agglomerative clustering cuts
   at the same threshold. Average linkage does not chain: one undated
   article similar to two calls cannot merge the calls.
4. Copies (same text, or word 5-grams overlapping above
   ``near_duplicate_threshold``) are always grouped and reported as copies.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from divergence.config import Settings
from divergence.events.copies import is_copy
from divergence.events.linkage import LINKAGE, group_indices
from divergence.events.profile import Profile
from divergence.events.same_event import PairSignals, SameEventModel, day_of_year, days_apart, month_day, pair_signals

# Past this size a component is clustered on its candidate pairs only
# (missing pairs count as "different event") to bound memory.
DENSE_COMPONENT_LIMIT = 400
_CHUNK = 1024


@dataclass
class Link:
    a: int
    b: int
    probability: float
    signals: PairSignals
    copy: bool = False
    """Same text, or word 5-grams shared above the near-duplicate threshold."""


@dataclass
class EventClusterer:
    """Cluster profiles into events (fit/labels_, like a scikit-learn estimator)."""

    model: SameEventModel
    threshold: float = 0.5
    neighbours: int = 20
    time_block_days: int = 7
    min_similarity: float = 0.2
    near_duplicate_threshold: float = 0.8
    claim_match_threshold: float = 0.6
    signals_cache: dict[tuple[str, str], PairSignals] | None = field(default=None, repr=False)
    """Pair signals by document ids, kept across fits: model selection clusters one set with many models."""

    labels_: np.ndarray = field(init=False, repr=False)
    links_: dict[tuple[int, int], Link] = field(init=False, repr=False)
    duplicates_: dict[int, int] = field(init=False, repr=False)
    candidate_pairs_: int = field(init=False, default=0)

    @classmethod
    def from_settings(cls, settings: Settings, model: SameEventModel) -> EventClusterer:
        return cls(
            model=model,
            threshold=settings.cluster_threshold,
            neighbours=settings.candidate_neighbours,
            time_block_days=settings.time_block_days,
            min_similarity=settings.candidate_min_similarity,
            near_duplicate_threshold=settings.near_duplicate_threshold,
            claim_match_threshold=settings.supported_threshold,
        )

    # --- candidates ---------------------------------------------------------
    def candidate_pairs(self, profiles: list[Profile]) -> dict[tuple[int, int], float]:
        """(i, j) with i < j → cosine of their document vectors."""
        if not profiles:
            return {}
        vectors = np.stack([p.vector for p in profiles]).astype(np.float32)
        pairs: dict[tuple[int, int], float] = {}

        def keep(rows: np.ndarray, columns: np.ndarray) -> None:
            if not len(rows) or not len(columns):
                return
            for start in range(0, len(rows), _CHUNK):
                block = rows[start : start + _CHUNK]
                similarity = vectors[block] @ vectors[columns].T
                k = min(self.neighbours + 1, len(columns))
                top = np.argpartition(-similarity, k - 1, axis=1)[:, :k] if k < len(columns) else np.tile(np.arange(len(columns)), (len(block), 1))
                for r, i in enumerate(block):
                    for c in top[r]:
                        j = int(columns[c])
                        s = float(similarity[r, c])
                        if i != j and s >= self.min_similarity:
                            pairs[(min(i, j), max(i, j))] = s

        by_year = [i for i, p in enumerate(profiles) if p.day is not None]
        yearless = [i for i, p in enumerate(profiles) if p.day is None and p.month_day is not None]
        undated = [i for i, p in enumerate(profiles) if p.day is None and p.month_day is None]

        # Dated with a year: a sliding window over the ordinal days.
        if by_year:
            order = np.array(sorted(by_year, key=lambda i: profiles[i].day))
            days = np.array([profiles[i].day for i in order])
            reach = self.time_block_days + max(profiles[i].window_days for i in by_year)
            for day in np.unique(days):
                lo, hi = np.searchsorted(days, day - reach, "left"), np.searchsorted(days, day + reach, "right")
                keep(order[days == day], order[lo:hi])
        # Without a year: every dated document on a circular calendar.
        if yearless:
            dated = np.array(by_year + yearless, dtype=int)
            doy = np.array([_day_of_year(profiles[i]) for i in dated])
            for i in yearless:
                d = _day_of_year(profiles[i])
                gap = np.abs(doy - d)
                gap = np.minimum(gap, 366 - gap)
                near = dated[gap <= self.time_block_days + 7 + profiles[i].window_days]
                keep(np.array([i]), near)
        # Undated: nearest neighbours among all documents.
        if undated:
            keep(np.array(undated), np.arange(len(profiles)))
        self.candidate_pairs_ = len(pairs)
        return pairs

    # --- fitting --------------------------------------------------------------
    def _link(self, profiles: list[Profile], i: int, j: int, similarity: float | None = None) -> Link:
        key = (profiles[i].id, profiles[j].id)
        signals = self.signals_cache.get(key) if self.signals_cache is not None else None
        if signals is None:
            signals = pair_signals(profiles[i], profiles[j], self.claim_match_threshold, similarity)
            if self.signals_cache is not None:
                self.signals_cache[key] = signals
        if is_copy(profiles[i].fingerprint, profiles[j].fingerprint, self.near_duplicate_threshold):
            return Link(i, j, 1.0, signals, copy=True)
        return Link(i, j, self.model.probability(signals), signals)

    def fit(self, profiles: list[Profile]) -> EventClusterer:
        n = len(profiles)
        links: dict[tuple[int, int], Link] = {}
        for (i, j), similarity in self.candidate_pairs(profiles).items():
            links[(i, j)] = self._link(profiles, i, j, similarity)
        # Exact copies meet even when their dates could not be read.
        by_hash: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(profiles):
            by_hash[p.content_hash].append(i)
        for group in by_hash.values():
            for j in group[1:]:
                links[(group[0], j)] = self._link(profiles, group[0], j)

        strong = [(i, j) for (i, j), link in links.items() if link.probability >= self.threshold]
        labels = np.full(n, -1, dtype=int)
        if n:
            graph = coo_matrix((np.ones(len(strong)), ([i for i, _ in strong], [j for _, j in strong])), shape=(n, n))
            _, component = connected_components(graph, directed=False)
            next_label = 0
            for members in group_indices(component):
                if len(members) == 1:
                    labels[members[0]] = next_label
                    next_label += 1
                    continue
                for sub in self._cut(profiles, members, links):
                    labels[sub] = next_label
                    next_label += 1
        self.labels_ = labels
        self.links_ = links
        self.duplicates_ = self._duplicates(profiles, labels, links)
        return self

    def _cut(self, profiles: list[Profile], members: list[int], links: dict[tuple[int, int], Link]) -> list[list[int]]:
        size = len(members)
        probability = np.zeros((size, size))
        for a in range(size):
            for b in range(a + 1, size):
                i, j = members[a], members[b]
                link = links.get((min(i, j), max(i, j)))
                if link is None and size <= DENSE_COMPONENT_LIMIT and self._within_block(profiles[i], profiles[j]):
                    link = links[(min(i, j), max(i, j))] = self._link(profiles, min(i, j), max(i, j))
                probability[a, b] = probability[b, a] = link.probability if link else 0.0
        np.fill_diagonal(probability, 1.0)
        if size == 2:
            return [members] if probability[0, 1] >= self.threshold else [[m] for m in members]
        from sklearn.cluster import AgglomerativeClustering  # here: importing scikit-learn costs a second at every start

        clustering = AgglomerativeClustering(
            n_clusters=None, metric="precomputed", linkage=LINKAGE, distance_threshold=1.0 - self.threshold + 1e-9
        ).fit(1.0 - probability)
        groups: dict[int, list[int]] = defaultdict(list)
        for member, label in zip(members, clustering.labels_, strict=False):
            groups[int(label)].append(member)
        return list(groups.values())

    def _within_block(self, a: Profile, b: Profile) -> bool:
        """Whether two documents could have been candidates by their dates. An undated analysis linked to two calls
        between the same leaders 66 days apart must not make those calls one event: dated documents further apart
        than ``time_block_days`` are different events inside a component too, as they are when candidates are made."""
        days, _ = days_apart(a, b)
        return days is None or days <= self.time_block_days

    def _duplicates(self, profiles: list[Profile], labels: np.ndarray, links: dict[tuple[int, int], Link]) -> dict[int, int]:
        """Copy → the document it republishes (the longest text of its group of copies), within one event."""
        parent = {}

        def root(i: int) -> int:
            while parent.get(i, i) != i:
                i = parent[i]
            return i

        for (i, j), link in links.items():
            if link.copy and labels[i] == labels[j]:
                parent[root(j)] = root(i)
        groups: dict[int, list[int]] = defaultdict(list)
        for i in list(parent):
            groups[root(i)].append(i)
        copies = {}
        for root_index, members in groups.items():
            members = sorted(set(members) | {root_index})
            original = max(members, key=lambda m: (len(profiles[m].shingles), -m))
            copies.update({m: original for m in members if m != original})
        return copies

def _day_of_year(profile: Profile) -> int:
    return day_of_year(*month_day(profile))

