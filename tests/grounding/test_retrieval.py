from __future__ import annotations

from pathlib import Path

from pytest_kimi.grounding import Corpus, compare_long_vs_retrieval, top_k_chunks

CC0 = Path(__file__).parents[2] / "fixtures" / "documents" / "cc0-1.0.txt"


def test_top_k_finds_relevant_paragraph() -> None:
    corpus = Corpus.from_files([CC0], unit="paragraph")

    top = top_k_chunks(corpus, "Which directive covers database rights?", k=3)

    assert top[0].location.id == "doc1:P9"
    assert "Directive 96/9/EC" in top[0].location.text
    assert [c.score for c in top] == sorted((c.score for c in top), reverse=True)
    assert len(top) == 3


def test_top_k_is_deterministic_and_skips_unrelated() -> None:
    corpus = Corpus.from_texts(["apples and pears", "pears only", "nothing here"], unit="document")

    first = [c.location.id for c in top_k_chunks(corpus, "pears", k=5)]

    assert first == [c.location.id for c in top_k_chunks(corpus, "pears", k=5)]
    assert set(first) == {"doc1", "doc2"}
    assert first[0] == "doc2"  # the shorter document scores higher under BM25


def test_compare_long_vs_retrieval_table() -> None:
    corpus = Corpus.from_files([CC0])
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return "It is Directive 96/9/EC [9]." if "Directive" in prompt else "Not found."

    table = compare_long_vs_retrieval(
        ["Which directive covers database rights?", "Who is the Affirmer?"],
        corpus,
        ask,
        k=2,
        expected=["96/9/EC", "person associating CC0"],
    )

    first, second = table.rows
    assert first.retrieved_ids[0] == "doc1:P9"
    assert first.long_correct is True
    assert first.retrieval_correct is True
    assert second.long_correct is False
    assert first.retrieval_prompt_tokens < first.long_prompt_tokens
    assert len(prompts) == 4
    assert prompts[0].count("[9] ") == 1
    assert prompts[1].count("[9] ") == 1
    markdown = table.to_markdown()
    assert markdown.splitlines()[0].startswith("| question | long-context answer |")
    assert "| Which directive covers database rights? | It is Directive 96/9/EC [9]." in markdown
    assert len(markdown.splitlines()) == 4
