"""Assertions that an answer's citations, quotes, claims and refusals match its sources.

Each assertion returns what it checked, so a test can inspect it further, and
raises a `GroundingError` subclass that lists every failing citation, quote or
sentence with the reason.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pytest_kimi.grounding._text import (
    Sentence,
    content_words,
    names_in,
    normalize,
    numbers_in,
    shorten,
    split_sentences,
    words,
)
from pytest_kimi.grounding.citations import Citation, code_spans, parse_citations
from pytest_kimi.grounding.documents import Corpus, Location
from pytest_kimi.grounding.errors import (
    CitationError,
    QuoteError,
    RefusalError,
    UnsupportedClaimError,
)

__all__ = [
    "QuoteCheck",
    "REFUSAL_PHRASES",
    "SentenceSupport",
    "assert_citations_resolve",
    "assert_grounded",
    "assert_quotes_supported",
    "assert_refuses",
]

REFUSAL_PHRASES: tuple[str, ...] = (
    "not in the document",
    "not in the provided",
    "not in the source",
    "not in the text",
    "cannot find",
    "can't find",
    "could not find",
    "couldn't find",
    "unable to find",
    "does not say",
    "doesn't say",
    "do not say",
    "does not mention",
    "doesn't mention",
    "do not mention",
    "does not contain",
    "doesn't contain",
    "does not specify",
    "doesn't specify",
    "does not state",
    "doesn't state",
    "does not provide",
    "doesn't provide",
    "no information",
    "not mentioned",
    "not stated",
    "not specified",
    "not provided",
    "not enough information",
    "insufficient information",
    "cannot answer",
    "can't answer",
    "cannot be answered",
    "cannot determine",
    "can't determine",
    "unable to answer",
    "unable to determine",
)

_QUOTED = re.compile(r"\"([^\"\n]{1,2000})\"|\u201c([^\u201d\n]{1,2000})\u201d")
# fuzzy matching tries windows anchored at this many of the quote's rarest words
_ANCHOR_WORDS = 3
_MAX_ANCHOR_POSITIONS = 2000


def _fail(error: type[AssertionError], header: str, lines: Sequence[str]) -> AssertionError:
    return error(header + "\n" + "\n".join(f"  - {line}" for line in lines))


def assert_citations_resolve(
    answer: str,
    corpus: Corpus,
    *,
    min_count: int = 0,
    max_count: int | None = None,
    allow_attached: bool = False,
) -> list[Citation]:
    """Assert that every citation in `answer` names a real location of `corpus`.

    This checks existence only; `assert_quotes_supported` and `assert_grounded`
    check that the cited source supports the claim.

    Args:
        answer: the model's answer.
        corpus: the sources the prompt showed.
        min_count: the minimum number of citations.
        max_count: the maximum number of citations, or `None` for no limit.
        allow_attached: read `word[3]` (no space) as a citation; see `parse_citations`.

    Returns:
        The citations, with `location_id` filled in.

    Raises:
        CitationError: listing each citation with no source (`citation 7 has no
            source (3 sources)`) and any count outside the range.
    """
    __tracebackhide__ = True
    citations = parse_citations(answer, corpus, allow_attached=allow_attached)
    problems = []
    for citation in citations:
        if corpus.resolve(citation.label) is None:
            problems.append(
                f"citation {citation.label} has no source ({corpus.describe_miss(citation.label)})"
                f" in {citation.marker!r} at offset {citation.span[0]}"
            )
    if len(citations) < min_count:
        problems.append(f"found {len(citations)} citations, expected at least {min_count}")
    if max_count is not None and len(citations) > max_count:
        problems.append(f"found {len(citations)} citations, expected at most {max_count}")
    if problems:
        header = f"citations do not resolve in answer {shorten(answer)!r}:"
        raise _fail(CitationError, header, problems)
    return citations


@dataclass(frozen=True)
class QuoteCheck:
    """The result of looking for one quoted span in its sources.

    `score` is 1.0 for an exact match after normalisation, otherwise the best
    `difflib.SequenceMatcher` ratio over word windows; `location_id` names the
    location with that score.
    """

    quote: str
    span: tuple[int, int]
    location_id: str | None
    score: float
    passed: bool


def assert_quotes_supported(
    answer: str,
    corpus: Corpus,
    *,
    threshold: float = 0.9,
    ignore_case: bool = True,
    min_words: int = 1,
) -> list[QuoteCheck]:
    """Assert that each quoted span ("..." or “...”) appears in the location it cites.

    The quote and the source are compared after NFKC normalisation, with curly
    quotes made straight, every dash made `-` and whitespace collapsed. A quote
    that is not found verbatim is scored with `difflib.SequenceMatcher.ratio()`
    on words against same-length windows of the source (anchored at the quote's
    rarest words), and passes when the score is at least `threshold`.

    A quote is checked against the locations cited in its sentence. When its
    sentence cites nothing, every location of the corpus is searched.

    Args:
        answer: the model's answer.
        corpus: the sources.
        threshold: the minimum fuzzy score, from 0 to 1; 1.0 demands a verbatim match.
        ignore_case: compare case-insensitively.
        min_words: quotes with fewer words are skipped.

    Returns:
        One `QuoteCheck` per quote that was checked.

    Raises:
        QuoteError: listing each quote below the threshold, with its best score and location.
    """
    __tracebackhide__ = True
    citations = parse_citations(answer, corpus)
    sentences = split_sentences(answer)
    code = code_spans(answer)
    checks: list[QuoteCheck] = []
    problems: list[str] = []
    for match in _QUOTED.finditer(answer):
        if any(start <= match.start() < end for start, end in code):
            continue
        quote = match.group(1) or match.group(2)
        if len(words(quote)) < min_words:
            continue
        cited = _cited_locations(_sentences_over(sentences, match.span()), citations, corpus)
        candidates = cited if cited else corpus.locations
        check = _check_quote(quote, match.span(), candidates, threshold, ignore_case)
        checks.append(check)
        if not check.passed:
            where = f"cited {', '.join(loc.id for loc in cited)}" if cited else "no citation"
            problems.append(
                f"quote {shorten(quote, 120)!r} ({where}) not found: best match "
                f"{check.score:.2f} < {threshold:.2f} in {check.location_id or 'no source'}"
            )
    if problems:
        raise _fail(
            QuoteError, f"{len(problems)} of {len(checks)} quotes are not supported:", problems
        )
    return checks


def _sentences_over(sentences: Sequence[Sentence], span: tuple[int, int]) -> Sentence | None:
    """Return one sentence that covers every sentence overlapping `span`."""
    overlapping = [s for s in sentences if s.start < span[1] and span[0] < s.end]
    if not overlapping:
        return None
    return Sentence("", overlapping[0].start, overlapping[-1].end)


def _cited_locations(
    sentence: Sentence | None, citations: Iterable[Citation], corpus: Corpus
) -> list[Location]:
    if sentence is None:
        return []
    found: dict[str, Location] = {}
    for citation in citations:
        if sentence.start <= citation.span[0] < sentence.end:
            location = corpus.resolve(citation.label)
            if location is not None:
                found.setdefault(location.id, location)
    return list(found.values())


def _check_quote(
    quote: str,
    span: tuple[int, int],
    locations: Sequence[Location],
    threshold: float,
    ignore_case: bool,
) -> QuoteCheck:
    needle = normalize(quote, ignore_case)
    best_score, best_id = 0.0, None
    for location in locations:
        if needle in normalize(location.text, ignore_case):
            return QuoteCheck(quote, span, location.id, 1.0, True)
    for location in locations:
        score = _fuzzy_score(needle, normalize(location.text, ignore_case))
        if score > best_score:
            best_score, best_id = score, location.id
    return QuoteCheck(quote, span, best_id, best_score, best_score >= threshold)


def _fuzzy_score(needle: str, haystack: str) -> float:
    quote_words = needle.split()
    source_words = haystack.split()
    if not quote_words or not source_words:
        return 0.0
    counts = Counter(source_words)
    anchors = sorted(
        (counts[word], index) for index, word in enumerate(quote_words) if counts[word]
    )[:_ANCHOR_WORDS]
    starts: set[int] = set()
    for _, index in anchors:
        word = quote_words[index]
        positions = [p for p, w in enumerate(source_words) if w == word][:_MAX_ANCHOR_POSITIONS]
        starts.update(max(0, position - index) for position in positions)
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(quote_words)  # SequenceMatcher caches its analysis of the second sequence
    best = 0.0
    for start in sorted(starts):
        matcher.set_seq1(source_words[start : start + len(quote_words)])
        best = max(best, matcher.ratio())
    return best


@dataclass(frozen=True)
class SentenceSupport:
    """How well the best source passage supports one sentence of the answer.

    `score` is the share of the sentence's content words (words that are not
    stopwords) found in the passage. `missing` lists numbers and names of the
    sentence that appear in no source.
    """

    sentence: str
    score: float
    passage_id: str | None
    passage: str
    missing: tuple[str, ...] = field(default=())

    def is_supported(self, min_support: float) -> bool:
        """Return whether the score reaches `min_support` and nothing is missing."""
        return self.score >= min_support and not self.missing


@dataclass
class _Passage:
    location_id: str
    text: str
    words: set[str]


def assert_grounded(
    answer: str,
    corpus: Corpus,
    *,
    min_support: float = 0.5,
    check_entities: bool = True,
    use_citations: bool = True,
) -> list[SentenceSupport]:
    """Assert that each factual sentence of `answer` is lexically supported by a source passage.

    A sentence counts as factual when it does not end in `?` and has at least three
    content words or a number. Its support is the share of its content words found
    in the best passage (a paragraph of a location). When `use_citations` is true and
    the sentence cites locations that exist, only those are searched.

    With `check_entities`, every number (`1,000` equals `1000`, `12%` gives `12`)
    and every capitalised word that does not start the sentence (a likely name or
    month) must also appear somewhere in the sources.

    NOTE: this is a lexical check. It cannot see negation or paraphrase, and
    `1.5 million` does not match `1,500,000`.

    Returns:
        One `SentenceSupport` per factual sentence.

    Raises:
        UnsupportedClaimError: listing each failing sentence with its best passage and score.
    """
    __tracebackhide__ = True
    citations = parse_citations(answer, corpus)
    cleaned = _blank_out(answer, [c.span for c in citations] + code_spans(answer))
    passages = _passages(corpus)
    source_numbers = numbers_in(" ".join(location.text for location in corpus.locations))
    source_words = set().union(*(passage.words for passage in passages)) if passages else set()
    results: list[SentenceSupport] = []
    problems: list[str] = []
    for sentence in split_sentences(cleaned):
        sentence_words = content_words(sentence.text)
        sentence_numbers = numbers_in(sentence.text)
        if sentence.text.endswith("?") or (len(sentence_words) < 3 and not sentence_numbers):
            continue
        cited = _cited_locations(sentence, citations, corpus) if use_citations else []
        cited_ids = {location.id for location in cited}
        pool = [p for p in passages if p.location_id in cited_ids] if cited_ids else passages
        support = _best_support(sentence.text, sentence_words, pool)
        missing: tuple[str, ...] = ()
        if check_entities:
            missing = _missing_entities(
                sentence.text, sentence_numbers, source_numbers, source_words
            )
        support = SentenceSupport(
            support.sentence, support.score, support.passage_id, support.passage, missing
        )
        results.append(support)
        if not support.is_supported(min_support):
            problems.append(_describe_support(len(results), support, min_support))
    if problems:
        header = (
            f"{len(problems)} of {len(results)} sentences are not grounded in the sources "
            f"(min_support={min_support}):"
        )
        raise _fail(UnsupportedClaimError, header, problems)
    return results


def _blank_out(text: str, spans: Iterable[tuple[int, int]]) -> str:
    characters = list(text)
    for start, end in spans:
        for index in range(start, end):
            if characters[index] != "\n":
                characters[index] = " "
    return "".join(characters)


def _passages(corpus: Corpus) -> list[_Passage]:
    passages = []
    for location in corpus.locations:
        for block in re.split(r"\n[ \t]*\n", location.text):
            if block.strip():
                passages.append(_Passage(location.id, block.strip(), content_words(block)))
    return passages


def _best_support(text: str, sentence_words: set[str], pool: Sequence[_Passage]) -> SentenceSupport:
    best_score, best = -1.0, None
    for passage in pool:
        score = len(sentence_words & passage.words) / len(sentence_words) if sentence_words else 1.0
        if score > best_score:
            best_score, best = score, passage
    if best is None:
        return SentenceSupport(text, 0.0, None, "")
    return SentenceSupport(text, best_score, best.location_id, best.text)


def _missing_entities(
    text: str, sentence_numbers: set[str], source_numbers: set[str], source_words: set[str]
) -> tuple[str, ...]:
    missing = [f"number {number}" for number in sorted(sentence_numbers - source_numbers)]
    for name in names_in(text):
        if normalize(name) not in source_words and not set(words(name)) <= source_words:
            missing.append(f"name {name}")
    return tuple(dict.fromkeys(missing))


def _describe_support(position: int, support: SentenceSupport, min_support: float) -> str:
    lines = [f"sentence {position}: {shorten(support.sentence)!r}"]
    if support.passage_id is None:
        lines.append("    the sources have no passages")
    else:
        lines.append(
            f"    support {support.score:.2f} (min {min_support:.2f}); best passage "
            f"{support.passage_id} (score {support.score:.2f}): {shorten(support.passage)!r}"
        )
    if support.missing:
        lines.append(f"    not in the sources: {', '.join(support.missing)}")
    return "\n".join(lines)


def assert_refuses(
    answer: str,
    *,
    phrases: Sequence[str] = REFUSAL_PHRASES,
    question: str | None = None,
) -> str:
    """Assert that `answer` says the sources do not answer the question, and states no figure.

    Phrases are matched case-insensitively after normalisation, so curly
    apostrophes match straight ones. A sentence that contains a number and no
    refusal phrase counts as a confident claim and fails the assertion. Numbers
    that also occur in `question` are allowed.

    Returns:
        The first refusal phrase found.

    Raises:
        RefusalError: when no phrase is found, or naming each sentence that states a number.
    """
    __tracebackhide__ = True
    text = normalize(answer)
    normalised_phrases = [normalize(phrase) for phrase in phrases]
    found = next((phrase for phrase in normalised_phrases if phrase in text), None)
    problems = []
    if found is None:
        problems.append(
            f"no refusal phrase found; looked for {', '.join(map(repr, phrases[:6]))}, ..."
        )
    allowed_numbers = numbers_in(question) if question else set()
    for sentence in split_sentences(answer):
        claimed = numbers_in(sentence.text) - allowed_numbers
        declines = any(phrase in normalize(sentence.text) for phrase in normalised_phrases)
        if claimed and not declines:
            problems.append(
                f"sentence states {', '.join(sorted(claimed))} as fact: {shorten(sentence.text)!r}"
            )
    if problems:
        raise _fail(RefusalError, f"answer does not refuse: {shorten(answer)!r}", problems)
    assert found is not None
    return found
