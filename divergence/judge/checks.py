"""Explicit conflict checks between a claim and its aligned evidence.

Each check reads small facts from both sides (quantities, dates, negation,
polarity of the main verb, who acts on whom) in English, French or Russian
and reports the conflicting spans. They are only asked about pairs that are
already aligned, so "different number" means "different number for the same
statement".
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

from divergence.datamodel import Conflict
from divergence.ingest.dates import find_dates, same_day

_NUMBER_WORDS = {
    # en
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "hundred": 100, "half": 0.5,
    # fr
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "quinze": 15, "vingt": 20, "trente": 30, "quarante": 40,
    "cinquante": 50, "cent": 100, "demi": 0.5, "demie": 0.5,
    # ru
    "один": 1, "одна": 1, "одного": 1, "одной": 1, "два": 2, "две": 2, "двух": 2, "три": 3, "трех": 3, "трёх": 3,
    "четыре": 4, "четырех": 4, "пять": 5, "пяти": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9,
    "десять": 10, "двадцать": 20, "тридцать": 30, "сто": 100, "полтора": 1.5, "полчаса": 0.5,
}
_UNITS = {
    "hour": "hour", "heure": "hour", "час": "hour", "часа": "hour", "часов": "hour", "часу": "hour",
    "minute": "minute", "минут": "minute", "минуты": "minute", "минуту": "minute",
    "day": "day", "jour": "day", "journée": "day", "день": "day", "дня": "day", "дней": "day", "сутки": "day",
    "week": "week", "semaine": "week", "недел": "week",
    "month": "month", "mois": "month", "месяц": "month", "месяца": "month", "месяцев": "month",
    "year": "year", "an": "year", "ans": "year", "année": "year", "год": "year", "года": "year", "лет": "year",
    "people": "people", "person": "people", "personne": "people", "человек": "people", "людей": "people",
    "percent": "percent", "%": "percent", "pourcent": "percent", "процент": "percent", "процента": "percent",
    "процентов": "percent",
    "prisoner": "prisoner", "prisonnier": "prisoner", "заключенн": "prisoner", "пленн": "prisoner",
    "soldier": "soldier", "soldat": "soldier", "военн": "soldier",
    "dollar": "dollar", "$": "dollar", "доллар": "dollar", "euro": "euro", "€": "euro", "евро": "euro",
    "rouble": "rouble", "ruble": "rouble", "рубл": "rouble",
    "ton": "ton", "tonne": "ton", "тонн": "ton", "km": "km", "kilometre": "km", "kilometer": "km", "километр": "km",
    "agreement": "agreement", "accord": "agreement", "соглашени": "agreement",
    "country": "country", "pays": "country", "стран": "country",
}
_COMPARATOR = re.compile(
    r"(more than|over|at least|plus d['’]|plus de|au moins|более|больше|свыше|не менее|less than|under|moins d['’]|moins de|менее|меньше|нескольк|about|around|nearly|almost|environ|près de|около|почти)\s*$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:[ ,.\u00a0\u202f]\d{3})+|\d+(?:[.,]\d+)?)(?![\w])|%|[^\W\d_]+", re.UNICODE)
_NEGATION = re.compile(
    r"\b(?:not|no|never|n['’]t|neither|nor|without|cannot|"
    r"ne|n['’]|pas|jamais|aucun|aucune|sans|ni|"
    r"не|нет|ни|никогда|без|отнюдь)\b",
    re.IGNORECASE,
)
_POLARITY = {
    "agree": (
        r"agree|accept|approv|consent|endors|welcom|support|back(?:ed|s)?\b|confirm|"
        r"convenu|convenir|accept|approuv|soutenu|soutien|salu|confirm|"
        r"соглас|договорил|одобр|поддерж|приветств|подтверд",
        r"refus|reject|declin|oppos|den(?:y|ied|ies)|condemn|veto|dismiss|"
        r"refus|rejet|oppos|dément|condamn|"
        r"отказ|отверг|отклон|против|опроверг|осуд",
    ),
    "increase": (r"increas|rais|grow|rose|augment|hausse|увелич|рост|вырос", r"decreas|reduc|cut|fell|fall|baiss|dimin|сократ|сниз|упал"),
    "success": (r"success|succeed|réussi|succès|успе", r"fail|échou|échec|провал|неудач"),
}
_PASSIVE = re.compile(r"\b(?:by|par|был[аи]?\s+\w+|were\s+\w+ed|was\s+\w+ed)\b", re.IGNORECASE)
_NAME = re.compile(r"\b([A-ZÀ-ÖØ-ÞА-ЯЁ][\w’'-]+(?:\s+[A-ZÀ-ÖØ-ÞА-ЯЁ][\w’'-]+)*)", re.UNICODE)
_STOP_NAMES = {
    "the", "a", "an", "in", "on", "at", "le", "la", "les", "l", "un", "une", "en", "à", "il", "elle", "ils",
    "this", "that", "he", "she", "they", "it", "but", "and", "however", "president", "président", "presidents",
    "présidents", "минист", "президент", "в", "на", "по", "он", "она", "они", "и", "но", "what", "when",
    "during", "after", "before", "according", "selon", "comme", "lors", "après", "avant", "также", "as",
}


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str | None
    comparator: str | None
    text: str


_NUMBER_WORDS.update({"forty": 40, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "thousand": 1000,
                      "soixante": 60, "mille": 1000, "thirteen": 13, "fourteen": 14, "sixteen": 16, "eighteen": 18})
# Russian number words inflect ("двенадцать", "двенадцатью"): match their stems.
_RU_NUMBER_STEMS = {
    "одиннадцат": 11, "двенадцат": 12, "тринадцат": 13, "четырнадцат": 14, "пятнадцат": 15, "шестнадцат": 16,
    "двадцат": 20, "тридцат": 30, "сорок": 40, "пятьдесят": 50, "пятидесят": 50, "шестьдесят": 60, "шестидесят": 60,
    "тысяч": 1000, "трем": 3, "четыр": 4, "пят": 5, "шест": 6, "сем": 7, "восем": 8, "восьм": 8, "девят": 9, "десят": 10,
}


def _to_number(token: str) -> float | None:
    token = token.lower()
    if token in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[token])
    if re.match(r"[а-яё]", token):
        for stem, value in sorted(_RU_NUMBER_STEMS.items(), key=lambda kv: -len(kv[0])):
            if token.startswith(stem) and len(token) <= len(stem) + 4:
                return float(value)
        return None
    digits = re.sub(r"[ ,\u00a0\u202f]", "", token) if re.search(r"\d[ ,\u00a0\u202f]\d{3}", token) else token.replace(",", ".")
    try:
        return float(digits)
    except ValueError:
        return None


def _unit(word: str) -> str | None:
    word = word.lower().replace("ё", "е")
    for stem, unit in _UNITS.items():
        if word == stem or (len(stem) > 3 and word.startswith(stem)):
            return unit
    return None


_SCALES = {
    "thousand": 1e3, "thousands": 1e3, "million": 1e6, "millions": 1e6, "billion": 1e9, "billions": 1e9, "bn": 1e9,
    "mille": 1e3, "milliard": 1e9, "milliards": 1e9,
    "тыс": 1e3, "тысяча": 1e3, "тысячи": 1e3, "тысяч": 1e3, "млн": 1e6, "миллион": 1e6, "миллиона": 1e6, "миллионов": 1e6,
    "млрд": 1e9, "миллиард": 1e9, "миллиарда": 1e9, "миллиардов": 1e9,
}
_CURRENCY_BEFORE = re.compile(r"([$€])\s*$")


def _scale(word: str) -> float | None:
    return _SCALES.get(word.lower())


@lru_cache(maxsize=8192)
def quantities(text: str) -> tuple[Quantity, ...]:
    """Numbers with their unit (the next word) and comparator ("more than").

    Cached: a piece of evidence is read against every claim it is the best match for.
    """
    tokens = list(_NUMBER.finditer(text))
    dates = [(m.start, m.end) for m in find_dates(text)]
    found = []
    for i, token in enumerate(tokens):
        raw = token.group(0)
        value = _to_number(raw)
        if value is None:
            continue
        if any(a <= token.start() < b for a, b in dates):
            continue
        is_digit = raw[0].isdigit()
        if is_digit and 1900 <= value <= 2100 and "." not in raw:
            continue  # a year: dates are compared by the date check
        # "27,5 milliards de dollars", "9,4 млрд долларов", "two million people": a scale, then the unit.
        index, end = i + 1, token.end()
        if index < len(tokens) and _scale(tokens[index].group(0)):
            value *= _scale(tokens[index].group(0))
            end = tokens[index].end()
            index += 1
            if index < len(tokens) and tokens[index].group(0).lower() in ("de", "d", "of"):
                index += 1
        # A digit may be followed by an adjective before its unit; a number word must touch it.
        window = tokens[index : index + (2 if is_digit else 1)]
        unit_token = next(((t, u) for t, u in ((t, _unit(t.group(0))) for t in window) if u), None)
        unit = unit_token[1] if unit_token else None
        if unit_token:
            end = unit_token[0].end()
        elif (currency := _CURRENCY_BEFORE.search(text, 0, token.start())) is not None:
            unit = _UNITS[currency.group(1)]  # "$9.4 billion"
        if not is_digit and unit is None:
            continue  # "a", "un", "one" without a unit are articles, not counts
        before = text[max(0, token.start() - 20) : token.start()]
        comparator = _COMPARATOR.search(before)
        start = token.start() - (len(comparator.group(0)) if comparator else 0)
        found.append(Quantity(value, unit, comparator.group(1).lower() if comparator else None, text[start:end].strip()))
    return tuple(found)


_BASE_UNITS = {"hour": ("minute", 60.0), "day": ("minute", 1440.0), "week": ("minute", 10080.0)}


def _in_base_unit(q: Quantity) -> Quantity:
    if q.unit in _BASE_UNITS:
        base, factor = _BASE_UNITS[q.unit]
        return Quantity(q.value * factor, base, q.comparator, q.text)
    return q


def _compatible(a: Quantity, b: Quantity) -> bool:
    if a.value == b.value:
        return True
    if a.comparator or b.comparator:
        low_a, low_b = (a.comparator or ""), (b.comparator or "")
        if re.match(r"more|over|at least|plus|au moins|более|больше|свыше|не менее", low_a):
            return b.value > a.value
        if re.match(r"more|over|at least|plus|au moins|более|больше|свыше|не менее", low_b):
            return a.value > b.value
        if re.match(r"about|around|nearly|almost|environ|près|около|почти|нескольк", low_a + low_b):
            return abs(a.value - b.value) <= 0.2 * max(a.value, b.value)
        return b.value < a.value if low_a else a.value < b.value
    return False


def number_conflicts(claim: str, evidence: str) -> list[Conflict]:
    mine = [_in_base_unit(q) for q in quantities(claim)]
    theirs = [_in_base_unit(q) for q in quantities(evidence)]
    conflicts = []
    for q in mine:
        same_unit = [t for t in theirs if t.unit and t.unit == q.unit]
        if q.unit is None:
            # A bare number conflicts only when each side has exactly one.
            same_unit = [t for t in theirs if t.unit is None] if len(mine) == 1 and len(theirs) == 1 else []
        if same_unit and not any(_compatible(q, t) for t in same_unit):
            conflicts.append(Conflict(kind="number", claim_span=q.text, evidence_span=same_unit[0].text))
    return conflicts


def date_conflicts(claim: str, evidence: str) -> list[Conflict]:
    mine, theirs = find_dates(claim), find_dates(evidence)
    conflicts = []
    for a in mine:
        comparable = [b for b in theirs if same_day(a, b) is not None]
        if comparable and not any(same_day(a, b) for b in comparable):
            conflicts.append(Conflict(kind="date", claim_span=a.text, evidence_span=comparable[0].text))
    return conflicts


_NOT_NEGATION = re.compile(r"\b(?:not only|not just|no doubt|non seulement|ne \w+ que|не только|ни один из)\b", re.IGNORECASE)


def negations(text: str) -> list[str]:
    text = _NOT_NEGATION.sub(" ", text)
    found = [m.group(0) for m in _NEGATION.finditer(text)]
    # French "ne ... pas" is one negation, not two.
    if any(w.lower() in ("ne", "n'", "n’") for w in found):
        found = [w for w in found if w.lower() not in ("pas", "jamais")] or found
    return found


def negation_conflicts(claim: str, evidence: str) -> list[Conflict]:
    a, b = negations(claim), negations(evidence)
    if (len(a) % 2) != (len(b) % 2):
        return [Conflict(kind="negation", claim_span=" ".join(a) or "(affirmative)", evidence_span=" ".join(b) or "(affirmative)")]
    return []


def polarity_conflicts(claim: str, evidence: str) -> list[Conflict]:
    conflicts = []
    for kind, (positive, negative) in _POLARITY.items():
        pa, na = re.search(positive, claim, re.I), re.search(negative, claim, re.I)
        pb, nb = re.search(positive, evidence, re.I), re.search(negative, evidence, re.I)
        if pa and not na and nb and not pb:
            conflicts.append(Conflict(kind="modality" if kind == "agree" else "antonym", claim_span=_word_at(claim, pa), evidence_span=_word_at(evidence, nb)))
        elif na and not pa and pb and not nb:
            conflicts.append(Conflict(kind="modality" if kind == "agree" else "antonym", claim_span=_word_at(claim, na), evidence_span=_word_at(evidence, pb)))
    return conflicts


def _word_at(text: str, match: re.Match) -> str:
    start = text.rfind(" ", 0, match.start()) + 1
    end = text.find(" ", match.end())
    return text[start : end if end >= 0 else len(text)].strip(" ,.;:«»\"“”")


@lru_cache(maxsize=4096)
def name_key(name: str) -> str:
    """A spelling-independent key: Путин, Poutine and Putin share one."""
    key = anyascii(name).lower()
    key = re.sub(r"[^a-z]", "", key)
    for a, b in (("ou", "u"), ("tch", "ch"), ("sh", "ch"), ("k", "c"), ("y", "i"), ("j", "i"), ("ph", "f"), ("w", "v")):
        key = key.replace(a, b)
    key = re.sub(r"(.)\1+", r"\1", key)
    return re.sub(r"(?<=.{3})[eaiu]$", "", key)


def name_runs(text: str) -> list[list[str]]:
    """Runs of capitalised words with stop words dropped: 'President Anton Keller' → ['Anton', 'Keller']."""
    runs = []
    for match in _NAME.finditer(text):
        words = [w for w in match.group(1).split() if w.lower().strip("’'") not in _STOP_NAMES and not find_dates(f"1 {w}")]
        if words:
            runs.append(words)
    return runs


@lru_cache(maxsize=8192)
def names(text: str) -> tuple[tuple[str, int], ...]:
    """Capitalised names with their position; the sentence's first word only if it is not a stop word (cached)."""
    found = []
    for match in _NAME.finditer(text):
        words = [w for w in match.group(1).split() if w.lower().strip("’'") not in _STOP_NAMES and not find_dates(f"1 {w}")]
        if not words:
            continue
        # The family name carries identity across languages: "Vladimir Putin" ~ "Poutine".
        found.append((words[-1], match.start()))
    return tuple(found)


