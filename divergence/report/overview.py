"""What a reader needs first, computed from a report: named sources, counts, claim groups, key divergences.

A *claim group* is one row of the coverage matrix: claims of different sources that say the same thing.
Claims are joined along their judgements (a claim, its evidence in another source) strongest first —
supported and contradicted ties, then partial ties that hold both ways — and a group never holds two
claims of one source, so a row reads "who says it, who leaves it out, who says otherwise".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from divergence.datamodel import ClaimReport, DocumentSummary, Event, Report, Status
from divergence.ingest.words import content_words

NAME_LIMIT = 48
LABEL_LIMIT = 160
TOPIC_WORDS = 3
_POSSESSIVE = re.compile(r"['’]s$")

# What a source does with a claim group (one matrix cell).
SAYS, PARTLY, OMITS, CONTRADICTS = "says", "partly", "omits", "contradicts"
# The kinds of divergence, in the order a fact-checker reads them.
CONTRADICTION, SINGLE_SOURCE, OMISSION = "contradiction", "single_source", "omission"
KIND_ORDER = (CONTRADICTION, SINGLE_SOURCE, OMISSION)


@dataclass
class Source:
    id: str
    name: str
    """Outlet, else title, else the document id: never a file hash when a source or title is known."""
    outlet: str | None
    title: str | None
    language: str | None
    date: str | None
    """Publication date, else the event date as written."""
    url: str | None
    claims: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    """Status → how many judgements of this source's claims in the other sources have it."""
    copy_of: str | None = None


@dataclass
class ClaimGroup:
    id: str
    label: str
    """The shortest member claim."""
    members: dict[str, ClaimReport]
    """Source id → its claim in this group."""
    cells: dict[str, str]
    """Source id → says / partly / omits / contradicts."""
    kinds: list[str]
    reasons: dict[str, str] = field(default_factory=dict)
    """Source id → why its cell is not plain "says" (the judge's reason)."""
    topics: list[str] = field(default_factory=list)
    """The words that set this row apart from the rest of its event ("Mali", "drones"), most telling first."""


@dataclass
class Divergence:
    kind: str
    group: ClaimGroup
    sources: list[str]
    """The sources involved: who contradicts, who alone says it, or who leaves it out."""
    summary: str
    reason: str = ""


@dataclass
class EventOverview:
    event: Event
    sources: list[Source]
    groups: list[ClaimGroup]
    divergences: list[Divergence]
    date_text: str
    copies: list[Source] = field(default_factory=list)

    @property
    def names(self) -> dict[str, str]:
        return {s.id: s.name for s in self.sources + self.copies}


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def source_names(documents: list[DocumentSummary]) -> dict[str, str]:
    """Document id → a readable, unique name: the outlet, else the title, else the id."""
    names = {d.id: _shorten(d.source or d.title or d.id, NAME_LIMIT) for d in documents}
    seen: dict[str, int] = {}
    for name in names.values():
        seen[name] = seen.get(name, 0) + 1
    for d in documents:
        if seen[names[d.id]] > 1:  # two articles of one outlet: add what tells them apart
            extra = d.title if d.source and d.title else d.id
            names[d.id] = f"{names[d.id]} · {_shorten(extra, NAME_LIMIT)}"
    counted: dict[str, int] = {}
    for name in names.values():
        counted[name] = counted.get(name, 0) + 1
    for d in documents:
        if counted[names[d.id]] > 1:  # still ambiguous (same outlet and title): the id tells them apart
            names[d.id] = f"{names[d.id]} ({d.id})"
    return names


def _source(document: DocumentSummary | None, doc_id: str, name: str, claims: list[ClaimReport]) -> Source:
    counts = {status.value: 0 for status in Status}
    for claim in claims:
        if claim.document == doc_id:
            for judgement in claim.statuses.values():
                counts[judgement.status.value] += 1
    if document is None:
        return Source(doc_id, name, None, None, None, None, None, counts=counts)
    date = document.published.isoformat() if document.published else (document.event_date.text if document.event_date else None)
    return Source(doc_id, name, document.source, document.title, document.language, date, document.url,
                  claims=document.claims, counts=counts)


