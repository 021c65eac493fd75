"""The HTML report in a real browser (headless Chromium): counts and filters against the JSON, no hostile text
runs, nothing loaded from the network; screenshots are saved under test-artifacts/ for people to look at."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, SEEDS
from lxml import html as lxml_html

from divergence.datamodel import Report, Status
from divergence.report.render import to_html, to_json

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium", shutil.which("chromium-browser")) if p and Path(p).exists()), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not found: `make test` installs Debian's chromium when run as root (apt-get install chromium)")


def _chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
               f"--user-data-dir={profile}", "--virtual-time-budget=5000", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def dump_dom(page: Path, tmp_path: Path, fragment: str = ""):
    """The page's DOM after its scripts ran, parsed."""
    done = _chromium(tmp_path, "--dump-dom", page.as_uri() + fragment)
    tree = lxml_html.fromstring(done.stdout)
    assert tree.get("data-ready") == "1", "the page's script did not run"
    return tree


def screenshot(page: Path, tmp_path: Path, name: str, fragment: str = "", size: str = "1400,2400") -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    _chromium(tmp_path, f"--screenshot={target}", f"--window-size={size}", "--hide-scrollbars", page.as_uri() + fragment)
    assert target.stat().st_size > 10_000
    return target


def _write(report: Report, tmp_path: Path, name: str) -> Path:
    page = tmp_path / name
    page.write_text(to_html(report), encoding="utf-8")
    return page


def _section(tree, event_id: str):
    [section] = [s for s in tree.xpath("//section[@data-event]") if s.get("data-event") == event_id]
    return section


def _visible_claims(section) -> list[str]:
    return [m.get("data-claim") for m in section.xpath(".//span[@data-claim]") if "dim" not in m.get("class").split()]


@pytest.fixture(scope="module")
def fixtures_analysis(settings) -> Report:
    from divergence import analyze

    return analyze([FIXTURES / "events"], settings)


def test_rendered_counts_match_the_json_report(fixtures_analysis, tmp_path):
    page = _write(fixtures_analysis, tmp_path, "fixtures.html")
    tree = dump_dom(page, tmp_path)
    data = json.loads(to_json(fixtures_analysis))  # the JSON report, as `-f json` writes it
    compared = [e for e in data["events"] if e["claims"]]
    assert compared
    for event in compared:
        section = _section(tree, event["id"])
        rows = section.xpath(".//table[contains(@class, 'sources')]//tr[@data-source]")
        assert sorted(r.get("data-source") for r in rows) == sorted(d for d in event["documents"] if d not in event["duplicates"])
        for row in rows:
            source = row.get("data-source")
            for status in Status:
                expected = sum(1 for c in event["claims"] if c["document"] == source for j in c["statuses"].values() if j["status"] == status.value)
                [cell] = row.xpath(f".//td[@data-count='{status.value}']")
                assert int(cell.text_content()) == expected, (event["id"], source, status)
        marks = section.xpath(".//span[@data-claim]")
        assert sorted(m.get("data-claim") for m in marks) == sorted(c["id"] for c in event["claims"])
        texts = {c["id"]: c["text"] for c in event["claims"]}
        for mark in marks:  # the side by side shows each claim's exact text
            assert mark.text_content() == texts[mark.get("data-claim")]
    timeline = tree.xpath("//ol[contains(@class, 'timeline')]/li")
    assert sorted(li.get("data-event") for li in timeline) == sorted(e.id for e in fixtures_analysis.events)
    screenshot(page, tmp_path, "fixtures-overview.png")


def test_filters_match_the_json_report(fixture_reports, tmp_path):
    _, report = fixture_reports["geneva-ministers"]
    event = report.events[0]
    page = _write(report, tmp_path, "geneva.html")

    def expected(keep) -> list[str]:
        return sorted(c.id for c in event.claims if keep(c))

    section = _section(dump_dom(page, tmp_path, "#filter=contradictions"), event.id)
    contradicted = expected(lambda c: any(j.status is Status.contradicted for j in c.statuses.values()))
    assert contradicted and sorted(_visible_claims(section)) == contradicted
    rows = [r for r in section.xpath(".//table[contains(@class, 'matrix')]//tr[@data-group]") if r.get("hidden") is None]
    assert rows and all(r.xpath(".//td[contains(@class, 'c-contradicts')]") for r in rows)
    assert section.xpath(".//*[@data-shown]")[0].get("data-shown") == str(len(rows))

    section = _section(dump_dom(page, tmp_path, "#filter=omissions"), event.id)
    assert sorted(_visible_claims(section)) == expected(lambda c: any(j.status is Status.absent for j in c.statuses.values()))

    source = event.documents[1]
    fragment = "#" + urllib.parse.urlencode({"source": source})
    section = _section(dump_dom(page, tmp_path, fragment), event.id)
    assert sorted(_visible_claims(section)) == expected(
        lambda c: any(j.status is not Status.supported for o, j in c.statuses.items() if c.document == source or o == source))

    screenshot(page, tmp_path, "geneva-contradictions.png", "#filter=contradictions", "1400,1800")


