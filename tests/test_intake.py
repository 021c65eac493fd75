"""Intake keeps the text: hard-wrapped readouts, every script's sentences, bounded claims, atomic claims.

The readouts and paragraphs below were written for these tests, in the style of
government readouts and wire copy; they are wrapped here the way mail and wire
systems wrap them (greedy, at 72 columns).
"""

import re
import textwrap

import pytest

from divergence.config import Settings
from divergence.datamodel import Document
from divergence.ingest.atoms import atomise
from divergence.ingest.clean import clean
from divergence.ingest.prepare import prepare, prepare_inputs

READOUT_EN = [
    "President Harlan Reeve spoke today with President Émile Daucourt of France to discuss the security situation in the Sahel and the war in Ukraine.",
    "The two leaders condemned the attack on a United Nations convoy near Gao on Monday, which killed four peacekeepers.",
    "President Reeve reaffirmed the commitment of the United States to supporting Ukraine for as long as it takes, and the leaders agreed to coordinate new sanctions against those who evade existing measures.",
    "They also discussed energy security in Europe ahead of the coming winter.",
    "President Reeve welcomed France's decision to host a donors' conference in Paris in April.",
    "The leaders underscored the importance of the transatlantic relationship in the face of this continuing challenge.",
    "They agreed to remain in close contact in the coming weeks.",
]
READOUT_FR = [
    "Le Président de la République s'est entretenu ce jour avec le Premier ministre Tomasz Wierzbicki de la situation en Ukraine et de la sécurité énergétique de l'Union européenne.",
    "Les deux dirigeants ont salué l'adoption du nouveau paquet de sanctions et ont appelé à renforcer leur mise en œuvre.",
    "Le Président de la République a rappelé que la France se tenait aux côtés des Ukrainiens et qu'elle continuerait à leur apporter un soutien militaire, humanitaire et économique.",
    "Ils sont convenus de se retrouver à Varsovie au mois de mai, en marge du sommet du Triangle de Weimar.",
    "Les deux dirigeants ont enfin évoqué la préparation du prochain Conseil européen.",
]
ZH = ["两国外长星期四在日内瓦举行会谈。", "双方同意在下个月重新开放大使馆！", "会谈持续了大约三个小时。", "记者问：“双方是否讨论了能源问题？”", "发言人没有回答。"]
HI = [
    "दोनों देशों के विदेश मंत्रियों ने गुरुवार को जिनेवा में मुलाकात की।",
    "उन्होंने अगले महीने दूतावास फिर से खोलने पर सहमति जताई।",
    "बातचीत लगभग तीन घंटे चली।",
    "क्या ऊर्जा पर भी चर्चा हुई?",
]
AR = ["التقى وزيرا الخارجية في جنيف يوم الخميس.", "هل ناقشا مسألة الطاقة؟", "واتفقا على إعادة فتح السفارتين في الشهر المقبل."]
TH = [
    "รัฐมนตรีต่างประเทศของทั้งสองประเทศพบกันที่นครเจนีวาเมื่อวันพฤหัสบดีที่ผ่านมาเพื่อหารือเรื่องความมั่นคง",
    "ทั้งสองฝ่ายตกลงที่จะเปิดสถานทูตอีกครั้งในเดือนหน้าหลังจากปิดไปนานกว่าหนึ่งปีเนื่องจากความขัดแย้ง",
    "การเจรจาครั้งนี้ใช้เวลาประมาณสามชั่วโมงและจะมีการประชุมครั้งต่อไปที่กรุงเทพมหานครในเดือนมิถุนายน",
]


def wrapped(paragraphs: list[list[str]]) -> str:
    return "\n\n".join(textwrap.fill(" ".join(sentences), 72, break_on_hyphens=False, break_long_words=False) for sentences in paragraphs)


def white_house(body: str) -> str:
    return (
        "THE WHITE HOUSE\nOffice of the Press Secretary\n\nFOR IMMEDIATE RELEASE\nMarch 3, 2026\n\n"
        "Readout of President Harlan Reeve's Call with President Émile Daucourt of France\n\n" + body + "\n\n###\n"
    )


