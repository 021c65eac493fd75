"""Batch work on a Ray cluster: embedding with Ray Data, event comparison as Ray tasks.

* Embedding: every distinct text a run needs (claims, the joined evidence units the judge reads, the
  centring background) goes once through ``Dataset.map_batches`` to a pool of actors, each holding the
  sentence encoder (loaded once per actor; a GPU per actor when the cluster has GPUs). The vectors come
  back to the driver, whose runtime then reads them through a
  :class:`~divergence.engines.precomputed.PrecomputedEncoder`: the stages run unchanged, without a model.
* Comparison: each event with two or more sources is judged by a Ray task (the claim judge is a few
  kilobytes; the vectors it needs travel with the task).
* Clustering and event assignment stay on the driver: they are cheap, and assignment is order-dependent.

``RayEngine(None)`` starts a local Ray instance; ``RayEngine("ray://head:10001")`` (or ``"auto"``) joins a
cluster whose workers have divergence installed with the same models (see the README).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

import divergence
from divergence.config import Settings
from divergence.datamodel import Claim, Document, Event, Problem
from divergence.encoder.centring import Centering, background_sentences
from divergence.encoder.tokens import TokenTable, from_bytes, to_bytes
from divergence.engines.precomputed import PrecomputedEncoder, judge_one_event, precomputed_runtime
from divergence.errors import ConfigError, EngineError
from divergence.ingest.load import load_documents
from divergence.ingest.prepare import Input, prepare
from divergence.judge.align import evidence_units
from divergence.judge.parts import judged_texts
from divergence.runtime import Runtime

EMBED_BATCH_ROWS = 256
"""Texts per Ray Data batch handed to an encoder actor (the actor's encoder batches them further)."""


class EncoderActor:
    """Holds one sentence encoder for its lifetime; called by ``map_batches`` with a batch of texts."""

    def __init__(self, settings: Settings):
        runtime = Runtime(settings)
        self.encoder = runtime.encoder
        self.tokens = runtime.token_encoder

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(text) for text in batch["text"]]
        vectors = self.encoder.encode(texts)
        # Token states (the judge's token recall) of the texts asked for, as bytes: their lengths differ.
        wanted = [i for i, flag in enumerate(batch["tokens"]) if flag] if self.tokens is not None else []
        ids, states = np.full(len(texts), b"", dtype=object), np.full(len(texts), b"", dtype=object)
        for i, token_states in zip(wanted, self.tokens.encode([texts[i] for i in wanted]) if wanted else [], strict=True):
            ids[i], states[i] = to_bytes(token_states)
        has_tokens = np.zeros(len(texts), dtype=bool)
        has_tokens[wanted] = True
        return {"position": batch["position"], "vector": vectors.astype(np.float32), "has_tokens": has_tokens, "ids": ids,
                "states": states}


RAY_CONNECT_SECONDS = 5.0


