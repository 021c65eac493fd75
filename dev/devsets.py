"""Development data for clustering: documents with their true events.

Fixtures ship with the project; the seeds and BASIL are read from the
shared evaluation folder when it is present (never copied into the project).
"""

from __future__ import annotations

import ast
import csv
import json
from dataclasses import dataclass
from pathlib import Path

from divergence.datamodel import Document
from divergence.ingest.load import document_from_record, load_documents

# The seeds' true events: 000 (Kremlin readout, 16 November) and 003 (analysis
# of the 15 November call) report one call; 001 (June), 002 (undated, after
# talks with Biden) and 004 (28 January) are three other calls.
SEED_EVENTS = {"000": "call-2021-11-15", "003": "call-2021-11-15", "001": "call-june", "002": "call-biden-talks", "004": "call-january-28"}


@dataclass
class LabelledSet:
    name: str
    documents: list[Document]
    events: dict[str, str]
    """Document id → true event."""


def fixtures(root: Path) -> LabelledSet:
    gold = json.loads((root / "gold" / "events.json").read_text(encoding="utf-8"))
    documents, problems = load_documents([root / "events"])
    if problems:
        raise ValueError(f"fixture problems: {problems}")
    events = {doc: event for event, docs in gold["events"].items() for doc in docs}
    return LabelledSet("fixtures", documents, events)


def seeds(folder: Path) -> LabelledSet | None:
    if not folder.is_dir():
        return None
    documents, _ = load_documents([folder])
    events = {d.id: SEED_EVENTS[d.id[:3]] for d in documents if d.id[:3] in SEED_EVENTS}
    return LabelledSet("seeds", [d for d in documents if d.id in events], events)


def basil(folder: Path) -> LabelledSet | None:
    """BASIL triplets: title and body as text, the article's date as its publication date."""
    files = sorted((folder / "articles").glob("*/*.json")) if folder.is_dir() else []
    if not files:
        return None
    documents, events = [], {}
    for path in files:
        record = json.loads(path.read_text(encoding="utf-8"))
        paragraphs = record["body-paragraphs"]
        if isinstance(paragraphs, str):
            paragraphs = ast.literal_eval(paragraphs)
        body = "\n".join(" ".join(sentences) for sentences in paragraphs)
        doc_id = f"{record['triplet-uuid'][:8]}-{record['source']}"
        documents.append(
            document_from_record(
                {"id": doc_id, "text": f"{record['title']}\n\n{body}", "title": record["title"], "published": record["date"]},
                doc_id,
                str(path),
            )
        )
        events[doc_id] = record["triplet-uuid"]
    return LabelledSet("basil", documents, events)


@dataclass
class RatedPair:
    pair_id: str
    text1: str
    text2: str
    overall: float
    """Human rating, 1 = very similar (same event) … 4 = very dissimilar."""
    languages: str = ""
    """'en-en', 'de-en', …"""
    translated: bool = False
    """A machine-translated copy of an original pair (pair id with a language suffix)."""


def semeval_pairs(folder: Path, limit: int) -> list[RatedPair]:
    """Original (not machine-translated) SemEval-2022 Task 8 pairs, in file order."""
    path = folder / "training_set.csv"
    if not path.is_file():
        return []
    pairs = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            first, second = row["pair_id"].split("_", 1)
            if not (first.isdigit() and second.isdigit()):  # augmented rows carry a language suffix
                continue
            pairs.append(RatedPair(row["pair_id"], row["text1"], row["text2"], float(row["Overall"])))
            if len(pairs) >= limit:
                break
    return pairs


def _paragraphs(value) -> list[str]:
    """AllSides bodies are lists of paragraphs, sometimes stored as the text of a Python list."""
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return [value]
    return [str(p) for p in value or [] if str(p).strip()]


def allsides(folder: Path) -> LabelledSet | None:
    """AllSides stories: the left, centre and right articles of one story report one event, dated by the story."""
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not files:
        return None
    documents, events = [], {}
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            story = json.loads(line)
            for stance, article in sorted(story.get("news", {}).items()):
                body = "\n".join(_paragraphs(article.get("newBody")))
                if not body:
                    continue
                title = article.get("newsTitle") or ""
                doc_id = f"allsides-{story['id']}-{stance}"
                documents.append(document_from_record(
                    {"id": doc_id, "text": f"{title}\n\n{body}" if title else body, "title": title or None,
                     "published": story["date"][:10]},
                    doc_id, str(path)))
                events[doc_id] = f"allsides-{story['id']}"
    return LabelledSet("allsides", documents, events)


def semeval_pairs_by_language(folder: Path, per_language: int) -> list[RatedPair]:
    """SemEval-2022 Task 8 pairs in every language pair of the file, at most ``per_language`` of each, in file order.

    Rows whose pair id carries a language suffix are machine-translated copies
    (they bring zh, it, ru and some cross-lingual pairs); they are kept and flagged.
    """
    path = folder / "training_set.csv"
    if not path.is_file():
        return []
    pairs, seen, taken = [], set(), {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["pair_id"] in seen or not row["text1"].strip() or not row["text2"].strip():
                continue
            seen.add(row["pair_id"])
            first, second = row["pair_id"].split("_", 1)
            languages = f"{row['lang1']}-{row['lang2']}"
            if taken.get(languages, 0) >= per_language:
                continue
            taken[languages] = taken.get(languages, 0) + 1
            pairs.append(RatedPair(row["pair_id"], row["text1"], row["text2"], float(row["Overall"]), languages,
                                   not (first.isdigit() and second.isdigit())))
    return pairs
