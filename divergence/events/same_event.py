"""Signals that two documents report the same event, and the score that weighs them.

Each signal is computed from two profiles alone. The score is a logistic
model over the signals (log-odds add up): content similarity, claim
overlap, the best single claim match and a distinctive figure both state
for; a Gaussian over the days between the event dates and participants
named in one lead and missing from the other against. Its weights are
fitted by ``python -m dev.train_same_event`` and live in
``models/same-event.json``; the thresholds that act on its probability are
in :class:`divergence.config.Settings`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from divergence.events.copies import jaccard
from divergence.events.profile import Profile, name_stem

_LEAP_YEAR = 2024


@dataclass(frozen=True)
class PairSignals:
    similarity: float
    """Cosine of the two document vectors on the corrected scale."""
    claim_overlap: float | None
    """Share of the claims of both documents that have a counterpart in the other."""
    days_apart: float | None
    """Days between the event dates; None when either is unknown."""
    year_known: bool
    """Whether both dates carry a year (else days_apart compares month and day only)."""
    name_coverage: float | None
    """Lowest share, either way, of the names in one lead that the other document names."""
    missing_names: tuple[str, ...]
    kind_conflict: bool
    """Both leads name a kind of event (call, meeting, visit) and no kind is shared."""
    shingle_overlap: float
    """Jaccard overlap of word 5-grams: near 1 for a republished copy."""
    lead_containment: float | None = None
    """Share of a short document's claims (a lead of at most :data:`SHORT_DOCUMENT_CLAIMS`) that have a counterpart
    in the other document: a one-sentence lead the readout covers scores 1 however much more the readout says.
    None when both documents are longer (claim overlap already measures them)."""
    counterparts_differ: bool = False
    """Two leads about the same kind of event (a call, a meeting) between two people, who share one participant while
    each names a counterpart the other document never names: the same president's calls with two other leaders on
    one day. A short lead naming a subset of the readout's people does not count."""

    shared_figures: int = 0
    """Distinctive figures (:attr:`Profile.figures`: 266,000 jobs, 5.8%) that both documents state. Consecutive stories
    on one topic (a monthly jobs report and a weekly jobless-claims release) give other figures."""
    best_claim_match: float | None = None
    """Highest similarity of a claim of one document with a claim of the other: two angles on one story share at least
    its central fact (the ruling, the vote) even when little else of theirs matches."""

    def to_dict(self) -> dict:
        return asdict(self)


def day_of_year(month: int, day: int) -> int:
    try:
        return dt.date(_LEAP_YEAR, month, day).timetuple().tm_yday
    except ValueError:
        return dt.date(_LEAP_YEAR, month, 1).timetuple().tm_yday


def month_day(profile: Profile) -> tuple[int, int] | None:
    if profile.day is not None:
        date = dt.date.fromordinal(profile.day)
        return date.month, date.day
    return profile.month_day


def _gap(a_end: int, a_window: int, b_end: int, b_window: int) -> int:
    """Days between two intervals [end - window, end]; 0 when they overlap."""
    return max(0, max(a_end - a_window, b_end - b_window) - min(a_end, b_end))


def days_apart(a: Profile, b: Profile) -> tuple[float | None, bool]:
    if a.day is not None and b.day is not None:
        return float(_gap(a.day, a.window_days, b.day, b.window_days)), True
    ma, mb = month_day(a), month_day(b)
    if ma is None or mb is None:
        return None, False
    # Without a year, compare on a circular calendar: 28 December and 2 January are close.
    da, db = day_of_year(*ma), day_of_year(*mb)
    gaps = [_gap(da + shift, a.window_days, db, b.window_days) for shift in (-366, 0, 366)]
    return float(min(gaps)), False


SHORT_DOCUMENT_CLAIMS = 2
"""A document of at most this many claims is a lead (a TV or radio flash, a wire brief): it is measured by how much
of it the other document covers, not by the share of both documents' claims (which a long readout dilutes)."""


def claim_overlap(a: Profile, b: Profile, threshold: float) -> float | None:
    return claim_coverage(a, b, threshold)[0]


def _sentences(profile: Profile) -> np.ndarray | None:
    """The claim vectors that group documents: every claim but the headline (older profiles: every claim)."""
    return profile.sentence_vectors if profile.sentence_vectors is not None else profile.claim_vectors


