"""A stored corpus: ingest articles into events, score a new article against what is stored, show an event.

Events grow one document at a time: a new document joins the stored event
whose documents it most probably reports (average same-event probability
over the event's documents, the linkage the batch clusterer uses), among
events reached through the ANN index and the time block; below
``cluster_threshold`` it starts a new event.

Then the events it reached are re-examined: their documents and the new one
are clustered again as a batch (:class:`EventClusterer`, the rule ``analyze``
uses), so a document that links two events merges them, and a document that
a newcomer now fits better moves. All of it is one transaction, under the
store's assignment locks. Event ids are :func:`event_id_for` their
documents, as in ``analyze``, so the store and ``analyze`` name the same
event alike whatever the arrival order; an event whose documents do not
change keeps its id. ``recluster`` regroups a time window the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from divergence.config import Settings, load_settings
from divergence.datamodel import (
    Claim,
    ClaimReport,
    Document,
    DocumentSummary,
    Event,
    EventLink,
    Problem,
    Report,
    ScoreReport,
    Status,
)
from divergence.errors import DivergenceError, RefusedInput
from divergence.events.assemble import describe_signals, event_id_for, event_link
from divergence.events.cluster import EventClusterer
from divergence.events.copies import content_hash, is_copy
from divergence.events.linkage import group_indices, linkage_score
from divergence.events.profile import Profile, build_profile
from divergence.events.same_event import days_apart, pair_signals
from divergence.ingest.load import suffixed_id
from divergence.ingest.prepare import Input, prepare_inputs
from divergence.judge.event import event_dates, judge_event
from divergence.report.provenance import provenance_of
from divergence.runtime import Runtime, runtime_for
from divergence.store import assigning, open_index, open_store
from divergence.store.sqlite import AlreadyStored

MAX_EVENT_DOCUMENTS_SCORED = 30
"""Average linkage is computed against at most this many documents of a candidate event."""

# Divergence weights: how far each status is from "says the same".
DIVERGENCE_WEIGHTS = {Status.supported: 0.0, Status.partial: 0.25, Status.absent: 0.5, Status.contradicted: 1.0}
DIVERGENCE_DEFINITION = (
    "mean over every judgement between the article and the other sources of its event, in both directions "
    "(each article claim against each source, each source claim against the article), of supported 0, "
    "partial 0.25, absent 0.5, contradicted 1; 0 = says what the others say, 1 = contradicts everything; "
    "null when the event has no other source"
)


@dataclass
class Assignment:
    event: str | None
    probability: float | None
    reason: str
    link: EventLink | None = None
    copy_of: str | None = None
    candidates: dict[str, float] = field(default_factory=dict)
    """Candidate event → average same-event probability."""


@dataclass
class Regrouping:
    """What re-examining a set of stored documents changed."""

    kept: list[str] = field(default_factory=list)
    """Events whose documents did not change (same id)."""
    changed: dict[str, list[str]] = field(default_factory=dict)
    """New or regrouped event id → the previous events its documents came from."""
    removed: list[str] = field(default_factory=list)
    """Previous events that no longer exist (merged, split or renamed)."""
    documents: int = 0


@dataclass
class IngestResult:
    added: dict[str, str] = field(default_factory=dict)
    """Document id → event."""
    unchanged: dict[str, str] = field(default_factory=dict)
    """Document id → the stored document with the same text."""
    renamed: dict[str, str] = field(default_factory=dict)
    """Document id → the id it was stored under, when the store already held that id with other text."""
    problems: list[Problem] = field(default_factory=list)


class Corpus:
    """A store plus the models that read it; one per process (the HTTP server keeps one)."""

    def __init__(self, path: str | Path, settings: Settings | None = None, *, runtime: Runtime | None = None, read_only: bool = False):
        self.runtime = runtime or runtime_for(settings or load_settings())
        self.settings = self.runtime.settings
        self.store = open_store(path, self.settings.model, read_only=read_only)
        self.store.check_model()
        self.index = open_index(self.store, self.runtime.encoder.dimension)
        self.same_event = self.runtime.same_event
        self._profiles: dict[str, Profile] = {}

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Corpus:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- profiles ----------------------------------------------------------------

    def _embed(self, claims: list[Claim]) -> np.ndarray:
        return self.runtime.embed([c.text for c in claims])

    def _stored_profile(self, doc_id: str) -> Profile:
        if doc_id not in self._profiles:
            stored = self.store.load([doc_id])[0]
            self._profiles[doc_id] = build_profile(stored.document, stored.claims, stored.vectors)
        return self._profiles[doc_id]

    # --- event assignment ----------------------------------------------------------

    def candidates(self, profile: Profile) -> list[tuple[str, float]]:
        """Stored documents near ``profile`` (ANN), within the time block: (document id, similarity)."""
        settings = self.settings
        found = self.index.search(profile.vector, settings.candidate_neighbours * 2, floor=settings.exact_search_below,
                                  days=self._reach(profile))
        hits = [(r, s) for r, s in found if s >= settings.candidate_min_similarity]
        days = self.store.event_days(r for r, _ in hits)
        ids = self.store.ids_for_rowids(r for r, _ in hits)
        near = []
        for rowid, similarity in hits:
            day = days.get(rowid)
            if profile.day is not None and day is not None and abs(profile.day - day) > settings.time_block_days + profile.window_days:
                continue
            if rowid in ids:
                near.append((ids[rowid], similarity))
        return near[: settings.candidate_neighbours]

    def _reach(self, profile: Profile) -> tuple[int, int] | None:
        """Event days a document can share an event with (None: any, for an undated document)."""
        if profile.day is None:
            return None
        reach = self.settings.time_block_days + profile.window_days
        return profile.day - reach, profile.day + reach

    def _assigning(self, profile: Profile):
        return assigning(self.store, profile.day, self.settings.time_block_days + profile.window_days)

    def assign(self, profile: Profile) -> Assignment:
        near = self.candidates(profile)
        for doc_id, _ in near:
            other = self._stored_profile(doc_id)
            if is_copy(profile.fingerprint, other.fingerprint, self.settings.near_duplicate_threshold):
                signals = pair_signals(profile, other, self.settings.supported_threshold)
                event = self.store.event_of(doc_id)
                return Assignment(event, 1.0, f"copy of {doc_id}: " + describe_signals(signals, copy=True),
                                  event_link(profile.id, doc_id, 1.0, signals, copy=True), copy_of=doc_id, candidates={event: 1.0})
        events = list(dict.fromkeys(self.store.event_of(doc_id) for doc_id, _ in near))
        best: tuple[float, str, EventLink] | None = None
        scores = {}
        for event in events:
            members = self.store.event_documents(event)[:MAX_EVENT_DOCUMENTS_SCORED]
            if not members:  # regrouped by another writer since its document was found (a read-only score takes no lock)
                continue
            links = []
            for member in members:
                signals = pair_signals(profile, self._stored_profile(member), self.settings.supported_threshold)
                links.append((self.same_event.probability(signals), member, signals))
            average = linkage_score(p for p, _, _ in links)
            scores[event] = round(average, 4)
            strongest = max(links, key=lambda item: item[0])
            tie = event_link(profile.id, strongest[1], strongest[0], strongest[2])
            if best is None or average > best[0]:
                best = (average, event, tie)
        if best is not None and best[0] >= self.settings.cluster_threshold:
            return Assignment(best[1], round(best[0], 4), f"same event (average probability {best[0]:.2f}); closest: {best[2].reason}",
                              best[2], candidates=scores)
        detail = f"best candidate {best[1]} at {best[0]:.2f} < {self.settings.cluster_threshold:.2f}" if best else "no stored document is near it in time and content"
        return Assignment(None, round(best[0], 4) if best else None, f"new event: {detail}", best[2] if best else None, candidates=scores)

    # --- regrouping -------------------------------------------------------------------

    def _free_event_id(self, ids: list[str], own: set[str]) -> str:
        """:func:`event_id_for` the documents; in the rare case another stored event holds that id (ids are 32-bit
        hashes), the same hash with a counter, so two events never share an id."""
        event, attempt = event_id_for(ids), 1
        while event not in own and self.store.event_labels([event]):
            attempt += 1
            event = event_id_for([*ids, f"#{attempt}"])
        return event

    def regroup(self, doc_ids: Iterable[str], joined: frozenset[str] = frozenset()) -> Regrouping:
        """Cluster the events holding ``doc_ids`` again as one batch and store the result in one transaction.

        Every document of a touched event takes part, so an event is never cut by the edge of the window.
        Changed groups are named :func:`event_id_for` their documents; an event with the same documents keeps
        its id (``joined``: documents just written into their event, whose membership is therefore new).
        Documents that join other company record their strongest tie in it; the others keep theirs.
        """
        touched = sorted(set(self.store.events_of(doc_ids).values()))
        members = list(dict.fromkeys(d for event in touched for d in self.store.event_documents(event)))
        current = self.store.events_of(members)
        result = Regrouping(documents=len(members))
        if not members:
            return result
        profiles = [self._stored_profile(d) for d in members]
        clusterer = EventClusterer.from_settings(self.settings, self.same_event).fit(profiles)
        sizes = {event: sum(1 for d in members if current[d] == event) for event in touched}
        arrival = self.store.rowids_of(members)
        old_labels = self.store.event_labels(touched)
        groups, labels, links = {}, {}, {}
        for indices in group_indices(clusterer.labels_):
            ids = [members[i] for i in indices]
            sources = list(dict.fromkeys(current[d] for d in ids))
            if len(sources) == 1 and sizes[sources[0]] == len(ids) and not joined.intersection(ids):
                result.kept.append(sources[0])
                continue
            event = self._free_event_id(ids, own=set(touched))
            groups[event] = ids
            result.changed[event] = sources
            # The company a group keeps is its largest source event (on a tie, the one stored first).
            biggest = max(sources, key=lambda source: (sum(current[d] == source for d in ids),
                                                       -min(arrival[d] for d in ids if current[d] == source)))
            labels[event] = old_labels.get(biggest) or self._stored_profile(ids[0]).label
            for i in indices:
                if current[members[i]] == biggest:
                    continue  # keeps its company: only the event's id changes
                ties = [clusterer.links_.get((min(i, j), max(i, j))) for j in indices if j != i]
                ties = [t for t in ties if t is not None]
                if ties:
                    best = max(ties, key=lambda t: t.probability)
                    other = members[best.b if best.a == i else best.a]
                    links[members[i]] = (round(best.probability, 4), f"regrouped with {other}: {describe_signals(best.signals, best.copy)}")
                else:
                    links[members[i]] = (None, "regrouped: no other document of its events reports it")
        if groups:
            self.store.reassign_events(groups, labels, links)
        result.removed = sorted(set(touched) - set(result.kept) - set(groups))
        return result

    def recluster(self, since: int | None = None, until: int | None = None) -> Regrouping:
        """Batch clustering over the documents whose event day is in [since, until] (ordinal days; all when both are None).

        Documents without a full event date (undated, or a day without a year) take part when they are
        candidates of a document of the window, as batch clustering would have scored them. The store's
        assignment is held for every day meanwhile, so no document is assigned while events move.
        """
        with assigning(self.store, None, 0):
            window = self.store.documents_in_window(since, until)
            if since is None and until is None:
                return self.regroup(window)
            without_year = set()
            for doc_id in window:
                profile = self._stored_profile(doc_id)
                for other_id, _ in self.candidates(profile):
                    other = self._stored_profile(other_id)
                    if other.day is None:
                        gap, _ = days_apart(profile, other)
                        if gap is None or gap <= self.settings.time_block_days:
                            without_year.add(other_id)
            return self.regroup([*window, *sorted(without_year)])

    def _reexamine(self, doc_id: str, assignment: Assignment) -> str:
        """Regroup the new document with every event it reached; returns its event."""
        reached = [self.store.event_documents(event)[:1] for event in assignment.candidates if event is not None]
        self.regroup([doc_id, *(first for found in reached for first in found)], joined=frozenset([doc_id]))
        return self.store.event_of(doc_id)

    # --- ingest ----------------------------------------------------------------------

    def _add(self, document: Document, claims: list[Claim], vectors: np.ndarray, profile: Profile, assignment: Assignment) -> str:
        """Write the document into its assigned event (or a new one), then regroup what it reached; returns its stored id.

        Called inside the store's assignment scope; the caller adds the document to the index once that commits.
        """
        if self.store.has_document(document.id):
            # Another file with the same id but other text: keep both, the later one suffixed.
            document = document.model_copy(update={"id": suffixed_id(document)})
            claims = [c.model_copy(update={"id": c.id.replace(c.document, document.id, 1), "document": document.id}) for c in claims]
            profile.id = document.id
        event = assignment.event or self._free_event_id([document.id], own=set())
        self.store.add(document, claims, vectors, profile.content_hash, event, assignment.probability, assignment.reason,
                       assignment.copy_of)
        self._profiles[document.id] = profile
        self._reexamine(document.id, assignment)
        return document.id

    def _index(self, doc_id: str) -> None:
        """Add a committed document to the vector index (never before: a rolled-back row id may be used again)."""
        self.index.add(self.store.rowids_of([doc_id])[doc_id], self._profiles[doc_id].vector)

    def ingest(self, inputs: Iterable[Input], problems: list[Problem] | None = None) -> IngestResult:
        """Add documents one transaction at a time; documents already stored (same text) are left alone."""
        prepared, claims, all_problems = prepare_inputs(inputs, self.settings, problems)
        result = IngestResult(problems=all_problems)
        try:
            for document in prepared:
                existing = self.store.find_hash(content_hash(claims[document.id]))
                if existing is not None:
                    result.unchanged[document.id] = existing
                    continue
                vectors = self._embed(claims[document.id])
                profile = build_profile(document, claims[document.id], vectors)
                stored_id = None
                with self._assigning(profile):  # one transaction; a shared store: no other worker assigns in these days meanwhile
                    existing = self.store.find_hash(profile.content_hash)
                    if existing is not None:
                        result.unchanged[document.id] = existing
                        continue
                    try:
                        stored_id = self._add(document, claims[document.id], vectors, profile, self.assign(profile))
                    except AlreadyStored as stored:  # another process stored the same text meanwhile
                        result.unchanged[document.id] = stored.existing
                if stored_id is not None:
                    self._index(stored_id)
                    result.added[document.id] = stored_id
                    if stored_id != document.id:
                        result.renamed[document.id] = stored_id
        finally:
            self.index.save()
        # Later documents may have merged or moved earlier ones: report the event each one ended in.
        ended = self.store.events_of(result.added.values())
        result.added = {doc_id: ended[stored_id] for doc_id, stored_id in result.added.items()}
        return result

    # --- reading ----------------------------------------------------------------------

    def event_report(self, event: str) -> Report:
        """The stored event compared claim by claim, like ``divergence compare`` on its documents."""
        row = self.store.event_row(event)
        stored = self.store.load(row.documents)
        sources = [s for s in stored if s.copy_of is None]
        event_model = Event(id=event, documents=row.documents, label=row.label,
                            duplicates={s.document.id: s.copy_of for s in stored if s.copy_of})
        if len(sources) >= 2:
            judged = judge_event([s.document for s in sources], {s.document.id: s.claims for s in sources}, self.runtime, event,
                                 known_vectors={s.document.id: s.vectors for s in sources})
            event_model.claims = judged.claims
        event_model.date, event_model.date_end = event_dates([s.document for s in stored])
        return Report(model=self.settings.model, provenance=provenance_of(self.runtime),
                      documents=[DocumentSummary.of(s.document, len(s.claims)) for s in stored],
                      events=[event_model], problems=self.runtime.warnings(same_event=False))

    # --- scoring ------------------------------------------------------------------------

    def score(self, source: Input, add: bool = True) -> ScoreReport:
        """Which event the article belongs to, what it omits, adds and contradicts, and how divergent it is."""
        prepared, claims, problems = prepare_inputs([source], self.settings, None)
        if not prepared:
            if len(problems) == 1:
                raise RefusedInput(problems[0])
            message = "; ".join(f"{p.path}: [{p.code}] {p.message}" for p in problems) or "nothing to score"
            raise DivergenceError(message)
        document = prepared[0]
        doc_claims = claims[document.id]
        vectors = self._embed(doc_claims)
        profile = build_profile(document, doc_claims, vectors)
        with self._assigning(profile) if add else nullcontext():  # a shared store: assignment and write as one step
            existing = self.store.find_hash(profile.content_hash)
            if existing is not None:
                assignment = Assignment(self.store.event_of(existing), 1.0, f"already stored as {existing}", copy_of=existing)
            else:
                assignment = self.assign(profile)
            sources = []
            if assignment.event is not None:
                members = [s for s in self.store.load(self.store.event_documents(assignment.event)) if s.copy_of is None]
                sources = [s for s in members if s.document.id not in (document.id, assignment.copy_of)]
            report = self._judge_against(document, doc_claims, vectors, sources, assignment)
            report.problems = problems
            if add and existing is None:
                stored_id = self._add(document, doc_claims, vectors, profile, assignment)
                report.event_id = self.store.event_of(stored_id)
                report.added = True
        if report.added:
            self._index(stored_id)
        report.provenance = provenance_of(self.runtime)  # also for callers other than pipeline.score (the HTTP API)
        return report

    def _judge_against(self, document: Document, doc_claims: list[Claim], vectors: np.ndarray, sources: list, assignment: Assignment) -> ScoreReport:
        others = [s.document for s in sources]
        report = ScoreReport(
            model=self.settings.model,
            document=DocumentSummary.of(document, len(doc_claims)),
            event_id=assignment.event,
            new_event=assignment.event is None,
            assignment_reason=assignment.reason,
            assignment=assignment.link,
            candidates=assignment.candidates,
            copy_of=assignment.copy_of,
            sources=[d.id for d in others],
            divergence_definition=DIVERGENCE_DEFINITION,
        )
        if not sources:
            report.claims = [ClaimReport(**c.model_dump(), statuses={}) for c in doc_claims]
            report.unique = [c.id for c in doc_claims]
            return report
        all_claims = {document.id: doc_claims, **{s.document.id: s.claims for s in sources}}
        known = {document.id: vectors, **{s.document.id: s.vectors for s in sources}}
        judged = judge_event([document, *others], all_claims, self.runtime, assignment.event, known_vectors=known)
        mine = [c for c in judged.claims if c.document == document.id]
        theirs = [c for c in judged.claims if c.document != document.id]
        # Only the judgements that involve the article: its claims against each source, each source's claims against it.
        theirs = [c.model_copy(update={"statuses": {document.id: c.statuses[document.id]}}) for c in theirs]
        report.claims = mine
        report.omitted = [c for c in theirs if c.statuses[document.id].status is Status.absent]
        report.unique = [c.id for c in mine if all(j.status is Status.absent for j in c.statuses.values())]
        report.contradictions = [c for c in mine if any(j.status is Status.contradicted for j in c.statuses.values())]
        judgements = [j.status for c in mine for j in c.statuses.values()] + [c.statuses[document.id].status for c in theirs]
        report.divergence = round(sum(DIVERGENCE_WEIGHTS[s] for s in judgements) / len(judgements), 4) if judgements else None
        return report