def claim_groups(event: Event, sources: list[str]) -> list[ClaimGroup]:
    """The rows of the coverage matrix (see the module's docstring)."""
    by_id = {c.id: c for c in event.claims}
    group_of = {c.id: i for i, c in enumerate(event.claims)}
    members: dict[int, dict[str, str]] = {i: {c.document: c.id} for i, c in enumerate(event.claims)}

    def evidence_of(claim: ClaimReport, other: str) -> list[str]:
        judgement = claim.statuses.get(other)
        return judgement.evidence.claims if judgement is not None and judgement.evidence is not None else []

    ties = []
    for claim in event.claims:
        for other, judgement in claim.statuses.items():
            if judgement.status is Status.absent:
                continue
            for target in evidence_of(claim, other):
                if target not in by_id:
                    continue
                mutual = claim.id in evidence_of(by_id[target], claim.document)
                strong = judgement.status in (Status.supported, Status.contradicted)
                if strong or mutual:
                    ties.append((not strong, -judgement.score, claim.id, target))
    for _, _, a, b in sorted(ties):
        ga, gb = group_of[a], group_of[b]
        if ga == gb or set(members[ga]) & set(members[gb]):
            continue
        members[ga].update(members.pop(gb))
        for claim_id in members[ga].values():
            group_of[claim_id] = ga

    order = {doc: i for i, doc in enumerate(sources)}
    rows = []
    for ids in members.values():
        row = {doc: by_id[claim_id] for doc, claim_id in ids.items() if doc in order}
        if row:
            rows.append(row)
    rows.sort(key=lambda row: min((order[doc], claim.start) for doc, claim in row.items()))
    groups = [_group(f"g{n + 1}", row, sources) for n, row in enumerate(rows)]
    for group, topics in zip(groups, topic_words([list(row.values()) for row in rows]), strict=True):
        group.topics = topics
    return groups


