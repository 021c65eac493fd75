import json

import jsonschema
import pytest

from dev.fixture_agreement import Agreement, score_event
from divergence import compare
from divergence.datamodel import Report
from divergence.errors import NotEnoughDocuments
from divergence.report.render import json_schema, schema_path, to_json, to_markdown
from tests.cli_runner import run_cli
from tests.conftest import FIXTURES

# Floors measured on the fixtures; they only move up (see README, "Quality").
FIXTURE_AGREEMENT_FLOOR = 0.95


def test_fixture_agreement_with_gold(fixture_reports):
    result = Agreement()
    for gold, report in fixture_reports.values():
        score_event(report, gold, result)
    assert not result.unmatched, result.unmatched
    assert result.rate >= FIXTURE_AGREEMENT_FLOOR, "\n".join(result.misses)


def test_every_planted_contradiction_is_found_somewhere(fixture_reports):
    for gold, report in fixture_reports.values():
        kinds = {c.kind for claim in report.events[0].claims for j in claim.statuses.values() for c in j.conflicts}
        assert kinds, gold["event"]


def test_no_chrome_among_claims(fixture_reports):
    result = Agreement()
    for gold, report in fixture_reports.values():
        score_event(report, gold, result)
    assert result.chrome_claims == []


def test_claim_offsets_and_statuses_cover_every_other_document(fixture_reports):
    for _gold, report in fixture_reports.values():
        (event,) = report.events
        texts = {}
        for doc in report.documents:
            texts[doc.id] = open(doc.path, encoding="utf-8").read()
        for claim in event.claims:
            assert texts[claim.document][claim.start : claim.end] == claim.text
            assert set(claim.statuses) == set(event.documents) - set(event.duplicates) - {claim.document}
            assert claim.document not in event.duplicates  # a copy is not a source


def test_compare_names_a_republished_copy_and_compares_it_once(fixture_reports):
    _, report = fixture_reports["geneva-ministers"]
    (event,) = report.events
    assert event.duplicates == {"daily_courier": "global_wire"}
    assert "daily_courier" in event.documents


def test_report_json_validates_against_shipped_schema(fixture_reports):
    shipped = json.loads(schema_path().read_text(encoding="utf-8"))
    assert shipped == json_schema(), "regenerate divergence/report/schema/report.schema.json"
    for _, report in fixture_reports.values():
        data = json.loads(to_json(report))
        jsonschema.validate(data, shipped)
        assert Report.model_validate(data) == report
        assert data["schema_version"] == "1.5"


def test_markdown_lists_every_claim(fixture_reports):
    gold, report = fixture_reports["brandt-visit"]
    markdown = to_markdown(report)
    assert all(c.text.replace("|", "\\|") in markdown for c in report.events[0].claims)


def test_api_accepts_pairs_and_reports_problems(settings):
    report = compare(
        [("ref", "The two ministers met in Geneva on Thursday. They agreed to reopen the embassies."),
         ("claim", "Les ministres se sont rencontrés jeudi à Genève."), ("empty", "  ")],
        settings,
    )
    assert [d.id for d in report.documents] == ["ref", "claim"]
    assert report.problems[0].path == "empty"
    (claim,) = [c for c in report.events[0].claims if c.document == "claim"]
    assert claim.statuses["ref"].status.value == "supported"


def test_fewer_than_two_documents(settings, tmp_path):
    with pytest.raises(NotEnoughDocuments):
        compare([FIXTURES / "events" / "brandt-visit" / "capital_post.md"], settings)


def test_cli_json_output_and_bad_file(tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_text("")
    out = tmp_path / "report.json"
    done = run_cli("compare", str(FIXTURES / "events" / "brandt-visit"), str(bad), "--format", "json", "--output", str(out))
    assert done.returncode == 3, done.stderr
    assert f"{bad}: [E101] the file is empty" in done.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data["documents"]) == 3 and data["problems"][0]["code"] == "E101"


def test_cli_one_document_is_a_one_line_error():
    done = run_cli("compare", str(FIXTURES / "events" / "brandt-visit" / "capital_post.md"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("divergence: [E200]")


def test_html_page_shows_every_claim_and_escapes_text(fixture_reports):
    from markupsafe import escape

    from divergence.report.render import to_html

    for _, report in fixture_reports.values():
        page = to_html(report)
        assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
        for claim in report.events[0].claims:
            assert str(escape(claim.text)) in page
        assert page.count('<span class="claim ') == len(report.events[0].claims)  # each claim once, side by side


def test_an_unexpected_error_is_one_line_naming_the_file_with_its_traceback(monkeypatch, tmp_path):
    import re
    import tempfile
    from pathlib import Path

    import divergence.pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(divergence.pipeline, "compare", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    done = run_cli("compare", FIXTURES / "events" / "brandt-visit")
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    match = re.fullmatch(r"divergence: \[E000\] unexpected error: RuntimeError: boom \(details in (\S+)\)\n", done.stderr)
    assert match, done.stderr
    details = Path(match.group(1)).read_text(encoding="utf-8")
    assert details.startswith("divergence compare ") and "Traceback" in details and "RuntimeError: boom" in details
