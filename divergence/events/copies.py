"""What a copy is, decided in one place for compare, analyze and the store.

A republished wire story keeps the text and changes the site chrome around
it, so copies are recognised on the cleaned claims: the same words (equal
content hash) or most word 5-grams shared (Jaccard of the shingle sets at
or above ``near_duplicate_threshold``). Among copies the text with the most
shingles is the original.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from divergence.datamodel import Claim

SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+", re.UNICODE)


def normalised_words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _WORD.findall(text)


def shingles(words: list[str], size: int = SHINGLE_WORDS) -> frozenset[int]:
    if len(words) < size:
        return frozenset({_stable_hash(" ".join(words))}) if words else frozenset()
    return frozenset(_stable_hash(" ".join(words[i : i + size])) for i in range(len(words) - size + 1))


def _stable_hash(text: str) -> int:
    # Python's hash() changes between processes; stored shingles must not.
    return zlib.crc32(text.encode())


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    """Overlap of two shingle sets: near 1 for a republished copy."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def content_hash(claims: Sequence[Claim]) -> str:
    """Hash of the cleaned claim text: the same article under other site chrome hashes the same."""
    return hashlib.blake2b(" ".join(normalised_words(" ".join(c.text for c in claims))).encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Fingerprint:
    content_hash: str
    shingles: frozenset[int]


def fingerprint(claims: Sequence[Claim]) -> Fingerprint:
    return Fingerprint(content_hash(claims), shingles(normalised_words(" ".join(c.text for c in claims))))


def is_copy(a: Fingerprint, b: Fingerprint, threshold: float) -> bool:
    return a.content_hash == b.content_hash or jaccard(a.shingles, b.shingles) >= threshold


def find_copies(ids: Sequence[str], fingerprints: Sequence[Fingerprint], threshold: float) -> dict[str, str]:
    """Copy id → the id of the text it republishes (the longest text of its group)."""
    parent = list(range(len(ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(ids)), 2):
        if is_copy(fingerprints[i], fingerprints[j], threshold):
            parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(ids)):
        groups.setdefault(root(i), []).append(i)
    copies: dict[str, str] = {}
    for members in groups.values():
        original = max(members, key=lambda m: (len(fingerprints[m].shingles), -m))
        copies.update({ids[m]: ids[original] for m in members if m != original})
    return copies
