"""Document-level facts: language, publication date, event date, outlet."""

from __future__ import annotations

import re

from divergence.datamodel import DateMention, Document
from divergence.ingest.clean import dateline_source, is_timestamp_line
from divergence.ingest.dates import find_dates
from divergence.ingest.language import detect_language

# Sentences that say when the reported event happened use these words; a
# meeting named in passing ("the council met on 12 November") is weaker
# evidence than the lead's own date or the page's timestamp.
_STRONG_EVENT_WORDS = re.compile(
    r"call|phone|telephone|spoke|talked|conversation|discuss|"
    r"téléphon|entretien|convers|échang|s'est entretenu|"
    r"разговор|телефон|беседа|обсудил",
    re.IGNORECASE,
)
LEAD_SENTENCES = 2
WEEKDAY_WINDOW = 6  # a weekday named in the copy lies within the week before publication
STAMP_WINDOW = 1  # a report is published on the day of the event or the day after
# News reports what happened in the days before publication. A date in the lead that lies further back (the
# "January 6 attack", a year-old anniversary) or ahead (a deadline "by July 4", a summit "on June 16") names
# another event: on AllSides such mentions put 25 of 1,479 articles 11 days to 20 years away from their story.
EVENT_DATE_MAX_LAG_DAYS = 10
EVENT_DATE_MAX_LEAD_DAYS = 1


def _published_from_chrome(document: Document) -> DateMention | None:
    """A timestamp line of the page (often without a year) is the best hint of publication."""
    for span in document.removed:
        text = document.span_text(span)
        if is_timestamp_line(text):
            mentions = find_dates(text, offset=span.start)
            if mentions:
                return mentions[0]
    return None


def _near_publication(mention: DateMention, published) -> bool:
    """Whether a dated mention can be the reported event's date (always, when the publication date is unknown)."""
    if published is None or mention.date is None:
        return True
    return -EVENT_DATE_MAX_LEAD_DAYS <= (published - mention.date).days <= EVENT_DATE_MAX_LAG_DAYS


def describe(document: Document, seed: int = 0) -> Document:
    """Fill language, published, event_date and source where the document allows."""
    body_text = "\n".join(document.span_text(span) for span in document.body)
    language = document.language or detect_language(body_text or document.text, seed)

    published = document.published
    stamp = _published_from_chrome(document)
    if published is None and stamp is not None and stamp.date is not None:
        published = stamp.date

    explicit = [m for span in document.body for m in find_dates(document.span_text(span), offset=span.start) if m.certain]
    anchor = published or (max(m.date for m in explicit) if explicit else None)
    if stamp is not None and stamp.date is None and anchor is not None:
        stamp = find_dates(stamp.text, anchor, stamp.start)[0]
        stamp = stamp.model_copy(update={"certain": False})

    event_date = None
    sentences = [
        (span.start + match.start(), match.group(0))
        for span in document.body
        for match in re.finditer(r"[^.!?]+[.!?]*", document.span_text(span))
    ]
    for index, (offset, sentence) in enumerate(sentences):
        if index >= LEAD_SENTENCES and not _STRONG_EVENT_WORDS.search(sentence):
            continue
        mentions = [m for m in find_dates(sentence, anchor, offset) if _near_publication(m, published)]
        if mentions:
            event_date = mentions[0]
            if published is None and event_date.date is not None:
                event_date = event_date.model_copy(update={"certain": False})
            break
    if event_date is not None and event_date.date is None and event_date.month is None and stamp is not None and stamp.month:
        # "On Tuesday" under a year-less "15 March" timestamp: some day of the week before it.
        event_date = stamp.model_copy(update={"text": f"{event_date.text} ({stamp.text})", "certain": False,
                                              "window_days": WEEKDAY_WINDOW})
    if event_date is None and stamp is not None:
        event_date = stamp.model_copy(update={"window_days": STAMP_WINDOW})
    if event_date is None and published is not None:
        event_date = DateMention(text=published.isoformat(), start=0, end=0, date=published,
                                 month=published.month, day=published.day, certain=False)

    source = document.source or dateline_source(document)
    return document.model_copy(
        update={"language": language, "published": published, "event_date": event_date, "source": source}
    )
