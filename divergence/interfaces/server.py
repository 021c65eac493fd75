"""`divergence serve`: the HTTP API for newsroom tools, a thin shell over divergence.corpus.

The encoder and the store open once, at start-up. Every call that touches the
store runs under one lock: SQLite takes one writer at a time anyway, and one
connection shared by the worker threads must not be used by two at once.
``/v1/compare`` needs no store and runs without it; ``/healthz`` takes no lock.

Every error, the framework's own included (unknown route, wrong method,
unparsable or oversized body), has one shape: ``{"error": {"code", "message"}}``.
Bodies are counted while they stream in (chunked ones too) and must arrive
within ``request_body_timeout`` seconds. ``/docs`` and ``/redoc`` serve their
scripts from the package (fastapi-offline), so they work with no network.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from divergence.config import Settings, load_settings
from divergence.datamodel import Document, Problem, Report, ScoreReport
from divergence.errors import (
    INVALID_REQUEST,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    REQUEST_TIMEOUT,
    REQUEST_TOO_LARGE,
    DivergenceError,
    InputError,
    NotEnoughDocuments,
    NotInStore,
    StoreError,
)
from divergence.ingest.load import document_from_record
from divergence.runtime import Runtime

MAX_REQUEST_BYTES = 2_000_000


class DocumentIn(BaseModel):
    id: str = Field(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$", description="One line of printable text.")
    text: str = Field(min_length=1)
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: dt.date | None = None
    language: str | None = None

    def to_document(self) -> Document:
        record = self.model_dump(exclude_none=True)
        if "published" in record:
            record["published"] = record["published"].isoformat()
        return document_from_record(record, self.id, f"request:{self.id}")


class DocumentsIn(BaseModel):
    documents: list[DocumentIn] = Field(min_length=1, max_length=200)


class IngestOut(BaseModel):
    added: dict[str, str] = Field(description="Document id → event.")
    unchanged: dict[str, str] = Field(description="Document id → the stored document with the same text.")
    problems: list[Problem]
    documents: int = Field(description="Documents in the store after the request.")


class EventOut(BaseModel):
    id: str
    label: str | None
    documents: list[str]
    created_at: str


class ErrorOut(BaseModel):
    error: dict[str, str]


ReportFormat = Literal["json", "html", "markdown", "csv", "claimreview"]
FORMAT_QUERY = Query("json", description="json (the report schema), html (the page people read), markdown, csv (one row per "
                     "claim × other source) or claimreview (schema.org JSON-LD for contradicted claims).")
# The same renderers as the CLI's --format, so a page fetched over HTTP is the page `compare -f html` writes.
REPORT_MEDIA = {"content": {"text/html": {}, "text/markdown": {}, "text/csv": {}, "application/ld+json": {}}}
_MEDIA_TYPES = {"html": "text/html; charset=utf-8", "markdown": "text/markdown; charset=utf-8",
                "csv": "text/csv; charset=utf-8", "claimreview": "application/ld+json"}


def _rendered(report: Report, format: str):
    if format == "json":
        return report
    from divergence.report.exports import to_claimreview, to_csv
    from divergence.report.render import to_html, to_markdown

    render = {"html": to_html, "markdown": to_markdown, "csv": to_csv, "claimreview": to_claimreview}[format]
    return Response(render(report), media_type=_MEDIA_TYPES[format])


def _error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}}, headers=headers)


def _message(error: DivergenceError) -> str:
    """The error's text without its code (the code has its own field)."""
    return f"{error.path}: {error.message}" if error.path else error.message


HTTP_CODES = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 408: REQUEST_TIMEOUT, 413: REQUEST_TOO_LARGE}


