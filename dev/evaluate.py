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
WRONG_PAIRS_SHOWN_UP_TO = 50
"""Sets of at most this many documents (fixtures, seeds) have every wrongly merged or split pair printed."""
XPARADE_LIMIT = 10
"""X-PARADE test paragraphs per language pair (of ~41-51): CPU is scarce; the floor was measured with this."""


def fixture_agreement_held_out(fixtures: Path, data: Path | None, table=None):
    """Fixture agreement out of sample: each event judged by a judge fitted on everything but that event's labels."""
    import tempfile

    from dev.fixture_agreement import Agreement
    from dev.train_judge import cached_table, fit_adapted, without_group

    settings = load_settings()
    table = table if table is not None else cached_table(data, settings)
    result = Agreement()
    with tempfile.TemporaryDirectory() as folder:
        for group in sorted({g for g in table.groups if g.startswith("fixtures:")}):
            path = Path(folder) / f"{group[9:]}.json"
            fit_adapted(without_group(table, group)).save(path)
            fixture_agreement(fixtures, settings.model_copy(update={"judge_model": path}), {group[9:]}, result)
    return result


def real_news_figures(data: Path, figures: dict[str, float]) -> None:
    """Agreement with the real-news gold (fixtures/gold/real), each story judged by a judge whose news term was fitted
    without that story's labels (the base models never see real-news labels: dev.train_judge.fit_adapted)."""
    import tempfile

    from dev.real_news_eval import real_news_agreement, real_news_stories
    from dev.train_judge import adapt, base_of, cached_table, news_rows, without_group
    from divergence.config import judge_model_path
    from divergence.judge.classifier import ClaimJudge

    stories = real_news_stories(data)
    if not stories:
        print("real news    gold texts not found, skipped")
        return
    settings = load_settings()
    base = base_of(ClaimJudge.load(judge_model_path(settings)))
    news = news_rows(cached_table(data, settings, news_only=True))
    with tempfile.TemporaryDirectory() as folder:
        models = {}
        for story in stories:
            models[story.story] = Path(folder) / f"{story.story.replace(':', '-')}.json"
            adapt(base, without_group(news, story.story)).save(models[story.story])
        result = real_news_agreement(stories, settings, models)
    figures["real_news_agreement_held_out"] = round(result.rate, 4)
    figures["real_news_macro_recall_held_out"] = round(result.macro_recall(), 4)
    for dataset in ("basil", "allsides"):
        total = result.per_dataset[(dataset, "total")]
        if total:
            print(f"real news    {dataset:8s} agreement with gold, leave one story out: "
                  f"{result.per_dataset[(dataset, 'agreed')]}/{total} = {result.per_dataset[(dataset, 'agreed')] / total:.3f}")
    confusion = ", ".join(f"{want}→{got} {n}" for (want, got), n in sorted(result.confusion.items()) if want != got and n >= 5)
    print(f"real news    all {result.agreed}/{result.total} = {result.rate:.3f} (target 0.85); mean recall of supported/partial/absent "
          f"{result.macro_recall():.3f}; spans the tool's claims do not reach: {result.unreached}; main confusions: {confusion}")


def clustering_figures(data: Path | None, figures: dict[str, float]) -> None:
    """BCubed and pairwise figures on every labelled set: with the shipped model, and left out (a model fitted
    with the shipped parameters on the other training sets only). The seeds are never fitted or tuned on
    (`make train` leaves them out): their held-out figure comes from the model fitted on every training set."""
    from dev.cluster_metrics import bcubed, pairwise, wrong_groups, wrong_pairs
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
            if len(table.profiles) <= WRONG_PAIRS_SHOWN_UP_TO:
                together, apart = wrong_pairs(labels, table.truth, [p.id for p in table.profiles])
                for kind, pairs in (("merged", together), ("split", apart)):
                    if pairs:
                        print(f"clusters     {table.name:9s} {tag:8s} {kind}: " + "; ".join(f"{a} + {b}" for a, b in pairs))


def semeval_correlation(folder: Path, limit: int, per_language: int = 12, model=None) -> dict[str, tuple[float, int]]:
    """Spearman correlation of the same-event probability with the human Overall rating (1 similar … 4 dissimilar).

    Keys: 'original' (the first ``limit`` original pairs), 'all' (up to ``per_language`` pairs of every
    language pair, machine-translated copies included) and each language pair. ``model``: a same-event
    model to rate instead of the shipped one (`make train` checks a candidate before it replaces the shipped one).
    """
    from divergence.runtime import Runtime

    rated = semeval_signals(folder, limit, per_language)
    if rated is None:
        return {}
    return semeval_rho(rated, model or Runtime(load_settings()).same_event)


