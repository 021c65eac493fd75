"""Agreement of the judge with the claim-level gold on real news (fixtures/gold/real), story by story.

Each story's articles go through ``divergence.compare`` as they are. A gold
claim (a labelled span) gets the status of the tool's claims inside it,
combined by divergence.judge.aggregate (several sentences of one span: all
supported → supported, none covered → absent, a mix → partial). A span no
claim of the tool reaches (its line was cleaned away) counts as a miss and is
reported apart. ``judge_models`` gives, per story, the judge to use: one
fitted without that story's labels (leave one story out).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dev.real_news_gold import GOLD_DIR, allsides_documents, basil_documents, load_gold
from divergence.config import Settings
from divergence.datamodel import ClaimReport, Status
from divergence.judge.aggregate import combine


@dataclass
class Story:
    dataset: str
    story: str
    texts: dict[str, str]
    """Document id → rebuilt text."""
    claims: list[dict]
    """Gold claims: document, start, end, labels (other document → status)."""


def real_news_stories(data: Path, gold_dir: Path = GOLD_DIR) -> list[Story]:
    """Every labelled story whose texts can be rebuilt from the evaluation folder."""
    stories = []
    for name, reader in (("basil", basil_documents), ("allsides", allsides_documents)):
        path = gold_dir / f"{name}.json"
        if not path.is_file():
            continue
        texts = reader(data)
        for story in load_gold(path)["stories"]:
            if all(d in texts for d in story["documents"]):
                stories.append(Story(name, f"{name}:{story['story']}", {d: texts[d] for d in story["documents"]}, story["claims"]))
    return stories


def inside(claim: ClaimReport | object, document: str, start: int, end: int) -> bool:
    """Whether the tool's claim lies (mostly) inside the span: overlap of at least half the claim."""
    overlap = min(end, claim.end) - max(start, claim.start)
    return claim.document == document and overlap > 0 and overlap * 2 >= claim.end - claim.start


@dataclass
class GoldAgreement:
    total: int = 0
    agreed: int = 0
    unreached: int = 0
    confusion: Counter = field(default_factory=Counter)
    per_dataset: Counter = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.agreed / self.total if self.total else 0.0

    def add(self, dataset: str, want: str, got: str) -> None:
        self.total += 1
        self.per_dataset[(dataset, "total")] += 1
        self.confusion[(want, got)] += 1
        if want == got:
            self.agreed += 1
            self.per_dataset[(dataset, "agreed")] += 1

    def macro_recall(self) -> float:
        """Mean over gold statuses of the share judged right (contradicted, with 4 labels, is left out)."""
        recalls = []
        for want in ("supported", "partial", "absent"):
            row = sum(v for (w, _), v in self.confusion.items() if w == want)
            if row:
                recalls.append(self.confusion[(want, want)] / row)
        return sum(recalls) / len(recalls) if recalls else 0.0


def judged_spans(story: Story, settings: Settings) -> Iterator[tuple[dict, str, str]]:
    """(gold claim, other document, status the tool gives the span or 'unreached')."""
    from divergence.pipeline import compare

    report = compare(list(story.texts.items()), settings)
    claims = report.events[0].claims
    for gold in story.claims:
        parts = [c for c in claims if inside(c, gold["document"], gold["start"], gold["end"])]
        for other in gold["labels"]:
            statuses = [c.statuses[other].status for c in parts if other in c.statuses]
            yield gold, other, combine(statuses).value if statuses else "unreached"


def real_news_agreement(stories: list[Story], settings: Settings, judge_models: dict[str, Path] | None = None,
                        result: GoldAgreement | None = None) -> GoldAgreement:
    result = result or GoldAgreement()
    for story in stories:
        story_settings = settings
        if judge_models is not None and story.story in judge_models:
            story_settings = settings.model_copy(update={"judge_model": judge_models[story.story]})
        for gold, other, got in judged_spans(story, story_settings):
            result.unreached += got == "unreached"
            result.add(story.dataset, gold["labels"][other], got)
    return result


def span_labels(story: Story, document: str, claims: list) -> list[Status | None]:
    """The gold status of each of the tool's claims of ``document`` against every other document, where the gold says.

    A claim inside a span takes the span's status when the span is one claim of the tool, or when the status is
    about every part of it (supported, absent); a part of a partial span is not labelled.
    """
    out = []
    for claim in claims:
        gold = next((g for g in story.claims if inside(claim, document, g["start"], g["end"])), None)
        if gold is None:
            out.append(None)
            continue
        parts = sum(inside(c, document, gold["start"], gold["end"]) for c in claims)
        out.append({other: Status(status) for other, status in gold["labels"].items()
                    if parts == 1 or status in ("supported", "absent")})
    return out
