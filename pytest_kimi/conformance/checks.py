"""The K2.6 contract checks, each a named function over one route.

Every check builds its own clients with health checks off and makes its
own assertions, so a failure names the contract rule that broke instead of
the first health check that tripped. The pytest pack
(`pytest --pyargs pytest_kimi.conformance`) and the session pre-flight
(`--kimi-preflight`) both run the functions in `CHECKS`.

The reasoning field a route must use is the route's `history_reasoning_field`
(the field the plugin writes reasoning back under), unless
`[tool.pytest_kimi.conformance.reasoning_field]` maps the route name to
another field. A reply whose reasoning arrives under any other field fails
`reasoning_field_name`.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]

from pytest_kimi.client.health import REASONING_MARKUP, TOOL_CALL_MARKUP
from pytest_kimi.errors import KimiAPIError, KimiConfigError, KimiError
from pytest_kimi.parity.sampling import normalize_text

if TYPE_CHECKING:
    from pytest_kimi.client.client import KimiClient
    from pytest_kimi.client.reply import Reply
    from pytest_kimi.config.routes import Route

__all__ = [
    "CHECKS",
    "WEATHER_TOOL",
    "CheckContext",
    "CheckSkipped",
    "ConformanceFailure",
    "expected_reasoning_field",
    "tiny_png_data_url",
]

ClientFactory = Callable[..., "KimiClient"]

ARITHMETIC_PROMPT = "What is 17 * 23? Reply with just the number."
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
TOOL_PROMPT = "What is the weather in 'Paris'? Use the get_weather tool."
SECOND_TOOL_PROMPT = "And what is the weather in 'Berlin'? Use the get_weather tool again."
# Moonshot's fixed sampling values for kimi-k2.6; temperature depends on the mode.
DEFAULT_SAMPLING: dict[str, dict[str, float | int]] = {
    "thinking": {
        "temperature": 1.0,
        "top_p": 0.95,
        "n": 1,
        "presence_penalty": 0,
        "frequency_penalty": 0,
    },
    "instant": {
        "temperature": 0.6,
        "top_p": 0.95,
        "n": 1,
        "presence_penalty": 0,
        "frequency_penalty": 0,
    },
}
NON_DEFAULT_SAMPLING: dict[str, float] = {"temperature": 0.3, "top_p": 0.5}


class ConformanceFailure(KimiError, AssertionError):
    """A route broke one rule of the K2.6 contract; `check` names the rule."""

    def __init__(self, check: str, route: str, message: str) -> None:
        super().__init__(f"conformance check {check!r} failed on route {route!r}: {message}")
        self.check = check
        self.route = route


class CheckSkipped(Exception):
    """The check does not apply to this route; the message gives the reason."""


@dataclass
class CheckContext:
    """The inputs of a check: the route, a client factory and the expected reasoning field.

    `client(mode, stream=...)` returns a client with health checks off.
    """

    route: Route
    client: ClientFactory
    reasoning_field: str

    def fail(self, check: str, message: str) -> ConformanceFailure:
        """Build the failure of `check` on this route."""
        return ConformanceFailure(check, self.route.name, message)

    def thinking_mode(self) -> str:
        """Return the route's mode with thinking on (thinking, else preserve)."""
        for mode in ("thinking", "preserve"):
            if mode in self.route.modes:
                return mode
        raise CheckSkipped(
            f"route {self.route.name!r} runs no thinking mode (modes: "
            f"{', '.join(self.route.modes)})"
        )

    def instant_mode(self) -> str:
        """`instant`, or skip when the route does not run it."""
        if "instant" not in self.route.modes:
            raise CheckSkipped(f"route {self.route.name!r} does not run instant mode")
        return "instant"


def expected_reasoning_field(route: Route, conformance: Mapping[str, Any] | None) -> str:
    """Return the reasoning field `route` must use (see the module docstring).

    Raises:
        KimiConfigError: the configured field is not `reasoning_content` or `reasoning`.
    """
    table = (conformance or {}).get("reasoning_field") or {}
    if not isinstance(table, Mapping):
        raise KimiConfigError(
            f"invalid tool.pytest_kimi.conformance.reasoning_field: expected a table of "
            f"route name = field, got {table!r}."
        )
    field = table.get(route.name, route.history_reasoning_field)
    if field not in ("reasoning_content", "reasoning"):
        raise KimiConfigError(
            f"invalid tool.pytest_kimi.conformance.reasoning_field.{route.name} = {field!r}: "
            "use 'reasoning_content' or 'reasoning'."
        )
    return str(field)


