"""Everything a run needs that is costly or fitted, built once and passed down.

A :class:`Runtime` holds the settings, the sentence encoder, the centring of
its vectors, the claim judge, the same-event model and the optional NLI
cross-encoder. The pipeline functions take one (the HTTP server keeps one
for its lifetime and can :meth:`Runtime.reload` the fitted models without
restarting); when none is given, :func:`runtime_for` returns one keyed by
the settings *and* the fitted files' modification times, so a retrained
model is picked up by the next call.

Each fitted model records the encoder and the settings it was fitted with
(``fitted_with`` in its JSON). Running it with others changes its inputs,
so the runtime says so once, as a W301 warning carried into every report.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

import numpy as np

from divergence.config import Settings, judge_model_path, load_settings, same_event_model_path
from divergence.datamodel import Problem
from divergence.encoder.centring import Centering, background_sentences
from divergence.encoder.embed import Encoder, choose_backend, encoder_key
from divergence.errors import FITTED_SETTINGS_DIFFER, ModelError
from divergence.events.same_event import SameEventModel
from divergence.judge.classifier import ClaimJudge

_encoders: dict[tuple, Encoder] = {}
_runtimes: dict[tuple, Runtime] = {}
_lock = threading.Lock()


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def shared_encoder(settings: Settings) -> Encoder:
    """One loaded encoder per model (and its files' fingerprint) per process: loading costs seconds."""
    key = encoder_key(settings)
    with _lock:
        if key not in _encoders:
            _encoders[key] = Encoder(settings)
        return _encoders[key]


def fitted_with_warnings(kind: str, path: Path, fitted_with: dict, settings: Settings) -> list[Problem]:
    """W301 for every recorded setting (or the encoder) that differs from the ones in force."""
    problems = []
    recorded = dict(fitted_with.get("settings", {}))
    encoder = fitted_with.get("encoder")
    if encoder is not None and encoder != settings.model:
        problems.append(Problem(path=str(path), code=FITTED_SETTINGS_DIFFER, set_aside=False,
                                message=f"the {kind} was fitted on encoder {encoder}, not {settings.model}; its inputs differ, refit with `make train`"))
    backend = fitted_with.get("encoder_backend")
    # "torch+onnx-int8": fitted on both backends' vectors; "checked_on": other backends on which every `make eval`
    # floor was measured to hold with this very file (a refit must be checked again, so training never writes it).
    served = [*(backend or "").split("+"), *fitted_with.get("checked_on", [])]
    if backend is not None and (running := choose_backend(settings)) not in served:
        # int8 vectors are within cosine 0.99 of float32 ones, yet a judge fitted on one moves on the other.
        problems.append(Problem(path=str(path), code=FITTED_SETTINGS_DIFFER, set_aside=False,
                                message=f"the {kind} was fitted on the {backend} encoder, running on {running}; refit on it "
                                        f"(`DIVERGENCE_ENCODER_BACKEND={running} make train`)"))
    for name, value in sorted(recorded.items()):
        current = getattr(settings, name, None)
        if current is not None and current != value:
            problems.append(Problem(path=str(path), code=FITTED_SETTINGS_DIFFER, set_aside=False,
                                    message=f"the {kind} was fitted with {name}={value}; running with {current} changes its inputs"))
    return problems


class Runtime:
    """Settings plus the loaded encoder and fitted models (each loaded on first use)."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or load_settings()
        self.judge_path = judge_model_path(self.settings)
        self.same_event_path = same_event_model_path(self.settings)

    @cached_property
    def encoder(self) -> Encoder:
        return shared_encoder(self.settings)

    @cached_property
    def centring(self) -> Centering:
        return Centering().fit(self.encoder.encode(list(background_sentences())))

    def embed(self, texts: list[str]) -> np.ndarray:
        """Centred unit vectors of ``texts``: the one path from text to the corrected scale."""
        if not texts:
            return np.zeros((0, self.encoder.dimension), dtype=np.float32)
        return self.centring.transform(self.encoder.encode(texts)).astype(np.float32)

    def prefetch(self, texts: Iterable[str]) -> None:
        """Embed ``texts`` now, in one batch, so the stages' later calls read them from the embedding cache.

        The judge embeds each document's joined evidence on its own; many small calls cost about twice as much
        per sentence as one sorted batch. Without a cache there is nowhere to keep them, so nothing is done.
        """
        if getattr(self.encoder, "cache", None) is not None:
            self.encoder.encode(sorted(set(texts)))

    @cached_property
    def token_encoder(self):
        """Token states for token-level alignment (divergence.encoder.tokens); None where the encoder has none."""
        from divergence.encoder.tokens import token_encoder_for

        return token_encoder_for(self.settings, self.encoder)

    def token_states(self, texts: list[str]) -> list | None:
        """(piece ids, unit token states) of each text, or None when this runtime has no token states."""
        return None if self.token_encoder is None else self.token_encoder.encode(texts)

    @cached_property
    def judge(self) -> ClaimJudge:
        try:
            return ClaimJudge.load(self.judge_path)
        except (OSError, ValueError, KeyError) as error:
            raise ModelError(f"cannot load the claim judge: {error}", str(self.judge_path)) from error

    @cached_property
    def same_event(self) -> SameEventModel:
        try:
            return SameEventModel.load(self.same_event_path)
        except (OSError, ValueError, KeyError) as error:
            raise ModelError(f"cannot load the same-event model: {error}", str(self.same_event_path)) from error

    @cached_property
    def nli(self):
        if not self.settings.nli_model:
            return None
        from divergence.encoder.embed import quiet_model_loading
        from divergence.judge.nli import NliModel

        quiet_model_loading()  # the encoder may not be loaded in this run (warm cache) to have done it
        return NliModel(self.settings.nli_model, self.settings.device)

    def warnings(self, judge: bool = True, same_event: bool = True) -> list[Problem]:
        """W301 warnings for the fitted models this run reads."""
        found = []
        if judge:
            found += fitted_with_warnings("claim judge", self.judge_path, self.judge.fitted_with, self.settings)
        if same_event:
            found += fitted_with_warnings("same-event model", self.same_event_path, self.same_event.fitted_with, self.settings)
        return found

    def reload(self) -> Runtime:
        """A runtime reading the fitted model files afresh (same encoder)."""
        fresh = Runtime(self.settings)
        if "encoder" in self.__dict__:
            fresh.__dict__["encoder"] = self.encoder
        if "centring" in self.__dict__:
            fresh.__dict__["centring"] = self.centring
        return fresh


def runtime_for(settings: Settings) -> Runtime:
    """The runtime for these settings; a new one when a fitted model file has changed since."""
    key = (settings, _mtime(judge_model_path(settings)), _mtime(same_event_model_path(settings)))
    with _lock:
        runtime = _runtimes.get(key)
        if runtime is None:
            runtime = _runtimes[key] = Runtime(settings)
        return runtime
