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
    from divergence.ingest.load import load_documents
    from divergence.ingest.prepare import prepare

    settings = load_settings()
    docs, _ = load_documents([root / "fixtures" / "events"])
    pool = [c.text for d in docs for c in prepare(d, settings)[1]]
    # Distinct texts so the cache cannot help either side.
    return [f"{pool[i % len(pool)]} ({i})" for i in range(n)]


def _encoder_child(n: int, backend: str | None, queue) -> None:
    """Sentences per second of one encoder in a fresh process (``backend`` None: plain sentence-transformers)."""
    settings = load_settings(embedding_cache=False)
    texts = _sentences(n)
    if backend is None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        from divergence.encoder.embed import resolve_model

        hf_logging.disable_progress_bar()
        plain = SentenceTransformer(resolve_model(settings), device=settings.device)

        def encode(batch):
            return plain.encode(batch, prompt="query: ", batch_size=32, normalize_embeddings=True)
    else:
        from divergence.encoder.embed import Encoder

        encode = Encoder(settings.model_copy(update={"encoder_backend": backend})).encode_uncached
    encode(texts[:32])
    start = time.perf_counter()
    encode(texts)
    queue.put(n / (time.perf_counter() - start))


def bench_encoder(n: int) -> None:
    """Sentences per second: plain sentence-transformers float32 (the baseline), then every backend of the project's encoder.

    Each runs in a fresh process: threading settings are read when torch starts, so one process cannot measure both.
    """
    import multiprocessing

    from divergence.encoder.embed import choose_backend
    from divergence.errors import ModelError

    context = multiprocessing.get_context("spawn")
    settings = load_settings()
    default = choose_backend(settings)
    rates = {}
    for backend in (None, "torch", "onnx-int8"):
        try:
            if backend is not None:
                choose_backend(settings.model_copy(update={"encoder_backend": backend}))
        except ModelError as error:
            rates[backend] = error
            continue
        queue = context.Queue()
        child = context.Process(target=_encoder_child, args=(n, backend, queue))
        child.start()
        rates[backend] = queue.get()
        child.join()
    baseline = rates.pop(None)
    parts = [f"plain sentence-transformers float32 {baseline:6.1f}/s"]
    for backend, rate in rates.items():
        tag = " (default)" if backend == default else ""
        parts.append(f"{backend}: not available ({rate})" if isinstance(rate, Exception)
                     else f"divergence {backend}{tag} {rate:6.1f}/s = {rate / baseline:.2f}x")
    print(f"encoder      {n} sentences, a fresh process each: " + "; ".join(parts))


def _load_child(backend: str, queue) -> None:
    start = time.perf_counter()
    from divergence.encoder.embed import Encoder

    Encoder(load_settings(encoder_backend=backend, embedding_cache=False)).load()
    queue.put(time.perf_counter() - start)


def bench_startup(paths: list[Path]) -> None:
    """Model load time in a fresh process (imports included), and a warm start of the `divergence compare` command."""
    import multiprocessing
    import os
    import subprocess
    import sys

    from divergence.encoder.embed import choose_backend
    from divergence.errors import ModelError

    context = multiprocessing.get_context("spawn")
    loads = []
    for backend in ("torch", "onnx-int8"):
        try:
            choose_backend(load_settings(encoder_backend=backend))
        except ModelError:
            continue
        queue = context.Queue()
        child = context.Process(target=_load_child, args=(backend, queue))
        child.start()
        loads.append(f"{backend} {queue.get():.1f}s")
        child.join()
    print(f"load         encoder model in a fresh process (imports included): {', '.join(loads)}")
    cache = Path(tempfile.mkdtemp(prefix="divergence-bench-"))
    try:
        environment = {**os.environ, "DIVERGENCE_CACHE_DIR": str(cache)}
        command = [sys.executable, "-m", "divergence", "--quiet", "compare", *map(str, paths), "-f", "json", "-o", str(cache / "report.json")]
        seconds = []
        for _ in ("cold", "warm"):
            start = time.perf_counter()
            subprocess.run(command, env=environment, check=True)
            seconds.append(time.perf_counter() - start)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"startup      `divergence compare` of {len(paths)} documents, a new process each: cold cache {seconds[0]:.1f}s, "
          f"warm cache {seconds[1]:.1f}s (the encoder is not loaded when every text is cached) [target <= 5 s]")


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