def tiny_png_data_url(size: int = 16) -> str:
    """Return a PNG data URL of a small two-colour image drawn with Pillow."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((0, 0, size // 2, size // 2), fill=(200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _call(ctx: CheckContext, check: str, mode: str, prompt: Any, **fields: Any) -> Reply:
    stream = fields.pop("stream", None)
    client = ctx.client(mode, stream=stream)
    try:
        return client.chat(prompt, check=False, **fields)
    except KimiError as exc:
        raise ctx.fail(check, f"the request failed: {exc}") from exc
    finally:
        client.close()


def _markup_in(text: str | None, markers: tuple[str, ...]) -> str | None:
    return next((tag for tag in markers if tag in (text or "")), None)


def reasoning_present_when_thinking(ctx: CheckContext) -> None:
    """Check that thinking mode returns non-blank reasoning in a reasoning field."""
    check = "reasoning_present_when_thinking"
    reply = _call(ctx, check, ctx.thinking_mode(), ARITHMETIC_PROMPT)
    if not reply.has_reasoning():
        raise ctx.fail(
            check,
            "thinking was requested but the reply has no reasoning (neither reasoning_content "
            f"nor reasoning); content starts {reply.text[:120]!r}. Check that the server runs "
            "the kimi_k2 reasoning parser and reads the route's thinking field.",
        )


def reasoning_absent_when_instant(ctx: CheckContext) -> None:
    """Check that instant mode returns content and no reasoning."""
    check = "reasoning_absent_when_instant"
    reply = _call(ctx, check, ctx.instant_mode(), ARITHMETIC_PROMPT)
    if reply.has_reasoning():
        raise ctx.fail(
            check,
            f"thinking was switched off but the reply carries {len(reply.reasoning or '')} "
            f"characters of reasoning under {reply.reasoning_field!r}: the route ignores the "
            f"thinking switch ({ctx.route.thinking_param} for flavor {ctx.route.flavor}).",
        )
    if not reply.text.strip():
        raise ctx.fail(check, "instant mode returned empty content.")


def no_reasoning_markup_in_content(ctx: CheckContext) -> None:
    """Check that content contains no `<think>` or `</think>`, with thinking on or off."""
    check = "no_reasoning_markup_in_content"
    modes = [ctx.thinking_mode()]
    if "instant" in ctx.route.modes:
        modes.append("instant")
    for mode in modes:
        reply = _call(ctx, check, mode, ARITHMETIC_PROMPT)
        tag = _markup_in(reply.content, REASONING_MARKUP)
        if tag is not None:
            raise ctx.fail(
                check,
                f"{mode} mode: content contains {tag!r}, so reasoning leaked into the answer "
                f"(content starts {reply.text[:120]!r}). Start the server with "
                "--reasoning-parser kimi_k2.",
            )


def reasoning_field_name(ctx: CheckContext) -> None:
    """Check that reasoning arrives under the route's configured field, streamed or not."""
    check = "reasoning_field_name"
    mode = ctx.thinking_mode()
    for stream in (False, True):
        reply = _call(ctx, check, mode, ARITHMETIC_PROMPT, stream=stream)
        kind = "stream" if stream else "non-stream"
        if reply.reasoning_field is None:
            raise ctx.fail(
                check,
                f"{kind} reply has no reasoning field at all; expected {ctx.reasoning_field!r}.",
            )
        if reply.reasoning_field != ctx.reasoning_field:
            raise ctx.fail(
                check,
                f"{kind} reply carries reasoning under {reply.reasoning_field!r}, but the route "
                f"is configured for {ctx.reasoning_field!r}. Set history_reasoning_field = "
                f"{reply.reasoning_field!r} on [tool.pytest_kimi.routes.{ctx.route.name}] if "
                "the server is right, or fix the server's reasoning output.",
            )


