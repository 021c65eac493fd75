"""Claim-judgement figures for `make eval`, on the halves of the development sets the judge never saw.

Every pair goes through the public API, ``divergence.compare([("ref",
reference), ("claim", text)])``, and is decided by fixed rules:

* a summary (or an English sentence against its French pair) is consistent
  only when every one of its claims is ``supported`` by the reference;
* a hypothesis contradicts its premise when any of its claims is ``contradicted``;
* an AggreFact error is intrinsic when any claim is ``contradicted``, else extrinsic;
* a REFreSD pair is unrelated when every claim is ``absent``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dev.pairsets import PairExample
from divergence.config import Settings
from divergence.datamodel import Status
from divergence.errors import NotEnoughDocuments


@dataclass
class Decided:
    example: PairExample
    statuses: list[Status]
    """Status of each claim of the claim text against the reference; empty when compare could not run."""


def decide_pairs(examples: Iterable[PairExample], settings: Settings) -> list[Decided]:
    from divergence.pipeline import compare

    decided = []
    for example in examples:
        try:
            report = compare([("ref", example.reference), ("claim", example.claim)], settings)
        except NotEnoughDocuments:
            # One side has no claim left, or the claim copies the reference word for word.
            decided.append(Decided(example, []))
            continue
        event = report.events[0]
        statuses = [c.statuses["ref"].status for c in event.claims if c.document == "claim"]
        decided.append(Decided(example, statuses))
    return decided


def all_supported(statuses: list[Status]) -> bool:
    return bool(statuses) and all(s is Status.supported for s in statuses)


def any_contradicted(statuses: list[Status]) -> bool:
    return any(s is Status.contradicted for s in statuses)


def balanced_accuracy(truth: list[bool], predicted: list[bool]) -> float:
    recalls = []
    for value in (True, False):
        hits = [p == t for t, p in zip(truth, predicted, strict=True) if t == value]
        if hits:
            recalls.append(sum(hits) / len(hits))
    return sum(recalls) / len(recalls) if recalls else 0.0


@dataclass
class Detection:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        return 2 * self.precision * self.recall / (self.precision + self.recall) if self.precision + self.recall else 0.0


def detection(truth: list[bool], predicted: list[bool]) -> Detection:
    tp = sum(t and p for t, p in zip(truth, predicted, strict=True))
    fp = sum(p and not t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t and not p for t, p in zip(truth, predicted, strict=True))
    return Detection(tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0)


def _take(examples: Iterable[PairExample], limit: int, key: Callable[[PairExample], str]) -> list[PairExample]:
    """At most ``limit`` test examples per key, in file order."""
    taken: dict[str, list[PairExample]] = defaultdict(list)
    for example in examples:
        if example.split == "test" and len(taken[key(example)]) < limit:
            taken[key(example)].append(example)
    return [e for group in taken.values() for e in group]


def judge_figures(pairs: list[PairExample], settings: Settings, limit: int, figures: dict[str, float]) -> None:
    """Print every judgement figure and record the headline ones in ``figures``."""
    for figures_of in (summedits_figures, refresd_figures, nli_figures, aggrefact_figures):
        figures_of(pairs, settings, limit, figures)


def summedits_figures(pairs: list[PairExample], settings: Settings, limit: int, figures: dict[str, float]) -> None:
    summedits = decide_pairs(_take((p for p in pairs if p.dataset.startswith("summedits")), limit, lambda e: e.dataset), settings)
    per_domain = {}
    for domain in sorted({d.example.dataset for d in summedits}):
        rows = [d for d in summedits if d.example.dataset == domain]
        truth = [d.example.label == "consistent" for d in rows]
        predicted = [all_supported(d.statuses) for d in rows]
        per_domain[domain] = balanced_accuracy(truth, predicted)
        print(f"summedits    {domain[10:]:12s} {len(rows):4d} summaries: balanced accuracy {per_domain[domain]:.3f} "
              f"(flagged {sum(not p for p in predicted) / len(rows):.0%} of summaries; {sum(not t for t in truth)} inconsistent)")
    if per_domain:
        mean = sum(per_domain.values()) / len(per_domain)
        figures["summedits_balanced_accuracy"] = round(mean, 4)
        print(f"summedits    mean over {len(per_domain)} domains: balanced accuracy {mean:.3f} (target 0.65)")


def refresd_figures(pairs: list[PairExample], settings: Settings, limit: int, figures: dict[str, float]) -> None:
    refresd = decide_pairs(_take((p for p in pairs if p.dataset == "refresd"), limit * 2, lambda e: e.dataset), settings)
    if refresd:
        truth = [d.example.label == "equivalent" for d in refresd]
        predicted = [all_supported(d.statuses) for d in refresd]
        accuracy = balanced_accuracy(truth, predicted)
        figures["refresd_balanced_accuracy"] = round(accuracy, 4)
        unrelated = detection([d.example.label == "unrelated" for d in refresd],
                              [bool(d.statuses) and all(s is Status.absent for s in d.statuses) for d in refresd])
        figures["refresd_unrelated_f1"] = round(unrelated.f1, 4)
        print(f"refresd      {len(refresd):4d} EN-FR pairs: balanced accuracy (equivalent vs divergent) {accuracy:.3f} (target 0.78); "
              f"unrelated pairs detected P {unrelated.precision:.3f} R {unrelated.recall:.3f} F1 {unrelated.f1:.3f}")


def nli_figures(pairs: list[PairExample], settings: Settings, limit: int, figures: dict[str, float]) -> None:
    f1s = []
    for name in ("sick_fr", "rte3_fr", "gqnli_fr"):
        rows = decide_pairs(_take((p for p in pairs if p.dataset == name), limit, lambda e: e.dataset), settings)
        if not rows:
            continue
        found = detection([d.example.label == "contradiction" for d in rows], [any_contradicted(d.statuses) for d in rows])
        figures[f"{name}_contradiction_f1"] = round(found.f1, 4)
        f1s.append(found.f1)
        confusion = Counter((d.example.label, _pair_status(d.statuses)) for d in rows)
        print(f"nli          {name:9s} {len(rows):4d} pairs: contradiction P {found.precision:.3f} R {found.recall:.3f} F1 {found.f1:.3f}; "
              f"entailment→supported {confusion[('entailment', 'supported')]}/{sum(v for (t, _), v in confusion.items() if t == 'entailment')}")
    if f1s:
        mean = sum(f1s) / len(f1s)
        figures["french_contradiction_f1"] = round(mean, 4)
        print(f"nli          mean French contradiction F1 {mean:.3f} (target 0.60)")


def aggrefact_figures(pairs: list[PairExample], settings: Settings, limit: int, figures: dict[str, float]) -> None:
    aggrefact = decide_pairs(_take((p for p in pairs if p.dataset == "aggrefact"), limit * 2, lambda e: e.label), settings)
    if aggrefact:
        truth = [d.example.label == "intrinsic" for d in aggrefact]
        predicted = [any_contradicted(d.statuses) for d in aggrefact]
        accuracy = balanced_accuracy(truth, predicted)
        figures["aggrefact_balanced_accuracy"] = round(accuracy, 4)
        raw = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
        print(f"aggrefact    {len(aggrefact):4d} XSum errors ({sum(truth)} intrinsic): intrinsic vs extrinsic accuracy {raw:.3f}, "
              f"balanced {accuracy:.3f}")


def _pair_status(statuses: list[Status]) -> str:
    if not statuses:
        return "none"
    if any_contradicted(statuses):
        return "contradicted"
    return "supported" if all_supported(statuses) else "other"
