"""`compare` is given documents about one event; this checks that they are, and says which ones look like another.

The inputs are clustered with the same-event model (as `analyze` does). The largest group is taken as the
event being compared; every document outside it gets a W203 warning naming the documents it is closest to
and why it looks like another event. Claims are still compared, but a conflict between documents of different
events is no finding: two events differ in their dates, and the explicit checks name a swapped pair of leaders or a
negation between any two sentences. A date conflict is reported as ``partial`` with the dates named; between two
articles (more than a short lead's claims each) any other judgement the conflict made ``contradicted`` is ``partial``
or ``absent``, whichever the judge found likelier.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from divergence.datamodel import Document, Event, Judgement, Problem, Status
from divergence.errors import MIXED_EVENTS
from divergence.events.assemble import describe_signals
from divergence.events.cluster import EventClusterer
from divergence.events.profile import Profile
from divergence.events.same_event import SHORT_DOCUMENT_CLAIMS, pair_signals


def event_groups(profiles: Sequence[Profile], clusterer: EventClusterer) -> dict[str, int]:
    """Document id → its group, 0 for the largest group (the event compared; ties go to the first document's)."""
    clusterer.fit(list(profiles))
    labels = [int(label) for label in clusterer.labels_]
    sizes = {label: labels.count(label) for label in labels}
    main = max(sizes, key=lambda label: (sizes[label], -labels.index(label)))
    order = {main: 0}
    for label in labels:
        order.setdefault(label, len(order))
    return {profile.id: order[label] for profile, label in zip(profiles, labels, strict=True)}


def mixed_event_warnings(documents: Sequence[Document], profiles: Sequence[Profile], groups: dict[str, int],
                         clusterer: EventClusterer) -> list[Problem]:
    """One W203 per document that does not look like the event the others report."""
    if len(set(groups.values())) < 2:
        return []
    by_id = {p.id: p for p in profiles}
    main = [p for p in profiles if groups[p.id] == 0]
    problems = []
    for document in documents:
        if groups[document.id] == 0:
            continue
        profile = by_id[document.id]
        scored = []
        for other in main:
            signals = pair_signals(profile, other, clusterer.claim_match_threshold)
            scored.append((clusterer.model.probability(signals), other.id, signals))
        probability, closest, signals = max(scored, key=lambda item: item[0])
        problems.append(Problem(
            path=document.path or document.id, code=MIXED_EVENTS, set_aside=False,
            message=(f"looks like another event than {', '.join(p.id for p in main)} (same-event probability {probability:.2f} "
                     f"with {closest}: {describe_signals(signals)}); its claims are still compared, conflicts with "
                     "them are not reported as contradictions; `divergence analyze` groups documents into events first"),
        ))
    return problems


def discount_conflicts(event: Event, groups: dict[str, int]) -> Event:
    """A claim checked against a document of another event: a conflict is expected, not a contradiction."""
    # "Another event" is the verdict of whole articles; between a statement of a sentence or two and a text (a claim
    # checked against its source) it says little, and a conflict there is what the user asked about.
    claim_counts = Counter(claim.document for claim in event.claims if not claim.headline)
    claims = []
    for claim in event.claims:
        statuses = {}
        for other, judgement in claim.statuses.items():
            if groups.get(claim.document) != groups.get(other) and judgement.status is Status.contradicted and judgement.conflicts:
                if all(c.kind == "date" for c in judgement.conflicts):
                    judgement = _as_other_event(judgement)
                elif min(claim_counts[claim.document], claim_counts.get(other, 0)) > SHORT_DOCUMENT_CLAIMS:
                    judgement = _without_conflict(judgement)
            statuses[other] = judgement
        claims.append(claim.model_copy(update={"statuses": statuses}))
    return event.model_copy(update={"claims": claims})


def _as_other_event(judgement: Judgement) -> Judgement:
    dates = "; ".join(f"'{c.claim_span}' vs '{c.evidence_span}'" for c in judgement.conflicts)
    probabilities = dict(judgement.probabilities)
    if probabilities:
        probabilities["partial"] = round(probabilities.get("partial", 0.0) + probabilities.get("contradicted", 0.0), 4)
        probabilities["contradicted"] = 0.0
    return judgement.model_copy(update={
        "status": Status.partial,
        "reason": f"dates differ ({dates}): the documents report different events (W203), not a contradiction",
        "probabilities": probabilities,
    })


def _without_conflict(judgement: Judgement) -> Judgement:
    conflicts = "; ".join(f"{c.kind} '{c.claim_span}' vs '{c.evidence_span}'" for c in judgement.conflicts)
    # Evidence that states a conflicting fact supports nothing: partial or absent, whichever the judge found likelier.
    probabilities = dict(judgement.probabilities)
    partial, absent = probabilities.get(Status.partial.value, 0.0), probabilities.get(Status.absent.value, 0.0)
    status = Status.partial if partial > absent else Status.absent
    if probabilities:
        probabilities[Status.contradicted.value] = 0.0
    return judgement.model_copy(update={
        "status": status,
        "conflicts": [],
        "reason": f"{status.value}; {conflicts} is no contradiction: the documents report different events (W203)",
        "probabilities": probabilities,
    })
