"""Exceptions raised by the grounding, citation, needle and structured-output helpers.

Every assertion failure is an `AssertionError`, so pytest reports it as a test
failure, not as an error in the test's code::

    AssertionError
    ├── GroundingError
    │   ├── CitationError          a citation does not resolve, or too few/many
    │   ├── QuoteError             a quoted span is not in the cited source
    │   ├── UnsupportedClaimError  a sentence, number or name is not in the sources
    │   └── RefusalError           the answer does not decline to answer
    ├── ContextBudgetError         prompt + max_tokens does not fit the context window
    └── StructuredOutputError
        ├── JSONExtractionError    no JSON found, or not raw JSON in strict mode
        ├── SchemaMismatchError    the JSON does not match the schema
        └── ToolCallError          a tool call names no tool or has invalid arguments

    ValueError
    └── JudgeOutputError           the judge model's output has no parsable verdict
"""

from __future__ import annotations

__all__ = [
    "CitationError",
    "ContextBudgetError",
    "GroundingError",
    "JSONExtractionError",
    "JudgeOutputError",
    "QuoteError",
    "RefusalError",
    "SchemaMismatchError",
    "StructuredOutputError",
    "ToolCallError",
    "UnsupportedClaimError",
]


class GroundingError(AssertionError):
    """An answer is not grounded in its sources."""


class CitationError(GroundingError):
    """A citation does not resolve to a source location, or the count is out of range."""


class QuoteError(GroundingError):
    """A quoted span does not appear in the source it cites."""


class UnsupportedClaimError(GroundingError):
    """A sentence, number, date or name in the answer is not supported by the sources."""


class RefusalError(GroundingError):
    """The answer does not decline, or declines but still states a figure."""


class ContextBudgetError(AssertionError):
    """The prompt plus `max_tokens` does not fit the route's context window."""


class StructuredOutputError(AssertionError):
    """Structured output (JSON, tool calls) is malformed or does not match its schema."""


class JSONExtractionError(StructuredOutputError):
    """No JSON value could be taken from the output under the chosen mode."""


class SchemaMismatchError(StructuredOutputError):
    """A JSON value does not validate against its JSON Schema."""


class ToolCallError(StructuredOutputError):
    """A tool call names an unknown tool or carries invalid arguments."""


class JudgeOutputError(ValueError):
    """The judge model's output contains no verdict that can be parsed."""
