"""What a question names, learnt from the pages (``assistant.names``), and the passages set aside as about something
else: on made-up pages for the learning, on the bundled corpus for the answers."""

from __future__ import annotations

import pytest

from assistant.names import learn
from assistant.service import Assistant
from vectorstore.records import Chunk


def chunk(doc: str, text: str, title: str = "A page") -> Chunk:
    return Chunk(
        id=f"{doc}-{abs(hash(text))}", doc_id=doc, text=text, title=title, url=f"https://example.org/{doc}", link=""
    )


# Ten made-up pages: "Zorvex" is a named system on two of them; "Policy" starts sentences; "Freedonia" is no place
# the rules know, so it is a name; "Italy" is a place; "March" sits beside dates; "Union" is on every page.
PAGES = [
    chunk(f"p{n}", f"Policy texts matter. The Union sets rules here. They entered into force on {n} March 2024.")
    for n in range(8)
] + [
    chunk("z1", "The Zorvex register holds records. Officials consult Zorvex daily. Only Zorvex stores prints."),
    chunk("z2", "A fee applies to Zorvex checks in Italy and in Freedonia. Italy and Freedonia and Freedonia agree."),
]


@pytest.mark.unit
def test_names_are_words_the_pages_capitalise_inside_sentences_on_some_pages_only() -> None:
    names = learn(PAGES)

    assert "zorvex" in names.words and "freedonia" in names.words
    assert "policy" not in names.words  # capitalised only at the start of sentences
    assert "italy" not in names.words  # a place: where the asker is, not what the question is about
    assert "march" not in names.words  # next to numbers: part of dates
    assert "union" not in names.words  # on every page: tells no page apart
    assert names.named("how much does a zorvex check cost in italy?") == {"zorvex"}


@pytest.mark.unit
def test_passages_that_name_none_of_what_the_question_names_are_set_aside_only_when_others_do() -> None:
    names = learn(PAGES)
    about, other = PAGES[8], PAGES[0]

    assert names.off_target("What does Zorvex store?", [other, about, other]) == (frozenset({"zorvex"}), (0, 2))
    assert names.off_target("What does Zorvex store?", [other, other]) == (frozenset({"zorvex"}), ())
    assert names.off_target("What are the rules?", [other, about]) == (frozenset(), ())


def test_a_question_about_one_named_thing_is_not_answered_from_a_page_about_another(
    corpus_assistant: Assistant,
) -> None:
    """The bundled corpus has the ETIAS fee but no figure for the Schengen visa fee: asked the latter, the assistant
    must not quote the former as the answer."""
    answer = corpus_assistant.ask("How much does a Schengen visa cost for a child?")

    retrieve = next(s for s in answer.trace if s["stage"] == "retrieve")
    assert "schengen" in retrieve["details"].get("named", [])
    etias = [p.rank for p in answer.passages if p.title.startswith("ETIAS")]
    assert etias and set(etias) <= set(retrieve["details"]["about_something_else"])
    assert "EUR 20" not in answer.text
    assert not any(c.title.startswith("ETIAS") for c in answer.citations)
