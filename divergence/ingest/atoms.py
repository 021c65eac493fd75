"""Split a claim that states several facts into atoms, each a span of the document.

Only splits that are safe on surface cues alone, in English, French and
Russian (other languages keep whole sentences):

- coordinated clauses, each with a finite verb ("Macron raised Mali, and Biden
  spoke about Niger"; "…, et …"; "…, а …"); a conjunct without a subject of its
  own ("… and also raised Mali") borrows, as context, the subject of the verb it
  continues: the main clause's after a comma, the nearest clause's after a bare
  "and" (with the reporting frame when that clause is "X said that …");
- reported speech with several complements ("X said that A and that B"; "X a
  déclaré que A et que B"; "X заявил, что A и что B"): the frame "X said that"
  is the context of every complement;
- a list of topics after a topic verb ("discussed Ukraine, Iran and Mali";
  "ont évoqué l'Ukraine, l'Iran et le Mali"; "обсудили Украину, Иран и Мали"):
  the words up to the list are the context of every item.

An atom's own words are one span; the shared words are ``context`` spans, so a
judge can tell which words each atom adds (see ``divergence.datamodel.Atom``).
A claim that is one fact gets no atoms.

These are surface rules, not a parser: on 25 randomly drawn English news
sentences that they split, every atom was right in 20; the misses borrow the
wrong subject when the nearest clause is itself subordinate ("… whether Obama
was born there and has sent investigators").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from divergence.datamodel import Atom, Span

ATOM_LANGUAGES = {"en", "fr", "ru"}
MIN_CLAUSE_WORDS = 3
MAX_LIST_ITEM_WORDS = 8
# A conjunct is a clause when its verb comes within this many words, before any comma ("and Mali, the Kremlin said" is not one).
CLAUSE_VERB_WITHIN_WORDS = 6

# A finite verb, by form: enough to tell a clause ("and Biden said …") from a noun phrase ("and Biden").
# Case-sensitive, so that names ("United", "Мали") are not taken for verbs.
_FINITE_VERB = {
    "en": re.compile(
        r"(?<![\w-])(?:[a-z]\w*ed|is|are|was|were|has|have|had|will|would|can|could|may|might|must|shall|should|does|did|"
        r"said|says|spoke|met|told|made|took|gave|held|sent|went|saw|paid|won|lost|began|became|thought|brought|"
        r"sought|found|kept|led|got|came|ran|wrote|agrees|plans|wants|calls|urges|holds|remains)(?![\w-])"
    ),
    "fr": re.compile(
        r"(?<![\w'’])(?:a|ont|est|sont|était|étaient|avait|avaient|sera|seront|serait|seraient|va|vont|doit|doivent|"
        r"peut|peuvent|fait|font|dit|veut|veulent|annonce|souhaite|estime|affirme|déclare|indique|précise|appelle|"
        r"rappelle|condamne|salue|demande|reste|restent|entend|entendent)(?![\w'’])"
    ),
    "ru": re.compile(
        r"(?<!\w)[а-яё]\w*(?:ли|ла|ло|лся|лась|лись|лось|ется|ются|ится|ятся)(?!\w)|(?<!\w)[а-яё]\w+л(?!\w)|"
        r"(?<!\w)(?:будет|будут|может|могут|должен|должна|должны|говорит|считает|считают|заявляет|отмечает|"
        r"является|являются|хочет|хотят|намерен[аы]?|готов[аы]?)(?!\w)"
    ),
}
_ALSO = r"(?:also\s+|aussi\s+|également\s+|также\s+|тоже\s+)?(?!that\b|qu[e'’]|что\b)"
_COORDINATION = {
    "en": re.compile(rf",?\s+(?:and|but|while|whereas)\s+{_ALSO}|;\s+", re.IGNORECASE),
    "fr": re.compile(rf",?\s+(?:et|mais|tandis\s+que|alors\s+que)\s+{_ALSO}|;\s+", re.IGNORECASE),
    "ru": re.compile(rf",?\s+(?:а|но|и|однако)\s+{_ALSO}|;\s+", re.IGNORECASE),
}
# A comma, a semicolon or "also" marks coordination of clauses; a bare "and" as often joins two names.
_MARKED_COORDINATION = re.compile(r"[,;]|also|aussi|également|также", re.IGNORECASE)
# A list ends where an elaboration of its last item begins ("…, including A, B and C").
_LIST_ELABORATION = re.compile(
    r"^(?:including|such\s+as|notably|in\s+particular|among\s+other|especially|y\s+compris|notamment|dont|parmi|"
    r"en\s+particulier|surtout|в\s+том\s+числе|включая|в\s+частности|среди|особенно)\b",
    re.IGNORECASE,
)
_NON_FINITE_START = {
    "en": re.compile(r"\w+ing\b|\w+ed\s+by\b"),
    "fr": re.compile(r"en\s+\w+ant\b", re.IGNORECASE),
    "ru": re.compile(r"[а-яё]+(?:вшись|вши|ясь)(?!\w)"),
}
# Where a subject starts: the sentence, a dash or colon, a subordinating word (commas more often set off appositions).
_SUBJECT_BOUNDARY = {
    "en": re.compile(
        r"[;:(—–]|\b(?:that|which|who|whom|whose|after|before|when|while|because|if|whether|although|though|where|until|unless)\b",
        re.IGNORECASE,
    ),
    "fr": re.compile(r"[;:(—–]|(?<![\w'’])(?:que|qu['’]|qui|dont|où|quand|lorsque|lorsqu['’]|parce\s+que|si|après|avant)(?![\w'’])", re.IGNORECASE),
    "ru": re.compile(r"[;:(—–]|(?<!\w)(?:что|который|которая|которое|которые|когда|если|потому|где|после|пока)(?!\w)", re.IGNORECASE),
}
_LEADING_SUBORDINATE = {
    "en": re.compile(r"(?:after|before|when|while|if|although|though|because|as|since|once|unless|until)\b", re.IGNORECASE),
    "fr": re.compile(r"(?:après|avant|quand|lorsque|lorsqu['’]|si|bien\s+que|parce\s+que|alors\s+que|comme|depuis)(?![\w'’])", re.IGNORECASE),
    "ru": re.compile(r"(?:после|перед|когда|если|хотя|потому|пока|так\s+как)(?!\w)", re.IGNORECASE),
}
_RELATIVE = re.compile(r"who|which|whom|qui|lequel|laquelle|lesquels|который|которая|которое|которые", re.IGNORECASE)
# Auxiliaries, negation and adverbs between a subject and its verb belong to neither.
_VERB_GROUP_TAIL = {
    "en": re.compile(
        r"(?:\s+(?:have|has|had|will|would|can|could|may|might|must|shall|should|do|does|did|is|are|was|were|be|been|"
        r"not|never|also|then|later|still|already|\w+ly))+\s*$",
        re.IGNORECASE,
    ),
    "fr": re.compile(r"(?:\s+(?:ne|n['’]|se|s['’]|y|en|également|aussi|pas|alors|ensuite))+\s*$", re.IGNORECASE),
    "ru": re.compile(r"(?:\s+(?:не|также|тоже|уже|затем|потом|ещё|еще))+\s*$", re.IGNORECASE),
}
_COMPLEMENTISER = {
    "en": re.compile(r"\bthat\s+", re.IGNORECASE),
    "fr": re.compile(r"\bqu(?:e\s+|['’])", re.IGNORECASE),
    "ru": re.compile(r",?\s*(?<!\w)что\s+", re.IGNORECASE),
}
_MORE_COMPLEMENTS = {
    "en": re.compile(r",?\s+(?:and|but)\s+(?:also\s+)?that\s+", re.IGNORECASE),
    "fr": re.compile(r",?\s+(?:et|mais)\s+(?:aussi\s+)?qu(?:e\s+|['’])", re.IGNORECASE),
    "ru": re.compile(r",?\s+(?:и|а|но)\s+(?:также\s+)?что\s+", re.IGNORECASE),
}
_TOPIC_VERB = {
    "en": re.compile(
        r"\b(?:discussed|discuss|discussing|raised|addressed|reviewed|covered|touched\s+on|talked\s+about|spoke\s+about|"
        r"focused\s+on|touched\s+upon|exchanged\s+views\s+on)\s+",
        re.IGNORECASE,
    ),
    "fr": re.compile(r"\b(?:discuté|évoqué|abordé|examiné|parlé|passé\s+en\s+revue|échangé\s+sur|évoquer|aborder|discuter)\s+", re.IGNORECASE),
    "ru": re.compile(r"(?<!\w)(?:обсудили|обсудил[аи]?|обсуждали|затронули|затронул[аи]?|коснулись|рассмотрели|обменялись\s+мнениями\s+по)\s+", re.IGNORECASE),
}
_LIST_SEPARATOR = {
    "en": re.compile(r",\s+(?:and\s+|as\s+well\s+as\s+)?|\s+(?:and|as\s+well\s+as)\s+", re.IGNORECASE),
    "fr": re.compile(r",\s+(?:et\s+|ainsi\s+que\s+)?|\s+(?:et|ainsi\s+que)\s+", re.IGNORECASE),
    "ru": re.compile(r",\s+(?:и\s+|а\s+также\s+)?|\s+(?:и|а\s+также)\s+", re.IGNORECASE),
}


@dataclass
class _Piece:
    start: int
    end: int
    context: list[tuple[int, int]]


def _words(text: str) -> int:
    return len(re.findall(r"[^\W\d_]+", text))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Without surrounding spaces, leading separators and trailing punctuation (closing quotes stay)."""
    piece = text[start:end]
    lead = re.match(r"^[\s,;:]*", piece).end()
    tail = re.search(r"[\s.!?,;:…]*$", piece[lead:])
    return start + lead, start + lead + tail.start()