def _check_reachable(address: str) -> None:
    """A cluster address nobody answers on is one line now: Ray itself retries for minutes, logging as it goes."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"ray://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as error:
        raise EngineError(f"not a Ray address (host:port or ray://host:port): {error}", address) from error
    if not host or port is None:
        raise EngineError("not a Ray address (host:port or ray://host:port)", address)
    try:
        socket.create_connection((host, port), timeout=RAY_CONNECT_SECONDS).close()
    except OSError as error:
        raise EngineError(f"cannot reach the Ray cluster: {error.strerror or error}", address) from error


class RayEngine:
    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        try:
            import ray
        except ImportError as error:
            raise ConfigError("--engine ray needs Ray: pip install -e '.[ray]'") from error
        self.ray = ray
        if address and address != "auto":
            _check_reachable(address)
        if not ray.is_initialized():
            options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
            if address:
                try:
                    ray.init(address=address, **options)
                except (ConnectionError, TimeoutError, RuntimeError, ValueError) as error:
                    raise EngineError(f"cannot join the Ray cluster: {str(error).splitlines()[0] if str(error) else type(error).__name__}",
                                      address) from error
            else:  # a local instance: its workers import the same divergence as this process
                package_root = str(Path(divergence.__file__).resolve().parent.parent)
                path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
                ray.init(num_cpus=num_cpus, runtime_env={"env_vars": {"PYTHONPATH": path}}, **options)
        self._judge = ray.remote(judge_one_event)

    # --- embedding ---------------------------------------------------------------

    def embed_texts(self, texts: Iterable[str], settings: Settings, token_texts: Iterable[str] = ()) -> dict[str, np.ndarray]:
        """Unit vectors (as the encoder makes them) of every distinct text, computed by encoder actors; the token states
        of ``token_texts`` (when the encoder has them) are kept in :attr:`token_table`."""
        import ray.data

        self.token_table = {}
        distinct = sorted(set(texts) | set(token_texts))
        if not distinct:
            return {}
        with_tokens = set(token_texts)
        ray.data.DataContext.get_current().enable_progress_bars = False  # progress is the CLI's to show, not Ray's
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        resources = self.ray.cluster_resources()
        gpus = 1 if resources.get("GPU", 0) >= 1 else 0
        actors = max(1, int(resources.get("GPU", 0)) if gpus else int(resources.get("CPU", 1)))
        actor_settings = settings.model_copy(update={"device": "cuda"}) if gpus and settings.device is None else settings
        dataset = ray.data.from_items([{"position": i, "text": text, "tokens": text in with_tokens} for i, text in enumerate(distinct)])
        pool = ray.data.ActorPoolStrategy(size=min(actors, max(1, -(-len(distinct) // EMBED_BATCH_ROWS))))
        embedded = dataset.map_batches(EncoderActor, fn_constructor_args=(actor_settings,), batch_size=EMBED_BATCH_ROWS,
                                       batch_format="numpy", compute=pool, num_gpus=gpus, num_cpus=0 if gpus else 1)
        table = {}
        for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
            rows = zip(batch["position"], batch["vector"], batch["has_tokens"], batch["ids"], batch["states"], strict=True)
            for position, vector, has_tokens, ids, states in rows:
                table[distinct[int(position)]] = np.asarray(vector, dtype=np.float32)
                if has_tokens:
                    self.token_table[distinct[int(position)]] = from_bytes(ids, states)
        return table

    def prepare(self, inputs: Iterable[Input], problems: list[Problem] | None, runtime: Runtime,
                evidence: bool = True) -> tuple[list[Document], list[Problem], Runtime]:
        """Load the inputs once and embed every text the stages will ask for.

        Returns the loaded documents (to pass on as inputs), the problems met so far, and a runtime
        whose encoder serves the vectors made on the cluster. ``evidence``: also the joined evidence
        units the judge reads (for ``analyze``; ``ingest`` only embeds claims).
        """
        settings = runtime.settings
        documents, load_problems = load_documents(inputs, settings.max_document_chars)
        texts = list(background_sentences())
        token_texts = []
        for document in documents:
            prepared, claims = prepare(document, settings)
            texts += [c.text for c in claims]
            if evidence:
                texts += [u.text for u in evidence_units(prepared, claims, settings.evidence_window)]
                texts += judged_texts(prepared, claims, settings)  # atom statements too
                # The judge's token recall reads claims (and evidence made of claims) only.
                token_texts += [c.text for c in claims] if settings.token_alignment else []
        table = self.embed_texts(texts, settings, token_texts)
        dimension = len(next(iter(table.values())))
        tokens = TokenTable(self.token_table) if self.token_table else None
        local = precomputed_runtime(settings, PrecomputedEncoder(table, dimension), tokens=tokens)
        return documents, [*(problems or []), *load_problems], local

    # --- comparison --------------------------------------------------------------

    def judge_events(self, jobs: dict[str, list[Document]], claims: dict[str, list[Claim]], runtime: Runtime,
                     vectors: dict[str, np.ndarray]) -> dict[str, Event]:
        """Event id → the event judged claim by claim, one Ray task per event (as ``judge_event`` locally)."""
        if not jobs:
            return {}
        settings, table = runtime.settings, runtime.encoder.table
        centring: Centering = runtime.centring
        futures = {}
        for event_id, sources in jobs.items():
            # Each task carries only its event's vectors: the evidence units its judge will embed.
            texts = {u.text for d in sources for u in evidence_units(d, claims[d.id], settings.evidence_window)}
            texts |= {t for d in sources for t in judged_texts(d, claims[d.id], settings)}
            encoder = PrecomputedEncoder({text: table[text] for text in texts}, runtime.encoder.dimension)
            tokens = None
            if isinstance(runtime.token_encoder, TokenTable):
                tokens = TokenTable({c.text: runtime.token_encoder.table[c.text] for d in sources for c in claims[d.id]
                                     if c.text in runtime.token_encoder.table})
            futures[event_id] = self._judge.remote(settings, encoder, centring, sources, {d.id: claims[d.id] for d in sources},
                                                   event_id, {d.id: vectors[d.id] for d in sources}, tokens)
        return dict(zip(futures, self.ray.get(list(futures.values())), strict=True))

    def shutdown(self) -> None:
        self.ray.shutdown()
