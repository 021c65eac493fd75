"""The one Python API behind the CLI and the HTTP server.

Each function composes the stages, data flowing one way: ingest (load,
clean, describe, segment) → embed → events (profile, cluster) → judge
(align, features, classifier) → a :class:`~divergence.datamodel.Report`.
Every function takes an optional :class:`~divergence.runtime.Runtime`
(encoder and fitted models, built once); without one, the runtime for the
settings is used.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from divergence.config import Settings, load_settings
from divergence.datamodel import Claim, Document, DocumentSummary, Event, Problem, Report
from divergence.errors import NotEnoughDocuments
from divergence.events.assemble import assemble_events, undated_warnings
from divergence.events.cluster import EventClusterer
from divergence.events.copies import find_copies, fingerprint
from divergence.events.mixed import discount_conflicts, event_groups, mixed_event_warnings
from divergence.events.profile import Profile, build_profile
from divergence.ingest.prepare import Input, prepare_inputs
from divergence.judge.event import judge_event
from divergence.judge.parts import judged_texts
from divergence.report.provenance import provenance_of
from divergence.runtime import Runtime, runtime_for

__all__ = ["Input", "analyze", "cluster", "compare", "profile_documents", "score"]

progress = logging.getLogger("divergence.progress")
"""Stage messages (INFO) for the CLI's progress display; silent unless a handler is attached."""
progress.propagate = False


def _runtime(settings: Settings | None, runtime: Runtime | None, overrides: dict) -> Runtime:
    if runtime is not None:
        return runtime
    return runtime_for(settings or load_settings(**overrides))


def compare(
    inputs: Iterable[Input],
    settings: Settings | None = None,
    *,
    problems: list[Problem] | None = None,
    runtime: Runtime | None = None,
    **overrides,
) -> Report:
    """Compare documents about one event, claim by claim.

    ``inputs`` are paths (files or folders, ``-`` for stdin), ``(id, text)``
    pairs, or Document objects. Unreadable inputs are reported in
    ``Report.problems`` and skipped; fewer than two usable documents raise
    NotEnoughDocuments. Copies of one text are compared once.
    """
    runtime = _runtime(settings, runtime, overrides)
    prepared, claims, all_problems = prepare_inputs(inputs, runtime.settings, problems)
    if len(prepared) < 2:
        found = ", ".join(d.id for d in prepared) or "none"
        raise NotEnoughDocuments(f"compare needs at least two usable documents (usable: {found})", problems=all_problems)
    copies = find_copies([d.id for d in prepared], [fingerprint(claims[d.id]) for d in prepared], runtime.settings.near_duplicate_threshold)
    sources = [d for d in prepared if d.id not in copies]
    if len(sources) < 2:
        raise NotEnoughDocuments(f"compare needs two different documents; {', '.join(copies)} copy {sources[0].id}")
    progress.info("judging %d claims of %d documents", sum(len(claims[d.id]) for d in sources), len(sources))
    # Claims are embedded once: for the same-event check (W203) and as the judge's claim vectors.
    profiles = profile_documents(prepared, claims, runtime)
    _prefetch_evidence(sources, claims, runtime)
    event = judge_event(sources, claims, runtime, known_vectors={p.id: p.claim_vectors for p in profiles})
    # Are these one event? The same-event model says which documents look like another one (W203).
    clusterer = EventClusterer.from_settings(runtime.settings, runtime.same_event)
    groups = event_groups(profiles, clusterer)
    mixed = mixed_event_warnings(prepared, profiles, groups, clusterer)
    event = discount_conflicts(event, groups)
    event.documents = [d.id for d in prepared]
    event.duplicates = copies
    return Report(
        model=runtime.settings.model,
        provenance=provenance_of(runtime),
        documents=[DocumentSummary.of(d, len(claims[d.id])) for d in prepared],
        events=[event],
        problems=all_problems + mixed + runtime.warnings(),
    )


def cluster(
    inputs: Iterable[Input],
    settings: Settings | None = None,
    *,
    problems: list[Problem] | None = None,
    runtime: Runtime | None = None,
    **overrides,
) -> Report:
    """Group documents into events; the report lists each event's documents and why they belong together."""
    return _cluster_inputs(inputs, _runtime(settings, runtime, overrides), problems)[0]


