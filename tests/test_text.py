import datetime as dt

import pytest

from divergence.datamodel import Document
from divergence.ingest.attribution import attribute
from divergence.ingest.clean import clean
from divergence.ingest.dates import find_dates
from divergence.judge.checks import find_conflicts, name_key
from tests.conftest import SEEDS


def test_year_less_and_relative_dates():
    anchor = dt.date(2022, 1, 29)
    (m,) = find_dates("spoke this Friday, January 28 by telephone")
    assert (m.month, m.day, m.date, m.certain) == (1, 28, None, False)
    (m,) = find_dates("spoke this Friday, January 28 by telephone", anchor)
    assert m.date == dt.date(2022, 1, 28) and m.certain
    (m,) = find_dates("on Thursday the two met", anchor)
    assert m.date == dt.date(2022, 1, 27)
    (m,) = find_dates("le 16 novembre 2021 à Paris")
    assert m.date == dt.date(2021, 11, 16) and m.certain
    (m,) = find_dates("прибыла 21 сентября", dt.date(2025, 9, 22))
    assert m.date == dt.date(2025, 9, 21)


@pytest.mark.parametrize(
    "sentence, speaker, kind",
    [
        ('Macron is "confident," a French presidential official told reporters.', "a French presidential official", "anonymous"),
        ("In its readout of the call, the Kremlin said Putin said Ukraine must act.", "the Kremlin", "institution"),
        ("Les présidents ont parlé, a rapporté le service de presse du Kremlin.", "le service de presse du Kremlin", "institution"),
        ("Глава МИД Остравии Павел Дован заявил, что договорённости нет.", "Глава МИД Остравии Павел Дован", "person"),
        ("The leaders agreed to continue their conversations.", None, "outlet"),
    ],
)
def test_attribution(sentence, speaker, kind):
    found = attribute(sentence)
    assert (found.speaker, found.kind) == (speaker, kind)


def test_names_match_across_scripts():
    assert name_key("Путин") == name_key("Poutine") == name_key("Putin")
    assert name_key("Лукашенко") == name_key("Loukachenko") == name_key("Lukashenko")


@pytest.mark.parametrize(
    "claim, evidence, kind",
    [
        ("The call lasted forty minutes.", "Разговор продолжался более двух часов.", "number"),
        ("They will exchange twelve prisoners.", "Ils échangeront vingt prisonniers.", "number"),
        ("She arrived on 21 September.", "Elle est arrivée le 22 septembre.", "date"),
        ("Macron urged Putin to use his influence.", "Путин призвал Макрона использовать своё влияние.", "actor"),
        ("The sides agreed to reopen the embassies.", "Стороны не договорились о возобновлении работы посольств.", "negation"),
        ("The leaders agreed to resume talks.", "Les dirigeants ont refusé de reprendre les discussions.", "modality"),
        ("Le contrat vaut 27,5 milliards de dollars.", "The contract is worth $9.4 billion.", "number"),
        ("Trade increased by 12 percent last year.", "Les échanges ont diminué de 12 % l'an dernier.", "antonym"),
    ],
)
def test_explicit_conflicts(claim, evidence, kind):
    assert kind in {c.kind for c in find_conflicts(claim, evidence, strict=True)}


@pytest.mark.parametrize(
    "claim, evidence",
    [
        ("The conversation lasted more than an hour.", "La conversation a duré deux heures."),
        ("The talks lasted 90 minutes.", "Переговоры продолжались полтора часа."),
        ("It is not only about a phone call.", "It is about a phone call and a meeting."),
        ("They spoke on 16 November.", "Ils se sont parlé le 16 novembre."),
        ("The company paid $9.4 billion for the stake.", "Компания заплатила 9,4 млрд долларов за долю."),
    ],
)
def test_compatible_statements_do_not_conflict(claim, evidence):
    assert find_conflicts(claim, evidence, strict=True) == []


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed articles not present")
def test_seed_chrome_is_removed():
    from divergence.ingest.load import load_documents

    docs, _ = load_documents(sorted(SEEDS.glob("*.txt")))
    body = "\n".join(clean(d).span_text(s) for d in docs for s in clean(d).body)
    for chrome in ["Breaking News", "Accessibility links", "Other materials of", "Leave A Reply", "Support Us", "click here",
                   "15:19, 15 September", "(file photo)", "Spread the love", "INTERFAX.RU", "Russia Monitor is a review",
                   "With reporting by", "RFE/RL journalists report"]:
        assert chrome not in body, chrome
    assert "The leaders agreed to continue their regular one-on-one conversations" in body


def test_offsets_point_into_original_text():
    text = "Menu\nHome | News\n\nGENEVA (Wire) - The ministers met in Geneva on Thursday.\nThey agreed to talk again.\n© Wire"
    doc = clean(Document(id="x", text=text))
    kept = [doc.span_text(s) for s in doc.body]
    assert kept == ["The ministers met in Geneva on Thursday.", "They agreed to talk again."]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed articles not present")
def test_seed_pages_wrapped_at_72_columns_lose_their_chrome_and_keep_their_text():
    import textwrap

    for path in sorted(SEEDS.glob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        wrapped = "\n".join(
            textwrap.fill(line, 72, break_on_hyphens=False, break_long_words=False) if line.strip() else ""
            for line in raw.splitlines()
        )
        as_page, as_wrapped = clean(Document(id="p", text=raw)), clean(Document(id="w", text=wrapped))
        page_text = " ".join(" ".join(as_page.span_text(s) for s in as_page.body).split())
        wrapped_text = " ".join(" ".join(as_wrapped.span_text(s) for s in as_wrapped.body).split())
        assert wrapped_text == page_text, path.name


def test_dates_at_the_ends_of_the_calendar_are_unknown_rather_than_a_crash():
    last, first = dt.date.max, dt.date.min  # 9999-12-31 (a Friday), 0001-01-01 (a Monday)
    found = {m.text: m.date for m in find_dates("On 11 March, on Saturday and yesterday", last)}
    assert found == {"11 March": dt.date(9999, 3, 11), "on Saturday": dt.date(9999, 12, 25), "yesterday": dt.date(9999, 12, 30)}
    found = {m.text: m.date for m in find_dates("On 11 March, on Sunday, today and yesterday", first)}
    assert found == {"11 March": None, "on Sunday": None, "today": first, "yesterday": None}