@lru_cache(maxsize=65536)
def same_name(a: str, b: str) -> bool:
    ka, kb = name_key(a), name_key(b)
    if not ka or not kb:
        return False
    return ka == kb or difflib.SequenceMatcher(None, ka, kb).ratio() >= 0.8


_SYMMETRIC = re.compile(
    r"\b(?:and|et|и)\b|with|avec|\bс\b|talk|spoke|conversation|call|met\b|meet|discuss|entretien|entretenu|convers|rencontr|"
    r"разговор|беседа|встрет|обсуд",
    re.IGNORECASE,
)


def actor_conflicts(claim: str, evidence: str) -> list[Conflict]:
    """'Macron urged Putin' against 'Putin urged Macron': same two people, roles swapped."""
    if _PASSIVE.search(claim) or _PASSIVE.search(evidence):
        return []
    # "A spoke with B" and "B and A talked" describe one symmetric act: no roles to swap.
    if _SYMMETRIC.search(claim) and _SYMMETRIC.search(evidence):
        return []
    mine, theirs = names(claim), names(evidence)
    if len(mine) < 2 or len(theirs) < 2:
        return []
    first_a, second_a = mine[0][0], next((n for n, _ in mine[1:] if not same_name(n, mine[0][0])), None)
    if second_a is None:
        return []
    order_b = [n for n, _ in theirs]
    pos_first = next((i for i, n in enumerate(order_b) if same_name(n, first_a)), None)
    pos_second = next((i for i, n in enumerate(order_b) if same_name(n, second_a)), None)
    if pos_first is None or pos_second is None:
        return []
    if pos_second < pos_first and pos_second == 0:
        return [Conflict(kind="actor", claim_span=f"{first_a} … {second_a}", evidence_span=f"{order_b[pos_second]} … {order_b[pos_first]}")]
    return []


# Conflicts of fact, believed on any alignment; negation and polarity are only believed on close ones.
FACTUAL_CONFLICTS = frozenset({"number", "date", "actor"})


def find_conflicts(claim: str, evidence: str, strict: bool) -> list[Conflict]:
    """All explicit conflicts; negation and polarity need ``strict`` (a very close alignment)."""
    conflicts = number_conflicts(claim, evidence) + date_conflicts(claim, evidence) + actor_conflicts(claim, evidence)
    if strict:
        conflicts += polarity_conflicts(claim, evidence) or negation_conflicts(claim, evidence)
    return conflicts
