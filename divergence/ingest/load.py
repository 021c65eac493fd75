"""Read documents from files, folders, JSON records and stdin.

Every input either becomes a Document or a Problem naming the file and what
is wrong with it; one bad file never ends the run.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from divergence.datamodel import Document, Problem
from divergence.errors import (
    DECODED_WITH_REPLACEMENT,
    INPUT_CUT,
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


BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _printable_share(text: str) -> float:
    return sum(ch.isprintable() or ch in "\n\r\t" for ch in text) / max(1, len(text))


def _bomless_utf16(raw: bytes) -> str | None:
    """UTF-16 without a byte-order mark: every other byte is NUL (Latin) or another control byte (Cyrillic, Greek...)."""
    sample = raw[:8192]
    if len(raw) < 4 or len(raw) % 2 or sum(b < 9 or 13 < b < 32 for b in sample) < len(sample) * 0.2:
        return None
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        # Text, not binary that happens to decode: printable, with words separated by spaces.
        if _printable_share(text) >= 0.97 and text.count(" ") + text.count("\n") >= len(text) / 30:
            return text
    return None


def _mostly_utf8(raw: bytes) -> str | None:
    """UTF-8 with a few stray bytes (a damaged copy), decoded with replacement; None when it is another encoding."""
    text = raw.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    well_formed = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    # A text in a legacy 8-bit encoding has almost no valid multi-byte UTF-8 sequences; real UTF-8 has many.
    return text if well_formed >= 2 * bad and bad <= max(8, len(text) // 50) else None


def decode(raw: bytes, where: str) -> tuple[str, str | None]:
    """Bytes to (text, warning): BOM, UTF-8, BOM-less UTF-16, UTF-8 with a few bad bytes replaced, a charset detector; binary is refused."""
    if not raw.strip():
        raise EmptyDocument("the file is empty", where)
    for bom, codec in BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec), None
            except UnicodeDecodeError:
                break
    text = _bomless_utf16(raw)
    if text is not None:
        return text, None
    if b"\x00" in raw[:8192]:
        raise BinaryDocument("binary content, not text", where)
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as error:
        first_bad = error.start
    text = _mostly_utf8(raw)
    if text is not None:
        bad = text.count("\ufffd")
        return text, f"{bad} byte sequence{'s' if bad != 1 else ''} not valid UTF-8 (first at byte {first_bad:,}) replaced by U+FFFD"
    from charset_normalizer import from_bytes

    matches = list(from_bytes(raw))
    if not matches:
        raise BinaryDocument("cannot detect a text encoding (binary file?)", where)
    return str(_conventional_code_page(matches)), None


# The Windows code page that stands for each ISO 8859 part: legacy files are mostly written in the Windows one.
_WINDOWS_CODE_PAGE = {"iso8859-1": "cp1252", "iso8859-15": "cp1252", "iso8859-2": "cp1250", "iso8859-13": "cp1257",
                      "iso8859-5": "cp1251", "iso8859-7": "cp1253", "iso8859-9": "cp1254", "iso8859-8": "cp1255",
                      "iso8859-6": "cp1256"}


def _conventional_code_page(matches):
    """Of the equally plausible decodings, the one in the code page conventional for the text's language.

    Short French in cp1252 decodes without a flaw as cp1250 too ("à" becomes "ŕ"), and the charset detector
    cannot tell them apart; the language can (its locale's code page, from the standard library's table).
    """
    import codecs
    import locale

    from divergence.ingest.language import detect_language

    best = matches[0]
    tied = {codecs.lookup(m.encoding).name: m for m in matches if m.chaos <= best.chaos + 0.01}
    language = detect_language(str(best))
    alias = locale.locale_alias.get(language or "", "")
    iso = alias.rpartition(".")[2].lower()
    for name in (_WINDOWS_CODE_PAGE.get(iso), iso):
        if name:
            try:
                key = codecs.lookup(name).name
            except LookupError:
                continue
            if key in tied:
                return tied[key]
    return best


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

        try:
            parsed = dateparser.parse(text[:200], settings={"REQUIRE_PARTS": ["day", "month", "year"]})
        except (ValueError, TypeError, OverflowError, RecursionError):
            return None
        return parsed.date() if parsed else None


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CLOSING_FENCE = re.compile(r"(?:\r\n|\r|\n)---")


def split_front_matter(text: str) -> tuple[dict[str, str], str, int]:
    """Return (metadata, body, offset of body) for '---'-delimited front matter (lines ending in LF, CRLF or a bare CR)."""
    if not text.startswith("---"):
        return {}, text, 0
    closing = _CLOSING_FENCE.search(text, 3)
    if closing is None:
        return {}, text, 0
    end = closing.start()
    meta: dict[str, str] = {}
    for line in text[3:end].strip().splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip().lower()] = value.strip().strip("\"'")
    after = _LINE_BREAK.search(text, closing.end())
    body_start = len(text) if after is None else after.end()
    return meta, text[body_start:], body_start


CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")
STRING_FIELDS = ("source", "url", "title", "language")
TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
"""Control characters that are not whitespace: an escape sequence in an article ("ESC[2J", an OSC window title) acted on
the terminal that showed the report. Each becomes a space, so every offset into the text stays valid."""


def _string_field(record: dict, key: str, where: str) -> str | None:
    value = record.get(key)
    if value is None or isinstance(value, str):
        return value if value is None else CONTROL_CHARACTERS.sub(" ", value)
    raise MalformedRecord(f"field '{key}' must be a string, got {_json_type(value)}", where)


def _json_type(value) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _record_id(record: dict, default_id: str, where: str) -> str:
    """An explicit id must be one line of text (a control character would split listings); a name-derived one is cleaned."""
    value = record.get("id")
    if value in (None, ""):
        return CONTROL_CHARACTERS.sub("_", default_id)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedRecord(f"field 'id' must be a string, got {_json_type(value)}", where)
    value = str(value)
    if CONTROL_CHARACTERS.search(value) or not value.strip():
        raise MalformedRecord(f"field 'id' must be one line of printable text, got {value[:60]!r}", where)
    return value


def document_from_record(record: dict, default_id: str, where: str) -> Document:
    if not isinstance(record, dict):
        raise MalformedRecord("a record must be a JSON object", where)
    text = record.get("text") or record.get("body") or ""
    if isinstance(text, list) and all(isinstance(part, str) for part in text):
        text = "\n\n".join(text)
    if not isinstance(text, str):
        raise MalformedRecord(f"field 'text' must be a string or a list of strings, got {_json_type(text)}", where)
    text = TERMINAL_CONTROLS.sub(" ", text)
    if not text.strip():
        raise EmptyDocument("the record has no text", where)
    published = record.get("published") or record.get("date")
    if published is not None and not isinstance(published, str | int | dt.date):
        raise MalformedRecord(f"field 'published' must be a date string, got {_json_type(published)}", where)
    try:
        return Document(
            id=_record_id(record, default_id, where),
            text=text,
            path=where,
            published=_parse_date(published),
            **{key: _string_field(record, key, where) for key in STRING_FIELDS},
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise MalformedRecord(f"field '{'.'.join(map(str, first['loc']))}': {first['msg']}", where) from None


def _from_text(text: str, stem: str, where: str) -> Document:
    meta, body, body_start = split_front_matter(text)
    if not body.strip():
        # A file of a byte-order mark only has no front matter: it is empty, like a file of blanks.
        raise EmptyDocument("no text after the front matter" if text.startswith("---") else "the file is empty", where)
    record = {key: meta.get(key) for key in METADATA_KEYS}
    record["text"] = text  # offsets stay valid against the file as written
    document = document_from_record(record, stem, where)
    return document.model_copy(update={"content_start": body_start})


EXTRACTION_LOGGERS = ("trafilatura", "htmldate", "courlan")
"""trafilatura and its helpers log what they discard ("discarding data: None"); divergence reports each file's outcome
itself (E101, E103), so their warnings would only reach the terminal as stray `divergence:` lines."""


def _from_html(text: str, stem: str, where: str) -> Document:
    import trafilatura

    for name in EXTRACTION_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        extracted = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False, favor_recall=True)
    except (ValueError, TypeError, AttributeError, RecursionError) as error:  # lxml/trafilatura on hostile markup
        raise InputError(f"the HTML could not be parsed ({type(error).__name__})", where) from None
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


def _parse_json(text: str, where: str, invalid: str):
    """The parsed value, or raise MalformedRecord naming ``where`` (bad syntax, or nesting too deep)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedRecord(invalid.format(msg=error.msg, line=error.lineno), where) from error
    except RecursionError as error:
        raise MalformedRecord("JSON nested too deeply", where) from error


