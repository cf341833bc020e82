"""pytest-kimi: regression tests for Kimi K2.6 and other OpenAI-compatible models.

The pytest plugin itself is `pytest_kimi.plugin`; this package exports the
objects tests use directly. Feature packages have their own public names:
`pytest_kimi.media`, `pytest_kimi.grounding`, `pytest_kimi.snapshot`,
`pytest_kimi.report`, `pytest_kimi.parity`, `pytest_kimi.migration` and
`pytest_kimi.recording`.
"""

from __future__ import annotations

from pytest_kimi.client.client import KimiClient
from pytest_kimi.client.conversation import Conversation
from pytest_kimi.client.health import SplitReasoning, check_reply, split_reasoning
from pytest_kimi.client.reply import Reply, Timings, ToolCall, Usage
from pytest_kimi.emulator.profile import Profile
from pytest_kimi.emulator.server import EmulatorServer
from pytest_kimi.errors import (
    ContextBudgetError,
    HistoryProtocolError,
    KimiAPIError,
    KimiConfigError,
    KimiError,
    KimiProtocolError,
    KimiRouteError,
    KimiTransportError,
    ReasoningExhaustedError,
    RequestRejectedError,
)

__all__ = [
    "ContextBudgetError",
    "Conversation",
    "EmulatorServer",
    "HistoryProtocolError",
    "KimiAPIError",
    "KimiClient",
    "KimiConfigError",
    "KimiError",
    "KimiProtocolError",
    "KimiRouteError",
    "KimiTransportError",
    "Profile",
    "ReasoningExhaustedError",
    "Reply",
    "RequestRejectedError",
    "SplitReasoning",
    "Timings",
    "ToolCall",
    "Usage",
    "check_reply",
    "split_reasoning",
]
