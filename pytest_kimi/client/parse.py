"""Turn chat-completions bodies and stream chunks into reply fields.

Servers disagree on where things are:
- reasoning is `reasoning_content` (Moonshot, SGLang) or `reasoning` (vLLM
  since vllm-project/vllm#27752), in `message` and in `delta`;
- streaming usage is in `choices[0].usage` on the finish chunk (Moonshot) or
  in a final chunk with `choices: []` and top-level `usage` (OpenAI's
  `include_usage`); some servers send the final chunk without `choices`;
- cached tokens are `usage.cached_tokens` (Moonshot) or
  `usage.prompt_tokens_details.cached_tokens` (OpenAI).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_kimi.client.reply import ToolCall, Usage
from pytest_kimi.errors import KimiProtocolError

__all__ = ["ParsedReply", "StreamAccumulator", "parse_completion", "parse_usage"]

REASONING_FIELDS = ("reasoning_content", "reasoning")


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_usage(raw: Any, *, source: str) -> Usage | None:
    """Normalise a `usage` object, or return `None` when `raw` is not one."""
    if not isinstance(raw, Mapping):
        return None
    cached = _int_or_none(raw.get("cached_tokens"))
    details = raw.get("prompt_tokens_details")
    if cached is None and isinstance(details, Mapping):
        cached = _int_or_none(details.get("cached_tokens"))
    reasoning = None
    completion_details = raw.get("completion_tokens_details")
    if isinstance(completion_details, Mapping):
        reasoning = _int_or_none(completion_details.get("reasoning_tokens"))
    return Usage(
        prompt_tokens=_int_or_none(raw.get("prompt_tokens")),
        completion_tokens=_int_or_none(raw.get("completion_tokens")),
        total_tokens=_int_or_none(raw.get("total_tokens")),
        cached_tokens=cached,
        reasoning_tokens=reasoning,
        source=source,
    )


@dataclass
class ParsedReply:
    """Reply fields read from one response, before timings and route are attached."""

    content: str | None = None
    reasoning: str | None = None
    reasoning_field: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    id: str | None = None
    model: str | None = None


def _read_reasoning(message: Mapping[str, Any]) -> tuple[str | None, str | None]:
    for name in REASONING_FIELDS:
        value = message.get(name)
        if isinstance(value, str):
            return value, name
    return None, None


def _read_tool_calls(raw: Any) -> list[ToolCall]:
    calls: list[ToolCall] = []
    if not isinstance(raw, list):
        return calls
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        function = item.get("function") or {}
        calls.append(
            ToolCall(
                id=str(item.get("id", "")),
                name=str(function.get("name", "")),
                arguments=function.get("arguments") or "",
                type=str(item.get("type", "function")),
            )
        )
    return calls


def parse_completion(body: Any) -> ParsedReply:
    """Read a non-streaming chat-completions body.

    Raises:
        KimiProtocolError: the body is not a completion object.
    """
    if not isinstance(body, Mapping) or not isinstance(body.get("choices"), list):
        raise KimiProtocolError(
            f"response body is not a chat completion (no 'choices' list): {str(body)[:200]!r}"
        )
    parsed = ParsedReply(id=body.get("id"), model=body.get("model"))
    usage = parse_usage(body.get("usage"), source="usage")
    choices = body["choices"]
    if choices:
        choice = choices[0]
        message = choice.get("message") or {}
        content = message.get("content")
        parsed.content = content if isinstance(content, str) else None
        parsed.reasoning, parsed.reasoning_field = _read_reasoning(message)
        parsed.tool_calls = _read_tool_calls(message.get("tool_calls"))
        parsed.finish_reason = choice.get("finish_reason")
        if usage is None:
            usage = parse_usage(choice.get("usage"), source="choices[0].usage")
    parsed.usage = usage or Usage()
    return parsed


@dataclass
class _ToolCallBuffer:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    type: str = "function"


class StreamAccumulator:
    """Assemble streamed chat-completion chunks into one `ParsedReply`.

    Feed each parsed `data:` payload to `add`; `add` returns whether the chunk
    carried a token (reasoning, content or a tool-call fragment), which the
    client uses for time to first token.
    """

    def __init__(self) -> None:
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._reasoning_field: str | None = None
        self._saw_content = False
        self._tools: dict[int, _ToolCallBuffer] = {}
        self._finish_reason: str | None = None
        self._usage: Usage | None = None
        self._id: str | None = None
        self._model: str | None = None
        self.chunks = 0

    def add(self, chunk: Any) -> bool:
        """Add one chunk and return whether it carried a token."""
        if not isinstance(chunk, Mapping):
            raise KimiProtocolError(f"stream chunk is not a JSON object: {str(chunk)[:200]!r}")
        self.chunks += 1
        self._id = self._id or chunk.get("id")
        self._model = self._model or chunk.get("model")
        top_usage = parse_usage(chunk.get("usage"), source="usage")
        if top_usage is not None:
            self._usage = top_usage
        choices = chunk.get("choices") or []
        carried = False
        for choice in choices[:1]:
            carried = self._add_choice(choice)
        return carried

    def _add_choice(self, choice: Mapping[str, Any]) -> bool:
        carried = False
        delta = choice.get("delta") or {}
        for name in REASONING_FIELDS:
            piece = delta.get(name)
            if isinstance(piece, str):
                self._reasoning.append(piece)
                self._reasoning_field = self._reasoning_field or name
                carried = carried or bool(piece)
        piece = delta.get("content")
        if isinstance(piece, str):
            self._content.append(piece)
            self._saw_content = True
            carried = carried or bool(piece)
        for fragment in delta.get("tool_calls") or []:
            self._add_tool_fragment(fragment)
            carried = True
        if choice.get("finish_reason"):
            self._finish_reason = choice["finish_reason"]
        # Moonshot puts usage in choices[0].usage on the finish chunk
        # (earendil-works/pi#2017); a top-level usage chunk wins if both come.
        choice_usage = parse_usage(choice.get("usage"), source="choices[0].usage")
        if choice_usage is not None and self._usage is None:
            self._usage = choice_usage
        return carried

    def _add_tool_fragment(self, fragment: Any) -> None:
        if not isinstance(fragment, Mapping):
            raise KimiProtocolError(f"tool-call delta is not an object: {fragment!r}")
        index = fragment.get("index", len(self._tools))
        buffer = self._tools.setdefault(int(index), _ToolCallBuffer())
        if fragment.get("id"):
            buffer.id = str(fragment["id"])
        if fragment.get("type"):
            buffer.type = str(fragment["type"])
        function = fragment.get("function") or {}
        if function.get("name"):
            buffer.name += str(function["name"])
        if isinstance(function.get("arguments"), str):
            buffer.arguments.append(function["arguments"])

    def result(self) -> ParsedReply:
        """Return the assembled reply."""
        return ParsedReply(
            content="".join(self._content) if self._saw_content else None,
            reasoning="".join(self._reasoning) if self._reasoning_field else None,
            reasoning_field=self._reasoning_field,
            tool_calls=[
                ToolCall(id=b.id, name=b.name, arguments="".join(b.arguments), type=b.type)
                for _, b in sorted(self._tools.items())
            ],
            finish_reason=self._finish_reason,
            usage=self._usage or Usage(),
            id=self._id,
            model=self._model,
        )

    def extend(self, chunks: Iterable[Any]) -> ParsedReply:
        """Add every chunk and return the result."""
        for chunk in chunks:
            self.add(chunk)
        return self.result()
