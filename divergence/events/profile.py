"""What clustering knows about one document: its vectors, its event date, who takes part, what kind of event.

A profile is built once per document from the prepared document and its
claims; the pair signals in :mod:`divergence.events.same_event` read profiles only,
so synthetic profiles (benchmarks) and stored ones (the corpus store) go
through exactly the same code as freshly embedded documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from divergence.datamodel import Claim, Document
from divergence.events.copies import Fingerprint, content_hash, normalised_words, shingles
from divergence.judge.checks import name_key, name_runs, quantities

LEAD_CLAIMS = 3
NAME_STEM = 4  # four letters absorb inflection and transliteration: Келлером ~ Keller, Варгой ~ Varga


def name_stem(key: str) -> str:
    """The part of a name key that identifies a person across scripts and inflections.

    Keys spell Х as "ch" (Холт → cholt), which English writes "h": the stem drops the "c".
    """
    return key.replace("ch", "h")[:NAME_STEM]

# The kind of event a report is about, from the words of its lead. A call and
# a visit between the same two leaders are different events.
_KINDS = {
    "call": r"phone|telephone|call\b|called|video ?link|video ?call|téléphon|visioconférence|appel|телефон|видеосвяз|созвонил|telefon|llamada",
    "meeting": r"\bmet\b|meeting|talks\b|summit|rencontr|réuni|sommet|entrevue|встрет|встреч|переговор|саммит|treffen|trafen|gipfel|reuni",
    "visit": r"\bvisit|arriv|visite|arrivé|визит|прибыл|посет|besuch|visita",
}
_KIND_PATTERNS = {kind: re.compile(pattern, re.IGNORECASE) for kind, pattern in _KINDS.items()}


@dataclass
class Profile:
    id: str
    vector: np.ndarray = field(repr=False)
    """Unit vector of the document (mean of its centred claim vectors)."""
    claim_vectors: np.ndarray | None = field(default=None, repr=False)
    """Every claim's vector, in claim order (the judge reuses them)."""
    sentence_vectors: np.ndarray | None = field(default=None, repr=False)
    """The vectors of the claims that group documents: every claim but the headline."""
    day: int | None = None
    """Proleptic ordinal of the event date when its year is known."""
    month_day: tuple[int, int] | None = None
    """Month and day when only those are known (a year-less date without anchor)."""
    window_days: int = 0
    """The event may lie up to this many days before ``day`` / ``month_day``."""
    names: frozenset[str] = frozenset()
    """Keys (:func:`divergence.checks.name_key`) of every capitalised name in the document."""
    participants: frozenset[str] = frozenset()
    """Keys of the people (first and last name somewhere in the text) that the lead names."""
    display_names: dict[str, str] = field(default_factory=dict)
    kinds: frozenset[str] = frozenset()
    language: str | None = None
    content_hash: str = ""
    shingles: frozenset[int] = frozenset()
    label: str = ""
    figures: frozenset[float] = frozenset()
    """Distinctive figures the document states (:func:`distinctive_figures`): two reports of one jobs report both
    give its 266,000."""

    @property
    def fingerprint(self) -> Fingerprint:
        return Fingerprint(self.content_hash, self.shingles)

    @property
    def dated(self) -> bool:
        return self.day is not None or self.month_day is not None


_DIGIT = re.compile(r"\d")
FIGURE_DIGITS = 4
"""Figures are compared to four significant digits: "266,000 jobs" and "266 000" are one figure."""


def distinctive_figures(texts: list[str]) -> frozenset[float]:
    """The figures of ``texts`` that can identify a story: at least 100, a fraction, or a percentage. Small whole
    numbers ("two people", "three states") and years (left out by :func:`quantities`) are in every story."""
    found = set()
    for text in texts:
        if not _DIGIT.search(text):
            continue  # news writes such figures in digits: sentences without one need no parsing
        for quantity in quantities(text):
            value = quantity.value
            if value >= 100 or value != int(value) or quantity.unit == "percent":
                found.add(float(f"{value:.{FIGURE_DIGITS}g}"))
    return frozenset(found)


def event_kinds(text: str) -> frozenset[str]:
    return frozenset(kind for kind, pattern in _KIND_PATTERNS.items() if pattern.search(text))


def _date_fields(document: Document) -> tuple[int | None, tuple[int, int] | None, int]:
    mention = document.event_date
    if mention is None:
        return None, None, 0
    if mention.date is not None:
        return mention.date.toordinal(), None, mention.window_days
    if mention.month and mention.day:
        return None, (mention.month, mention.day), mention.window_days
    return None, None, 0


def _name_words(run: list[str]) -> list[str]:
    """A run's words without possessives and titles, hyphenated pairs split: "Holt-Sarin" names two people."""
    words = [part for word in run for part in _POSSESSIVE.sub("", word).split("-") if part]
    return [word for word in words if not _TITLE.match(word)]


