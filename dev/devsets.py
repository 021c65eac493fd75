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