def claim_similarities(a: Profile, b: Profile) -> np.ndarray | None:
    """Cosine of every sentence claim of ``a`` (rows) with every one of ``b``; None when either has none."""
    a_vectors, b_vectors = _sentences(a), _sentences(b)
    if a_vectors is None or b_vectors is None or not len(a_vectors) or not len(b_vectors):
        return None
    return a_vectors @ b_vectors.T


CLAIM_MATCH_RAMP = 0.10
"""A claim is matched by degrees: not at all below ``threshold - CLAIM_MATCH_RAMP``, fully above ``threshold +
CLAIM_MATCH_RAMP``. A hard count flips on a change of ~0.02 in a centred similarity, which is what the int8 encoder
moves against float32: one SemEval-2022 de-en pair (a match at 0.6098 on float32, 0.5928 on int8) took that language
pair's Spearman from 0.68 to 0.47."""


def matched(best: np.ndarray, threshold: float) -> float:
    """How many claims are matched, given each one's best similarity in the other document (see CLAIM_MATCH_RAMP)."""
    return float(np.clip((best - threshold) / (2 * CLAIM_MATCH_RAMP) + 0.5, 0.0, 1.0).sum())


def claim_coverage(a: Profile, b: Profile, threshold: float, similarity: np.ndarray | None = None) -> tuple[float | None, float | None]:
    """(share of both documents' claims with a counterpart in the other, the same share of the shorter document's
    claims when it is a lead of at most :data:`SHORT_DOCUMENT_CLAIMS`, else None). ``similarity``: the
    :func:`claim_similarities` of the pair when already computed."""
    similarity = claim_similarities(a, b) if similarity is None else similarity
    if similarity is None:
        return None, None
    a_count, b_count = similarity.shape
    a_covered = matched(similarity.max(axis=1), threshold)
    b_covered = matched(similarity.max(axis=0), threshold)
    overlap = (a_covered + b_covered) / (a_count + b_count)
    shorter = min(a_count, b_count)
    if shorter > SHORT_DOCUMENT_CLAIMS:
        return overlap, None
    if a_count == b_count:
        return overlap, max(a_covered, b_covered) / shorter
    return overlap, (a_covered if a_count < b_count else b_covered) / shorter


COUNTERPARTS = 2
"""Counterparts differ only between leads that each name at most this many people: a call or a meeting of two
leaders. Longer leads of one story name different people on each side (on SemEval-2022, every third pair)."""
# On the development sets this pattern is all but absent outside the fixtures (AllSides: 8 of 19,700 scored pairs,
# SemEval-2022: none), so no weight can be learned for it left out: it is a rule, not a model input.


def name_coverage(a: Profile, b: Profile) -> tuple[float | None, tuple[str, ...]]:
    """The lowest share, either way, of one lead's participants that the other document names."""
    coverage, missing, _ = participants_matched(a, b)
    return coverage, missing


def participants_matched(a: Profile, b: Profile) -> tuple[float | None, tuple[str, ...], bool]:
    """(lowest share either way of one lead's participants that the other names, those missing, whether the leads
    share a participant and each names someone the other never names)."""
    coverages = []
    missing: list[str] = []
    sides_missing = 0
    for lead, other, owner in ((a.participants, b.names, a), (b.participants, a.names, b)):
        if not lead:
            continue
        stems = {name_stem(key) for key in other}
        absent = [key for key in lead if name_stem(key) not in stems]
        coverages.append(1 - len(absent) / len(lead))
        missing.extend(owner.display_names.get(key, key) for key in sorted(absent))
        sides_missing += bool(absent)
    a_people, b_people = {name_stem(key) for key in a.participants}, {name_stem(key) for key in b.participants}
    shared = a_people & b_people  # stems: Экдаль and Экдалем are one person
    pairwise = len(a_people) <= COUNTERPARTS and len(b_people) <= COUNTERPARTS and bool(a.kinds & b.kinds)
    return (min(coverages) if coverages else None), tuple(missing), sides_missing == 2 and bool(shared) and pairwise


