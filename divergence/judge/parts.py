"""A claim that states several facts, judged fact by fact: its status combines theirs.

``partial`` is where a claim's facts part ways: some of its atoms (``Claim.atoms``)
are supported by the other document, others are absent. Each atom's statement is
aligned and judged on its own (by the same judge as whole claims); the claim's
status is :func:`divergence.judge.aggregate.combine` of theirs, and the reason says
which parts the other document holds and which it leaves out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from divergence.config import Settings
from divergence.datamodel import Atom, Claim, Document, Judgement, PartJudgement, Status
from divergence.ingest.words import content_words
from divergence.judge.aggregate import combine
from divergence.judge.align import Match, evidence_units
from divergence.judge.checks import names, quantities, same_name
from divergence.judge.classifier import CLASSES, ClaimJudge, judge
from divergence.judge.features import DocumentFacts
from divergence.judge.territories import country_of, mentioned

PROPER_NAMES_ONLY = {"fr", "ru"}
"""Languages (of those with atoms) whose capitalised words inside a sentence are names only."""


def judged_atoms(claim: Claim) -> list[Atom]:
    """The atoms the judge reads one by one: those of a claim that states several facts, else none."""
    return claim.atoms if len(claim.atoms) >= 2 else []


def atom_statements(claims: Sequence[Claim]) -> tuple[list[int], list[str]]:
    """(index of the owning claim, statement) of every judged atom of ``claims``, in claim order."""
    owners, statements = [], []
    for index, claim in enumerate(claims):
        for atom in judged_atoms(claim):
            owners.append(index)
            statements.append(atom.statement)
    return owners, statements


def judged_texts(document: Document, claims: list[Claim], settings: Settings) -> list[str]:
    """Every text the judge embeds for ``document`` besides its claims: joined evidence units and, when atoms are
    judged, the atoms' statements (so an engine or a prefetch can embed them in one batch beforehand)."""
    texts = [u.text for u in evidence_units(document, claims, settings.evidence_window)[len(claims) :]]
    if settings.judge_atoms:
        texts += atom_statements(claims)[1]
    return texts


def _as_claim(claim: Claim, atom: Atom) -> Claim:
    """The atom's statement as a claim of the same document, language and speaker (what the judge reads)."""
    return claim.model_copy(update={"text": atom.statement, "start": atom.start, "end": atom.end, "atoms": []})


EXONYMS: tuple[tuple[str, ...], ...] = (
    ("States", "USA", "US", "États-Unis", "Etats-Unis", "США", "Штаты"),  # "the United States": its last word
    ("Union", "EU", "UE", "ЕС", "Евросоюз"),
    ("Kingdom", "Britain", "UK", "Royaume-Uni", "Grande-Bretagne", "Великобритания", "Британия"),
    ("Turkey", "Türkiye", "Turquie", "Турция"),
    ("NATO", "OTAN", "НАТО"),
    ("Nations", "UN", "ONU", "ООН"),
    ("Geneva", "Genève", "Женева"),
    ("London", "Londres", "Лондон"),
    ("Beijing", "Pékin", "Пекин"),
    ("Warsaw", "Varsovie", "Варшава"),
)
"""Names CLDR's country names (judge/territories.py) do not cover: blocs, cities, abbreviations and the last words of
two-word names ("the United States"), which languages spell differently (spelling keys cannot match "США" and
"États-Unis"): across languages a part naming one is not absent where the other names it."""


def _named_there(name: str, facts: DocumentFacts) -> bool:
    """Whether the other document names ``name``: as spelled, or (across languages) by its exonym."""
    if facts.has_name(name):
        return True
    return any(facts.has_name(other) for group in EXONYMS if any(same_name(name, v) for v in group) for other in group)


