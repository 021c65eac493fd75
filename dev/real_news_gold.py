"""Claim-level gold on real news (BASIL and AllSides): reader and validator.

The gold files (``fixtures/gold/real/*.json``) hold only document ids,
character offsets and labels; the article texts are licensed and are rebuilt
here from the shared evaluation folder (default ``../shared/eval``) by the
rules stated in each gold file's ``text_rule``.  Standard library only.

    python3 dev/real_news_gold.py --eval ../shared/eval
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import Counter
from pathlib import Path

STATUSES = ("supported", "partial", "absent", "contradicted")
ROOT = Path(__file__).resolve().parent.parent
GOLD_DIR = ROOT / "fixtures" / "gold" / "real"
ALLSIDES_FILE = Path("allsides") / "raw_crawled" / "headline_11_2021-10-19_crawled_all.jsonl"


def basil_documents(eval_dir) -> dict[str, str]:
    """{doc id: text} for every BASIL article: title, blank line, one line per paragraph."""
    docs = {}
    for path in sorted((Path(eval_dir) / "basil" / "articles").glob("*/*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        paragraphs = record["body-paragraphs"]
        if isinstance(paragraphs, str):
            paragraphs = ast.literal_eval(paragraphs)
        text = record["title"] + "\n\n" + "\n".join(" ".join(sentences) for sentences in paragraphs)
        docs[f"{record['triplet-uuid'][:8]}-{record['source']}"] = text
    return docs


def allsides_documents(eval_dir) -> dict[str, str]:
    """{doc id: text} for every AllSides story and stance: title, blank line, one line per paragraph."""
    docs = {}
    path = Path(eval_dir) / ALLSIDES_FILE
    if not path.is_file():
        return docs
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            story = json.loads(line)
            for stance, article in (story.get("news") or {}).items():
                if not article or not article.get("newBody"):
                    continue
                text = (article.get("newsTitle") or "") + "\n\n" + "\n".join(article["newBody"])
                docs[f"allsides-{story['id']}-{stance}"] = text
    return docs


def load_gold(path) -> dict:
    """The gold file as a dict (dataset, text_rule, scope, stories → documents, claims)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def validate(gold: dict, texts: dict[str, str]) -> list[str]:
    """Problems found in a gold file against the rebuilt texts (empty list = valid)."""
    problems = []
    seen = set()
    for story in gold["stories"]:
        doc_ids = list(story["documents"])
        for doc in doc_ids:
            if doc not in texts:
                problems.append(f"{story['story']}: document {doc} not found in the evaluation data")
        for claim in story["claims"]:
            where = f"{story['story']} {claim.get('id')}"
            doc, start, end = claim["document"], claim["start"], claim["end"]
            if claim["id"] != f"{doc}#{start}-{end}":
                problems.append(f"{where}: id does not match document and offsets")
            if claim["id"] in seen:
                problems.append(f"{where}: duplicate claim")
            seen.add(claim["id"])
            if doc not in doc_ids:
                problems.append(f"{where}: document not in the story")
                continue
            text = texts.get(doc)
            if text is None:
                continue
            if not (0 <= start < end <= len(text)):
                problems.append(f"{where}: offsets outside the text ({len(text)} characters)")
                continue
            span = text[start:end]
            if span.strip() != span or not span:
                problems.append(f"{where}: span does not start and end on non-space characters")
            if "\n" in span:
                problems.append(f"{where}: span crosses a paragraph break")
            if start > 0 and not text[start - 1].isspace():
                problems.append(f"{where}: span does not start at a sentence boundary")
            if end < len(text) and not text[end].isspace():
                problems.append(f"{where}: span does not end at a sentence boundary")
            labels = claim.get("labels", {})
            others = [d for d in doc_ids if d != doc]
            if sorted(labels) != sorted(others):
                problems.append(f"{where}: labels must cover exactly the other documents {others}")
            for other, status in labels.items():
                if status not in STATUSES:
                    problems.append(f"{where}: invalid status {status!r} for {other}")
        spans = sorted((c["document"], c["start"], c["end"]) for c in story["claims"])
        for (d1, s1, e1), (d2, s2, e2) in zip(spans, spans[1:], strict=False):
            if d1 == d2 and s2 < e1:
                problems.append(f"{story['story']}: overlapping claims {d1}#{s1}-{e1} and {d2}#{s2}-{e2}")
    return problems


def counts(gold: dict) -> Counter:
    tally = Counter()
    for story in gold["stories"]:
        for claim in story["claims"]:
            tally.update(claim["labels"].values())
    return tally


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", default=str(ROOT.parent / "shared" / "eval"), help="shared evaluation folder")
    parser.add_argument("--gold", default=str(GOLD_DIR), help="folder with basil.json and allsides.json")
    args = parser.parse_args(argv)
    eval_dir = Path(args.eval)
    if not eval_dir.is_dir():
        print(f"evaluation folder {eval_dir} not found; nothing to validate")
        return 0
    readers = {"basil": basil_documents, "allsides": allsides_documents}
    failed = False
    for name, reader in readers.items():
        path = Path(args.gold) / f"{name}.json"
        if not path.is_file():
            print(f"{name}: {path} missing")
            failed = True
            continue
        gold = load_gold(path)
        problems = validate(gold, reader(eval_dir))
        tally = counts(gold)
        n_claims = sum(len(s["claims"]) for s in gold["stories"])
        print(f"{name}: {len(gold['stories'])} stories, {n_claims} claims, {sum(tally.values())} labels: "
              + ", ".join(f"{s} {tally[s]}" for s in STATUSES))
        for problem in problems:
            print(f"  {problem}")
        failed = failed or bool(problems)
    print("invalid" if failed else "valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