def analyze(
    inputs: Iterable[Input],
    settings: Settings | None = None,
    *,
    problems: list[Problem] | None = None,
    runtime: Runtime | None = None,
    engine=None,
    **overrides,
) -> Report:
    """Cluster documents into events, then compare every event with two or more sources claim by claim.

    ``engine`` (see :mod:`divergence.engines`) embeds and judges elsewhere, e.g. on a Ray cluster; the report is the same.
    """
    runtime = _runtime(settings, runtime, overrides)
    if engine is not None:
        inputs, problems, runtime = engine.prepare(inputs, problems, runtime)
    report, prepared, claims, profiles = _cluster_inputs(inputs, runtime, problems)
    by_id = {d.id: d for d in prepared}
    vectors = {p.id: p.claim_vectors for p in profiles}
    jobs = {event.id: [by_id[i] for i in event.documents if i not in event.duplicates] for event in report.events}
    jobs = {event_id: sources for event_id, sources in jobs.items() if len(sources) >= 2}
    judged = (engine.judge_events if engine is not None else _judge_events)(jobs, claims, runtime, vectors)
    compared = [event.model_copy(update={"claims": judged[event.id].claims}) if event.id in judged else event for event in report.events]
    warnings = [w for w in runtime.warnings(same_event=False) if w not in report.problems]
    return report.model_copy(update={"events": compared, "problems": report.problems + warnings})


def _judge_events(jobs: dict[str, list[Document]], claims: dict[str, list[Claim]], runtime: Runtime,
                  vectors: dict) -> dict[str, Event]:
    """Event id → the event's sources judged claim by claim (the local engine: one event after another)."""
    _prefetch_evidence([d for sources in jobs.values() for d in sources], claims, runtime)
    judged = {}
    for event_id, sources in jobs.items():
        progress.info("judging event %s (%d documents)", event_id, len(sources))
        judged[event_id] = judge_event(sources, claims, runtime, event_id, known_vectors=vectors)
    return judged


def _prefetch_evidence(documents: Sequence[Document], claims: dict[str, list[Claim]], runtime: Runtime) -> None:
    """The joined evidence units (and atom statements) the judge will read, embedded in one batch (the claims are embedded already)."""
    runtime.prefetch(text for d in documents for text in judged_texts(d, claims[d.id], runtime.settings))


def _cluster_inputs(
    inputs: Iterable[Input], runtime: Runtime, problems: list[Problem] | None
) -> tuple[Report, list[Document], dict[str, list[Claim]], list[Profile]]:
    """Load, prepare and cluster; the report has its events (without claims) and every problem."""
    prepared, claims, all_problems = prepare_inputs(inputs, runtime.settings, problems)
    events, warnings, profiles = _cluster_prepared(prepared, claims, runtime)
    report = Report(
        model=runtime.settings.model,
        provenance=provenance_of(runtime),
        documents=[DocumentSummary.of(d, len(claims[d.id])) for d in prepared],
        events=events,
        problems=all_problems + warnings + runtime.warnings(judge=False),
    )
    return report, prepared, claims, profiles


def _cluster_prepared(
    documents: list[Document], claims: dict[str, list[Claim]], runtime: Runtime
) -> tuple[list[Event], list[Problem], list[Profile]]:
    if not documents:
        return [], [], []
    profiles = profile_documents(documents, claims, runtime)
    progress.info("clustering %d documents", len(documents))
    clusterer = EventClusterer.from_settings(runtime.settings, runtime.same_event).fit(profiles)
    return assemble_events(documents, profiles, clusterer), undated_warnings(documents, profiles), profiles


def profile_documents(documents: Sequence[Document], claims: dict[str, list[Claim]], runtime: Runtime) -> list[Profile]:
    """Embed every claim once (cached) and build each document's clustering profile."""
    progress.info("embedding %d claims of %d documents", sum(len(claims[d.id]) for d in documents), len(documents))
    vectors = runtime.embed([c.text for d in documents for c in claims[d.id]])
    profiles, cursor = [], 0
    for document in documents:
        count = len(claims[document.id])
        profiles.append(build_profile(document, claims[document.id], vectors[cursor : cursor + count]))
        cursor += count
    return profiles


def score(
    source: Input,
    store: str | Path,
    settings: Settings | None = None,
    *,
    add: bool = True,
    runtime: Runtime | None = None,
    **overrides,
):
    """Score one article against a corpus store (see :meth:`divergence.store.corpus.Corpus.score`); adds it unless ``add=False``."""
    runtime = _runtime(settings, runtime, overrides)
    scored = _score_in_store(source, store, add=add, runtime=runtime)
    return scored.model_copy(update={"provenance": provenance_of(runtime)})


def _score_in_store(source: Input, store: str | Path, *, add: bool, runtime: Runtime):
    """The score report as the store makes it (``score`` adds its provenance)."""
    from divergence.store.corpus import Corpus

    with Corpus(store, runtime=runtime, read_only=not add) as corpus:
        return corpus.score(source, add=add)
