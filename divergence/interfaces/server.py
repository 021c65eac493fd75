"""`divergence serve`: the HTTP API for newsroom tools, a thin shell over divergence.corpus.

The encoder and the store open once, at start-up. Every call that touches the
store runs under one lock: SQLite takes one writer at a time anyway, and one
connection shared by the worker threads must not be used by two at once.
``/v1/compare`` needs no store and runs without it.
"""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from divergence.config import Settings, load_settings
from divergence.datamodel import Document, Problem, Report, ScoreReport
from divergence.errors import INVALID_REQUEST, REQUEST_TOO_LARGE, DivergenceError, InputError, NotEnoughDocuments, NotInStore
from divergence.ingest.load import document_from_record
from divergence.runtime import Runtime

MAX_REQUEST_BYTES = 2_000_000


class DocumentIn(BaseModel):
    id: str = Field(min_length=1, max_length=300)
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


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


def create_app(store: str | Path, settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    state: dict = {}
    lock = threading.Lock()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from divergence.store.corpus import Corpus

        state["runtime"] = Runtime(settings)
        state["corpus"] = Corpus(store, runtime=state["runtime"])  # loads the encoder and the index once
        yield
        state["corpus"].close()

    app = FastAPI(title="divergence", version="1", lifespan=lifespan,
                  description="Cross-source narrative divergence: compare, score and store news articles.")

    @app.middleware("http")
    async def limit_size(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_REQUEST_BYTES):
            return _error(413, REQUEST_TOO_LARGE, f"request body over {MAX_REQUEST_BYTES} bytes")
        if length is None and request.method in ("POST", "PUT"):
            body = await request.body()
            if len(body) > MAX_REQUEST_BYTES:
                return _error(413, REQUEST_TOO_LARGE, f"request body over {MAX_REQUEST_BYTES} bytes")
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return _error(422, INVALID_REQUEST, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(InputError)
    async def bad_input(request: Request, error: InputError):
        return _error(422, error.code, error.line())

    @app.exception_handler(NotEnoughDocuments)
    async def not_enough(request: Request, error: NotEnoughDocuments):
        return _error(422, error.code, error.line())

    @app.exception_handler(NotInStore)
    async def not_found(request: Request, error: NotInStore):
        return _error(404, error.code, error.message)

    @app.exception_handler(DivergenceError)
    async def failed(request: Request, error: DivergenceError):
        return _error(422, error.code, error.line())

    @app.get("/healthz")
    def healthz() -> dict:
        with lock:
            count = state["corpus"].store.count()
        return {"status": "ok", "model": settings.model, "documents": count}

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

    @app.post("/v1/compare", response_model=Report, responses={422: {"model": ErrorOut}})
    def compare(body: DocumentsIn) -> Report:
        """Compare documents about one event claim by claim (nothing is stored)."""
        from divergence.pipeline import compare as run_compare

        return run_compare([d.to_document() for d in body.documents], runtime=state["runtime"])

    @app.post("/v1/documents", response_model=IngestOut, status_code=201, responses={422: {"model": ErrorOut}})
    def add_documents(body: DocumentsIn) -> IngestOut:
        """Add documents to the store, each to its event; documents already stored change nothing."""
        documents = [d.to_document() for d in body.documents]
        with lock:
            corpus = state["corpus"]
            result = corpus.ingest(documents)
            return IngestOut(added=result.added, unchanged=result.unchanged, problems=result.problems, documents=corpus.store.count())

    @app.post("/v1/score", response_model=ScoreReport, responses={422: {"model": ErrorOut}})
    def score(body: DocumentIn, add: bool = Query(True, description="Add the article to the store after scoring.")) -> ScoreReport:
        """Which event the article belongs to, what it omits, adds and contradicts, and its divergence score."""
        document = body.to_document()
        with lock:
            return state["corpus"].score(document, add=add)

    @app.get("/v1/events", response_model=list[EventOut])
    def events() -> list[EventOut]:
        with lock:
            rows = state["corpus"].store.events()
        return [EventOut(id=r.id, label=r.label, documents=r.documents, created_at=r.created_at) for r in rows]

    @app.get("/v1/events/{event_id}", response_model=EventOut, responses={404: {"model": ErrorOut}})
    def event(event_id: str) -> EventOut:
        with lock:
            row = state["corpus"].store.event_row(event_id)
        return EventOut(id=row.id, label=row.label, documents=row.documents, created_at=row.created_at)

    @app.get("/v1/events/{event_id}/report", response_model=Report, responses={404: {"model": ErrorOut}})
    def event_report(event_id: str) -> Report:
        with lock:
            return state["corpus"].event_report(event_id)

    return app


def serve(store: str | Path, host: str, port: int, settings: Settings | None = None) -> None:
    import uvicorn

    uvicorn.run(create_app(store, settings), host=host, port=port, log_level="warning", workers=1)
