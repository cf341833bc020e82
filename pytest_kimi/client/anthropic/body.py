"""Build Anthropic Messages API bodies from OpenAI-shaped messages and fields.

Tests write messages in the chat-completions shape (or pass on assistant
turns that the conversation helper stored in the Messages shape). This
module converts them: system messages become the top-level `system`, tool
results are grouped into one user turn of `tool_result` blocks, assistant
reasoning becomes a `thinking` block, and data-URL images become base64
`image` blocks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_kimi.client.encoding import FIXED_SAMPLING_PARAMS, deep_merge, mode_fields
from pytest_kimi.config.routes import Route
from pytest_kimi.errors import KimiConfigError

__all__ = [
    "ANTHROPIC_VERSION",
    "DEFAULT_MAX_TOKENS",
    "OPENAI_ONLY_FIELDS",
    "build_anthropic_body",
    "convert_messages",
    "convert_tool_choice",
    "convert_tools",
]

logger = logging.getLogger("pytest_kimi")

# The `anthropic-version` header value that Messages API clients send.
ANTHROPIC_VERSION = "2023-06-01"

# Our default output budget when the test sets none: the Messages API requires
# `max_tokens`, and K2.6 spends reasoning tokens from the same budget. Moonshot's
# thinking-model guide uses 1024 * 32 in its examples.
DEFAULT_MAX_TOKENS = 32_768

# Chat-completions fields that the Messages API has no counterpart for.
OPENAI_ONLY_FIELDS = (
    "response_format",
    "n",
    "presence_penalty",
    "frequency_penalty",
    "logprobs",
    "top_logprobs",
    "seed",
    "stream_options",
    "chat_template_kwargs",
    "reasoning_effort",
)

# Content block types that mark an assistant message already in the Messages shape.
_ASSISTANT_BLOCK_TYPES = frozenset({"text", "thinking", "redacted_thinking", "tool_use"})
# Content block types that the Messages API takes in a user turn as they are.
_USER_BLOCK_TYPES = frozenset({"text", "image", "document", "tool_result", "search_result"})
_REASONING_KEYS = ("reasoning_content", "reasoning")


def _image_block(part: Mapping[str, Any]) -> dict[str, Any]:
    raw = part.get("image_url")
    url = raw.get("url") if isinstance(raw, Mapping) else raw
    if not isinstance(url, str):
        raise KimiConfigError(
            f"image_url part without a URL: {str(part)[:120]!r}. Pass "
            "{'type': 'image_url', 'image_url': {'url': 'data:image/png;base64,...'}}."
        )
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media_type = header[len("data:") :].split(";", 1)[0]
        if ";base64" not in header or not media_type:
            raise KimiConfigError(
                f"image data URL {url[:60]!r}... is not base64 with a MIME type: the Messages "
                "API takes base64 image sources only. Encode it as data:image/png;base64,..."
            )
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    if url.startswith(("http://", "https://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise KimiConfigError(
        f"image URL {url[:60]!r} cannot be sent on an Anthropic route: only data URLs and "
        "http(s) URLs have a Messages API source type. Upload-based ms:// ids work only on "
        "the chat-completions route."
    )


def _user_block(part: Any) -> dict[str, Any]:
    if isinstance(part, str):
        return {"type": "text", "text": part}
    if not isinstance(part, Mapping):
        raise KimiConfigError(
            f"content part {part!r} is neither a string nor an object with a 'type' key."
        )
    kind = part.get("type")
    if kind == "image_url":
        return _image_block(part)
    if kind == "video_url":
        raise KimiConfigError(
            "a video_url part cannot be sent on an Anthropic route: the Messages API has no "
            "video block. Send video through a chat-completions route, or call "
            "kimi.require('video') to skip routes without it."
        )
    if kind in _USER_BLOCK_TYPES:
        return dict(part)
    raise KimiConfigError(
        f"content part type {kind!r} has no Messages API block; the supported types are "
        "text, image_url (data or http URLs) and the Messages API's own block types."
    )


def _user_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, Sequence):
        return [_user_block(part) for part in content]
    raise KimiConfigError(f"message content {content!r} is neither a string nor a list of parts.")


def _tool_input(call: Mapping[str, Any]) -> tuple[str, str, Any]:
    function = call.get("function") or {}
    name = str(function.get("name", ""))
    arguments = function.get("arguments") or "{}"
    try:
        value = json.loads(arguments) if isinstance(arguments, str) else arguments
    except json.JSONDecodeError as exc:
        raise KimiConfigError(
            f"tool call {call.get('id')!r} ({name}) in the history has arguments that are not "
            f"valid JSON ({exc.msg}): {str(arguments)[:120]!r}. The Messages API needs the "
            "input as an object."
        ) from exc
    if not isinstance(value, Mapping):
        raise KimiConfigError(
            f"tool call {call.get('id')!r} ({name}) has arguments {value!r}: the Messages API "
            "needs a JSON object as tool input."
        )
    return str(call.get("id", "")), name, dict(value)


def _is_block_list(content: Any) -> bool:
    return (
        isinstance(content, list)
        and bool(content)
        and all(
            isinstance(block, Mapping) and block.get("type") in _ASSISTANT_BLOCK_TYPES
            for block in content
        )
    )


def _assistant_blocks(message: Mapping[str, Any]) -> list[dict[str, Any]] | str:
    content = message.get("content")
    calls = message.get("tool_calls") or []
    reasoning_key = next((key for key in _REASONING_KEYS if key in message), None)
    stored = reasoning_key is None and not calls and _is_block_list(content)
    if stored and isinstance(content, list):
        # Stored by the conversation helper as received: thinking blocks keep
        # their signatures, so they are sent back unchanged.
        return [dict(block) for block in content]
    blocks: list[dict[str, Any]] = []
    if reasoning_key is not None and message[reasoning_key] is not None:
        # NOTE: a thinking block rebuilt from chat-completions history has no
        # signature; whether Moonshot's Anthropic route checks signatures is unconfirmed.
        blocks.append({"type": "thinking", "thinking": str(message[reasoning_key])})
    if isinstance(content, str):
        if content:
            blocks.append({"type": "text", "text": content})
    elif content:
        blocks.extend(_user_blocks(content))
    for call in calls:
        call_id, name, arguments = _tool_input(call)
        blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": arguments})
    if not blocks:
        return ""
    return blocks


def _tool_result_block(message: Mapping[str, Any]) -> dict[str, Any]:
    call_id = message.get("tool_call_id")
    if not call_id:
        raise KimiConfigError(
            f"tool message without tool_call_id: {str(message)[:120]!r}. Add the id of the "
            "tool call it answers (conversation.add_tool_result does this)."
        )
    content = message.get("content")
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id}
    if isinstance(content, str):
        block["content"] = content
    elif content is not None:
        block["content"] = _user_blocks(content)
    return block


def _system_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        texts = [
            str(part.get("text", "")) if isinstance(part, Mapping) else str(part)
            for part in content
        ]
        return "\n".join(texts)
    raise KimiConfigError(f"system message content {content!r} is not text.")


def _append(turns: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    # The Messages API alternates roles, so consecutive user inputs (tool
    # results, then a new question) share one user turn.
    if turns and turns[-1]["role"] == role and isinstance(turns[-1]["content"], list):
        turns[-1]["content"].extend(blocks)
    else:
        turns.append({"role": role, "content": blocks})


def convert_messages(
    messages: Sequence[Mapping[str, Any]],
) -> tuple[str | None, list[dict[str, Any]]]:
    """Convert chat-completions messages to the Messages API shape.

    Returns:
        The top-level `system` text (system messages joined by a blank line,
        or `None`) and the list of user and assistant turns.

    Raises:
        KimiConfigError: a message or part has no Messages API form.
    """
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system.append(_system_text(message.get("content")))
        elif role == "tool":
            _append(turns, "user", [_tool_result_block(message)])
        elif role == "user":
            _append(turns, "user", _user_blocks(message.get("content")))
        elif role == "assistant":
            blocks = _assistant_blocks(message)
            turns.append({"role": "assistant", "content": blocks})
        else:
            raise KimiConfigError(
                f"message role {role!r} has no Messages API form: use system, user, "
                "assistant or tool."
            )
    return ("\n\n".join(system) if system else None), turns


def convert_tools(tools: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Convert OpenAI function tools to Messages API tools; other tools pass unchanged."""
    converted: list[dict[str, Any]] = []
    for tool in tools:
        function = tool.get("function")
        if tool.get("type") != "function" or not isinstance(function, Mapping):
            converted.append(dict(tool))
            continue
        item: dict[str, Any] = {"name": function.get("name")}
        if function.get("description"):
            item["description"] = function["description"]
        item["input_schema"] = dict(
            function.get("parameters") or {"type": "object", "properties": {}}
        )
        converted.append(item)
    return converted


