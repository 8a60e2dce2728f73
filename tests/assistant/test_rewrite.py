"""Rewrite mode's checks with the bundled model, on extracts the real extractive composer gave (no language model).

What a model may write is played here by hand-made rewrites of those extracts: faithful, with an invented figure,
without markers, repeated, or shorter than the extract. ``test_local_model.py`` runs a real model through the same
path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from assistant import messages, prompts
from assistant.answer import AnswerSentence
from assistant.compose.rewrite import Rewriter, check, confirmed, line_for_line, missing, translated
from assistant.errors import ComposerError
from assistant.service import Assistant, Final, Partial
from assistant.verify import Cited, CrossLanguageVerifier, numbers_in, render
from common.settings import Settings
from vectorstore.embeddings import Embedder
from vectorstore.store import Store

FEE_QUESTION = "How much does ETIAS cost?"


class ScriptedModel:
    """Plays a chat model: its reply is made from the prompt's messages by ``write``; it records the prompts."""

    def __init__(self, write: Callable[[list[dict[str, str]]], object]) -> None:
        self.write = write
        self.prompts: list[list[dict[str, str]]] = []

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        self.prompts.append(messages)
        reply = self.write(messages)
        if isinstance(reply, Exception):
            raise reply
        for word in reply.split(" "):
            yield word + " "


@pytest.fixture
def extract(corpus_assistant: Assistant) -> list[AnswerSentence]:
    answer = corpus_assistant.ask(FEE_QUESTION)
    assert not answer.refused and len(answer.sentences) >= 2
    return answer.sentences


def test_a_faithful_rewrite_with_its_markers_is_kept(
    corpus_assistant: Assistant, extract: list[AnswerSentence]
) -> None:
    written = [Cited(s.text.replace("will be", "is"), s.citations) for s in extract]

    kept, dropped = check(written, extract, corpus_assistant.verifier)

    assert [k.text for k in kept] == [w.text for w in written] and not dropped
    assert [k.citations for k in kept] == [s.citations for s in extract]


def test_an_invented_figure_is_dropped(corpus_assistant: Assistant, extract: list[AnswerSentence]) -> None:
    first = extract[0]
    changed = next(n for n in sorted(numbers_in(first.text)) if n.isdigit())
    invented = Cited(first.text.replace(changed, str(int(changed) * 7 + 3), 1), first.citations)

    kept, dropped = check([invented], extract, corpus_assistant.verifier)

    assert not kept and [d.text for d in dropped] == [invented.text]


def test_a_sentence_without_a_marker_is_credited_to_the_sentence_that_backs_it(
    corpus_assistant: Assistant, extract: list[AnswerSentence]
) -> None:
    last = extract[-1]

    kept, _ = check([Cited(last.text, ())], extract, corpus_assistant.verifier)

    assert len(kept) == 1 and set(kept[0].citations) <= set(last.citations) and kept[0].citations


def test_a_sentence_whose_marker_passes_also_cites_the_given_sentence_that_backs_it_best(
    corpus_assistant: Assistant,
) -> None:
    given = [
        AnswerSentence("Jobseekers from outside the EU can register in the EU Talent Pool to find employers.", (1,)),
        AnswerSentence("Registering in the EU Talent Pool is free of charge for jobseekers.", (2,)),
    ]
    written = Cited("Jobseekers from outside the EU can register in the EU Talent Pool free of charge.", (1,))

    kept, dropped = check([written], given, corpus_assistant.verifier)

    assert not dropped and [s.citations for s in kept] == [(1, 2)]


def test_a_kept_sentence_is_confirmed_by_the_multilingual_model(
    corpus_assistant: Assistant, extract: list[AnswerSentence]
) -> None:
    first = extract[0]
    reworded = AnswerSentence(first.text.replace("will be", "is"), first.citations)
    unrelated = AnswerSentence(
        "Visitors must give their fingerprints at a consulate before they travel.", first.citations
    )

    kept, dropped = confirmed([reworded, unrelated], extract, corpus_assistant.confirming_verifier)

    assert kept == [reworded]
    assert [(d.text, d.reason) for d in dropped] == [
        (unrelated.text, "rewrite not confirmed by the multilingual model")
    ]


def test_a_repeated_sentence_is_kept_once(corpus_assistant: Assistant, extract: list[AnswerSentence]) -> None:
    first = Cited(extract[0].text, extract[0].citations)

    kept, dropped = check([first, first, first], extract, corpus_assistant.verifier)

    assert len(kept) == 1 and len(dropped) == 2


