"""`make train`: fit the claim judge (models/judge.json) on the fixtures and the development sets.

Every labelled pair goes through the same stages as ``divergence.compare``
(clean, segment, embed, align), so the judge is fitted on exactly the
features it will see. Only the training half of each development set is
used (see dev.pairsets); `make eval` reports on the other half.

Usage: python -m dev.train_judge --data ../shared/eval [--output models/judge.json]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dev.fixture_agreement import claim_golds
from dev.pairsets import PairExample, claim_labels, development_pairs
from divergence.config import Settings, default_models_dir, load_settings, project_root
from divergence.datamodel import Claim, Document, Status
from divergence.ingest.load import document_from_record, load_documents
from divergence.ingest.prepare import prepare
from divergence.judge.classifier import CLASSES, FITTED_SETTINGS, ClaimJudge, LogisticModel, scored
from divergence.judge.event import align_documents
from divergence.judge.features import FEATURES, DocumentFacts, observe
from divergence.runtime import Runtime


@dataclass
class Table:
    """One row per labelled claim: its features, its true status, and where it came from."""

    vectors: list[np.ndarray]
    labels: list[int]
    datasets: list[str]
    conflicts: list[bool]
    groups: list[str]
    """The fixture event of a row (for leave-one-event-out figures), else its dataset."""

    def add(self, vector: np.ndarray, status: Status, dataset: str, conflicts: bool = True, group: str | None = None) -> None:
        # A contradiction no explicit check can name is reported as partial (see divergence.judge.classifier),
        # so that is what the model learns for it; the contradicted class stays the one of named conflicts.
        if status is Status.contradicted and not conflicts:
            status = Status.partial
        self.vectors.append(vector)
        self.groups.append(group or dataset)
        self.conflicts.append(conflicts)
        self.labels.append(CLASSES.index(status))
        self.datasets.append(dataset)


def _document(doc_id: str, text: str) -> Document:
    return document_from_record({"id": doc_id, "text": text}, doc_id, doc_id)


class PairReader:
    """Prepares (and caches) both sides of development pairs, then yields their aligned claims."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.runtime = Runtime(settings)
        self.encoder = self.runtime.encoder
        self._prepared: dict[str, tuple[Document, list[Claim]]] = {}

    def prepared(self, role: str, text: str) -> tuple[Document, list[Claim]]:
        key = hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
        if key not in self._prepared:
            self._prepared[key] = prepare(_document(f"{role}-{key}", text), self.settings)
        return self._prepared[key]

    def warm(self, examples: Sequence[PairExample]) -> None:
        """Embed every text the examples need in one batched call (then alignment only reads the cache)."""
        from divergence.judge.align import evidence_units

        texts = []
        for example in examples:
            reference, reference_claims = self.prepared("ref", example.reference)
            _, claims = self.prepared("claim", example.claim)
            texts += [c.text for c in claims]
            texts += [u.text for u in evidence_units(reference, reference_claims, self.settings.evidence_window)]
        unique = sorted(set(texts))
        # In chunks, so an interrupted run keeps what it embedded (the cache is written per call).
        for start in range(0, len(unique), 4096):
            self.encoder.encode(unique[start : start + 4096])

    def observe(self, example: PairExample, reference_text: str | None = None):
        """(claim, observation or None) for every claim of the example's claim text against the reference."""
        reference, reference_claims = self.prepared("ref", reference_text or example.reference)
        document, claims = self.prepared("claim", example.claim)
        if not claims or not reference_claims or reference.id == document.id:
            return []
        facts = DocumentFacts.of(reference_claims, reference.language)
        out = []
        for aligned in align_documents([document, reference], {document.id: claims, reference.id: reference_claims},
                                       self.runtime, directions={(document.id, reference.id)}):
            match = aligned.match
            keep = scored(match, self.settings)
            out.append((aligned.claim, observe(aligned.claim, match, facts, aligned.claim.language, self.settings) if keep else None))
        return out


def development_table(examples: Sequence[PairExample], settings: Settings, table: Table, shuffled_absent: int = 600) -> None:
    reader = PairReader(settings)
    reader.warm(examples)
    for example in examples:
        observed = reader.observe(example)
        labels = claim_labels(example, [c.text for c, _ in observed])
        for (_, observation), status in zip(observed, labels, strict=True):
            if observation is not None and status is not None:
                table.add(observation.vector(), status, example.dataset, bool(observation.conflicts))
    # Absent claims the alignment still finds related evidence for: a hypothesis against another pair's premise.
    rng = random.Random(0)
    sentence_pairs = [e for e in examples if e.dataset in ("sick_fr", "rte3_fr", "gqnli_fr", "refresd")]
    for example in rng.sample(sentence_pairs, min(shuffled_absent, len(sentence_pairs))):
        other = rng.choice(sentence_pairs)
        if other.reference == example.reference:
            continue
        reader.warm([PairExample(example.dataset, example.id, "train", other.reference, example.claim, "unrelated")])
        for _, observation in reader.observe(example, other.reference):
            if observation is not None:
                table.add(observation.vector(), Status.absent, "shuffled")