def elysee(body: str) -> str:
    return "Élysée\nAccueil > Actualités > Communiqués\n\nEntretien avec M. Tomasz Wierzbicki\nPublié le 3 mars 2026\n\n" + body + "\n\nPartager sur Facebook\n"


def located(text: str, sentence: str) -> tuple[int, int]:
    """Where ``sentence`` is in ``text``, whatever whitespace the wrapping put between its words."""
    match = re.search(r"\s+".join(map(re.escape, sentence.split())), text)
    assert match, sentence
    return match.span()


def assert_every_sentence_reaches_a_claim(text: str, sentences: list[str], language: str | None = None):
    document, claims = prepare(Document(id="doc", text=text, language=language), Settings())
    for claim in claims:
        assert text[claim.start : claim.end] == claim.text
        for atom in claim.atoms:
            assert text[atom.start : atom.end] == atom.text
            assert claim.start <= atom.start <= atom.end <= claim.end
    covered = set()
    for claim in claims:
        covered.update(range(claim.start, claim.end))
    for sentence in sentences:
        start, end = located(text, sentence)
        letters = [i for i in range(start, end) if text[i].isalpha()]
        assert all(i in covered for i in letters), sentence
    return document, claims


def kept_share(text: str, sentences: list[str]) -> float:
    document = clean(Document(id="doc", text=text))
    kept = {i for span in document.body for i in range(span.start, span.end)}
    wanted = [i for s in sentences for i in range(*located(text, s))]
    return sum(i in kept for i in wanted) / len(wanted)


READOUT_EN_PARAGRAPHS = [READOUT_EN[:2], READOUT_EN[2:5], READOUT_EN[5:]]


def test_hard_wrapped_english_readout_keeps_every_sentence():
    text = white_house(wrapped(READOUT_EN_PARAGRAPHS))
    assert max(len(line) for line in text.splitlines()) <= 81
    assert kept_share(text, READOUT_EN) == 1.0
    document, claims = assert_every_sentence_reaches_a_claim(text, READOUT_EN)
    assert document.title == "Readout of President Harlan Reeve's Call with President Émile Daucourt of France"
    for chrome in ["THE WHITE HOUSE", "Office of the Press Secretary", "FOR IMMEDIATE RELEASE", "###"]:
        assert all(chrome not in claim.text for claim in claims), chrome
    # The headline is a claim of its own, first and marked; then one claim per sentence, not one per wrapped line.
    headline, *claims = claims
    assert (headline.headline, headline.text) == (True, document.title) and not any(c.headline for c in claims)
    assert len(claims) == len(READOUT_EN)
    assert "the face of this continuing challenge." in claims[5].text and claims[5].text.startswith("The leaders underscored")


def test_hard_wrapped_french_readout_keeps_every_sentence():
    text = elysee(wrapped([READOUT_FR[:2], READOUT_FR[2:]]))
    assert kept_share(text, READOUT_FR) == 1.0
    document, claims = assert_every_sentence_reaches_a_claim(text, READOUT_FR)
    assert [c.text for c in claims if c.headline] == [document.title] == ["Entretien avec M. Tomasz Wierzbicki"]
    assert len([c for c in claims if not c.headline]) == len(READOUT_FR)
    assert all("Accueil" not in c.text and "Partager" not in c.text and "Publié" not in c.text for c in claims)


def test_wrapped_paragraphs_stay_apart_at_blank_lines():
    text = wrapped(READOUT_EN_PARAGRAPHS)
    document = clean(Document(id="doc", text=text))
    assert len(document.body) == 3
    assert [document.span_text(span).split()[0] for span in document.body] == ["President", "President", "The"]


def test_one_sentence_per_line_text_is_not_reflowed():
    text = "GENEVA (Wire) - The ministers met in Geneva on Thursday.\nThey agreed to talk again.\nBoth sides called the talks useful."
    kept = [clean(Document(id="x", text=text)).span_text(s) for s in clean(Document(id="x", text=text)).body]
    assert kept == ["The ministers met in Geneva on Thursday.", "They agreed to talk again.", "Both sides called the talks useful."]