def test_a_rewrite_that_leaves_out_a_figure_says_which(extract: list[AnswerSentence]) -> None:
    with_figures = [s for s in extract if numbers_in(s.text)]
    assert with_figures
    kept = [s for s in extract if s is not with_figures[0]]

    reason = missing(extract, kept)

    lost = numbers_in(with_figures[0].text) - numbers_in(" ".join(s.text for s in kept))
    assert lost and reason.startswith("the rewrite left out figures")
    assert all(n in reason for n in lost)
    assert missing(extract, extract) == ""


def test_the_prompt_holds_the_extract_with_its_markers_and_the_language(extract: list[AnswerSentence]) -> None:
    model = ScriptedModel(lambda _: "")
    rewriter = Rewriter(lambda: model, name="scripted", translate=False)  # the free answer, in French

    system, user = (m["content"] for m in rewriter.messages("Combien coûte ETIAS ?", extract, "fr"))

    assert system == prompts.load("rewrite_system")
    assert "in French" in user and "Combien coûte ETIAS ?" in user
    for sentence in extract:
        assert f"- {sentence.text} {''.join(f'[{n}]' for n in sentence.citations)}" in user
    assert "</sources>" not in user and len(user.split()) < 400  # sentences, not whole passages


def test_a_question_in_another_language_asks_for_a_translation_line_for_line(extract: list[AnswerSentence]) -> None:
    model = ScriptedModel(lambda _: "")
    rewriter = Rewriter(lambda: model, name="scripted")

    french = rewriter.messages("Combien coûte ETIAS ?", extract, "fr")
    english = rewriter.messages("How much does ETIAS cost?", extract, "en")

    assert french[0] == english[0]  # one system message: a local model reads it once for both tasks
    assert "into French" in french[1]["content"] and "one sentence per line" in french[1]["content"]
    assert "Combien" not in french[1]["content"]  # a small model shown the question answers it instead
    assert "Translate" not in english[1]["content"] and "in English" in english[1]["content"]


def test_a_translation_is_credited_line_for_line(extract: list[AnswerSentence]) -> None:
    lines = [f"- line {i} [{9 + i}]" for i in range(len(extract))]

    paired = line_for_line("\n".join(lines), extract)

    assert [c.text for c in paired] == [f"line {i}" for i in range(len(extract))]
    assert [c.citations for c in paired] == [s.citations for s in extract]  # the model's markers are not trusted
    assert line_for_line("\n".join(lines[:-1]), extract) == []  # lines and sentences do not pair up: no pairing
    assert line_for_line("\n".join([*lines, "- one more [1]"]), extract) == []


# The fee extract's sentences in French, as a model might translate them (written for this test).
FRENCH = {
    "The fee will be EUR 20 per application.": "Les frais s'élèveront à 20 EUR par demande.",
    "The 2018 regulation originally set it at EUR 7.": "Le règlement de 2018 l'avait d'abord fixé à 7 EUR.",
    "Applicants who are under 18 or over 70 when they apply do not pay the fee.": (
        "Les demandeurs de moins de 18 ans ou de plus de 70 ans au moment de la demande ne paient pas les frais."
    ),
}


def test_a_french_translation_is_kept_and_an_invented_figure_in_it_dropped(
    corpus_assistant: Assistant, extract: list[AnswerSentence]
) -> None:
    def translate(messages: list[dict[str, str]]) -> str:
        """Each line of the prompt in French where known, the fee said wrongly, markers the model got wrong."""
        given = [line[2:].rsplit(" [", 1)[0] for line in messages[1]["content"].splitlines() if line.startswith("- ")]
        lines = [FRENCH.get(text, text).replace("20 EUR", "45 EUR") for text in given]
        return "\n".join(f"- {line} [7]" for line in lines)

    model = ScriptedModel(translate)
    rewriter = Rewriter(lambda: model, name="scripted")

    result = rewriter.rewrite(
        "C'est combien, ETIAS ?", extract, language="fr", verifier=corpus_assistant.cross_verifier
    )

    given = rewriter.given(extract, "fr")
    assert sum(len(s.text.split()) for s in given[:-1]) <= 50 < sum(len(s.text.split()) for s in extract)
    unsupported = [d.text for d in result.dropped if d.reason.startswith("rewrite not supported")]
    assert unsupported == ["Les frais s'élèveront à 45 EUR par demande."]
    kept = {k.text: k.citations for k in result.sentences}
    french = {FRENCH[s.text]: s.citations for s in given if s.text in FRENCH and "20 EUR" not in FRENCH[s.text]}
    assert french and all(kept.get(text) == citations for text, citations in french.items())
    assert result.left_out  # the untranslated sentences' figures stay in the quotes below, and the trace says so