def _own_names(claim: Claim, atom: Atom) -> list[tuple[str, int]]:
    """Names among the atom's own words, with where their run of capitalised words starts; the claim's first word is left out (a capital there is the sentence's: "Leaders
    of …")."""
    offset = atom.start - claim.start
    return [(n, at) for n, at in names(claim.text) if offset <= at < offset + len(atom.text) and at > 0]


def unsaid_words(claim: Claim, atom: Atom, facts: DocumentFacts) -> list[str]:
    """The atom's own words that the other document never states: numbers and names it lacks (across languages,
    countries from any language, other names only from French or Russian), or, within one language, all the atom's content words when it uses none of them.

    An atom's statement repeats the claim's shared words (the subject, "X said that", "discussed"), and those
    are what a same-topic sentence matches ("The two presidents discussed Mali" against "… discussed Libya"). The
    fact is in the atom's own words: a name or number of them that the other document never states is not there.
    """
    language = claim.language
    same_language = bool(language) and language == facts.language
    # Across languages a name counts only from a language that capitalises nothing but names: English also capitalises
    # nationalities, languages and words of titles, which the other language translates ("French" / "français"); and
    # only against a script with capitals (a Chinese report names no one in Latin letters). A country counts from any
    # language: CLDR spells it in the other one.
    names_count = same_language or (language in PROPER_NAMES_ONLY and facts.names)
    missing = []
    for name, position in _own_names(claim, atom):
        # Only a name standing alone: "New Jersey" and "Papua New Guinea" end in a country's name.
        alone = re.match(rf"(?:\w[’'])?{re.escape(name)}", claim.text[position:]) is not None
        country = None if same_language or not alone else country_of(name, language)
        if country is not None:
            if not mentioned(country, facts.text, facts.language, language) and not _named_there(name, facts):
                missing.append(name)
        elif names_count and not _named_there(name, facts) \
                and not (same_language and any(w.stem in facts.stems for w in content_words(name, language))):
            missing.append(name)
    missing += [q.text for q in quantities(atom.text) if q.value > 2 and q.value not in facts.numbers]
    if missing or not same_language:
        return list(dict.fromkeys(missing))
    words = content_words(atom.text, claim.language)
    return [w.text for w in words] if words and not any(w.stem in facts.stems for w in words) else []


def _with_whole(whole: Judgement) -> Judgement:
    return whole.model_copy(update={"reason": f"said with the rest of the claim: {whole.reason}"})


def judge_parts(claim: Claim, whole: Judgement, matches: Sequence[Match | None], facts: DocumentFacts, model: ClaimJudge,
                settings: Settings) -> list[tuple[PartJudgement, Judgement]]:
    """Each atom of ``claim`` judged against its own best evidence (``matches``, one per atom); ``whole`` is the
    judgement of the whole claim.

    A part whose own words the other document never states (:func:`unsaid_words`) is absent, whatever its shared
    words match. A part found supported or contradicted on its own is so. Otherwise, when the whole claim is covered
    (supported, or partly on aligned evidence), a part takes the whole claim's status: a part's statement is shorter
    than the evidence written for the whole claim and reads as less covered on its own (measured on REFreSD's
    translated pairs: parts called absent there were mostly said), so a covered claim loses a part only on explicit
    evidence that the part's words are missing.
    """
    parts = []
    for atom, match in zip(judged_atoms(claim), matches, strict=True):
        judgement, _ = judge(_as_claim(claim, atom), match, facts, model, settings)
        unsaid = unsaid_words(claim, atom, facts) if judgement.status is not Status.contradicted else []
        if unsaid and judgement.status is not Status.absent:
            reason = f"the other document never says {', '.join(repr(w) for w in unsaid)}"
            # A rule, not the model's estimate: no probabilities (combined as a certain absent).
            judgement = judgement.model_copy(update={"status": Status.absent, "reason": reason, "missing": unsaid, "probabilities": {}})
        elif not unsaid and whole.status in (Status.supported, Status.partial) and judgement.status in (Status.partial, Status.absent) \
                and judgement.status is not whole.status:
            judgement = _with_whole(whole)
        part = PartJudgement(start=atom.start, end=atom.end, text=atom.text, status=judgement.status, score=judgement.score,
                             evidence=judgement.evidence, reason=judgement.reason)
        parts.append((part, judgement))
    return parts


