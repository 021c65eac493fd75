"""What the judge knows about a claim and its best evidence, as numbers.

Every feature is something a fact-checker would look at: how close the best
sentence is and how clearly it beats the others, how many of the claim's
words, names and numbers the evidence (and the whole other document) holds,
and whether an explicit check found a conflict. Cross-lingual pairs cannot
share words, so word coverage is only counted within one language and the
model learns the two cases apart.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from divergence.config import Settings
from divergence.datamodel import Claim, Conflict, Status
from divergence.ingest.words import content_words
from divergence.judge.align import Match
from divergence.judge.checks import FACTUAL_CONFLICTS, find_conflicts, names, quantities, same_name

FEATURES = (
    "similarity",
    "similarity_cross_lingual",
    "margin",
    "mutual",
    "context_gain",
    "cross_lingual",
    "word_coverage",
    "word_coverage_document",
    "evidence_coverage",
    "names_missing",
    "names_missing_document",
    "numbers_missing",
    "numbers_missing_document",
    "number_conflict",
    "date_conflict",
    "negation_mismatch",
    "polarity_conflict",
    "actor_conflict",
    "hedge_mismatch",
    "length_ratio",
    "claim_length",
    "rule_supported",
    "rule_partial",
    "rule_contradicted",
)

MARGIN_CAP = 0.3
_HEDGE = re.compile(
    r"\b(?:may|might|could|would|possibly|perhaps|reportedly|allegedly|likely|expected to|plans? to|"
    r"pourrait|pourraient|peut-être|possible|probablement|devrait|devraient|envisage|"
    r"может|могут|мог|возможно|вероятно|якобы|планирует|намерен)\b",
    re.IGNORECASE,
)


@dataclass
class DocumentFacts:
    """What the other document says anywhere, for 'is this in the document at all' features."""

    language: str | None
    stems: set[str] = field(default_factory=set)
    names: list[str] = field(default_factory=list)
    numbers: set[float] = field(default_factory=set)
    text: str = ""
    """Every claim's text, lower-cased, one per line (to find a country however it is inflected or written)."""

    @classmethod
    def of(cls, claims: list[Claim], language: str | None) -> DocumentFacts:
        facts = cls(language)
        for claim in claims:
            facts.stems.update(w.stem for w in content_words(claim.text, claim.language or language))
            facts.names.extend(n for n, _ in names(claim.text))
            facts.numbers.update(q.value for q in quantities(claim.text))
        facts.text = "\n".join(claim.text.lower() for claim in claims)
        return facts

    def has_name(self, name: str) -> bool:
        return any(same_name(name, other) for other in self.names)


@dataclass
class Observation:
    """One claim against one piece of evidence: the feature vector and what it was read from."""

    values: dict[str, float]
    conflicts: list[Conflict]
    missing: list[str]
    """Parts of the claim the evidence does not hold (names, numbers, content words)."""

    def vector(self) -> np.ndarray:
        return np.array([self.values[name] for name in FEATURES], dtype=np.float64)


def is_aligned(match: Match, settings: Settings) -> bool:
    """Whether the evidence is the claim's own counterpart, not just a sentence on its topic.

    Two sentences that are each other's best match, clearly ahead of the
    runner-up, say the same thing even when e5 scores a translation low.
    """
    return match.score >= settings.supported_threshold or (
        match.mutual and match.score >= settings.partial_threshold and match.score - match.runner_up >= settings.mutual_margin
    )


def rule_opinion(match: Match, conflicts: list[Conflict], strict_conflicts: list[Conflict], missing_numbers: bool,
                 settings: Settings) -> Status:
    """The hand-written decision the judge starts from (and learns how far to trust).

    Negation and polarity are only believed on close alignments (:func:`is_aligned`).
    """
    aligned = is_aligned(match, settings)
    if match.score < settings.partial_threshold and not match.mutual:
        return Status.absent
    if conflicts or (aligned and strict_conflicts):
        return Status.contradicted
    if aligned:
        return Status.partial if missing_numbers else Status.supported
    return Status.partial if match.score >= settings.partial_threshold else Status.absent


