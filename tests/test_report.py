"""Reports people and newsrooms read: escaping in every format, overview, exports, provenance, mixed events."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

import jsonschema
import pytest
from conftest import FIXTURES, ROOT, SEEDS
from rich.console import Console

from divergence.datamodel import Report, ScoreReport, Status
from divergence.errors import MIXED_EVENTS
from divergence.report.exports import CSV_COLUMNS, claim_reviews, to_claimreview, to_csv
from divergence.report.overview import CONTRADICTION, KIND_ORDER, OMISSION, SINGLE_SOURCE, overview, topic_words
from divergence.report.render import json_schema, print_events, print_score, print_text, schema_path, to_html, to_markdown

HOSTILE_TITLE = "[/bold] <script>document.documentElement.dataset.pwned='title'</script>"
HOSTILE_EN = f"""---
id: y[/b]
title: {HOSTILE_TITLE}
source: Hostile [/quote] Times
url: javascript:alert(1)
published: 2024-03-14
---
Ostravia and Kartenia agreed on Tuesday to reopen their embassies in Geneva, the ministers said [/bold] after the meeting.

The ministers said twelve prisoners will be exchanged <img src=x onerror="document.documentElement.dataset.pwned='img'"> before the end of the month.

A spokesman called the talks "[/quote] constructive <script>document.documentElement.dataset.pwned='script'</script>" and said more meetings would follow.

Critics said [link](javascript:alert(1)) the agreement does not mention the disputed border at all.
"""
HOSTILE_FR = """---
id: le_courrier_hostile
title: L'Ostravie et la Kartenie rouvrent leurs ambassades
source: Le Courrier
published: 2024-03-14
---
L'Ostravie et la Kartenie ont convenu mardi de rouvrir leurs ambassades à Genève, ont déclaré les ministres après la réunion.

Les ministres ont déclaré que vingt prisonniers seront échangés avant la fin du mois.

