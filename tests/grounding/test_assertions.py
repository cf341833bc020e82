from __future__ import annotations

from pathlib import Path

import pytest

from pytest_kimi.grounding import (
    CitationError,
    Corpus,
    GroundingError,
    QuoteError,
    RefusalError,
    UnsupportedClaimError,
    assert_citations_resolve,
    assert_grounded,
    assert_quotes_supported,
    assert_refuses,
)

CC0 = Path(__file__).parents[2] / "fixtures" / "documents" / "cc0-1.0.txt"
THREE_SOURCES = Corpus.from_texts(
    ["Revenue grew 5% in 2020.", "Costs fell by 1,000 dollars.", "Staff rose to 300."],
    ids=["S1", "S2", "S3"],
)


@pytest.fixture(scope="module")
def cc0() -> Corpus:
    return Corpus.from_files([CC0], unit="paragraph")


def test_dangling_citation_fails_with_count() -> None:
    with pytest.raises(CitationError) as info:
        assert_citations_resolve("Revenue grew [1][7].", THREE_SOURCES)

    message = str(info.value)
    assert "citation 7 has no source (3 sources)" in message
    assert "citation 1 " not in message


def test_resolving_citation_passes() -> None:
    citations = assert_citations_resolve("Revenue grew [1].", THREE_SOURCES)

    assert [c.location_id for c in citations] == ["S1"]


def test_unknown_document_id_is_named(cc0: Corpus) -> None:
    with pytest.raises(CitationError, match=r"citation doc9:P1 has no source \(no document 'doc9'"):
        assert_citations_resolve("See [doc9:P1].", cc0)


def test_out_of_range_location_id_is_named(cc0: Corpus) -> None:
    with pytest.raises(CitationError, match=r"citation doc1:P99 has no source \(doc1 has 1\d"):
        assert_citations_resolve("See [doc1:P99].", cc0)


def test_citation_count_limits() -> None:
    with pytest.raises(CitationError, match="found 0 citations, expected at least 1"):
        assert_citations_resolve("No markers here.", THREE_SOURCES, min_count=1)
    with pytest.raises(CitationError, match="found 3 citations, expected at most 2"):
        assert_citations_resolve("All [1-3].", THREE_SOURCES, max_count=2)


def test_failures_are_assertion_errors() -> None:
    assert issubclass(CitationError, GroundingError)
    assert issubclass(GroundingError, AssertionError)


def test_quote_across_line_break_is_found(cc0: Corpus) -> None:
    answer = 'Owners give rights to "a commons of creative, cultural and scientific works" [6].'

    checks = assert_quotes_supported(answer, cc0)

    assert [(c.location_id, c.score) for c in checks] == [("doc1:P6", 1.0)]


def test_quote_with_curly_quotes_and_dash(cc0: Corpus) -> None:
    answer = "The code warns of no \u201cATTORNEY\u2013CLIENT RELATIONSHIP\u201d [3]."

    checks = assert_quotes_supported(answer, cc0)

    assert checks[0].passed


def test_quote_case_option(cc0: Corpus) -> None:
    answer = 'It says "Creative Commons Corporation is not a law firm" [3].'

    assert assert_quotes_supported(answer, cc0)[0].score == 1.0
    with pytest.raises(QuoteError):
        assert_quotes_supported(answer, cc0, ignore_case=False, threshold=1.0)


def test_fuzzy_quote_threshold(cc0: Corpus) -> None:
    # one word of ten changed: SequenceMatcher ratio 2 * 9 / 20 = 0.9
    answer = 'For "contributing to a commons of creative, cultural and artistic works" [6].'

    checks = assert_quotes_supported(answer, cc0, threshold=0.9)

    assert checks[0].score == pytest.approx(18 / 20)
    with pytest.raises(QuoteError, match=r"best match 0\.90 < 0\.95 in doc1:P6"):
        assert_quotes_supported(answer, cc0, threshold=0.95)


