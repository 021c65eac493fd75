"""The typed data that flows between stages: Document → Claim → Alignment → Report.

Claims are views on a document: ``(document, start, end)`` are character
offsets into ``Document.text``, the text exactly as loaded (for HTML, the
main text trafilatura extracted), so any tool can point back into it.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.5"


class Status(StrEnum):
    supported = "supported"
    partial = "partial"
    absent = "absent"
    contradicted = "contradicted"


def claim_id(document: str, start: int, end: int) -> str:
    """A claim's id: its document's id and its offsets, so it is the same in every run (report 1.3)."""
    return f"{document}#{start}-{end}"


class DateMention(BaseModel):
    """A date named in a text, resolved as far as its anchor allows."""

    text: str = Field(description="The words that name the date, as written.")
    start: int
    end: int
    date: dt.date | None = Field(None, description="The resolved day, when a year or an anchor was available.")
    month: int | None = None
    day: int | None = None
    certain: bool = Field(description="False when the year or the anchor of a relative date is unknown.")
    window_days: int = Field(0, description="The day named may be up to this many days after the event "
                             "(a weekday resolved only against a year-less timestamp).")


class Span(BaseModel):
    start: int
    end: int


class SourceSegment(BaseModel):
    """A piece of a document's ``text`` found verbatim (entities decoded) in the file it was read from."""

    start: int
    end: int
    file_start: int = Field(description="Character offset in the file as read (decoded), where the piece starts.")
    file_end: int


class Document(BaseModel):
    id: str
    text: str = Field(description="The text as loaded; every offset points into it.")
    content_start: int = Field(0, description="Where the article starts in ``text`` (after front matter).")
    path: str | None = None
    source: str | None = Field(None, description="The outlet, from metadata or named in the text.")
    url: str | None = None
    title: str | None = None
    published: dt.date | None = None
    language: str | None = None
    event_date: DateMention | None = None
    body: list[Span] = Field(default_factory=list, description="Spans kept as article text after cleaning.")
    removed: list[Span] = Field(default_factory=list, description="Spans removed as site chrome.")
    headline: Span | None = Field(None, description="Where the headline stands in ``text``, when it is a line of it.")
    warnings: list[str] = Field(default_factory=list)
    source_map: list[SourceSegment] = Field(default_factory=list, description=(
        "For HTML input: where pieces of ``text`` (the extracted main text) sit in the HTML file; empty otherwise."))

    def span_text(self, span: Span) -> str:
        return self.text[span.start : span.end]


class Atom(BaseModel):
    """One atomic fact of a claim that states several (see ``divergence.ingest.atoms``).

    Its own words are one span of the document; the words it shares with the
    claim's other atoms (the subject of coordinated verbs, the reporting frame
    "X said that", the verb of a list "discussed") are ``context`` spans, also
    of the document, kept apart so that only the atom's own words are its
    content. ``statement`` is what to judge: the context's words, then the
    atom's.
    """

    start: int
    end: int
    text: str = Field(description="The atom's own words: ``Document.text[start:end]``.")
    context: list[Span] = Field(default_factory=list, description="Shared words the atom needs to stand alone, in text order, each before ``start``.")
    statement: str = Field(description="The context's words and the atom's own, joined by spaces: a self-contained statement.")


class Claim(BaseModel):
    id: str
    document: str
    text: str
    start: int
    end: int
    language: str | None = None
    speaker: str | None = Field(None, description="Who says it: a person, an institution, or None for the outlet's own voice.")
    speaker_kind: Literal["person", "institution", "anonymous", "outlet"] = "outlet"
    quote: bool = False
    headline: bool = Field(False, description="The article's headline: judged like its sentences, but left out of the "
                           "event-grouping signals (a headline is written for the page, not a sentence of the report).")
    atoms: list[Atom] = Field(
        default_factory=list,
        description="The claim's atomic facts when it states several (coordinated clauses, a list of topics, reported speech "
        "with several complements); empty when the claim is one fact.",
    )

    def facts(self) -> list[Atom]:
        """What to judge, one fact at a time: the claim's atoms, or the whole claim as its only atom."""
        return self.atoms or [Atom(start=self.start, end=self.end, text=self.text, statement=self.text)]


class Evidence(BaseModel):
    claims: list[str] = Field(description="Ids of the other document's claims used as evidence.")
    text: str
    start: int
    end: int


