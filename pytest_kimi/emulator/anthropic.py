"""The emulator's Messages API endpoint: `POST /PROFILE/v1/messages`.

A request is converted to the chat-completions shape and checked with the
same contract rules as the chat route (thinking field, fixed sampling,
reasoning in tool-call history, tool choice, context size); the answer
comes from `EmulatorServer.complete` and is rendered as content blocks or
as named server-sent events. Errors use the Messages API envelope
`{"type": "error", "error": {"type": ..., "message": ...}}`.

Only profiles of flavor `anthropic` serve this endpoint, for example the
built-in `anthropic` profile at `{server.url}/anthropic/v1/messages`.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_kimi.emulator.contract import ContractViolation, validate_request
from pytest_kimi.emulator.engine import Completion
from pytest_kimi.emulator.profile import Profile
from pytest_kimi.emulator.render import apply_profile_faults, usage_for
from pytest_kimi.emulator.scripts import Fault
from pytest_kimi.emulator.server import EmulatorServer

__all__ = [
    "STOP_REASONS",
    "anthropic_error",
    "handle_messages",
    "message_body",
    "message_events",
    "register_anthropic",
    "to_chat_request",
]

Parts = tuple[str | None, str | None, list[dict[str, Any]]]
HandlerResult = tuple[int, dict[str, str], Any]

# Chat-completions finish reasons mapped to Messages API stop reasons.
STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def anthropic_error(status: int, message: str, error_type: str | None = None) -> dict[str, Any]:
    """Return a Messages API error body; the type defaults from the status."""
    kind = error_type or _ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "\n".join(
            str(block.get("text", ""))
            for block in content
            if isinstance(block, Mapping) and block.get("type") == "text"
        )
    return ""


def _chat_part(block: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": str(block.get("text", ""))}
    if kind == "image":
        source = block.get("source") or {}
        if source.get("type") == "base64":
            url = f"data:{source.get('media_type')};base64,{source.get('data')}"
        else:
            url = str(source.get("url", ""))
        return {"type": "image_url", "image_url": {"url": url}}
    return None


def _user_messages(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    if not isinstance(content, list):
        raise ContractViolation(400, "messages: user content must be a string or a list")
    messages: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in content:
        if not isinstance(block, Mapping):
            raise ContractViolation(400, "messages: content blocks must be objects")
        if block.get("type") == "tool_result":
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": block.get("tool_use_id"),
                    "content": _text(block.get("content")),
                }
            )
            continue
        part = _chat_part(block)
        if part is not None:
            parts.append(part)
    if parts:
        messages.append({"role": "user", "content": parts})
    return messages


def _assistant_message(content: Any) -> dict[str, Any]:
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    message: dict[str, Any] = {"role": "assistant", "content": ""}
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in content if isinstance(content, list) else []:
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind in ("thinking", "redacted_thinking"):
            reasoning.append(str(block.get("thinking", "")))
        elif kind == "tool_use":
            arguments = json.dumps(block.get("input", {}))
            calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": block.get("name"), "arguments": arguments},
                }
            )
    message["content"] = "".join(texts)
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    if calls:
        message["tool_calls"] = calls
    return message


def _chat_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    if "input_schema" not in tool:
        # Server tools (for example web search) have a `type` and no schema.
        return {"type": "builtin_function", "function": {"name": tool.get("name")}}
    function = {
        "name": tool.get("name"),
        "description": tool.get("description", ""),
        "parameters": tool.get("input_schema"),
    }
    return {"type": "function", "function": function}


def _chat_tool_choice(choice: Any) -> Any:
    if not isinstance(choice, Mapping):
        raise ContractViolation(400, "tool_choice: must be an object")
    kind = choice.get("type")
    if kind == "tool":
        # A named tool is the 'specified' choice that K2.6 rejects with thinking on.
        return {"type": "function", "function": {"name": choice.get("name")}}
    if kind in ("auto", "none"):
        return kind
    if kind == "any":
        # NOTE: public reports conflict on whether Moonshot accepts `any` with
        # thinking on; the emulator accepts it.
        return "auto"
    raise ContractViolation(400, f"tool_choice.type: unknown value {kind!r}")


def _chat_thinking(thinking: Any) -> Any:
    if not isinstance(thinking, Mapping):
        return thinking
    # NOTE: whether Moonshot honours `budget_tokens` on this route is unconfirmed;
    # the emulator accepts and ignores it.
    return {key: value for key, value in thinking.items() if key != "budget_tokens"}


def to_chat_request(body: Any) -> dict[str, Any]:
    """Convert a Messages API body to the chat-completions body it stands for.

    Raises:
        ContractViolation: the body is not a valid Messages API request.
    """
    if not isinstance(body, Mapping):
        raise ContractViolation(400, "Invalid request: body must be a JSON object")
    if "max_tokens" not in body:
        raise ContractViolation(400, "max_tokens: Field required")
    messages: list[dict[str, Any]] = []
    system = body.get("system")
    if system:
        messages.append({"role": "system", "content": _text(system)})
    for message in body.get("messages") or []:
        if not isinstance(message, Mapping):
            raise ContractViolation(400, "messages: each message must be an object")
        if message.get("role") == "assistant":
            messages.append(_assistant_message(message.get("content")))
        else:
            messages.extend(_user_messages(message.get("content")))
    chat: dict[str, Any] = {"model": body.get("model"), "messages": messages}
    chat["max_tokens"] = body["max_tokens"]
    for name in ("temperature", "top_p", "stream"):
        if name in body:
            chat[name] = body[name]
    if "thinking" in body:
        chat["thinking"] = _chat_thinking(body["thinking"])
    if body.get("tools"):
        chat["tools"] = [_chat_tool(tool) for tool in body["tools"]]
    if "tool_choice" in body:
        chat["tool_choice"] = _chat_tool_choice(body["tool_choice"])
    return chat


def _signature(reasoning: str) -> str:
    # A deterministic stand-in that names its origin; it is not a real signature.
    digest = hashlib.sha256(reasoning.encode()).digest()[:24]
    return "pytest-kimi-emulator." + base64.b64encode(digest).decode()


def _blocks(parts: Parts) -> list[dict[str, Any]]:
    content, reasoning, calls = parts
    blocks: list[dict[str, Any]] = []
    if reasoning is not None:
        blocks.append(
            {"type": "thinking", "thinking": reasoning, "signature": _signature(reasoning)}
        )
    if content:
        blocks.append({"type": "text", "text": content})
    for call in calls:
        try:
            arguments = json.loads(call["arguments"])
        except json.JSONDecodeError:
            arguments = {}
        blocks.append(
            {"type": "tool_use", "id": call["id"], "name": call["name"], "input": arguments}
        )
    return blocks


def _stop_reason(completion: Completion, parts: Parts) -> str:
    finish = completion.finish_reason
    if finish == "tool_calls" and not parts[2]:
        finish = "stop"
    return STOP_REASONS.get(finish, finish)


def _usage(chat: Mapping[str, Any], completion: Completion) -> dict[str, int]:
    counts = usage_for(chat, completion)
    return {
        "input_tokens": counts.get("prompt_tokens", 0),
        "output_tokens": counts.get("completion_tokens", 0),
        "cache_read_input_tokens": counts.get("cached_tokens", 0),
        "cache_creation_input_tokens": 0,
    }


def message_body(
    profile: Profile,
    chat: Mapping[str, Any],
    completion: Completion,
    parts: Parts,
    message_id: str,
) -> dict[str, Any]:
    """Return a non-streamed Messages API response."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": profile.model,
        "content": _blocks(parts),
        "stop_reason": _stop_reason(completion, parts),
        "stop_sequence": None,
        "usage": _usage(chat, completion),
    }