def test_quote_must_be_in_cited_location(cc0: Corpus) -> None:
    answer = 'The aim is "permanently relinquish those rights to a Work" [5].'

    with pytest.raises(QuoteError) as info:
        assert_quotes_supported(answer, cc0)

    assert "cited doc1:P5" in str(info.value)
    assert "permanently relinquish" in str(info.value)


def test_uncited_quote_searches_all_sources(cc0: Corpus) -> None:
    checks = assert_quotes_supported('It says "permanently relinquish those rights".', cc0)

    assert checks[0].location_id == "doc1:P6"


def test_quotes_in_code_are_skipped(cc0: Corpus) -> None:
    answer = 'Run `echo "not in any source at all"` and see [2].'

    assert assert_quotes_supported(answer, cc0) == []


def test_grounded_answer_passes(cc0: Corpus) -> None:
    answer = (
        "Database rights include those under Directive 96/9/EC of the European Parliament "
        "of 11 March 1996 [9]. Does it cover trademarks?"
    )

    results = assert_grounded(answer, cc0)

    assert len(results) == 1
    assert results[0].passage_id == "doc1:P9"
    assert results[0].score >= 0.5


def test_ungrounded_sentence_shows_best_passage(cc0: Corpus) -> None:
    answer = (
        "A Work under CC0 may be protected by copyright and related rights [8]. "
        "The waiver was signed in Paris on 4 July 2003 by 1,200 lawyers."
    )

    with pytest.raises(UnsupportedClaimError) as info:
        assert_grounded(answer, cc0)

    message = str(info.value)
    assert "1 of 2 sentences are not grounded" in message
    assert "sentence 2: 'The waiver was signed in Paris" in message
    assert "best passage doc1:" in message
    assert "number 1200" in message
    assert "number 2003" in message
    assert "name Paris" in message
    assert "sentence 1" not in message


def test_number_formats_are_normalised() -> None:
    answer = "Costs fell by 1000 dollars [2]. Revenue grew 5.0% in 2020 [1]."

    results = assert_grounded(answer, THREE_SOURCES)

    assert [r.missing for r in results] == [(), ()]


def test_wrong_number_fails_even_with_overlap() -> None:
    with pytest.raises(UnsupportedClaimError, match="number 7"):
        assert_grounded("Revenue grew 7% in 2020 [1].", THREE_SOURCES)


def test_cited_passage_is_used_for_support() -> None:
    with pytest.raises(UnsupportedClaimError, match=r"best passage S3"):
        assert_grounded("Revenue grew 5% in 2020 [3].", THREE_SOURCES, check_entities=False)
    assert_grounded(
        "Revenue grew 5% in 2020 [3].", THREE_SOURCES, check_entities=False, use_citations=False
    )


@pytest.mark.parametrize(
    "answer",
    [
        "The document does not say what the revenue was.",
        "I couldn\u2019t find this in the provided sources.",
        "There is no information about 2021 in the sources.",
        "The sources do not mention a merger; I cannot answer.",
    ],
)
def test_refusals_pass(answer: str) -> None:
    assert assert_refuses(answer)


def test_confident_claim_is_not_refusal() -> None:
    with pytest.raises(RefusalError, match="no refusal phrase found"):
        assert_refuses("Revenue was $5 million in 2020.")


def test_refusal_with_figure_fails() -> None:
    answer = "The document does not mention revenue. However, revenue was 12% higher in 2021."

    with pytest.raises(RefusalError) as info:
        assert_refuses(answer)

    message = str(info.value)
    assert "sentence states 12, 2021 as fact" in message
    assert "no refusal phrase" not in message


def test_refusal_may_repeat_question_numbers() -> None:
    answer = "No information is available. The 2021 figures are absent."

    with pytest.raises(RefusalError, match="2021"):
        assert_refuses(answer)
    assert assert_refuses(answer, question="What were the 2021 figures?") == "no information"


def test_custom_refusal_phrases() -> None:
    assert assert_refuses("Dazu steht nichts im Dokument.", phrases=["steht nichts"])
