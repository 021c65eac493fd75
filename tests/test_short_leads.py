"""Short leads join the long readout of their call; the same president's other call of the day stays apart.

Gold: fixtures/gold/short-leads.json (documents under fixtures/short-leads). Also the pair signals that make it
work (containment of a short document, names across scripts, counterparts that differ) and the event date
taken only from mentions near the publication date.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from divergence.datamodel import Document
from divergence.events.profile import Profile, name_stem
from divergence.events.same_event import SHORT_DOCUMENT_CLAIMS, claim_coverage, pair_signals
from divergence.ingest.load import load_documents
from divergence.ingest.prepare import prepare
from divergence.judge.checks import name_key
from tests.conftest import FIXTURES

SHORT_LEADS = FIXTURES / "short-leads"


@pytest.fixture(scope="module")
def gold():
    return json.loads((FIXTURES / "gold" / "short-leads.json").read_text(encoding="utf-8"))["events"]


@pytest.fixture(scope="module")
def short_lead_report(settings):
    from divergence import cluster

    return cluster([SHORT_LEADS], settings)


def _groups(events) -> list[list[str]]:
    return sorted(sorted(documents) for documents in events)


def test_short_leads_cluster_exactly_into_their_gold_events(short_lead_report, gold):
    assert _groups(e.documents for e in short_lead_report.events) == _groups(gold.values())


def test_short_leads_are_short_and_in_three_languages(settings, gold):
    """The fixture is what it claims: leads of one or two claims in Russian, French and English."""
    leads = {}
    for document in load_documents([SHORT_LEADS])[0]:
        document, claims = prepare(document, settings)
        if len(claims) <= SHORT_DOCUMENT_CLAIMS:
            leads[document.id] = document.language
    assert set(leads.values()) == {"ru", "fr", "en"}
    assert all(any(d in leads for d in documents) for documents in gold.values())


def test_each_call_keeps_its_date_participants_and_lead_containment(short_lead_report):
    brandt = next(e for e in short_lead_report.events if "call-varga-brandt/kartenia_government" in e.documents)
    ekdahl = next(e for e in short_lead_report.events if "call-varga-ekdahl/ostrava_press" in e.documents)
    assert brandt.date == ekdahl.date == dt.date(2025, 6, 3)
    assert set(brandt.participants) == {"Brandt", "Varga"} and set(ekdahl.participants) == {"Ekdahl", "Varga"}
    # The English brief and the French flash say the same one thing: the shorter one's claim has its counterpart
    # (a claim is matched by degrees, fully from a centred similarity of 0.70: this one is past the midpoint, 0.60).
    brief = next(link for link in ekdahl.links if set(link.documents) == {"call-varga-ekdahl/baltic_wire", "call-varga-ekdahl/flash_ouest"})
    assert brief.signals["lead_containment"] > 0.5 and "same participants" in brief.reason


def test_same_day_calls_of_one_president_with_other_leaders_are_never_linked(settings):
    """Counterparts differ (Brandt vs Ekdahl, both with Varga, both calls): probability 0, whatever the content."""
    from divergence.pipeline import profile_documents
    from divergence.runtime import Runtime

    documents, claims = [], {}
    for document in load_documents([SHORT_LEADS])[0]:
        document, document_claims = prepare(document, settings)
        documents.append(document)
        claims[document.id] = document_claims
    runtime = Runtime(settings)
    profiles = {p.id: p for p in profile_documents(documents, claims, runtime)}
    model = runtime.same_event
    readout, other = profiles["call-varga-brandt/kartenia_government"], profiles["call-varga-ekdahl/ostrava_press"]
    signals = pair_signals(readout, other, settings.supported_threshold)
    assert signals.counterparts_differ and model.probability(signals) == 0.0
    lead = pair_signals(profiles["call-varga-brandt/vesti_nedeli"], readout, settings.supported_threshold)
    assert not lead.counterparts_differ and model.probability(lead) >= settings.cluster_threshold


def test_short_leads_stay_exact_beside_the_other_fixtures(settings, gold):
    """Together with fixtures/events (other calls of the same president, other days): still the gold events."""
    from divergence import cluster

    every = json.loads((FIXTURES / "gold" / "events.json").read_text(encoding="utf-8"))["events"]
    report = cluster([FIXTURES / "events", SHORT_LEADS], settings)
    expected = _groups(list(every.values()) + list(gold.values()))
    assert _groups(e.documents for e in report.events) == expected


def _profile(name, claim_vectors, participants=(), names=(), kinds=("call",)):
    claim_vectors = np.asarray(claim_vectors, dtype=np.float32)
    return Profile(id=name, vector=claim_vectors.mean(axis=0), claim_vectors=claim_vectors,
                   participants=frozenset(participants), names=frozenset(names), kinds=frozenset(kinds))


def test_lead_containment_is_the_share_of_the_short_documents_claims():
    basis = np.eye(6, dtype=np.float32)
    readout, lead, other = _profile("readout", basis[:4]), _profile("lead", basis[:1]), _profile("other", basis[4:6])
    assert claim_coverage(lead, readout, 0.6) == (pytest.approx(2 / 5), 1.0)
    assert claim_coverage(readout, lead, 0.6) == (pytest.approx(2 / 5), 1.0)
    assert claim_coverage(other, readout, 0.6) == (0.0, 0.0)
    # Two long documents: containment is not measured (claim overlap already is).
    assert claim_coverage(readout, _profile("long", basis[1:5]), 0.6) == (pytest.approx(6 / 8), None)


def test_name_stems_match_across_scripts():
    assert name_stem(name_key("Холт")) == name_stem(name_key("Holt"))
    assert name_stem(name_key("Экдалем")) == name_stem(name_key("Ekdahl"))
    assert name_stem(name_key("Брандт")) == name_stem(name_key("Brandt"))
    assert name_stem(name_key("Брандт")) != name_stem(name_key("Varga"))


def test_counterparts_differ_only_for_one_kind_of_event_between_two_people_sharing_one():
    one = np.eye(3, dtype=np.float32)[:1]
    with_brandt = _profile("brandt", one, {"varga", "brandt"}, {"varga", "brandt", "sarnov"})
    with_ekdahl = _profile("ekdahl", one, {"varga", "ekdahl"}, {"varga", "ekdahl", "lista"})
    short_lead = _profile("lead", one, {"varga"}, {"varga"})
    assert pair_signals(with_brandt, with_ekdahl, 0.6).counterparts_differ
    assert not pair_signals(short_lead, with_brandt, 0.6).counterparts_differ  # a subset of the readout's people
    assert not pair_signals(with_brandt, with_brandt, 0.6).counterparts_differ
    # A call and a visit, nobody shared, or a long lead of one story quoting other people: no rule applies.
    visit = _profile("visit", one, {"varga", "ekdahl"}, {"varga", "ekdahl"}, kinds=("visit",))
    strangers = _profile("strangers", one, {"holt", "sarin"}, {"holt", "sarin"})
    crowded = _profile("crowded", one, {"varga", "ekdahl", "holt"}, {"varga", "ekdahl", "holt"})
    assert not any(pair_signals(with_brandt, other, 0.6).counterparts_differ for other in (visit, strangers, crowded))


@pytest.mark.parametrize(
    ("lead", "expected"),
    [
        ("Biden and Putin will meet in Geneva on June 16 for their first summit, the White House said.", dt.date(2021, 5, 25)),
        ("Lawmakers clashed over the inquiry into the January 6 attack on the Capitol.", dt.date(2021, 5, 25)),
        ("The two leaders spoke by telephone on Sunday about the border.", dt.date(2021, 5, 23)),
        ("The ministers met on 20 May in Vienna.", dt.date(2021, 5, 20)),
    ],
)
def test_event_date_comes_only_from_mentions_near_publication(settings, lead, expected):
    """A date far before publication (background) or after it (a plan, a deadline) is not the reported event's date."""
    text = f"{lead}\nThe talks lasted an hour, officials said.\n"
    document, _ = prepare(Document(id="lead", text=text, published=dt.date(2021, 5, 25)), settings)
    assert document.event_date.date == expected