def _record(record, default_id: str, where: str) -> Document | Problem:
    try:
        return document_from_record(record, default_id, where)
    except InputError as error:
        return _problem(error)


def _records_from_json(text: str, stem: str, where: str) -> Iterator[Document | Problem]:
    try:
        data = _parse_json(text, where, "invalid JSON: {msg} (line {line})")
    except MalformedRecord as error:
        yield _problem(error)
        return
    records = data if isinstance(data, list) else [data]
    if not records:  # `[]`: nothing to read, said like an empty file (it used to vanish without a word)
        yield _problem(EmptyDocument("the JSON list holds no records", where))
    for index, record in enumerate(records):
        yield _record(record, stem if len(records) == 1 else f"{stem}-{index + 1}", where)


def _records_from_jsonl(text: str, stem: str, where: str) -> Iterator[Document | Problem]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        here = f"{where}:{number}"
        try:
            record = _parse_json(line, here, "malformed JSON line: {msg}")
        except MalformedRecord as error:
            yield _problem(error)
            continue
        yield _record(record, f"{stem}-{number}", here)


def _problem(error: InputError) -> Problem:
    return Problem(path=error.path or "-", code=error.code, message=error.message)


def _cap(document: Document, max_chars: int) -> Document:
    if len(document.text) <= max_chars:
        return document
    warning = f"truncated from {len(document.text):,} to {max_chars:,} characters"
    return document.model_copy(update={"text": document.text[:max_chars], "warnings": [*document.warnings, warning]})


