"""Content words of a text, stemmed, so coverage can be counted across inflections.

"discussed the gas agreements" and "the agreement on gas was discussed" share
the stems {discuss, gas, agreement}. Stop words come from the maintained
``stop-words`` lists and stems from Snowball; texts in a language without a
stemmer fall back to the first six letters of each word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)
_STEMMERS = {"en": "english", "fr": "french", "ru": "russian", "de": "german", "es": "spanish", "it": "italian",
             "pt": "portuguese", "nl": "dutch", "pl": "polish", "tr": "turkish", "ar": "arabic"}
_ELISION = re.compile(r"^(?:l|d|j|qu|n|s|c|m|t|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
# Reporting verbs and framing words carry no content of their own: every outlet uses different ones.
_FRAMING = {
    "said", "say", "says", "told", "stated", "added", "noted", "according", "reported", "report", "reports", "also",
    "déclaré", "dit", "selon", "indiqué", "ajouté", "souligné", "précisé", "affirmé", "également",
    "заявил", "заявила", "сказал", "отметил", "сообщил", "подчеркнул", "также", "словам", "сообщает",
}


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """English, French and Russian stop words together: the scripts rarely collide and detection can err."""
    from stop_words import get_stop_words

    words = set(_FRAMING)
    for language in ("en", "fr", "ru"):
        words.update(w.lower() for w in get_stop_words(language))
    return frozenset(words)


@lru_cache(maxsize=16)
def _stemmer(language: str | None):
    import snowballstemmer

    name = _STEMMERS.get(language or "")
    return snowballstemmer.stemmer(name) if name else None


@dataclass(frozen=True)
class Word:
    text: str
    stem: str


@lru_cache(maxsize=65536)
def _stem(word: str, language: str | None) -> str:
    stemmer = _stemmer(language)
    return stemmer.stemWord(word) if stemmer else word[:6]


@lru_cache(maxsize=8192)
def content_words(text: str, language: str | None) -> tuple[Word, ...]:
    """Words that carry content, in order, with their stems; short words and stop words dropped.

    Cached: every claim is read once per other document of its event.
    """
    stops = stop_words()
    found = []
    for match in _WORD.finditer(text):
        word = _ELISION.sub("", match.group(0)).lower().replace("ё", "е")
        if len(word) < 3 or word in stops:
            continue
        found.append(Word(match.group(0), _stem(word, language)))
    return tuple(found)


def stems(text: str, language: str | None) -> set[str]:
    return {w.stem for w in content_words(text, language)}