class BodyLimit:
    """ASGI middleware: a body is counted as it streams in (declared or chunked) and refused past ``limit`` bytes;
    a malformed Content-Length is a 400 and a body that stalls a 408 (uvicorn would wait forever).

    FastAPI's own ``max_body_size`` answers in plain text, not in the API's error shape, hence this.
    """

    def __init__(self, app, limit: int, timeout: float):
        self.app, self.limit, self.timeout = app, limit, timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and not length.strip().isdigit():
            return await _error(400, INVALID_REQUEST, "invalid Content-Length header", {"connection": "close"})(scope, receive, send)
        if length is not None and int(length) > self.limit:
            return await _error(413, REQUEST_TOO_LARGE, f"request body over {self.limit} bytes", {"connection": "close"})(scope, receive, send)
        received, complete = 0, False
        deadline = asyncio.get_running_loop().time() + self.timeout  # for the whole body, not each chunk

        async def counted():
            nonlocal received, complete
            if complete:  # after the body, receive() waits for a disconnect: no deadline on that
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - asyncio.get_running_loop().time()))
            except TimeoutError:
                raise HTTPException(408, f"request body not received within {self.timeout:g} s") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.limit:
                    raise HTTPException(413, f"request body over {self.limit} bytes")
            return message

        return await self.app(scope, counted, send)


