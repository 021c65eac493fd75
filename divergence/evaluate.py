"""`make eval`: quality figures, checked against floors that only move up.

Reads the fixtures (always) and the development sets under ``--data``
(default ../shared/eval) when they are present; skips them cleanly when not.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from divergence.config import load_settings, project_root
from divergence.evaluation import fixture_agreement

FLOORS_FILE = "eval_floors.json"


def refresd_balanced_accuracy(path: Path, limit: int) -> float | None:
    """REFreSD: an English sentence and its French pair are 'equivalent' when every claim is supported."""
    from divergence.errors import NotEnoughDocuments
    from divergence.pipeline import compare

    if not path.is_file():
        return None
    rows = list(csv.DictReader(path.open(encoding="utf-8"), delimiter="\t"))[:limit]
    settings = load_settings()
    hits = {0: [0, 0], 1: [0, 0]}
    for row in rows:
        label = int(row["#label"])
        english, french = row["#english_sentence"], row["#french_sentence"]
        if not english or not french:
            continue
        try:
            report = compare([("ref", french), ("claim", english)], settings)
        except NotEnoughDocuments:
            continue
        claims = [c for c in report.events[0].claims if c.document == "claim"]
        equivalent = all(c.statuses["ref"].status.value == "supported" for c in claims)
        predicted = 0 if equivalent else 1
        hits[label][0] += int(predicted == label)
        hits[label][1] += 1
    recalls = [h / n for h, n in hits.values() if n]
    return sum(recalls) / len(recalls) if recalls else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--limit", type=int, default=200, help="Pairs read from each development set.")
    args = parser.parse_args()
    root = project_root() or Path.cwd()
    floors = json.loads((root / FLOORS_FILE).read_text(encoding="utf-8")) if (root / FLOORS_FILE).is_file() else {}
    figures: dict[str, float] = {}

    agreement = fixture_agreement(root / "fixtures")
    figures["fixture_agreement"] = round(agreement.rate, 4)
    print(f"fixtures     agreement with gold {agreement.agreed}/{agreement.total} = {agreement.rate:.3f}; chrome claims: {len(agreement.chrome_claims)}")

    if args.data.is_dir():
        refresd = refresd_balanced_accuracy(args.data / "refresd" / "refresd.tsv", args.limit)
        if refresd is not None:
            figures["refresd_balanced_accuracy"] = round(refresd, 4)
            print(f"refresd      balanced accuracy (equivalent vs divergent, {args.limit} pairs) = {refresd:.3f}")
    else:
        print(f"development sets: {args.data} not found, skipped")

    failed = [f"{name} {value:.3f} < floor {floors[name]:.3f}" for name, value in figures.items() if name in floors and value < floors[name] - 0.005]
    for line in failed:
        print("BELOW FLOOR:", line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
