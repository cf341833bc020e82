"""Compare answering from the whole document with answering from the top-k retrieved chunks."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pytest_kimi.grounding._text import STOPWORDS, normalize, words
from pytest_kimi.grounding.documents import NUMBER_STYLE, Corpus, Location, Unit, render_prompt
from pytest_kimi.grounding.needle import estimate_tokens

__all__ = [
    "ANSWER_INSTRUCTIONS",
    "ComparisonRow",
    "ComparisonTable",
    "ScoredChunk",
    "compare_long_vs_retrieval",
    "top_k_chunks",
]

ANSWER_INSTRUCTIONS = (
    "Answer the question using only the sources below. Cite the sources you use as [n]. "
    "If the sources do not contain the answer, say so."
)
# the usual Okapi BM25 defaults for term-frequency saturation (k1) and length normalisation (b)
_K1 = 1.5
_B = 0.75


@dataclass(frozen=True)
class ScoredChunk:
    """A location and its BM25 score for a question."""

    location: Location
    score: float


def _terms(text: str) -> list[str]:
    return [word for word in words(text) if word not in STOPWORDS]


def top_k_chunks(corpus: Corpus, question: str, k: int = 5) -> list[ScoredChunk]:
    """Return the `k` locations of `corpus` with the highest BM25 score for `question`.

    Scoring is Okapi BM25 (k1=1.5, b=0.75, idf = ln(1 + (N - df + 0.5) / (df + 0.5)))
    over casefolded words without stopwords. Ties keep corpus order, so the result
    is deterministic. Locations that share no term with the question are left out.
    """
    locations = corpus.locations
    documents = [Counter(_terms(location.text)) for location in locations]
    if not documents:
        return []
    average_length = sum(sum(d.values()) for d in documents) / len(documents) or 1.0
    query = list(dict.fromkeys(_terms(question)))
    frequencies = Counter(term for d in documents for term in query if term in d)
    scored = []
    for location, counts in zip(locations, documents, strict=True):
        length = sum(counts.values())
        score = 0.0
        for term in query:
            tf = counts.get(term, 0)
            if not tf:
                continue
            df = frequencies[term]
            idf = math.log(1 + (len(documents) - df + 0.5) / (df + 0.5))
            score += idf * tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * length / average_length))
        if score > 0:
            scored.append(ScoredChunk(location, score))
    scored.sort(key=lambda chunk: -chunk.score)
    return scored[:k]


def _contains(answer: str, expected: str | None) -> bool | None:
    if expected is None:
        return None
    return normalize(expected) in normalize(answer)


@dataclass(frozen=True)
class ComparisonRow:
    """One question answered from the whole corpus and from the retrieved chunks.

    Token counts are estimates (4 characters per token). The `*_correct` fields are
    `None` when no expected answer was given, otherwise whether the answer contains it
    after normalisation.
    """

    question: str
    long_answer: str
    retrieval_answer: str
    retrieved_ids: tuple[str, ...]
    long_prompt_tokens: int
    retrieval_prompt_tokens: int
    expected: str | None = None
    long_correct: bool | None = None
    retrieval_correct: bool | None = None


@dataclass
class ComparisonTable:
    """Side-by-side answers for each question."""

    rows: list[ComparisonRow] = field(default_factory=list)

    def to_markdown(self) -> str:
        """Render the table as GitHub Markdown, one row per question."""
        header = (
            "| question | long-context answer | retrieval answer | retrieved | "
            "prompt tokens (long / retrieval) | correct (long / retrieval) |\n"
            "|---|---|---|---|---|---|\n"
        )
        return header + "".join(_markdown_row(row) for row in self.rows)


def _cell(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def _mark(value: bool | None) -> str:
    if value is None:
        return "-"
    return "yes" if value else "no"


def _markdown_row(row: ComparisonRow) -> str:
    return (
        f"| {_cell(row.question)} | {_cell(row.long_answer)} | {_cell(row.retrieval_answer)} "
        f"| {', '.join(row.retrieved_ids)} | {row.long_prompt_tokens} / "
        f"{row.retrieval_prompt_tokens} | {_mark(row.long_correct)} / "
        f"{_mark(row.retrieval_correct)} |\n"
    )


def compare_long_vs_retrieval(
    questions: Sequence[str],
    corpus: Corpus,
    ask: Callable[[str], str],
    k: int = 5,
    *,
    expected: Sequence[str] | None = None,
    chunk_unit: Unit = "paragraph",
    chunk_size: int = 1000,
    style: str = NUMBER_STYLE,
) -> ComparisonTable:
    """Ask each question twice: with every source, and with the top-k BM25 chunks.

    Both prompts number locations the same way (the corpus is split by `chunk_unit`
    for both), so citations in the two answers are comparable.

    Args:
        questions: the questions.
        corpus: the sources.
        ask: sends one prompt and returns the model's text.
        k: how many chunks the retrieval prompt gets.
        expected: one expected answer per question, matched as a normalised substring.
        chunk_unit: how to split the corpus into chunks.
        chunk_size: characters per chunk when `chunk_unit="chunk"`.
        style: the location marker style.
    """
    if expected is not None and len(expected) != len(questions):
        raise ValueError(
            f"got {len(expected)} expected answers for {len(questions)} questions: "
            "give one per question"
        )
    chunks = corpus.with_unit(chunk_unit, chunk_size=chunk_size)
    table = ComparisonTable()
    for index, question in enumerate(questions):
        retrieved = top_k_chunks(chunks, question, k)
        long_prompt = render_prompt(
            chunks, style=style, question=question, instructions=ANSWER_INSTRUCTIONS
        )
        retrieval_prompt = render_prompt(
            chunks,
            style=style,
            question=question,
            instructions=ANSWER_INSTRUCTIONS,
            locations=sorted((chunk.location for chunk in retrieved), key=lambda x: x.number),
        )
        want = expected[index] if expected is not None else None
        long_answer, retrieval_answer = ask(long_prompt), ask(retrieval_prompt)
        table.rows.append(
            ComparisonRow(
                question=question,
                long_answer=long_answer,
                retrieval_answer=retrieval_answer,
                retrieved_ids=tuple(chunk.location.id for chunk in retrieved),
                long_prompt_tokens=estimate_tokens(long_prompt),
                retrieval_prompt_tokens=estimate_tokens(retrieval_prompt),
                expected=want,
                long_correct=_contains(long_answer, want),
                retrieval_correct=_contains(retrieval_answer, want),
            )
        )
    return table
