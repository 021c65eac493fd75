"""`make bench`: speed as ratios against a baseline measured in the same run."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from divergence.config import load_settings, project_root


def _sentences(n: int) -> list[str]:
    root = project_root() or Path.cwd()
    from divergence.load import load_documents
    from divergence.pipeline import prepare

    settings = load_settings()
    docs, _ = load_documents([root / "fixtures" / "events"])
    pool = [c.text for d in docs for c in prepare(d, settings)[1]]
    # Distinct texts so the cache cannot help either side.
    return [f"{pool[i % len(pool)]} ({i})" for i in range(n)]


def bench_encoder(n: int) -> None:
    from sentence_transformers import SentenceTransformer

    from divergence.encoder.embed import Encoder, resolve_model

    settings = load_settings(embedding_cache=False)
    texts = _sentences(n)
    plain = SentenceTransformer(resolve_model(settings), device=settings.device)
    plain.encode(texts[:32], prompt="query: ", batch_size=32)
    start = time.perf_counter()
    plain.encode(texts, prompt="query: ", batch_size=32, normalize_embeddings=True)
    baseline = time.perf_counter() - start
    ours = Encoder(settings)
    ours.encode_uncached(texts[:32])
    start = time.perf_counter()
    ours.encode_uncached(texts)
    measured = time.perf_counter() - start
    print(f"encoder      {n} sentences: plain sentence-transformers {n / baseline:7.1f}/s, divergence {n / measured:7.1f}/s, ratio {baseline / measured:.2f}x")


def bench_compare(seeds: Path) -> None:
    from divergence.pipeline import compare

    paths = sorted(seeds.glob("*.txt"))
    if len(paths) < 2:
        print(f"compare      skipped: no seed articles in {seeds}")
        return
    cache = Path(tempfile.mkdtemp(prefix="divergence-bench-"))
    try:
        settings = load_settings(cache_dir=cache)
        start = time.perf_counter()
        compare(paths, settings)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        compare(paths, settings)
        warm = time.perf_counter() - start
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"compare      {len(paths)} seed articles: cold cache {cold:.2f}s, warm cache {warm:.2f}s, ratio {cold / warm:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--seeds", type=Path, default=Path("../shared/seeds"))
    args = parser.parse_args()
    bench_encoder(args.sentences)
    bench_compare(args.seeds)


if __name__ == "__main__":
    main()
