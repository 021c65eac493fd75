"""Development pairs for the claim judge: a reference text, a claim text and what is true between them.

Read from the shared evaluation folder (never copied into the project) and
from the fixtures' gold labels. Each set is split once, deterministically,
into a part the judge is trained on and a part `make eval` reports on, so
the printed figures are never measured on training pairs.
"""

from __future__ import annotations

import csv
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from divergence.datamodel import Status

NLI_FILES = {"sick_fr": "sick_fr.tsv", "rte3_fr": "rte3_fr_dev.tsv", "gqnli_fr": "gqnli_fr.tsv"}
SUMMEDITS_DOMAINS = ("ectsum", "podcast", "qmsumm", "sales_call", "sales_email", "samsum", "scitldr", "news", "billsum", "shakespeare")


@dataclass
class PairExample:
    dataset: str
    id: str
    split: str  # "train" or "test"
    reference: str
    claim: str
    label: str
    """Pair-level truth: entailment / neutral / contradiction, equivalent / divergent / unrelated,
    consistent / inconsistent, intrinsic / extrinsic."""
    details: dict = field(default_factory=dict)


def _half(key: str) -> str:
    """A stable 50/50 split that does not depend on file order."""
    return "train" if zlib.crc32(key.encode("utf-8")) % 2 == 0 else "test"


def nli_pairs(folder: Path) -> Iterator[PairExample]:
    """SICK-FR (its own TRAIN / TEST splits), RTE3-FR dev and GQNLI-FR (halved), FraCaS (training only, fr→fr and fr→en)."""
    for name, filename in NLI_FILES.items():
        path = folder / filename
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if name == "sick_fr":
                    split = {"TRAIN": "train", "TEST": "test"}.get(row["split"])
                else:  # RTE3-FR dev labels its split TRIAL; GQNLI-FR only has TEST
                    split = _half(f"{name}:{row['problem_id']}")
                if split is None or row["label"] not in ("entailment", "neutral", "contradiction"):
                    continue
                yield PairExample(name, f"{name}:{row['problem_id']}", split, row["premise"], row["hypothesis"], row["label"])
    path = folder / "fracas_fr_en.tsv"
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if row["label"] not in ("entailment", "neutral", "contradiction"):
                    continue
                for side in ("fr", "en"):
                    yield PairExample("fracas", f"fracas:{row['problem_id']}:{side}", "train", row["premise_fr"],
                                      row[f"hypothesis_{side}"], row["label"])


def _detokenise(text: str) -> str:
    text = re.sub(r"\s+([,.;:!?%)])", r"\1", text)
    text = re.sub(r"([(])\s+", r"\1", text)
    text = re.sub(r"\s+(['’]\w)", r"\1", text)
    return re.sub(r"\s+n't", "n't", text)


def refresd_pairs(path: Path) -> Iterator[PairExample]:
    """English sentence against its French pair. Pairs whose rationales mark nearly every token on both
    sides as divergent are taken as unrelated (REFreSD's 3-way label is not in the shipped file)."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            english, french = _detokenise(row["#english_sentence"]), _detokenise(row["#french_sentence"])
            if not english.strip() or not french.strip():
                continue
            label = "equivalent" if row["#label"] == "0" else "divergent"
            if label == "divergent" and all(_divergent_share(row[c]) >= 0.9 for c in ("#english_rational", "#french_rationale")):
                label = "unrelated"
            key = f"refresd:{row['#1ID']}"
            yield PairExample("refresd", key, _half(key), french, english, label)


def _divergent_share(tags: str) -> float:
    values = tags.split()
    return sum(v != "0" for v in values) / len(values) if values else 0.0


def summedits_pairs(folder: Path) -> Iterator[PairExample]:
    """SummEdits: its 'evaluation' split trains the judge, its 'test' split is reported."""
    for domain in SUMMEDITS_DOMAINS:
        path = folder / f"summedits_{domain}.json"
        if not path.is_file():
            continue
        for row in json.loads(path.read_text(encoding="utf-8")):
            label = "consistent" if str(row["label"]) == "1" else "inconsistent"
            split = "train" if row.get("split") == "evaluation" else "test"
            edits = row.get("edit_types") or []
            edits = " ".join(edits) if isinstance(edits, list) else str(edits)
            yield PairExample(f"summedits_{domain}", f"summedits:{row['id']}", split, row["doc"], row["summary"], label,
                              {"original": row.get("original_summary") or "", "edits": edits, "domain": domain})


def _recase(summary: str, document: str) -> str:
    """XSum summaries in AggreFact are lower-cased and tokenised; restore the case the document uses for each word."""
    cased: dict[str, str] = {}
    for word in re.findall(r"[^\W\d_]+", document):
        lower = word.lower()
        if word != lower and lower not in cased:
            cased[lower] = word
    lowercase_in_document = {w for w in re.findall(r"[^\W\d_]+", document) if w.islower()}
    text = _detokenise(summary)
    text = re.sub(r"[^\W\d_]+", lambda m: cased.get(m.group(0), m.group(0)) if m.group(0) not in lowercase_in_document else m.group(0), text)
    return text[:1].upper() + text[1:]


def aggrefact_pairs(path: Path) -> Iterator[PairExample]:
    """AggreFact val rows that carry their document (XSum), with one kind of error only: intrinsic or extrinsic."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row.get("doc"):
                continue
            kinds = {t.split("-")[0].strip(" '[]") for t in row["error_type"].split(",")}
            if kinds not in ({"intrinsic"}, {"extrinsic"}):
                continue
            key = f"aggrefact:{row['id']}:{row['model_name']}"
            yield PairExample("aggrefact", key, _half(key), row["doc"], _recase(row["summ"], row["doc"]), kinds.pop(),
                              {"error_type": row["error_type"]})


def development_pairs(data: Path) -> list[PairExample]:
    pairs: list[PairExample] = []
    pairs += nli_pairs(data / "nli_fr")
    pairs += refresd_pairs(data / "refresd" / "refresd.tsv")
    pairs += summedits_pairs(data / "summedits")
    pairs += aggrefact_pairs(data / "aggrefact" / "val.csv")
    return pairs


_EDIT_STATUS = {"antonym_swap": Status.contradicted, "negation_insertion_removal": Status.contradicted,
                "entity_modification": Status.contradicted, "hallucinated_fact_insertion": Status.partial}
_PAIR_STATUS = {"entailment": Status.supported, "equivalent": Status.supported, "consistent": Status.supported,
                "contradiction": Status.contradicted, "intrinsic": Status.contradicted,
                "neutral": Status.partial, "divergent": Status.partial, "extrinsic": Status.partial,
                "unrelated": Status.absent}


def claim_labels(example: PairExample, claim_texts: list[str]) -> list[Status | None]:
    """The status each claim of the claim text should get, or None where the pair label does not say.

    A pair label covers every claim when it is about all of them (supported,
    unrelated); an error label covers the claim only when the claim text is
    one claim, except in SummEdits, whose edited sentence is found by
    comparing the summary with the consistent original.
    """
    status = _PAIR_STATUS.get(example.label)
    if example.label in ("entailment", "equivalent", "consistent", "unrelated"):
        return [status] * len(claim_texts)
    if example.label == "inconsistent":
        edits = re.findall(r"\w+", example.details.get("edits", ""))
        edited = _EDIT_STATUS.get(edits[0]) if len(edits) == 1 else None
        original = re.sub(r"\s+", " ", example.details.get("original", ""))
        return [Status.supported if re.sub(r"\s+", " ", text) in original else edited for text in claim_texts]
    if len(claim_texts) == 1:
        return [status]
    return [None] * len(claim_texts)
