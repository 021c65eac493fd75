"""The corpus store: one SQLite file holding documents, claims, claim vectors and events.

* WAL mode, so readers (``events``, ``show``, the HTTP API) never block an ingest.
* A versioned schema (``PRAGMA user_version``) with ordered migrations: a
  store made by an older version is migrated when opened, never rejected.
* One transaction per document: a process killed mid-ingest leaves every
  document whose ingest returned, and nothing half-written. The corpus
  assigns a document, writes it and regroups the events it reached inside
  one :meth:`Store.assigning` scope, which is that transaction.
* Documents are deduplicated by the hash of their cleaned body text.
* Claim vectors are stored once, as float16, with the model that made them;
  a store opened with another model says so instead of mixing vector spaces.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np

from divergence.datamodel import Claim, Document
from divergence.errors import MalformedRecord, NotInStore, StoreDamaged, StoreError, StoreReadOnly
from divergence.events.assemble import event_id_for
from divergence.events.profile import sentence_rows


def _script(db: sqlite3.Connection, script: str) -> None:
    # Not executescript(): it commits first, and a migration must stay inside its transaction.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _v1(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE documents (
            id TEXT PRIMARY KEY,
            content_hash TEXT NOT NULL UNIQUE,
            ingested_at TEXT NOT NULL,
            data TEXT NOT NULL
        );
        CREATE TABLE claims (
            id TEXT PRIMARY KEY,
            document TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX claims_document ON claims(document, position);
        CREATE TABLE embedding_models (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            dimension INTEGER NOT NULL
        );
        CREATE TABLE claim_vectors (
            claim TEXT PRIMARY KEY REFERENCES claims(id) ON DELETE CASCADE,
            model INTEGER NOT NULL REFERENCES embedding_models(id),
            vector BLOB NOT NULL
        );
        CREATE TABLE events (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL
        );
        CREATE TABLE event_documents (
            document TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
            event TEXT NOT NULL REFERENCES events(id),
            probability REAL,
            reason TEXT
        );
        CREATE INDEX event_documents_event ON event_documents(event);
        """
    )


def _v2(db: sqlite3.Connection) -> None:
    """Event day and document vector per document (retrieval without parsing JSON), event labels, copies."""
    db.execute("ALTER TABLE documents ADD COLUMN event_day INTEGER")
    db.execute("ALTER TABLE documents ADD COLUMN vector BLOB")
    db.execute("CREATE INDEX documents_event_day ON documents(event_day)")
    db.execute("ALTER TABLE events ADD COLUMN label TEXT")
    db.execute("ALTER TABLE event_documents ADD COLUMN copy_of TEXT")
    for doc_id, data in db.execute("SELECT id, data FROM documents").fetchall():
        document = Document.model_validate_json(data)
        blobs = db.execute(
            "SELECT v.vector FROM claims c JOIN claim_vectors v ON v.claim = c.id WHERE c.document = ?", (doc_id,)
        ).fetchall()
        vectors = np.vstack([np.frombuffer(b, dtype=np.float16).astype(np.float32) for (b,) in blobs]) if blobs else None
        db.execute(
            "UPDATE documents SET event_day = ?, vector = ? WHERE id = ?",
            (event_day(document), document_vector_bytes(vectors), doc_id),
        )
    for (event_id,) in db.execute("SELECT id FROM events").fetchall():
        first = db.execute(
            "SELECT d.data FROM event_documents e JOIN documents d ON d.id = e.document WHERE e.event = ? ORDER BY d.ingested_at LIMIT 1",
            (event_id,),
        ).fetchone()
        if first:
            db.execute("UPDATE events SET label = ? WHERE id = ?", (Document.model_validate_json(first[0]).title, event_id))


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2]
SCHEMA_VERSION = len(MIGRATIONS)


def event_day(document: Document) -> int | None:
    """The event date as a proleptic ordinal (the stores' time key), None when unknown."""
    mention = document.event_date
    return mention.date.toordinal() if mention is not None and mention.date is not None else None


def new_event_label(document: Document, claims: list[Claim]) -> str:
    """The label of the event a document starts: its title, else its first claim (the rule regrouping uses, the
    document's profile label), so an untitled article's event is not listed without a headline until it regroups."""
    return document.title or (claims[0].text if claims else document.id)


