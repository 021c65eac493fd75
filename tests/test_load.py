import io
import json

import pytest

from divergence.ingest.load import load_documents


def codes(problems):
    return [p.code for p in problems]


def test_front_matter_sets_metadata(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("---\nid: kremlin\nsource: Kremlin\npublished: 2021-11-16\n---\nPutin spoke with Macron by phone.\n", encoding="utf-8")
    (doc,), problems = load_documents([path])
    assert not problems
    assert (doc.id, doc.source, str(doc.published)) == ("kremlin", "Kremlin", "2021-11-16")
    assert doc.text[doc.content_start :].startswith("Putin spoke")


def test_bad_inputs_are_reported_and_others_kept(tmp_path):
    (tmp_path / "good.txt").write_text("The two leaders met in Geneva on Thursday.", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02\x03" * 100)
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / "records.jsonl").write_text(
        json.dumps({"id": "r1", "text": "First record text here."}) + "\n{broken\n" + json.dumps({"id": "r3", "text": "Third record."}) + "\n",
        encoding="utf-8",
    )
    docs, problems = load_documents([tmp_path, tmp_path / "missing.txt"])
    assert sorted(d.id for d in docs) == ["good", "r1", "r3"]
    by_path = {p.path: p for p in problems}
    assert by_path[str(tmp_path / "empty.txt")].code == "E101"
    assert by_path[str(tmp_path / "binary.txt")].code == "E102"
    assert by_path[str(tmp_path / "records.jsonl") + ":2"].code == "E104"
    assert by_path[str(tmp_path / "missing.txt")].code == "E105"


def test_unknown_extension_named_explicitly_is_refused(tmp_path):
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK\x03\x04 something")
    docs, problems = load_documents([path])
    assert not docs and problems[0].code == "E103" and ".docx" in problems[0].message


def test_non_utf8_text_is_decoded(tmp_path):
    path = tmp_path / "ru.txt"
    path.write_bytes("Министры иностранных дел встретились в четверг в Женеве и обсудили границу.".encode("cp1251"))
    (doc,), problems = load_documents([path])
    assert not problems and "Женеве" in doc.text


def test_large_document_is_capped_with_warning(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("The leaders met again. " * 1000, encoding="utf-8")
    (doc,), _ = load_documents([path], max_chars=5000)
    assert len(doc.text) == 5000 and "truncated" in doc.warnings[0]


def test_stdin_and_pairs():
    docs, problems = load_documents(["-", ("b", "Second text about the meeting.")], stdin=io.BytesIO(b"First text about the meeting."))
    assert [d.id for d in docs] == ["stdin", "b"] and not problems


def test_html_uses_main_text(tmp_path):
    html = """<html><head><title>Leaders meet</title></head><body><nav>Home | World | Sport</nav>
    <article><h1>Leaders meet in Geneva</h1><p>The foreign ministers of Ostravia and Kartenia met in Geneva on Thursday
    for their first talks in three years.</p><p>The two sides agreed to reopen their embassies, the minister said.</p></article>
    <footer>Copyright 2025 Example News. All rights reserved.</footer></body></html>"""
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    (doc,), problems = load_documents([path])
    assert not problems
    assert "reopen their embassies" in doc.text and "Home | World" not in doc.text


@pytest.mark.parametrize("payload", ['{"id": "x", "text": "A record with text."}', '[{"id": "x", "text": "One."}, {"id": "y", "text": "Two."}]'])
def test_json_records(tmp_path, payload):
    path = tmp_path / "records.json"
    path.write_text(payload, encoding="utf-8")
    docs, problems = load_documents([path])
    assert docs and not problems and docs[0].id == "x"
