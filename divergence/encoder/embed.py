"""A sentence encoder (int8 ONNX Runtime build or sentence-transformers) and its on-disk embedding cache."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from divergence.config import DEFAULT_MODEL, Settings
from divergence.encoder.cache import EmbeddingCache, through_cache
from divergence.encoder.materialize import is_materialized, materialize
from divergence.errors import ModelError

BUILTIN_PREFIX = "builtin:"
BUILTIN_NAME = "multilingual-e5-small"
FAST_SUFFIX = "-int8"
progress = logging.getLogger("divergence.progress")
"""A one-time build takes minutes: it is a stage of the run (the CLI's spinner and --verbose show it), not a debug note."""
BACKENDS = ("auto", "onnx-int8", "torch")

def resolve_model(settings: Settings, build: bool = True) -> str:
    """The path or id handed to SentenceTransformer for ``settings.model``."""
    model = settings.model
    if model.startswith(BUILTIN_PREFIX):
        name = model[len(BUILTIN_PREFIX) :]
        if name != BUILTIN_NAME:
            raise ModelError(f"unknown built-in model '{name}' (available: {BUILTIN_NAME})")
        target = Path(settings.models_dir) / BUILTIN_NAME
        if build and not is_materialized(target):
            progress.info("materialising %s into %s (once)", model, target)
            try:
                materialize(target)
            except Exception as error:  # noqa: BLE001 - any failure here is one user-facing problem
                raise ModelError(f"cannot build the built-in encoder: {error}", str(target)) from error
        return str(target)
    return model


def fast_artefact_path(settings: Settings) -> Path | None:
    """Where the int8 ONNX build of the encoder lives; None for models other than the built-in one."""
    if not settings.model.startswith(BUILTIN_PREFIX):
        return None
    return Path(settings.models_dir) / (BUILTIN_NAME + FAST_SUFFIX)


def choose_backend(settings: Settings) -> str:
    """'onnx-int8' or 'torch' for these settings (see the encoder_backend setting).

    The int8 build exists only for the built-in encoder; it is built on first need when missing (see :class:`Encoder`).
    """
    if settings.encoder_backend not in BACKENDS:
        raise ModelError(f"encoder_backend must be one of {', '.join(BACKENDS)}, got '{settings.encoder_backend}'")
    if settings.encoder_backend == "torch":
        return "torch"
    if fast_artefact_path(settings) is None:
        if settings.encoder_backend == "onnx-int8":
            raise ModelError(f"encoder_backend=onnx-int8 needs the built-in encoder ({DEFAULT_MODEL}); "
                             "for another model use encoder_backend=torch or auto", settings.model)
        return "torch"
    return "onnx-int8"


def fast_encoder_built(settings: Settings) -> bool:
    """Whether the int8 build of the built-in encoder is in place and of this version (``make model`` builds it)."""
    from divergence.encoder.fast import artefact_is_current

    artefact = fast_artefact_path(settings)
    return artefact is not None and artefact_is_current(artefact)


def build_fast_encoder(settings: Settings, force: bool = False):
    """Build the int8 ONNX artefact of the built-in encoder (once; checked against float32 before it is installed)."""
    from divergence.encoder.fast import BuildError, build_artefact

    artefact = fast_artefact_path(settings)
    if artefact is None:
        return None
    try:
        return build_artefact(resolve_model(settings), artefact, prefix=settings.query_prefix, force=force)
    except BuildError as error:
        raise ModelError(str(error), str(artefact)) from error


def quiet_model_loading() -> None:
    """Before torch and transformers load a model (the encoder, or the NLI cross-encoder): no progress bars, no chatter."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Idle OpenMP threads sleep instead of spinning (read when torch starts, so set before its import). On a
    # machine whose cores are busy with other work, spinning threads tripled the wall time of encoding and
    # burnt 3.6x the CPU (measured on 2 shared cores); ONNX Runtime's threads are told the same in fast.py.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    # It announces the default prompt on every load; we pass the prefix ourselves.
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)


def _fingerprint(path: str) -> str:
    """Changes whenever the model files change, so stale cached vectors are never reused."""
    config = Path(path) / "config.json"
    if config.is_file():
        stat = (Path(path) / "config.json").stat()
        return f"{int(stat.st_mtime)}-{stat.st_size}"
    return "hub"


class Encoder:
    """A sentence-transformers model (or the int8 ONNX build) plus the embedding cache.

    The model itself is loaded on first need: a run whose texts are all in the embedding cache never
    imports torch nor reads the weights (seconds saved on every warm start). :meth:`load` loads it now.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.name = settings.model
        self.path = resolve_model(settings)
        self.backend = choose_backend(settings)
        self._model = None
        self._fast = None
        self._dimension: int | None = None
        if self.backend == "onnx-int8":
            self._artefact = fast_artefact_path(settings)
            if not fast_encoder_built(settings):
                progress.info("building the int8 encoder into %s (once)", self._artefact)
                build_fast_encoder(settings, force=True)
            fingerprint = f"{_fingerprint(self.path)}|int8-{_built_stamp(self._artefact)}"
        else:
            fingerprint = _fingerprint(self.path)
        self.cache = (
            EmbeddingCache(Path(settings.cache_dir) / "embeddings.sqlite", f"{self.name}|{fingerprint}|{settings.query_prefix}")
            if settings.embedding_cache
            else None
        )
        self._encode_lock = threading.Lock()
        self._load_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory (it is loaded by the first text that is not in the cache)."""
        return self._model is not None or self._fast is not None

    def load(self) -> Encoder:
        """Load the model now (a server does it at start-up, so no request waits for it)."""
        with self._load_lock:
            if self.loaded:
                return self
            if self.backend == "onnx-int8":
                from divergence.encoder.fast import ArtefactError, FastEncoder

                try:
                    # One sentence a batch: dynamic int8 scales activations per batch, so a batch-mate would nudge a
                    # vector, and cached vectors must depend on their text alone (batching saves little on CPU anyway).
                    self._fast = FastEncoder(self._artefact, batch_size=1, device=self.settings.device or "auto")
                except (ArtefactError, ValueError) as error:
                    raise ModelError(f"cannot load the int8 encoder: {error}", str(self._artefact)) from error
                self._dimension = self._fast.dimension
            else:
                self._model = self._load(self.path, self.settings.device)
                self._dimension = self._model.get_embedding_dimension()
        return self

    @property
    def dimension(self) -> int:
        """The vectors' length: from the cache when it holds any (no model load), else from the model."""
        if self._dimension is None:
            self._dimension = (self.cache.dimension() if self.cache is not None else None) or self.load()._dimension
        return self._dimension

    @staticmethod
    def _load(path: str, device: str | None):
        quiet_model_loading()
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(path, device=device)
        except Exception as error:  # noqa: BLE001
            raise ModelError(f"cannot load the sentence encoder: {error}", path) from error

    def encode_uncached(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        if self._fast is not None:
            with self._encode_lock:
                return self._fast.encode(texts, self.settings.query_prefix)
        with self._encode_lock:
            vectors = self._model.encode(
                texts,
                prompt=self.settings.query_prefix,  # overrides any default prompt of the model
                batch_size=self.settings.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def with_torch_model(self, work):
        """``work(model)`` on the loaded sentence-transformers model, under the encoder's lock; None on the int8 backend.

        For what reads more of the model than pooled vectors (token states, divergence.encoder.tokens), without loading
        a second copy of it.
        """
        if self.backend != "torch":
            return None
        self.load()
        with self._encode_lock:
            return work(self._model)

    def with_fast_model(self, work):
        """``work(fast_encoder)`` on the loaded int8 build, as :meth:`with_torch_model` does on torch; None on torch."""
        if self.backend != "onnx-int8":
            return None
        self.load()
        with self._encode_lock:
            return work(self._fast)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings of ``texts`` in order; cached texts are not re-embedded."""
        if self.cache is None:
            return self.encode_uncached(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack(through_cache(texts, self.cache, self.encode_uncached))


def _built_stamp(artefact: Path) -> str:
    """When and how large the int8 build is: a rebuilt model gets other cache entries and another loaded encoder."""
    from divergence.encoder.fast import MODEL_FILE

    built = (artefact / MODEL_FILE).stat()
    return f"{int(built.st_mtime)}-{built.st_size}"


def encoder_key(settings: Settings) -> tuple:
    """What identifies a loaded encoder: the settings it reads and its files' fingerprint."""
    path = resolve_model(settings, build=False)
    backend = choose_backend(settings)
    built = _built_stamp(fast_artefact_path(settings)) if backend == "onnx-int8" and fast_encoder_built(settings) else None
    return (settings.model, settings.device, str(settings.cache_dir), settings.query_prefix, settings.embedding_cache,
            settings.batch_size, _fingerprint(path), backend, built)


__all__ = ["DEFAULT_MODEL", "Encoder", "encoder_key", "resolve_model"]
