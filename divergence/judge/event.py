"""Judge one event: every claim of every source against every other source."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from divergence.datamodel import Claim, ClaimReport, Document, Event, Judgement, Status
from divergence.events.assemble import event_id_for
from divergence.ingest.attribution import attribution_divergence
from divergence.judge.align import Match, best_matches, evidence_units
from divergence.judge.classifier import judge, scored
from divergence.judge.features import DocumentFacts
from divergence.judge.parts import atom_statements, combine_parts, judge_parts
from divergence.judge.tokens import PieceWeights, joined, token_recall
from divergence.runtime import Runtime


@dataclass
class Aligned:
    """One claim of ``document`` and its best evidence in ``other`` (None when ``other`` has no claims)."""

    document: Document
    other: Document
    claim: Claim
    match: Match | None
    parts: list[Match | None] | None = None
    """The best evidence of each of the claim's judged atoms (divergence.judge.parts), when atoms are aligned."""


def align_documents(
    documents: Sequence[Document],
    claims: dict[str, list[Claim]],
    runtime: Runtime,
    known_vectors: dict[str, np.ndarray] | None = None,
    directions: set[tuple[str, str]] | None = None,
    atoms: bool = False,
) -> Iterator[Aligned]:
    """Every claim of every document with its best evidence in every other document.

    ``known_vectors`` are centred claim vectors already computed (by clustering or the store), so only
    the joined evidence units are embedded here. ``directions`` limits the output to some (document,
    other) pairs. ``atoms``: also align the statement of every atom of a claim that states several facts
    (one embedding call per document, one similarity matrix per pair of documents, as for claims).
    """
    claim_vectors: dict[str, np.ndarray] = {}
    units = {}
    unit_vectors = {}
    for document in documents:
        doc_claims = claims[document.id]
        units[document.id] = evidence_units(document, doc_claims, runtime.settings.evidence_window)
        known = (known_vectors or {}).get(document.id)
        texts = [] if known is not None else [c.text for c in doc_claims]
        texts += [u.text for u in units[document.id][len(doc_claims) :]]
        vectors = runtime.embed(texts)
        if known is not None:
            vectors = np.vstack([known, vectors]) if len(vectors) else known
        claim_vectors[document.id] = vectors[: len(doc_claims)]
        unit_vectors[document.id] = vectors
    atom_rows = {}
    if atoms:
        for document in documents:
            owners, statements = atom_statements(claims[document.id])
            atom_rows[document.id] = (owners, runtime.embed(statements))
    for document in documents:
        for other in documents:
            if other.id == document.id or (directions is not None and (document.id, other.id) not in directions):
                continue
            matches = best_matches(claim_vectors[document.id], units[other.id], unit_vectors[other.id])
            parts: dict[int, list[Match | None]] = {}
            if atoms:
                owners, vectors = atom_rows[document.id]
                for owner, match in zip(owners, best_matches(vectors, units[other.id], unit_vectors[other.id]), strict=True):
                    parts.setdefault(owner, []).append(match)
            for index, (claim, match) in enumerate(zip(claims[document.id], matches, strict=False)):
                yield Aligned(document, other, claim, match, parts.get(index))


def judge_event(
    documents: Sequence[Document],
    claims: dict[str, list[Claim]],
    runtime: Runtime,
    event_id: str | None = None,
    known_vectors: dict[str, np.ndarray] | None = None,
) -> Event:
    """Judge every claim of every document against every other document of one event."""
    settings = runtime.settings
    facts = {d.id: DocumentFacts.of(claims[d.id], d.language) for d in documents}
    statuses: dict[str, dict[str, Judgement]] = {c.id: {} for d in documents for c in claims[d.id]}
    everything = list(align_documents(documents, claims, runtime, known_vectors, atoms=settings.judge_atoms))
    recalls = token_recalls(everything, documents, claims, runtime)
    for aligned, recall in zip(everything, recalls, strict=True):
        judgement, _ = judge(aligned.claim, aligned.match, facts[aligned.other.id], runtime.judge, settings, recall)
        if aligned.parts:
            parts = judge_parts(aligned.claim, judgement, aligned.parts, facts[aligned.other.id], runtime.judge, settings)
            judgement = combine_parts(judgement, parts)
        if aligned.match is not None and judgement.status in (Status.supported, Status.partial):
            divergence = attribution_divergence(aligned.claim, aligned.match.unit.claims)
            if divergence is not None:
                judgement = judgement.model_copy(update={"attribution": divergence})
        statuses[aligned.claim.id][aligned.other.id] = judgement
    if runtime.nli is not None:
        _add_nli_opinions(statuses, {c.id: c for d in documents for c in claims[d.id]}, runtime)
    reports = [ClaimReport(**c.model_dump(), statuses=statuses[c.id]) for d in documents for c in claims[d.id]]
    ids = [d.id for d in documents]
    first, _ = event_dates(documents)
    label = next((d.title for d in documents if d.title), None)
    return Event(id=event_id or event_id_for(ids), documents=ids, claims=reports, date=first, label=label)


def token_recalls(aligned: list[Aligned], documents: Sequence[Document], claims: dict[str, list[Claim]],
                  runtime: Runtime) -> list[float | None]:
    """Token-level recall (divergence.judge.tokens) of each claim against its best evidence, for the evidence the judge
    scores; None for the rest, and for every claim when the runtime has no token states (int8 encoder, vectors
    computed elsewhere). One batched, cached encoder call over the event's claims (the pieces of all of them weigh
    each piece, and evidence is made of them)."""
    wanted = [a for a in aligned if scored(a.match, runtime.settings)] if runtime.settings.token_alignment else []
    if not wanted or runtime.token_encoder is None:
        return [None] * len(aligned)
    every = [c.text for d in documents for c in claims[d.id]]
    texts = sorted(set(every))
    states = dict(zip(texts, runtime.token_states(texts), strict=True))
    weights = PieceWeights(states[text][0] for text in every)
    chosen = {id(a) for a in wanted}
    return [token_recall(states[a.claim.text], joined([states[c.text] for c in a.match.unit.claims]), weights)
            if id(a) in chosen else None for a in aligned]


def event_dates(documents: Sequence[Document]) -> tuple[dt.date | None, dt.date | None]:
    """First and last event date of the documents (the last None when it is the first)."""
    dates = sorted(d.event_date.date for d in documents if d.event_date and d.event_date.date)
    if not dates:
        return None, None
    return dates[0], dates[-1] if dates[-1] != dates[0] else None


def _add_nli_opinions(statuses: dict[str, dict[str, Judgement]], by_id: dict[str, Claim], runtime: Runtime) -> None:
    """One batched cross-encoder call over every judged claim that has evidence."""
    from divergence.judge.nli import add_opinion

    keys = [(claim_id, other) for claim_id, row in statuses.items() for other, j in row.items() if j.evidence is not None]
    pairs = [(statuses[c][o].evidence.text, by_id[c].text) for c, o in keys]
    for (claim_id, other), probabilities in zip(keys, runtime.nli.predict(pairs), strict=True):
        statuses[claim_id][other] = add_opinion(by_id[claim_id].text, statuses[claim_id][other], probabilities, runtime.settings.nli_threshold)
