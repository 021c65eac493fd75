"""What made a report: tool version, settings, fingerprints of the encoder and fitted models, time of generation."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import os
from pathlib import Path

from divergence.datamodel import Provenance

_SMALL_FILES = ("config.json", "modules.json", "tokenizer_config.json", "sentence_bert_config.json", "divergence_materialized.json")


def file_fingerprint(path: Path) -> str | None:
    """blake2b of a (small) file's bytes; None when it cannot be read."""
    try:
        return hashlib.blake2b(Path(path).read_bytes(), digest_size=8).hexdigest()
    except OSError:
        return None


def encoder_fingerprint(path: str | Path) -> str | None:
    """A hash of an encoder directory: its small configuration files' bytes and every file's name and size.

    Hashing the weights themselves (~466 MB) would cost seconds per report; a different set of weights
    changes their size or the materialisation record.
    """
    directory = Path(path)
    if not directory.is_dir():
        return None
    digest = hashlib.blake2b(digest_size=8)
    for file in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = file.relative_to(directory).as_posix()
        digest.update(f"{relative}\0{file.stat().st_size}\n".encode())
        if file.name in _SMALL_FILES:
            digest.update(file.read_bytes())
    return digest.hexdigest()


def generation_time() -> str:
    """Now in UTC, or SOURCE_DATE_EPOCH when set (reproducible builds: same input, same bytes out)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch.isdigit() else dt.datetime.now(dt.UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def tool_version() -> str:
    try:
        return importlib.metadata.version("divergence")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _plain(value):
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def provenance_of(runtime) -> Provenance:
    """The provenance of a report made with ``runtime`` (a :class:`divergence.runtime.Runtime`)."""
    from divergence.encoder.embed import resolve_model

    settings = runtime.settings
    try:
        encoder_path = resolve_model(settings, build=False)
    except Exception:  # noqa: BLE001 - a hub id or a missing directory simply has no fingerprint
        encoder_path = None
    values = {name: _plain(getattr(settings, name)) for name in type(settings).model_fields if name != "cache_dir"}
    return Provenance(
        tool_version=tool_version(),
        generated_at=generation_time(),
        encoder=settings.model,
        encoder_fingerprint=encoder_fingerprint(encoder_path) if encoder_path else None,
        judge_fingerprint=file_fingerprint(runtime.judge_path),
        same_event_fingerprint=file_fingerprint(runtime.same_event_path),
        settings=values,
    )