def create_app(store: str | Path, settings: Settings | None = None, url: str | None = None) -> FastAPI:
    settings = settings or load_settings()
    state: dict = {}
    lock = threading.Lock()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from divergence.store.corpus import Corpus

        state["runtime"] = Runtime(settings)
        state["corpus"] = Corpus(store, runtime=state["runtime"])  # loads the encoder and the index once
        state["documents"] = state["corpus"].store.count()
        logging.getLogger("uvicorn.error").warning("divergence: serving %s (%d documents, encoder %s)%s", store,
                                                   state["documents"], settings.model, f" on {url}" if url else "")
        yield
        state["corpus"].close()

    app = FastAPIOffline(title="divergence", version="1", lifespan=lifespan,
                         description="Cross-source narrative divergence: compare, score and store news articles.")
    app.add_middleware(BodyLimit, limit=MAX_REQUEST_BYTES, timeout=settings.request_body_timeout)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        code = HTTP_CODES.get(error.status_code, INVALID_REQUEST if error.status_code < 500 else "E000")
        message = {404: f"no route {request.url.path}", 405: f"{request.method} is not allowed on {request.url.path}",
                   413: f"request body over {MAX_REQUEST_BYTES} bytes"}.get(error.status_code, str(error.detail))
        return _error(error.status_code, code, message, dict(error.headers or {}) | ({"connection": "close"} if error.status_code in (408, 413) else {}))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        if first.get("type") == "json_invalid":
            return _error(422, INVALID_REQUEST, f"the body is not valid JSON ({first.get('ctx', {}).get('error', 'parse error')})")
        return _error(422, INVALID_REQUEST, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(InputError)
    async def bad_input(request: Request, error: InputError):
        return _error(422, error.code, _message(error))

    @app.exception_handler(NotEnoughDocuments)
    async def not_enough(request: Request, error: NotEnoughDocuments):
        return _error(422, error.code, _message(error))

    @app.exception_handler(NotInStore)
    async def not_found(request: Request, error: NotInStore):
        return _error(404, error.code, error.message)

    @app.exception_handler(StoreError)
    async def store_failed(request: Request, error: StoreError):
        return _error(503, error.code, _message(error))

    @app.exception_handler(sqlite3.Error)
    async def sqlite_failed(request: Request, error: sqlite3.Error):
        from divergence.store.sqlite import store_error

        mapped = store_error(error, store)
        return _error(503, mapped.code, _message(mapped))

    @app.exception_handler(DivergenceError)
    async def failed(request: Request, error: DivergenceError):
        return _error(422, error.code, _message(error))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        # One line in the server log, like every other error: no traceback reaches an operator's log either.
        logging.getLogger("uvicorn.error").error("divergence: [E000] unexpected error on %s %s: %s: %s", request.method,
                                                 request.url.path, type(error).__name__, str(error).splitlines()[0] if str(error) else "")
        return _error(500, "E000", f"unexpected error: {type(error).__name__}")

    @app.get("/healthz")
    def healthz() -> dict:
        """Liveness: answers at once, even while an ingest holds the store (no lock; the count is kept after each write)."""
        return {"status": "ok", "model": settings.model, "documents": state.get("documents", 0)}

    @app.post("/v1/reload")
    def reload() -> dict:
        """Read the fitted models (claim judge, same-event model) afresh, e.g. after `make train`; the encoder stays loaded."""
        from divergence.store.corpus import Corpus

        with lock:
            state["runtime"] = state["runtime"].reload()
            state["corpus"].close()
            state["corpus"] = Corpus(store, runtime=state["runtime"])
            warnings = [w.message for w in state["runtime"].warnings()]
        return {"status": "reloaded", "judge": str(state["runtime"].judge_path), "same_event": str(state["runtime"].same_event_path),
                "warnings": warnings}

    @app.post("/v1/compare", response_model=Report, responses={422: {"model": ErrorOut}, 200: REPORT_MEDIA})
    def compare(body: DocumentsIn, format: ReportFormat = FORMAT_QUERY):
        """Compare documents about one event claim by claim (nothing is stored)."""
        from divergence.pipeline import compare as run_compare

        return _rendered(run_compare([d.to_document() for d in body.documents], runtime=state["runtime"]), format)

    @app.post("/v1/documents", response_model=IngestOut, status_code=201, responses={422: {"model": ErrorOut}})
    def add_documents(body: DocumentsIn) -> IngestOut:
        """Add documents to the store, each to its event; documents already stored change nothing."""
        documents = [d.to_document() for d in body.documents]
        with lock:
            corpus = state["corpus"]
            try:
                result = corpus.ingest(documents)
            finally:
                state["documents"] = corpus.store.count()
            return IngestOut(added=result.added, unchanged=result.unchanged, problems=result.problems, documents=state["documents"])

    @app.post("/v1/score", response_model=ScoreReport, responses={422: {"model": ErrorOut}})
    def score(body: DocumentIn, add: bool = Query(True, description="Add the article to the store after scoring.")) -> ScoreReport:
        """Which event the article belongs to, what it omits, adds and contradicts, and its divergence score."""
        document = body.to_document()
        with lock:
            report = state["corpus"].score(document, add=add)
            if report.added:
                state["documents"] += 1
            return report

    @app.get("/v1/events", response_model=list[EventOut])
    def events(
        response: Response,
        limit: int = Query(100, ge=1, le=1000, description="At most this many events (by id)."),
        offset: int = Query(0, ge=0, description="Skip this many events first."),
    ) -> list[EventOut]:
        """Events by id, one page at a time; the X-Total-Count header gives the number of events."""
        with lock:
            rows = state["corpus"].store.events()
        response.headers["X-Total-Count"] = str(len(rows))
        return [EventOut(id=r.id, label=r.label, documents=r.documents, created_at=r.created_at) for r in rows[offset : offset + limit]]

    @app.get("/v1/events/{event_id}", response_model=EventOut, responses={404: {"model": ErrorOut}})
    def event(event_id: str) -> EventOut:
        with lock:
            row = state["corpus"].store.event_row(event_id)
        return EventOut(id=row.id, label=row.label, documents=row.documents, created_at=row.created_at)

    @app.get("/v1/events/{event_id}/report", response_model=Report, responses={404: {"model": ErrorOut}, 200: REPORT_MEDIA})
    def event_report(event_id: str, format: ReportFormat = FORMAT_QUERY):
        with lock:
            report = state["corpus"].event_report(event_id)
        return _rendered(report, format)

    return app


def _log_config() -> dict:
    """uvicorn's logging with its chatter at warning level and one access line per request."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["uvicorn.error"]["level"] = "WARNING"
    config["loggers"]["uvicorn.access"]["level"] = "INFO"
    config["formatters"]["default"]["fmt"] = "%(asctime)s %(message)s"
    config["formatters"]["access"]["fmt"] = '%(asctime)s %(client_addr)s "%(request_line)s" %(status_code)s'
    return config


def serve(store: str | Path, host: str, port: int, settings: Settings | None = None, access_log: bool = True) -> None:
    import uvicorn

    from divergence.store.corpus import Corpus

    settings = settings or load_settings()
    # Open everything once before uvicorn does: a damaged store or a missing model is then the CLI's one-line error,
    # not a traceback in uvicorn's start-up log (the encoder stays loaded for the app: one per process).
    runtime = Runtime(settings)
    Corpus(store, runtime=runtime).close()
    runtime.encoder.load()  # the encoder loads on first need; a server takes that cost now, not on its first request

    uvicorn.run(create_app(store, settings, url=f"http://{host}:{port}"), host=host, port=port, workers=1,
                log_config=_log_config(), access_log=access_log)