def _cut_warning(what: str, size: int, limit: int, setting: str, where: str) -> Problem:
    return Problem(path=where, code=INPUT_CUT, set_aside=False,
                   message=f"{what} larger than {limit:,} bytes ({setting}): only the first {limit:,} bytes were used" if size < 0
                   else f"{what} cut from {size:,} to {limit:,} bytes ({setting}) before extraction")


def read_bytes(
    raw: bytes, name: str, where: str, suffix: str, *, cut: bool = False, max_bytes: int = 50_000_000,
    max_html_bytes: int = 2_000_000,
) -> Iterator[Document | Problem]:
    """One file's documents and problems; ``cut`` says the file was longer than ``max_bytes`` and only its start was read."""
    stem = str(Path(name).with_suffix("")) if name else "stdin"
    try:
        if cut and (suffix in JSON_SUFFIXES or (suffix == "" and raw.lstrip()[:1] in (b"[", b"{"))):
            raise MalformedRecord(f"JSON file larger than {max_bytes:,} bytes (max_file_bytes); split it into JSON Lines", where)
        text, warning = decode(raw, where)
        if cut:
            if suffix in JSONL_SUFFIXES:  # keep the whole records, drop the cut last line
                text = text[: text.rfind("\n") + 1]
            yield _cut_warning("the file is", -1, max_bytes, "max_file_bytes", where)
        if warning:
            yield Problem(path=where, code=DECODED_WITH_REPLACEMENT, set_aside=False, message=warning)
        if suffix in HTML_SUFFIXES or (suffix == "" and text.lstrip()[:15].lower().startswith(("<!doctype", "<html"))):
            if len(text) > max_html_bytes:
                yield _cut_warning("the HTML was", len(text), max_html_bytes, "max_html_bytes", where)
                text = text[:max_html_bytes]
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


