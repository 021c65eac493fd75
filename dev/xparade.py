"""X-PARADE dev (../shared/eval/x_parade): is each sentence of a paragraph new information against its counterpart?

Each item is a Wikipedia paragraph (the *text*) and the aligned paragraph in
another language (the *premise*), with annotators' token labels on the text.
A token is new when most annotators label it "new information" (inferable
information is not new). A claim of the text is *new* when at least two
thirds of its labelled tokens are new, *same* when at most one third are;
claims in between (part new, part not) are left out. The tool is right when
it calls a new claim ``absent`` and a same claim anything else. Items are
split in halves by page, so the judge can calibrate on one half and be
measured on the other.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from divergence.config import Settings
from divergence.datamodel import Status


@dataclass
class XParadeItem:
    pair_type: str
    id: str
    split: str
    premise: str
    text: str
    tokens: list[tuple[int, int, bool]]
    """(start, end, new) of every text token found in the text."""


def _split(page: str) -> str:
    return "train" if zlib.crc32(f"xparade:{page}".encode()) % 2 == 0 else "test"


def _token_spans(text: str, tokens: dict[str, str]) -> list[tuple[int, int, int]]:
    """(start, end, token index) of each token, found in order; the language tag token ("EN:") is not in the text."""
    found, position = [], 0
    for index in sorted(tokens, key=int):
        token = tokens[index]
        at = text.find(token, position)
        if at < 0 or (at - position > 40 and position > 0):
            continue
        found.append((at, at + len(token), int(index)))
        position = at + len(token)
    return found


def xparade_items(folder: Path) -> list[XParadeItem]:
    items = []
    for path in sorted(folder.glob("complete_data_*/*-dev.json")):
        for row in json.loads(path.read_text(encoding="utf-8")):
            annotations = row.get("annotations") or []
            if not annotations or not row.get("text") or not row.get("premise"):
                continue
            votes: dict[int, int] = defaultdict(int)
            for annotation in annotations:
                for index in annotation["spans"].get("new information", []):
                    votes[int(index)] += 1
            tokens = [(s, e, votes[i] * 2 > len(annotations)) for s, e, i in _token_spans(row["text"], row["tokens"])]
            key = f"{row['pair_type']}:{row['pageid']}"
            items.append(XParadeItem(row["pair_type"], key, _split(str(row["pageid"])), row["premise"], row["text"], tokens))
    return items


def new_share(item: XParadeItem, start: int, end: int) -> float | None:
    """Share of the span's tokens that are new information; None when no token lies inside."""
    inside = [new for s, e, new in item.tokens if s >= start and e <= end]
    return sum(inside) / len(inside) if inside else None


def claim_truth(item: XParadeItem, start: int, end: int) -> bool | None:
    """True = mostly new, False = mostly same, None = mixed or no labelled token."""
    share = new_share(item, start, end)
    if share is None:
        return None
    return True if share >= 2 / 3 else False if share <= 1 / 3 else None


def xparade_figures(items: list[XParadeItem], settings: Settings, figures: dict[str, float], limit: int | None = None) -> None:
    """Balanced accuracy of new ↔ absent per language pair, on the test half."""
    from dev.judge_figures import balanced_accuracy
    from divergence.errors import NotEnoughDocuments
    from divergence.pipeline import compare

    truth: dict[str, list[bool]] = defaultdict(list)
    predicted: dict[str, list[bool]] = defaultdict(list)
    taken: dict[str, int] = defaultdict(int)
    for item in items:
        if item.split != "test" or (limit is not None and taken[item.pair_type] >= limit):
            continue
        taken[item.pair_type] += 1
        try:
            report = compare([("premise", item.premise), ("text", item.text)], settings)
        except NotEnoughDocuments:
            continue
        for claim in report.events[0].claims:
            if claim.document != "text" or "premise" not in claim.statuses:
                continue
            new = claim_truth(item, claim.start, claim.end)
            if new is not None:
                truth[item.pair_type].append(new)
                predicted[item.pair_type].append(claim.statuses["premise"].status is Status.absent)
    accuracies = []
    for pair_type in sorted(truth):
        accuracy = balanced_accuracy(truth[pair_type], predicted[pair_type])
        accuracies.append(accuracy)
        figures[f"xparade_{pair_type.replace('-', '_')}_balanced_accuracy"] = round(accuracy, 4)
        print(f"xparade      {pair_type}  {taken[pair_type]:3d} paragraphs, {len(truth[pair_type]):4d} claims "
              f"({sum(truth[pair_type])} new): balanced accuracy new ↔ absent {accuracy:.3f}")
    if accuracies:
        mean = sum(accuracies) / len(accuracies)
        figures["xparade_balanced_accuracy"] = round(mean, 4)
        print(f"xparade      mean over {len(accuracies)} language pairs: {mean:.3f} (target 0.80)")
