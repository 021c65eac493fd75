"""Corpus stores: one SQLite file (the default) or a shared PostgreSQL database (``postgresql://…``).

Both implement the public methods of :class:`divergence.store.sqlite.Store`;
:func:`open_store` picks one from the target, :func:`open_index` the matching
document-vector index, and :func:`assigning` the scope in which a document is
assigned to an event and written (serialised across processes where the
store can do it).
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

DATABASE_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(target: str | Path) -> bool:
    """True for a PostgreSQL connection URL, False for a SQLite file path."""
    return str(target).startswith(DATABASE_SCHEMES)


def open_store(target: str | Path, model: str, migrate: bool = True, read_only: bool = False):
    """The store at ``target``: a PostgreSQL URL opens the shared store, anything else the SQLite file.

    ``read_only`` opens a SQLite file without writing to it (commands that only read); a PostgreSQL
    store's reads never write, so it needs no such mode.
    """
    if is_database_url(target):
        from divergence.store.postgres import PostgresStore

        return PostgresStore(str(target), model, migrate=migrate)
    from divergence.store.sqlite import Store

    return Store(target, model, migrate=migrate, read_only=read_only)


def open_index(store, dimension: int):
    """The document-vector index of ``store``: one HNSW file next to a SQLite store, per-week partitions for PostgreSQL."""
    if is_database_url(store.path):
        from divergence.store.partitions import PartitionedIndex

        return PartitionedIndex(store, dimension)
    from divergence.store.index import DocumentIndex

    return DocumentIndex(store, dimension)


def assigning(store, day: int | None, reach_days: int):
    """Scope for assigning a document of event day ``day`` to an event and writing it.

    A shared store holds a lock on every time partition within ``reach_days`` of ``day`` until the
    document is written, so two workers never create the same event twice; the SQLite store has one
    writer per process (the caller's lock), so it needs none.
    """
    scope = getattr(store, "assigning", None)
    return scope(day, reach_days) if scope is not None else nullcontext()