def observe(claim: Claim, match: Match, facts: DocumentFacts, claim_language: str | None, settings: Settings) -> Observation:
    evidence = match.unit.text
    evidence_language = match.unit.claims[0].language if match.unit.claims else facts.language
    cross = float(bool(claim_language and evidence_language and claim_language != evidence_language))

    words = content_words(claim.text, claim_language)
    evidence_words = content_words(evidence, evidence_language)
    evidence_stems = {w.stem for w in evidence_words}
    claim_stems = {w.stem for w in words}
    word_coverage = sum(w.stem in evidence_stems for w in words) / len(words) if words else 1.0
    document_coverage = sum(w.stem in facts.stems for w in words) / len(words) if words else 1.0
    evidence_coverage = sum(w.stem in claim_stems for w in evidence_words) / len(evidence_words) if evidence_words else 1.0

    claim_names = [n for n, _ in names(claim.text)]
    evidence_names = [n for n, _ in names(evidence)]
    names_missing = [n for n in claim_names if not any(same_name(n, e) for e in evidence_names)]
    names_missing_document = [n for n in names_missing if not facts.has_name(n)]

    claim_quantities = [q for q in quantities(claim.text) if q.value > 2]
    evidence_values = {q.value for q in quantities(evidence)}
    numbers_missing = [q for q in claim_quantities if q.value not in evidence_values]
    numbers_missing_document = [q for q in numbers_missing if q.value not in facts.numbers]

    conflicts = find_conflicts(claim.text, evidence, strict=True)
    kinds = {c.kind for c in conflicts}
    factual = [c for c in conflicts if c.kind in FACTUAL_CONFLICTS]
    rule = rule_opinion(match, factual, [c for c in conflicts if c.kind not in FACTUAL_CONFLICTS], bool(numbers_missing), settings)
    hedge = bool(_HEDGE.search(claim.text)) != bool(_HEDGE.search(evidence))

    claim_words = max(1, len(claim.text.split()))
    evidence_word_count = max(1, len(evidence.split()))
    values = {
        "similarity": match.score,
        "similarity_cross_lingual": match.score * cross,
        # A one-sentence document has no runner-up; the cap keeps such margins on the scale of real ones.
        "margin": min(match.score - match.runner_up, MARGIN_CAP),
        "mutual": float(match.mutual),
        "context_gain": max(0.0, match.joined_score - match.single_score),
        "cross_lingual": cross,
        "word_coverage": word_coverage * (1 - cross),
        "word_coverage_document": document_coverage * (1 - cross),
        "evidence_coverage": evidence_coverage * (1 - cross),
        "names_missing": min(3, len(names_missing)),
        "names_missing_document": min(3, len(names_missing_document)),
        "numbers_missing": min(3, len(numbers_missing)),
        "numbers_missing_document": min(3, len(numbers_missing_document)),
        "number_conflict": float("number" in kinds),
        "date_conflict": float("date" in kinds),
        "negation_mismatch": float("negation" in kinds),
        "polarity_conflict": float(bool(kinds & {"modality", "antonym"})),
        "actor_conflict": float("actor" in kinds),
        "hedge_mismatch": float(hedge),
        "length_ratio": math.log(claim_words / evidence_word_count),
        "claim_length": math.log(claim_words),
        "rule_supported": float(rule is Status.supported),
        "rule_partial": float(rule is Status.partial),
        "rule_contradicted": float(rule is Status.contradicted),
    }
    missing = list(dict.fromkeys(
        [*names_missing, *(q.text for q in numbers_missing)]
        + ([w.text for w in words if w.stem not in evidence_stems][:6] if not cross else [])
    ))
    return Observation(values, conflicts, missing)