def semeval_signals(folder: Path, limit: int, per_language: int = 12, backend: str | None = None):
    """(original pairs, pairs of every language pair, pair signals by pair id), or None without the data: computed
    once, then any number of models is rated by :func:`semeval_rho` (`make train` rates every candidate)."""
    from dev.devsets import LabelledSet, semeval_pairs, semeval_pairs_by_language
    from dev.train_same_event import profiles_of
    from divergence.events.same_event import pair_signals
    from divergence.ingest.load import document_from_record
    from divergence.runtime import Runtime

    original = semeval_pairs(folder, limit)
    every = semeval_pairs_by_language(folder, per_language)
    if not original and not every:
        return None
    settings = load_settings(**({"encoder_backend": backend} if backend else {}))
    runtime = Runtime(settings)
    unique = {p.pair_id: p for p in original + every}
    documents = [document_from_record({"id": f"{p.pair_id}:{side}", "text": text}, p.pair_id, "semeval")
                 for p in unique.values() for side, text in (("1", p.text1), ("2", p.text2)) if text.strip()]
    profiles, _ = profiles_of(LabelledSet("semeval", documents, {d.id: d.id for d in documents}), settings, runtime)
    by_id = {p.id: p for p in profiles}
    signals = {}
    for pair in unique.values():
        a, b = by_id.get(f"{pair.pair_id}:1"), by_id.get(f"{pair.pair_id}:2")
        if a is not None and b is not None:
            signals[pair.pair_id] = pair_signals(a, b, settings.supported_threshold)
    return original, every, signals


def semeval_rho(rated, model) -> dict[str, tuple[float, int]]:
    """The correlations of :func:`semeval_correlation` for ``model`` over signals from :func:`semeval_signals`."""
    from scipy.stats import spearmanr

    original, every, signals = rated
    probability = {pair_id: model.probability(s) for pair_id, s in signals.items()}

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


def read_floors() -> dict[str, float]:
    root = project_root() or Path.cwd()
    return json.loads((root / FLOORS_FILE).read_text(encoding="utf-8")) if (root / FLOORS_FILE).is_file() else {}


def below_floors(figures: dict[str, float], floors: dict[str, float]) -> list[str]:
    """One line per figure under its pinned floor (0.005 of tolerance: the last digit of a sampled figure moves)."""
    return [f"{name} {value:.3f} < floor {floors[name]:.3f}" for name, value in figures.items()
            if name in floors and not value >= floors[name] - 0.005]  # "not >=": an undefined (NaN) figure fails too


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="Test pairs read from each development set (SummEdits: per domain).")
    parser.add_argument("--judge-only", action="store_true", help="Only the claim-judgement figures (skip clustering and SemEval).")
    parser.add_argument("--xparade-limit", type=int, default=XPARADE_LIMIT, help="X-PARADE test paragraphs per language pair.")
    args = parser.parse_args()
    root = project_root() or Path.cwd()
    floors = read_floors()
    figures: dict[str, float] = {}

    agreement = fixture_agreement(root / "fixtures")
    figures["fixture_agreement"] = round(agreement.rate, 4)
    print(f"fixtures     agreement with gold {agreement.agreed}/{agreement.total} = {agreement.rate:.3f}; chrome claims: {len(agreement.chrome_claims)}")

    from dev.train_judge import cached_table

    table = cached_table(args.data if args.data.is_dir() else None, load_settings())
    held_out = fixture_agreement_held_out(root / "fixtures", args.data if args.data.is_dir() else None, table)
    figures["fixture_agreement_held_out"] = round(held_out.rate, 4)
    print(f"fixtures     agreement with gold, judge refitted without each event: {held_out.agreed}/{held_out.total} = {held_out.rate:.3f}")

    if args.data.is_dir():
        from dev.xparade import xparade_figures, xparade_items

        real_news_figures(args.data, figures)
        measured: dict[str, float] = {}
        xparade_figures(xparade_items(args.data / "x_parade"), load_settings(), measured, args.xparade_limit)
        if args.xparade_limit == XPARADE_LIMIT:
            figures.update(measured)
        else:
            print(f"X-PARADE floors not checked: they were measured with --xparade-limit {XPARADE_LIMIT}")

    if not args.judge_only:
        clustering_figures(args.data if args.data.is_dir() else None, figures)
    if args.data.is_dir() and not args.judge_only:
        semeval = semeval_correlation(args.data / "semeval22", 400)
        if semeval:
            rho, count = semeval["original"]
            figures["semeval_spearman"] = round(rho, 4)
            print(f"semeval22    Spearman correlation of same-event probability with human similarity ({count} original pairs) = {rho:.3f}")
            rho, count = semeval["all"]
            figures["semeval_spearman_all_languages"] = round(rho, 4)
            print(f"semeval22    every language pair, up to 12 each ({count} pairs) = {rho:.3f}; by language pair: "
                  + ", ".join(f"{k} {v[0]:.2f} ({v[1]})" for k, v in semeval.items() if k not in ("original", "all")))
    if args.data.is_dir():
        sampled: dict[str, float] = {}
        judge_figures(development_pairs(args.data), load_settings(), args.limit, sampled)
        if args.limit == DEFAULT_LIMIT:
            figures.update(sampled)
        else:
            print(f"judgement floors not checked: they were measured with --limit {DEFAULT_LIMIT}")
    else:
        print(f"development sets: {args.data} not found, skipped")

    failed = below_floors(figures, floors)
    for line in failed:
        print("BELOW FLOOR:", line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
