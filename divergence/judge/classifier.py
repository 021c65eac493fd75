"""Decide, for a claim and its best evidence in another document, the status and the reason.

Logistic models (``models/judge.json``, rebuilt by ``make train`` from
dev.train_judge) turn the features of divergence.judge.features into
probabilities of supported / partial / absent / contradicted. Two rules
frame them, because a user must be able to act on a flag:

* ``contradicted`` needs a named conflict (spans on both sides): its
  probability is that of the conflict being real, zero without one.
* evidence below ``related_threshold`` is not scored at all: nothing in
  the other document is about the claim.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from divergence.config import Settings
from divergence.datamodel import Claim, Conflict, Evidence, Judgement, Status
from divergence.judge.align import Match
from divergence.judge.features import FEATURES, DocumentFacts, Observation, is_aligned, observe

CLASSES = (Status.supported, Status.partial, Status.absent, Status.contradicted)
FITTED_SETTINGS = ("supported_threshold", "partial_threshold", "related_threshold", "mutual_margin", "evidence_window")
"""Settings that shape the judge's features: a judge fitted with some values reads other inputs under others."""


@dataclass
class LogisticModel:
    """A fitted (multinomial or binary) logistic regression over standardised features."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    """(classes, features); one row for a binary model."""
    intercept: np.ndarray

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        return ((np.atleast_2d(vectors) - self.mean) / self.scale) @ self.coef.T + self.intercept

    def to_dict(self) -> dict:
        return {key: getattr(self, key).round(6).tolist() for key in ("mean", "scale", "coef", "intercept")}

    @classmethod
    def from_dict(cls, data: dict) -> LogisticModel:
        return cls(**{key: np.array(data[key], dtype=np.float64) for key in ("mean", "scale", "coef", "intercept")})


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def covers_specific_words(vectors: np.ndarray) -> np.ndarray:
    """Whether the other document holds every content word of the claim (same-language rows).

    A content word the other document never uses is specific to the claim within the event ("Mali" against a call
    readout that never names it), and evidence drawn from that document cannot hold it: such a claim is not the
    same fact, however many of the event's shared names and words it repeats. Words the other document does use
    are left to the model. Cross-lingual rows carry no word coverage (0) and are never covered here.
    """
    return np.atleast_2d(vectors)[:, FEATURES.index("word_coverage_document")] >= 1.0 - 1e-9


def is_counterpart(match: Match, settings: Settings) -> bool:
    """Whether the evidence and the claim are each other's best match and aligned (:func:`is_aligned`): the sentence
    the other outlet wrote for this fact, in its own words.

    A same-topic sentence is often a claim's best match, but rarely has the claim as its own best match; a paraphrase
    of the same fact does. On the real-news gold, most claims the base calls ``partial`` against such a counterpart
    are ``supported`` by the reader (another outlet's wording of the same fact), which the word gate
    (:func:`covers_specific_words`) never lets through: the paraphrase uses other words.
    """
    return match.mutual and is_aligned(match, settings)


@dataclass
class ClaimJudge:
    """Two logistic models, stored as JSON (no pickle).

    ``coverage`` gives P(supported), P(partial), P(absent) from alignment and
    coverage; ``conflict`` gives, for a claim where an explicit check named a
    conflict, the probability that the conflict is real. A claim without a
    named conflict is never contradicted.
    """

    coverage: LogisticModel
    conflict: LogisticModel
    trained_on: str = ""
    fitted_with: dict = field(default_factory=dict)
    """The encoder and the settings (:data:`FITTED_SETTINGS`) the features were computed with."""
    news: LogisticModel | None = None
    """What whole news articles about one event teach (dev.train_judge.adapt), added to the coverage scores of
    same-language pairs with no named conflict. It may turn the base's ``partial`` into ``absent`` (a claim the
    other article never makes, on the event's shared names and vocabulary, is where the base goes wrong), and into
    ``supported`` only where the other article holds every content word of the claim (:func:`covers_specific_words`)
    or the evidence is the claim's counterpart (:func:`is_counterpart`, setting ``counterparts_may_be_supported``):
    without such a gate the features cannot tell a same-topic claim from the same fact. Cross-lingual pairs and named
    conflicts are decided by the base models alone."""

    def predict_proba(self, vectors: np.ndarray, has_conflict: np.ndarray | bool,
                      counterpart: np.ndarray | bool = False) -> np.ndarray:
        """P(supported, partial, absent, contradicted) per row. ``counterpart``: rows whose evidence is the claim's
        counterpart (:func:`is_counterpart`), where the news term may also promote ``partial`` to ``supported``."""
        vectors = np.atleast_2d(vectors)
        base = self.coverage.scores(vectors)
        covered = _softmax(base)
        if self.news is not None:
            conflicted = np.broadcast_to(np.asarray(has_conflict, dtype=bool), (len(vectors),))
            applies = (vectors[:, FEATURES.index("cross_lingual")] == 0) & ~conflicted
            adjusted = _softmax(base + self.news.scores(vectors))
            partial, absent = CLASSES.index(Status.partial), CLASSES.index(Status.absent)
            demoted = applies & (covered.argmax(axis=1) == partial) & (adjusted.argmax(axis=1) == absent)
            same_fact = covers_specific_words(vectors) | np.broadcast_to(np.asarray(counterpart, dtype=bool), (len(vectors),))
            promoted = (applies & same_fact & (covered.argmax(axis=1) == partial)
                        & (adjusted.argmax(axis=1) == CLASSES.index(Status.supported)))
            covered = np.where((demoted | promoted)[:, None], adjusted, covered)
        real = 1.0 / (1.0 + np.exp(-np.clip(self.conflict.scores(vectors)[:, 0], -40, 40)))
        real = real * np.broadcast_to(np.asarray(has_conflict, dtype=np.float64), real.shape)
        return np.column_stack([covered * (1.0 - real)[:, None], real])

    def save(self, path: Path) -> None:
        data = {
            "features": list(FEATURES),
            "classes": [c.value for c in CLASSES],
            "coverage": self.coverage.to_dict(),
            "conflict": self.conflict.to_dict(),
            **({"news": self.news.to_dict()} if self.news is not None else {}),
            "trained_on": self.trained_on,
            "fitted_with": self.fitted_with,
        }
        Path(path).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> ClaimJudge:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("features") != list(FEATURES) or data.get("classes") != [c.value for c in CLASSES]:
            raise ValueError(f"{path}: the judge was trained on other features; run `make train`")
        return cls(LogisticModel.from_dict(data["coverage"]), LogisticModel.from_dict(data["conflict"]), data.get("trained_on", ""),
                   data.get("fitted_with", {}), LogisticModel.from_dict(data["news"]) if "news" in data else None)


def _evidence(match: Match) -> Evidence:
    unit = match.unit
    return Evidence(claims=[c.id for c in unit.claims], text=unit.text, start=unit.start, end=unit.end)


def _quoted(parts: list[str]) -> str:
    return ", ".join(f"'{p}'" for p in parts)


def describe_conflicts(conflicts: list[Conflict]) -> str:
    return "conflicting " + "; ".join(f"{c.kind}: '{c.claim_span}' vs '{c.evidence_span}'" for c in conflicts)


def decide(probabilities: np.ndarray, conflicts: list[Conflict]) -> Status:
    order = np.argsort(-probabilities)
    for index in order:
        status = CLASSES[index]
        if status is Status.contradicted and not conflicts:
            continue
        return status
    return Status.absent


def reason_for(status: Status, observation: Observation, score: float, probability: float, topical: bool = False) -> str:
    confidence = f"p={probability:.2f}"
    if topical:
        return f"no sentence of the other document says this: its best match only shares the topic (similarity {score:.2f}, {confidence})"
    if status is Status.contradicted:
        return f"{describe_conflicts(observation.conflicts)} ({confidence})"
    if status is Status.supported:
        return f"says the same (similarity {score:.2f}, {confidence})"
    if status is Status.partial:
        detail = f"; not covered: {_quoted(observation.missing)}" if observation.missing else ""
        return f"covers part of it (similarity {score:.2f}, {confidence}){detail}"
    return f"no sentence of the other document says this (best match {score:.2f}, {confidence})"


def backs_partial(match: Match, settings: Settings) -> bool:
    """Whether a ``partial`` for one fact rests on evidence about that fact, not merely on its topic.

    Two articles about one event share its names and words, so a same-topic sentence is where a fact the other
    article never states finds its best match, and the coverage model reads it as partial support. With
    ``partial_needs_alignment`` the fact is partial only when that evidence is its own counterpart
    (:func:`divergence.judge.features.is_aligned`); otherwise it is absent. Partial also comes from a claim's parts
    (:mod:`divergence.judge.parts`).
    """
    return not settings.partial_needs_alignment or is_aligned(match, settings)


def scored(match: Match | None, settings: Settings) -> bool:
    """Whether the judge reads this evidence at all; below ``related_threshold`` the claim is simply absent.

    Training (dev.train_judge) asks the same question, so the model is fitted on exactly the pairs it decides.
    """
    return match is not None and match.score >= settings.related_threshold


def by_token_recall(status: Status, recall: float | None, settings: Settings, cross_lingual: bool = False) -> Status:
    """The status once the claim's token recall in its evidence (divergence.judge.tokens) is read; one step at most.

    Sentence similarity and word coverage cannot tell evidence about the claim from evidence about the event (its
    names and vocabulary are in every source); the recall of the claim's specific pieces can, across languages too.
    Below ``token_recall_absent`` a covered claim is absent; from ``token_recall_partial`` an absent one (a scored
    match, aligned or not) in the same language is partial; from ``token_recall_supported`` a partial one is
    supported. Across languages an absent claim stays absent: there the best match of a claim the other document
    never makes reaches a recall of 0.81–0.83 (names spelled alike, the event's vocabulary translated; measured on the
    fixtures, whose documents are all in different languages). A named conflict is left to the conflict model, and
    without token states (``recall`` None) nothing moves.
    """
    if recall is None or status is Status.contradicted:
        return status
    if status in (Status.supported, Status.partial) and recall < settings.token_recall_absent:
        return Status.absent
    if status is Status.absent and recall >= settings.token_recall_partial and not cross_lingual:
        return Status.partial
    if status is Status.partial and recall >= settings.token_recall_supported:
        return Status.supported
    return status


def token_reason(status: Status, observation: Observation, score: float, recall: float, probability: float) -> str:
    said = f"similarity {score:.2f}, token recall {recall:.2f}, p={probability:.2f}"
    if status is Status.absent:
        return f"no sentence of the other document says this: the words that set it apart have no counterpart in its best match ({said})"
    if status is Status.supported:
        return f"says the same: nearly every word of it has its counterpart ({said})"
    # The missing words are the ones the evidence does not use as written; their meaning may still be there (the
    # recall counts counterparts), so they are not called "not covered".
    detail = f"; words it does not use: {_quoted(observation.missing)}" if observation.missing else ""
    return f"covers part of it: some of its words have counterparts in the best match, not all ({said}){detail}"


def judge(
    claim: Claim,
    match: Match | None,
    facts: DocumentFacts,
    model: ClaimJudge,
    settings: Settings,
    recall: float | None = None,
) -> tuple[Judgement, Observation | None]:
    """The judgement and, when the evidence was close enough to be scored, what it was read from."""
    if match is None:
        return Judgement(status=Status.absent, score=0.0, reason="the other document has no claims"), None
    score = round(match.score, 4)
    evidence = _evidence(match)
    if not scored(match, settings):
        reason = f"no sentence of the other document says this (best match {score:.2f} < {settings.related_threshold:.2f})"
        return Judgement(status=Status.absent, score=score, evidence=evidence, reason=reason), None
    observation = observe(claim, match, facts, claim.language, settings)
    counterpart = settings.counterparts_may_be_supported and is_counterpart(match, settings)
    probabilities = model.predict_proba(observation.vector(), bool(observation.conflicts), counterpart)[0]
    status = decide(probabilities, observation.conflicts)
    topical = status is Status.partial and not backs_partial(match, settings)
    if topical:
        # Partial support read off a same-topic sentence is, by rule, no support: its probability counts as absent.
        partial, absent = CLASSES.index(Status.partial), CLASSES.index(Status.absent)
        probabilities = probabilities.copy()
        probabilities[absent] += probabilities[partial]
        probabilities[partial] = 0.0
        status = Status.absent
    cross_lingual = bool(observation.values["cross_lingual"])
    moved = settings.token_alignment and by_token_recall(status, recall, settings, cross_lingual) is not status
    if moved:
        # A rule over the model: the new status takes the old one's probability (and gives it its own).
        before, status = status, by_token_recall(status, recall, settings, cross_lingual)
        probabilities = probabilities.copy()
        old, new = CLASSES.index(before), CLASSES.index(status)
        probabilities[old], probabilities[new] = probabilities[new], probabilities[old]
    probability = float(probabilities[CLASSES.index(status)])
    judgement = Judgement(
        status=status,
        score=score,
        evidence=evidence,
        reason=token_reason(status, observation, score, recall, probability) if moved
        else reason_for(status, observation, score, probability, topical),
        conflicts=observation.conflicts if status is Status.contradicted else [],
        missing=observation.missing if status is Status.partial else [],
        probabilities={c.value: round(float(p), 4) for c, p in zip(CLASSES, probabilities, strict=True)},
    )
    return judgement, observation