def pair_signals(a: Profile, b: Profile, claim_threshold: float, similarity: float | None = None) -> PairSignals:
    days, year_known = days_apart(a, b)
    coverage, missing, counterparts_differ = participants_matched(a, b)
    claims = claim_similarities(a, b)
    overlap, lead_containment = claim_coverage(a, b, claim_threshold, claims)
    return PairSignals(
        similarity=float(a.vector @ b.vector) if similarity is None else similarity,
        claim_overlap=overlap,
        days_apart=days,
        year_known=year_known,
        name_coverage=coverage,
        missing_names=missing,
        kind_conflict=bool(a.kinds and b.kinds and not (a.kinds & b.kinds)),
        shingle_overlap=jaccard(a.shingles, b.shingles) if a.language == b.language else 0.0,
        lead_containment=lead_containment,
        counterparts_differ=counterparts_differ,
        shared_figures=len(a.figures & b.figures),
        best_claim_match=best_claim_match(a, b, claims),
    )


def best_claim_match(a: Profile, b: Profile, similarity: np.ndarray | None = None) -> float | None:
    similarity = claim_similarities(a, b) if similarity is None else similarity
    return None if similarity is None else float(similarity.max())


# kind_conflict is reported with every link but is not a model input: fitted on
# the development sets its weight came out positive (+0.74), i.e. uninformative.
FEATURES = ("similarity", "claim_overlap", "time", "date_unknown", "name_coverage", "lead_containment", "shared_figures",
            "best_claim_match")
FITTED_SETTINGS = ("supported_threshold",)
"""Claim overlap counts claims matched at ``supported_threshold``: the model's inputs depend on it."""


def _time(signals: PairSignals, time_scale_days: float) -> float:
    if signals.days_apart is None:
        return 0.0
    return max(-0.5 * (signals.days_apart / time_scale_days) ** 2, -12.0)


_FEATURE_VALUES = {
    "similarity": lambda s, scale: s.similarity,
    "claim_overlap": lambda s, scale: s.claim_overlap if s.claim_overlap is not None else 0.0,
    "time": _time,
    "date_unknown": lambda s, scale: 1.0 if s.days_apart is None else 0.0,
    "name_coverage": lambda s, scale: s.name_coverage if s.name_coverage is not None else 0.5,
    "lead_containment": lambda s, scale: s.lead_containment if s.lead_containment is not None else 0.0,
    # One shared figure is the evidence; a count would weigh long articles quoting many figures (measured: no better).
    "shared_figures": lambda s, scale: float(min(s.shared_figures, 1)),
    "best_claim_match": lambda s, scale: s.best_claim_match if s.best_claim_match is not None else 0.0,
}


def feature_vector(signals: PairSignals, time_scale_days: float) -> np.ndarray:
    """The model's inputs. Missing signals contribute nothing, plus a learned offset for being missing."""
    return np.array([_FEATURE_VALUES[name](signals, time_scale_days) for name in FEATURES], dtype=np.float64)


@dataclass(frozen=True)
class SameEventModel:
    """A fitted logistic model: P(same event | signals)."""

    weights: tuple[float, ...]
    intercept: float
    time_scale_days: float
    trained_on: str = ""
    version: int = 1
    fitted_with: dict = field(default_factory=dict, compare=False, hash=False)
    """The encoder and the settings (:data:`FITTED_SETTINGS`) the signals were computed with."""
    parameters: dict = field(default_factory=dict, compare=False, hash=False)
    """How it was fitted: regularisation, time scale and decision offset (chosen by leave-one-set-out)."""

    def probability(self, signals: PairSignals) -> float:
        if signals.counterparts_differ:
            return 0.0  # a call between A and B is not the call between A and C (see PairSignals.counterparts_differ)
        z = float(np.dot(self.weights, feature_vector(signals, self.time_scale_days))) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def save(self, path: Path) -> None:
        data = {"features": list(FEATURES), **asdict(self)}
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> SameEventModel:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("features") != list(FEATURES):
            raise ValueError(f"{path}: the model was trained on other features ({data.get('features')}); run `make train`")
        return cls(
            weights=tuple(data["weights"]),
            intercept=data["intercept"],
            time_scale_days=data["time_scale_days"],
            trained_on=data.get("trained_on", ""),
            version=data.get("version", 1),
            fitted_with=data.get("fitted_with", {}),
            parameters=data.get("parameters", {}),
        )