@pytest.mark.parametrize("sentences, language", [(ZH, "zh-cn"), (HI, "hi"), (AR, "ar")])
def test_each_sentence_of_a_paragraph_in_another_script_is_a_claim(sentences, language):
    joiner = "" if sentences is ZH else " "
    text = joiner.join(sentences)
    document, claims = assert_every_sentence_reaches_a_claim(text, sentences)
    assert document.language == language.split("-")[0] or document.language == language
    assert [c.text for c in claims] == sentences


def test_a_chinese_or_hindi_document_is_never_refused():
    documents, claims, problems = prepare_inputs([("zh", "".join(ZH)), ("hi", " ".join(HI)), ("short", "会谈结束。")], Settings())
    assert problems == []
    assert [d.id for d in documents] == ["zh", "hi", "short"]
    assert len(claims["zh"]) == len(ZH) and len(claims["hi"]) == len(HI) and len(claims["short"]) == 1


def test_any_text_with_words_gives_claims():
    for text in ["Ukraine", "Talks resume\nSanctions stay", "Hello world."]:
        _, claims, problems = prepare_inputs([("x", text)], Settings())
        assert problems == [] and claims["x"], text


def test_thai_without_punctuation_is_cut_by_length():
    text = " ".join(TH)
    _, claims = assert_every_sentence_reaches_a_claim(text, TH)
    assert len(claims) >= 2
    assert all(len(c.text) < 2 * len(max(TH, key=len)) for c in claims)


def test_mixed_script_document_segments_each_paragraph_in_its_own_script():
    paragraphs = [READOUT_EN[:3], ZH, HI, AR, TH, READOUT_FR[:2]]
    text = "\n\n".join(("" if p is ZH else " ").join(p) for p in paragraphs)
    _, claims = assert_every_sentence_reaches_a_claim(text, [s for p in paragraphs for s in p])
    texts = [c.text for c in claims]
    for sentence in ZH + HI + AR:
        assert sentence.strip() in texts


@pytest.mark.parametrize("text", [" ".join(["ceasefire talks resumed"] * 20_000), "x" * 150_000, "停火谈判" * 30_000])
def test_long_runs_without_punctuation_give_bounded_claims_that_cover_them(text):
    settings = Settings(max_claim_chars=400)
    _, claims = prepare(Document(id="long", text=text), settings)
    assert all(len(c.text) <= 400 for c in claims)
    assert all(text[c.start : c.end] == c.text for c in claims)
    assert sorted(claims, key=lambda c: c.start) == claims
    covered = bytearray(len(text))
    for claim in claims:
        covered[claim.start : claim.end] = b"\x01" * (claim.end - claim.start)
    assert all(covered[i] for i, char in enumerate(text) if not char.isspace())