def _read_capped(stream, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes (a cut multi-byte UTF-8 character at the end dropped), and whether there was more."""
    raw = stream.read(limit + 1)
    if len(raw) <= limit:
        return raw, False
    raw = raw[:limit]
    tail = len(raw)
    while tail > 0 and len(raw) - tail < 3 and raw[tail - 1] & 0xC0 == 0x80:
        tail -= 1
    if tail > 0 and raw[tail - 1] >= 0xC0:
        raw = raw[: tail - 1]
    return raw, True


def read_in_folder(child: Path) -> bool:
    """Whether reading a folder reads this file under it (not hidden, of a known type)."""
    return child.is_file() and not child.name.startswith(".") and child.suffix.lower() in KNOWN_SUFFIXES


def _expand(path: Path) -> Iterator[tuple[Path, str]]:
    """Files under ``path`` with their names relative to it, which become ids ("event/outlet")."""
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if read_in_folder(child):
                yield child, child.relative_to(path).as_posix()
    else:
        yield path, path.name


def _exists(path: Path) -> bool:
    try:
        return path.exists() or path.is_symlink()
    except (OSError, ValueError):  # a name too long, a NUL in it
        return False


def load_documents(
    inputs: Iterable[str | Path | Document | tuple[str, str]],
    max_chars: int = 200_000,
    stdin=None,
    *,
    max_bytes: int = 50_000_000,
    max_html_bytes: int = 2_000_000,
) -> tuple[list[Document], list[Problem]]:
    """Load every input; returns the documents and the problems, in input order.

    No file is read past ``max_bytes`` (``/dev/zero`` included); HTML is cut to ``max_html_bytes`` before extraction.
    """
    documents: list[Document] = []
    problems: list[Problem] = []
    caps = {"max_bytes": max_bytes, "max_html_bytes": max_html_bytes}
    for item in inputs:
        if isinstance(item, Document):
            results: Iterable[Document | Problem] = [item]
        elif isinstance(item, tuple):
            doc_id, text = item
            try:
                results = [document_from_record({"id": doc_id, "text": text}, doc_id, doc_id)] if str(text).strip() else [
                    _problem(EmptyDocument("the text is empty", doc_id))
                ]
            except InputError as error:
                results = [_problem(error)]
        elif str(item) == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            raw, cut = _read_capped(stream, max_bytes)
            results = list(read_bytes(raw, "stdin", "-", "", cut=cut, **caps))
        else:
            path = Path(item)
            if not _exists(path):
                problems.append(_problem(MissingPath("no such file or directory", str(path))))
                continue
            results = []
            try:
                files = list(_expand(path))
            except OSError as error:
                problems.append(_problem(InputError(f"cannot list: {error.strerror or error}", str(path))))
                continue
            for file, name in files:
                if file.is_dir():
                    continue
                try:
                    with open(file, "rb") as stream:
                        raw, cut = _read_capped(stream, max_bytes)
                except OSError as error:
                    problems.append(_problem(InputError(f"cannot read: {error.strerror or error}", str(file))))
                    continue
                results.extend(read_bytes(raw, name, str(file), file.suffix.lower(), cut=cut, **caps))
        for result in results:
            if isinstance(result, Problem):
                problems.append(result)
            else:
                documents.append(_cap(result, max_chars))
    return _unique_ids(documents), problems


def suffixed_id(document: Document) -> str:
    """The id of a second document under a taken id (two folders' ``x.txt``).

    The suffix comes from the document's own text, so ``analyze``, ``ingest`` and
    the store name it alike whatever the order the files arrive in, and the event
    ids built from member ids agree too.
    """
    return f"{document.id}~{hashlib.blake2b(document.text.encode(), digest_size=4).hexdigest()}"


def _unique_ids(documents: list[Document]) -> list[Document]:
    taken: set[str] = set()
    unique = []
    for document in documents:
        if document.id in taken:
            base = suffixed_id(document)
            new_id, count = base, 1
            while new_id in taken:  # the same text twice under one name
                count += 1
                new_id = f"{base}~{count}"
            document = document.model_copy(update={"id": new_id})
        taken.add(document.id)
        unique.append(document)
    return unique
