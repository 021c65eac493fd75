"""Separate article text from site chrome with general rules, keeping offsets.

Hard-wrapped paragraphs (press releases, wire copy, e-mailed readouts wrapped
at ~72 columns) are reflowed first: a line that continues a sentence is not
a heading, and blank lines separate paragraphs. The rules then look at the
shape and role of each paragraph, not at site names:
headings and navigation have no sentence punctuation; datelines and
timestamp lines carry nothing but a date; footers start at a credit or
end-of-article line; boilerplate lines speak about the page itself
(subscribe, donate, share, copyright); captions repeat verbatim. What is
removed is kept as spans so it can be shown and audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from divergence.datamodel import Document, Span

_MONTHS = (
    r"jan(?:uary|vier)?|feb(?:ruary)?|f[ée]vr(?:ier)?|mar(?:ch|s)?|apr(?:il)?|avr(?:il)?|may|mai|june?|juin|"
    r"july?|juil(?:let)?|aug(?:ust)?|ao[uû]t|sep(?:t(?:ember|embre)?)?|oct(?:ober|obre)?|nov(?:ember|embre)?|"
    r"dec(?:ember)?|d[ée]c(?:embre)?|январ[ья]|феврал[ья]|марта?|апрел[ья]|ма[яй]|июн[ья]|июл[ья]|августа?|"
    r"сентябр[ья]|октябр[ья]|ноябр[ья]|декабр[ья]"
)
_TIMESTAMP = re.compile(
    rf"""^\s*(?:(?:date|published(?:\ on)?|updated(?:\ on)?|publié(?:\ le)?|mis\ à\ jour(?:\ le)?|опубликовано|обновлено|дата)\s*:?\s*)?
    (?:\d{{1,2}}[:.h]\d{{2}}\s*,?\s*)?
    (?:(?:mon|tue|wed|thu|fri|sat|sun|lun|mar|mer|jeu|ven|sam|dim)[a-zé]*\.?,?\s+)?
    (?:\d{{1,2}}\s+(?:{_MONTHS})\.?|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,4}}[-/.]\d{{1,2}}[-/.]\d{{1,4}})
    (?:,?\s+\d{{4}}(?:\s*г(?:ода?)?\.?)?)?
    (?:\s*,?\s*(?:at\s+|à\s+|в\s+)?\d{{1,2}}[:.h]\d{{2}}(?:\s*[ap]\.?m\.?)?)?
    (?:\s+[A-Z]{{2,4}})?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_METADATA_LINE = re.compile(r"^\s*(?:by|par|автор|source|tags?|photo|credit|crédit)\s*:\s*\S", re.IGNORECASE)
# Sentence-final punctuation of every script the encoder reads (Latin, CJK, Devanagari, Arabic, Ethiopic, Myanmar, Khmer).
SENTENCE_TERMINATORS = ".!?…:;。！？；：।॥؟۔።။។"
_SENTENCE_END = re.compile(rf"[{SENTENCE_TERMINATORS}][\"'»”’“」』）)\]\s]*$")
# Scripts written without spaces between words: a character is closer to a syllable or a word than to a letter.
UNSPACED_SCRIPT = re.compile(r"[\u0E00-\u0EFF\u1000-\u109F\u1780-\u17FF\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]")
_BOILERPLATE = re.compile(
    r"""subscribe|sign\ up|newsletter|donat(?:e|ion)|support\ us|please\ support|all\ rights\ reserved|©|copyright|
    cookies?\b|click\ here|powered\ by|leave\ a\ (?:reply|comment)|comments?\ (?:are|policy)|follow\ us|
    share\ (?:this|on)|sharing,\ liking|may\ be\ disseminated|without\ (?:prior\ )?permission|read\ more|
    related\ (?:articles|stories|news)|accessibility\ links|skip\ to\ (?:main\ )?content|
    abonnez|tous\ droits\ réservés|lire\ aussi|faire\ un\ don|soutenez|partager\ (?:sur|cet)|
    подписывайтесь|подпишитесь|все\ права\ защищены|читайте\ также|поделиться|при\ использовании\ материалов|
    ссылка\ обязательна""",
    re.IGNORECASE | re.VERBOSE,
)
_FOOTER_START = re.compile(
    r"""^\s*(?:with\ reporting\ by|reporting\ by|additional\ reporting|editing\ by|compiled\ by|
    \(?avec\ (?:l')?(?:afp|reuters|ap)\b|leave\ a\ reply|support\ us|other\ materials\ of|related\b|read\ more|
    more\ (?:from|on)\ |see\ also|share\ this|tags?\s*:|comments?\b|читайте\ также|другие\ материалы|
    lire\ aussi|à\ lire\ aussi|sur\ le\ même\ sujet)""",
    re.IGNORECASE | re.VERBOSE,
)
_DATELINE_PREFIX = re.compile(
    r"^(?P<prefix>(?:[A-ZА-ЯЁ][A-ZА-ЯЁ0-9 .,/()'’-]{2,60}?(?:\([^)]{1,30}\))?)\s*[–—-]{1,2}\s+)(?=\S)"
)

