"""A large corpus for benchmarks, made from the fixtures by templated variation (nothing is written into the repo).

Variant ``k`` of every fixture event is a new event: its people get other names (the same
in every language and script of that variant, so the documents still report one event), its
dates move by ``k × DAY_STEP`` days, and its numbers by ``k``. The text around them is the
fixtures', so the documents read like news in English, French and Russian.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

DAY_STEP = 10
"""Days between two variants of an event: more than `time_block_days`, so variants are other events."""

# (Latin, Cyrillic stem): the Cyrillic stem takes the Russian case endings of the original (Келлер-ом).
# A feminine name in -a keeps its ending in both scripts (Varg-a, Варг-ой).
PEOPLE = (
    ("Keller", "Келлер"), ("Brandt", "Брандт"), ("Holt", "Холт"), ("Sarin", "Сарин"), ("Dovan", "Дован"),
    ("Varg", "Варг"), ("Anton", "Антон"), ("Elen", "Елен"), ("Ilse", "Ильзе"), ("Pavel", "Павел"),
    ("Oleg", "Олег"), ("Mir", "Мир"),
)
_SYLLABLES = (("ka", "ка"), ("ro", "ро"), ("mi", "ми"), ("le", "ле"), ("ta", "та"), ("no", "но"), ("ve", "ве"),
              ("si", "си"), ("du", "ду"), ("be", "бе"), ("lo", "ло"), ("ra", "ра"))
_ENDINGS = (("n", "н"), ("r", "р"), ("l", "л"), ("t", "т"), ("k", "к"), ("v", "в"))

MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря"),
}
_MONTH = {name.lower(): (language, number) for language, names in MONTHS.items() for number, name in enumerate(names, 1)}
_MONTH_NAMES = "|".join(sorted(map(re.escape, _MONTH), key=len, reverse=True))
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:er)? ({_MONTH_NAMES})\b", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b({_MONTH_NAMES}) (\d{{1,2}})\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\d:.,\-\w])(\d+)(?![\d:.,\-]\d|\w)")
REFERENCE_YEAR = 2025
"""The year a year-less fixture date is read in, only to move it (the variant is written year-less again)."""


def _placeholder(index: int) -> str:
    """A moved date's stand-in while numbers and names change: private-use characters, no digit to change."""
    return chr(0xE000 + index)


def person_name(variant: int, person: int) -> tuple[str, str]:
    """A made-up name (Latin, Cyrillic), different for every variant and person."""
    code = variant * len(PEOPLE) + person
    first = code % len(_SYLLABLES)
    second = code // len(_SYLLABLES) % len(_SYLLABLES)
    ending = code // len(_SYLLABLES) ** 2 % len(_ENDINGS)
    parts = [_SYLLABLES[first], _SYLLABLES[second], _ENDINGS[ending]]
    latin = "".join(p[0] for p in parts)
    return latin.capitalize(), "".join(p[1] for p in parts).capitalize()


def _moved(day: dt.date, variant: int) -> dt.date:
    return day + dt.timedelta(days=DAY_STEP * variant)


def _month_name(language: str, month: int, original: str) -> str:
    name = MONTHS[language][month - 1]
    return name.capitalize() if original[:1].isupper() else name


def vary_text(text: str, variant: int) -> str:
    """``text`` as variant ``variant`` tells it: other people, dates moved, numbers changed."""
    if variant == 0:
        return text
    kept: list[str] = []

    def hold(value: str) -> str:
        kept.append(value)
        return _placeholder(len(kept) - 1)

    def iso(match: re.Match) -> str:
        return hold(_moved(dt.date(*map(int, match.groups())), variant).isoformat())

    def day_month(match: re.Match) -> str:
        language, month = _MONTH[match.group(2).lower()]
        moved = _moved(dt.date(REFERENCE_YEAR, month, min(int(match.group(1)), 28)), variant)
        return hold(f"{moved.day} {_month_name(language, moved.month, match.group(2))}")

    def month_day(match: re.Match) -> str:
        language, month = _MONTH[match.group(1).lower()]
        moved = _moved(dt.date(REFERENCE_YEAR, month, min(int(match.group(2)), 28)), variant)
        return hold(f"{_month_name(language, moved.month, match.group(1))} {moved.day}")

    text = _ISO.sub(iso, text)
    text = _DAY_MONTH.sub(day_month, text)
    text = _MONTH_DAY.sub(month_day, text)
    text = _NUMBER.sub(lambda m: str(int(m.group(1)) + variant) if int(m.group(1)) > 2 else m.group(1), text)
    for person, (latin, cyrillic) in enumerate(PEOPLE):
        new_latin, new_cyrillic = person_name(variant, person)
        text = re.sub(rf"\b{latin}", new_latin, text)
        text = re.sub(rf"(?<![а-яё]){cyrillic}", new_cyrillic, text, flags=re.IGNORECASE)
    for index, value in enumerate(kept):
        text = text.replace(_placeholder(index), value)
    return text


def write_variants(fixtures: Path, target: Path, documents: int) -> list[Path]:
    """Write ``documents`` files (variants 0, 1, … of every fixture document) under ``target``; returns their paths."""
    sources = sorted(p for p in (Path(fixtures) / "events").rglob("*") if p.suffix in (".txt", ".md"))
    if not sources:
        raise FileNotFoundError(f"{fixtures}: no fixture documents under events/")
    written: list[Path] = []
    variant = 0
    while len(written) < documents:
        for source in sources:
            if len(written) == documents:
                break
            event = source.parent.name
            path = Path(target) / f"{event}-{variant:03d}" / f"{source.stem}-{variant:03d}{source.suffix}"
            path.parent.mkdir(parents=True, exist_ok=True)
            text = source.read_text(encoding="utf-8")
            # A front-matter id would make every variant the same document.
            text = re.sub(r"(?m)^id: (.+)$", rf"id: \1-{variant:03d}", text)
            path.write_text(vary_text(text, variant), encoding="utf-8")
            written.append(path)
        variant += 1
    return written