_LEADING_ADVERB = {
    "en": re.compile(r"\s*(?:(?:then|later|also|subsequently|afterwards|finally|\w+ly)\s+)?"),
    "fr": re.compile(r"\s*(?:(?:puis|ensuite|enfin|aussi|également)\s+)?", re.IGNORECASE),
    "ru": re.compile(r"\s*(?:(?:затем|потом|также|наконец)\s+)?", re.IGNORECASE),
}


# Irregular pasts that are not in _FINITE_VERB because they are as often nouns or adjectives ("the progressive
# left", "grew up" inside a subject); right after "and" that closes a list of topics they are a second predicate.
_IRREGULAR_PAST = {
    "en": re.compile(
        r"(?:left|flew|fled|drove|stood|fell|rose|knew|grew|drew|threw|chose|broke|sold|bought|caught|taught|fought|"
        r"built|spent|dealt|struck|withdrew|understood|heard|felt|meant|sat|forgot|overcame|upheld|swore)(?![\w-])"
    ),
}


def _starts_predicate(item: str, language: str) -> bool:
    """'left Paris', 'then left Paris', 'ont quitté Paris': the item after a list's last "and" is a verb phrase."""
    item = item[_LEADING_ADVERB[language].match(item).end():]
    irregular = _IRREGULAR_PAST.get(language)
    return bool(_FINITE_VERB[language].match(item) or (irregular and irregular.match(item)))