# --- atomic claims -------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence, language, statements, own",
    [
        (
            "The two leaders discussed Ukraine, Iran and the situation in Mali.",
            "en",
            ["The two leaders discussed Ukraine", "The two leaders discussed Iran", "The two leaders discussed the situation in Mali"],
            ["Ukraine", "Iran", "the situation in Mali"],
        ),
        (
            "Macron raised the case of the journalists, while Putin spoke about gas transit.",
            "en",
            ["Macron raised the case of the journalists", "Putin spoke about gas transit"],
            ["Macron raised the case of the journalists", "Putin spoke about gas transit"],
        ),
        (
            "The leaders discussed the war in Ukraine and also raised the situation in the Sahel.",
            "en",
            ["The leaders discussed the war in Ukraine", "The leaders raised the situation in the Sahel"],
            ["The leaders discussed the war in Ukraine", "raised the situation in the Sahel"],
        ),
        (
            "Putin said that Russia would not attack Ukraine and that NATO must give security guarantees.",
            "en",
            ["Putin said that Russia would not attack Ukraine", "Putin said that NATO must give security guarantees"],
            ["Russia would not attack Ukraine", "NATO must give security guarantees"],
        ),
        (
            "Putin and Macron discussed Ukraine, Iran and Mali, the Kremlin said.",
            "en",
            ["Putin and Macron discussed Ukraine", "Putin and Macron discussed Iran", "Putin and Macron discussed Mali"],
            ["Ukraine", "Iran", "Mali"],
        ),
        (
            "The committee chairman resigned last month and is now among the candidates for the post.",
            "en",
            ["The committee chairman resigned last month", "The committee chairman is now among the candidates for the post"],
            ["The committee chairman resigned last month", "is now among the candidates for the post"],
        ),
        (
            "The envoy warned that the truce was fragile and was unlikely to hold.",
            "en",
            ["The envoy warned that the truce was fragile", "The envoy warned that the truce was unlikely to hold"],
            ["The envoy warned that the truce was fragile", "was unlikely to hold"],
        ),
        (
            "Observers say the monitors who fact-checked the lists are independent and are paid by the mission.",
            "en",
            ["Observers say the monitors who fact-checked the lists are independent", "Observers say the monitors are paid by the mission"],
            ["Observers say the monitors who fact-checked the lists are independent", "are paid by the mission"],
        ),
        (
            "Les deux présidents ont évoqué l'Ukraine, l'Iran et la situation au Mali.",
            "fr",
            ["Les deux présidents ont évoqué l'Ukraine", "Les deux présidents ont évoqué l'Iran", "Les deux présidents ont évoqué la situation au Mali"],
            ["l'Ukraine", "l'Iran", "la situation au Mali"],
        ),
        (
            "Emmanuel Macron a déclaré que la France restait mobilisée et que le dialogue devait se poursuivre.",
            "fr",
            ["Emmanuel Macron a déclaré que la France restait mobilisée", "Emmanuel Macron a déclaré que le dialogue devait se poursuivre"],
            ["la France restait mobilisée", "le dialogue devait se poursuivre"],
        ),
        (
            "Путин и Макрон обсудили ситуацию на Украине, ядерную программу Ирана и положение в Мали.",
            "ru",
            ["Путин и Макрон обсудили ситуацию на Украине", "Путин и Макрон обсудили ядерную программу Ирана", "Путин и Макрон обсудили положение в Мали"],
            ["ситуацию на Украине", "ядерную программу Ирана", "положение в Мали"],
        ),
        (
            "Путин заявил, что Россия не собирается нападать, и что НАТО должно дать гарантии.",
            "ru",
            ["Путин заявил, что Россия не собирается нападать", "Путин заявил, что НАТО должно дать гарантии"],
            ["Россия не собирается нападать", "НАТО должно дать гарантии"],
        ),
        (
            "Президенты обсудили газовый транзит, а также договорились о встрече в июне.",
            "ru",
            ["Президенты обсудили газовый транзит", "Президенты договорились о встрече в июне"],
            ["Президенты обсудили газовый транзит", "договорились о встрече в июне"],
        ),
        (
            "Стороны обсудили продление соглашения о транзите газа и договорились провести новую встречу в июне.",
            "ru",
            ["Стороны обсудили продление соглашения о транзите газа", "Стороны договорились провести новую встречу в июне"],
            ["Стороны обсудили продление соглашения о транзите газа", "договорились провести новую встречу в июне"],
        ),
        (
            "Les deux dirigeants ont salué l'adoption des sanctions et ont appelé à renforcer leur mise en œuvre.",
            "fr",
            ["Les deux dirigeants ont salué l'adoption des sanctions", "Les deux dirigeants ont appelé à renforcer leur mise en œuvre"],
            ["Les deux dirigeants ont salué l'adoption des sanctions", "ont appelé à renforcer leur mise en œuvre"],
        ),
        # A short second predicate after a list (too short for a clause of its own) is a part too: it was dropped, so
        # the claim was "supported" when the other document listed the topics but never said they agreed to meet.
        (
            "Президенты обсудили Мали, Ливию и Нигер и договорились встретиться.",
            "ru",
            ["Президенты обсудили Мали", "Президенты обсудили Ливию", "Президенты обсудили Нигер", "Президенты договорились встретиться"],
            ["Мали", "Ливию", "Нигер", "договорились встретиться"],
        ),
        (
            "Les présidents ont discuté du Mali et de la Libye et ont convenu.",
            "fr",
            ["Les présidents ont discuté du Mali", "Les présidents ont discuté de la Libye", "Les présidents ont convenu"],
            ["du Mali", "de la Libye", "ont convenu"],
        ),
        # An irregular past ("left") closes the list too, with or without an adverb, and a subject set off by a relative
        # clause lends itself to it; before, "left" was taken for a third topic ("Keller discussed left").
        (
            "Keller, who met Brandt, discussed Mali and Libya and left.",
            "en",
            ["Keller, who met Brandt, discussed Mali", "Keller, who met Brandt, discussed Libya", "Keller left"],
            ["Mali", "Libya", "left"],
        ),
        (
            "Macron discussed Ukraine, Mali and Libya and then left Paris.",
            "en",
            ["Macron discussed Ukraine", "Macron discussed Mali", "Macron discussed Libya", "Macron then left Paris"],
            ["Ukraine", "Mali", "Libya", "then left Paris"],
        ),
        # … but the noun stays a topic.
        (
            "Keller discussed Mali and the left.",
            "en",
            ["Keller discussed Mali", "Keller discussed the left"],
            ["Mali", "the left"],
        ),
    ],
)
def test_compound_claims_split_into_atoms_with_offsets(sentence, language, statements, own):
    prefix = "Headline words. "
    text = prefix + sentence
    atoms = atomise(sentence, len(prefix), language)
    assert [a.statement for a in atoms] == statements
    assert [a.text for a in atoms] == own
    for atom in atoms:
        assert text[atom.start : atom.end] == atom.text
        assert all(text[c.start : c.end] in atom.statement and c.end <= atom.start for c in atom.context)


