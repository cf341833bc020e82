"""Multi-turn conversations and tool loops.

An assistant turn is written back exactly as the protocol requires: the
reasoning goes under the route's history field (`reasoning_content` on the
official API, where an empty string still counts as present, `reasoning` or
`reasoning_content` on self-hosted routes), and tool-call ids are kept byte
for byte, because Kimi's chat template writes them into the prompt verbatim
(exo-explore/exo#2281).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pytest_kimi.client.reply import Reply
from pytest_kimi.errors import KimiConfigError

if TYPE_CHECKING:
    from pytest_kimi.client.client import ContentInput, KimiClient

__all__ = ["Conversation", "assistant_message"]


def assistant_message(reply: Reply, *, reasoning_field: str) -> dict[str, Any]:
    """Return the history message for `reply`, keeping reasoning and tool-call ids."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.content or ""}
    if reply.reasoning is not None:
        message[reasoning_field] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [call.to_openai() for call in reply.tool_calls]
    return message


class Conversation:
    """A list of messages that grows by one exchange per `send`."""

    def __init__(
        self, client: KimiClient, *, system: str | None, defaults: Mapping[str, Any]
    ) -> None:
        self.client = client
        self.messages: list[dict[str, Any]] = []
        self.replies: list[Reply] = []
        self.defaults = dict(defaults)
        if system is not None:
            self.messages.append({"role": "system", "content": system})

    @property
    def last(self) -> Reply:
        """The latest reply."""
        if not self.replies:
            raise KimiConfigError("the conversation has no reply yet: call send() first.")
        return self.replies[-1]

    def add_user(self, content: ContentInput) -> None:
        """Append a user turn without sending it."""
        if isinstance(content, str):
            self.messages.append({"role": "user", "content": content})
        else:
            parts = [
                {"type": "text", "text": part} if isinstance(part, str) else dict(part)
                for part in content
            ]
            self.messages.append({"role": "user", "content": parts})

    def add_tool_result(self, tool_call_id: str, result: Any) -> None:
        """Append a tool result; non-string results are sent as JSON."""
        content = result if isinstance(result, str) else json.dumps(result)
        self.messages.append({"role": "tool", "tool_call_id": tool_call_id, "content": content})

    def send(self, content: ContentInput | None = None, **fields: Any) -> Reply:
        """Send the history (plus `content` as a new user turn) and record the reply."""
        __tracebackhide__ = True
        if content is not None:
            self.add_user(content)
        if not self.messages:
            raise KimiConfigError("conversation.send() needs a user message first.")
        merged = {**self.defaults, **fields}
        reply = self.client.chat(self.messages, **merged)
        self.replies.append(reply)
        if self.client.route.flavor == "anthropic":
            from pytest_kimi.client.anthropic import anthropic_assistant_message

            self.messages.append(anthropic_assistant_message(reply))
        else:
            self.messages.append(
                assistant_message(reply, reasoning_field=self.client.route.history_reasoning_field)
            )
        return reply

    def run_tools(
        self,
        handlers: Mapping[str, Callable[..., Any]],
        *,
        max_turns: int = 8,
        **fields: Any,
    ) -> Reply:
        """Answer tool calls with `handlers` until the model stops calling tools.

        Each handler is called with the parsed arguments as keyword arguments.
        Raises `KimiConfigError` when the model calls a tool without a handler
        or the loop exceeds `max_turns`.
        """
        __tracebackhide__ = True
        reply = self.last
        for _ in range(max_turns):
            if not reply.tool_calls:
                return reply
            for call in reply.tool_calls:
                handler = handlers.get(call.name)
                if handler is None:
                    raise KimiConfigError(
                        f"the model called tool {call.name!r}, which has no handler: pass it in "
                        f"run_tools(handlers=...) (known: {', '.join(sorted(handlers))})."
                    )
                self.add_tool_result(call.id, handler(**call.parsed_arguments()))
            reply = self.send(**fields)
        raise KimiConfigError(
            f"tool loop still calling tools after {max_turns} turns; raise max_turns or check "
            "the tool results."
        )