Un porte-parole a qualifié les discussions de constructives et a annoncé d'autres réunions.
"""


@pytest.fixture(scope="session")
def hostile_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile") / "y["
    folder.mkdir()
    (folder / "b].txt").write_text(HOSTILE_EN, encoding="utf-8")
    (folder / "courrier.txt").write_text(HOSTILE_FR, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def hostile_report(hostile_dir, settings) -> Report:
    from divergence import compare

    return compare([hostile_dir], settings)


def _console() -> Console:
    return Console(record=True, width=200, file=io.StringIO(), color_system=None)


# --- issue 12, item 3: text output never parses data as rich markup ---------------------------------------

def test_text_views_print_square_brackets_as_text(hostile_report):
    for view in (print_text, print_events):
        console = _console()
        view(hostile_report, console)
        out = console.export_text()
        assert "y[/b]" in out and "[/bold]" in out, view.__name__
    claims = hostile_report.events[0].claims
    scored = ScoreReport(model="m", document=hostile_report.documents[0], event_id="event-[/b]", new_event=False,
                         assignment_reason="same date; [/quote]", sources=["le_courrier_hostile"],
                         claims=[c for c in claims if c.document == "y[/b]"], omitted=[c for c in claims if c.document != "y[/b]"],
                         divergence=0.5, divergence_definition="d")
    console = _console()
    print_score(scored, console)
    out = console.export_text()
    assert "event-[/b]" in out and "same date; [/quote]" in out and "[/bold]" in out


def test_compare_and_cluster_cli_print_brackets(hostile_dir):
    from typer.testing import CliRunner

    from divergence.interfaces.cli import app

    for command in ("compare", "cluster"):
        result = CliRunner().invoke(app, [command, str(hostile_dir)])
        assert result.exit_code == 0, (command, result.output)
        assert "y[/b]" in result.output


# --- issue 12, item 18: Markdown escapes document text ----------------------------------------------------

def test_markdown_renders_no_html_from_documents(hostile_report):
    from markdown_it import MarkdownIt

    markdown = to_markdown(hostile_report)
    rendered = MarkdownIt("commonmark").enable("table").render(markdown)
    assert "<script" not in rendered and "<img" not in rendered
    assert 'href="javascript:' not in rendered
    assert "&lt;img src=x onerror=" in rendered  # shown as text
    assert "[/bold]" in rendered


# --- overview and coverage matrix -------------------------------------------------------------------------

def test_overview_names_sources_and_counts_statuses(fixture_reports):
    _, report = fixture_reports["geneva-ministers"]
    [view] = overview(report)
    documents = {d.id: d for d in report.documents}
    for source in view.sources:
        document = documents[source.id]
        if document.source or document.title:
            assert source.id not in source.name or source.name.endswith(f"({source.id})")
        expected = {s.value: 0 for s in Status}
        for claim in report.events[0].claims:
            if claim.document == source.id:
                for judgement in claim.statuses.values():
                    expected[judgement.status.value] += 1
        assert source.counts == expected
    assert len({s.name for s in view.sources + view.copies}) == len(view.sources) + len(view.copies)


def test_claim_groups_partition_claims_one_per_source(fixture_reports):
    for _, report in fixture_reports.values():
        [view] = overview(report)
        seen = [c.id for g in view.groups for c in g.members.values()]
        assert sorted(seen) == sorted(c.id for c in report.events[0].claims)
        for group in view.groups:
            assert all(claim.document == source for source, claim in group.members.items())


def test_key_divergences_put_contradictions_first(fixture_reports):
    _, report = fixture_reports["geneva-ministers"]
    [view] = overview(report)
    kinds = [d.kind for d in view.divergences]
    assert kinds == sorted(kinds, key=KIND_ORDER.index)
    assert kinds[0] == CONTRADICTION
    numbers = [d for d in view.divergences if "twelve prisoners" in d.reason or "vingt prisonniers" in d.reason]
    assert numbers, [d.reason for d in view.divergences]
    for divergence in view.divergences:
        cells = divergence.group.cells
        if divergence.kind == SINGLE_SOURCE:
            assert sum(cell in ("says", "contradicts") for cell in cells.values()) == 1
        if divergence.kind == OMISSION:
            assert "omits" in cells.values()


def test_topic_words_name_what_sets_a_row_apart(fixture_reports):
    """Rows are tagged with their own words; a word that runs through the event (the leaders) is never a topic."""
    _, report = fixture_reports["call-keller-varga"]
    [view] = overview(report)
    by_label = {g.label: g.topics for g in view.groups}
    baltic = next(topics for label, topics in by_label.items() if "Baltic summit" in label)
    assert "Baltic" in baltic, by_label
    everywhere = {"Keller", "Varga", "Келлер", "Варга"}
    assert not any(everywhere & set(topics) for topics in by_label.values()), by_label
    assert all(0 < len(topics) <= 3 for topics in by_label.values() if len(view.groups) > 1)


def test_topic_words_skip_words_shared_by_every_row():
    from divergence.datamodel import ClaimReport

    def claim(n: int, text: str) -> ClaimReport:
        return ClaimReport(id=f"d#{n}", document="d", text=text, start=0, end=len(text), language="en", statuses={})

    rows = [[claim(1, "Keller and Varga discussed drones.")], [claim(2, "Keller and Varga discussed Mali.")],
            [claim(3, "Keller and Varga discussed fishing quotas.")]]
    assert topic_words(rows) == [["drones"], ["Mali"], ["fishing", "quotas"]]


@pytest.fixture(scope="session")
def seeds_report(settings):
    folder = next((p for p in (SEEDS, ROOT.parent.parent / "shared" / "seeds") if p.is_dir()), None)
    if folder is None:
        pytest.skip("no seeds (../shared/seeds)")
    from divergence import analyze

    return analyze([folder], settings)


def test_seed_call_matrix_shows_what_each_source_covers(seeds_report):
    """The 15 November call: the Kremlin readout covers Karabakh, Libya and Mali; the other report does not."""
    views = [v for v in overview(seeds_report) if len(v.sources) == 2]
    assert len(views) == 1
    [view] = views
    kremlin = next(s.id for s in view.sources if "extended telephone" in (s.title or ""))
    only_kremlin = [g.label for g in view.groups if g.cells[kremlin] == "says" and "omits" in g.cells.values()]
    assert any("Karabakh" in label for label in only_kremlin), only_kremlin
    kremlin_says = " ".join(g.label for g in view.groups if kremlin in g.members)
    for topic in ("Belarus", "Libya", "Mali", "coronavirus"):
        assert topic in kremlin_says
    other_says = " ".join(g.members[s.id].text for g in view.groups for s in view.sources if s.id != kremlin and s.id in g.members)
    for topic in ("Belarus", "Ukraine", "meeting"):
        assert topic in other_says


# --- exports ----------------------------------------------------------------------------------------------

def test_csv_has_one_row_per_judgement_and_round_trips(fixture_reports, hostile_report):
    for report in (fixture_reports["geneva-ministers"][1], hostile_report):
        rows = list(csv.DictReader(io.StringIO(to_csv(report))))
        judgements = {(c.id, other): (c, j) for e in report.events for c in e.claims for other, j in c.statuses.items()}
        assert len(rows) == len(judgements)
        assert tuple(rows[0].keys()) == CSV_COLUMNS
        for row in rows:
            claim, judgement = judgements[(row["claim_id"], row["other_source"])]
            assert row["claim"] == claim.text and row["status"] == judgement.status.value and row["reason"] == judgement.reason
            assert row["evidence"] == (judgement.evidence.text if judgement.evidence else "")
            if judgement.probabilities:
                assert float(row["probability"]) == pytest.approx(judgement.probabilities[judgement.status.value], abs=1e-4)


def test_claimreview_validates_and_lists_every_contradicted_claim(fixture_reports, hostile_report):
    schema = json.loads(schema_path("claimreview").read_text(encoding="utf-8"))
    for report in (fixture_reports["geneva-ministers"][1], hostile_report):
        reviews = json.loads(to_claimreview(report))
        jsonschema.validate(reviews, schema)
        contradicted = [c.id for e in report.events for c in e.claims if any(j.status is Status.contradicted for j in c.statuses.values())]
        assert [r["identifier"] for r in reviews] == contradicted
    assert claim_reviews(fixture_reports["geneva-ministers"][1])
    # a javascript: URL is never published as the article's address
    assert all("url" not in r["itemReviewed"]["appearance"] for r in claim_reviews(hostile_report))


def test_cli_writes_csv_and_claimreview(fixture_reports, tmp_path):
    from typer.testing import CliRunner

    from divergence.interfaces.cli import app

    folder = FIXTURES / "events" / "geneva-ministers"
    for fmt in ("csv", "claimreview"):
        out = tmp_path / f"report.{fmt}"
        result = CliRunner().invoke(app, ["compare", str(folder), "--format", fmt, "--output", str(out)])
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        if fmt == "csv":
            assert text.startswith(",".join(CSV_COLUMNS))
        else:
            assert json.loads(text)[0]["@type"] == "ClaimReview"


# --- JSON: provenance, stable ids, schemas ------------------------------------------------------------------

def test_claim_ids_derive_from_document_and_offsets(fixture_reports, settings):
    from divergence import compare

    _, report = fixture_reports["call-keller-varga"]
    for claim in report.events[0].claims:
        assert claim.id == f"{claim.document}#{claim.start}-{claim.end}"
    again = compare([FIXTURES / "events" / "call-keller-varga"], settings)
    assert [c.id for c in again.events[0].claims] == [c.id for c in report.events[0].claims]


def test_provenance_names_tool_models_and_time(fixture_reports, settings, monkeypatch):
    from divergence import compare
    from divergence.config import judge_model_path, same_event_model_path

    _, report = fixture_reports["call-keller-varga"]
    provenance = report.provenance
    assert provenance is not None and provenance.encoder == settings.model
    assert provenance.judge_fingerprint == hashlib.blake2b(judge_model_path(settings).read_bytes(), digest_size=8).hexdigest()
    assert provenance.same_event_fingerprint == hashlib.blake2b(same_event_model_path(settings).read_bytes(), digest_size=8).hexdigest()
    assert provenance.settings["supported_threshold"] == settings.supported_threshold
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    fixed = compare([FIXTURES / "events" / "call-keller-varga"], settings)
    assert fixed.provenance.generated_at == "2023-11-14T22:13:20Z"
    from divergence.report.provenance import generation_time

    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", generation_time()) and generation_time() != "2023-11-14T22:13:20Z"
    assert json.loads(fixed.model_dump_json())["schema_version"] == "1.5"


def test_shipped_schemas_match_the_models():
    for kind in ("report", "score"):
        shipped = json.loads(schema_path(kind).read_text(encoding="utf-8"))
        assert shipped == json_schema(kind), f"regenerate divergence/report/schema/{kind}.schema.json"
        assert "schema_version" in shipped["required"]
        assert shipped["properties"]["schema_version"]["const"] == "1.5"


# --- part 1: mixed events -----------------------------------------------------------------------------------

def test_compare_warns_about_mixed_events(settings):
    from divergence import compare

    may = FIXTURES / "events" / "call-keller-varga-may" / "norland_times.txt"
    report = compare([FIXTURES / "events" / "call-keller-varga", may], settings)
    warned = [p for p in report.problems if p.code == MIXED_EVENTS]
    assert [p.path for p in warned] == [str(may)]
    assert "looks like another event than" in warned[0].message and "divergence analyze" in warned[0].message
    assert not warned[0].set_aside
    assert "Mixed events" in to_html(report) and "looks like another event" in to_markdown(report)


def test_conflict_between_different_events_is_not_a_contradiction():
    from divergence.datamodel import ClaimReport, Conflict, Event, Judgement
    from divergence.events.mixed import discount_conflicts

    def judgement(kind: str, **probabilities: float) -> Judgement:
        return Judgement(status=Status.contradicted, score=0.7, reason=f"conflicting {kind}",
                         conflicts=[Conflict(kind=kind, claim_span="14 March", evidence_span="20 May")],
                         probabilities=probabilities or {"supported": 0.05, "partial": 0.1, "absent": 0.05, "contradicted": 0.8})

    def article(document: str, statuses: dict[str, Judgement] | None = None) -> list[ClaimReport]:
        """Three claims of ``document``: a whole article, not a one-sentence statement."""
        return [ClaimReport(id=f"{document}#{i}", document=document, text=f"Sentence {i}.", start=i * 20, end=i * 20 + 11,
                            statuses=(statuses or {}) if i == 0 else {}) for i in range(3)]

    def judged(statuses: dict[str, Judgement], groups: dict[str, int], sizes: dict[str, int]) -> dict[str, Judgement]:
        claims = article("a", statuses)[: sizes.get("a", 3)]
        claims += [c for d in statuses for c in article(d)[: sizes.get(d, 3)]]
        event = Event(id="e", documents=list(groups), claims=claims)
        return discount_conflicts(event, groups).claims[0].statuses

    groups = {"a": 0, "b": 1, "c": 0, "d": 1}
    got = judged({"b": judgement("date"), "c": judgement("date"), "d": judgement("number")}, groups, {})
    assert got["b"].status is Status.partial and "different events" in got["b"].reason
    assert got["b"].probabilities["contradicted"] == 0 and got["b"].probabilities["partial"] == pytest.approx(0.9)
    assert got["c"].status is Status.contradicted  # same event: a real finding
    # Another event and not a date: partial or absent, the conflict still named in the reason.
    assert got["d"].status is Status.partial and not got["d"].conflicts
    assert got["d"].reason == "partial; number '14 March' vs '20 May' is no contradiction: the documents report different events (W203)"
    assert got["d"].probabilities["contradicted"] == 0
    # Evidence stating a conflicting fact supports nothing, however the judge scored "supported".
    negation = judgement("negation", supported=0.15, partial=0.01, absent=0.04, contradicted=0.8)
    assert judged({"b": negation}, {"a": 0, "b": 1}, {})["b"].status is Status.absent
    # A one-sentence statement checked against a text: "another event" says little there, the conflict stands.
    assert judged({"d": judgement("number")}, {"a": 0, "d": 1}, {"a": 1})["d"].status is Status.contradicted
    assert judged({"d": judgement("number")}, {"a": 0, "d": 1}, {"d": 2})["d"].status is Status.contradicted


def test_one_event_gets_no_mixed_event_warning(fixture_reports):
    for name, (_, report) in fixture_reports.items():
        assert not [p for p in report.problems if p.code == MIXED_EVENTS], name


# --- part 6: what offsets index -----------------------------------------------------------------------------

def test_report_states_what_offsets_index(tmp_path, settings, hostile_report):
    from divergence import compare

    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Ostravia and Kartenia reopen embassies</title></head><body><nav>Home | World | Subscribe</nav><article>"
        "<h1>Ostravia and Kartenia reopen embassies</h1>"
        "<p>Ostravia and Kartenia agreed on Tuesday to reopen their embassies in Geneva, the ministers said after the meeting.</p>"
        "<p>The ministers said twelve prisoners will be exchanged before the end of the month, according to officials.</p>"
        "<p>A spokesman called the talks constructive and said that more meetings would follow in the spring.</p>"
        "</article></body></html>", encoding="utf-8")
    text = tmp_path / "other.txt"
    text.write_text(HOSTILE_FR, encoding="utf-8")
    report = compare([page, text], settings)
    summaries = {d.id: d for d in report.documents}
    assert summaries["page"].offsets == "extracted_text" and summaries["le_courrier_hostile"].offsets == "file"
    for claim in report.events[0].claims:
        assert summaries[claim.document].text[claim.start : claim.end] == claim.text
    assert text.read_text(encoding="utf-8")[summaries["le_courrier_hostile"].body[0].start :].startswith("L'Ostravie")
    # HTML claims map back to the page as written
    from divergence.ingest.html_offsets import file_span

    source = page.read_text(encoding="utf-8")
    html_claims = [c for c in report.events[0].claims if c.document == "page"]
    assert html_claims and not summaries["le_courrier_hostile"].source_map
    for claim in html_claims:
        start, end = file_span(summaries["page"].source_map, claim.start, claim.end)
        assert source[start:end] == claim.text


def test_html_offsets_survive_entities_tags_and_line_breaks():
    from divergence.ingest.html_offsets import file_span, source_map

    page = ("<html><body><nav>Home</nav><style>p{}</style><article><h1>Ostravia &amp; Kartenia</h1>\n<p>They agreed to reopen\n   their "
            "embassies in Gen&egrave;ve.</p><script>var x = 'reopen';</script><p>The <b>twelve</b> prisoners.</p></article></body></html>")
    extracted = "Ostravia & Kartenia\nThey agreed to reopen their embassies in Genève.\nThe twelve prisoners."
    segments = source_map(extracted, page)
    for needle, expected in (("Ostravia & Kartenia", "Ostravia &amp; Kartenia"),
                             ("reopen their embassies in Genève", "reopen\n   their embassies in Gen&egrave;ve"),
                             ("The twelve prisoners.", "The <b>twelve</b> prisoners.")):
        start = extracted.index(needle)
        file_start, file_end = file_span(segments, start, start + len(needle))
        assert page[file_start:file_end] == expected
    assert file_span(source_map("Not in the page at all.", page), 0, 5) is None