def test_a_line_left_in_english_is_not_a_translation(
    corpus_assistant: Assistant, extract: list[AnswerSentence]
) -> None:
    def copy_one(messages: list[dict[str, str]]) -> str:
        """The first line in French, the others copied as they came."""
        given = [line[2:] for line in messages[1]["content"].splitlines() if line.startswith("- ")]
        first = given[0].rsplit(" [", 1)[0]
        return "\n".join([f"- {FRENCH[first]} [1]", *(f"- {line}" for line in given[1:])])

    rewriter = Rewriter(lambda: ScriptedModel(copy_one), name="scripted")
    given = rewriter.given(extract, "fr")
    assert given[0].text in FRENCH and len(given) >= 2

    result = rewriter.rewrite(
        "C'est combien, ETIAS ?", extract, language="fr", verifier=corpus_assistant.cross_verifier
    )

    assert [s.text for s in result.sentences] == [FRENCH[given[0].text]]
    assert [d.text for d in result.dropped] == [s.text for s in given[1:]]
    assert {d.reason for d in result.dropped} == {"left in English, not translated"}
    # the same copies pass the check itself, which is why they are dropped before it
    kept, _ = check([Cited(s.text, s.citations) for s in given[1:]], given, corpus_assistant.cross_verifier)
    assert len(kept) == len(given) - 1


def test_a_translated_line_with_an_english_term_is_not_taken_for_a_copy(extract: list[AnswerSentence]) -> None:
    from assistant.language import detect

    line = "Artikal 8 zahteva da se screening završi za 7 dana na granici."  # Croatian, with one English term
    assert detect(line).code == "en"  # too short and mixed for the detector to be sure: it falls back to English
    kept, dropped = translated([Cited(line, (1,)), Cited(extract[0].text, (1,))], extract, "hr")
    assert [c.text for c in kept] == [line]
    assert [d.text for d in dropped] == [extract[0].text]


def test_a_line_in_a_third_language_is_not_the_translation_asked_for(extract: list[AnswerSentence]) -> None:
    line = (
        "Il permesso per i lavoratori trasferiti all'interno della stessa impresa è pensato per incarichi temporanei."
    )

    kept, dropped = translated([Cited(line, (1,))], extract, "mt")  # Maltese was asked; this is Italian
    assert not kept and [d.reason for d in dropped] == ["written in Italian, not in Maltese"]

    kept, dropped = translated([Cited(line, (1,))], extract, "it")
    assert [c.text for c in kept] == [line] and not dropped


def _assistant(settings: Settings, bundled: Embedder, model: ScriptedModel, *, timeout: float = 30.0) -> Assistant:
    return Assistant(
        settings,
        store=Store(settings, embedder=bundled),
        rewriter=Rewriter(lambda: model, name="scripted rewrite", timeout=timeout),
    )


def _faithful(messages: list[dict[str, str]]) -> str:
    """A rewrite that says every line of the extract in the prompt again, with its markers, lightly reworded."""
    lines = [line[2:] for line in messages[1]["content"].splitlines() if line.startswith("- ")]
    return " ".join(line.replace("will be", "is") for line in lines)


def test_the_extract_shows_first_then_the_verified_rewrite_replaces_it(
    corpus_settings: Settings, bundled: Embedder
) -> None:
    assistant = _assistant(corpus_settings, bundled, ScriptedModel(_faithful))

    events = list(assistant.stream(FEE_QUESTION))

    waiting = [e for e in events if isinstance(e, Partial) and messages.text("rewriting", "en") in e.note]
    final = events[-1]
    assert isinstance(final, Final) and len(waiting) == 1
    answer = final.answer
    assert answer.extract == waiting[0].text != answer.text
    assert answer.quotes and answer.extract == render(answer.quotes)
    assert answer.shown_text == f"{answer.text}\n\n{answer.note}\n\n{answer.extract}"
    assert answer.note == messages.text("rewritten", "en") and answer.composer == "scripted rewrite"
    assert "is EUR 20" in answer.text and answer.text == render(answer.sentences)
    step = next(s for s in answer.trace if s["stage"] == "rewrite")
    assert step["decision"] == "rewrite shown" and step["details"]["kept"] == len(answer.sentences)
    assistant.store.close()


