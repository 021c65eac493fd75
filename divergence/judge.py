"""Decide, for a claim and its best evidence in another document, the status and the reason.

A multinomial logistic model (``models/judge.json``, rebuilt by ``make train``
from divergence.train_judge) turns the features of divergence.features into
probabilities of supported / partial / absent / contradicted. Two rules sit
on top, because a user must be able to act on a flag:

* ``contradicted`` needs a named conflict (spans on both sides); without
  one the next most probable status is reported.
* evidence below ``related_threshold`` is not scored at all: nothing in
  the other document is about the claim.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from divergence.align import Match
from divergence.config import Settings
from divergence.features import FEATURES, DocumentFacts, Observation, observe
from divergence.model import Claim, Conflict, Evidence, Judgement, Status

CLASSES = (Status.supported, Status.partial, Status.absent, Status.contradicted)


@dataclass
class ClaimJudge:
    """Multinomial logistic regression over standardised features, stored as JSON (no pickle)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    """(classes, features)"""
    intercept: np.ndarray
    trained_on: str = ""

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        z = ((np.atleast_2d(vectors) - self.mean) / self.scale) @ self.coef.T + self.intercept
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        data = {
            "features": list(FEATURES),
            "classes": [c.value for c in CLASSES],
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "coef": self.coef.round(6).tolist(),
            "intercept": self.intercept.round(6).tolist(),
            "trained_on": self.trained_on,
        }
        Path(path).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> ClaimJudge:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("features") != list(FEATURES) or data.get("classes") != [c.value for c in CLASSES]:
            raise ValueError(f"{path}: the judge was trained on other features; run `make train`")
        return cls(
            mean=np.array(data["mean"]),
            scale=np.array(data["scale"]),
            coef=np.array(data["coef"]),
            intercept=np.array(data["intercept"]),
            trained_on=data.get("trained_on", ""),
        )


@lru_cache(maxsize=4)
def load_judge(path: str) -> ClaimJudge:
    return ClaimJudge.load(Path(path))


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


def reason_for(status: Status, observation: Observation, score: float, probability: float) -> str:
    confidence = f"p={probability:.2f}"
    if status is Status.contradicted:
        return f"{describe_conflicts(observation.conflicts)} ({confidence})"
    if status is Status.supported:
        return f"says the same (similarity {score:.2f}, {confidence})"
    if status is Status.partial:
        detail = f"; not covered: {_quoted(observation.missing)}" if observation.missing else ""
        return f"covers part of it (similarity {score:.2f}, {confidence}){detail}"
    return f"no sentence of the other document says this (best match {score:.2f}, {confidence})"


def judge(
    claim: Claim,
    match: Match | None,
    facts: DocumentFacts,
    model: ClaimJudge,
    settings: Settings,
) -> tuple[Judgement, Observation | None]:
    """The judgement and, when the evidence was close enough to be scored, what it was read from."""
    if match is None:
        return Judgement(status=Status.absent, score=0.0, reason="the other document has no claims"), None
    score = round(match.score, 4)
    evidence = _evidence(match)
    if match.score < settings.related_threshold:
        reason = f"no sentence of the other document says this (best match {score:.2f} < {settings.related_threshold:.2f})"
        return Judgement(status=Status.absent, score=score, evidence=evidence, reason=reason), None
    observation = observe(claim, match, facts, claim.language, settings)
    probabilities = model.predict_proba(observation.vector())[0]
    status = decide(probabilities, observation.conflicts)
    judgement = Judgement(
        status=status,
        score=score,
        evidence=evidence,
        reason=reason_for(status, observation, score, float(probabilities[CLASSES.index(status)])),
        conflicts=observation.conflicts if status is Status.contradicted else [],
        missing=observation.missing if status is Status.partial else [],
        probabilities={c.value: round(float(p), 4) for c, p in zip(CLASSES, probabilities, strict=True)},
    )
    return judgement, observation
