"""Newsroom exports: a CSV of every judgement, and ClaimReview (schema.org JSON-LD) for contradicted claims."""

from __future__ import annotations

import csv
import io
import json

from divergence.datamodel import Report, Status
from divergence.report.overview import source_names

CSV_COLUMNS = ("event", "claim_id", "source", "source_name", "claim", "speaker", "other_source", "other_name", "status",
               "probability", "score", "evidence", "reason")


def to_csv(report: Report) -> str:
    """One row per claim × other source: the claim, the other source, its status there, how sure, the evidence, why."""
    names = source_names(report.documents)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for event in report.events:
        for claim in event.claims:
            for other, judgement in claim.statuses.items():
                probability = judgement.probabilities.get(judgement.status.value)
                writer.writerow([
                    event.id, claim.id, claim.document, names.get(claim.document, claim.document), claim.text, claim.speaker or "",
                    other, names.get(other, other), judgement.status.value,
                    "" if probability is None else f"{probability:.4f}", f"{judgement.score:.4f}",
                    judgement.evidence.text if judgement.evidence else "", judgement.reason,
                ])
    return buffer.getvalue()


def claim_reviews(report: Report) -> list[dict]:
    """A schema.org ClaimReview for every claim another source contradicts.

    The review is the tool's, not a fact-checker's verdict: ``reviewRating.alternateName`` says which
    source contradicts the claim and ``ratingExplanation`` why; the claim's own article is its
    ``appearance``. There is no numeric rating (a contradiction between outlets is not a truth score).
    """
    documents = {d.id: d for d in report.documents}
    names = source_names(report.documents)
    generated = report.provenance.generated_at if report.provenance else None
    reviews = []
    for event in report.events:
        for claim in event.claims:
            against = [(other, j) for other, j in claim.statuses.items() if j.status is Status.contradicted]
            if not against:
                continue
            document = documents.get(claim.document)
            appearance = {"@type": "NewsArticle", "headline": (document.title if document and document.title else names.get(claim.document, claim.document))}
            if document is not None and document.url and document.url.startswith(("http://", "https://")):
                appearance["url"] = document.url
            if document is not None and document.published:
                appearance["datePublished"] = document.published.isoformat()
            if document is not None and document.source:
                appearance["publisher"] = {"@type": "Organization", "name": document.source}
            if document is not None and document.language:
                appearance["inLanguage"] = document.language
            verdict = "; ".join(f"contradicted by {names.get(other, other)}" for other, _ in against)
            review = {
                "@context": "https://schema.org",
                "@type": "ClaimReview",
                "identifier": claim.id,
                "claimReviewed": claim.text,
                "itemReviewed": {
                    "@type": "Claim",
                    "appearance": appearance,
                    "author": {"@type": "Person" if claim.speaker_kind == "person" else "Organization",
                               "name": claim.speaker or (document.source if document and document.source else names.get(claim.document, claim.document))},
                },
                "reviewRating": {
                    "@type": "Rating",
                    "alternateName": verdict[:1].upper() + verdict[1:],
                    "ratingExplanation": " | ".join(f"{names.get(other, other)}: {j.reason}"
                                                    + (f" (evidence: “{j.evidence.text}”)" if j.evidence else "") for other, j in against),
                },
                "author": {"@type": "Organization", "name": "divergence (automatic comparison of sources)"},
                "about": {"@type": "Event", "identifier": event.id, "name": event.label or event.id},
            }
            if event.date:
                review["about"]["startDate"] = event.date.isoformat()
            if generated:
                review["datePublished"] = generated[:10]
            reviews.append(review)
    return reviews


def to_claimreview(report: Report) -> str:
    """ClaimReview JSON-LD: a JSON array, one object per contradicted claim."""
    return json.dumps(claim_reviews(report), indent=2, ensure_ascii=False) + "\n"