class Conflict(BaseModel):
    kind: Literal["number", "date", "negation", "actor", "modality", "antonym", "nli"]
    claim_span: str
    evidence_span: str


class AttributionDivergence(BaseModel):
    """The same content, voiced differently: another speaker, or fact in one source and someone's claim in the other."""

    kind: Literal["speaker", "fact_vs_attributed", "attributed_vs_fact"]
    claim_speaker: str | None = Field(description="Who says it in this document; None for the outlet's own voice.")
    evidence_speaker: str | None = Field(description="Who says it in the other document; None for the outlet's own voice.")
    description: str


class PartJudgement(BaseModel):
    """Report 1.4: one atom of a claim that states several facts (``Claim.atoms``), judged on its own against the other document."""

    start: int
    end: int
    text: str = Field(description="The atom's own words: ``Document.text[start:end]``.")
    status: Status = Field(description="Never partial from topic overlap: a part is supported, absent or contradicted unless its own evidence covers it in part.")
    score: float = Field(description="Corrected similarity of the atom's statement to its best evidence.")
    evidence: Evidence | None = None
    reason: str


class Judgement(BaseModel):
    status: Status
    score: float = Field(description="Corrected similarity of the claim to its best evidence (≈0 unrelated, ≈1 translation).")
    evidence: Evidence | None = None
    reason: str
    conflicts: list[Conflict] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list, description="Parts of the claim the evidence does not cover.")
    probabilities: dict[str, float] = Field(
        default_factory=dict, description="The judge's probability of each status (empty when nothing related was found)."
    )
    attribution: AttributionDivergence | None = Field(
        None, description="Set when both sources say it but attribute it differently."
    )
    nli: dict[str, float] | None = Field(
        None, description="Opinion of the optional NLI cross-encoder (entailment / neutral / contradiction), when one is configured."
    )
    parts: list[PartJudgement] = Field(
        default_factory=list, description="Report 1.4: for a claim that states several facts, each fact's own judgement; the claim's "
        "status combines them (contradicted if any part is, supported if all are, absent if none is covered, partial otherwise). "
        "Empty for a claim that is one fact."
    )


class ClaimReport(Claim):
    statuses: dict[str, Judgement] = Field(description="Status of this claim in every other document of the event.")


OffsetBasis = Literal["file", "record_text", "extracted_text", "input_text"]


def offset_basis(path: str | None) -> OffsetBasis:
    """What a loaded document's offsets index, from the kind of file it came from (see ``DocumentSummary.offsets``)."""
    if not path or path == "-":
        return "input_text" if not path else "file"
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if suffix in ("html", "htm", "xhtml"):
        return "extracted_text"
    if suffix in ("json", "jsonl"):
        return "record_text"
    return "file"


class DocumentSummary(BaseModel):
    id: str
    language: str | None
    source: str | None
    published: dt.date | None
    event_date: DateMention | None
    title: str | None
    path: str | None = None
    url: str | None = None
    claims: int = 0
    removed_chars: int = Field(0, description="Characters removed as site chrome.")
    warnings: list[str] = Field(default_factory=list)
    # Report 1.3: what the offsets index, and that text itself, so a report can show its sources.
    offsets: OffsetBasis = Field("file", description=(
        "What every claim and evidence offset of this document indexes: 'file' — the file as written (front matter "
        "included; for .txt/.md); 'record_text' — the record's text field (.json/.jsonl); 'extracted_text' — the main "
        "text trafilatura extracted from the page (.html), not the HTML source; 'input_text' — the text given through "
        "the API. In every case ``text`` below is exactly the string the offsets index."))
    text: str | None = Field(None, description="The text every offset of this document indexes.")
    body: list[Span] = Field(default_factory=list, description="Spans of ``text`` kept as article text after cleaning.")
    source_map: list[SourceSegment] = Field(default_factory=list, description=(
        "offsets 'extracted_text' only: pieces of ``text`` and where they sit in the HTML file as read (character offsets), "
        "so any claim offset can be mapped back to the page source; text trafilatura rewrote stays unmapped."))

    @classmethod
    def of(cls, document: Document, claims: int) -> DocumentSummary:
        return cls(
            id=document.id,
            language=document.language,
            source=document.source,
            published=document.published,
            event_date=document.event_date,
            title=document.title,
            path=document.path,
            url=document.url,
            claims=claims,
            removed_chars=sum(s.end - s.start for s in document.removed),
            warnings=document.warnings,
            offsets=offset_basis(document.path),
            text=document.text,
            body=document.body,
            source_map=document.source_map,
        )