_SUBJECT_THEN_RELATIVE = re.compile(
    r"^\s*([^,;:]+?),\s*(?:who|which|qui|lequel|laquelle|который|которая|которое|которые)\b[^,;:]*,\s*$", re.IGNORECASE
)


def _subject_around_relative(text: str, start: int, verb_start: int) -> tuple[int, int] | None:
    """'Keller, who met Brandt, discussed …' → 'Keller': the subject before a relative clause set off by commas."""
    match = _SUBJECT_THEN_RELATIVE.match(text, start, verb_start)
    return (match.start(1), match.end(1)) if match and _words(match.group(1)) else None


def _is_clause(text: str, language: str) -> bool:
    if _NON_FINITE_START[language].match(text):
        return False  # "…, but making sure …", "…, and motivated by …": a participle phrase, not a clause
    head = " ".join(text.split(",")[0].split()[:CLAUSE_VERB_WITHIN_WORDS])
    return bool(_FINITE_VERB[language].search(head))


def _subject(text: str, start: int, stop: int, language: str) -> tuple[int, int] | None:
    """The subject of the verb a verb-first conjunct is coordinated with, in ``text[start:stop]``.

    That verb is taken to be the first finite verb of the last clause (after the
    last boundary that a finite verb follows: ", after the man approached … and
    asked"); its subject is the words between the boundary and the verb. None
    when there is none to borrow ("a bill that reaffirmed …": the pronoun is the subject).
    """
    verbs = list(_FINITE_VERB[language].finditer(text, start, stop))
    if not verbs:
        return None
    boundaries = [b for b in _SUBJECT_BOUNDARY[language].finditer(text, start, verbs[-1].start())]
    last = boundaries[-1].end() if boundaries else start
    verb_start = next(v.start() for v in verbs if v.start() >= last)
    boundaries = [b for b in boundaries if b.end() <= verb_start]
    word_begin = boundaries[-1].end() if boundaries else start
    words = _VERB_GROUP_TAIL[language].sub("", text[word_begin:verb_start])
    if not _words(words):
        return None
    if boundaries and _RELATIVE.fullmatch(boundaries[-1].group(0)):
        # "the monitors who checked the lists are independent and are paid": the verb's subject precedes "who"
        relative = boundaries.pop()
        word_begin = boundaries[-1].end() if boundaries else start
        words = text[word_begin : relative.start()]
        if not _words(words):
            return None
    # "X warned that the truce was fragile and was unlikely to hold": the reporting frame comes along.
    framed = bool(boundaries) and _COMPLEMENTISER[language].match(boundaries[-1].group(0) + " ") is not None
    return _trim(text, start if framed else word_begin, word_begin + len(words))


