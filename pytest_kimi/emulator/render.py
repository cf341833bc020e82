"""Render an emulated completion as a JSON body or as server-sent events."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any

from pytest_kimi.emulator.contract import estimate_tokens
from pytest_kimi.emulator.engine import Completion
from pytest_kimi.emulator.profile import Profile

__all__ = ["apply_profile_faults", "completion_body", "completion_events", "usage_for"]

FINGERPRINT = "pytest-kimi-emulator"


def usage_for(body: Mapping[str, Any], completion: Completion) -> dict[str, int]:
    """Estimate usage for a completion (4 characters per token; an estimate)."""
    if completion.usage is not None:
        return dict(completion.usage)
    prompt = estimate_tokens(body.get("messages") or [])
    produced = (completion.content or "") + completion.reasoning
    produced += "".join(call["arguments"] for call in completion.tool_calls)
    completion_tokens = max(1, len(produced) // 4)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens,
        "cached_tokens": 0,
    }


def _markup(calls: list[dict[str, Any]], clean_ids: bool) -> str:
    parts = ["<|tool_calls_section_begin|>"]
    for call in calls:
        call_id = re.sub(r"[^A-Za-z0-9_-]", "_", call["id"]) if clean_ids else call["id"]
        parts.append(
            f"<|tool_call_begin|>{call_id}<|tool_call_argument_begin|>{call['arguments']}"
            "<|tool_call_end|>"
        )
    parts.append("<|tool_calls_section_end|>")
    return "".join(parts)


def _history_has_tool_ids(body: Mapping[str, Any]) -> bool:
    return any(isinstance(m, Mapping) and m.get("tool_calls") for m in body.get("messages") or [])


def apply_profile_faults(
    completion: Completion, profile: Profile, body: Mapping[str, Any], thinking: bool
) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    """Return (content, reasoning, tool calls) as this profile's server would send them."""
    content = completion.content
    reasoning: str | None = completion.reasoning if thinking else None
    calls = list(completion.tool_calls)
    if profile.rewrite_tool_ids and calls and _history_has_tool_ids(body):
        # The proxy cleaned earlier ids in the prompt, so the model copies the cleaned
        # form and the parser gives up, passing the raw markup through (exo-explore/exo#2281).
        content, calls = _markup(calls, clean_ids=True), []
    if profile.no_reasoning_parser:
        # Without --reasoning-parser, the template pre-fills <think>, so content starts in
        # the middle of the reasoning and has a bare </think> (vllm-project/vllm#36207).
        prefix = f" {reasoning} </think> " if reasoning is not None else ""
        body_text = _markup(calls, clean_ids=False) if calls else (content or "")
        return prefix + body_text, None, []
    if profile.reasoning_field == "none":
        reasoning = None
    return content, reasoning, calls


def _message(
    profile: Profile, content: str | None, reasoning: str | None, calls: list[dict[str, Any]]
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        message[profile.reasoning_field] = reasoning
    if calls:
        message["tool_calls"] = [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": call["arguments"]},
            }
            for call in calls
        ]
    return message


def completion_body(
    profile: Profile,
    body: Mapping[str, Any],
    completion: Completion,
    parts: tuple[str | None, str | None, list[dict[str, Any]]],
    completion_id: str,
) -> dict[str, Any]:
    """Return a non-streaming chat-completion body."""
    content, reasoning, calls = parts
    finish = (
        completion.finish_reason if calls or completion.finish_reason != "tool_calls" else "stop"
    )
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": profile.model,
        "system_fingerprint": FINGERPRINT,
        "choices": [
            {
                "index": 0,
                "message": _message(profile, content, reasoning, calls),
                "finish_reason": finish,
            }
        ],
        "usage": usage_for(body, completion),
    }


def _pieces(text: str, size: int = 24) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def completion_events(
    profile: Profile,
    body: Mapping[str, Any],
    completion: Completion,
    parts: tuple[str | None, str | None, list[dict[str, Any]]],
    completion_id: str,
) -> list[str]:
    """Return the `data:` payloads of a streamed completion, ending with `[DONE]`."""
    content, reasoning, calls = parts
    created = int(time.time())

    def chunk(delta: dict[str, Any], **extra: Any) -> str:
        choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": None}
        choice.update(extra)
        return json.dumps(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": profile.model,
                "system_fingerprint": FINGERPRINT,
                "choices": [choice],
            }
        )

    events = [chunk({"role": "assistant", "content": ""})]
    if reasoning is not None:
        events.extend(chunk({profile.reasoning_field: piece}) for piece in _pieces(reasoning))
    if content:
        events.extend(chunk({"content": piece}) for piece in _pieces(content))
    for index, call in enumerate(calls):
        head = {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["name"], "arguments": ""},
        }
        events.append(chunk({"tool_calls": [head]}))
        for piece in _pieces(call["arguments"], 8):
            events.append(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            )
    usage = usage_for(body, completion)
    finish = (
        completion.finish_reason if calls or completion.finish_reason != "tool_calls" else "stop"
    )
    if profile.official:
        # Moonshot sends usage inside choices[0] on the finish chunk.
        events.append(chunk({}, finish_reason=finish, usage=usage))
    else:
        events.append(chunk({}, finish_reason=finish))
    options = body.get("stream_options") or {}
    if isinstance(options, Mapping) and options.get("include_usage"):
        events.append(
            json.dumps(
                {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": profile.model,
                    "choices": [],
                    "usage": usage,
                }
            )
        )
    events.append("[DONE]")
    return events
