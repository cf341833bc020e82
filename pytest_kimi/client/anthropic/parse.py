"""Parse Messages API responses, whole or streamed, into content blocks.

A streamed message arrives as named server-sent events: `message_start`,
then per content block `content_block_start`, `content_block_delta`
(`text_delta`, `thinking_delta`, `signature_delta`, `input_json_delta`) and
`content_block_stop`, then `message_delta` with the stop reason and output
usage, and `message_stop`. Every event's JSON carries its name under
`type`, so the parser reads the data lines only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_kimi.client.reply import ToolCall, Usage
from pytest_kimi.errors import KimiProtocolError

__all__ = [
    "STOP_REASONS",
    "AnthropicStreamAccumulator",
    "ParsedMessage",
    "parse_message",
    "usage_from",
]

# Messages API stop reasons mapped to chat-completions finish reasons; other
# values (for example `pause_turn`) are kept as they are.
STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "refusal": "content_filter",
}


@dataclass
class ParsedMessage:
    """The parts of a Messages API response that `Reply` carries."""

    blocks: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    id: str | None = None
    model: str | None = None

    @property
    def content(self) -> str:
        """The text blocks joined; empty when the reply has tool calls only."""
        return "".join(str(b.get("text", "")) for b in self.blocks if b.get("type") == "text")

    @property
    def reasoning(self) -> str | None:
        """The thinking blocks joined, or `None` when there is no thinking block."""
        thinking = [b for b in self.blocks if b.get("type") == "thinking"]
        if not thinking:
            return None
        return "".join(str(b.get("thinking", "")) for b in thinking)

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The `tool_use` blocks as tool calls; arguments are the input as JSON text."""
        return [
            ToolCall(
                id=str(block.get("id", "")),
                name=str(block.get("name", "")),
                arguments=json.dumps(block.get("input", {})),
            )
            for block in self.blocks
            if block.get("type") == "tool_use"
        ]

    @property
    def finish_reason(self) -> str | None:
        """The stop reason in chat-completions terms (`end_turn` becomes `stop`)."""
        if self.stop_reason is None:
            return None
        return STOP_REASONS.get(self.stop_reason, self.stop_reason)


def _count(raw: Mapping[str, Any], name: str) -> int | None:
    value = raw.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_from(raw: Any, *, source: str) -> Usage:
    """Map Messages API usage to `Usage`.

    `input_tokens` becomes `prompt_tokens` and `cache_read_input_tokens`
    becomes `cached_tokens`.
    NOTE: on Anthropic's own API `input_tokens` excludes cache reads, while
    Moonshot's chat route counts cached tokens inside `prompt_tokens`; which
    rule Moonshot's Anthropic route follows is unconfirmed, so no sum is made.
    """
    if not isinstance(raw, Mapping):
        return Usage()
    prompt = _count(raw, "input_tokens")
    completion = _count(raw, "output_tokens")
    total = prompt + completion if prompt is not None and completion is not None else None
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        cached_tokens=_count(raw, "cache_read_input_tokens"),
        source=source,
    )


def parse_message(body: Any, *, route: str) -> ParsedMessage:
    """Parse a non-streamed Messages API response body.

    Raises:
        KimiProtocolError: the body is not a message object.
    """
    if not isinstance(body, Mapping) or not isinstance(body.get("content"), list):
        raise KimiProtocolError(
            f"route {route!r} returned a body that is not a Messages API message (no content "
            f"list): {str(body)[:200]!r}. Check that the base URL ends in /anthropic/v1."
        )
    return ParsedMessage(
        blocks=[dict(block) for block in body["content"] if isinstance(block, Mapping)],
        stop_reason=body.get("stop_reason"),
        usage=usage_from(body.get("usage"), source="usage"),
        id=body.get("id"),
        model=body.get("model"),
    )


