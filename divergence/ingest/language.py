"""Language identification, deterministic (langdetect is random unless seeded)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MIN_CHARS_FOR_SENTENCE = 40
# A sentence's language shows in its first few hundred characters; langdetect's cost grows with its input.
MAX_CHARS_FOR_SENTENCE = 300
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


@lru_cache(maxsize=4)
def _factory(seed: int):
    """A private langdetect factory, so our seed never leaks into other users of it."""
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = seed
    return factory


def detect_language(text: str, seed: int = 0) -> str | None:
    """ISO 639-1 code of ``text``, or None when there is nothing to tell from."""
    if not re.search(r"[^\W\d_]{2,}", text):
        return None
    from langdetect.lang_detect_exception import LangDetectException

    detector = _factory(seed).create()
    detector.append(text[:5000])
    try:
        return detector.detect().split("-")[0]
    except LangDetectException:
        return None


def sentence_language(text: str, document_language: str | None, seed: int = 0) -> str | None:
    """Short sentences are misread by langdetect; trust the document unless the script says otherwise."""
    if len(text) < MIN_CHARS_FOR_SENTENCE:
        if document_language != "ru" and len(_CYRILLIC.findall(text)) > len(text) / 3:
            return "ru"
        return document_language
    return _sentence_language(text[:MAX_CHARS_FOR_SENTENCE], seed) or document_language


@lru_cache(maxsize=4096)
def _sentence_language(text: str, seed: int) -> str | None:
    """Cached: repeated sentences (boilerplate, a run cut into equal pieces) are identified once."""
    return detect_language(text, seed)


def dominant_script(text: str, sample: int = 2000) -> str | None:
    """The Unicode script most letters of ``text`` are written in ('LATIN', 'CYRILLIC', 'CJK', 'DEVANAGARI' …)."""
    counts: dict[str, int] = {}
    for char in text[:sample]:
        if char.isalpha():
            script = unicodedata.name(char, "UNKNOWN").split(" ")[0]
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else None


def paragraph_language(text: str, document_language: str | None, document_script: str | None, seed: int = 0) -> str | None:
    """A paragraph in the document's script is in the document's language; one in another script is identified on its own."""
    script = dominant_script(text)
    if script is None or script == document_script:
        return document_language
    return _sentence_language(text[:MAX_CHARS_FOR_SENTENCE], seed) or document_language