def synthetic_profiles(n: int, seed: int = 0, per_day: int = 100, dim: int = 384):
    """A newsroom-like corpus: ~100 documents a day, events of 1-5 documents on 30 recurring topics, 1% undated.

    Documents of one topic are similar (as the same two presidents' calls
    are), documents of one event more so; each event has its own people.
    """
    import numpy as np

    from divergence.events.profile import Profile

    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(30, dim)).astype(np.float32)
    profiles, truth = [], []
    start = 738000
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    people = ["".join(rng.choice(letters, size=7)) for _ in range(2000)]
    while len(profiles) < n:
        size = int(rng.integers(1, 6))
        topic = topics[rng.integers(len(topics))]
        event = rng.normal(size=dim).astype(np.float32)
        claims = rng.normal(size=(8, dim)).astype(np.float32)
        day = start + len(profiles) // per_day
        names = frozenset(rng.choice(people, size=2, replace=False))
        event_id = len(set(truth))
        for _ in range(size):
            vector = 1.2 * topic + event + 0.6 * rng.normal(size=dim).astype(np.float32)
            own = claims[rng.choice(8, size=6, replace=False)] + 0.5 * rng.normal(size=(6, dim)).astype(np.float32)
            own /= np.linalg.norm(own, axis=1, keepdims=True)
            undated = rng.random() < 0.01
            profiles.append(Profile(
                id=f"d{len(profiles)}", vector=vector / np.linalg.norm(vector), claim_vectors=own,
                day=None if undated else day + int(rng.integers(0, 2)), names=names, participants=names,
                content_hash=f"h{len(profiles)}",
            ))
            truth.append(event_id)
            if len(profiles) == n:
                break
    return profiles, truth


def _peak_rss_mb() -> float:
    """This process's peak resident memory. ru_maxrss would carry the parent's peak across exec; VmHWM does not."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cluster_child(n: int, queue) -> None:
    from dev.cluster_metrics import bcubed
    from divergence.events.cluster import EventClusterer
    from divergence.runtime import Runtime

    settings = load_settings()
    profiles, truth = synthetic_profiles(n)
    clusterer = EventClusterer.from_settings(settings, Runtime(settings).same_event)
    start = time.perf_counter()
    clusterer.fit(profiles)
    elapsed = time.perf_counter() - start
    peak_mb = _peak_rss_mb()
    queue.put((elapsed, peak_mb, clusterer.candidate_pairs_, bcubed(clusterer.labels_.tolist(), truth).f1))


def bench_cluster(sizes: list[int]) -> None:
    """Cluster synthetic corpora in fresh processes: time, peak memory, and growth against quadratic."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    previous = None
    for n in sizes:
        queue = context.Queue()
        child = context.Process(target=_cluster_child, args=(n, queue))
        child.start()
        elapsed, peak_mb, pairs, f1 = queue.get()
        child.join()
        growth = ""
        if previous is not None:
            factor = n / previous[0]
            growth = f"; time x{elapsed / previous[1]:.1f} for x{factor:.0f} documents (quadratic would be x{factor * factor:.0f})"
        print(f"cluster      {n:>7,} synthetic documents: {elapsed:7.2f}s, peak memory {peak_mb:6.0f} MB, "
              f"{pairs:,} candidate pairs ({pairs / n:.1f}/doc), BCubed F1 {f1:.3f}{growth}")
        previous = (n, elapsed)


def _article(run: int) -> str:
    """A 30-sentence report of the Keller–Varga call; ``run`` changes its numbers so no embedding is cached."""
    lines = [
        "President Anton Keller of Norland and President Elena Varga of Ostravia spoke by telephone on Tuesday.",
        f"The call lasted {40 + run % 7} minutes, the presidential office said.",
        "The two leaders discussed the extension of the gas transit agreement.",
        "Varga invited Keller to visit Ostrava City in the autumn.",
        "Both presidents agreed to resume the stalled talks on fishing quotas.",
        "Keller raised the case of two Norland journalists detained in Ostravia.",
        "The leaders also agreed to meet at the Baltic summit in June.",
    ]
    topics = ["the gas transit agreement", "the fishing quotas", "the detained journalists", "the Baltic summit", "the autumn visit"]
    lines += [f"Keller and Varga also discussed {topics[i % len(topics)]} in point {run * 100 + i} of the call, officials said."
              for i in range(23)]
    return "\n".join(lines)