def _event(name: str, payload: Mapping[str, Any]) -> str:
    # The server writes each item as `data: ITEM` plus a blank line. Putting
    # the `event:` field after the data line is valid server-sent events: the
    # fields of one event may come in any order.
    return json.dumps(payload) + f"\nevent: {name}"


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _block_events(index: int, block: Mapping[str, Any]) -> list[str]:
    kind = block["type"]
    if kind == "thinking":
        start: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": p} for p in _pieces(block["thinking"], 24)]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    elif kind == "text":
        start = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"], 24)]
    else:
        start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        arguments = json.dumps(block["input"])
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in _pieces(arguments, 8)]
    events = [
        _event(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        )
    ]
    events.extend(
        _event(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        )
        for delta in deltas
    )
    events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def message_events(
    profile: Profile,
    chat: Mapping[str, Any],
    completion: Completion,
    parts: Parts,
    message_id: str,
) -> list[str]:
    """Return the events of a streamed Messages API response, in wire order."""
    whole = message_body(profile, chat, completion, parts, message_id)
    usage = whole["usage"]
    start = dict(whole, content=[], stop_reason=None, usage=dict(usage, output_tokens=1))
    events = [
        _event("message_start", {"type": "message_start", "message": start}),
        _event("ping", {"type": "ping"}),
    ]
    for index, block in enumerate(whole["content"]):
        events.extend(_block_events(index, block))
    delta = {"stop_reason": whole["stop_reason"], "stop_sequence": None}
    events.append(
        _event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": delta,
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        )
    )
    events.append(_event("message_stop", {"type": "message_stop"}))
    return events


