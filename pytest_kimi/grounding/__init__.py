"""Grounding, citation, long-context needle and structured-output assertions.

Every helper is a plain function that works inside and outside pytest. Assertion
failures raise `AssertionError` subclasses (see `pytest_kimi.grounding.errors`)
whose message names each failing citation, quote, sentence, number or JSON path.
"""

from __future__ import annotations

from pytest_kimi.grounding.assertions import (
    REFUSAL_PHRASES,
    QuoteCheck,
    SentenceSupport,
    assert_citations_resolve,
    assert_grounded,
    assert_quotes_supported,
    assert_refuses,
)
from pytest_kimi.grounding.citations import (
    Citation,
    CitationStream,
    StreamedText,
    join_citation_stream,
    parse_citations,
)
from pytest_kimi.grounding.documents import (
    ID_STYLE,
    LENTICULAR_STYLE,
    NUMBER_STYLE,
    Corpus,
    Document,
    Location,
    render_prompt,
)
from pytest_kimi.grounding.errors import (
    CitationError,
    ContextBudgetError,
    GroundingError,
    JSONExtractionError,
    JudgeOutputError,
    QuoteError,
    RefusalError,
    SchemaMismatchError,
    StructuredOutputError,
    ToolCallError,
    UnsupportedClaimError,
)
from pytest_kimi.grounding.judge import JudgeVerdict, judge_grounding, parse_judge_verdict
from pytest_kimi.grounding.needle import (
    Haystack,
    HeatmapFiles,
    NeedlePosition,
    build_haystack,
    context_budget,
    estimate_tokens,
    fit_haystack_length,
    needle_grid,
    write_heatmap,
)
from pytest_kimi.grounding.retrieval import (
    ComparisonRow,
    ComparisonTable,
    ScoredChunk,
    compare_long_vs_retrieval,
    top_k_chunks,
)
from pytest_kimi.grounding.structured import (
    ExtractedJSON,
    assert_matches_schema,
    assert_tool_calls_valid,
    extract_json,
)

__all__ = [
    "Citation",
    "CitationError",
    "CitationStream",
    "ComparisonRow",
    "ComparisonTable",
    "ContextBudgetError",
    "Corpus",
    "Document",
    "ExtractedJSON",
    "GroundingError",
    "Haystack",
    "HeatmapFiles",
    "ID_STYLE",
    "JSONExtractionError",
    "JudgeOutputError",
    "JudgeVerdict",
    "LENTICULAR_STYLE",
    "Location",
    "NUMBER_STYLE",
    "NeedlePosition",
    "QuoteCheck",
    "QuoteError",
    "REFUSAL_PHRASES",
    "RefusalError",
    "SchemaMismatchError",
    "ScoredChunk",
    "SentenceSupport",
    "StreamedText",
    "StructuredOutputError",
    "ToolCallError",
    "UnsupportedClaimError",
    "assert_citations_resolve",
    "assert_grounded",
    "assert_matches_schema",
    "assert_quotes_supported",
    "assert_refuses",
    "assert_tool_calls_valid",
    "build_haystack",
    "compare_long_vs_retrieval",
    "context_budget",
    "estimate_tokens",
    "extract_json",
    "fit_haystack_length",
    "join_citation_stream",
    "judge_grounding",
    "needle_grid",
    "parse_citations",
    "parse_judge_verdict",
    "render_prompt",
    "top_k_chunks",
    "write_heatmap",
]
