"""Fit the same-event model (``make train``): logistic regression over pair signals.

Training pairs come from every labelled set available: the fixtures (always),
and the seeds and BASIL triplets when ``--data`` points at the shared
evaluation folder. Each set weighs the same in the fit and, inside a set,
both classes weigh the same, so 11,000 BASIL pairs do not drown 10 seed
pairs. The result is written to ``models/same-event.json`` with what it was
trained on; ``make eval`` also reports each set clustered by a model fitted
without it.

    python -m dev.train_same_event --data ../shared/eval
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from dev.devsets import LabelledSet, basil, fixtures, seeds
from divergence.config import Settings, load_settings, project_root, same_event_model_path
from divergence.events.profile import Profile
from divergence.events.same_event import FEATURES, FITTED_SETTINGS, SameEventModel, feature_vector, pair_signals
from divergence.ingest.prepare import prepare
from divergence.pipeline import profile_documents
from divergence.runtime import Runtime

TIME_SCALE_DAYS = 3.0
REGULARISATION = 1.0


@dataclass
class PairTable:
    name: str
    profiles: list[Profile]
    truth: list[str]
    pairs: list[tuple[int, int]]
    features: np.ndarray
    labels: np.ndarray


def profiles_of(labelled: LabelledSet, settings: Settings) -> tuple[list[Profile], list[str]]:
    prepared, claims = [], {}
    for document in labelled.documents:
        document, doc_claims = prepare(document, settings)
        if doc_claims:
            prepared.append(document)
            claims[document.id] = doc_claims
    profiles = profile_documents(prepared, claims, Runtime(settings))
    return profiles, [labelled.events[p.id] for p in profiles]


def pair_table(labelled: LabelledSet, settings: Settings) -> PairTable:
    profiles, truth = profiles_of(labelled, settings)
    pairs = list(itertools.combinations(range(len(profiles)), 2))
    rows = [feature_vector(pair_signals(profiles[i], profiles[j], settings.supported_threshold), TIME_SCALE_DAYS) for i, j in pairs]
    labels = np.array([truth[i] == truth[j] for i, j in pairs], dtype=int)
    return PairTable(labelled.name, profiles, truth, pairs, np.array(rows).reshape(len(rows), -1), labels)


def fitted_with(settings: Settings) -> dict:
    return {"encoder": settings.model, "settings": {name: getattr(settings, name) for name in FITTED_SETTINGS}}


def fit(tables: list[PairTable], settings: Settings | None = None) -> SameEventModel:
    settings = settings or load_settings()
    features, labels, weights = [], [], []
    for table in tables:
        if not len(table.labels) or table.labels.min() == table.labels.max():
            continue
        positives = table.labels.sum()
        negatives = len(table.labels) - positives
        weight = np.where(table.labels == 1, 0.5 / positives, 0.5 / negatives)
        features.append(table.features)
        labels.append(table.labels)
        weights.append(weight)
    X, y, w = np.vstack(features), np.concatenate(labels), np.concatenate(weights)
    model = LogisticRegression(C=REGULARISATION, max_iter=1000).fit(X, y, sample_weight=w * len(y) / w.sum())
    return SameEventModel(
        weights=tuple(round(float(c), 5) for c in model.coef_[0]),
        intercept=round(float(model.intercept_[0]), 5),
        time_scale_days=TIME_SCALE_DAYS,
        trained_on=", ".join(f"{t.name} ({len(t.labels)} pairs)" for t in tables),
        fitted_with=fitted_with(settings),
    )


def labelled_sets(data: Path | None) -> list[LabelledSet]:
    root = project_root() or Path.cwd()
    sets = [fixtures(root / "fixtures")]
    if data is not None:
        for loaded in (seeds(data.parent / "seeds"), basil(data / "basil")):
            if loaded is not None:
                sets.append(loaded)
    return sets


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="The shared evaluation folder (../shared/eval).")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = load_settings()
    data = args.data if args.data is not None and args.data.is_dir() else None
    tables = [pair_table(labelled, settings) for labelled in labelled_sets(data)]
    model = fit(tables, settings)
    output = args.output or same_event_model_path(settings)
    model.save(output)
    print(f"same-event model written to {output}: trained on {model.trained_on}")
    for name, weight in zip(FEATURES, model.weights, strict=False):
        print(f"  {name:20s} {weight:+.3f}")
    print(f"  {'intercept':20s} {model.intercept:+.3f}")


if __name__ == "__main__":
    main()