def test_selecting_a_claim_shows_its_evidence_and_reason(fixture_reports, tmp_path):
    _, report = fixture_reports["geneva-ministers"]
    event = report.events[0]
    claim = next(c for c in event.claims if any(j.status is Status.contradicted for j in c.statuses.values()))
    page = _write(report, tmp_path, "geneva.html")
    fragment = "#" + urllib.parse.urlencode({"claim": claim.id})
    section = _section(dump_dom(page, tmp_path, fragment), event.id)
    [selected] = section.xpath(".//span[contains(@class, 'selected')]")
    assert selected.get("data-claim") == claim.id
    for column in section.xpath(".//div[contains(@class, 'column')]"):
        other = column.get("data-source")
        highlighted = [m.get("data-claim") for m in column.xpath(".//span[contains(concat(' ', @class, ' '), ' ev ')]")]
        if other == claim.document:
            assert not highlighted
            continue
        judgement = claim.statuses[other]
        assert highlighted == (judgement.evidence.claims if judgement.evidence else [])
        note = column.xpath(".//div[contains(@class, 'note')]")[0]
        assert note.get("data-status") == judgement.status.value and judgement.reason in note.text_content()
    screenshot(page, tmp_path, "geneva-selected-claim.png", fragment, "1400,2600")


def test_hostile_text_never_executes(tmp_path, settings):
    from test_report import HOSTILE_EN, HOSTILE_FR

    from divergence import compare

    (tmp_path / "en.txt").write_text(HOSTILE_EN, encoding="utf-8")
    (tmp_path / "fr.txt").write_text(HOSTILE_FR, encoding="utf-8")
    report = compare([tmp_path / "en.txt", tmp_path / "fr.txt"], settings)
    source = _write(report, tmp_path, "hostile.html")
    markup = source.read_text(encoding="utf-8")
    assert "<script>document" not in markup and "<img src=x" not in markup
    tree = dump_dom(source, tmp_path)
    assert tree.get("data-pwned") is None
    assert not tree.xpath("//img") and not tree.xpath("//*[@onerror]")
    assert not [a for a in tree.xpath("//*[@href]") if a.get("href").strip().lower().startswith("javascript:")]
    text = tree.text_content()
    assert "onerror=" in text and "[/bold]" in text and "<script>" in text  # shown, as text
    claim = next(c for c in report.events[0].claims if "onerror" in c.text)
    fragment = "#" + urllib.parse.urlencode({"claim": claim.id, "source": "le_courrier_hostile"})
    assert dump_dom(source, tmp_path, fragment).get("data-pwned") is None
    screenshot(source, tmp_path, "hostile.png", fragment, "1400,1600")


def test_page_loads_nothing_from_the_network(fixtures_analysis, tmp_path):
    markup = to_html(fixtures_analysis)
    assert not re.search(r"""(?:src|href|action|srcset)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:|//)""", markup, re.I)
    assert not re.search(r"@import|url\(", markup, re.I)
    assert "default-src 'none'" in markup
    # Chromium with every host unresolvable still renders and runs the page.
    page = _write(fixtures_analysis, tmp_path, "offline.html")
    done = _chromium(tmp_path, "--host-resolver-rules=MAP * ~NOTFOUND", "--dump-dom", page.as_uri())
    assert 'data-ready="1"' in done.stdout


@pytest.fixture(scope="module")
def seeds_analysis(settings) -> Report:
    folder = next((p for p in (SEEDS, ROOT.parent.parent / "shared" / "seeds") if p.is_dir()), None)
    if folder is None:
        pytest.skip("no seeds (../shared/seeds)")
    from divergence import analyze

    return analyze([folder], settings)


def test_seed_report_names_sources_not_hashes(seeds_analysis, tmp_path):
    page = _write(seeds_analysis, tmp_path, "seeds.html")
    tree = dump_dom(page, tmp_path)
    documents = {d.id: d for d in seeds_analysis.documents}
    for row in tree.xpath("//table[contains(@class, 'sources')]//tr[@data-source]"):
        document = documents[row.get("data-source")]
        name = row.xpath("./td[contains(@class, 'name')]")[0].text_content()
        if document.source or document.title:
            assert document.id not in name, name
    for mark in tree.xpath("//th"):
        assert not re.fullmatch(r"\d{3}_[0-9a-f]{16}", mark.text_content().strip())
    screenshot(page, tmp_path, "seeds-analysis.png", size="1400,3000")


def test_page_prints(fixture_reports, tmp_path):
    """Print media: filters hidden, every claim shown; Chromium's own print path produces the PDF."""
    _, report = fixture_reports["geneva-ministers"]
    page = _write(report, tmp_path, "print.html")
    markup = page.read_text(encoding="utf-8")
    assert "@media print" in markup and ".filters, .no-print { display: none !important; }" in markup
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "geneva-print.pdf"
    _chromium(tmp_path, f"--print-to-pdf={target}", "--no-pdf-header-footer", page.as_uri() + "#filter=contradictions")
    data = target.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
