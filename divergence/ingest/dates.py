"""Dates named in a text, resolved against an anchor when one is known.

News copy names dates without a year ("16 November") or relative to the day
of publication ("this Friday", "on Thursday", "hier"). Such a date is only
resolved against an anchor (the publication date, or failing that a full
date written elsewhere in the same document); without one, its month and
day are kept and it is marked uncertain.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from divergence.datamodel import DateMention

_MONTH_NAMES = {
    1: "january|janvier|janv|jan|январ[ья]|янв",
    2: "february|février|fevrier|févr|feb|феврал[ья]|фев",
    3: "march|mars|mar|марта?",
    4: "april|avril|avr|apr|апрел[ья]|апр",
    5: "may|mai|ма[яй]",
    6: "june|juin|jun|июн[ья]",
    7: "july|juillet|juil|jul|июл[ья]",
    8: "august|août|aout|aug|августа?|авг",
    9: "september|septembre|sept|sep|сентябр[ья]|сен",
    10: "october|octobre|oct|октябр[ья]|окт",
    11: "november|novembre|nov|ноябр[ья]|ноя",
    12: "december|décembre|decembre|dec|déc|декабр[ья]|дек",
}
_MONTH = "|".join(_MONTH_NAMES.values())
_WEEKDAYS = {
    0: "monday|lundi|понедельник",
    1: "tuesday|mardi|вторник",
    2: "wednesday|mercredi|сред[ау]",
    3: "thursday|jeudi|четверг",
    4: "friday|vendredi|пятниц[аы]|пятницу",
    5: "saturday|samedi|суббот[аыу]",
    6: "sunday|dimanche|воскресенье",
}
_WEEKDAY = "|".join(_WEEKDAYS.values())
_RELATIVE_DAYS = {
    "today": 0, "aujourd'hui": 0, "aujourd’hui": 0, "сегодня": 0,
    "yesterday": -1, "hier": -1, "вчера": -1,
    "the day before yesterday": -2, "avant-hier": -2, "позавчера": -2,
}

_DAY_MONTH = re.compile(
    rf"\b(?P<day>[0-3]?\d)(?:er|st|nd|rd|th)?\s+(?P<month>{_MONTH})\.?(?:,?\s+(?P<year>(?:19|20)\d\d))?\b",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(
    rf"\b(?P<month>{_MONTH})\.?\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>(?:19|20)\d\d))?",
    re.IGNORECASE,
)
_ISO = re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b")
_WEEKDAY_PHRASE = re.compile(
    rf"\b(?:(?:this|last|on|ce|cette|в(?:о)?|этот|эту|прошл\w+)\s+)?(?P<weekday>{_WEEKDAY})\b(?!\s*,?\s*(?:[0-3]?\d\b|{_MONTH}))",
    re.IGNORECASE,
)
_RELATIVE = re.compile(r"\b(?:the day before yesterday|avant-hier|позавчера|today|aujourd['’]hui|сегодня|yesterday|hier|вчера)\b", re.IGNORECASE)


@lru_cache(maxsize=256)
def _month_number(name: str) -> int | None:
    name = name.lower().rstrip(".")
    for number, pattern in _MONTH_NAMES.items():
        if re.fullmatch(pattern, name):
            return number
    return None


def _weekday_number(name: str) -> int | None:
    name = name.lower()
    for number, pattern in _WEEKDAYS.items():
        if re.fullmatch(pattern, name):
            return number
    return None


def names_day_or_month(word: str) -> bool:
    """Whether ``word`` is a month or weekday name (any language the date finder reads)."""
    return _month_number(word) is not None or _weekday_number(word) is not None


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _shifted(anchor: dt.date, days: int) -> dt.date | None:
    """``anchor`` moved by ``days``; None past either end of the calendar (a document dated 9999-12-31 must not crash)."""
    try:
        return anchor + dt.timedelta(days=days)
    except OverflowError:
        return None


def _nearest_past(month: int, day: int, anchor: dt.date) -> dt.date | None:
    """Year-less dates in news are in the past of the anchor, or at most a few days ahead."""
    latest = _shifted(anchor, 7) or dt.date.max
    for year in (anchor.year + 1, anchor.year, anchor.year - 1):
        candidate = _safe_date(year, month, day)
        if candidate and candidate <= latest:
            return candidate
    return None


def find_dates(text: str, anchor: dt.date | None = None, offset: int = 0) -> list[DateMention]:
    """Every date mention in ``text``; offsets are shifted by ``offset``."""
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for pattern in (_ISO, _DAY_MONTH, _MONTH_DAY):
        for match in pattern.finditer(text):
            if not free(match.start(), match.end()):
                continue
            month_text = match.group("month")
            month = int(month_text) if month_text.isdigit() else _month_number(month_text)
            day = int(match.group("day"))
            if not month or not 1 <= day <= 31:
                continue
            year = match.group("year")
            if year:
                date, certain = _safe_date(int(year), month, day), True
            elif anchor:
                date, certain = _nearest_past(month, day, anchor), True
            else:
                date, certain = None, False
            taken.append((match.start(), match.end()))
            found.append(
                DateMention(text=match.group(0), start=offset + match.start(), end=offset + match.end(),
                            date=date, month=month, day=day, certain=certain and date is not None)
            )
    for match in _WEEKDAY_PHRASE.finditer(text):
        if not free(match.start(), match.end()):
            continue
        weekday = _weekday_number(match.group("weekday"))
        date = None
        if anchor is not None and weekday is not None:
            back = (anchor.weekday() - weekday) % 7
            date = _shifted(anchor, -back)
        taken.append((match.start(), match.end()))
        found.append(DateMention(text=match.group(0), start=offset + match.start(), end=offset + match.end(),
                                 date=date, certain=date is not None))
    for match in _RELATIVE.finditer(text):
        if not free(match.start(), match.end()):
            continue
        shift = _RELATIVE_DAYS.get(match.group(0).lower().replace("’", "'"), 0)
        date = _shifted(anchor, shift) if anchor else None
        found.append(DateMention(text=match.group(0), start=offset + match.start(), end=offset + match.end(),
                                 date=date, certain=date is not None))
    found.sort(key=lambda mention: mention.start)
    return found


def same_day(a: DateMention, b: DateMention) -> bool | None:
    """True/False when the two mentions can be compared, None when they cannot."""
    if a.date and b.date:
        return a.date == b.date
    if a.month and a.day and b.month and b.day:
        return (a.month, a.day) == (b.month, b.day)
    return None
