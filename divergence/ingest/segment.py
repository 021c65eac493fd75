"""Cut a cleaned document into sentences, then into claims with offsets.

Each paragraph is segmented in its own language (a French document may quote
a Chinese paragraph): pysbd where it knows the language well, otherwise the
sentence punctuation of the script. Punctuation that ends a sentence in every
language that uses it (。！？ ।॥ ؟ ۔ ። ။ ។) always ends one; scripts written
without sentence punctuation (Thai, Lao, Khmer without ។) are cut at spaces by
length; and no sentence is longer than ``max_claim_chars``: a longer run is cut
at its last clause break or space before the limit (a 5 MB line without
punctuation gives many bounded claims, quickly).
"""

from __future__ import annotations

import re
from functools import lru_cache

from divergence.datamodel import Claim, Document
from divergence.ingest.atoms import atomise
from divergence.ingest.attribution import Attribution, attribute
from divergence.ingest.clean import UNSPACED_SCRIPT
from divergence.ingest.dates import names_day_or_month
from divergence.ingest.language import dominant_script, paragraph_language, sentence_language

# pysbd's rules for Chinese and Japanese cut before closing quotes; the script's own punctuation does better.
PYSBD_LANGUAGES = {"en", "fr", "ru", "de", "es", "it", "nl", "pl", "ar", "el", "fa", "da", "hi", "hy", "bg", "mr", "ur", "am", "kk", "sk"}
MIN_CLAIM_WORDS = 4
DEFAULT_MAX_CLAIM_CHARS = 600
# pysbd is run on windows of at most this many characters (its cost grows faster than the length of its input).
SEGMENTER_WINDOW_CHARS = 5_000
# Unpunctuated scripts: a space ends a sentence once the sentence has this many characters.
UNPUNCTUATED_SENTENCE_CHARS = 80
# A semicolon joins two statements; splitting there is safe when both halves are long enough to stand alone.
_SAFE_SPLIT = re.compile(r";\s+")
_DOUBLE_QUOTES = ('"', "“", "”", "„", "«", "»")
_CLOSERS = "\"'»”’」』）)\\]"
_ALWAYS_ENDS = re.compile(rf"[。！？!?]*[。！？।॥؟۔።။។][{_CLOSERS}]*\s*")
_ANY_END = re.compile(rf"[.!?…。！？।॥؟۔።။។][{_CLOSERS}]*\s+")
_PUNCTUATION_END = re.compile(rf"{_ALWAYS_ENDS.pattern}|[.!?…][{_CLOSERS}]*\s+")
_LATIN_END = re.compile(r"[.!?…]")
_CLAUSE_BREAK = re.compile(r"[,;:，；：、]\s*|\s[–—-]\s")
_UNPUNCTUATED_SCRIPT = re.compile(r"[\u0E00-\u0EFF\u1780-\u17FF]")  # Thai, Lao, Khmer
# pysbd ends sentences where news prose goes on; a piece is joined back to the one before it when
# - the one before ends at a comma, semicolon or colon (a quotation closed by "," before its "…, X said");
_OPEN_END = re.compile(rf"[,;:][{_CLOSERS}]*$")
# - it starts with a comma, semicolon, colon or closing bracket ("has sent Ryan, R-Wis., a letter",
#   the title "It's About the Money!: How You Can …");
_CONTINUATION_START = re.compile(r"[,;:)\]]")
# - the one before ends at "!" or "?" (a quoted title, an exclamation inside quotes) and it starts in lower case
#   ("on \"Who Wants to Be a Millionaire?\" in 2005"): no language here starts a sentence in lower case;
_EXCLAIMED_END = re.compile(rf"[!?][{_CLOSERS}]*$")
# - the one before ends at a clock abbreviation and it starts with the day, month or time zone the time belongs to
#   ("2 a.m. Friday", "6:30 a.m. Pacific Time"), or in lower case; "at 2 p.m. Jackson will …" stays two sentences.
_CLOCK_END = re.compile(r"\b[ap]\.\s?m\.$", re.IGNORECASE)
# Month and weekday names come from divergence.ingest.dates; these are the other words a clock time runs into.
_TIME_WORDS = frozenset(
    "today tomorrow yesterday tonight "
    "local pacific eastern central mountain atlantic greenwich "
    "gmt utc et est edt ct cst cdt mt mst mdt pt pst pdt bst cet cest eet eest msk ist jst".split()
)
_FIRST_WORD = re.compile(r"[\"'«“‘(]*([^\W\d_]+)")


@lru_cache(maxsize=32)
def _segmenter(language: str):
    import pysbd

    return pysbd.Segmenter(language=language, clean=False)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return None
    start += len(piece) - len(piece.lstrip())
    return start, start + len(stripped)


