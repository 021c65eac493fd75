"""Who says a claim: a named person, an institution, an anonymous source, or the outlet.

Attribution is read from the reporting frame around the content ("the
Kremlin said", "selon l'Élysée", "по словам Пескова", "a French official
told reporters"). A sentence that starts with a pronoun speaker ("He said")
inherits the previous sentence's speaker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SAY_EN = (
    r"said|says|told(?:\s+\w+){0,2}|noted|stressed|emphasi[sz]ed|underscored|added|stated|announced|reported|"
    r"insisted|claimed|argued|warned|explained|confirmed|declared|recalled"
)
_SAY_FR = (
    r"a\s+(?:déclaré|dit|affirmé|souligné|noté|indiqué|ajouté|expliqué|précisé|assuré|estimé|rapporté|annoncé|insisté)|"
    r"ont\s+(?:déclaré|dit|affirmé|souligné|noté|indiqué|ajouté|précisé|rapporté|annoncé)|"
    r"déclare|affirme|souligne|indique|précise|estime|rapporte"
)
_SAY_RU = (
    r"заявил[аи]?|сказал[аи]?|отметил[аи]?|подчеркнул[аи]?|сообщил[аи]?|добавил[аи]?|указал[аи]?|"
    r"рассказал[аи]?|пояснил[аи]?|заявляют|сообщает|сообщают|отмечается|говорится"
)
_SAY = rf"(?:{_SAY_EN}|{_SAY_FR}|{_SAY_RU})"
_SPEAKER = r"(?P<speaker>[^,;:«»\"“”]{2,80}?)"

_PATTERNS = [
    # ", the Kremlin said." / ", a déclaré le Kremlin." / ", заявил Песков."
    re.compile(rf",\s*(?:{_SAY})\s+{_SPEAKER}\s*[.!?]?[\"»”]?\s*$", re.IGNORECASE),
    re.compile(rf"[,»”\"]\s*{_SPEAKER}\s+(?:{_SAY})\b(?:[^,]*[.!?]?\s*$|,\s*(?:adding|ajoutant|добавив))", re.IGNORECASE),
    # "according to X" / "selon X" / "по словам X", "как сообщает X"
    re.compile(rf"(?:according\s+to|selon|d['’]après|по\s+словам|по\s+данным|как\s+сообщает|как\s+сообщили\s+в)\s+{_SPEAKER}(?:[,.]|$)", re.IGNORECASE),
    # "X said (that) ..." at the start of the sentence
    re.compile(rf"^(?:[^,]{{0,60}},\s*)?{_SPEAKER}\s+(?:{_SAY})\b", re.IGNORECASE),
]
_PRONOUN = re.compile(r"^(?:he|she|they|il|elle|ils|elles|он|она|они)$", re.IGNORECASE)
_INSTITUTION = re.compile(
    r"kremlin|élysée|elysee|elysée|ministry|ministère|министерств|press service|service de presse|пресс-служб|"
    r"кремл|government|gouvernement|правительств|office|cabinet|presidency|présidence|администрац|"
    r"white house|maison blanche|белый дом|embassy|ambassade|посольств|spokes|porte-parole|"
    r"\bMFA\b|\bМИД\b|council|conseil|совет",
    re.IGNORECASE,
)
_ANONYMOUS = re.compile(
    r"^(?:an?|one|un|une|des|some|several)\s+.*(?:official|source|diplomat|aide|responsable|source|conseiller|diplomate)s?\b|"
    r"(?:источник|чиновник|дипломат)\w*|officials?$|sources?$",
    re.IGNORECASE,
)
_QUOTES = re.compile(r"[«»“”„\"]")
_NOT_SPEAKER = re.compile(r"^(?:it|this|that|which|who|ce|cela|qui|это|что|which|and|but)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Attribution:
    speaker: str | None
    kind: str  # person | institution | anonymous | outlet
    quote: bool


def _tidy(speaker: str) -> str:
    speaker = re.sub(r"^(?:that|que|qu['’]|что)\s+", "", speaker.strip(), flags=re.IGNORECASE)
    speaker = re.sub(r"\s+(?:also|further|again|aussi|également|encore|также|еще|ещё)$", "", speaker, flags=re.IGNORECASE)
    return speaker.strip(" .,'\"«»“”")


def _kind(speaker: str) -> str:
    if _ANONYMOUS.search(speaker):
        return "anonymous"
    if _INSTITUTION.search(speaker):
        # "Глава МИД Остравии Павел Дован": an office holder named in full is a person.
        words = speaker.split()
        if len(words) >= 3 and all(w[:1].isupper() for w in words[-2:]) and not _INSTITUTION.search(" ".join(words[-2:])):
            return "person"
        return "institution"
    return "person"


def attribute(sentence: str, previous: Attribution | None = None) -> Attribution:
    quote = bool(_QUOTES.search(sentence))
    for pattern in _PATTERNS:
        match = pattern.search(sentence)
        if not match:
            continue
        speaker = _tidy(match.group("speaker"))
        if not speaker or _NOT_SPEAKER.match(speaker) or len(speaker.split()) > 9:
            continue
        if _PRONOUN.match(speaker):
            if previous and previous.speaker:
                return Attribution(previous.speaker, previous.kind, quote)
            continue
        return Attribution(speaker, _kind(speaker), quote)
    if quote and previous and previous.speaker and re.match(r"^\s*[«“\"]", sentence):
        return Attribution(previous.speaker, previous.kind, True)
    return Attribution(None, "outlet", quote)