def test_an_english_rewrite_must_pass_the_multilingual_model_too(corpus_settings: Settings, bundled: Embedder) -> None:
    assistant = _assistant(corpus_settings, bundled, ScriptedModel(_faithful))
    # A multilingual check no reworded sentence can pass: what the English verifier kept is dropped after it.
    assistant._confirming_verifier = CrossLanguageVerifier(assistant.store.encoder, threshold=float("inf"))

    answer = assistant.ask(FEE_QUESTION)

    step = next(s for s in answer.trace if s["stage"] == "rewrite")
    assert step["decision"] == "extract shown" and "passed verification" in step["rule"]
    assert answer.dropped and {d.reason for d in answer.dropped} == {"rewrite not confirmed by the multilingual model"}
    assistant.store.close()


@pytest.mark.parametrize(
    ("write", "reason"),
    [
        (lambda m: ComposerError("connection refused"), "connection refused"),
        (lambda m: "", "no answer"),
        (lambda m: "The moon is made of cheese. [1]", "passed verification"),
    ],
    ids=["model fails", "empty reply", "nothing supported"],
)
def test_the_extract_stands_when_the_rewrite_fails(
    corpus_settings: Settings, bundled: Embedder, write: Callable[[list[dict[str, str]]], object], reason: str
) -> None:
    assistant = _assistant(corpus_settings, bundled, ScriptedModel(write))
    extractive = Assistant(corpus_settings, store=assistant.store).ask(FEE_QUESTION)

    answer = assistant.ask(FEE_QUESTION)

    assert answer.text == extractive.text and answer.extract == "" and not answer.refused
    step = next(s for s in answer.trace if s["stage"] == "rewrite")
    assert step["decision"] == "extract shown" and reason in step["rule"]
    assistant.store.close()


def test_a_slow_rewrite_gives_way_to_the_extract(corpus_settings: Settings, bundled: Embedder) -> None:
    class Slow(ScriptedModel):
        def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
            import time

            for piece in super().stream(messages):
                time.sleep(0.05)
                yield piece

    assistant = _assistant(corpus_settings, bundled, Slow(_faithful), timeout=0.2)

    answer = assistant.ask(FEE_QUESTION)

    step = next(s for s in answer.trace if s["stage"] == "rewrite")
    assert step["decision"] == "extract shown" and "more than 0.2 s" in step["rule"]
    assert answer.extract == "" and answer.sentences
    assistant.store.close()


def test_rewrite_mode_is_the_default_for_a_local_model_only() -> None:
    assert Settings(composer="llamacpp", llm_model="m.gguf").rewrites
    assert not Settings(composer="openai", llm_model="m").rewrites
    assert Settings(composer="openai", llm_model="m", llm_mode="rewrite").rewrites
    assert not Settings(composer="llamacpp", llm_model="m.gguf", llm_mode="passages").rewrites
    assert not Settings().rewrites


def test_the_question_said_back_is_not_an_answer(corpus_assistant: Assistant, extract: list[AnswerSentence]) -> None:
    kept, dropped = check([Cited(FEE_QUESTION, (1,)), Cited(extract[0].text, ())], extract, corpus_assistant.verifier)

    assert [k.text for k in kept] == [extract[0].text]
    assert [d.reason for d in dropped] == ["a question, not an answer"]


def test_a_rewrite_that_leaves_out_a_figure_comes_above_the_quotes_that_keep_it(
    corpus_settings: Settings, bundled: Embedder
) -> None:
    assistant = _assistant(corpus_settings, bundled, ScriptedModel(lambda m: _faithful(m).split(" [", 1)[0] + " [1]"))

    answer = assistant.ask(FEE_QUESTION)

    step = next(s for s in answer.trace if s["stage"] == "rewrite")
    assert step["decision"] == "rewrite shown" and step["details"]["left_out"].startswith("the rewrite left out")
    assert len(answer.sentences) == 1 and len(answer.quotes) >= 2
    assert numbers_in(answer.extract) - numbers_in(answer.text)  # the figures left out are still shown, quoted
    assistant.store.close()
