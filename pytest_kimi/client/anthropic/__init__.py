"""The Anthropic-compatible route: Messages API bodies, sending and history.

Moonshot serves K2.6 over the Messages API at
`https://api.moonshot.ai/anthropic/v1/messages` (`.cn` in China). A route
of flavor `anthropic` uses the base URL that ends in `/v1`, for example
`https://api.moonshot.ai/anthropic/v1`; requests go to `{base_url}/messages`.
"""

from __future__ import annotations

import copy
from typing import Any

from pytest_kimi.client.anthropic.body import (
    ANTHROPIC_VERSION,
    DEFAULT_MAX_TOKENS,
    build_anthropic_body,
    convert_messages,
)
from pytest_kimi.client.anthropic.parse import AnthropicStreamAccumulator, parse_message
from pytest_kimi.client.anthropic.send import messages_url, send_anthropic
from pytest_kimi.client.reply import Reply

__all__ = [
    "ANTHROPIC_VERSION",
    "DEFAULT_MAX_TOKENS",
    "MOONSHOT_ANTHROPIC_BASE_URL",
    "AnthropicStreamAccumulator",
    "anthropic_assistant_message",
    "build_anthropic_body",
    "convert_messages",
    "messages_url",
    "parse_message",
    "send_anthropic",
]

# Base URL of Moonshot's global Anthropic-compatible route, ending in /v1.
MOONSHOT_ANTHROPIC_BASE_URL = "https://api.moonshot.ai/anthropic/v1"


def anthropic_assistant_message(reply: Reply) -> dict[str, Any]:
    """Return the history message for an Anthropic-route `reply`.

    The content is the list of blocks as received, so thinking blocks keep
    their text and signature. With thinking on, Moonshot rejects a later
    request whose tool-use turn lacks its thinking block (HTTP 400
    `thinking is enabled but reasoning_content is missing in assistant tool
    call message at index N`).
    """
    blocks = copy.deepcopy(reply.extra_content_blocks)
    if not blocks:
        return {"role": "assistant", "content": reply.content or ""}
    return {"role": "assistant", "content": blocks}