def topic_words(rows: list[list[ClaimReport]], limit: int = TOPIC_WORDS) -> list[list[str]]:
    """For each row of an event, the words specific to it within the event.

    A word weighs by how few rows of the event use it (idf, the event's rows as the documents), a little more
    when several sources of the row use it, and more when it is a name (capitalised inside a sentence): the
    leaders' names, "call" and "talks" run through most rows of a call and are never topics, "Mali",
    "drones" or "Karabakh" are. Words in more than a third of the rows are never topics.
    """
    row_words = []
    for claims in rows:
        found: dict[str, tuple[int, str, bool]] = {}
        for claim in claims:
            opening = claim.text.lstrip()
            for word in {w.stem: w for w in content_words(claim.text, claim.language)}.values():
                written = _POSSESSIVE.sub("", word.text)
                count, shown, name = found.get(word.stem, (0, written, False))
                is_name = written[:1].isupper() and not opening.startswith(written)
                found[word.stem] = (count + 1, written if is_name and not name else shown, name or is_name)
        row_words.append(found)
    rows_with: dict[str, int] = {}
    for found in row_words:
        for stem in found:
            rows_with[stem] = rows_with.get(stem, 0) + 1
    total = len(rows)
    common = max(1, total // 3)
    topics = []
    for found in row_words:
        weighted = [(math.log(total / rows_with[stem]) * (1 + 0.5 * (count - 1)) + (0.5 if name else 0.0), len(shown),
                     shown if name else shown.lower())
                    for stem, (count, shown, name) in found.items() if rows_with[stem] <= common and total > 1]
        weighted.sort(key=lambda item: (-item[0], -item[1], item[2]))
        topics.append([shown for _, _, shown in weighted[:limit]])
    return topics


def _group(group_id: str, row: dict[str, ClaimReport], sources: list[str]) -> ClaimGroup:
    cells, reasons = {}, {}
    # Who says otherwise: of the sources in a contradicted pair, those in the most such pairs (with three
    # sources where two say "twelve" and one "twenty", the one saying "twenty"; with two, both).
    conflicts: dict[str, list[str]] = {}
    for member in row.values():
        for other, judgement in member.statuses.items():
            if other in sources and judgement.status is Status.contradicted:
                conflicts.setdefault(member.document, []).append(judgement.reason)
                conflicts.setdefault(other, []).append(judgement.reason)
    most = max((len(r) for r in conflicts.values()), default=0)
    for source in sources:
        claim = row.get(source)
        against = [(m.statuses[source], m.document) for m in row.values() if source in m.statuses]
        if conflicts.get(source) and len(conflicts[source]) == most:
            cells[source], reasons[source] = CONTRADICTS, conflicts[source][0]
        elif claim is not None:
            cells[source] = SAYS
        elif any(j.status in (Status.supported, Status.partial) for j, _ in against):
            partial = next(j for j, _ in against if j.status in (Status.supported, Status.partial))
            cells[source], reasons[source] = PARTLY, partial.reason
        else:
            cells[source] = OMITS
    saying = [s for s in sources if cells[s] in (SAYS, CONTRADICTS)]
    omitting = [s for s in sources if cells[s] == OMITS]
    kinds = []
    if CONTRADICTS in cells.values():
        kinds.append(CONTRADICTION)
    if len(saying) == 1 and len(omitting) == len(sources) - 1 and len(sources) > 1:
        kinds.append(SINGLE_SOURCE)
    elif omitting and len(saying) + sum(cells[s] == PARTLY for s in sources) >= 2:
        kinds.append(OMISSION)
    label = min((c.text for c in row.values()), key=len)
    return ClaimGroup(group_id, _shorten(label, LABEL_LIMIT), row, cells, kinds, reasons)


def key_divergences(groups: list[ClaimGroup], names: dict[str, str]) -> list[Divergence]:
    """Contradictions first, then claims only one source makes, then claims some source leaves out."""
    found = []
    for group in groups:
        if CONTRADICTION in group.kinds:
            involved = [s for s, cell in group.cells.items() if cell == CONTRADICTS]
            reason = next(group.reasons[s] for s in involved)
            summary = (" vs ".join(names[s] for s in involved) + " disagree" if len(involved) > 1
                       else f"{names[involved[0]]} says otherwise")
            found.append(Divergence(CONTRADICTION, group, involved, summary, reason))
        if SINGLE_SOURCE in group.kinds:
            alone = [s for s, cell in group.cells.items() if cell in (SAYS, CONTRADICTS)]
            found.append(Divergence(SINGLE_SOURCE, group, alone, f"only {names[alone[0]]} says this"))
        if OMISSION in group.kinds:
            left_out = [s for s, cell in group.cells.items() if cell == OMITS]
            found.append(Divergence(OMISSION, group, left_out, "left out by " + ", ".join(names[s] for s in left_out)))
    return sorted(found, key=lambda d: KIND_ORDER.index(d.kind))


def event_date_text(event: Event, documents: dict[str, DocumentSummary]) -> str:
    if event.date and event.date_end:
        return f"{event.date.isoformat()} – {event.date_end.isoformat()}"
    if event.date:
        return event.date.isoformat()
    written = [documents[d].event_date.text for d in event.documents if d in documents and documents[d].event_date]
    return f"{written[0]} (year not given)" if written else "date unknown"


def overview(report: Report) -> list[EventOverview]:
    """The overview of every event of a report, in the report's order."""
    documents = {d.id: d for d in report.documents}
    names = source_names(report.documents)
    views = []
    for event in report.events:
        compared = [d for d in event.documents if d not in event.duplicates]
        sources = [_source(documents.get(d), d, names.get(d, d), event.claims) for d in compared]
        copies = [_source(documents.get(d), d, names.get(d, d), []) for d in event.duplicates]
        for copy in copies:
            copy.copy_of = event.duplicates[copy.id]
        groups = claim_groups(event, compared) if event.claims else []
        views.append(EventOverview(event, sources, groups, key_divergences(groups, names), event_date_text(event, documents), copies))
    return views


def timeline(views: list[EventOverview], report: Report) -> list[EventOverview]:
    """Events in time order: dated ones by date, year-less ones by month and day after them, undated last."""
    documents = {d.id: d for d in report.documents}

    def key(view: EventOverview):
        event = view.event
        if event.date:
            return (0, event.date.toordinal(), event.id)
        mentions = [documents[d].event_date for d in event.documents if d in documents and documents[d].event_date]
        days = [m.month * 31 + m.day for m in mentions if m.month and m.day]
        return (1, min(days), event.id) if days else (2, 0, event.id)
    return sorted(views, key=key)


def passages(document: DocumentSummary | None, claims: list[ClaimReport]) -> list[list[tuple[str, str | None]]]:
    """The cleaned text of a document as paragraphs of (text, claim id or None) pieces, for the side-by-side view.

    Without the document text (a report from before schema 1.3), each claim is its own paragraph.
    """
    own = sorted(claims, key=lambda c: c.start)
    if document is None or document.text is None or not document.body:
        return [[(c.text, c.id)] for c in own]
    paragraphs = [[(c.text, c.id)] for c in own if c.headline]  # the headline is a claim but no part of the body
    for span in document.body:
        pieces, cursor = [], span.start
        for claim in own:
            if claim.end <= span.start or claim.start >= span.end or claim.start < cursor:
                continue
            if claim.start > cursor:
                pieces.append((document.text[cursor : claim.start], None))
            pieces.append((document.text[claim.start : claim.end], claim.id))
            cursor = claim.end
        if cursor < span.end:
            pieces.append((document.text[cursor : span.end], None))
        paragraphs.append(pieces)
    return paragraphs