def combined_probabilities(judgements: Sequence[Judgement]) -> dict[str, float]:
    """The claim's probabilities from its parts', taken as independent: supported when every part is, absent when
    every part is, contradicted when any part is; partial is the rest. Parts that were not scored count as absent."""
    rows = [j.probabilities or {Status.absent.value: 1.0} for j in judgements]
    supported = math.prod(r.get(Status.supported.value, 0.0) for r in rows)
    absent = math.prod(r.get(Status.absent.value, 0.0) for r in rows)
    contradicted = 1.0 - math.prod(1.0 - r.get(Status.contradicted.value, 0.0) for r in rows)
    partial = max(0.0, 1.0 - supported - absent - contradicted)
    values = {Status.supported: supported, Status.partial: partial, Status.absent: absent, Status.contradicted: contradicted}
    return {c.value: round(values[c], 4) for c in CLASSES}


def _quoted(parts: Sequence[PartJudgement]) -> str:
    return ", ".join(f"'{p.text}'" for p in parts)


def parts_reason(status: Status, parts: Sequence[PartJudgement], probability: float, deciding: PartJudgement | None) -> str:
    """What the other document does with each part: "2 of 3 parts supported; absent: 'Mali' (p=0.41)"."""
    confidence = f"p={probability:.2f}"
    count = len(parts)
    if status is Status.contradicted and deciding is not None:
        return f"{deciding.reason}; in part '{deciding.text}' ({sum(p.status is Status.contradicted for p in parts)} of {count} parts contradicted)"
    if status is Status.supported:
        return f"says the same: all {count} parts supported ({confidence})"
    if status is Status.absent:
        return f"no sentence of the other document says any of its {count} parts ({confidence})"
    by_status = {s: [p for p in parts if p.status is s] for s in (Status.supported, Status.partial, Status.absent)}
    said = [f"{len(by_status[Status.supported])} of {count} parts supported"]
    said += [f"{label}: {_quoted(by_status[s])}" for s, label in ((Status.partial, "partly"), (Status.absent, "absent")) if by_status[s]]
    return f"{'; '.join(said)} ({confidence})"


def combine_parts(whole: Judgement, parts: Sequence[tuple[PartJudgement, Judgement]]) -> Judgement:
    """The claim's judgement from its parts': status by :func:`combine`, evidence from the part that decides it.

    A contradicted claim shows the contradicting part's evidence and conflicts; a partial one the evidence of its
    best covered part, and the absent parts' words as ``missing``; a supported or absent one keeps the whole claim's
    best evidence.
    """
    reports = [p for p, _ in parts]
    status = combine([p.status for p in reports])
    probabilities = combined_probabilities([j for _, j in parts])
    deciding = None
    if status is Status.contradicted:
        deciding = next(p for p in reports if p.status is Status.contradicted)
    elif status is Status.partial:
        covered = [p for p in reports if p.status in (Status.supported, Status.partial)]
        deciding = max(covered, key=lambda p: p.score) if covered else None
    judgement_of = {id(p): j for p, j in parts}
    source = judgement_of[id(deciding)] if deciding is not None else whole
    missing = [p.text for p in reports if p.status is Status.absent] if status is Status.partial else []
    missing += [m for p, j in parts if p.status is Status.partial and status is Status.partial for m in j.missing if m not in missing]
    return whole.model_copy(update={
        "status": status,
        "score": source.score,
        "evidence": source.evidence,
        "reason": parts_reason(status, reports, probabilities[status.value], deciding),
        "conflicts": [c for p, j in parts if p.status is Status.contradicted for c in j.conflicts],
        "missing": missing,
        "probabilities": probabilities,
        "parts": list(reports),
    })
