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
import inspect
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dev.fixture_agreement import claim_golds
from dev.pairsets import PairExample, claim_labels, development_pairs
from divergence.config import Settings, default_models_dir, judge_model_path, load_settings, project_root
from divergence.datamodel import Claim, Document, Status
from divergence.encoder.embed import choose_backend
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


def real_news_table(stories, settings: Settings, table: Table) -> None:
    """The real-news gold (fixtures/gold/real), one group per story so it can be left out story by story.

    A claim of the tool takes the status of the labelled span it lies in (dev.real_news_eval.span_labels);
    parts of a partial span are left out, since which part is covered is not labelled.
    """
    from dev.real_news_eval import span_labels

    runtime = Runtime(settings)
    for story in stories:
        prepared = [prepare(_document(d, t), settings) for d, t in story.texts.items()]
        documents = [d for d, c in prepared if c]
        claims = {d.id: c for d, c in prepared if c}
        labels = {d.id: dict(zip((c.id for c in claims[d.id]), span_labels(story, d.id, claims[d.id]), strict=True)) for d in documents}
        facts = {d.id: DocumentFacts.of(claims[d.id], d.language) for d in documents}
        for aligned in align_documents(documents, claims, runtime):
            wanted = (labels[aligned.document.id].get(aligned.claim.id) or {}).get(aligned.other.id)
            if wanted is None or not scored(aligned.match, settings):
                continue
            observation = observe(aligned.claim, aligned.match, facts[aligned.other.id], aligned.claim.language, settings)
            table.add(observation.vector(), wanted, "real_news", bool(observation.conflicts), story.story)


def family(dataset: str) -> str:
    return "summedits" if dataset.startswith("summedits") else dataset


# Relative weight of each family in the fit. The fixtures are news in three languages (our domain);
# FraCaS and GQNLI test quantifier logic that none of the features can see, so they weigh little.
# The real-news gold is our domain too, with the same-topic distractors the fixtures lack.
FAMILY_WEIGHTS = {"fixtures": 5.0, "real_news": 5.0, "fracas": 0.25, "gqnli_fr": 0.25}


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


NEWS_FAMILIES = ("fixtures", "real_news")
"""Rows of our own domain: whole news articles about one event, where every source shares the event's names and vocabulary."""
ADAPT_WEIGHTS = {"fixtures": 1.0, "real_news": 1.0}
"""Total weight of each news family in the adaptation."""
ADAPT_PENALTY = 0.1
"""L2 pull of the adapted coverage weights towards the base judge's, per unit of total row weight."""


def news_rows(table: Table) -> Table:
    keep = [i for i, d in enumerate(table.datasets) if d in NEWS_FAMILIES]
    return Table(*([column[i] for i in keep] for column in (table.vectors, table.labels, table.datasets, table.conflicts, table.groups)))


def without_family(table: Table, dataset: str) -> Table:
    keep = [i for i, d in enumerate(table.datasets) if d != dataset]
    return Table(*([column[i] for i in keep] for column in (table.vectors, table.labels, table.datasets, table.conflicts, table.groups)))