def document_vector_bytes(claim_vectors: np.ndarray | None) -> bytes | None:
    """The document vector as stored (float16) by every store backend."""
    from divergence.events.profile import document_vector

    if claim_vectors is None or not len(claim_vectors):
        return None
    return document_vector(claim_vectors).astype(np.float16).tobytes()


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class AlreadyStored(Exception):  # noqa: N818 - an outcome, not a failure
    """Another writer stored the same text first (found inside the transaction): the caller reports it unchanged."""

    def __init__(self, existing: str):
        super().__init__(existing)
        self.existing = existing


def store_error(error: sqlite3.Error, path: Path | str) -> StoreError:
    """One clear error for what SQLite reports: damage, read-only, busy, or anything else."""
    text = str(error)
    if isinstance(error, sqlite3.DatabaseError) and ("malformed" in text or "not a database" in text or "corrupt" in text):
        return StoreDamaged(f"the store file is damaged ({text}); `divergence check --store {path}` lists what is wrong", str(path))
    if "readonly" in text or "read-only" in text:
        return StoreReadOnly("the store is read-only (this command needs to write to it)", str(path))
    if "locked" in text or "busy" in text:
        return StoreError(f"the store is busy: another process holds it ({text})", str(path))
    return StoreError(f"SQLite error: {text}", str(path))


def _mapped(method):
    """Store methods raise StoreError (one line) instead of sqlite3's exceptions."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as error:
            raise store_error(error, self.path) from error

    return wrapper


def _writable(path: Path) -> bool:
    """Whether the store and its folder (where SQLite keeps the -wal and -shm files) may be written."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def validate_id(doc_id: str, where: str | None = None) -> str:
    """Document ids are one line of printable text: a control character would split listings and reports."""
    if not doc_id or any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in doc_id):
        raise MalformedRecord(f"document id {doc_id!r} is empty or holds control characters", where)
    return doc_id


def check_store(path: str | Path) -> str:
    """SQLite's integrity check of a store, read-only: "ok", or StoreDamaged naming the first problems."""
    try:
        with Store(path, model="", migrate=False, read_only=True) as store:
            found = [row[0] for row in store.db.execute("PRAGMA integrity_check(20)")]
    except StoreError:
        raise
    except sqlite3.Error as error:
        raise store_error(error, path) from error
    if found != ["ok"]:
        lines = [line.strip() for row in found for line in str(row).splitlines() if line.strip() and not line.startswith("***")]
        raise StoreDamaged(f"integrity check failed ({len(lines)} problem{'s' if len(lines) != 1 else ''}): "
                           + "; ".join(lines[:3]) + (" …" if len(lines) > 3 else ""), str(path))
    return "ok"


def day_bounds(first_day: int | None, last_day: int | None) -> tuple[int, int]:
    """[first_day, last_day] as SQL bounds, an open end (None) as a day no document has."""
    return (first_day if first_day is not None else -(2**62), last_day if last_day is not None else 2**62)


def planned_moves(groups: dict[str, list[str]], held: dict[str, str], path: str) -> tuple[list[tuple[str, str]], list[str]]:
    """What a regrouping changes, for either backend: (document, its new event) for every document that moves, and
    the events it may leave empty (in id order). ``held``: document → its event now; a document not held is NotInStore."""
    moves, left = [], set()
    for event, documents in groups.items():
        for doc_id in documents:
            if doc_id not in held:
                raise NotInStore(f"no document {doc_id!r}", path)
            if held[doc_id] != event:
                moves.append((doc_id, event))
                left.add(held[doc_id])
    return moves, sorted(left - set(groups))


@dataclass
class StoredDocument:
    document: Document
    claims: list[Claim]
    vectors: np.ndarray
    """Centred claim vectors (float32 here, float16 on disk)."""
    event: str
    copy_of: str | None = None


@dataclass
class EventRow:
    id: str
    label: str | None
    documents: list[str]
    created_at: str


