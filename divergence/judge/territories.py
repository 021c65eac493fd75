"""Countries named across languages: "Mali", "Libye", "Ливия" and "利比亚" name places the other document can be searched for.

Across languages the judge cannot read a capitalised English word as a name the other document must spell alike:
English capitalises nationalities, parties and the words of institutions ("Republican", "House", "Senate"), which the
other language translates. A country's name is different: the Unicode CLDR (through babel) spells every country in
every language, so "the two presidents discussed Mali" can be checked against a French, Russian or Chinese report.
"""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from divergence.judge.checks import name_key, same_name


INFLECTED = {"ru", "uk", "be", "bg", "pl", "cs", "sk", "sl", "hr", "sr", "lt", "lv", "fi", "et", "hu"}
"""Languages that decline names ("в Ливию", "z Polski"): their country names are matched by stem, others by spelling
("Indiana" is not "India", "Roman" not "Romania")."""


@lru_cache(maxsize=64)
def country_names(language: str | None) -> dict[str, str]:
    """Country code → the country's name in ``language`` (CLDR); {} for a language CLDR lacks.

    Regions ("Africa", code 002) are left out: a continent is a topic more often than a fact's argument.
    """
    if not language:
        return {}
    try:
        territories = Locale.parse(language.replace("-", "_")).territories
    except (UnknownLocaleError, ValueError, TypeError):
        return {}
    return {code: name for code, name in territories.items() if code.isalpha()}


@lru_cache(maxsize=8192)
def country_of(name: str, language: str | None) -> str | None:
    """The code of the country ``name`` (one word as written, possibly inflected: "Ливию") names in ``language``."""
    countries = {code: spelled for code, spelled in country_names(language).items() if len(spelled.split()) == 1}
    key = name_key(name)
    found = [code for code, spelled in countries.items() if name_key(spelled) == key]
    if not found and language in INFLECTED:
        # "Ливию" is "Ливия": an inflected ending, the stem's first letters kept ("Union" is not "Réunion").
        found = [code for code, spelled in countries.items() if name_key(spelled)[:4] == key[:4] and same_name(name, spelled)]
    return found[0] if len(found) == 1 else None


def spellings(code: str, *languages: str | None) -> list[str]:
    """The country's names in each of ``languages`` and in English, without repeats."""
    names = (country_names(language).get(code) for language in (*languages, "en"))
    return list(dict.fromkeys(n for n in names if n))


def _cased(word: str) -> bool:
    return word[:1].isupper() or word[:1].islower()


def mentioned(code: str, text: str, *languages: str | None) -> bool:
    """Whether lower-cased ``text`` names the country ``code`` in one of ``languages`` (or English), inflected or as an
    adjective: a word starting like its name ("russe", "российский", "libyen" for Russie, Россия, Libye), or the name
    itself in a script without case ("俄罗斯")."""
    for name in spellings(code, *languages):
        if not _cased(name):
            if name in text:
                return True
            continue
        stem = name.lower()[: max(4, len(name) - 3)]
        if re.search(rf"(?<!\w){re.escape(stem)}", text):
            return True
    return False