class EventLink(BaseModel):
    """Why two documents were put in one event."""

    documents: tuple[str, str]
    probability: float = Field(description="Probability that both report the same event (1.0 for copies).")
    reason: str
    signals: dict[str, float | bool | list[str] | None] = Field(default_factory=dict)


class Event(BaseModel):
    id: str
    documents: list[str]
    claims: list[ClaimReport] = Field(default_factory=list, description="Empty when the event was only clustered, or has one source.")
    date: dt.date | None = Field(None, description="Earliest event date of its documents, when a year is known.")
    date_end: dt.date | None = Field(None, description="Latest event date, when it differs from ``date``.")
    label: str | None = None
    kind: str | None = Field(None, description="call, meeting or visit, when the leads say so.")
    participants: list[str] = Field(default_factory=list, description="People the leads name.")
    links: list[EventLink] = Field(default_factory=list, description="For each document, its strongest tie to the rest of the event.")
    duplicates: dict[str, str] = Field(default_factory=dict, description="Copy → the document it republishes; copies are not compared as sources.")


class Problem(BaseModel):
    path: str
    code: str
    message: str
    set_aside: bool = Field(True, description="False for a warning: the document was still used.")


def _schema_version_required(schema: dict) -> None:
    required = schema.setdefault("required", [])
    if "schema_version" not in required:
        required.insert(0, "schema_version")


class Provenance(BaseModel):
    """What made a report: enough to reproduce it or to tell two runs apart."""

    tool_version: str
    generated_at: str = Field(description="UTC time of generation, ISO 8601 (SOURCE_DATE_EPOCH when set, for reproducible output).")
    encoder: str = Field(description="The sentence encoder (id or path).")
    encoder_fingerprint: str | None = Field(None, description="Hash of the encoder's weights and configuration.")
    judge_fingerprint: str | None = Field(None, description="Hash of the claim judge file.")
    same_event_fingerprint: str | None = Field(None, description="Hash of the same-event model file.")
    settings: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class Report(BaseModel):
    model_config = ConfigDict(json_schema_extra=_schema_version_required)

    schema_version: Literal["1.5"] = SCHEMA_VERSION
    generator: str = "divergence"
    model: str
    provenance: Provenance | None = None
    documents: list[DocumentSummary]
    events: list[Event]
    problems: list[Problem] = Field(default_factory=list, description="Inputs that were set aside, and why.")


class ScoreReport(BaseModel):
    """`divergence score`: one article against the stored sources of its event."""

    model_config = ConfigDict(json_schema_extra=_schema_version_required)

    schema_version: Literal["1.5"] = SCHEMA_VERSION
    generator: str = "divergence"
    model: str
    provenance: Provenance | None = None
    document: DocumentSummary
    event_id: str | None = Field(description="The stored event the article belongs to (after --no-add: the one it would join).")
    new_event: bool = Field(description="True when no stored event matched: the article starts a new one.")
    assignment_reason: str
    assignment: EventLink | None = Field(None, description="The article's strongest tie to the event (or to the best candidate).")
    candidates: dict[str, float] = Field(default_factory=dict, description="Candidate events and their average same-event probability.")
    copy_of: str | None = Field(None, description="Set when the article copies a stored document.")
    sources: list[str] = Field(default_factory=list, description="Stored documents of the event it was compared with.")
    claims: list[ClaimReport] = Field(default_factory=list, description="The article's claims, each with its status in every source.")
    omitted: list[ClaimReport] = Field(default_factory=list, description="Claims of the sources the article does not make (status against the article: absent).")
    unique: list[str] = Field(default_factory=list, description="Ids of the article's claims no source makes.")
    contradictions: list[ClaimReport] = Field(default_factory=list, description="The article's claims some source contradicts.")
    divergence: float | None = Field(None, description="Divergence score in [0, 1]; see divergence_definition.")
    divergence_definition: str
    added: bool = Field(False, description="Whether the article was added to the store.")
    problems: list[Problem] = Field(default_factory=list)