def _main_clause_end(text: str, language: str) -> int:
    """Where the main clause's subject and first verb are over: before the first subordinating word, skipping a leading subordinate clause."""
    begin = 0
    if _LEADING_SUBORDINATE[language].match(text) and "," in text:
        begin = text.index(",") + 1
    boundary = _SUBJECT_BOUNDARY[language].search(text, begin)
    verb = _FINITE_VERB[language].search(text, begin)
    if verb is None:
        return len(text)
    return boundary.start() if boundary and boundary.start() > verb.end() else verb.end()


def _clauses(text: str, language: str) -> list[_Piece]:
    """Coordinated clauses, each with a finite verb; a conjunct that starts with its verb borrows the subject of the verb before it."""
    verb = _FINITE_VERB[language]
    matches = list(_COORDINATION[language].finditer(text))
    starts: list[tuple[int, list[tuple[int, int]]]] = [(0, [])]
    ends: list[int] = []
    for index, match in enumerate(matches):
        cursor = starts[-1][0]
        right_end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        left, right = text[cursor : match.start()], text[match.end() : right_end]
        if min(_words(left), _words(right)) < MIN_CLAUSE_WORDS or not verb.search(left) or not _is_clause(right, language):
            continue
        if not _MARKED_COORDINATION.search(match.group(0)) and not verb.match(right):
            continue  # "France and Germany aimed at …": a bare "and" joins clauses only before a verb
        context: list[tuple[int, int]] = []
        if verb.match(right):
            if len(right.split(",")[0].split()) < MIN_CLAUSE_WORDS:
                continue  # "a prominent but uncompensated, advisory post": an adjective, not a verb
            # After a comma the conjunct continues the sentence's main clause ("He did not rule out that the photo
            # was his, but said …"); a bare "and" continues the nearest one ("after the man approached him and asked").
            main = "," in match.group(0) or ";" in match.group(0)
            subject = _subject(text, 0 if main else cursor, _main_clause_end(text, language) if main else match.start(), language)
            if subject is None:
                continue
            context = [*starts[-1][1], subject] if subject[0] < cursor else [subject]
        ends.append(match.start())
        starts.append((match.end(), context))
    ends.append(len(text))
    return [_Piece(start, end, context) for (start, context), end in zip(starts, ends, strict=True)]