def _keys(words: list[str], display: dict[str, str]) -> set[str]:
    keys = set()
    for word in words:
        key = name_key(word)
        if len(key) >= 3:
            keys.add(key)
            display.setdefault(key, word)
    return keys


_POSSESSIVE = re.compile(r"['’]s$")
# Capitalised runs that end in these words name institutions, not people.
_INSTITUTION = re.compile(
    r"^(?:council|union|committee|ministry|office|agency|service|party|parliament|assembly|bank|fund|"
    r"organi[sz]ation|nations|times|post|news|press|wire|courier|monitor|house|republic|federation|states|"
    r"conseil|comité|ministère|agence|parti|assemblée|république|fédération|"
    r"совет|союз|министерство|агентство|партия|республика|федерация)$",
    re.IGNORECASE,
)


# Runs that start with these words name a broadcaster or a paper ("Radio Nord", "Flash Ouest"), not a person.
_MEDIA = re.compile(r"^(?:radio|tv|télé|television|télévision|channel|journal|flash|радио|телеканал|газета)$", re.IGNORECASE)
# Titles are capitalised before a name ("Prime Minister Brandt") but name nobody.
_TITLE = re.compile(
    r"^(?:prime|minister|president|premier|première|chancellor|secretary|spokesman|spokeswoman|spokesperson|ambassador|king|queen|"
    r"ministre|présidente?|chancelier|porte-parole|министр|президент|премьер|канцлер)$",
    re.IGNORECASE,
)


def _is_title_case(text: str) -> bool:
    """Headlines In Title Case capitalise every word; their capitals say nothing about names."""
    words = [w for w in text.split() if w[:1].isalpha() and len(w) > 3]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)


def _people(texts: list[str], lead_texts: list[str], display: dict[str, str]) -> tuple[set[str], set[str]]:
    """All name keys, and the people of the lead.

    Without a NER model, a person is a name written at least once with a
    first name ("Elena Varga", "Антоном Келлером"); the lead may then use
    the family name alone.
    """
    every: set[str] = set()
    people: set[str] = set()
    for text in texts:
        for run in name_runs(text):
            whole = [_POSSESSIVE.sub("", word) for word in run]
            run = _name_words(run)
            every |= _keys(run, display)
            # "President Varga" names a person as surely as "Elena Varga" does.
            if run and len(whole) >= 2 and not _INSTITUTION.search(whole[-1]) and not _MEDIA.match(whole[0]) and not _is_title_case(text):
                people |= _keys(run[-1:], display)
    people_stems = {name_stem(key) for key in people}
    lead = {key for text in lead_texts for run in name_runs(text) for key in _keys(_name_words(run), display)}
    return every, {key for key in lead if name_stem(key) in people_stems}


def document_vector(claim_vectors: np.ndarray) -> np.ndarray:
    if len(claim_vectors) == 0:
        return np.zeros(claim_vectors.shape[1] if claim_vectors.ndim == 2 else 0, dtype=np.float32)
    mean = claim_vectors.mean(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-9)).astype(np.float32)


def sentence_rows(claims: list[Claim]) -> list[int]:
    """Positions of the claims that count in grouping documents into events: all but the headline."""
    return [i for i, claim in enumerate(claims) if not claim.headline]


def build_profile(document: Document, claims: list[Claim], claim_vectors: np.ndarray) -> Profile:
    """Profile of a prepared document whose claims are embedded (centred) in ``claim_vectors``.

    The headline claim is left out: the grouping signals were fitted on sentences, and the title enters the lead
    and the label as metadata anyway.
    """
    all_vectors = claim_vectors.astype(np.float32)
    rows = sentence_rows(claims)
    claims, claim_vectors = [claims[i] for i in rows], all_vectors[rows]
    body = " ".join(c.text for c in claims)
    lead_texts = ([document.title] if document.title else []) + [c.text for c in claims[:LEAD_CLAIMS]]
    display: dict[str, str] = {}
    every, participants = _people([document.title or ""] + [c.text for c in claims], lead_texts, display)
    day, month_day, window = _date_fields(document)
    words = normalised_words(body)
    label = document.title or (claims[0].text if claims else document.id)
    return Profile(
        id=document.id,
        vector=document_vector(claim_vectors),
        claim_vectors=all_vectors,
        sentence_vectors=claim_vectors,
        day=day,
        month_day=month_day,
        window_days=window,
        names=frozenset(every),
        participants=frozenset(participants),
        display_names=display,
        kinds=event_kinds(" ".join(lead_texts)),
        language=document.language,
        content_hash=content_hash(claims),
        shingles=shingles(words),
        label=label,
        figures=distinctive_figures([document.title or ""] + [c.text for c in claims]),
    )
