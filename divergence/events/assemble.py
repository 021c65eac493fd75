"""Turn a fitted clustering into report events: members, dates, label, and why they belong together."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter

from divergence.datamodel import Document, Event, EventLink, Problem
from divergence.errors import UNDATED, UNKNOWN_SCRIPT
from divergence.events.cluster import EventClusterer
from divergence.events.linkage import group_indices
from divergence.events.profile import Profile, name_stem
from divergence.events.same_event import PairSignals

_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARABIC", "HEBREW", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "DEVANAGARI",
            "BENGALI", "THAI", "GEORGIAN", "ARMENIAN", "TAMIL", "TELUGU", "GUJARATI", "GURMUKHI", "KANNADA", "MALAYALAM",
            "SINHALA", "ETHIOPIC", "KHMER", "LAO", "MYANMAR", "TIBETAN")


def describe_signals(s: PairSignals, copy: bool = False) -> str:
    """Why two documents were (or were not) put together, in words."""
    if copy:
        return f"copy: {s.shingle_overlap:.0%} of word 5-grams shared"
    parts = []
    if s.days_apart is None:
        parts.append("no event date on one side")
    elif s.days_apart == 0:
        parts.append("same date" if s.year_known else "same date (year not given)")
    else:
        parts.append(f"{s.days_apart:.0f} day{'s' if s.days_apart != 1 else ''} apart")
    if s.claim_overlap is not None:
        parts.append(f"{s.claim_overlap:.0%} of claims shared")
    if s.lead_containment is not None and s.lead_containment > (s.claim_overlap or 0.0):
        parts.append(f"{s.lead_containment:.0%} of the short one's claims covered")
    if s.shared_figures:
        parts.append(f"{s.shared_figures} figure{'s' if s.shared_figures != 1 else ''} stated by both")
    parts.append(f"similarity {s.similarity:.2f}")
    if s.missing_names:
        parts.append("not named on both sides: " + ", ".join(s.missing_names[:4]))
    elif s.name_coverage is not None:
        parts.append("same participants")
    if s.counterparts_differ:
        parts.append("each names someone the other does not")
    if s.kind_conflict:
        parts.append("different kinds of event")
    return "; ".join(parts)


def signal_values(s: PairSignals) -> dict:
    return {
        "similarity": round(s.similarity, 4),
        "claim_overlap": None if s.claim_overlap is None else round(s.claim_overlap, 4),
        "days_apart": s.days_apart,
        "year_known": s.year_known,
        "name_coverage": None if s.name_coverage is None else round(s.name_coverage, 4),
        "missing_names": list(s.missing_names),
        "kind_conflict": s.kind_conflict,
        "shingle_overlap": round(s.shingle_overlap, 4),
        "lead_containment": None if s.lead_containment is None else round(s.lead_containment, 4),
        "counterparts_differ": s.counterparts_differ,
        "shared_figures": s.shared_figures,
        "best_claim_match": None if s.best_claim_match is None else round(s.best_claim_match, 4),
    }


def _participants(profiles: list[Profile]) -> list[str]:
    counts: Counter = Counter()
    shown: dict[str, str] = {}
    for profile in sorted(profiles, key=lambda p: p.language != "en"):
        for key in sorted(profile.participants):  # a frozenset: its order changes with the hash seed
            stem = name_stem(key)
            counts[stem] += 1
            shown.setdefault(stem, profile.display_names.get(key, key))
    needed = max(1, (len(profiles) + 1) // 2)
    return [shown[stem] for stem, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if count >= needed]


def _label(documents: list[Document], profiles: list[Profile]) -> str:
    ordered = sorted(zip(documents, profiles, strict=False), key=lambda dp: (dp[0].language != "en", dp[0].title is None))
    document, profile = ordered[0]
    text = document.title or profile.label
    return text if len(text) <= 120 else text[:117].rstrip() + "…"


def event_link(a: str, b: str, probability: float, signals: PairSignals, copy: bool = False) -> EventLink:
    """The report's account of one tie between two documents."""
    return EventLink(documents=(a, b), probability=round(probability, 4), reason=describe_signals(signals, copy),
                     signals=signal_values(signals))


def event_id_for(document_ids: list[str]) -> str:
    """An event's id: a hash of its documents' ids, whatever their order."""
    return "event-" + hashlib.blake2b("\n".join(sorted(document_ids)).encode(), digest_size=4).hexdigest()


def assemble_events(documents: list[Document], profiles: list[Profile], clusterer: EventClusterer) -> list[Event]:
    events = []
    for members in group_indices(clusterer.labels_):
        member_docs = [documents[i] for i in members]
        member_profiles = [profiles[i] for i in members]
        links = []
        for position, i in enumerate(members[1:], start=1):
            candidates = [clusterer.links_.get((min(i, j), max(i, j))) for j in members[:position]]
            candidates = [c for c in candidates if c is not None]
            if candidates:
                best = max(candidates, key=lambda link: link.probability)
                links.append(event_link(documents[best.a].id, documents[best.b].id, best.probability, best.signals, best.copy))
        days = sorted(p.day for p in member_profiles if p.day is not None)
        kinds = Counter(k for p in member_profiles for k in p.kinds)
        ids = [d.id for d in member_docs]
        duplicates = {documents[j].id: documents[i].id for j, i in clusterer.duplicates_.items() if j in members}
        events.append(Event(
            id=event_id_for(ids),
            documents=ids,
            date=dt.date.fromordinal(days[0]) if days else None,
            date_end=dt.date.fromordinal(days[-1]) if days and days[-1] != days[0] else None,
            label=_label(member_docs, member_profiles),
            kind=min(kinds.items(), key=lambda item: (-item[1], item[0]))[0] if kinds else None,  # ties: by name, not hash order
            participants=_participants(member_profiles),
            links=links,
            duplicates=duplicates,
        ))
    return events


def _script_share(text: str) -> float:
    import unicodedata

    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    known = sum(1 for c in letters if unicodedata.name(c, "").startswith(_SCRIPTS))
    return known / len(letters)


def undated_warnings(documents: list[Document], profiles: list[Profile]) -> list[Problem]:
    """Documents clustered with less evidence than usual: no event date, or a script the encoder may not know."""
    warnings = []
    for document, profile in zip(documents, profiles, strict=False):
        where = document.path or document.id
        if not profile.dated:
            warnings.append(Problem(path=where, code=UNDATED, set_aside=False,
                                    message="no event date found; grouped on content and names only"))
        body = " ".join(document.span_text(span) for span in document.body)
        if _script_share(body) < 0.5:
            warnings.append(Problem(path=where, code=UNKNOWN_SCRIPT, set_aside=False,
                                    message="mostly in a script the encoder may not cover; grouping may be unreliable"))
    return warnings
