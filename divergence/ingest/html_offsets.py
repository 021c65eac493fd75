"""Where the text trafilatura extracted from a page sits in the HTML file as written.

Claims of an ``.html`` input index the extracted main text. This maps that text back to the file: the
page's text nodes (outside tags, comments, scripts and styles) are decoded (entities too), each decoded
character remembering its place in the file; every line of the extracted text is then looked up in that
stream, whitespace-insensitively and in order. Lines trafilatura rewrote (rare: list bullets, merged
cells) stay unmapped. The result is a list of segments ``(start, end) → (file_start, file_end)``.
"""

from __future__ import annotations

import html
import re

from divergence.datamodel import SourceSegment

_MARKUP = re.compile(r"<!--.*?-->|<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!\[CDATA\[.*?\]\]>|<[^>]*>", re.S | re.I)
_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?")


def _text_stream(page: str) -> tuple[str, list[tuple[int, int]]]:
    """The page's decoded text, and for each of its characters the (start, end) it comes from in the file."""
    chars: list[str] = []
    spans: list[tuple[int, int]] = []

    def add_data(start: int, end: int) -> None:
        cursor = start
        for entity in _ENTITY.finditer(page, start, end):
            for i in range(cursor, entity.start()):
                chars.append(page[i])
                spans.append((i, i + 1))
            decoded = html.unescape(entity.group())
            for ch in decoded:
                chars.append(ch)
                spans.append((entity.start(), entity.end()))
            cursor = entity.end()
        for i in range(cursor, end):
            chars.append(page[i])
            spans.append((i, i + 1))

    cursor = 0
    for markup in _MARKUP.finditer(page):
        add_data(cursor, markup.start())
        chars.append(" ")  # a tag separates words
        spans.append((markup.start(), markup.start()))
        cursor = markup.end()
    add_data(cursor, len(page))
    return "".join(chars), spans


def _squeeze(text: str) -> tuple[str, list[int]]:
    """Whitespace runs as one space, and for each kept character its index in ``text``."""
    kept, index = [], []
    previous_space = True
    for i, ch in enumerate(text):
        space = ch.isspace()
        if space and previous_space:
            continue
        kept.append(" " if space else ch)
        index.append(i)
        previous_space = space
    return "".join(kept), index


def source_map(extracted: str, page: str) -> list[SourceSegment]:
    """Segments of ``extracted`` found in ``page`` (the HTML as read), in order."""
    stream, spans = _text_stream(page)
    squeezed, stream_index = _squeeze(stream)
    segments: list[SourceSegment] = []
    cursor = 0
    line_start = 0
    for line in extracted.split("\n"):
        line_end = line_start + len(line)
        wanted, line_index = _squeeze(line)  # no leading space: _squeeze drops it
        wanted = wanted.rstrip()
        if wanted:
            found = squeezed.find(wanted, cursor)
            if found >= 0:
                for k in range(len(wanted)):
                    text_at = line_start + line_index[k]
                    file_start, file_end = spans[stream_index[found + k]]
                    last = segments[-1] if segments else None
                    if (last is not None and last.end == text_at and last.file_end == file_start
                            and file_end - file_start == 1 and last.file_end - last.file_start == last.end - last.start):
                        last.end, last.file_end = text_at + 1, file_end
                    else:
                        segments.append(SourceSegment(start=text_at, end=text_at + 1, file_start=file_start, file_end=file_end))
                cursor = found + len(wanted)
        line_start = line_end + 1
    return segments


def file_span(segments: list[SourceSegment], start: int, end: int) -> tuple[int, int] | None:
    """Where ``[start, end)`` of the extracted text lies in the file; None when either end is unmapped."""
    def locate(offset: int, closing: bool) -> int | None:
        for s in segments:
            if s.start <= offset < s.end:
                if s.file_end - s.file_start == s.end - s.start:
                    return s.file_start + (offset - s.start) + (1 if closing else 0)
                return s.file_end if closing else s.file_start
        return None

    if end <= start:
        return None
    first, last = locate(start, False), locate(end - 1, True)
    return (first, last) if first is not None and last is not None else None