@pytest.mark.parametrize(
    "sentence, language",
    [
        ("The United States and France agreed to continue their consultations.", "en"),
        ("Ukraine needed to fulfil a 2015 deal brokered by France and Germany aimed at ending the fighting.", "en"),
        ("Lavrov added relations between Moscow and the European Union had reached a dead end.", "en"),
        ("Ils ont discuté de la coopération, y compris la situation en Libye, au Haut-Karabakh et en Ukraine.", "fr"),
        ("Les dirigeants ont discuté de la prolongation de l'accord sur le transit du gaz.", "fr"),
        ("The two ministers met in Geneva on Thursday.", "en"),
        ("Путин и Макрон провели телефонный разговор в понедельник.", "ru"),
        ("The talks covered a bill that reaffirmed the truce and encouraged prisoner exchanges.", "en"),
        ("两国外长星期四在日内瓦举行会谈，并讨论了能源和安全问题。", "zh"),
    ],
)
def test_single_facts_and_noun_coordination_stay_whole(sentence, language):
    assert atomise(sentence, 0, language) == []


def test_a_list_naming_one_item_twice_states_each_fact_once():
    atoms = atomise("The presidents discussed Mali, Libya and Mali.", 0, "en")
    assert [a.statement for a in atoms] == ["The presidents discussed Mali", "The presidents discussed Libya"]
    assert atomise("The presidents discussed Mali, Mali and Mali.", 0, "en") == []  # one fact: judged whole


def test_claims_carry_their_atoms_through_prepare():
    text = "The two leaders discussed Ukraine, Iran and the situation in Mali. They agreed to talk again next week."
    _, claims = prepare(Document(id="doc", text=text, language="en"), Settings())
    assert [len(c.atoms) for c in claims] == [3, 0]
    assert [text[a.start : a.end] for a in claims[0].atoms] == ["Ukraine", "Iran", "the situation in Mali"]