def _profile_name(server: EmulatorServer, body: Any) -> str:
    # The server logs each request, with this same body object, before it
    # calls the handler; the log entry names the profile from the URL.
    for request in reversed(list(server.requests)):
        if request.body is body:
            return request.profile
    return "anthropic"


def _fault_response(fault: Fault) -> HandlerResult | None:
    if fault.status is None:
        return None
    headers = {"retry-after": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
    message = fault.message or f"HTTP {fault.status} (pytest-kimi emulator fault injection)"
    return fault.status, headers, anthropic_error(fault.status, message, fault.error_type)


def handle_messages(server: EmulatorServer, profile: Profile, body: Any) -> HandlerResult:
    """Handle one `POST .../v1/messages` request (an emulator extra handler).

    Scripted replies apply as on the chat route; of the scripted faults only
    `status` (with `retry_after`, `error_type` and `message`) applies here.
    """
    if profile.flavor != "anthropic":
        message = "the Messages API is served only by profiles of flavor 'anthropic'"
        return 404, {}, anthropic_error(404, message)
    try:
        chat = to_chat_request(body)
        # The Anthropic route enforces the official chat route's contract.
        official = dataclasses.replace(profile, flavor="moonshot")
        thinking = validate_request(chat, official, media_check=server.media_check)
    except ContractViolation as violation:
        return (
            violation.status,
            {},
            anthropic_error(violation.status, violation.message, violation.error_type),
        )
    summary = server.summarize(chat, _profile_name(server, body), thinking)
    script = server.scripts.take(summary)
    failure = _fault_response(script.fault) if script and script.fault else None
    if failure is not None:
        return failure
    completion = server.complete(chat, thinking, script.reply if script else None)
    parts = apply_profile_faults(completion, profile, chat, thinking)
    message_id = f"msg_emu{next(server.counter):06d}"
    if chat.get("stream"):
        return 200, {}, message_events(profile, chat, completion, parts, message_id)
    return 200, {}, message_body(profile, chat, completion, parts, message_id)


def register_anthropic(server: EmulatorServer) -> EmulatorServer:
    """Serve the Messages API on `server` at `/PROFILE/v1/messages` and return `server`."""
    server.extra_handlers["/messages"] = handle_messages
    return server
