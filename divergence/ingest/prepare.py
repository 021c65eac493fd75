"""From inputs to prepared documents: load, clean, describe, segment."""

from __future__ import annotations

from collections.abc import Iterable

from divergence.config import Settings
from divergence.datamodel import Claim, Document, Problem, claim_id
from divergence.errors import NO_CLAIMS
from divergence.ingest.clean import clean
from divergence.ingest.load import load_documents
from divergence.ingest.metadata import describe
from divergence.ingest.segment import segment

Input = str | Document | tuple[str, str]
"""A path (file, folder, ``-`` for stdin), an ``(id, text)`` pair, or a Document."""


def prepare(document: Document, settings: Settings) -> tuple[Document, list[Claim]]:
    """Clean, describe and segment one loaded document."""
    document = describe(clean(document), settings.language_seed)
    return document, segment(document, settings.language_seed, settings.max_claim_chars, settings.judge_headlines)


def prepare_inputs(
    inputs: Iterable[Input], settings: Settings, problems: list[Problem] | None = None
) -> tuple[list[Document], dict[str, list[Claim]], list[Problem]]:
    """Every usable document with its claims, and every problem met on the way (earlier ``problems`` first)."""
    documents, load_problems = load_documents(inputs, settings.max_document_chars,
                                              max_bytes=settings.max_file_bytes, max_html_bytes=settings.max_html_bytes)
    all_problems = [*(problems or []), *load_problems]
    prepared: list[Document] = []
    claims: dict[str, list[Claim]] = {}
    for document in documents:
        document, doc_claims = prepare(document, settings)
        doc_claims = [c.model_copy(update={"id": claim_id(c.document, c.start, c.end)}) for c in doc_claims]  # stable across runs
        if not doc_claims:
            all_problems.append(Problem(path=document.path or document.id, code=NO_CLAIMS, message="no claims left after cleaning"))
            continue
        prepared.append(document)
        claims[document.id] = doc_claims
    return prepared, claims, all_problems