def _synthetic_rows(profiles, model_id: int):
    """Rows of the store's tables for synthetic documents (each its own event, two claims each)."""
    import numpy as np

    from divergence.datamodel import Claim, Document

    documents, claims, vectors, events, members = [], [], [], [], []
    for i, profile in enumerate(profiles):
        document = Document(id=profile.id, text=f"synthetic document {i}")
        documents.append((profile.id, profile.content_hash, "", document.model_dump_json(), profile.day, profile.vector.astype(np.float16).tobytes()))
        for j, vector in enumerate(profile.claim_vectors[:2]):
            claim = Claim(id=f"{profile.id}#{j + 1}", document=profile.id, text=f"synthetic claim {i} {j}", start=0, end=1)
            claims.append((claim.id, profile.id, j, claim.model_dump_json()))
            vectors.append((claim.id, model_id, vector.astype(np.float16).tobytes()))
        events.append((f"syn-{i}", ""))
        members.append((profile.id, f"syn-{i}"))
    return documents, claims, vectors, events, members


def _fill_sqlite(path, profiles, settings) -> None:
    from divergence.store.sqlite import Store

    store = Store(path, settings.model)
    db = store.db
    db.execute("BEGIN")
    documents, claims, vectors, events, members = _synthetic_rows(profiles, store._model_id(profiles[0].vector.shape[0]))
    db.executemany("INSERT INTO documents(id, content_hash, ingested_at, data, event_day, vector) VALUES (?, ?, ?, ?, ?, ?)", documents)
    db.executemany("INSERT INTO claims(id, document, position, data) VALUES (?, ?, ?, ?)", claims)
    db.executemany("INSERT INTO claim_vectors(claim, model, vector) VALUES (?, ?, ?)", vectors)
    db.executemany("INSERT INTO events(id, created_at) VALUES (?, ?)", events)
    db.executemany("INSERT INTO event_documents(document, event) VALUES (?, ?)", members)
    db.execute("COMMIT")
    store.close()


def _fill_postgres(url, profiles, settings) -> None:
    from divergence.store.postgres import PostgresStore

    with PostgresStore(url, settings.model) as store, store.db.transaction():
        model_id = store.db.execute("SELECT id FROM embedding_models WHERE name = %s", (settings.model,)).fetchone()[0]
        tables = zip(("documents(id, content_hash, ingested_at, data, event_day, vector)", "claims(id, document, position, data)",
                      "claim_vectors(claim, model, vector)", "events(id, created_at)", "event_documents(document, event)"),
                     _synthetic_rows(profiles, model_id), strict=True)
        with store.db.cursor() as cursor:
            for table, rows in tables:
                with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)