def _require_official(ctx: CheckContext) -> None:
    if ctx.route.flavor != "moonshot":
        raise CheckSkipped(
            f"route {ctx.route.name!r} is self-hosted ({ctx.route.flavor}): only the official "
            "API fixes kimi-k2.6's sampling values"
        )


def default_sampling_accepted(ctx: CheckContext) -> None:
    """Check that the official API accepts its fixed sampling values sent explicitly."""
    check = "default_sampling_accepted"
    _require_official(ctx)
    modes = [ctx.thinking_mode()]
    if "instant" in ctx.route.modes:
        modes.append("instant")
    for mode in modes:
        values = DEFAULT_SAMPLING["instant" if mode == "instant" else "thinking"]
        _call(ctx, check, mode, ARITHMETIC_PROMPT, **values)


def other_sampling_rejected(ctx: CheckContext) -> None:
    """Check that the official API rejects other sampling values with HTTP 400."""
    check = "other_sampling_rejected"
    _require_official(ctx)
    mode = ctx.thinking_mode()
    for name, value in NON_DEFAULT_SAMPLING.items():
        client = ctx.client(mode)
        fields: dict[str, Any] = {name: value}
        try:
            client.chat(ARITHMETIC_PROMPT, check=False, **fields)
        except KimiAPIError as exc:
            if exc.status_code != 400:
                raise ctx.fail(
                    check, f"{name}={value} got HTTP {exc.status_code}, expected 400: {exc}"
                ) from exc
            continue
        finally:
            client.close()
        raise ctx.fail(
            check,
            f"{name}={value} was accepted; kimi-k2.6 on the official API fixes {name} and "
            "must reject other values with HTTP 400.",
        )


def stream_matches_non_stream(ctx: CheckContext) -> None:
    """Check that a streamed and a non-streamed reply to one prompt agree."""
    check = "stream_matches_non_stream"
    mode = ctx.thinking_mode()
    plain = _call(ctx, check, mode, ARITHMETIC_PROMPT, stream=False)
    streamed = _call(ctx, check, mode, ARITHMETIC_PROMPT, stream=True)
    if normalize_text(plain.content) != normalize_text(streamed.content):
        raise ctx.fail(
            check,
            f"non-stream content {plain.text[:120]!r} differs from stream content "
            f"{streamed.text[:120]!r}.",
        )
    if plain.has_reasoning() != streamed.has_reasoning():
        raise ctx.fail(
            check,
            f"reasoning present: non-stream {plain.has_reasoning()}, stream "
            f"{streamed.has_reasoning()}.",
        )
    if plain.finish_reason != streamed.finish_reason:
        raise ctx.fail(
            check,
            f"finish_reason differs: non-stream {plain.finish_reason!r}, stream "
            f"{streamed.finish_reason!r}.",
        )


