"""Cut a cleaned document into sentences, then into atomic claims with offsets."""

from __future__ import annotations

import re
from functools import lru_cache

from divergence.datamodel import Claim, Document
from divergence.ingest.attribution import Attribution, attribute
from divergence.ingest.language import sentence_language

PYSBD_LANGUAGES = {"en", "fr", "ru", "de", "es", "it", "nl", "pl", "ar", "zh", "ja", "el", "fa", "da", "hi", "hy", "bg", "my", "mr", "ur", "am", "kk", "sk"}
MIN_CLAIM_WORDS = 4
# A semicolon joins two statements; splitting there is safe when both halves are long enough to stand alone.
_SAFE_SPLIT = re.compile(r";\s+")


@lru_cache(maxsize=32)
def _segmenter(language: str):
    import pysbd

    return pysbd.Segmenter(language=language if language in PYSBD_LANGUAGES else "en", clean=False)


def sentence_spans(text: str, language: str | None) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets within ``text``, whitespace trimmed."""
    spans = []
    cursor = 0
    for sentence in _segmenter(language or "en").segment(text):
        piece = sentence.strip()
        if not piece:
            continue
        start = text.find(piece, cursor)
        if start < 0:  # pysbd changed the text; fall back to the cursor position
            start = cursor
        end = start + len(piece)
        spans.append((start, end))
        cursor = end
    return spans


def _split_compound(text: str, start: int) -> list[tuple[int, int]]:
    parts = []
    cursor = 0
    for match in _SAFE_SPLIT.finditer(text):
        left = text[cursor : match.start()]
        right = text[match.end() :]
        if len(left.split()) >= MIN_CLAIM_WORDS + 2 and len(right.split()) >= MIN_CLAIM_WORDS + 2:
            parts.append((start + cursor, start + match.start() + 1))
            cursor = match.end()
    parts.append((start + cursor, start + len(text)))
    return parts


def segment(document: Document, seed: int = 0) -> list[Claim]:
    claims: list[Claim] = []
    previous: Attribution | None = None
    for span in document.body:
        block = document.span_text(span)
        for s_start, s_end in sentence_spans(block, document.language):
            sentence = block[s_start:s_end]
            attribution = attribute(sentence, previous)
            previous = attribution
            for c_start, c_end in _split_compound(sentence, span.start + s_start):
                text = document.text[c_start:c_end]
                if len(re.findall(r"[^\W\d_]+", text)) < MIN_CLAIM_WORDS:
                    continue
                claims.append(
                    Claim(
                        id=f"{document.id}#{len(claims) + 1}",
                        document=document.id,
                        text=text,
                        start=c_start,
                        end=c_end,
                        language=sentence_language(text, document.language, seed),
                        speaker=attribution.speaker,
                        speaker_kind=attribution.kind,
                        quote=attribution.quote,
                    )
                )
    return claims