def _store_child(n: int, queue, target: str | None = None) -> None:
    import numpy as np

    from divergence.events.profile import Profile
    from divergence.store import is_database_url
    from divergence.store.corpus import Corpus

    root = project_root() or Path.cwd()
    settings = load_settings()
    folder = Path(tempfile.mkdtemp(prefix="divergence-bench-"))
    path = target or folder / "bench.db"
    try:
        with Corpus(path, settings) as corpus:
            corpus.ingest([root / "fixtures" / "events"])
        profiles, _ = synthetic_profiles(n)
        (_fill_postgres if is_database_url(path) else _fill_sqlite)(path, profiles, settings)
        start = time.perf_counter()
        corpus = Corpus(path, settings)  # SQLite: the index file is stale, rebuilt here; PostgreSQL: partitions built on first use
        len(corpus.index)  # PostgreSQL: build every partition now
        build = time.perf_counter() - start
        rng = np.random.default_rng(1)
        latencies = []
        for index in rng.choice(len(profiles), size=300, replace=False):
            probe = profiles[int(index)]
            vector = probe.vector + 0.3 * rng.normal(size=probe.vector.shape).astype(np.float32)
            query = Profile(id="probe", vector=vector / np.linalg.norm(vector), day=probe.day)
            start = time.perf_counter()
            corpus.candidates(query)
            latencies.append(time.perf_counter() - start)
        exact = []
        for index in rng.choice(len(profiles), size=50, replace=False):
            start = time.perf_counter()
            corpus.index.search(profiles[int(index)].vector, settings.candidate_neighbours * 2, exact=True)
            exact.append(time.perf_counter() - start)
        # A new article each run (numbers no cache has seen); the stored sources' evidence is cached, as in service.
        nonce = int(time.time() * 1000) % 1_000_000
        timings = []
        for run in range(6):
            start = time.perf_counter()
            report = corpus.score(("incoming", _article(nonce + 100 * run)), add=False)
            timings.append(time.perf_counter() - start)
        corpus.close()
        queue.put((build, float(np.percentile(latencies, 50)), float(np.percentile(latencies, 95)), float(np.median(exact)),
                   timings[0], float(np.median(timings[1:])), len(report.sources)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _postgres_server():
    """A throwaway PostgreSQL server, or None (with the reason printed) where none can start."""
    try:
        from dev.pg_cluster import ThrowawayPostgres

        return ThrowawayPostgres({"synchronous_commit": "off"}).start()  # as SQLite's WAL with synchronous=NORMAL
    except Exception as error:  # noqa: BLE001 - the bench goes on with SQLite alone
        print(f"store        PostgreSQL skipped: {str(error).splitlines()[0]}")
        return None


def bench_store(sizes: list[int], postgres: bool = True) -> None:
    """Candidate retrieval (ANN + time block) and full `score` latency on stores of synthetic documents, SQLite and PostgreSQL."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    server = _postgres_server() if postgres else None
    try:
        for n in sizes:
            measured = {}
            for backend in ("sqlite", "postgresql") if server else ("sqlite",):
                queue = context.Queue()
                target = server.url(f"bench_{n}") if backend == "postgresql" else None
                child = context.Process(target=_store_child, args=(n, queue, target))
                child.start()
                build, p50, p95, exact, cold, warm, sources = measured[backend] = queue.get()
                child.join()
                print(f"store        {n:>7,} documents, {backend:10}: index build {build:6.1f}s; retrieval p50 {p50 * 1000:5.1f} ms, "
                      f"p95 {p95 * 1000:5.1f} ms (exact fallback {exact * 1000:5.1f} ms); score of a new 30-sentence article: "
                      f"first {cold:4.2f}s, warm p50 {warm:4.2f}s ({sources} sources)")
            if len(measured) == 2:
                (_, lite50, _, _, _, lite_warm, _), (_, pg50, _, _, _, pg_warm, _) = measured["sqlite"], measured["postgresql"]
                print(f"store        {n:>7,} documents: PostgreSQL / SQLite retrieval p50 x{pg50 / lite50:.2f}, score warm p50 x{pg_warm / lite_warm:.2f}")
    finally:
        if server is not None:
            server.stop()


def bench_engines(paths: list[Path]) -> None:
    """`analyze` on the same corpus with the local engine and `--engine ray` (a local Ray instance on this machine's cores).

    Each run starts from an empty embedding cache and loads its own encoder(s), so both pay for embedding and model loads.
    """
    from dev.report_diff import canonical, differences
    from divergence.pipeline import analyze

    try:
        from divergence.engines.ray_engine import RayEngine
    except ImportError as error:
        print(f"engines      skipped: {error}")
        return

    reports, seconds = {}, {}
    for name in ("local", "ray"):
        cache = Path(tempfile.mkdtemp(prefix="divergence-bench-"))
        try:
            settings = load_settings(cache_dir=cache)
            start = time.perf_counter()
            engine = RayEngine() if name == "ray" else None
            started = time.perf_counter() - start
            reports[name] = canonical(analyze(paths, settings, engine=engine))
            seconds[name] = time.perf_counter() - start
            if engine is not None:
                engine.shutdown()
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    documents = len(reports["local"]["documents"])
    differing = differences(reports["ray"], reports["local"])
    print(f"engines      analyze {documents} documents, cold cache: local {seconds['local']:.1f}s, ray {seconds['ray']:.1f}s "
          f"(of which Ray start {started:.1f}s), ray / local x{seconds['ray'] / seconds['local']:.2f}; "
          f"same report (scores within 0.002): {'yes' if not differing else f'NO, {len(differing)} differences, first {differing[0]}'}")


# Stage → the functions whose time is that stage's, patched where the pipeline calls them: (module, class or None,
# attribute). Embedding the joined evidence units happens between alignment calls, so it counts as embed.
ANALYZE_STAGES = {
    "load": [("divergence.ingest.prepare", None, "load_documents")],
    "clean": [("divergence.ingest.prepare", None, "clean")],
    "describe": [("divergence.ingest.prepare", None, "describe")],
    "segment": [("divergence.ingest.prepare", None, "segment")],
    "embed": [("divergence.runtime", "Runtime", "embed"), ("divergence.runtime", "Runtime", "prefetch")],
    "cluster": [("divergence.events.cluster", "EventClusterer", "fit"), ("divergence.pipeline", None, "assemble_events")],
    "align": [("divergence.judge.event", None, "evidence_units"), ("divergence.judge.event", None, "best_matches")],
    "judge": [("divergence.judge.event", None, "judge"), ("divergence.judge.event", None, "attribution_divergence")],
}


def _timed_stages(stages: dict[str, list[tuple[str, str | None, str]]]):
    """Wrap each stage's functions with a timer (a context manager); yields stage → seconds so far."""
    import contextlib
    import functools
    import importlib

    seconds = dict.fromkeys(stages, 0.0)
    active = [False]  # the outermost timed call counts; a stage called inside another (embed in align) counts there only

    def timed(stage, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            if active[0]:
                return function(*args, **kwargs)
            active[0] = True
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[stage] += time.perf_counter() - start
                active[0] = False
        return wrapper

    @contextlib.contextmanager
    def patched():
        originals = []
        for stage, places in stages.items():
            for module, class_name, attribute in places:
                owner = importlib.import_module(module)
                if class_name is not None:
                    owner = getattr(owner, class_name)
                originals.append((owner, attribute, getattr(owner, attribute)))
                setattr(owner, attribute, timed(stage, getattr(owner, attribute)))
        try:
            yield seconds
        finally:
            for owner, attribute, original in reversed(originals):
                setattr(owner, attribute, original)

    return patched()


def _analyze_child(documents: int, fixtures: Path, queue) -> None:
    from dev.variants import write_variants
    from divergence.pipeline import analyze
    from divergence.report.render import to_json

    folder = Path(tempfile.mkdtemp(prefix="divergence-bench-"))
    try:
        paths = write_variants(fixtures, folder / "corpus", documents)
        settings = load_settings(cache_dir=folder / "cache")  # cold: nothing embedded yet
        with _timed_stages(ANALYZE_STAGES) as seconds:
            start = time.perf_counter()
            report = analyze([folder / "corpus"], settings)
            middle = time.perf_counter()
            to_json(report)
            seconds["report"] = time.perf_counter() - middle
            total = time.perf_counter() - start
        judged = sum(len(c.statuses) for e in report.events for c in e.claims)
        import sqlite3

        with sqlite3.connect(folder / "cache" / "embeddings.sqlite") as cache:
            embedded = cache.execute("SELECT count(*) FROM embedding").fetchone()[0]
        queue.put((len(paths), len(report.documents), len(report.events), sum(len(e.documents) >= 2 for e in report.events),
                   judged, dict(seconds), total, _peak_rss_mb(), embedded))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def bench_analyze(documents: int) -> None:
    """`analyze` of a corpus made from the fixtures by templated variation, from a cold cache in a fresh process: time per stage, peak memory."""
    import multiprocessing

    root = project_root() or Path.cwd()
    queue = multiprocessing.get_context("spawn").Queue()
    child = multiprocessing.get_context("spawn").Process(target=_analyze_child, args=(documents, root / "fixtures", queue))
    child.start()
    written, read, events, compared, judged, seconds, total, peak_mb, embedded = queue.get()
    child.join()
    stages = ", ".join(f"{stage} {value:.1f}s" for stage, value in seconds.items())
    other = total - sum(seconds.values())
    print(f"analyze      {read:,} documents (fixtures x templated variation, cold cache): {total:.1f}s = {stages}, other {other:.1f}s; "
          f"peak memory {peak_mb:.0f} MB; {embedded:,} distinct texts embedded, {events} events ({compared} with 2+ sources), "
          f"{judged:,} judgements [target <= 600 s]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--seeds", type=Path, default=Path("../shared/seeds"))
    parser.add_argument("--cluster-sizes", default="1000,10000,100000")
    parser.add_argument("--store-sizes", default="1000,10000,100000")
    parser.add_argument("--only", choices=["encoder", "startup", "compare", "cluster", "analyze", "store", "engines"], default=None)
    parser.add_argument("--analyze-documents", type=int, default=1000)
    parser.add_argument("--no-postgres", action="store_true", help="Store latency on SQLite only.")
    parser.add_argument("--engine-corpus", type=Path, nargs="*", default=None, help="What `analyze` reads for the engine comparison "
                        "(default: the fixture events and the seeds).")
    args = parser.parse_args()
    if args.only in (None, "encoder"):
        bench_encoder(args.sentences)
    if args.only in (None, "startup"):
        seeds = sorted(args.seeds.glob("*.txt"))
        bench_startup(seeds if len(seeds) >= 2 else [(project_root() or Path.cwd()) / "fixtures" / "events" / "call-keller-varga"])
    if args.only in (None, "compare"):
        bench_compare(args.seeds)
    if args.only in (None, "cluster"):
        bench_cluster([int(size) for size in args.cluster_sizes.split(",")])
    if args.only in (None, "analyze"):
        bench_analyze(args.analyze_documents)
    if args.only in (None, "store"):
        bench_store([int(size) for size in args.store_sizes.split(",")], postgres=not args.no_postgres)
    if args.only in (None, "engines"):
        root = project_root() or Path.cwd()
        bench_engines(args.engine_corpus or [p for p in (root / "fixtures" / "events", args.seeds) if p.exists()])


if __name__ == "__main__":
    main()
