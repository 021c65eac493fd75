"""Where batch work runs: locally (the default, in this process) or on a Ray cluster (``--engine ray``).

An engine embeds every text a run needs before the stages run (they then read the vectors it made
through the runtime's encoder) and judges the events of ``analyze``; the stages themselves are the
same, so every engine gives the same report.
"""

from __future__ import annotations

ENGINES = ("local", "ray")


def engine_for(name: str, address: str | None = None):
    """None for the local engine (the pipeline's own loop), else the engine object."""
    if name == "local":
        return None
    if name == "ray":
        from divergence.engines.ray_engine import RayEngine

        return RayEngine(address)
    from divergence.errors import ConfigError

    raise ConfigError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")
