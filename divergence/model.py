"""The typed data that flows between stages: Document → Claim → Alignment → Report.

Claims are views on a document: ``(document, start, end)`` are character
offsets into ``Document.text``, the text exactly as loaded (for HTML, the
main text trafilatura extracted), so any tool can point back into it.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Literal

from pydantic import BaseModel, Field

SCHEMA_VERSION = "1.0"


class Status(str, Enum):
    supported = "supported"
    partial = "partial"
    absent = "absent"
    contradicted = "contradicted"


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
    warnings: list[str] = Field(default_factory=list)

    def span_text(self, span: Span) -> str:
        return self.text[span.start : span.end]


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


class Evidence(BaseModel):
    claims: list[str] = Field(description="Ids of the other document's claims used as evidence.")
    text: str
    start: int
    end: int


class Conflict(BaseModel):
    kind: Literal["number", "date", "negation", "actor", "modality", "antonym"]
    claim_span: str
    evidence_span: str


class Judgement(BaseModel):
    status: Status
    score: float = Field(description="Corrected similarity of the claim to its best evidence (≈0 unrelated, ≈1 translation).")
    evidence: Evidence | None = None
    reason: str
    conflicts: list[Conflict] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list, description="Parts of the claim the evidence does not cover.")


class ClaimReport(Claim):
    statuses: dict[str, Judgement] = Field(description="Status of this claim in every other document of the event.")


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


class Event(BaseModel):
    id: str
    documents: list[str]
    claims: list[ClaimReport]
    date: dt.date | None = None
    label: str | None = None


class Problem(BaseModel):
    path: str
    code: str
    message: str


class Report(BaseModel):
    schema_version: str = SCHEMA_VERSION
    generator: str = "divergence"
    model: str
    documents: list[DocumentSummary]
    events: list[Event]
    problems: list[Problem] = Field(default_factory=list, description="Inputs that were set aside, and why.")
