"""Protocol health checks that tell a broken route from a model regression."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pytest_kimi.client.reply import Reply
from pytest_kimi.errors import KimiRouteError, ReasoningExhaustedError

__all__ = [
    "REASONING_MARKUP",
    "TOOL_CALL_MARKUP",
    "SplitReasoning",
    "check_reply",
    "split_reasoning",
]

REASONING_MARKUP = ("<think>", "</think>")
# Kimi's raw tool-call tokens, which the kimi_k2 tool-call parser should consume.
TOOL_CALL_MARKUP = (
    "<|tool_calls_section_begin|>",
    "<|tool_call_begin|>",
    "<|tool_call_argument_begin|>",
    "<|tool_call_end|>",
    "<|tool_calls_section_end|>",
)


@dataclass(frozen=True)
class SplitReasoning:
    """Content split at a leaked reasoning boundary."""

    reasoning: str
    content: str
    tool_markup: str = ""


def split_reasoning(text: str) -> SplitReasoning:
    """Split content that carries leaked reasoning into reasoning and answer.

    Handles a server without a reasoning parser, where the chat template
    pre-fills `<think>` so the content holds the reasoning, a bare `</think>`,
    and the answer (vllm-project/vllm#36207). K2.6 can also end its reasoning
    with the tool-call section marker instead of `</think>`
    (vllm-project/vllm PR #32216); then the marker and everything after it is
    returned as `tool_markup`, unparsed.
    """
    body = text.replace("<think>", "", 1) if "<think>" in text else text
    if "</think>" in body:
        reasoning, _, content = body.partition("</think>")
        return SplitReasoning(reasoning.strip(), content.strip())
    marker = TOOL_CALL_MARKUP[0]
    if marker in body:
        reasoning, _, rest = body.partition(marker)
        return SplitReasoning(reasoning.strip(), "", marker + rest)
    return SplitReasoning("", text.strip())


_ROUTE_HINT = re.compile(r"\s+")


def _route_error(reply: Reply, check: str, message: str) -> KimiRouteError:
    return KimiRouteError(
        f"route problem on {reply.route!r} ({reply.flavor}, mode {reply.mode}): {message}",
        route=reply.route,
        check=check,
    )


def check_reply(reply: Reply) -> None:
    """Raise if the reply shows a route problem rather than a model answer.

    Raises:
        KimiRouteError: reasoning markup or raw tool-call tokens in content,
            thinking requested but no reasoning, or instant mode answering in
            the reasoning channel.
        ReasoningExhaustedError: `finish_reason` is `length` and content is
            empty, so reasoning used the whole output budget.
    """
    __tracebackhide__ = True
    content = reply.content or ""
    if any(tag in content for tag in REASONING_MARKUP):
        raise _route_error(
            reply,
            "reasoning_markup",
            f"reasoning leaked into content on route {reply.route} "
            "(is --reasoning-parser kimi_k2 set?)",
        )
    if any(tag in content for tag in TOOL_CALL_MARKUP):
        raise _route_error(
            reply,
            "tool_call_markup",
            f"unparsed tool-call markup in content on route {reply.route} "
            "(is --tool-call-parser kimi_k2 set, and are tool-call ids sent back unchanged?)",
        )
    if reply.finish_reason == "length" and not content.strip() and not reply.tool_calls:
        raise ReasoningExhaustedError(
            "reasoning exhausted max_tokens (finish_reason=length, empty content) on route "
            f"{reply.route}: raise max_tokens / max_completion_tokens; K2.6 counts reasoning "
            "tokens against the same budget."
        )
    if reply.mode in ("thinking", "preserve") and not reply.has_reasoning():
        raise _route_error(
            reply,
            "reasoning_missing",
            f"thinking mode requested but no reasoning received (route {reply.route}); "
            "check the reasoning parser and the thinking switch of this route.",
        )
    if reply.mode == "instant" and reply.has_reasoning():
        if not content.strip() and not reply.tool_calls:
            raise _route_error(
                reply,
                "instant_answer_in_reasoning",
                "instant mode: answer delivered in reasoning channel (content is empty).",
            )
        raise _route_error(
            reply,
            "thinking_switch_ignored",
            "instant mode: reasoning received although thinking was disabled; the route "
            "ignores the thinking switch.",
        )
