"""The reply object that every route flavor is mapped to."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Reply", "Timings", "ToolCall", "Usage"]


@dataclass(frozen=True)
class ToolCall:
    """One tool call as the server sent it; `id` is kept byte for byte."""

    id: str
    name: str
    arguments: str
    type: str = "function"

    def parsed_arguments(self) -> Any:
        """Parse `arguments` as JSON, raising `ValueError` with the tool name on bad JSON."""
        try:
            return json.loads(self.arguments) if self.arguments else {}
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"tool call {self.id!r} ({self.name}) has arguments that are not valid JSON: "
                f"{self.arguments[:200]!r} ({exc})"
            ) from exc

    def to_openai(self) -> dict[str, Any]:
        """Render the call in the OpenAI chat-completions shape."""
        return {
            "id": self.id,
            "type": self.type,
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True)
class Usage:
    """Token counts, normalised from wherever the server put them.

    `source` names the place the counts were read from: `usage` (top level of
    the response or of a usage-only chunk), `choices[0].usage` (Moonshot's
    streaming finish chunk) or `none`.
    """

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None
    source: str = "none"

    def as_dict(self) -> dict[str, int]:
        """Return the counts that are present, without `source`."""
        names = (
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "cached_tokens",
            "reasoning_tokens",
        )
        return {name: value for name in names if (value := getattr(self, name)) is not None}


@dataclass(frozen=True)
class Timings:
    """Wall-clock timings of one call, in seconds."""

    total_s: float
    time_to_first_token_s: float | None = None
    output_tokens_per_s: float | None = None
    attempts: int = 1

    @classmethod
    def measure(
        cls,
        *,
        total_s: float,
        time_to_first_token_s: float | None,
        completion_tokens: int | None,
        attempts: int,
    ) -> Timings:
        """Build timings, with output tokens per second over the time after the first token."""
        generation_s = total_s - (time_to_first_token_s or 0.0)
        rate = completion_tokens / generation_s if completion_tokens and generation_s > 0 else None
        return cls(total_s, time_to_first_token_s, rate, attempts)


@dataclass
class Reply:
    """A model reply, the same shape for every route, flavor and mode.

    `reasoning` is the text of `reasoning_content` or `reasoning`, whichever
    the server used; `reasoning_field` names that field (`None` when neither
    was present). An empty string counts as present. `request` is the JSON body
    as sent, and `response` the parsed body (a dict) or, for a stream, the list
    of parsed server-sent event payloads in arrival order.
    """

    content: str | None
    reasoning: str | None
    tool_calls: list[ToolCall]
    finish_reason: str | None
    usage: Usage
    timings: Timings
    route: str
    mode: str
    model: str
    flavor: str
    streamed: bool
    request: dict[str, Any] = field(repr=False)
    response: Any = field(repr=False)
    status_code: int = 200
    reasoning_field: str | None = None
    id: str | None = None
    emulated: bool = False
    protocol: str = "openai"
    extra_content_blocks: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def text(self) -> str:
        """The answer text, with `None` read as an empty string."""
        return self.content or ""

    def has_reasoning(self) -> bool:
        """Return whether the reply carries reasoning text that is not blank."""
        return bool(self.reasoning and self.reasoning.strip())

    def json(self) -> Any:
        """Parse `content` as strict JSON (see `pytest_kimi.grounding.extract_json`)."""
        return json.loads(self.text)

    def summary(self) -> dict[str, Any]:
        """Return a JSON-ready record of the reply for reports and snapshots."""
        return {
            "route": self.route,
            "mode": self.mode,
            "model": self.model,
            "flavor": self.flavor,
            "protocol": self.protocol,
            "emulated": self.emulated,
            "streamed": self.streamed,
            "content": self.content,
            "reasoning_chars": len(self.reasoning) if self.reasoning is not None else None,
            "tool_calls": [
                {"id": call.id, "name": call.name, "arguments": call.arguments}
                for call in self.tool_calls
            ],
            "finish_reason": self.finish_reason,
            "usage": self.usage.as_dict(),
            "timings": {
                "total_s": self.timings.total_s,
                "time_to_first_token_s": self.timings.time_to_first_token_s,
                "output_tokens_per_s": self.timings.output_tokens_per_s,
                "attempts": self.timings.attempts,
            },
        }
