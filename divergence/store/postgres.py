"""The corpus store in PostgreSQL, shared by several API workers and ingest processes.

The same tables, the same ordered migrations and the same public methods as the
SQLite store (:mod:`divergence.store.sqlite`), with what a shared database adds:

* The schema version is a row of ``schema_version``; migrations run in one
  transaction under an advisory lock, so processes opening a new database at
  once migrate it once.
* One transaction per document, as in SQLite; documents get a sequence number
  (``seq``) where SQLite has its rowid.
* Event assignment is serialised per time partition (a week of event days):
  :meth:`PostgresStore.assigning` holds ``pg_advisory_xact_lock`` on every
  partition a document can reach until it is written; undated documents reach
  every partition, so they hold the global key exclusively where dated ones
  hold it shared. Two workers therefore never both create the same event.
* Event ids are :func:`event_id_for` their documents, as in SQLite and in
  ``analyze``; the corpus regroups the events a document reached inside the
  same :meth:`PostgresStore.assigning` transaction, under the same locks.
  (The ``event_numbers`` sequence of schema 2 is kept for stores that hold
  ids made from it.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from divergence.datamodel import Claim, Document
from divergence.errors import NotInStore, StoreError
from divergence.events.assemble import event_id_for
from divergence.events.profile import sentence_rows
from divergence.store.sqlite import (
    EventRow,
    StoredDocument,
    day_bounds,
    document_vector_bytes,
    event_day,
    new_event_label,
    now,
    planned_moves,
)

PARTITION_DAYS = 7
"""Width of a time partition in event days (a week): the unit of event-assignment locks and of the vector index."""

_LOCK_NAMESPACE = 0x64697665  # "dive": advisory-lock keys of this store are (namespace, key) pairs
_MIGRATION_KEY = -1
_EVERY_PARTITION_KEY = -2


def _v1(db) -> None:
    for statement in (
        """CREATE TABLE documents (
            id TEXT PRIMARY KEY,
            content_hash TEXT NOT NULL UNIQUE,
            ingested_at TEXT NOT NULL,
            data TEXT NOT NULL,
            seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
        )""",
        """CREATE TABLE claims (
            id TEXT PRIMARY KEY,
            document TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            data TEXT NOT NULL
        )""",
        "CREATE INDEX claims_document ON claims(document, position)",
        """CREATE TABLE embedding_models (
            id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            dimension INTEGER NOT NULL
        )""",
        """CREATE TABLE claim_vectors (
            claim TEXT PRIMARY KEY REFERENCES claims(id) ON DELETE CASCADE,
            model INTEGER NOT NULL REFERENCES embedding_models(id),
            vector BYTEA NOT NULL
        )""",
        "CREATE TABLE events (id TEXT PRIMARY KEY, created_at TEXT NOT NULL)",
        """CREATE TABLE event_documents (
            document TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
            event TEXT NOT NULL REFERENCES events(id),
            probability DOUBLE PRECISION,
            reason TEXT,
            seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
        )""",
        "CREATE INDEX event_documents_event ON event_documents(event)",
    ):
        db.execute(statement)


def _v2(db) -> None:
    """Event day and document vector per document, event labels, copies (as SQLite's second migration)."""
    db.execute("ALTER TABLE documents ADD COLUMN event_day INTEGER")
    db.execute("ALTER TABLE documents ADD COLUMN vector BYTEA")
    db.execute("CREATE INDEX documents_event_day ON documents(event_day)")
    db.execute("ALTER TABLE events ADD COLUMN label TEXT")
    db.execute("ALTER TABLE event_documents ADD COLUMN copy_of TEXT")
    db.execute("CREATE SEQUENCE event_numbers")
    for doc_id, data in db.execute("SELECT id, data FROM documents").fetchall():
        blobs = db.execute(
            "SELECT v.vector FROM claims c JOIN claim_vectors v ON v.claim = c.id WHERE c.document = %s ORDER BY c.position", (doc_id,)
        ).fetchall()
        vectors = np.vstack([np.frombuffer(b, dtype=np.float16).astype(np.float32) for (b,) in blobs]) if blobs else None
        db.execute("UPDATE documents SET event_day = %s, vector = %s WHERE id = %s",
                   (event_day(Document.model_validate_json(data)), document_vector_bytes(vectors), doc_id))
    for (event_id,) in db.execute("SELECT id FROM events").fetchall():
        first = db.execute(
            "SELECT d.data FROM event_documents e JOIN documents d ON d.id = e.document WHERE e.event = %s "
            "ORDER BY d.ingested_at, d.seq LIMIT 1", (event_id,),
        ).fetchone()
        if first:
            db.execute("UPDATE events SET label = %s WHERE id = %s", (Document.model_validate_json(first[0]).title, event_id))
    db.execute("SELECT setval('event_numbers', GREATEST((SELECT COUNT(*) FROM events), 1), (SELECT COUNT(*) FROM events) > 0)")


MIGRATIONS: list[Callable] = [_v1, _v2]
SCHEMA_VERSION = len(MIGRATIONS)


def partition_of(day: int) -> int:
    return day // PARTITION_DAYS


def partitions_within(day: int, reach_days: int) -> range:
    """The time partitions holding every event day within ``reach_days`` of ``day``."""
    return range(partition_of(day - reach_days), partition_of(day + reach_days) + 1)


def masked(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


class PostgresStore:
    """A corpus store in a PostgreSQL database; use as a context manager or call ``close()``."""

    def __init__(self, url: str, model: str, migrate: bool = True):
        try:
            import psycopg
        except ImportError as error:
            raise StoreError("PostgreSQL stores need psycopg: pip install 'divergence[postgres]'", masked(url)) from error
        self.url = url
        self.path = masked(url)
        self.model = model
        self._lock = threading.RLock()
        self._errors = psycopg.Error
        try:
            self.db = psycopg.connect(url, autocommit=True)
        except psycopg.Error as error:
            raise StoreError(f"cannot connect ({str(error).strip().splitlines()[0]})", self.path) from error
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StoreError(f"made by a newer divergence (schema {version}, this one knows {SCHEMA_VERSION})", self.path)
        if version < SCHEMA_VERSION and migrate:
            self._migrate()

    def _migrate(self) -> None:
        with self._lock, self.db.transaction():
            self.db.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_NAMESPACE, _MIGRATION_KEY))
            self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = self.db.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                self.db.execute("INSERT INTO schema_version(version) VALUES (0)")
            version = row[0] if row else 0
            for step in MIGRATIONS[version:]:  # another process may have migrated while this one waited
                step(self.db)
            self.db.execute("UPDATE schema_version SET version = %s", (max(version, SCHEMA_VERSION),))

    @property
    def schema_version(self) -> int:
        exists = self.db.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()[0]
        if not exists:
            return 0
        row = self.db.execute("SELECT version FROM schema_version").fetchone()
        return row[0] if row else 0

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- event assignment ----------------------------------------------------------

    @contextmanager
    def assigning(self, day: int | None, reach_days: int) -> Iterator[None]:
        """One transaction holding the locks of every time partition a document of event day ``day`` can reach.

        Reads inside it (candidates, event members) see every document committed before the locks were
        granted; :meth:`add` inside it joins the transaction, so the locks are released when the
        document is written (or the process dies: PostgreSQL ends its transaction).
        """
        with self._lock, self.db.transaction():
            if day is None:
                self.db.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_NAMESPACE, _EVERY_PARTITION_KEY))
            else:
                self.db.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", (_LOCK_NAMESPACE, _EVERY_PARTITION_KEY))
                for partition in partitions_within(day, reach_days):  # ascending: two workers never wait on each other in a cycle
                    self.db.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_NAMESPACE, partition))
            yield

    # --- writing ---------------------------------------------------------------

    def _model_id(self, dimension: int) -> int:
        self.db.execute("INSERT INTO embedding_models(name, dimension) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                        (self.model, dimension))
        model_id, stored = self.db.execute("SELECT id, dimension FROM embedding_models WHERE name = %s", (self.model,)).fetchone()
        if stored != dimension:
            raise StoreError(f"model {self.model} stored with dimension {stored}, got {dimension}", self.path)
        return model_id

    def check_model(self) -> None:
        """Refuse to mix vector spaces: every stored vector must come from ``self.model``."""
        others = [name for (name,) in self.db.execute("SELECT name FROM embedding_models WHERE name != %s ORDER BY name", (self.model,))]
        if others:
            raise StoreError(f"the store holds vectors of {', '.join(others)}; this run uses {self.model}", self.path)

    def add(
        self,
        document: Document,
        claims: list[Claim],
        vectors: np.ndarray,
        content_hash: str,
        event: str | None,
        probability: float | None,
        reason: str,
        copy_of: str | None = None,
    ) -> str:
        """Insert one document with its claims, vectors and event in one transaction; returns the event id.

        As :meth:`divergence.store.sqlite.Store.add`: an event id not held yet starts that event, None the event
        :func:`event_id_for` the document alone.
        """
        try:
            with self._lock, self.db.transaction():
                model_id = self._model_id(int(vectors.shape[1]) if vectors.ndim == 2 and vectors.size else 0)
                self.db.execute(
                    "INSERT INTO documents(id, content_hash, ingested_at, data, event_day, vector) VALUES (%s, %s, %s, %s, %s, %s)",
                    (document.id, content_hash, now(), document.model_dump_json(), event_day(document),
                 document_vector_bytes(vectors[sentence_rows(claims)])),
                )
                with self.db.cursor() as cursor:
                    cursor.executemany("INSERT INTO claims(id, document, position, data) VALUES (%s, %s, %s, %s)",
                                       [(c.id, document.id, i, c.model_dump_json()) for i, c in enumerate(claims)])
                    cursor.executemany("INSERT INTO claim_vectors(claim, model, vector) VALUES (%s, %s, %s)",
                                       [(c.id, model_id, v.astype(np.float16).tobytes()) for c, v in zip(claims, vectors, strict=True)])
                if event is None:
                    event = event_id_for([document.id])
                self.db.execute("INSERT INTO events(id, created_at, label) VALUES (%s, %s, %s) ON CONFLICT (id) DO NOTHING",
                                (event, now(), new_event_label(document, claims)))
                self.db.execute(
                    "INSERT INTO event_documents(document, event, probability, reason, copy_of) VALUES (%s, %s, %s, %s, %s)",
                    (document.id, event, probability, reason, copy_of),
                )
        except self._errors as error:
            raise StoreError(f"cannot store {document.id} ({str(error).strip().splitlines()[0]})", self.path) from error
        return event

    # --- reading ---------------------------------------------------------------

    def find_hash(self, content_hash: str) -> str | None:
        row = self.db.execute("SELECT id FROM documents WHERE content_hash = %s", (content_hash,)).fetchone()
        return row[0] if row else None

    def has_document(self, doc_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM documents WHERE id = %s", (doc_id,)).fetchone() is not None

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]

    def load(self, ids: Iterable[str]) -> list[StoredDocument]:
        out = []
        for doc_id in ids:
            row = self.db.execute(
                "SELECT d.data, e.event, e.copy_of FROM documents d JOIN event_documents e ON e.document = d.id WHERE d.id = %s",
                (doc_id,),
            ).fetchone()
            if row is None:
                raise NotInStore(f"no document {doc_id!r}", self.path)
            claims, vectors = [], []
            for data, blob in self.db.execute(
                "SELECT c.data, v.vector FROM claims c JOIN claim_vectors v ON v.claim = c.id WHERE c.document = %s ORDER BY c.position",
                (doc_id,),
            ):
                claims.append(Claim.model_validate_json(data))
                vectors.append(np.frombuffer(blob, dtype=np.float16).astype(np.float32))
            out.append(StoredDocument(Document.model_validate_json(row[0]), claims, np.vstack(vectors) if vectors else np.zeros((0, 0)),
                                      row[1], row[2]))
        return out

    def document_vectors(self, partition: int | None = None, every: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(sequence numbers, float16 document vectors) of every document, or of one time partition (``None``: the undated)."""
        if every:
            rows = self.db.execute("SELECT seq, vector FROM documents WHERE vector IS NOT NULL ORDER BY seq").fetchall()
        elif partition is None:
            rows = self.db.execute("SELECT seq, vector FROM documents WHERE vector IS NOT NULL AND event_day IS NULL ORDER BY seq").fetchall()
        else:
            rows = self.db.execute(
                "SELECT seq, vector FROM documents WHERE vector IS NOT NULL AND event_day >= %s AND event_day < %s ORDER BY seq",
                (partition * PARTITION_DAYS, (partition + 1) * PARTITION_DAYS),
            ).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.uint64), np.zeros((0, 0), dtype=np.float16)
        return np.array([r for r, _ in rows], dtype=np.uint64), np.vstack([np.frombuffer(b, dtype=np.float16) for _, b in rows])

    def partition_sizes(self, days: tuple[int, int] | None = None) -> dict[int | None, int]:
        """Documents with a vector per time partition (``None``: undated), within ``days`` (inclusive) or everywhere."""
        partition = f"floor(event_day::numeric / {PARTITION_DAYS})::bigint"
        if days is None:
            rows = self.db.execute(f"SELECT {partition}, COUNT(*) FROM documents WHERE vector IS NOT NULL GROUP BY 1").fetchall()
        else:  # two index range scans (event_day), not one scan of the table
            low, high = partition_of(days[0]) * PARTITION_DAYS, (partition_of(days[1]) + 1) * PARTITION_DAYS
            rows = self.db.execute(
                f"SELECT {partition}, COUNT(*) FROM documents WHERE event_day >= %s AND event_day < %s AND vector IS NOT NULL "
                "GROUP BY 1 UNION ALL SELECT NULL, COUNT(*) FROM documents WHERE event_day IS NULL AND vector IS NOT NULL "
                "HAVING COUNT(*) > 0", (low, high),
            ).fetchall()
        return dict(rows)

    def event_days(self, rowids: Iterable[int]) -> dict[int, int | None]:
        rowids = [int(r) for r in rowids]
        if not rowids:
            return {}
        return dict(self.db.execute("SELECT seq, event_day FROM documents WHERE seq = ANY(%s)", (rowids,)).fetchall())

    def all_ids(self) -> list[str]:
        return [doc_id for (doc_id,) in self.db.execute("SELECT id FROM documents ORDER BY seq")]

    def rowids_of(self, ids: Iterable[str]) -> dict[str, int]:
        ids = list(ids)
        return dict(self.db.execute("SELECT id, seq FROM documents WHERE id = ANY(%s)", (ids,)).fetchall()) if ids else {}

    def ids_for_rowids(self, rowids: Iterable[int]) -> dict[int, str]:
        rowids = [int(r) for r in rowids]
        if not rowids:
            return {}
        return {r: i for i, r in self.db.execute("SELECT id, seq FROM documents WHERE seq = ANY(%s)", (rowids,))}

    def event_documents(self, event: str) -> list[str]:
        return [d for (d,) in self.db.execute("SELECT document FROM event_documents WHERE event = %s ORDER BY seq", (event,))]

    def event_of(self, doc_id: str) -> str | None:
        row = self.db.execute("SELECT event FROM event_documents WHERE document = %s", (doc_id,)).fetchone()
        return row[0] if row else None

    def _event_rows(self, where: str = "", params: tuple = ()) -> list[EventRow]:
        rows = self.db.execute(
            "SELECT e.id, e.label, e.created_at, array_agg(d.document ORDER BY d.seq) FROM events e "
            f"JOIN event_documents d ON d.event = e.id {where} GROUP BY e.id ORDER BY e.id",
            params,
        ).fetchall()
        return [EventRow(r[0], r[1], list(r[3]), r[2]) for r in rows]

    def events(self) -> list[EventRow]:
        return self._event_rows()

    def event_row(self, event: str) -> EventRow:
        """One event by id (an indexed lookup, not a scan of every event)."""
        found = self._event_rows("WHERE e.id = %s", (event,))
        if not found:
            raise NotInStore(f"no event {event!r}", self.path)
        return found[0]

    def integrity(self) -> str:
        """"ok", or what breaks the one-transaction-per-document guarantee."""
        checks = {
            "documents without an event": "SELECT COUNT(*) FROM documents WHERE id NOT IN (SELECT document FROM event_documents)",
            "claims without a vector": "SELECT COUNT(*) FROM claims WHERE id NOT IN (SELECT claim FROM claim_vectors)",
        }
        found = [f"{count} {name}" for name, query in checks.items() if (count := self.db.execute(query).fetchone()[0])]
        return "; ".join(found) or "ok"

    # --- regrouping: events re-examined by batch clustering (divergence.store.corpus) ------------------

    def documents_in_window(self, first_day: int | None, last_day: int | None) -> list[str]:
        """Ids of the documents whose event day lies in [first_day, last_day] (an open end when None), in ingest order.

        Without either bound every document is returned, the undated ones included.
        """
        if first_day is None and last_day is None:
            return self.all_ids()
        return [d for (d,) in self.db.execute(
            "SELECT id FROM documents WHERE event_day BETWEEN %s AND %s ORDER BY seq", day_bounds(first_day, last_day))]

    def events_of(self, ids: Iterable[str]) -> dict[str, str]:
        """Document id → its event, for those of ``ids`` the store holds."""
        ids = list(ids)
        return dict(self.db.execute("SELECT document, event FROM event_documents WHERE document = ANY(%s)", (ids,)).fetchall()) if ids else {}

    def event_labels(self, events: Iterable[str]) -> dict[str, str | None]:
        """Event id → label, for those of ``events`` the store holds."""
        events = list(events)
        return dict(self.db.execute("SELECT id, label FROM events WHERE id = ANY(%s)", (events,)).fetchall()) if events else {}

    def reassign_events(self, groups: dict[str, list[str]], labels: dict[str, str | None],
                        links: dict[str, tuple[float | None, str]]) -> None:
        """Move documents to the given events in one transaction (a savepoint inside :meth:`assigning`).

        As :meth:`divergence.store.sqlite.Store.reassign_events`: events left without documents are deleted.
        """
        try:
            with self._lock, self.db.transaction():
                for event in groups:
                    self.db.execute("INSERT INTO events(id, created_at, label) VALUES (%s, %s, %s) ON CONFLICT (id) DO NOTHING",
                                    (event, now(), labels.get(event)))
                moves, emptied = planned_moves(groups, self.events_of(d for documents in groups.values() for d in documents), self.path)
                for doc_id, event in moves:
                    if doc_id in links:
                        probability, reason = links[doc_id]
                        self.db.execute("UPDATE event_documents SET event = %s, probability = %s, reason = %s WHERE document = %s",
                                        (event, probability, reason, doc_id))
                    else:  # renamed with the company it keeps: its tie stays as recorded
                        self.db.execute("UPDATE event_documents SET event = %s WHERE document = %s", (event, doc_id))
                for event in emptied:
                    self.db.execute("DELETE FROM events WHERE id = %s AND NOT EXISTS (SELECT 1 FROM event_documents WHERE event = %s)",
                                    (event, event))
        except self._errors as error:
            raise StoreError(f"cannot regroup events ({str(error).strip().splitlines()[0]})", self.path) from error
