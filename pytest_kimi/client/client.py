"""`KimiClient`: one route and one mode, behind the `kimi` fixture."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx2
import openai

from pytest_kimi.client.encoding import build_body, check_mode
from pytest_kimi.client.health import check_reply
from pytest_kimi.client.parse import StreamAccumulator, parse_completion
from pytest_kimi.client.reply import Reply, Timings
from pytest_kimi.client.transport import RetryPolicy, send_chat
from pytest_kimi.config.routes import Route
from pytest_kimi.errors import KimiConfigError

if TYPE_CHECKING:
    from pytest_kimi.client.conversation import Conversation
    from pytest_kimi.parity.sampling import SampleResult

__all__ = ["ContentInput", "KimiClient", "TransportWrapper", "to_messages"]

ContentInput = str | Sequence[Mapping[str, Any]]
TransportWrapper = Callable[[httpx2.BaseTransport], httpx2.BaseTransport]

EMULATOR_HEADER = "x-pytest-kimi-emulator"


def _is_message_list(value: Sequence[Mapping[str, Any]]) -> bool:
    return all(isinstance(item, Mapping) and "role" in item for item in value)


def to_messages(prompt: ContentInput, *, system: str | None = None) -> list[dict[str, Any]]:
    """Turn a string, a list of content parts or a list of messages into messages."""
    messages: list[dict[str, Any]] = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    if isinstance(prompt, str):
        messages.append({"role": "user", "content": prompt})
        return messages
    items = list(prompt)
    if not items:
        raise KimiConfigError("kimi.chat() got an empty prompt: pass a string or messages.")
    if _is_message_list(items):
        messages.extend(dict(item) for item in items)
        return messages
    parts: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, str):
            parts.append({"type": "text", "text": item})
        elif isinstance(item, Mapping) and "type" in item:
            parts.append(dict(item))
        else:
            raise KimiConfigError(
                f"kimi.chat() got {item!r} in a content list: each item must be a string, "
                "a content part with a 'type' key, or a message with a 'role' key."
            )
    messages.append({"role": "user", "content": parts})
    return messages


class KimiClient:
    """A client bound to one route and one mode.

    Every call goes through the real openai SDK over HTTP; the reply is
    checked for route problems (see `pytest_kimi.client.health`) unless
    `health_checks` is off.
    """

    def __init__(
        self,
        route: Route,
        mode: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        stream: bool = False,
        health_checks: bool = True,
        transport_wrapper: TransportWrapper | None = None,
        on_reply: Callable[[Reply], None] | None = None,
    ) -> None:
        self.route = route
        self.mode = check_mode(mode)
        self.stream_default = stream
        self.health_checks = health_checks
        self.retry = retry or RetryPolicy()
        self.replies: list[Reply] = []
        self._on_reply = on_reply
        transport: httpx2.BaseTransport = httpx2.HTTPTransport()
        if transport_wrapper is not None:
            transport = transport_wrapper(transport)
        self._http = httpx2.Client(transport=transport, timeout=timeout_s)
        self._openai = openai.OpenAI(
            # The SDK requires a key; emulator and keyless self-hosted routes get a
            # placeholder that is never a real secret.
            api_key=api_key or "not-set",
            base_url=route.base_url,
            max_retries=0,
            timeout=timeout_s,
            default_headers=route.headers or None,
            http_client=self._http,
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._openai.close()

    def __repr__(self) -> str:
        return f"KimiClient(route={self.route.name!r}, mode={self.mode!r})"

    @property
    def openai(self) -> openai.OpenAI:
        """The underlying openai client, for calls the plugin does not wrap."""
        return self._openai

    def require(self, capability: str) -> None:
        """Skip the test when the route lacks `capability` (for example `video`)."""
        import pytest

        if not self.route.supports(capability):
            pytest.skip(
                f"route {self.route.name!r} ({self.route.flavor}) does not support {capability!r}; "
                f"add it to capabilities of [tool.pytest_kimi.routes.{self.route.name}] if it does."
            )

    def build_request(
        self,
        prompt: ContentInput,
        *,
        system: str | None = None,
        tools: Iterable[Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
        stream: bool | None = None,
        extra_body: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Return the JSON body `chat` would send, without sending it."""
        request_fields: dict[str, Any] = dict(fields)
        if tools is not None:
            request_fields["tools"] = [dict(tool) for tool in tools]
        if response_format is not None:
            request_fields["response_format"] = dict(response_format)
        if extra_body:
            request_fields["extra_body"] = dict(extra_body)
        use_stream = self._use_stream(stream)
        messages = to_messages(prompt, system=system)
        if self.route.flavor == "anthropic":
            from pytest_kimi.client.anthropic import build_anthropic_body

            request_fields["stream"] = use_stream
            return build_anthropic_body(self.route, self.mode, messages, request_fields)
        if use_stream:
            request_fields.setdefault("stream_options", {"include_usage": True})
        request_fields["stream"] = use_stream
        return build_body(self.route, self.mode, messages, request_fields)

    def _use_stream(self, stream: bool | None) -> bool:
        if stream is not None:
            return stream
        if self.route.stream is not None:
            return self.route.stream
        return self.stream_default

    def chat(
        self,
        prompt: ContentInput,
        *,
        system: str | None = None,
        tools: Iterable[Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
        stream: bool | None = None,
        extra_body: Mapping[str, Any] | None = None,
        check: bool | None = None,
        **fields: Any,
    ) -> Reply:
        """Send one chat-completions request and return the `Reply`.

        Args:
            prompt: a string, a list of content parts (text and media), or a
                list of messages.
            system: a system prompt put first.
            tools: OpenAI-style tool definitions.
            response_format: for example `{"type": "json_object"}`.
            stream: stream the reply; defaults to the route, then the run setting.
            extra_body: extra request fields, deep-merged over the mode's fields.
            check: run the protocol health checks (default: the run setting).
            **fields: any other request field (`max_tokens`, `tool_choice`, ...).
        """
        __tracebackhide__ = True
        body = self.build_request(
            prompt,
            system=system,
            tools=tools,
            response_format=response_format,
            stream=stream,
            extra_body=extra_body,
            **fields,
        )
        return self.send(body, check=check)

    def send(self, body: Mapping[str, Any], *, check: bool | None = None) -> Reply:
        """Send a body built by `build_request` (or by hand) and return the `Reply`."""
        __tracebackhide__ = True
        if self.route.flavor == "anthropic":
            from pytest_kimi.client.anthropic import send_anthropic

            return self._finish(send_anthropic(self, body), check)
        accumulator = StreamAccumulator()

        def reset() -> None:
            nonlocal accumulator
            accumulator = StreamAccumulator()

        exchange = send_chat(
            self._openai,
            body,
            route=self.route.name,
            retry=self.retry,
            on_event=lambda chunk: accumulator.add(chunk),
            on_retry=reset,
        )
        if exchange.events is not None:
            parsed = accumulator.result()
            response: Any = [
                json.loads(event) if event.strip() != "[DONE]" else "[DONE]"
                for event in exchange.events
            ]
        else:
            parsed = parse_completion(exchange.body)
            response = exchange.body
        reply = Reply(
            content=parsed.content,
            reasoning=parsed.reasoning,
            reasoning_field=parsed.reasoning_field,
            tool_calls=parsed.tool_calls,
            finish_reason=parsed.finish_reason,
            usage=parsed.usage,
            timings=Timings.measure(
                total_s=exchange.total_s,
                time_to_first_token_s=exchange.time_to_first_token_s,
                completion_tokens=parsed.usage.completion_tokens,
                attempts=exchange.attempts,
            ),
            route=self.route.name,
            mode=self.mode,
            model=str(body.get("model", self.route.model)),
            flavor=self.route.flavor,
            streamed=exchange.events is not None,
            request=dict(body),
            response=response,
            status_code=exchange.status_code,
            id=parsed.id,
            emulated=exchange.headers.get(EMULATOR_HEADER) == "1" or self.route.is_emulator,
        )
        return self._finish(reply, check)

    def _finish(self, reply: Reply, check: bool | None) -> Reply:
        __tracebackhide__ = True
        self.replies.append(reply)
        if self._on_reply is not None:
            self._on_reply(reply)
        if check if check is not None else self.health_checks:
            check_reply(reply)
        return reply

    def sample(
        self,
        prompt: ContentInput,
        *,
        n: int,
        answer: Any = None,
        max_concurrency: int | None = None,
        **fields: Any,
    ) -> SampleResult:
        """Send `prompt` `n` times concurrently and return the replies with agreement statistics.

        See `pytest_kimi.parity.sampling.sample` for `answer` and the statistics.
        """
        from pytest_kimi.parity.sampling import sample

        return sample(self, prompt, n=n, answer=answer, max_concurrency=max_concurrency, **fields)

    def conversation(self, *, system: str | None = None, **defaults: Any) -> Conversation:
        """Start a multi-turn conversation that writes each turn back as the route expects."""
        from pytest_kimi.client.conversation import Conversation

        return Conversation(self, system=system, defaults=defaults)
