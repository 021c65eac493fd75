"""Who says a claim: a named person, an institution, an anonymous source, or the outlet.

Attribution is read from the reporting frame around the content ("the
Kremlin said", "selon l'Élysée", "по словам Пескова", "a French official
told reporters"). A sentence that starts with a pronoun speaker ("He said")
inherits the previous sentence's speaker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from divergence.datamodel import AttributionDivergence, Claim
from divergence.judge.checks import name_key, name_runs, same_name

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


_INSTITUTION_KEYS = {
    "kremlin": r"kremlin|кремл", "elysee": r"[ée]lys[ée]e", "white-house": r"white house|maison blanche|белый дом",
    "foreign-ministry": r"foreign ministry|ministère des affaires étrangères|\bmfa\b|\bмид\b|quai d['’]orsay",
    "government": r"government|gouvernement|правительств", "presidency": r"presidency|présidence|администрац",
}


def speaker_keys(speaker: str | None) -> set[str]:
    """What identifies a speaker across languages: name keys of its capitalised words and known institutions."""
    if not speaker:
        return set()
    keys = {name_key(run[-1]) for run in name_runs(speaker)}
    keys |= {key for key, pattern in _INSTITUTION_KEYS.items() if re.search(pattern, speaker, re.IGNORECASE)}
    return {k for k in keys if k}


def same_speaker(a: str | None, b: str | None) -> bool:
    keys_a, keys_b = speaker_keys(a), speaker_keys(b)
    return any(x == y or same_name(x, y) for x in keys_a for y in keys_b)


def attribution_divergence(claim: Claim, evidence_claims: list[Claim]) -> AttributionDivergence | None:
    """How the attribution of a claim differs from that of the evidence saying the same thing, or None.

    Joined evidence counts as attributed when any of its sentences is.
    """
    attributed = [c for c in evidence_claims if c.speaker_kind != "outlet"]
    other = attributed[0] if attributed else (evidence_claims[0] if evidence_claims else None)
    if other is None:
        return None
    mine_outlet, theirs_outlet = claim.speaker_kind == "outlet", other.speaker_kind == "outlet"
    if mine_outlet and theirs_outlet:
        return None
    if mine_outlet:
        return AttributionDivergence(kind="fact_vs_attributed", claim_speaker=None, evidence_speaker=other.speaker,
                                     description=f"stated as fact here; the other source attributes it to {other.speaker}")
    if theirs_outlet:
        return AttributionDivergence(kind="attributed_vs_fact", claim_speaker=claim.speaker, evidence_speaker=None,
                                     description=f"attributed to {claim.speaker} here; the other source states it as fact")
    if claim.speaker_kind == other.speaker_kind == "anonymous" or same_speaker(claim.speaker, other.speaker):
        return None
    return AttributionDivergence(kind="speaker", claim_speaker=claim.speaker, evidence_speaker=other.speaker,
                                 description=f"said by {claim.speaker} here, by {other.speaker} in the other source")