HEADING_MAX_WORDS = 14
# A hard-wrapped block has lines no wider than this (e-mail and wire copy wrap at 64-80 columns).
WRAP_MAX_WIDTH = 100
WRAP_MIN_WIDTH = 30
WRAP_OVERLONG_SHARE = 0.1  # a few unwrapped lines (a title, a URL) may be wider
WRAP_MIN_BREAKS = 2  # lines that end mid-sentence at the wrap column …
WRAP_MIN_BREAK_SHARE = 0.25  # … and their share of the line breaks inside paragraphs
TITLE_MIN_WORDS = 4
MASTHEAD_LINES = 5
FOOTER_MIN_POSITION = 0.4


@dataclass
class Line:
    start: int
    end: int
    text: str
    kind: str = "sentence"
    after_blank: bool = False


def word_count(text: str) -> int:
    """Words, counting two characters of an unspaced script (Chinese, Japanese, Thai …) as one word."""
    unspaced = len(UNSPACED_SCRIPT.findall(text))
    spaced = len(UNSPACED_SCRIPT.sub(" ", text).split())
    return spaced + (unspaced + 1) // 2


def _lines(text: str, offset: int = 0) -> list[Line]:
    lines = []
    blank = False
    for raw in text[offset:].splitlines(keepends=True):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            lines.append(Line(offset + lead, offset + lead + len(stripped), stripped, after_blank=blank))
            blank = False
        else:
            blank = True
        offset += len(raw)
    return lines


def _blocks(lines: list[Line]) -> list[list[Line]]:
    """Runs of lines not separated by a blank line."""
    blocks: list[list[Line]] = []
    for line in lines:
        if line.after_blank or not blocks:
            blocks.append([])
        blocks[-1].append(line)
    return blocks


def _filled(line: Line, following: Line, width: int) -> bool:
    """The wrapper broke here: the next word would not have fitted on the line (a no-break space joins words)."""
    return len(line.text) + 1 + len(re.split(r"[ \t]", following.text, maxsplit=1)[0]) > width


def _continues(line: Line, following: Line, wrapped: bool, width: int) -> bool:
    if is_timestamp_line(following.text) or _METADATA_LINE.match(following.text):
        return False  # a dateline or a byline is a line of its own, whatever its length
    if not _SENTENCE_END.search(line.text) and following.text[0].islower():
        return True
    return wrapped and _filled(line, following, width) and following.text != line.text


def wrap_width(lines: list[Line]) -> int | None:
    """The column a hard-wrapped text was wrapped at, or None when it was not wrapped.

    Greedy wrapping leaves lines that break mid-sentence exactly where the next
    word would not have fitted; one-sentence-per-line text and web pages (one
    long line per paragraph) do not.
    """
    pairs = [(a, b) for block in _blocks(lines) for a, b in pairwise(block)]
    lengths = [len(a.text) for a, _ in pairs]  # lines followed by another: a title on its own line does not count
    if not lengths or sum(n > WRAP_MAX_WIDTH for n in lengths) > WRAP_OVERLONG_SHARE * len(lengths):
        return None
    width = max(n for n in lengths if n <= WRAP_MAX_WIDTH)
    breaks = sum(_filled(a, b, width) and not _SENTENCE_END.search(a.text) for a, b in pairs)
    if width < WRAP_MIN_WIDTH or breaks < WRAP_MIN_BREAKS or breaks < WRAP_MIN_BREAK_SHARE * len(pairs):
        return None
    return width


def reflow(text: str, lines: list[Line]) -> list[Line]:
    """Join the lines of each hard-wrapped paragraph into one line spanning them (offsets kept).

    In a hard-wrapped text (see ``wrap_width``) a filled line continues on the
    next one; a blank line ends the paragraph. Anywhere, a lower-case line
    after an unfinished one continues it.
    """
    width = wrap_width(lines)
    paragraphs: list[Line] = []
    for block in _blocks(lines):
        current = block[0]
        for line, following in pairwise(block):
            if _continues(line, following, width is not None, width or 0):
                current = Line(current.start, following.end, text[current.start : following.end], after_blank=current.after_blank)
            else:
                paragraphs.append(current)
                current = following
        paragraphs.append(current)
    return paragraphs


