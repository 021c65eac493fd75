"""Read documents from files, folders, JSON records and stdin.

Every input either becomes a Document or a Problem naming the file and what
is wrong with it; one bad file never ends the run.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from divergence.datamodel import Document, Problem
from divergence.errors import (
    BinaryDocument,
    EmptyDocument,
    InputError,
    MalformedRecord,
    MissingPath,
    UnsupportedFormat,
)

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
KNOWN_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES
METADATA_KEYS = ("id", "source", "url", "published", "language", "title")


def decode(raw: bytes, where: str) -> str:
    """Bytes to text: UTF-8 first, then a charset detector; binary is refused."""
    if not raw.strip():
        raise EmptyDocument("the file is empty", where)
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BinaryDocument("binary content, not text", where)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise BinaryDocument("cannot detect a text encoding (binary file?)", where)
    return str(best)


def _parse_date(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        import dateparser

        parsed = dateparser.parse(text, settings={"REQUIRE_PARTS": ["day", "month", "year"]})
        return parsed.date() if parsed else None


def split_front_matter(text: str) -> tuple[dict[str, str], str, int]:
    """Return (metadata, body, offset of body) for '---'-delimited front matter."""
    if not text.startswith("---"):
        return {}, text, 0
    end = text.find("\n---", 3)
    if end < 0:
        return {}, text, 0
    meta: dict[str, str] = {}
    for line in text[3:end].strip().splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip().lower()] = value.strip().strip("\"'")
    body_start = text.find("\n", end + 4)
    body_start = len(text) if body_start < 0 else body_start + 1
    return meta, text[body_start:], body_start


def document_from_record(record: dict, default_id: str, where: str) -> Document:
    if not isinstance(record, dict):
        raise MalformedRecord("a record must be a JSON object", where)
    text = record.get("text") or record.get("body") or ""
    if isinstance(text, list):
        text = "\n\n".join(str(part) for part in text)
    if not str(text).strip():
        raise EmptyDocument("the record has no text", where)
    return Document(
        id=str(record.get("id") or default_id),
        text=str(text),
        path=where,
        source=record.get("source"),
        url=record.get("url"),
        title=record.get("title"),
        published=_parse_date(record.get("published") or record.get("date")),
        language=record.get("language"),
    )


def _from_text(text: str, stem: str, where: str) -> Document:
    meta, body, body_start = split_front_matter(text)
    if not body.strip():
        raise EmptyDocument("no text after the front matter", where)
    record = {key: meta.get(key) for key in METADATA_KEYS}
    record["text"] = text  # offsets stay valid against the file as written
    document = document_from_record(record, stem, where)
    return document.model_copy(update={"content_start": body_start})


def _from_html(text: str, stem: str, where: str) -> Document:
    import trafilatura

    extracted = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False, favor_recall=True)
    if extracted is None:
        raise EmptyDocument("no article text found in the HTML", where)
    data = extracted.as_dict() if hasattr(extracted, "as_dict") else dict(extracted)
    body = data.get("text") or ""
    if not body.strip():
        raise EmptyDocument("no article text found in the HTML", where)
    document = document_from_record(
        {
            "id": None,
            "text": body,
            "source": data.get("sitename") or data.get("hostname"),
            "url": data.get("url"),
            "title": data.get("title"),
            "published": data.get("date"),
            "language": data.get("language"),
        },
        stem,
        where,
    )
    from divergence.ingest.html_offsets import source_map  # report 1.3: offsets of the extracted text in the file

    return document.model_copy(update={"source_map": source_map(body, text)})


def _records_from_json(text: str, stem: str, where: str) -> Iterator[Document | Problem]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        yield _problem(MalformedRecord(f"invalid JSON: {error.msg} (line {error.lineno})", where))
        return
    records = data if isinstance(data, list) else [data]
    for index, record in enumerate(records):
        default = stem if len(records) == 1 else f"{stem}-{index + 1}"
        try:
            yield document_from_record(record, default, where)
        except InputError as error:
            yield _problem(error)


def _records_from_jsonl(text: str, stem: str, where: str) -> Iterator[Document | Problem]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        here = f"{where}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield _problem(MalformedRecord(f"malformed JSON line: {error.msg}", here))
            continue
        try:
            yield document_from_record(record, f"{stem}-{number}", here)
        except InputError as error:
            yield _problem(error)


def _problem(error: InputError) -> Problem:
    return Problem(path=error.path or "-", code=error.code, message=error.message)


def _cap(document: Document, max_chars: int) -> Document:
    if len(document.text) <= max_chars:
        return document
    warning = f"truncated from {len(document.text):,} to {max_chars:,} characters"
    return document.model_copy(update={"text": document.text[:max_chars], "warnings": [*document.warnings, warning]})


def read_bytes(raw: bytes, name: str, where: str, suffix: str) -> Iterator[Document | Problem]:
    stem = str(Path(name).with_suffix("")) if name else "stdin"
    try:
        text = decode(raw, where)
        if suffix in HTML_SUFFIXES or (suffix == "" and text.lstrip()[:15].lower().startswith(("<!doctype", "<html"))):
            yield _from_html(text, stem, where)
        elif suffix in JSON_SUFFIXES or (suffix == "" and text.lstrip()[:1] in "[{"):
            yield from _records_from_json(text, stem, where)
        elif suffix in JSONL_SUFFIXES:
            yield from _records_from_jsonl(text, stem, where)
        elif suffix in TEXT_SUFFIXES or suffix == "":
            yield _from_text(text, stem, where)
        else:
            raise UnsupportedFormat(f"unknown file type '{suffix}' (expected .txt, .md, .html, .json or .jsonl)", where)
    except InputError as error:
        yield _problem(error)


def _expand(path: Path) -> Iterator[tuple[Path, str]]:
    """Files under ``path`` with their names relative to it, which become ids ("event/outlet")."""
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and not child.name.startswith(".") and child.suffix.lower() in KNOWN_SUFFIXES:
                yield child, child.relative_to(path).as_posix()
    else:
        yield path, path.name


def load_documents(
    inputs: Iterable[str | Path | Document | tuple[str, str]],
    max_chars: int = 200_000,
    stdin=None,
) -> tuple[list[Document], list[Problem]]:
    """Load every input; returns the documents and the problems, in input order."""
    documents: list[Document] = []
    problems: list[Problem] = []
    for item in inputs:
        if isinstance(item, Document):
            results: Iterable[Document | Problem] = [item]
        elif isinstance(item, tuple):
            doc_id, text = item
            results = [document_from_record({"id": doc_id, "text": text}, doc_id, doc_id)] if str(text).strip() else [
                _problem(EmptyDocument("the text is empty", doc_id))
            ]
        elif str(item) == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            results = list(read_bytes(stream.read(), "stdin", "-", ""))
        else:
            path = Path(item)
            if not path.exists():
                problems.append(_problem(MissingPath("no such file or directory", str(path))))
                continue
            results = []
            for file, name in _expand(path):
                try:
                    raw = file.read_bytes()
                except OSError as error:
                    problems.append(_problem(InputError(f"cannot read: {error.strerror}", str(file))))
                    continue
                results.extend(read_bytes(raw, name, str(file), file.suffix.lower()))
        for result in results:
            if isinstance(result, Problem):
                problems.append(result)
            else:
                documents.append(_cap(result, max_chars))
    return _unique_ids(documents), problems


def _unique_ids(documents: list[Document]) -> list[Document]:
    seen: dict[str, int] = {}
    unique = []
    for document in documents:
        count = seen.get(document.id, 0)
        seen[document.id] = count + 1
        if count:
            document = document.model_copy(update={"id": f"{document.id}~{count + 1}"})
        unique.append(document)
    return unique
