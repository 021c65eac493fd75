"""`make eval`: quality figures, checked against floors that only move up.

Reads the fixtures (always) and the development sets under ``--data``
(default ../shared/eval) when they are present; skips them cleanly when not.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dev.fixture_agreement import fixture_agreement
from dev.judge_figures import judge_figures
from dev.pairsets import development_pairs
from divergence.config import load_settings, project_root

FLOORS_FILE = "eval_floors.json"
DEFAULT_LIMIT = 100


def fixture_agreement_held_out(fixtures: Path, data: Path | None):
    """Fixture agreement out of sample: each event judged by a judge fitted on everything but that event's labels."""
    import tempfile

    from dev.fixture_agreement import Agreement
    from dev.train_judge import build_table, fit, without_group

    settings = load_settings()
    table = build_table(data, settings)
    result = Agreement()
    with tempfile.TemporaryDirectory() as folder:
        for group in sorted({g for g in table.groups if g.startswith("fixtures:")}):
            path = Path(folder) / f"{group[9:]}.json"
            fit(without_group(table, group)).save(path)
            fixture_agreement(fixtures, settings.model_copy(update={"judge_model": path}), {group[9:]}, result)
    return result


def clustering_figures(data: Path | None, figures: dict[str, float]) -> None:
    """BCubed and pairwise figures on every labelled set: with the shipped model, and left out (a model fitted
    with the shipped parameters on the other training sets only). The seeds are never fitted or tuned on
    (`make train` leaves them out): their held-out figure comes from the model fitted on every training set."""
    from dev.cluster_metrics import bcubed, pairwise, wrong_groups
    from dev.devsets import seeds
    from dev.train_same_event import DEFAULT_PARAMETERS, cluster_labels, fit, labelled_sets, pair_table
    from divergence.events.linkage import group_indices
    from divergence.runtime import Runtime

    settings = load_settings()
    runtime = Runtime(settings)
    shipped = runtime.same_event
    parameters = {name: shipped.parameters.get(name, default) for name, default in DEFAULT_PARAMETERS.items()}
    print(f"clusters     shipped model: {shipped.trained_on}; parameters {parameters}")
    training = [pair_table(labelled, settings, runtime) for labelled in labelled_sets(data)]
    held_out_only = seeds(data.parent / "seeds") if data is not None else None
    checks = [pair_table(held_out_only, settings, runtime)] if held_out_only is not None else []
    for table in training + checks:
        others = [t for t in training if t is not table]
        # A check set is never trained on: its held-out model is the one fitted on every training set.
        left_out = fit(others, settings, parameters) if others else None
        for tag, model in (("shipped", shipped), ("held-out", left_out)):
            if model is None:
                continue
            labels = cluster_labels(table, model, settings)
            b, p = bcubed(labels, table.truth), pairwise(labels, table.truth)
            exact = sorted(group_indices(labels)) == sorted(group_indices(table.truth))
            merged, split = wrong_groups(labels, table.truth)
            print(f"clusters     {table.name:9s} {tag:8s} {len(table.profiles):4d} docs {len(set(table.truth)):3d} events: "
                  f"BCubed P {b.precision:.3f} R {b.recall:.3f} F1 {b.f1:.3f}; pairwise P {p.precision:.3f} R {p.recall:.3f} "
                  f"F1 {p.f1:.3f}; exact {exact}; {merged} groups merge events, {split} events split")
            figures[f"cluster_bcubed_f1_{table.name}{'_held_out' if tag == 'held-out' else ''}"] = round(b.f1, 4)