def fixture_table(fixtures: Path, settings: Settings, table: Table) -> None:
    """The fixtures' gold statuses (claim, other document) → status."""
    runtime = Runtime(settings)
    for gold in claim_golds(fixtures):
        loaded, problems = load_documents([fixtures / "events" / gold["event"]])
        prepared = [prepare(d, settings) for d in loaded]
        documents = [d for d, _ in prepared]
        claims = {d.id: c for d, c in prepared}
        short = {d.id.rsplit("/", 1)[-1]: d.id for d in documents}
        wanted = {}
        for item in gold["expected"]:
            for other, status in item["statuses"].items():
                wanted[(short[item["document"]], item["text"], short[other])] = Status(status)
        facts = {d.id: DocumentFacts.of(claims[d.id], d.language) for d in documents}
        for aligned in align_documents(documents, claims, runtime):
            match = aligned.match
            if not scored(match, settings):
                continue
            for (doc_id, snippet, other_id), status in wanted.items():
                if doc_id == aligned.document.id and other_id == aligned.other.id and snippet in aligned.claim.text:
                    observation = observe(aligned.claim, match, facts[other_id], aligned.claim.language, settings)
                    table.add(observation.vector(), status, "fixtures", bool(observation.conflicts), f"fixtures:{gold['event']}")


def family(dataset: str) -> str:
    return "summedits" if dataset.startswith("summedits") else dataset


# Relative weight of each family in the fit. The fixtures are news in three languages (our domain);
# FraCaS and GQNLI test quantifier logic that none of the features can see, so they weigh little.
FAMILY_WEIGHTS = {"fixtures": 5.0, "fracas": 0.25, "gqnli_fr": 0.25}


def _logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray, c: float, classes: int) -> LogisticModel:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y, sample_weight=weights * len(weights) / weights.sum())
    if classes == 1:
        return LogisticModel(mean, scale, model.coef_[:1].copy(), model.intercept_[:1].copy())
    coef = np.zeros((classes, x.shape[1]))
    intercept = np.full(classes, -30.0)  # a class with no examples is never predicted
    for row, label in enumerate(model.classes_):
        coef[label], intercept[label] = model.coef_[row], model.intercept_[row]
    return LogisticModel(mean, scale, coef, intercept)


def without_group(table: Table, group: str) -> Table:
    keep = [i for i, g in enumerate(table.groups) if g != group]
    return Table(*([column[i] for i in keep] for column in (table.vectors, table.labels, table.datasets, table.conflicts, table.groups)))


def fit(table: Table, c: float = 1.0) -> ClaimJudge:
    """Both models; every dataset family weighs the same in total unless FAMILY_WEIGHTS says otherwise."""
    x = np.vstack(table.vectors)
    y = np.array(table.labels)
    conflicts = np.array(table.conflicts)
    families = [family(d) for d in table.datasets]
    sizes = Counter(families)
    weights = np.array([FAMILY_WEIGHTS.get(f, 1.0) / sizes[f] for f in families])
    contradicted = CLASSES.index(Status.contradicted)
    coverage_rows = y != contradicted
    coverage = _logistic(x[coverage_rows], y[coverage_rows], weights[coverage_rows], c, classes=3)
    conflict = _logistic(x[conflicts], (y[conflicts] == contradicted).astype(int), weights[conflicts], c, classes=1)
    trained_on = ", ".join(f"{name} {count}" for name, count in sorted(Counter(table.datasets).items()))
    return ClaimJudge(coverage, conflict, trained_on)


def build_table(data: Path | None, settings: Settings) -> Table:
    table = Table([], [], [], [], [])
    root = project_root() or Path.cwd()
    fixture_table(root / "fixtures", settings, table)
    if data is not None and data.is_dir():
        examples = [e for e in development_pairs(data) if e.split == "train"]
        development_table(examples, settings, table)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="The shared evaluation folder (../shared/eval).")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--fixtures-only", action="store_true", help="Fit on the fixtures alone when the development sets are absent.")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.data is None or not args.data.is_dir():
        if not args.fixtures_only:
            # Refitting on 130 fixture labels would silently replace the shipped judge with a much weaker one.
            print(f"judge: development sets not found ({args.data}); the shipped judge is kept (--fixtures-only to fit anyway)")
            return 0
        print("judge: fitting on the fixtures only")
    table = build_table(args.data, settings)
    judge = fit(table)
    judge.fitted_with = {"encoder": settings.model, "settings": {name: getattr(settings, name) for name in FITTED_SETTINGS}}
    output = args.output or default_models_dir() / "judge.json"
    judge.save(output)
    counts = Counter((d, CLASSES[label].value) for d, label in zip(table.datasets, table.labels, strict=True))
    for dataset in sorted({d for d, _ in counts}):
        row = ", ".join(f"{status} {counts[(dataset, status)]}" for status in (c.value for c in CLASSES) if counts[(dataset, status)])
        print(f"judge  {dataset:18s} {row}")
    print(f"judge  {len(table.labels)} labelled claims, {len(FEATURES)} features → {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