class AnthropicStreamAccumulator:
    """Rebuild the content blocks of a streamed message, event by event.

    Feed each parsed event payload to `add`, which returns whether the event
    carried a token (text, thinking or tool input). `done` turns true at
    `message_stop`.
    """

    def __init__(self, route: str) -> None:
        self.route = route
        self.done = False
        self._message = ParsedMessage()
        self._blocks: dict[int, dict[str, Any]] = {}
        self._partial_json: dict[int, list[str]] = {}
        self._usage: dict[str, Any] = {}

    def add(self, event: Any) -> bool:
        """Add one event payload and return whether it carried a token."""
        if not isinstance(event, Mapping):
            raise self._malformed(event, "an event that is not a JSON object")
        kind = event.get("type")
        if kind == "message_start":
            self._start_message(event.get("message") or {})
        elif kind == "content_block_start":
            return self._start_block(event)
        elif kind == "content_block_delta":
            return self._delta(event)
        elif kind == "content_block_stop":
            self._stop_block(event)
        elif kind == "message_delta":
            delta = event.get("delta") or {}
            if delta.get("stop_reason") is not None:
                self._message.stop_reason = delta["stop_reason"]
            self._merge_usage(event.get("usage"))
        elif kind == "message_stop":
            self.done = True
        return False

    def result(self) -> ParsedMessage:
        """Return the message built so far, blocks in index order."""
        self._message.blocks = [self._blocks[index] for index in sorted(self._blocks)]
        self._message.usage = usage_from(self._usage, source="message_delta")
        return self._message

    def _malformed(self, event: Any, what: str) -> KimiProtocolError:
        return KimiProtocolError(
            f"route {self.route!r} sent {what} in a Messages API stream: {str(event)[:200]!r}"
        )

    def _start_message(self, message: Mapping[str, Any]) -> None:
        self._message.id = message.get("id")
        self._message.model = message.get("model")
        self._merge_usage(message.get("usage"))

    def _merge_usage(self, usage: Any) -> None:
        # `message_start` carries the input counts and `message_delta` the
        # cumulative output count; a later value replaces an earlier one.
        if isinstance(usage, Mapping):
            self._usage.update({k: v for k, v in usage.items() if v is not None})

    def _index(self, event: Mapping[str, Any]) -> int:
        index = event.get("index")
        if not isinstance(index, int):
            raise self._malformed(event, "a content block event without an integer index")
        return index

    def _start_block(self, event: Mapping[str, Any]) -> bool:
        index = self._index(event)
        block = event.get("content_block")
        if not isinstance(block, Mapping):
            raise self._malformed(event, "content_block_start without a content_block")
        self._blocks[index] = dict(block)
        if block.get("type") == "tool_use":
            self._partial_json[index] = []
            return True
        return bool(block.get("text") or block.get("thinking"))

    def _block(self, index: int, event: Mapping[str, Any]) -> dict[str, Any]:
        block = self._blocks.get(index)
        if block is None:
            raise self._malformed(event, f"a delta for block {index} before its start")
        return block

    def _delta(self, event: Mapping[str, Any]) -> bool:
        index = self._index(event)
        block = self._block(index, event)
        delta = event.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            block["text"] = block.get("text", "") + str(delta.get("text", ""))
            return bool(delta.get("text"))
        if kind == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + str(delta.get("thinking", ""))
            return bool(delta.get("thinking"))
        if kind == "signature_delta":
            block["signature"] = block.get("signature", "") + str(delta.get("signature", ""))
            return False
        if kind == "input_json_delta":
            piece = str(delta.get("partial_json", ""))
            self._partial_json.setdefault(index, []).append(piece)
            return bool(piece)
        if kind == "citations_delta":
            block.setdefault("citations", []).append(delta.get("citation"))
        return False

    def _stop_block(self, event: Mapping[str, Any]) -> None:
        index = self._index(event)
        block = self._block(index, event)
        pieces = self._partial_json.pop(index, None)
        if block.get("type") != "tool_use" or not pieces:
            return
        text = "".join(pieces)
        try:
            block["input"] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise self._malformed(
                text, f"tool input for {block.get('name')!r} that is not valid JSON ({exc.msg})"
            ) from exc