def _normalised(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def is_timestamp_line(text: str) -> bool:
    return bool(_TIMESTAMP.match(text))


def classify(lines: list[Line]) -> None:
    counts: dict[str, int] = {}
    for line in lines:
        key = _normalised(line.text)
        counts[key] = counts.get(key, 0) + 1
    seen_sentences: set[str] = set()
    for line in lines:
        words = word_count(line.text)
        if is_timestamp_line(line.text):
            line.kind = "timestamp"
        elif _METADATA_LINE.match(line.text):
            line.kind = "metadata"
        elif _BOILERPLATE.search(line.text) and words < 60:
            line.kind = "boilerplate"
        elif not _SENTENCE_END.search(line.text) and counts[_normalised(line.text)] > 1 and words < 40:
            line.kind = "repeated"
        elif words <= HEADING_MAX_WORDS and not _SENTENCE_END.search(line.text):
            line.kind = "heading"
        elif _SENTENCE_END.search(line.text) and _normalised(line.text) in seen_sentences:
            line.kind = "repeated"
        if line.kind == "sentence":
            seen_sentences.add(_normalised(line.text))
        elif not re.search(r"[^\W\d_]", line.text):
            line.kind = "symbols"


def _cut_footer(lines: list[Line], text_length: int) -> None:
    for index, line in enumerate(lines):
        if line.start - lines[0].start >= FOOTER_MIN_POSITION * text_length and _FOOTER_START.match(line.text):
            for later in lines[index:]:
                later.kind = "footer"
            return


def _cut_masthead(lines: list[Line]) -> None:
    """Sentences above the dateline near the top describe the site, not the event."""
    top = lines[:MASTHEAD_LINES]
    dated = [i for i, line in enumerate(top) if line.kind in ("timestamp", "metadata")]
    if dated:
        for line in top[: dated[-1]]:
            if line.kind == "sentence":
                line.kind = "masthead"


def clean(document: Document) -> Document:
    """Fill ``body`` and ``removed``; take the title from the first heading when missing."""
    lines = reflow(document.text, _lines(document.text, document.content_start))
    classify(lines)
    _cut_footer(lines, len(document.text) - document.content_start)
    _cut_masthead(lines)
    if len(lines) == 1 and lines[0].kind == "heading":
        # A one-line text has no page around it: it is the statement itself, punctuated or not.
        lines[0].kind = "sentence"
    _keep_something(lines)

    body: list[Span] = []
    removed: list[Span] = []
    for line in lines:
        if line.kind != "sentence":
            removed.append(Span(start=line.start, end=line.end))
            continue
        start = line.start
        match = _DATELINE_PREFIX.match(line.text)
        if match and not re.search(r"[a-zа-яё]", re.sub(r"\([^)]*\)", "", match.group("prefix"))):
            removed.append(Span(start=start, end=start + match.end()))
            start += match.end()
        body.append(Span(start=start, end=line.end))
    line = headline_line(lines)
    title = document.title or (line.text if line else None)
    in_text = line is not None and (document.title is None or _normalised(document.title) == _normalised(line.text))
    headline_span = Span(start=line.start, end=line.end) if in_text else None
    return document.model_copy(update={"body": body, "removed": removed, "title": title, "headline": headline_span})


_NEVER_TEXT = ("timestamp", "metadata", "boilerplate", "symbols")


def _keep_something(lines: list[Line]) -> None:
    """A text that has words is never refused: when every line looks like chrome, its unpunctuated lines are the text."""
    if any(line.kind == "sentence" for line in lines):
        return
    fallback = [line for line in lines if line.kind not in _NEVER_TEXT] or [
        line for line in lines if re.search(r"[^\W\d_]", line.text)
    ]
    for line in fallback:
        line.kind = "sentence"


_MENU = re.compile(r"\s[|›»/]\s|^\W|[|›»]$|^(?:by|from|par|de|with|avec|автор|источник)\b", re.IGNORECASE)


def headline_line(lines: list[Line]) -> Line | None:
    """The line of the page's headline: the last heading above the first paragraph.

    Mastheads and menus come first and captions repeat, so the line closest
    to the article that is neither a menu ("World | Politics") nor repeated
    is the headline; a repeated line is the fallback.
    """
    candidates = []
    for line in lines:
        if line.kind == "sentence":
            break
        if line.kind in ("heading", "repeated") and word_count(line.text) >= TITLE_MIN_WORDS and not _MENU.search(line.text):
            candidates.append(line)
    headings = [line for line in candidates if line.kind == "heading"]
    return headings[-1] if headings else (candidates[0] if candidates else None)


def dateline_source(document: Document) -> str | None:
    """The outlet named in an all-caps dateline such as 'INTERFAX.RU –'."""
    for span in document.removed:
        text = document.span_text(span).strip()
        match = re.match(r"^([A-ZА-ЯЁ][A-ZА-ЯЁ0-9.]{2,30})\s*(?:\([^)]*\))?\s*[–—-]", text)
        if match:
            return match.group(1)
    return None