def convert_tool_choice(choice: Any) -> dict[str, Any]:
    """Convert an OpenAI `tool_choice` to the Messages API form.

    `required` becomes `{"type": "any"}` and a named function becomes
    `{"type": "tool", "name": ...}`; Messages API objects pass unchanged.
    """
    if choice in ("auto", "none"):
        return {"type": choice}
    if choice == "required":
        return {"type": "any"}
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if choice.get("type") == "function" and isinstance(function, Mapping):
            return {"type": "tool", "name": function.get("name")}
        if choice.get("type") in ("auto", "any", "tool", "none"):
            return dict(choice)
    raise KimiConfigError(
        f"tool_choice {choice!r} has no Messages API form: use 'auto', 'none', 'required' "
        "or {'type': 'function', 'function': {'name': ...}}."
    )


def _convert_fields(route: Route, fields: Mapping[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for key, value in fields.items():
        if key in OPENAI_ONLY_FIELDS:
            raise KimiConfigError(
                f"request field {key!r} has no Messages API counterpart, so route "
                f"{route.name!r} (anthropic) cannot send it. Drop it for this route, or pass "
                "a Messages API field through extra_body."
            )
        if key in ("max_tokens", "max_completion_tokens"):
            converted["max_tokens"] = value
        elif key == "stop":
            converted["stop_sequences"] = [value] if isinstance(value, str) else list(value)
        elif key == "tools":
            converted["tools"] = convert_tools(value)
        elif key == "tool_choice":
            converted["tool_choice"] = convert_tool_choice(value)
        elif key == "parallel_tool_calls":
            converted["_parallel"] = bool(value)
        elif key == "user":
            converted["metadata"] = {"user_id": value}
        else:
            converted[key] = value
    parallel = converted.pop("_parallel", None)
    if parallel is False:
        choice = converted.setdefault("tool_choice", {"type": "auto"})
        choice["disable_parallel_tool_use"] = True
    return converted


def _route_defaults(route: Route) -> dict[str, Any]:
    defaults = dict(route.request_defaults)
    for name in FIXED_SAMPLING_PARAMS:
        if name in defaults:
            # K2.6 fixes these values on both of Moonshot's protocols.
            logger.info(
                "route %s: not sending request_defaults.%s, which kimi-k2.6 rejects",
                route.name,
                name,
            )
            del defaults[name]
    return _convert_fields(route, defaults)


def build_anthropic_body(
    route: Route,
    mode: str,
    messages: list[dict[str, Any]],
    fields: Mapping[str, Any],
) -> dict[str, Any]:
    """Build the JSON body of one Messages API request.

    Order of precedence, lowest first: `max_tokens` (our default
    `DEFAULT_MAX_TOKENS`), the route's `request_defaults`, the mode's
    `thinking` toggle, the converted fields the test passed, then
    `extra_body`, deep-merged as given (no conversion).

    Args:
        route: an `anthropic`-flavor route.
        mode: `thinking`, `instant` or `preserve`. K2.x takes only the
            `{"type": "enabled" | "disabled"}` toggle, so `preserve` sends
            `enabled`; `budget_tokens` is not sent because Moonshot has not
            documented it for this route.
        messages: chat-completions messages, or assistant turns already in
            the Messages shape.
        fields: request fields; `stream` sets whether to stream.

    Raises:
        KimiConfigError: a field or message has no Messages API form.
    """
    request = {key: value for key, value in fields.items() if key != "extra_body"}
    stream = bool(request.pop("stream", False))
    system, turns = convert_messages(messages)
    body: dict[str, Any] = {"model": route.model, "max_tokens": DEFAULT_MAX_TOKENS}
    if system is not None:
        body["system"] = system
    body["messages"] = turns
    body = deep_merge(body, _route_defaults(route))
    body = deep_merge(body, mode_fields(route, mode))
    body = deep_merge(body, _convert_fields(route, request))
    body["stream"] = stream
    extra = fields.get("extra_body")
    if isinstance(extra, Mapping):
        body = deep_merge(body, extra)
    return body
