"""Request validation: the documented K2.6 contract errors, as the emulator returns them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pytest_kimi.emulator.profile import Profile

__all__ = ["ContractViolation", "estimate_tokens", "thinking_enabled", "validate_request"]

# Moonshot's function-name rule from its OpenAPI file.
_TOOL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$")
_MAX_TOOLS = 128

# Fixed values per Moonshot's models overview; temperature depends on the mode.
_FIXED = {"top_p": 0.95, "n": 1, "presence_penalty": 0, "frequency_penalty": 0}


@dataclass
class ContractViolation(Exception):
    """A request the real server rejects; rendered as the official error envelope."""

    status: int
    message: str
    error_type: str = "invalid_request_error"

    def envelope(self) -> dict[str, Any]:
        """Return the `{"error": {...}}` body."""
        return {"error": {"type": self.error_type, "message": self.message}}


# Tokens charged per image or video part by the estimate; Moonshot publishes no figure.
MEDIA_TOKEN_ESTIMATE = 1_024


def _strip_media(value: Any) -> tuple[Any, int]:
    if isinstance(value, list):
        items = [_strip_media(item) for item in value]
        return [item for item, _ in items], sum(count for _, count in items)
    if isinstance(value, Mapping):
        if value.get("type") in ("image_url", "video_url", "image", "video"):
            return None, 1
        pairs = {key: _strip_media(item) for key, item in value.items()}
        return {key: item for key, (item, _) in pairs.items()}, sum(c for _, c in pairs.values())
    return value, 0


def estimate_tokens(value: Any) -> int:
    """Estimate tokens: 4 characters of JSON text per token, plus a flat cost per media part.

    This is an estimate, not a tokenizer; error messages that use it say so.
    """
    if isinstance(value, str):
        return max(1, len(value) // 4)
    stripped, media = _strip_media(value)
    text = json.dumps(stripped, ensure_ascii=False)
    return max(1, len(text) // 4) + media * MEDIA_TOKEN_ESTIMATE


def thinking_enabled(profile: Profile, body: Mapping[str, Any]) -> bool:
    """Return whether the request turns thinking on, as this profile's server reads it."""
    if profile.ignore_thinking_switch:
        return True
    if profile.official or profile.flavor in ("openai", "anthropic"):
        thinking = body.get("thinking")
        if isinstance(thinking, Mapping):
            return bool(thinking.get("type", "enabled") != "disabled")
        return True
    kwargs = body.get("chat_template_kwargs")
    if isinstance(kwargs, Mapping) and "thinking" in kwargs:
        return bool(kwargs["thinking"])
    # vLLM's kimi_k2 reasoning parser defaults `thinking` to true.
    return True


def _bad(message: str) -> ContractViolation:
    return ContractViolation(400, message)


def _check_thinking_field(body: Mapping[str, Any]) -> None:
    thinking = body.get("thinking")
    if thinking is None:
        return
    if not isinstance(thinking, Mapping):
        raise _bad("Invalid request: thinking must be an object")
    extra = sorted(set(thinking) - {"type", "keep"})
    if extra:
        raise _bad(f"Invalid request: unknown field thinking.{extra[0]}")
    if thinking.get("type") not in ("enabled", "disabled"):
        raise _bad("Invalid request: thinking.type must be 'enabled' or 'disabled'")
    if thinking.get("keep") not in (None, "all"):
        raise _bad("Invalid request: thinking.keep must be null or 'all'")
    if "reasoning_effort" in body:
        raise _bad("cannot specify both 'thinking' and 'reasoning_effort'")


def _check_sampling(body: Mapping[str, Any], thinking: bool) -> None:
    temperature = body.get("temperature")
    allowed = 1.0 if thinking else 0.6
    if temperature is not None and float(temperature) != allowed:
        shown = "1" if thinking else "0.6"
        raise _bad(f"invalid temperature: only {shown} is allowed for this model")
    for name, fixed in _FIXED.items():
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != fixed:
            raise _bad(f"invalid {name}: only {fixed} is allowed for this model")