def semeval_correlation(folder: Path, limit: int, per_language: int = 12) -> dict[str, tuple[float, int]]:
    """Spearman correlation of the same-event probability with the human Overall rating (1 similar … 4 dissimilar).

    Keys: 'original' (the first ``limit`` original pairs), 'all' (up to ``per_language`` pairs of every
    language pair, machine-translated copies included) and each language pair.
    """
    from scipy.stats import spearmanr

    from dev.devsets import LabelledSet, semeval_pairs, semeval_pairs_by_language
    from dev.train_same_event import profiles_of
    from divergence.events.same_event import pair_signals
    from divergence.ingest.load import document_from_record
    from divergence.runtime import Runtime

    original = semeval_pairs(folder, limit)
    every = semeval_pairs_by_language(folder, per_language)
    if not original and not every:
        return {}
    settings = load_settings()
    runtime = Runtime(settings)
    model = runtime.same_event
    unique = {p.pair_id: p for p in original + every}
    documents = [document_from_record({"id": f"{p.pair_id}:{side}", "text": text}, p.pair_id, "semeval")
                 for p in unique.values() for side, text in (("1", p.text1), ("2", p.text2)) if text.strip()]
    profiles, _ = profiles_of(LabelledSet("semeval", documents, {d.id: d.id for d in documents}), settings, runtime)
    by_id = {p.id: p for p in profiles}
    probability = {}
    for pair in unique.values():
        a, b = by_id.get(f"{pair.pair_id}:1"), by_id.get(f"{pair.pair_id}:2")
        if a is not None and b is not None:
            probability[pair.pair_id] = model.probability(pair_signals(a, b, settings.supported_threshold))

    def rho(pairs) -> tuple[float, int]:
        scored = [(probability[p.pair_id], p.overall) for p in pairs if p.pair_id in probability]
        if len(scored) < 3:
            return float("nan"), len(scored)
        return float(-spearmanr([s for s, _ in scored], [r for _, r in scored]).statistic), len(scored)

    results = {"original": rho(original), "all": rho(every)}
    for languages in sorted({p.languages for p in every}):
        subset = [p for p in every if p.languages == languages]
        results[languages + (" (machine-translated)" if all(p.translated for p in subset) else "")] = rho(subset)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="Test pairs read from each development set (SummEdits: per domain).")
    args = parser.parse_args()
    root = project_root() or Path.cwd()
    floors = json.loads((root / FLOORS_FILE).read_text(encoding="utf-8")) if (root / FLOORS_FILE).is_file() else {}
    figures: dict[str, float] = {}

    agreement = fixture_agreement(root / "fixtures")
    figures["fixture_agreement"] = round(agreement.rate, 4)
    print(f"fixtures     agreement with gold {agreement.agreed}/{agreement.total} = {agreement.rate:.3f}; chrome claims: {len(agreement.chrome_claims)}")

    held_out = fixture_agreement_held_out(root / "fixtures", args.data if args.data.is_dir() else None)
    figures["fixture_agreement_held_out"] = round(held_out.rate, 4)
    print(f"fixtures     agreement with gold, judge refitted without each event: {held_out.agreed}/{held_out.total} = {held_out.rate:.3f}")

    clustering_figures(args.data if args.data.is_dir() else None, figures)
    if args.data.is_dir():
        semeval = semeval_correlation(args.data / "semeval22", 400)
        if semeval:
            rho, count = semeval["original"]
            figures["semeval_spearman"] = round(rho, 4)
            print(f"semeval22    Spearman correlation of same-event probability with human similarity ({count} original pairs) = {rho:.3f}")
            rho, count = semeval["all"]
            figures["semeval_spearman_all_languages"] = round(rho, 4)
            print(f"semeval22    every language pair, up to 12 each ({count} pairs) = {rho:.3f}; by language pair: "
                  + ", ".join(f"{k} {v[0]:.2f} ({v[1]})" for k, v in semeval.items() if k not in ("original", "all")))
        sampled: dict[str, float] = {}
        judge_figures(development_pairs(args.data), load_settings(), args.limit, sampled)
        if args.limit == DEFAULT_LIMIT:
            figures.update(sampled)
        else:
            print(f"judgement floors not checked: they were measured with --limit {DEFAULT_LIMIT}")
    else:
        print(f"development sets: {args.data} not found, skipped")

    failed = [f"{name} {value:.3f} < floor {floors[name]:.3f}" for name, value in figures.items() if name in floors and value < floors[name] - 0.005]
    for line in failed:
        print("BELOW FLOOR:", line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
