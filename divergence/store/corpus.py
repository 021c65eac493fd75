"""A stored corpus: ingest articles into events, score a new article against what is stored, show an event.

Events grow one document at a time: a new document joins the stored event
whose documents it most probably reports (average same-event probability
over the event's documents, the linkage the batch clusterer uses), among
events reached through the ANN index and the time block; below
``cluster_threshold`` it starts a new event.
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
from divergence.errors import DivergenceError
from divergence.events.assemble import describe_signals, event_link
from divergence.events.copies import content_hash, is_copy
from divergence.events.linkage import linkage_score
from divergence.events.profile import Profile, build_profile
from divergence.events.same_event import pair_signals
from divergence.ingest.prepare import Input, prepare_inputs
from divergence.judge.event import event_dates, judge_event
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
class IngestResult:
    added: dict[str, str] = field(default_factory=dict)
    """Document id → event."""
    unchanged: dict[str, str] = field(default_factory=dict)
    """Document id → the stored document with the same text."""
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

    # --- ingest ----------------------------------------------------------------------

    def _add(self, document: Document, claims: list[Claim], vectors: np.ndarray, profile: Profile, assignment: Assignment) -> str:
        if self.store.has_document(document.id):
            # Another file with the same id but other text: keep both, the later one suffixed.
            document = document.model_copy(update={"id": f"{document.id}~{profile.content_hash[:8]}"})
            claims = [c.model_copy(update={"id": c.id.replace(c.document, document.id, 1), "document": document.id}) for c in claims]
            profile.id = document.id
        event = self.store.add(document, claims, vectors, profile.content_hash, assignment.event, assignment.probability,
                               assignment.reason, assignment.copy_of)
        self._profiles[document.id] = profile
        rowid = self.store.rowids_of([document.id])[document.id]
        self.index.add(rowid, profile.vector)
        return event

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
                with self._assigning(profile):  # a shared store: no other worker assigns in these days until it is written
                    existing = self.store.find_hash(profile.content_hash)
                    if existing is not None:
                        result.unchanged[document.id] = existing
                        continue
                    try:
                        result.added[document.id] = self._add(document, claims[document.id], vectors, profile, self.assign(profile))
                    except AlreadyStored as stored:  # another process stored the same text meanwhile
                        result.unchanged[document.id] = stored.existing
        finally:
            self.index.save()
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
        return Report(model=self.settings.model, documents=[DocumentSummary.of(s.document, len(s.claims)) for s in stored],
                      events=[event_model], problems=self.runtime.warnings(same_event=False))

    # --- scoring ------------------------------------------------------------------------

    def score(self, source: Input, add: bool = True) -> ScoreReport:
        """Which event the article belongs to, what it omits, adds and contradicts, and how divergent it is."""
        prepared, claims, problems = prepare_inputs([source], self.settings, None)
        if not prepared:
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
                report.event_id = self._add(document, doc_claims, vectors, profile, assignment)
                report.added = True
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
