"""Agreement of divergence with the gold labels of the fixtures (used by tests and `make eval`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from divergence.config import Settings
from divergence.datamodel import Report
from divergence.pipeline import compare


@dataclass
class Agreement:
    total: int = 0
    agreed: int = 0
    confusion: Counter = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    chrome_claims: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.agreed / self.total if self.total else 0.0


def find_claim(report: Report, document: str, snippet: str):
    for event in report.events:
        for claim in event.claims:
            if claim.document == document and snippet in claim.text:
                return claim
    return None


def score_event(report: Report, gold: dict, result: Agreement) -> None:
    for item in gold["expected"]:
        claim = find_claim(report, item["document"], item["text"])
        for other, want in item["statuses"].items():
            result.total += 1
            if claim is None:
                result.unmatched.append(f"{item['document']}: {item['text']}")
                result.confusion[(want, "missing")] += 1
                continue
            got = claim.statuses[other].status.value if other in claim.statuses else "missing"
            result.confusion[(want, got)] += 1
            if got == want:
                result.agreed += 1
            else:
                reason = claim.statuses[other].reason if other in claim.statuses else ""
                result.misses.append(f"{gold['event']}: [{claim.id} vs {other}] want {want}, got {got}: {claim.text[:70]!r} ({reason})")
    for event in report.events:
        for claim in event.claims:
            for chrome in gold.get("chrome", []):
                if chrome in claim.text:
                    result.chrome_claims.append(f"{claim.id}: {chrome}")


def claim_golds(fixtures: Path) -> Iterator[dict]:
    """The claim-level gold files of the fixtures (events.json, the clustering gold, has no "event")."""
    for gold_path in sorted((Path(fixtures) / "gold").glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        if "event" in gold:
            yield gold


def fixture_agreement(fixtures: Path, settings: Settings | None = None, events: set[str] | None = None,
                      result: Agreement | None = None) -> Agreement:
    result = result or Agreement()
    for gold in claim_golds(fixtures):
        if events is not None and gold["event"] not in events:
            continue
        report = compare([Path(fixtures) / "events" / gold["event"]], settings)
        score_event(report, gold, result)
    return result