def test_crlf_wrapped_readout_keeps_every_sentence_with_offsets_into_the_file(tmp_path):
    path = tmp_path / "readout.txt"
    path.write_bytes(white_house(wrapped(READOUT_EN_PARAGRAPHS)).replace("\n", "\r\n").encode("utf-8"))
    documents, claims, problems = prepare_inputs([str(path)], Settings())
    raw = path.read_bytes().decode("utf-8")
    assert problems == [] and len([c for c in claims[documents[0].id] if not c.headline]) == len(READOUT_EN)
    for claim in claims[documents[0].id]:
        assert raw[claim.start : claim.end] == claim.text


KREMLIN_STYLE = (
    "Telephone conversation with President of Norland Anton Keller\n\n09:28, 16 November\n\n"
    "Telephone conversation with President of Norland Anton Keller took place today.\n\n"
    "The presidents discussed the gas transit agreement and agreed to meet in June.\n"
)
WIRE_STYLE = (
    "Keller and Varga vow to revive fishing talks\n\n"
    "President Anton Keller of Norland and President Elena Varga of Ostravia spoke by telephone on Tuesday.\n"
    "Both presidents agreed to resume the stalled talks on fishing quotas.\n"
)


def test_a_headline_is_a_claim_unless_the_lead_repeats_it():
    document, claims = prepare(Document(id="wire", text=WIRE_STYLE), Settings())
    assert [(c.headline, c.text) for c in claims][0] == (True, "Keller and Varga vow to revive fishing talks")
    assert document.span_text(document.headline) == claims[0].text and claims[0].start == 0
    # An official readout opens with its title as a sentence: one claim, not the same words twice.
    _, claims = prepare(Document(id="kremlin", text=KREMLIN_STYLE), Settings())
    assert not any(c.headline for c in claims) and claims[0].text.startswith("Telephone conversation with President")
    # A title given as metadata is not in the text: no claim to point at.
    _, claims = prepare(Document(id="meta", text=WIRE_STYLE.split("\n\n", 1)[1], title="Keller and Varga vow"), Settings())
    assert not any(c.headline for c in claims)
    _, claims = prepare(Document(id="off", text=WIRE_STYLE), Settings(judge_headlines=False))
    assert not any(c.headline for c in claims)


def test_a_headline_claim_leaves_the_event_signals_unchanged():
    import numpy as np

    from divergence.events.profile import build_profile

    with_headline = prepare(Document(id="wire", text=WIRE_STYLE), Settings())
    without = prepare(Document(id="wire", text=WIRE_STYLE), Settings(judge_headlines=False))
    vectors = np.eye(8, dtype=np.float32)
    a = build_profile(with_headline[0], with_headline[1], vectors[: len(with_headline[1])])
    b = build_profile(without[0], without[1], vectors[1 : len(without[1]) + 1])  # the same sentences, the same rows
    assert len(a.claim_vectors) == len(b.claim_vectors) + 1  # the judge still gets every claim's vector
    assert (a.content_hash, a.names, a.participants, a.label) == (b.content_hash, b.names, b.participants, b.label)
    assert np.array_equal(a.vector, b.vector) and np.array_equal(a.sentence_vectors, b.sentence_vectors)


def test_a_headline_claim_is_judged_and_shown_in_every_view():
    import divergence
    from divergence.report.render import to_html, to_markdown

    other = ("Norland and Ostravia will resume fishing talks\n\n"
             "The presidents of Norland and Ostravia, Anton Keller and Elena Varga, talked on the phone on Tuesday.\n"
             "They agreed to resume the talks on fishing quotas that stalled last year.\n")
    report = divergence.compare([("wire", WIRE_STYLE), ("other", other)])
    headlines = [c for c in report.events[0].claims if c.headline]
    assert [c.document for c in headlines] == ["wire", "other"]
    assert all(set(c.statuses) == ({"wire", "other"} - {c.document}) for c in headlines)
    page = to_html(report)
    assert all(f'data-claim="{c.id}"' in page for c in headlines)
    assert "**Headline:** Keller and Varga vow to revive fishing talks" in to_markdown(report)