def usage_consistent(ctx: CheckContext) -> None:
    """Check that usage is present, streamed or not, and prompt + completion == total."""
    check = "usage_consistent"
    mode = ctx.thinking_mode()
    for stream in (True, False):
        reply = _call(ctx, check, mode, ARITHMETIC_PROMPT, stream=stream)
        usage = reply.usage
        kind = "stream" if stream else "non-stream"
        counts = (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
        if any(count is None for count in counts):
            raise ctx.fail(
                check,
                f"{kind} reply lacks usage counts (read from {usage.source!r}): "
                f"{usage.as_dict()}. Streams must carry usage in choices[0].usage or a final "
                "usage chunk (stream_options.include_usage).",
            )
        prompt, completion, total = (int(count or 0) for count in counts)
        if prompt + completion != total:
            raise ctx.fail(
                check,
                f"{kind} usage is inconsistent: prompt_tokens {prompt} + completion_tokens "
                f"{completion} != total_tokens {total}.",
            )


def _first_tool_reply(ctx: CheckContext, check: str, mode: str) -> Reply:
    reply = _call(ctx, check, mode, TOOL_PROMPT, tools=[WEATHER_TOOL])
    if not reply.tool_calls:
        markup = _markup_in(reply.content, TOOL_CALL_MARKUP)
        detail = f"raw tool-call markup {markup!r} in content" if markup else "no tool call"
        raise ctx.fail(
            check,
            f"asked to call get_weather, the route returned {detail} (content starts "
            f"{reply.text[:120]!r}). Check --tool-call-parser kimi_k2.",
        )
    return reply


def tool_call_arguments_valid(ctx: CheckContext) -> None:
    """Check that tool calls parse, name an offered tool and satisfy its schema."""
    check = "tool_call_arguments_valid"
    reply = _first_tool_reply(ctx, check, ctx.thinking_mode())
    schema = WEATHER_TOOL["function"]["parameters"]
    for call in reply.tool_calls:
        if call.name != "get_weather":
            raise ctx.fail(check, f"tool call {call.id!r} names {call.name!r}, not get_weather.")
        if not call.id:
            raise ctx.fail(check, f"tool call to {call.name} has an empty id.")
        try:
            arguments = call.parsed_arguments()
            jsonschema.validate(arguments, schema)
        except ValueError as exc:
            raise ctx.fail(check, str(exc)) from exc
        except jsonschema.ValidationError as exc:
            raise ctx.fail(
                check,
                f"arguments {call.arguments!r} of tool call {call.id!r} break the schema: "
                f"{exc.message}",
            ) from exc


def tool_call_ids_survive_turns(ctx: CheckContext) -> None:
    """Check that tool-call ids written back verbatim keep later turns working.

    Turn 2 sends the tool result under the id from turn 1 and must succeed
    without tool-call markup in content; turn 3 asks for another tool call,
    which must come back parsed. A proxy that rewrites ids breaks turn 3:
    the model copies the rewritten id and the server's parser returns raw
    markup instead of a tool call (exo-explore/exo#2281).
    """
    check = "tool_call_ids_survive_turns"
    mode = ctx.thinking_mode()
    client = ctx.client(mode)
    try:
        conversation = client.conversation(tools=[WEATHER_TOOL], check=False)
        turns = [(TOOL_PROMPT, True), (None, False), (SECOND_TOOL_PROMPT, True)]
        for number, (prompt, wants_call) in enumerate(turns, start=1):
            if prompt is None:
                for call in conversation.last.tool_calls:
                    conversation.add_tool_result(call.id, {"city": "Paris", "temp_c": 21})
            try:
                reply = conversation.send(prompt)
            except KimiError as exc:
                raise ctx.fail(check, f"turn {number} failed: {exc}") from exc
            markup = _markup_in(reply.content, TOOL_CALL_MARKUP)
            if markup is not None:
                raise ctx.fail(
                    check,
                    f"turn {number}: raw tool-call markup {markup!r} in content instead of a "
                    f"parsed tool call (content starts {reply.text[:160]!r}). Something between "
                    "the client and the model rewrites tool-call ids; they must round-trip "
                    "byte for byte.",
                )
            if wants_call and not reply.tool_calls:
                raise ctx.fail(check, f"turn {number}: expected a get_weather call, got none.")
    finally:
        client.close()


def image_part_accepted(ctx: CheckContext) -> None:
    """Check that a user message with a small PNG data URL gets a non-empty reply."""
    check = "image_part_accepted"
    if not ctx.route.supports("image"):
        raise CheckSkipped(f"route {ctx.route.name!r} does not declare the image capability")
    parts = [
        {"type": "image_url", "image_url": {"url": tiny_png_data_url()}},
        {"type": "text", "text": "Describe this image in one sentence."},
    ]
    reply = _call(ctx, check, ctx.thinking_mode(), parts)
    if not reply.text.strip() and not reply.tool_calls:
        raise ctx.fail(check, "the image request returned empty content.")


CHECKS: dict[str, Callable[[CheckContext], None]] = {
    "reasoning_present_when_thinking": reasoning_present_when_thinking,
    "reasoning_absent_when_instant": reasoning_absent_when_instant,
    "no_reasoning_markup_in_content": no_reasoning_markup_in_content,
    "reasoning_field_name": reasoning_field_name,
    "default_sampling_accepted": default_sampling_accepted,
    "other_sampling_rejected": other_sampling_rejected,
    "stream_matches_non_stream": stream_matches_non_stream,
    "usage_consistent": usage_consistent,
    "tool_call_arguments_valid": tool_call_arguments_valid,
    "tool_call_ids_survive_turns": tool_call_ids_survive_turns,
    "image_part_accepted": image_part_accepted,
}
