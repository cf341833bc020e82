"""Time the citation checks on a 1 MB document and the needle haystack builder at 256K tokens.

Run from the repository root:

    PYTHONPATH=. python benchmarks/bench_grounding.py

Each measurement is the median of several runs, printed next to a plain-Python
baseline measured in the same process, so the ratio can be compared across machines.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pytest_kimi.grounding import (
    Corpus,
    assert_citations_resolve,
    assert_quotes_supported,
    build_haystack,
    parse_citations,
)
from pytest_kimi.grounding._text import normalize

SOURCE = Path(__file__).parents[1] / "fixtures" / "documents" / "cc0-1.0.txt"
DOCUMENT_BYTES = 1_000_000
CITATIONS = 50
HAYSTACK_TOKENS = 262_144
NEEDLE = "The secret passphrase for the vault is amber-falcon-42."
CITATION_GOAL_MS = 20.0
HAYSTACK_GOAL_MS = 50.0


def median_ms(function: Callable[[], object], repeats: int) -> float:
    """Return the median wall time of `function` in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def make_document(source: str) -> str:
    """Repeat the source text, whole paragraphs at a time, to about 1 MB."""
    repeats = DOCUMENT_BYTES // len(source.encode("utf-8")) + 1
    return "\n\n".join([source.strip()] * repeats)


def make_answer(corpus: Corpus) -> str:
    """Write an answer whose 50 sentences each quote the start of a paragraph and cite it."""
    sentences = []
    step = len(corpus) // CITATIONS
    for number in range(1, len(corpus) + 1, step)[:CITATIONS]:
        quoted = " ".join(corpus.location(number).text.split()[:6])
        sentences.append(f'The text says "{quoted}" [{number}].')
    return " ".join(sentences)


def naive_citation_checks(answer: str, paragraphs: list[str]) -> None:
    """Baseline: a regex for `[n]`, an index check and `str.find` for each quote."""
    for match in re.finditer(r'"([^"]+)" \[(\d+)\]', answer):
        number = int(match.group(2))
        if not 1 <= number <= len(paragraphs):
            raise AssertionError(f"citation {number} has no source")
        if paragraphs[number - 1].find(match.group(1)) < 0:
            raise AssertionError(f"quote {match.group(1)!r} not found")


def naive_haystack(source: str, length_chars: int) -> str:
    """Baseline: grow a string by concatenation, then splice the needle in the middle."""
    text = ""
    while len(text) < length_chars:
        text += source + "\n\n"
    text = text[:length_chars]
    middle = len(text) // 2
    return text[:middle] + NEEDLE + " " + text[middle:]


def report(name: str, measured: float, baseline: float, goal: float | None) -> None:
    """Print one line with the time, the baseline and their ratio."""
    verdict = (
        "" if goal is None else f"  goal < {goal:.0f} ms: {'met' if measured < goal else 'MISSED'}"
    )
    print(
        f"{name:<52} {measured:8.2f} ms   baseline {baseline:8.2f} ms   "
        f"ratio {measured / baseline:6.2f}x{verdict}"
    )


def main() -> None:
    """Run both benchmarks and print the results."""
    source = SOURCE.read_text(encoding="utf-8")
    document = make_document(source)
    print(f"python {sys.version.split()[0]}, document {len(document.encode()):,} bytes")

    build_ms = median_ms(lambda: Corpus.from_texts([document], unit="paragraph"), 10)
    corpus = Corpus.from_texts([document], unit="paragraph")
    answer = make_answer(corpus)
    assert len(parse_citations(answer)) == CITATIONS
    paragraphs = [location.text for location in corpus.locations]
    naive_split_ms = median_ms(lambda: document.split("\n\n"), 10)
    report("corpus build (split 1 MB into paragraphs)", build_ms, naive_split_ms, None)

    def checks() -> None:
        assert_citations_resolve(answer, corpus, min_count=CITATIONS)
        assert_quotes_supported(answer, corpus)

    checks()
    measured = median_ms(checks, 30)
    baseline = median_ms(lambda: naive_citation_checks(answer, paragraphs), 30)
    report(
        f"{CITATIONS} citations: parse + resolve + quote support",
        measured,
        baseline,
        CITATION_GOAL_MS,
    )

    whole = Corpus.from_texts([document], unit="document")
    whole_answer = re.sub(r"\[\d+\]", "[1]", answer)

    def whole_checks() -> None:
        assert_citations_resolve(whole_answer, whole)
        assert_quotes_supported(whole_answer, whole)

    def cold_whole_checks() -> None:
        normalize.cache_clear()
        whole_checks()

    whole_checks()
    whole_ms = median_ms(whole_checks, 30)
    cold_ms = median_ms(cold_whole_checks, 10)
    whole_baseline = median_ms(lambda: naive_citation_checks(whole_answer, [document]), 30)
    report("same, one 1 MB location (unit='document')", whole_ms, whole_baseline, CITATION_GOAL_MS)
    report("same, normalisation cache cleared each run", cold_ms, whole_baseline, CITATION_GOAL_MS)

    def haystack() -> None:
        build_haystack(
            needles=NEEDLE, depths=[0.5], length_tokens=HAYSTACK_TOKENS, source_text=source
        )

    haystack()
    measured = median_ms(haystack, 20)
    baseline = median_ms(lambda: naive_haystack(source, HAYSTACK_TOKENS * 4), 20)
    report(
        f"haystack at {HAYSTACK_TOKENS:,} tokens (estimate)", measured, baseline, HAYSTACK_GOAL_MS
    )


if __name__ == "__main__":
    main()