class Store:
    """A corpus store; use as a context manager or call ``close()``."""

    def __init__(self, path: str | Path, model: str, migrate: bool = True, read_only: bool = False):
        """``read_only`` opens the file for reading only (commands that only read work on a read-only file)."""
        self.path = Path(path)
        self.model = model
        self.read_only = read_only
        self._lock = threading.RLock()
        if read_only and not self.path.is_file():
            raise NotInStore("no such store", str(self.path))
        try:
            if read_only:
                self.db = self._connect_read_only()
            else:
                self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
                self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            self.db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            # Schema 0 is an empty file we may create a store in; one with tables belongs to another application.
            foreign = self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                                      "ORDER BY name LIMIT 3").fetchall() if version == 0 else []
        except sqlite3.DatabaseError as error:
            mapped = store_error(error, self.path)
            if not read_only and "unable to open" in str(error) and self.path.is_file() and not _writable(self.path):
                # A WAL store on a read-only file system cannot even be opened for writing: that is what the user must hear.
                mapped = StoreReadOnly("the store is read-only (this command needs to write to it)", str(self.path))
            elif type(mapped) is StoreError or "not a database" in str(error):
                mapped = StoreError(f"not a divergence store ({error})", str(self.path))
            raise mapped from error
        if foreign:
            self.db.close()
            raise StoreError(f"not a divergence store (it holds other tables: {', '.join(name for (name,) in foreign)})",
                             str(self.path))
        if version > SCHEMA_VERSION:
            raise StoreError(f"made by a newer divergence (schema {version}, this one knows {SCHEMA_VERSION})", str(self.path))
        if version < SCHEMA_VERSION and migrate:
            if read_only:
                raise StoreError(f"made by an older divergence (schema {version}): open it once with a command that writes "
                                 "(e.g. `divergence ingest`) to migrate it", str(self.path))
            self._migrate(version)

    def _connect_read_only(self) -> sqlite3.Connection:
        """Read without writing anything. A WAL store in a directory we cannot write has no ``-shm`` file to share:
        then it is opened as immutable, which is sound because nobody else can be writing a file we may not write."""
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None, timeout=30)
        try:
            db.execute("PRAGMA user_version").fetchone()
            return db
        except sqlite3.OperationalError as error:
            db.close()
            if "readonly" not in str(error) and "unable to open" not in str(error):
                raise
        return sqlite3.connect(uri + "&immutable=1", uri=True, check_same_thread=False, isolation_level=None, timeout=30)

    @_mapped
    def _migrate(self, version: int) -> None:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for step in MIGRATIONS[version:]:
                    step(self.db)
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self.db.execute("COMMIT")
            except Exception:
                self.db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------

    def _model_id(self, dimension: int) -> int:
        row = self.db.execute("SELECT id, dimension FROM embedding_models WHERE name = ?", (self.model,)).fetchone()
        if row is not None:
            if row[1] != dimension:
                raise StoreError(f"model {self.model} stored with dimension {row[1]}, got {dimension}", str(self.path))
            return row[0]
        return self.db.execute("INSERT INTO embedding_models(name, dimension) VALUES (?, ?)", (self.model, dimension)).lastrowid

    @_mapped
    def check_model(self) -> None:
        """Refuse to mix vector spaces: every stored vector must come from ``self.model``."""
        others = [name for (name,) in self.db.execute("SELECT name FROM embedding_models WHERE name != ?", (self.model,))]
        if others:
            raise StoreError(f"the store holds vectors of {', '.join(others)}; this run uses {self.model}", str(self.path))

    @_mapped
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

        ``event`` is the event it joins; an id the store does not hold yet starts that event, and None starts
        the event :func:`event_id_for` the document alone (the id ``analyze`` gives a one-document event).
        Raises AlreadyStored when another writer committed the same text since the caller looked.
        """
        validate_id(document.id, document.path)
        with self._transaction():
            existing = self.find_hash(content_hash)
            if existing is not None:
                raise AlreadyStored(existing)
            model_id = self._model_id(int(vectors.shape[1]) if vectors.ndim == 2 and vectors.size else 0)
            self.db.execute(
                "INSERT INTO documents(id, content_hash, ingested_at, data, event_day, vector) VALUES (?, ?, ?, ?, ?, ?)",
                (document.id, content_hash, now(), document.model_dump_json(), event_day(document),
                 document_vector_bytes(vectors[sentence_rows(claims)])),
            )
            self.db.executemany(
                "INSERT INTO claims(id, document, position, data) VALUES (?, ?, ?, ?)",
                [(c.id, document.id, i, c.model_dump_json()) for i, c in enumerate(claims)],
            )
            self.db.executemany(
                "INSERT INTO claim_vectors(claim, model, vector) VALUES (?, ?, ?)",
                [(c.id, model_id, v.astype(np.float16).tobytes()) for c, v in zip(claims, vectors, strict=True)],
            )
            if event is None:
                event = event_id_for([document.id])
            self.db.execute("INSERT OR IGNORE INTO events(id, created_at, label) VALUES (?, ?, ?)",
                            (event, now(), new_event_label(document, claims)))
            self.db.execute(
                "INSERT INTO event_documents(document, event, probability, reason, copy_of) VALUES (?, ?, ?, ?, ?)",
                (document.id, event, probability, reason, copy_of),
            )
        return event

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE: the file's write lock at once, so reads inside it see what the
        write will change); inside another one, a savepoint, so a failed step undoes only itself."""
        with self._lock:
            nested = self.db.in_transaction
            try:
                self.db.execute("SAVEPOINT step" if nested else "BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise store_error(error, self.path) from error
            try:
                yield
            except BaseException:
                if self.db.in_transaction:  # SQLite may have rolled back already (a full disk, for instance)
                    self.db.execute("ROLLBACK TO step" if nested else "ROLLBACK")
                    if nested:
                        self.db.execute("RELEASE step")
                raise
            try:
                self.db.execute("RELEASE step" if nested else "COMMIT")
            except sqlite3.Error as error:
                raise store_error(error, self.path) from error

    @contextmanager
    def assigning(self, day: int | None, reach_days: int) -> Iterator[None]:
        """Scope for assigning one document to an event, writing it and regrouping the events it reached: one transaction.

        SQLite has one writer at a time, so the scope also serialises assignment between processes sharing the
        file; ``day`` and ``reach_days`` matter only to stores that lock per time partition.
        """
        with self._transaction():
            yield

    # --- reading ---------------------------------------------------------------

    @_mapped
    def find_hash(self, content_hash: str) -> str | None:
        row = self.db.execute("SELECT id FROM documents WHERE content_hash = ?", (content_hash,)).fetchone()
        return row[0] if row else None

    @_mapped
    def has_document(self, doc_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is not None

    @_mapped
    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]

    @_mapped
    def load(self, ids: Iterable[str]) -> list[StoredDocument]:
        ids = list(ids)
        if not ids:
            return []
        out = []
        for doc_id in ids:
            row = self.db.execute(
                "SELECT d.data, e.event, e.copy_of FROM documents d JOIN event_documents e ON e.document = d.id WHERE d.id = ?",
                (doc_id,),
            ).fetchone()
            if row is None:
                raise NotInStore(f"no document {doc_id!r}", str(self.path))
            claims, vectors = [], []
            for data, blob in self.db.execute(
                "SELECT c.data, v.vector FROM claims c JOIN claim_vectors v ON v.claim = c.id WHERE c.document = ? ORDER BY c.position",
                (doc_id,),
            ):
                claims.append(Claim.model_validate_json(data))
                vectors.append(np.frombuffer(blob, dtype=np.float16).astype(np.float32))
            out.append(StoredDocument(Document.model_validate_json(row[0]), claims, np.vstack(vectors) if vectors else np.zeros((0, 0)), row[1], row[2]))
        return out

    @_mapped
    def document_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(rowids, float16 document vectors) of every document, for (re)building the index."""
        rows = self.db.execute("SELECT rowid, vector FROM documents WHERE vector IS NOT NULL ORDER BY rowid").fetchall()
        if not rows:
            return np.zeros(0, dtype=np.uint64), np.zeros((0, 0), dtype=np.float16)
        return np.array([r for r, _ in rows], dtype=np.uint64), np.vstack([np.frombuffer(b, dtype=np.float16) for _, b in rows])

    @_mapped
    def event_days(self, rowids: Iterable[int]) -> dict[int, int | None]:
        rowids = [int(r) for r in rowids]
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        return dict(self.db.execute(f"SELECT rowid, event_day FROM documents WHERE rowid IN ({marks})", rowids))

    @_mapped
    def all_ids(self) -> list[str]:
        return [doc_id for (doc_id,) in self.db.execute("SELECT id FROM documents ORDER BY rowid")]

    @_mapped
    def rowids_of(self, ids: Iterable[str]) -> dict[str, int]:
        ids = list(ids)
        marks = ",".join("?" * len(ids))
        return dict(self.db.execute(f"SELECT id, rowid FROM documents WHERE id IN ({marks})", ids)) if ids else {}

    @_mapped
    def ids_for_rowids(self, rowids: Iterable[int]) -> dict[int, str]:
        rowids = [int(r) for r in rowids]
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        return {r: i for i, r in self.db.execute(f"SELECT id, rowid FROM documents WHERE rowid IN ({marks})", rowids)}

    @_mapped
    def event_documents(self, event: str) -> list[str]:
        return [d for (d,) in self.db.execute("SELECT document FROM event_documents WHERE event = ? ORDER BY rowid", (event,))]

    @_mapped
    def event_of(self, doc_id: str) -> str | None:
        row = self.db.execute("SELECT event FROM event_documents WHERE document = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def _event_rows(self, where: str = "", params: tuple = ()) -> list[EventRow]:
        rows = self.db.execute(
            "SELECT e.id, e.label, e.created_at, json_group_array(d.document) FROM "
            f"(SELECT * FROM event_documents ORDER BY rowid) d JOIN events e ON d.event = e.id {where} GROUP BY e.id ORDER BY e.id",
            params,
        ).fetchall()
        return [EventRow(r[0], r[1], json.loads(r[3]), r[2]) for r in rows]

    @_mapped
    def events(self) -> list[EventRow]:
        return self._event_rows()

    @_mapped
    def event_row(self, event: str) -> EventRow:
        """One event by id (an indexed lookup, not a scan of every event)."""
        found = self._event_rows("WHERE e.id = ?", (event,))
        if not found:
            raise NotInStore(f"no event {event!r}", str(self.path))
        return found[0]

    @_mapped
    def integrity(self) -> str:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0]

    # --- regrouping: events re-examined by batch clustering (divergence.store.corpus) ------------------

    @_mapped
    def documents_in_window(self, first_day: int | None, last_day: int | None) -> list[str]:
        """Ids of the documents whose event day lies in [first_day, last_day] (an open end when None), in ingest order.

        Without either bound every document is returned, the undated ones included.
        """
        if first_day is None and last_day is None:
            return self.all_ids()
        return [d for (d,) in self.db.execute(
            "SELECT id FROM documents WHERE event_day BETWEEN ? AND ? ORDER BY rowid", day_bounds(first_day, last_day))]

    @_mapped
    def events_of(self, ids: Iterable[str]) -> dict[str, str]:
        """Document id → its event, for those of ``ids`` the store holds."""
        return self._pairs_where_in("SELECT document, event FROM event_documents WHERE document IN ({})", list(ids))

    @_mapped
    def event_labels(self, events: Iterable[str]) -> dict[str, str | None]:
        """Event id → label, for those of ``events`` the store holds."""
        return self._pairs_where_in("SELECT id, label FROM events WHERE id IN ({})", list(events))

    def _pairs_where_in(self, query: str, keys: list[str]) -> dict:
        """The (key, value) rows of ``query`` (its ``IN ({})`` filled with ``keys``) as a dict."""
        found = {}
        for start in range(0, len(keys), 500):  # SQLite binds at most 999 parameters by default
            chunk = keys[start : start + 500]
            found.update(self.db.execute(query.format(",".join("?" * len(chunk))), chunk))
        return found

    @_mapped
    def reassign_events(self, groups: dict[str, list[str]], labels: dict[str, str | None],
                        links: dict[str, tuple[float | None, str]]) -> None:
        """Move documents to the given events in one transaction (a savepoint inside :meth:`assigning`).

        ``groups`` maps an event id (held or new) to the documents it now holds, ``labels`` gives the label of
        each new event, ``links`` the probability and reason recorded for each document that joins other company (the
        others keep theirs). Events left without documents are deleted. A crash leaves the grouping as it was.
        """
        with self._transaction():
            for event in groups:
                self.db.execute("INSERT OR IGNORE INTO events(id, created_at, label) VALUES (?, ?, ?)", (event, now(), labels.get(event)))
            moves, emptied = planned_moves(groups, self.events_of(d for documents in groups.values() for d in documents), str(self.path))
            for doc_id, event in moves:
                if doc_id in links:
                    probability, reason = links[doc_id]
                    self.db.execute("UPDATE event_documents SET event = ?, probability = ?, reason = ? WHERE document = ?",
                                    (event, probability, reason, doc_id))
                else:  # renamed with the company it keeps: its tie stays as recorded
                    self.db.execute("UPDATE event_documents SET event = ? WHERE document = ?", (event, doc_id))
            for event in emptied:
                self.db.execute("DELETE FROM events WHERE id = ? AND NOT EXISTS (SELECT 1 FROM event_documents WHERE event = ?)",
                                (event, event))
