"""Sentence segmentation on news prose: the cuts pysbd makes inside a sentence are joined back, real ends stay.

The sentences were written for these tests, after the kinds of cut found on the real-news gold (a clock time
before its day or zone, a book title ending in "!", a state abbreviation before ", a letter", a quotation closed
by a comma before its speaker, a semicolon inside a quotation).
"""

import pytest

from divergence.config import Settings
from divergence.datamodel import Document
from divergence.ingest.prepare import prepare
from divergence.ingest.segment import sentence_spans


def sentences(text: str, language: str) -> list[str]:
    spans = sentence_spans(text, language)
    assert all(text[s:e] == text[s:e].strip() and text[s:e] for s, e in spans)
    return [text[s:e] for s, e in spans]


@pytest.mark.parametrize(
    "sentence",
    [
        # a clock abbreviation before the day, the zone or the place it belongs to
        "The ferry strike will start at 5 a.m. Monday, the dockers' union said in a statement.",
        "The storm reached the coast at about 11:40 p.m. Eastern Time (0340 GMT) and weakened overnight.",
        "Voting closes at 8 p.m. local time in most of the provinces, officials said.",
        "The talks resumed at 9 a.m. in the capital, three hours later than planned.",
        "The market reopened at 10 a.m. Tuesday after a two-day closure over the floods.",
        # a title ending in "!" or "?" inside the sentence
        "The mayor, who wrote a 2008 memoir titled Never Again!: A Life in City Hall, resigned on Friday.",
        'She first became known as a contestant on "Who Owns the Island?" in 2011, a court filing shows.',
        'The crowd chanted "Not one more!" until the police cleared the square after midnight.',
        # an abbreviation followed by the rest of the sentence after a comma
        "A group of 40 pastors from Tulsa, Okla., has sent Senator Marlow, R-Kan., a letter urging him to vote no.",
        "Representative Alden Voss, D-Ore., also said the bill would not pass this year.",
        # a quotation closed by a comma, then its speaker (pysbd cuts before a speaker whose title is in capitals)
        "\"We will not accept a deal that leaves the farmers out, 'not now and not ever,'\" NFU leader Mara Quint said on Sunday.",
    ],
)
def test_a_sentence_pysbd_cuts_inside_is_one_sentence(sentence):
    text = f"The council met on Thursday. {sentence} The vote is expected next week."
    assert sentences(text, "en") == ["The council met on Thursday.", sentence, "The vote is expected next week."]


@pytest.mark.parametrize(
    "text, expected",
    [
        # a clock abbreviation at the end of a sentence, followed by a name: two sentences
        ("The judge set the hearing for May 3 at 2 p.m. Voss will remain free until then.",
         ["The judge set the hearing for May 3 at 2 p.m.", "Voss will remain free until then."]),
        ("The polls closed at 7 p.m. Officials began counting at once.",
         ["The polls closed at 7 p.m.", "Officials began counting at once."]),
        # an exclamation or a question followed by a capitalised sentence
        ('"Enough!" The minister left the room before the vote.', ['"Enough!"', "The minister left the room before the vote."]),
        ("Who pays for the bridge? The province says the federal government should.",
         ["Who pays for the bridge?", "The province says the federal government should."]),
        ('"Not a good day," the coach said. "We lost our heads in the second half."',
         ['"Not a good day," the coach said.', '"We lost our heads in the second half."']),
    ],
)
def test_real_sentence_ends_stay(text, expected):
    assert sentences(text, "en") == expected


@pytest.mark.parametrize(
    "text, language, expected",
    [
        ("Les ministres se sont réunis à Genève jeudi. « Pourquoi attendre ? » a demandé le ministre. Les discussions reprendront lundi.",
         "fr", ["Les ministres se sont réunis à Genève jeudi.", "« Pourquoi attendre ? » a demandé le ministre.",
                "Les discussions reprendront lundi."]),
        ("Les négociations ont repris à 9 h. Le ministre est arrivé en retard. M. Dubois a parlé d'un « accord historique ».",
         "fr", ["Les négociations ont repris à 9 h.", "Le ministre est arrivé en retard.",
                "M. Dubois a parlé d'un « accord historique »."]),
        ("Министры встретились в Женеве в четверг. «Хватит!» — сказал министр. Переговоры продолжатся в понедельник.",
         "ru", ["Министры встретились в Женеве в четверг.", "«Хватит!» — сказал министр.", "Переговоры продолжатся в понедельник."]),
        ("Die Minister trafen sich am Donnerstag in Genf. „Genug!“, rief der Minister. Die Gespräche gehen am Montag weiter.",
         "de", ["Die Minister trafen sich am Donnerstag in Genf.", "„Genug!“, rief der Minister.",
                "Die Gespräche gehen am Montag weiter."]),
        ("Die Sitzung begann um 9 Uhr. Dr. Keller sprach zuerst. Danach folgte die Abstimmung.",
         "de", ["Die Sitzung begann um 9 Uhr.", "Dr. Keller sprach zuerst.", "Danach folgte die Abstimmung."]),
    ],
)
def test_french_russian_and_german_sentences_are_unchanged(text, language, expected):
    assert sentences(text, language) == expected


def test_a_semicolon_inside_a_quotation_does_not_split_the_claim_from_its_speaker():
    quoted = "“She does not just promise new roads; she builds them in every county,” Governor Tess Harlow said."
    plain = "The ministry raised the fuel tax by four cents last spring; the opposition promised to cut it again soon."
    text = f"{quoted} {plain}"
    _, claims = prepare(Document(id="doc", text=text), Settings())
    assert [c.text for c in claims] == [
        quoted,
        "The ministry raised the fuel tax by four cents last spring;",
        "the opposition promised to cut it again soon.",
    ]
    assert all(text[c.start : c.end] == c.text for c in claims)
    assert claims[0].speaker == "Governor Tess Harlow"


def test_joined_sentences_keep_offsets_into_the_original_text():
    text = ("The council met on Thursday.\nThe strike begins at 6 a.m. Friday,\nlocal time, "
            "the union said. Voting ends at 8 p.m. Results are due by midnight.")
    _, claims = prepare(Document(id="doc", text=text), Settings())
    assert all(text[c.start : c.end] == c.text for c in claims)
    assert [c.text.split()[0] for c in claims] == ["The", "The", "Voting", "Results"]
    assert claims[1].text.endswith("the union said.")