def adapt(base: ClaimJudge, news: Table, penalty: float = ADAPT_PENALTY) -> ClaimJudge:
    """The base judge with a news term: coverage scores that may turn the base's partial into absent, or into supported
    where the other document holds every word of the claim (see ClaimJudge.news), in same-language pairs with no named
    conflict.

    The base (fitted on the development sets, :func:`fit`) learned what sentence pairs look like; on whole articles
    about one event it calls same-topic claims ``partial``. Refitting everything with the news rows weighted up moves
    every decision the base makes on the development sets (REFreSD fell 0.72 → 0.61, RTE3-FR contradiction F1
    0.21 → 0.15). So the base stays as it is, and the news rows it would decide (monolingual, no named conflict: see
    ClaimJudge.predict_proba) fit an L2-penalised correction of its scores: a multinomial logistic regression with the
    base's scores as offset. scikit-learn's LogisticRegression takes no offset, hence scipy's L-BFGS on the loss.
    """
    from scipy.optimize import minimize

    contradicted = CLASSES.index(Status.contradicted)
    cross = FEATURES.index("cross_lingual")
    rows = [i for i, label in enumerate(news.labels)
            if label != contradicted and not news.conflicts[i] and news.vectors[i][cross] == 0]
    if not rows:
        return base
    model = base.coverage
    raw = np.vstack([news.vectors[i] for i in rows])
    x = (raw - model.mean) / model.scale
    offset = model.scores(raw)
    y = np.array([news.labels[i] for i in rows])
    sizes = Counter(news.datasets[i] for i in rows)
    weights = np.array([ADAPT_WEIGHTS.get(news.datasets[i], 1.0) / sizes[news.datasets[i]] for i in rows])
    weights /= weights.sum()
    classes, features = model.coef.shape
    onehot = np.eye(classes)[y]

    def loss(delta: np.ndarray) -> tuple[float, np.ndarray]:
        coef, intercept = delta[: classes * features].reshape(classes, features), delta[classes * features :]
        z = offset + x @ coef.T + intercept
        z -= z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        value = -(weights * (onehot * log_p).sum(axis=1)).sum() + penalty * (delta**2).sum()
        residual = (np.exp(log_p) - onehot) * weights[:, None]
        gradient = np.concatenate([(residual.T @ x).ravel(), residual.sum(axis=0)]) + 2 * penalty * delta
        return value, gradient

    delta = minimize(loss, np.zeros(classes * features + classes), jac=True, method="L-BFGS-B").x
    term = LogisticModel(model.mean, model.scale, delta[: classes * features].reshape(classes, features), delta[classes * features :])
    trained_on = f"{base.trained_on}; news term on " + ", ".join(f"{n} {c}" for n, c in sorted(Counter(news.datasets[i] for i in rows).items()))
    return ClaimJudge(base.coverage, base.conflict, trained_on, dict(base.fitted_with), term)


def base_of(judge: ClaimJudge) -> ClaimJudge:
    """The judge without its news term, its training note cut back to the base's."""
    return ClaimJudge(judge.coverage, judge.conflict, judge.trained_on.split("; news term on ")[0], dict(judge.fitted_with))


def fit_adapted(table: Table, c: float = 1.0) -> ClaimJudge:
    """:func:`fit` on everything but the real-news gold, then :func:`adapt` on the news rows (fixtures and real news)."""
    return adapt(fit(without_family(table, "real_news"), c), news_rows(table))


def build_table(data: Path | None, settings: Settings) -> Table:
    """Every labelled row: the fixtures, and when ``data`` is there the real-news gold (grouped by story) and the
    training halves of the development sets."""
    table = Table([], [], [], [], [])
    for part in table_parts(data):
        _extend(table, _part(part, data, settings))
    return table


def table_parts(data: Path | None, news_only: bool = False) -> list[str]:
    if data is None or not data.is_dir():
        return ["fixtures"]
    return ["fixtures", "real_news"] if news_only else ["fixtures", "real_news", "development"]


def _part(part: str, data: Path | None, settings: Settings) -> Table:
    table = Table([], [], [], [], [])
    if part == "fixtures":
        fixture_table((project_root() or Path.cwd()) / "fixtures", settings, table)
    elif part == "real_news":
        from dev.real_news_eval import real_news_stories

        real_news_table(real_news_stories(data), settings, table)
    else:
        development_table([e for e in development_pairs(data) if e.split == "train"], settings, table)
    print(f"judge: {part} {len(table.labels)} rows", file=sys.stderr, flush=True)
    return table


def _extend(table: Table, part: Table) -> None:
    for mine, theirs in zip((table.vectors, table.labels, table.datasets, table.conflicts, table.groups),
                            (part.vectors, part.labels, part.datasets, part.conflicts, part.groups), strict=True):
        mine.extend(theirs)


_BUILDERS = ("pairsets", "devsets", "real_news_eval", "real_news_gold", "fixture_agreement")


_AFTER_FEATURES = ("divergence/report", "divergence/interfaces", "divergence/store", "divergence/engines", "divergence/judge/classifier.py",
                   "divergence/judge/nli.py", "divergence/judge/aggregate.py", "divergence/judge/parts.py",
                   "divergence/judge/tokens.py", "divergence/encoder/tokens.py")
"""Code that reads the judge's decisions but shapes no row (of classifier.py, only ``scored`` does, hashed on its own)."""
DECISION_SETTINGS = ("judge_atoms", "partial_needs_alignment", "counterparts_may_be_supported", "token_alignment",
                     "token_recall_absent", "token_recall_partial", "token_recall_supported")
"""Settings that act on the judge's decisions (divergence.judge.parts, classifier.judge), never on a row's features."""


def _after_features(relative: Path) -> bool:
    return str(relative).startswith(_AFTER_FEATURES)


