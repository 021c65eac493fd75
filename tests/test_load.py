import io
import json
from pathlib import Path

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


# --- hostile inputs (issue 12): each is set aside or warned about, never ends the run --------------------------

FRENCH = "Les ministres des Affaires étrangères se sont rencontrés jeudi à Genève et ont évoqué la frontière. " * 3
RUSSIAN = "Министры иностранных дел встретились в четверг в Женеве и обсудили границу. " * 3


def test_deeply_nested_json_and_non_string_fields_are_set_aside(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (tmp_path / "typed.json").write_text(json.dumps({"url": 3, "language": 7, "text": "The leaders met in Geneva."}), encoding="utf-8")
    (tmp_path / "text.json").write_text(json.dumps({"text": {"nested": "object"}}), encoding="utf-8")
    (tmp_path / "good.txt").write_text("The two leaders met in Geneva on Thursday.", encoding="utf-8")
    docs, problems = load_documents([tmp_path])
    assert [d.id for d in docs] == ["good"]
    messages = {Path(p.path).name: (p.code, p.message) for p in problems}
    assert messages["deep.json"] == ("E104", "JSON nested too deeply")
    assert messages["typed.json"] == ("E104", "field 'url' must be a string, got a number")
    assert messages["text.json"] == ("E104", "field 'text' must be a string or a list of strings, got an object")


def test_ids_with_control_characters_are_refused_at_the_boundary(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps({"id": "a\nb", "text": "One."}) + "\n" + json.dumps({"id": 7, "text": "Two."}) + "\n", encoding="utf-8")
    docs, problems = load_documents([path])
    assert [d.id for d in docs] == ["7"]
    assert problems[0].path.endswith(":1") and problems[0].message == "field 'id' must be one line of printable text, got 'a\\nb'"
    odd_name = tmp_path / "line\nbreak.txt"
    odd_name.write_text("The leaders met.", encoding="utf-8")
    (doc,), _ = load_documents([odd_name])
    assert doc.id == "line_break"


@pytest.mark.parametrize("text", [FRENCH, RUSSIAN])
def test_one_stray_byte_in_utf8_is_replaced_with_a_warning(tmp_path, text):
    raw = text.encode("utf-8")
    at = raw.index(b" ", 40)
    path = tmp_path / "doc.txt"
    path.write_bytes(raw[:at] + b"\xff" + raw[at:])
    (doc,), problems = load_documents([path])
    assert doc.text.replace("\ufffd", "") == text
    assert [(p.code, p.set_aside) for p in problems] == [("W101", False)]
    assert problems[0].message == f"1 byte sequence not valid UTF-8 (first at byte {at}) replaced by U+FFFD"


SHORT_FRENCH = "L'Ostravie et la Kartenie ont convenu mardi de rouvrir leurs ambassades à Genève."
POLISH = "Prezydent powiedział, że rozmowy będą kontynuowane w przyszłym tygodniu. Źródło: agencja prasowa."


# Short French decodes without a flaw as cp1250 too ("à" as "ŕ"): the language decides the code page.
@pytest.mark.parametrize(("text", "codec"), [(RUSSIAN, "cp1251"), (FRENCH, "cp1252"), (SHORT_FRENCH, "cp1252"), (POLISH, "cp1250")])
def test_legacy_encodings_are_still_detected(tmp_path, text, codec):
    path = tmp_path / "doc.txt"
    path.write_bytes(text.encode(codec))
    (doc,), problems = load_documents([path])
    assert doc.text == text and not problems


@pytest.mark.parametrize(("text", "codec"), [(FRENCH, "utf-16-le"), (RUSSIAN, "utf-16-le"), (RUSSIAN, "utf-16-be")])
def test_utf16_without_bom_is_decoded(tmp_path, text, codec):
    path = tmp_path / "doc.txt"
    path.write_bytes(text.encode(codec))
    (doc,), problems = load_documents([path])
    assert doc.text == text and not problems


def test_reading_stops_at_the_byte_cap(tmp_path):
    (zeros,), _ = load_documents(["/dev/zero"], max_bytes=100_000)[1], None
    assert (zeros.path, zeros.code) == ("/dev/zero", "E102")
    big = tmp_path / "big.txt"
    big.write_text(RUSSIAN * 100, encoding="utf-8")
    (doc,), problems = load_documents([big], max_bytes=10_001)
    assert len(doc.text.encode("utf-8")) <= 10_001 and RUSSIAN[:40] in doc.text and "\ufffd" not in doc.text
    assert [p.code for p in problems] == ["W102"]
    records = tmp_path / "many.jsonl"
    records.write_text("".join(json.dumps({"id": f"r{i}", "text": f"Text number {i}."}) + "\n" for i in range(1000)), encoding="utf-8")
    docs, problems = load_documents([records], max_bytes=5_000)
    assert 0 < len(docs) < 1000 and [d.id for d in docs] == [f"r{i}" for i in range(len(docs))] and codes(problems) == ["W102"]
    whole = tmp_path / "many.json"
    whole.write_text(json.dumps([{"text": "x"}] * 1000), encoding="utf-8")
    docs, problems = load_documents([whole], max_bytes=5_000)
    assert not docs and codes(problems) == ["E104"] and "max_file_bytes" in problems[0].message


def test_html_is_cut_before_extraction(tmp_path):
    page = tmp_path / "page.html"
    article = "<p>The two ministers met in Geneva on Thursday and agreed to reopen the embassies.</p>"
    page.write_text("<html><body><article>" + article + "</article>" + "<div>filler</div>" * 200_000 + "</body></html>", encoding="utf-8")
    (doc,), problems = load_documents([page], max_html_bytes=100_000)
    assert "met in Geneva" in doc.text
    assert codes(problems) == ["W102"] and "before extraction" in problems[0].message


def test_an_empty_json_list_is_reported_not_dropped(tmp_path):
    """`[]` used to vanish: no document and no reason (a folder of many said nothing about it)."""
    (tmp_path / "none.json").write_text("[]", encoding="utf-8")
    (tmp_path / "one.json").write_text('[{"id": "r1", "text": "The two leaders met in Geneva."}]', encoding="utf-8")
    docs, problems = load_documents([tmp_path])
    assert [d.id for d in docs] == ["r1"]
    assert [(p.path, p.code, p.message) for p in problems] == [(str(tmp_path / "none.json"), "E101", "the JSON list holds no records")]


def test_html_without_article_logs_nothing_of_its_own(tmp_path, caplog):
    """trafilatura's "discarding data: None" reached the terminal as a stray `divergence:` line before the E101 line."""
    import logging

    (tmp_path / "blank.html").write_text("<html><body></body></html>", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        docs, problems = load_documents([tmp_path / "blank.html"])
    assert docs == [] and [(p.code, p.message) for p in problems] == [("E101", "no article text found in the HTML")]
    assert [r.getMessage() for r in caplog.records] == []


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_front_matter_is_read_whatever_the_line_endings(tmp_path, newline):
    """A file with bare-CR line endings kept its front matter as text: no source, no id, no date from it."""
    path = tmp_path / "a.txt"
    lines = ["---", "id: kremlin", "source: Kremlin", "published: 2021-11-16", "---", "Putin spoke with Macron by phone.", ""]
    path.write_bytes(newline.join(lines).encode("utf-8"))
    (doc,), problems = load_documents([path])
    assert not problems
    assert (doc.id, doc.source, str(doc.published)) == ("kremlin", "Kremlin", "2021-11-16")
    assert doc.text[doc.content_start :] == "Putin spoke with Macron by phone." + newline


def test_escape_sequences_in_an_article_become_spaces_offsets_kept(tmp_path):
    """An article's "ESC[2J" (clear screen) or OSC title sequence reached the terminal through the text report."""
    raw = "---\nsource: Wire\x1b[31m\n---\nKeller and Brandt spoke \x1b]0;pwned\x07by phone \x1b[2Jon Monday.\n"
    path = tmp_path / "a.txt"
    path.write_text(raw, encoding="utf-8")
    (doc,), problems = load_documents([path])
    assert not problems and doc.source == "Wire [31m"
    assert doc.text == raw.replace("\x1b", " ").replace("\x07", " ") and len(doc.text) == len(raw)
    (tmp_path / "b.json").write_text('{"text": "\\u001b\\u009b"}', encoding="utf-8")
    docs, problems = load_documents([tmp_path / "b.json"])
    assert docs == [] and [(p.code, p.message) for p in problems] == [("E101", "the record has no text")]


@pytest.mark.parametrize("raw", [b"\xef\xbb\xbf", b"\xff\xfe", b"\xef\xbb\xbf  \n"])
def test_a_file_of_a_byte_order_mark_only_is_empty(tmp_path, raw):
    """It was "no text after the front matter", for a file that has none."""
    (tmp_path / "bom.txt").write_bytes(raw)
    (tmp_path / "fm.txt").write_text("---\nsource: X\n---\n\n", encoding="utf-8")
    docs, problems = load_documents([tmp_path])
    assert docs == [] and sorted((Path(p.path).name, p.code, p.message) for p in problems) == [
        ("bom.txt", "E101", "the file is empty"), ("fm.txt", "E101", "no text after the front matter")]