def _complements(text: str, clause: _Piece, language: str) -> list[_Piece]:
    """'X said that A and that B' → A and B, each with the frame 'X said that' as context."""
    first = _COMPLEMENTISER[language].search(text, clause.start, clause.end)
    if first is None or not _FINITE_VERB[language].search(text, clause.start, first.start()):
        return [clause]
    more = list(_MORE_COMPLEMENTS[language].finditer(text, first.end(), clause.end))
    if not more:
        return [clause]
    context = [*clause.context, (clause.start, first.end())]
    bounds = [first.end(), *(m.end() for m in more)]
    stops = [*(m.start() for m in more), clause.end]
    pieces = [_Piece(start, stop, context) for start, stop in zip(bounds, stops, strict=True)]
    if any(_words(text[p.start : p.end]) < MIN_CLAUSE_WORDS for p in pieces):
        return [clause]
    return pieces


def _topics(text: str, piece: _Piece, language: str) -> list[_Piece]:
    """'discussed X, Y and Z' → X, Y and Z, each with 'discussed' and what precedes it as context."""
    verb = _TOPIC_VERB[language].search(text, piece.start, piece.end)
    if verb is None:
        return [piece]
    items = []
    cursor, joined_by = verb.end(), None
    predicate = None
    for separator in [*_LIST_SEPARATOR[language].finditer(text, verb.end(), piece.end), None]:
        stop = separator.start() if separator else piece.end
        item = text[cursor:stop]
        bare_and = joined_by is not None and "," not in joined_by.group(0)
        if _FINITE_VERB[language].search(item) or _LIST_ELABORATION.match(item) or (bare_and and _starts_predicate(item, language)):
            # "…, the Kremlin said": the list is over
            if bare_and and _starts_predicate(item, language):
                # "обсудили Мали, Ливию и Нигер и договорились встретиться": after a bare "and" a verb starts a second
                # predicate of the same subject, too short for a clause of its own: a fact, not the end of the list.
                subject = _subject(text, piece.start, joined_by.start(), language)
                if subject is None or subject[1] > verb.start():
                    subject = _subject_around_relative(text, piece.start, verb.start())
                if subject is None or subject[1] > verb.start():
                    return [piece]  # no subject to lend it: judged whole rather than the fact dropped
                predicate = _Piece(cursor, piece.end, [*piece.context, subject])
            break
        items.append((cursor, stop))
        if separator is None:
            break
        cursor, joined_by = separator.end(), separator
    if len(items) < 2 or any(not 1 <= _words(text[s:e]) <= MAX_LIST_ITEM_WORDS for s, e in items):
        return [piece]
    context = [*piece.context, (piece.start, verb.end())]
    return [_Piece(start, stop, context) for start, stop in items] + ([predicate] if predicate else [])


def atomise(text: str, offset: int, language: str | None) -> list[Atom]:
    """The atoms of the claim ``text``, which starts at ``offset`` in its document; [] when it states one fact."""
    if language not in ATOM_LANGUAGES:
        return []
    pieces = [
        topic
        for clause in _clauses(text, language)
        for complement in _complements(text, clause, language)
        for topic in _topics(text, complement, language)
    ]
    if len(pieces) < 2:
        return []
    atoms: dict[str, Atom] = {}
    for piece in pieces:
        start, end = _trim(text, piece.start, piece.end)
        context = [_trim(text, s, e) for s, e in piece.context]
        context = [(s, e) for s, e in context if e > s]
        statement = " ".join([*(text[s:e] for s, e in context), text[start:end]])
        # A list that names one item twice ("Mali, Mali and Mali") states one fact, not three.
        atoms.setdefault(statement.casefold(), Atom(
            start=offset + start,
            end=offset + end,
            text=text[start:end],
            context=[Span(start=offset + s, end=offset + e) for s, e in context],
            statement=statement,
        ))
    return list(atoms.values()) if len(atoms) >= 2 else []