def _fingerprint(settings: Settings) -> str:
    """Changes with any code, gold or setting that shapes the rows, so a cached table is never stale."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.blake2b(digest_size=12)
    for path in sorted([*(root / "divergence").rglob("*.py"), *(root / "dev" / f"{name}.py" for name in _BUILDERS),
                        *(root / "fixtures").rglob("*")]):
        if path.is_file() and not _after_features(path.relative_to(root)):
            digest.update(str(path.relative_to(root)).encode("utf-8"))
            digest.update(path.read_bytes())
    # Of this module, only what builds rows: fitting choices (weights, C) change without rebuilding them.
    for builder in (Table, _document, PairReader, development_table, fixture_table, real_news_table, scored):
        digest.update(inspect.getsource(builder).encode("utf-8"))
    digest.update(settings.model_dump_json(exclude={"judge_model", "same_event_model", "cache_dir", "models_dir", *DECISION_SETTINGS}).encode("utf-8"))
    return digest.hexdigest()


def cached_table(data: Path | None, settings: Settings, news_only: bool = False) -> Table:
    """:func:`build_table`, each part kept under the cache folder (``judge-rows-*.npz``) keyed by the code and settings.

    Building the development part takes minutes; `make eval` refits the judge many times (leave one event or story
    out) on the same rows.
    """
    if not settings.embedding_cache:
        return build_table(data, settings)
    table = Table([], [], [], [], [])
    fingerprint = _fingerprint(settings)
    for part in table_parts(data, news_only):
        path = Path(settings.cache_dir) / f"judge-rows-{fingerprint}-{part}.npz"
        if path.is_file():
            stored = np.load(path, allow_pickle=False)
            rows = Table(list(stored["vectors"]), stored["labels"].tolist(), stored["datasets"].tolist(), stored["conflicts"].tolist(),
                         stored["groups"].tolist())
        else:
            rows = _part(part, data, settings)
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, vectors=np.vstack(rows.vectors).reshape(len(rows.labels), len(FEATURES)), labels=np.array(rows.labels, dtype=np.int64),
                     datasets=np.array(rows.datasets, dtype=str), conflicts=np.array(rows.conflicts, dtype=bool),
                     groups=np.array(rows.groups, dtype=str))
        _extend(table, rows)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="The shared evaluation folder (../shared/eval).")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--fixtures-only", action="store_true", help="Fit on the fixtures alone when the development sets are absent.")
    parser.add_argument("--news-only", action="store_true",
                        help="Keep the shipped judge's base models and refit only its news term (fixtures and real-news gold): seconds, not the "
                        "development sets' minutes.")
    parser.add_argument("--backends", nargs="+", default=None,
                        help="Encoder backends whose rows the judge is fitted on (one judge serves them all; default: the "
                        "configured one). `make train` passes torch and onnx-int8, as the same-event model is fitted.")
    args = parser.parse_args(argv)
    settings = load_settings()
    backends = args.backends or [choose_backend(settings)]
    if args.data is None or not args.data.is_dir():
        if not args.fixtures_only:
            # Refitting on 130 fixture labels would silently replace the shipped judge with a much weaker one.
            print(f"judge: development sets not found ({args.data}); the shipped judge is kept (--fixtures-only to fit anyway)")
            return 0
        print("judge: fitting on the fixtures only")
    output = args.output or default_models_dir() / "judge.json"
    table = Table([], [], [], [], [])
    for backend in backends:
        # Each backend's rows are the same claims read on that encoder's vectors: one judge for both, as sure of one as
        # of the other (int8 vectors are within cosine 0.997 of float32 ones, yet a judge fitted on one moves on the other).
        _extend(table, cached_table(args.data, settings.model_copy(update={"encoder_backend": backend}), news_only=args.news_only))
    if args.news_only:
        judge = adapt(base_of(ClaimJudge.load(judge_model_path(settings))), news_rows(table))
    else:
        judge = fit_adapted(table)
    judge.fitted_with = {"encoder": settings.model, "encoder_backend": "+".join(backends),
                         "settings": {name: getattr(settings, name) for name in FITTED_SETTINGS}}
    judge.save(output)
    counts = Counter((d, CLASSES[label].value) for d, label in zip(table.datasets, table.labels, strict=True))
    for dataset in sorted({d for d, _ in counts}):
        row = ", ".join(f"{status} {counts[(dataset, status)]}" for status in (c.value for c in CLASSES) if counts[(dataset, status)])
        print(f"judge  {dataset:18s} {row}")
    print(f"judge  {len(table.labels)} labelled claims, {len(FEATURES)} features → {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
