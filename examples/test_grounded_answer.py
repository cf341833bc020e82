"""A grounded answer with citations over a real document (the CC0 1.0 legal code)."""

from __future__ import annotations

from pathlib import Path

from pytest_kimi.grounding import (
    ID_STYLE,
    Corpus,
    Document,
    assert_citations_resolve,
    assert_grounded,
    assert_quotes_supported,
    assert_refuses,
    render_prompt,
)

DOCUMENT = Path(__file__).parent.parent / "fixtures" / "documents" / "cc0-1.0.txt"
INSTRUCTIONS = (
    "Answer only from the document below. Quote the sentence you rely on in double quotes "
    "and cite its location marker, for example [cc0:P3]. If the document does not answer "
    "the question, say that the document does not contain the information."
)


def _corpus() -> Corpus:
    return Corpus([Document.from_file(DOCUMENT, id="cc0")], unit="paragraph")


def test_answer_quotes_and_cites_the_right_paragraph(kimi):
    corpus = _corpus()
    prompt = render_prompt(
        corpus,
        style=ID_STYLE,
        instructions=INSTRUCTIONS,
        question="Does the Affirmer waive rights to the Work in every jurisdiction?",
    )

    reply = kimi.chat(prompt, max_tokens=32768)

    assert_citations_resolve(reply.text, corpus, min_count=1, max_count=3)
    assert_quotes_supported(reply.text, corpus)
    assert_grounded(reply.text, corpus)


def test_question_outside_the_document_is_refused(kimi):
    corpus = _corpus()
    prompt = render_prompt(
        corpus,
        style=ID_STYLE,
        instructions=INSTRUCTIONS,
        question="Which year did Pluto's moon Charon get its name?",
    )

    reply = kimi.chat(prompt, max_tokens=32768)

    assert_refuses(reply.text)
