"""Decide, for a claim and its best evidence in another document, the status and the reason."""

from __future__ import annotations

from divergence.align import Match
from divergence.checks import find_conflicts, missing_names, missing_quantities
from divergence.config import Settings
from divergence.model import Claim, Evidence, Judgement, Status


def _evidence(match: Match) -> Evidence:
    unit = match.unit
    return Evidence(claims=[c.id for c in unit.claims], text=unit.text, start=unit.start, end=unit.end)


def _describe_conflicts(conflicts) -> str:
    parts = [f"{c.kind}: '{c.claim_span}' vs '{c.evidence_span}'" for c in conflicts]
    return "conflicting " + "; ".join(parts)


def judge(claim: Claim, match: Match | None, settings: Settings) -> Judgement:
    if match is None:
        return Judgement(status=Status.absent, score=0.0, reason="the other document has no claims")
    score = round(match.score, 4)
    evidence = _evidence(match)
    if match.score < settings.related_threshold:
        return Judgement(
            status=Status.absent,
            score=score,
            evidence=evidence,
            reason=f"no sentence of the other document says this (best match {score:.2f} < {settings.related_threshold:.2f})",
        )
    # Two sentences that are each other's best match, clearly ahead of the
    # runner-up, say the same thing even when e5 scores a translation low.
    aligned = match.score >= settings.supported_threshold or (
        match.mutual and match.score >= settings.partial_threshold and match.score - match.runner_up >= settings.mutual_margin
    )
    if match.score < settings.partial_threshold and not match.mutual:
        return Judgement(status=Status.absent, score=score, evidence=evidence,
                         reason=f"only related sentences (best match {score:.2f} < {settings.partial_threshold:.2f})")
    conflicts = find_conflicts(claim.text, match.unit.text, strict=aligned)
    if conflicts:
        return Judgement(status=Status.contradicted, score=score, evidence=evidence, reason=_describe_conflicts(conflicts), conflicts=conflicts)
    missing = missing_quantities(claim.text, match.unit.text)
    if aligned:
        if missing:
            return Judgement(status=Status.partial, score=score, evidence=evidence, missing=missing,
                             reason="the same statement without " + ", ".join(f"'{m}'" for m in missing))
        return Judgement(status=Status.supported, score=score, evidence=evidence, reason=f"says the same (similarity {score:.2f})")
    if match.score >= settings.partial_threshold:
        missing = missing + [n for n in missing_names(claim.text, match.unit.text) if n not in missing]
        detail = ("; missing " + ", ".join(f"'{m}'" for m in missing)) if missing else ""
        return Judgement(status=Status.partial, score=score, evidence=evidence, missing=missing,
                         reason=f"covers part of it (similarity {score:.2f}){detail}")
    return Judgement(
        status=Status.absent,
        score=score,
        evidence=evidence,
        reason=f"only related sentences (best match {score:.2f} < {settings.partial_threshold:.2f})",
    )
