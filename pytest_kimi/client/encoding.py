"""Build request bodies the way each route flavor expects them.

The thinking switch differs per server: the official API reads
`thinking: {"type", "keep"}`, while vLLM and SGLang read
`chat_template_kwargs: {"thinking": ...}` through the Kimi chat template.
Sending one to the other is silently ignored (edgelesssys/privatemode-public#7),
so the encoder also rejects fields that the route would ignore.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

from pytest_kimi.config.routes import MODES, Route
from pytest_kimi.errors import KimiConfigError

__all__ = ["FIXED_SAMPLING_PARAMS", "build_body", "check_mode", "deep_merge", "mode_fields"]

logger = logging.getLogger("pytest_kimi")

# Sampling parameters that kimi-k2.6 on the official API fixes and rejects when
# changed (Moonshot's models overview page: "Cannot be modified").
FIXED_SAMPLING_PARAMS = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty")


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `update` into a copy of `base`, recursing into nested dicts.

    A flat `dict.update` drops a nested key that only one side set, which is
    how a mode's `chat_template_kwargs.thinking` got lost when a caller passed
    its own `chat_template_kwargs` (generative-computing/mellea PR #1617).
    """
    merged = copy.deepcopy(dict(base))
    for key, value in update.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def check_mode(mode: str) -> str:
    """Return `mode` if it is known, else raise `KimiConfigError` listing the modes."""
    if mode not in MODES:
        raise KimiConfigError(
            f"unknown mode {mode!r}: the modes are {', '.join(MODES)}. "
            "Fix --kimi-mode, the modes setting or the kimi marker."
        )
    return mode


def mode_fields(route: Route, mode: str) -> dict[str, Any]:
    """Return the request fields that switch `mode` on for `route`'s flavor."""
    check_mode(mode)
    thinking = mode != "instant"
    if route.thinking_param == "none":
        return {}
    if route.thinking_param == "chat_template_kwargs":
        kwargs: dict[str, Any] = {"thinking": thinking}
        if mode == "preserve":
            # NOTE: KimiVendorVerifier documents `preserve_thinking` for K3; whether
            # the K2.6 template reads it is unconfirmed, so routes can override it.
            kwargs.update(route.preserve_kwargs or {"preserve_thinking": True})
        return {"chat_template_kwargs": kwargs}
    if route.flavor == "anthropic":
        return {"thinking": {"type": "enabled" if thinking else "disabled"}}
    field: dict[str, Any] = {"type": "enabled" if thinking else "disabled"}
    if mode == "preserve":
        field["keep"] = "all"
    return {"thinking": field}


def _flatten_extra_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    # `extra_body` is an option of the openai SDK, not a body field: a literal
    # `extra_body` key reaches the server unread (vllm-project/vllm#37397).
    flat = {key: value for key, value in fields.items() if key != "extra_body"}
    nested = fields.get("extra_body")
    if isinstance(nested, Mapping):
        flat = deep_merge(flat, _flatten_extra_body(nested))
    return flat


def _lint_thinking_fields(route: Route, body: Mapping[str, Any]) -> None:
    kwargs = body.get("chat_template_kwargs")
    if isinstance(kwargs, Mapping) and "enable_thinking" in kwargs:
        right = (
            "chat_template_kwargs.thinking"
            if route.thinking_param == "chat_template_kwargs"
            else "thinking.type"
        )
        raise KimiConfigError(
            f"chat_template_kwargs.enable_thinking on route {route.name!r}: the Kimi chat "
            f"template does not read it, so the model keeps thinking and its reasoning can "
            f"leak into content. Use {right} (or the kimi mode) instead."
        )
    if route.thinking_param == "chat_template_kwargs" and "thinking" in body:
        raise KimiConfigError(
            f"the official-API field 'thinking' on route {route.name!r} ({route.flavor}): "
            "vLLM and SGLang ignore it. Use chat_template_kwargs.thinking, or the kimi mode."
        )
    if route.flavor == "moonshot" and "chat_template_kwargs" in body:
        raise KimiConfigError(
            f"chat_template_kwargs on route {route.name!r}: the official API does not read it. "
            "Use the thinking field (thinking.type / thinking.keep), or the kimi mode."
        )
    if route.flavor == "moonshot" and "thinking" in body and "reasoning_effort" in body:
        raise KimiConfigError(
            f"both 'thinking' and 'reasoning_effort' on route {route.name!r}: the official API "
            "rejects the pair with a 400. Remove reasoning_effort; K2.6 uses thinking only."
        )


def build_body(
    route: Route,
    mode: str,
    messages: list[dict[str, Any]],
    fields: Mapping[str, Any],
) -> dict[str, Any]:
    """Build the JSON body for one chat-completions request.

    Order of precedence, lowest first: the route's `request_defaults`, the
    mode's fields, then the fields the test passed (including `extra_body`,
    deep-merged). On the official route, sampling parameters coming from
    `request_defaults` are dropped, because K2.6 rejects non-default values;
    the same parameters passed by the test are sent as given.
    """
    defaults = dict(route.request_defaults)
    if route.flavor == "moonshot":
        for name in FIXED_SAMPLING_PARAMS:
            if name in defaults:
                logger.info(
                    "route %s: not sending request_defaults.%s, which kimi-k2.6 rejects",
                    route.name,
                    name,
                )
                del defaults[name]
    body: dict[str, Any] = {"model": route.model, "messages": messages}
    body = deep_merge(body, defaults)
    body = deep_merge(body, mode_fields(route, mode))
    body = deep_merge(body, _flatten_extra_body(fields))
    _lint_thinking_fields(route, body)
    return body
