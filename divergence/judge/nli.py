"""An optional second opinion from an NLI cross-encoder (``--nli MODEL``).

No NLI model ships with divergence (none is available offline, and the ones
we could train here do not transfer to news; see the README). Users who
have one can add it: every judged claim gets the model's entailment /
neutral / contradiction probabilities for (evidence → claim), and a
confident opinion (≥ ``nli_threshold``) that disagrees with the judge wins,
with the reason saying so.
"""

from __future__ import annotations

import threading

import numpy as np

from divergence.datamodel import Conflict, Judgement, Status
from divergence.errors import ModelError

LABELS = ("entailment", "neutral", "contradiction")
_ALIASES = {"entailment": "entailment", "entail": "entailment", "neutral": "neutral",
            "contradiction": "contradiction", "contradict": "contradiction", "not_entailment": "neutral"}

class NliModel:
    def __init__(self, name: str, device: str | None = None):
        from sentence_transformers import CrossEncoder

        try:
            self._model = CrossEncoder(name, device=device)
        except Exception as error:  # noqa: BLE001 - any load failure is one user-facing problem
            raise ModelError(f"cannot load the NLI cross-encoder: {error}", name) from error
        id2label = getattr(self._model.model.config, "id2label", None) or {}
        columns = {}
        for index, label in id2label.items():
            key = _ALIASES.get(str(label).lower())
            if key:
                columns[key] = int(index)
        if set(columns) != set(LABELS):
            raise ModelError(f"the NLI model's labels {sorted(map(str, id2label.values()))} are not entailment/neutral/contradiction", name)
        self.columns = [columns[label] for label in LABELS]
        self._lock = threading.Lock()

    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """(premise, hypothesis) pairs → rows of entailment, neutral, contradiction probabilities."""
        if not pairs:
            return np.zeros((0, 3))
        with self._lock:
            scores = self._model.predict(pairs, apply_softmax=True, show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(scores)[:, self.columns]


def add_opinion(claim_text: str, judgement: Judgement, probabilities: np.ndarray, threshold: float) -> Judgement:
    """The judgement with the NLI opinion recorded, and overridden where the opinion is confident and disagrees."""
    opinion = {label: round(float(p), 4) for label, p in zip(LABELS, probabilities, strict=True)}
    update: dict = {"nli": opinion}
    evidence = judgement.evidence.text if judgement.evidence else ""
    if opinion["contradiction"] >= threshold and judgement.status is not Status.contradicted:
        update.update(
            status=Status.contradicted,
            conflicts=[Conflict(kind="nli", claim_span=claim_text, evidence_span=evidence)],
            missing=[],
            reason=f"the NLI model reads a contradiction (p={opinion['contradiction']:.2f}); the judge said {judgement.status.value}",
        )
    elif opinion["entailment"] >= threshold and judgement.status in (Status.partial, Status.absent):
        update.update(
            status=Status.supported,
            missing=[],
            reason=f"the NLI model reads it as implied (p={opinion['entailment']:.2f}); the judge said {judgement.status.value}",
        )
    return judgement.model_copy(update=update)
