"""Exceptions raised by pytest-kimi.

The hierarchy separates three kinds of failure, because a broken route must
never be reported as a model regression:

    KimiError
    ├── KimiConfigError            bad settings, unknown route or mode, budget exceeded
    │   └── ContextBudgetError     prompt plus max tokens does not fit the route's window
    ├── KimiAPIError               the server answered with an error envelope
    │   ├── RequestRejectedError   a 400 that points at the harness, not the model
    │   └── HistoryProtocolError   a 400 about reasoning missing from history
    ├── KimiTransportError         connection refused or dropped, timeout (after retries)
    └── KimiProtocolError          a body that is not JSON or SSE, a malformed chunk
    KimiRouteError (AssertionError)  the reply shows a misconfigured route
    ReasoningExhaustedError (AssertionError)  reasoning used the whole max-tokens budget

`KimiRouteError` and `ReasoningExhaustedError` subclass `AssertionError` so
that they fail the test like any assertion; the report labels them separately.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ContextBudgetError",
    "HistoryProtocolError",
    "KimiAPIError",
    "KimiConfigError",
    "KimiError",
    "KimiProtocolError",
    "KimiRouteError",
    "KimiTransportError",
    "ReasoningExhaustedError",
    "RequestRejectedError",
]


class KimiError(Exception):
    """Base class of every pytest-kimi error."""


class KimiConfigError(KimiError):
    """A setting, route, mode or request field is invalid; the message names the fix."""


class ContextBudgetError(KimiConfigError):
    """The prompt plus the output budget does not fit the route's context window."""


class KimiAPIError(KimiError):
    """The server returned an HTTP error with the `{"error": {"type", "message"}}` envelope."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None,
        error_type: str | None,
        error_message: str | None,
        route: str,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_type = error_type
        self.error_message = error_message
        self.route = route
        self.body = body


class RequestRejectedError(KimiAPIError):
    """A 400 caused by the request the harness built (sampling, tool_choice, context)."""


class HistoryProtocolError(KimiAPIError):
    """A 400 because an earlier assistant turn was written back without its reasoning."""


class KimiTransportError(KimiError):
    """The route could not be reached, dropped the connection or timed out, after all retries."""


class KimiProtocolError(KimiError):
    """The response body is not JSON or SSE as promised, or is malformed or empty."""


class KimiRouteError(KimiError, AssertionError):
    """The reply shows a route problem (reasoning parser missing, thinking switch ignored, ...)."""

    def __init__(self, message: str, *, route: str, check: str) -> None:
        super().__init__(message)
        self.route = route
        self.check = check


class ReasoningExhaustedError(KimiError, AssertionError):
    """The reply stopped on `finish_reason=length` with empty content: reasoning used the budget."""