def _windows(text: str, size: int) -> list[tuple[int, int]]:
    """Cut ``text`` into windows of at most ``size`` characters, at a sentence end when there is one."""
    windows = []
    start = 0
    while len(text) - start > size:
        limit = start + size
        ends = [m.end() for m in _ANY_END.finditer(text, start + size // 2, limit)]
        cut = ends[-1] if ends else (text.rfind(" ", start + size // 2, limit) + 1 or limit)
        windows.append((start, cut))
        start = cut
    windows.append((start, len(text)))
    return windows


def _pysbd_spans(text: str, language: str) -> list[tuple[int, int]]:
    spans = []
    for w_start, w_end in _windows(text, SEGMENTER_WINDOW_CHARS):
        # A reflowed paragraph keeps its line breaks, which pysbd takes for sentence ends; one space per character keeps offsets.
        window = re.sub(r"\s", " ", text[w_start:w_end])
        if not _LATIN_END.search(window):  # nothing pysbd could split at
            spans.append((w_start, w_end))
            continue
        cursor = 0
        for sentence in _segmenter(language).segment(window):
            piece = sentence.strip()
            if not piece:
                continue
            start = window.find(piece, cursor)
            if start < 0:  # pysbd changed the text; resume at the cursor
                start = cursor
            end = min(start + len(piece), len(window))
            spans.append((w_start + start, w_start + end))
            cursor = end
    return spans


def _continues(text: str, previous: tuple[int, int], span: tuple[int, int]) -> bool:
    """Whether ``span`` goes on with the sentence ``previous`` rather than starting one (see ``_OPEN_END``)."""
    before = text[previous[0] : previous[1]]
    after = text[span[0] : span[1]]
    if _OPEN_END.search(before) or _CONTINUATION_START.match(after):
        return True
    word = _FIRST_WORD.match(after)
    if word is None:
        return False
    lower = word.group(1)[0].islower()
    if _EXCLAIMED_END.search(before):
        return lower
    if _CLOCK_END.search(before):
        return lower or word.group(1).lower() in _TIME_WORDS or names_day_or_month(word.group(1))
    return False


def _rejoined(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` with every piece that continues the sentence before it joined to that sentence (offsets kept)."""
    out: list[tuple[int, int]] = []
    for span in spans:
        if out and _continues(text, out[-1], span):
            out[-1] = (out[-1][0], span[1])
        else:
            out.append(span)
    return out


def _split_at(text: str, start: int, end: int, pattern: re.Pattern) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` after every match of ``pattern``, whitespace trimmed."""
    pieces = []
    cursor = start
    for match in pattern.finditer(text, start, end):
        if match.end() < end:
            pieces.append((cursor, match.end()))
            cursor = match.end()
    pieces.append((cursor, end))
    return [trimmed for s, e in pieces if (trimmed := _trimmed(text, s, e))]


def _split_unpunctuated(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Thai, Lao and Khmer mark sentence ends with a space: cut at spaces once a piece is long enough."""
    if len(_UNPUNCTUATED_SCRIPT.findall(text, start, end)) * 2 < end - start:
        return [(start, end)]
    pieces = []
    cursor = start
    for match in re.finditer(r"\s+", text[start:end]):
        if start + match.start() - cursor >= UNPUNCTUATED_SENTENCE_CHARS:
            pieces.append((cursor, start + match.start()))
            cursor = start + match.end()
    pieces.append((cursor, end))
    return [trimmed for s, e in pieces if (trimmed := _trimmed(text, s, e))]


def _cap(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Pieces of at most ``max_chars``, cut at the last clause break, else space, in the second half of each window."""
    pieces = []
    while end - start > max_chars:
        limit = start + max_chars
        floor = start + max_chars // 2
        breaks = [m.end() for m in _CLAUSE_BREAK.finditer(text, floor, limit)]
        spaces = [m.end() for m in re.finditer(r"\s+", text[floor:limit])]
        cut = breaks[-1] if breaks else (floor + spaces[-1] if spaces else limit)
        if (trimmed := _trimmed(text, start, cut)) is not None:
            pieces.append(trimmed)
        start = cut
    if (trimmed := _trimmed(text, start, end)) is not None:
        pieces.append(trimmed)
    return pieces


def sentence_spans(text: str, language: str | None, max_chars: int = DEFAULT_MAX_CLAIM_CHARS) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets within ``text``, whitespace trimmed, each at most ``max_chars`` long."""
    if language in PYSBD_LANGUAGES:
        spans = _rejoined(text, _pysbd_spans(text, language))
    else:
        spans = [(0, len(text))]
    out = []
    for start, end in spans:
        for s_start, s_end in _split_at(text, start, end, _ALWAYS_ENDS if language in PYSBD_LANGUAGES else _PUNCTUATION_END):
            for u_start, u_end in _split_unpunctuated(text, s_start, s_end):
                out.extend(_cap(text, u_start, u_end, max_chars))
    return out


def _split_compound(text: str, start: int) -> list[tuple[int, int]]:
    parts = []
    cursor = 0
    for match in _SAFE_SPLIT.finditer(text):
        left = text[cursor : match.start()]
        right = text[match.end() :]
        # Inside a quotation the halves would lose their speaker ("“… about it; he does …,” Mr. X said"): an odd
        # number of double quotes before the semicolon ("…", “…”, „…“, «…» each count two) means one is open.
        quoted = sum(text.count(q, 0, match.start()) for q in _DOUBLE_QUOTES) % 2 == 1
        if not quoted and len(left.split()) >= MIN_CLAIM_WORDS + 2 and len(right.split()) >= MIN_CLAIM_WORDS + 2:
            parts.append((start + cursor, start + match.start() + 1))
            cursor = match.end()
    parts.append((start + cursor, start + len(text)))
    return parts


def claim_words(text: str) -> int:
    """Runs of letters, counting two characters of an unspaced script as one word."""
    unspaced = len(UNSPACED_SCRIPT.findall(text))
    return len(re.findall(r"[^\W\d_]+", UNSPACED_SCRIPT.sub(" ", text))) + (unspaced + 1) // 2


def _has_words(text: str) -> bool:
    return bool(re.search(r"[^\W\d_]", text))


def segment(document: Document, seed: int = 0, max_claim_chars: int = DEFAULT_MAX_CLAIM_CHARS,
            headline: bool = True) -> list[Claim]:
    """The document's claims: its headline (when ``headline`` and it is a line of the text), then its sentences
    (semicolon compounds split) with their atoms.

    Sentences of fewer than ``MIN_CLAIM_WORDS`` words (captions, bylines that
    survived cleaning) are left out, unless the document has nothing else:
    a text that has words always gives claims.
    """
    pieces: list[tuple[int, int, Attribution, bool]] = []
    previous: Attribution | None = None
    script = dominant_script("\n".join(document.span_text(span) for span in document.body), sample=20_000)
    for span in document.body:
        block = document.span_text(span)
        language = paragraph_language(block, document.language, script, seed)
        for s_start, s_end in sentence_spans(block, language, max_claim_chars):
            sentence = block[s_start:s_end]
            attribution = attribute(sentence, previous)
            previous = attribution
            for c_start, c_end in _split_compound(sentence, span.start + s_start):
                text = document.text[c_start:c_end]
                pieces.append((c_start, c_end, attribution, claim_words(text) >= MIN_CLAIM_WORDS))
    kept = [p for p in pieces if p[3]] or [p for p in pieces if _has_words(document.text[p[0] : p[1]])]
    claims: list[Claim] = []
    if headline and document.headline is not None and not _repeated_in_lead(document, kept):
        # An outlet's headline is its most prominent claim ("Putin tells Macron Kyiv is sabotaging Minsk"): readers
        # compare headlines first, so it is judged against the other sources like any sentence.
        start, end = document.headline.start, document.headline.end
        claims.append(_claim(document, len(claims), start, end, attribute(document.text[start:end], None), seed, headline=True))
    for c_start, c_end, attribution, _ in kept:
        claims.append(_claim(document, len(claims), c_start, c_end, attribution, seed))
    return claims


HEADLINE_LEAD_SENTENCES = 3


def _repeated_in_lead(document: Document, pieces: list) -> bool:
    """Whether the lead restates the headline word for word (official readouts open with their title as a sentence)."""
    words = " ".join(re.findall(r"\w+", document.span_text(document.headline).casefold()))
    lead = (" ".join(re.findall(r"\w+", document.text[p[0] : p[1]].casefold())) for p in pieces[:HEADLINE_LEAD_SENTENCES])
    return bool(words) and any(f" {words} " in f" {sentence} " for sentence in lead)


def _claim(document: Document, index: int, start: int, end: int, attribution: Attribution, seed: int,
           headline: bool = False) -> Claim:
    text = document.text[start:end]
    language = sentence_language(text, document.language, seed)
    return Claim(
        id=f"{document.id}#{index + 1}",
        document=document.id,
        text=text,
        start=start,
        end=end,
        language=language,
        speaker=attribution.speaker,
        speaker_kind=attribution.kind,
        quote=attribution.quote,
        headline=headline,
        atoms=atomise(text, start, language),
    )