def _check_history(body: Mapping[str, Any], thinking: bool) -> None:
    keep_all = isinstance(body.get("thinking"), Mapping) and body["thinking"].get("keep") == "all"
    for index, message in enumerate(body.get("messages") or []):
        if not isinstance(message, Mapping) or message.get("role") != "assistant":
            continue
        if "reasoning_content" in message:
            continue
        if thinking and keep_all:
            raise _bad(
                "preserved thinking (thinking.keep=all) requires reasoning_content on every "
                f"assistant message, but assistant message at index {index} is missing "
                "reasoning_content"
            )
        if thinking and message.get("tool_calls"):
            raise _bad(
                "thinking is enabled but reasoning_content is missing in assistant tool call "
                f"message at index {index}"
            )


def _check_tools(body: Mapping[str, Any], thinking: bool, official: bool) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise _bad("Invalid request: tools must be an array")
        if official and len(tools) > _MAX_TOOLS:
            raise _bad(f"Invalid request: at most {_MAX_TOOLS} tools are allowed")
        for tool in tools:
            function = tool.get("function") if isinstance(tool, Mapping) else None
            name = function.get("name") if isinstance(function, Mapping) else None
            if tool.get("type") == "builtin_function":
                continue
            if not isinstance(name, str) or (official and not _TOOL_NAME.match(name)):
                raise _bad(f"Invalid request: function name {name!r} is invalid")
    choice = body.get("tool_choice")
    if choice is None or not thinking or not official:
        return
    if choice == "required":
        raise _bad("tool_choice 'required' is incompatible with thinking enabled")
    if isinstance(choice, Mapping):
        raise _bad("tool_choice 'specified' is incompatible with thinking enabled")


def _check_context(body: Mapping[str, Any], profile: Profile) -> None:
    prompt = estimate_tokens(body.get("messages") or [])
    requested = body.get("max_completion_tokens") or body.get("max_tokens") or 0
    if not isinstance(requested, int):
        raise _bad("Invalid request: max_tokens must be an integer")
    if prompt > profile.context_window:
        raise _bad(
            f"Input token length too long (emulator estimate: {prompt} tokens at 4 characters "
            f"per token, window {profile.context_window})"
        )
    if prompt + requested > profile.context_window:
        raise _bad(
            f"Your request exceeded model token limit : {profile.context_window} (emulator "
            f"estimate: {prompt} prompt + {requested} max tokens)"
        )


class MediaCheck(Protocol):
    """Return an API-style error message for a bad media part, or None."""

    def __call__(self, part: Any, *, allow_video: bool) -> str | None: ...


def _check_media(body: Mapping[str, Any], profile: Profile, check: MediaCheck | None) -> None:
    if check is None:
        return
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, Mapping) else None
        if not isinstance(content, list):
            continue
        for part in content:
            if isinstance(part, Mapping) and part.get("type") in ("image_url", "video_url"):
                problem = check(part, allow_video=profile.supports_video)
                if problem:
                    raise _bad(problem)


def validate_request(body: Any, profile: Profile, *, media_check: MediaCheck | None = None) -> bool:
    """Validate a chat-completions body and return whether thinking is on.

    Raises:
        ContractViolation: the request breaks the contract of `profile`.
    """
    if not isinstance(body, Mapping):
        raise _bad("Invalid request: body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("Invalid request: messages must be a non-empty array")
    for index, message in enumerate(messages):
        content = message.get("content") if isinstance(message, Mapping) else None
        if not isinstance(message, Mapping) or not isinstance(content, str | list | type(None)):
            raise _bad(
                f"Invalid request: messages[{index}].content must be a string, an array of "
                "content parts or null"
            )
    if not body.get("model"):
        raise _bad("Invalid request: model is required")
    if body.get("model") != profile.model:
        raise ContractViolation(
            404,
            f"Not found the model {body.get('model')} or Permission denied",
            "resource_not_found_error",
        )
    thinking = thinking_enabled(profile, body)
    if profile.official:
        _check_thinking_field(body)
        if profile.enforce_sampling:
            _check_sampling(body, thinking)
        _check_history(body, thinking)
    _check_tools(body, thinking, profile.official)
    _check_context(body, profile)
    _check_media(body, profile, media_check)
    return thinking
