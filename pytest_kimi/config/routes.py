"""Routes: where a model is served, in which wire dialect, and what it can do."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from pytest_kimi.errors import KimiConfigError

__all__ = [
    "BUILTIN_EMULATOR",
    "BUILTIN_MOONSHOT",
    "DEFAULT_CAPABILITIES",
    "FLAVORS",
    "MODES",
    "Route",
    "route_from_table",
]

# `moonshot` is the official API, `vllm` and `sglang` self-hosted servers,
# `openai` any other OpenAI-compatible gateway, `anthropic` a Messages API.
FLAVORS = ("moonshot", "vllm", "sglang", "openai", "anthropic")
MODES = ("thinking", "instant", "preserve")

# K2.6's official context window (262,144 tokens, per Moonshot's model card).
K26_CONTEXT_WINDOW = 262_144

DEFAULT_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "moonshot": ("text", "image", "video", "tools", "json_mode", "thinking", "preserve"),
    "anthropic": ("text", "image", "tools", "thinking"),
    # Self-hosted servers take images through the vision encoder; video support
    # depends on the build, so it is opt-in through `capabilities`.
    "vllm": ("text", "image", "tools", "json_mode", "thinking", "preserve"),
    "sglang": ("text", "image", "tools", "json_mode", "thinking", "preserve"),
    "openai": ("text", "image", "tools", "json_mode", "thinking"),
}

_DEFAULT_THINKING_PARAM = {
    "moonshot": "thinking",
    "anthropic": "thinking",
    "vllm": "chat_template_kwargs",
    "sglang": "chat_template_kwargs",
    "openai": "thinking",
}

_DEFAULT_HISTORY_FIELD = {
    "moonshot": "reasoning_content",
    "anthropic": "reasoning_content",
    # vLLM renamed the output field to `reasoning` (vllm-project/vllm#27752);
    # SGLang keeps `reasoning_content`.
    "vllm": "reasoning",
    "sglang": "reasoning_content",
    "openai": "reasoning_content",
}

_DEFAULT_KEY_ENVS = ("KIMI_API_KEY", "MOONSHOT_API_KEY")


@dataclass(frozen=True)
class Route:
    """One configured route: a base URL, a model name and a wire flavor.

    `emulator` is `None` for a real server; for the embedded emulator it holds
    the profile options (an empty dict for the official-shaped default).
    """

    name: str
    flavor: str
    base_url: str
    model: str
    api_key_env: str | None = None
    emulator: dict[str, Any] | None = None
    modes: tuple[str, ...] = MODES
    capabilities: tuple[str, ...] = ()
    history_reasoning_field: str = "reasoning_content"
    thinking_param: str = "thinking"
    preserve_kwargs: dict[str, Any] = field(default_factory=dict)
    context_window: int = K26_CONTEXT_WINDOW
    max_concurrency: int = 8
    requests_per_minute: int | None = None
    request_defaults: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float | None = None
    max_retries: int | None = None
    stream: bool | None = None

    @property
    def is_emulator(self) -> bool:
        """Whether the route is served by the embedded emulator."""
        return self.emulator is not None

    @property
    def host(self) -> str:
        """The base URL's host, or `emulator` for the embedded emulator."""
        return "emulator" if self.is_emulator else (urlsplit(self.base_url).hostname or "")

    def supports(self, capability: str) -> bool:
        """Return whether the route declares `capability` (for example `video`)."""
        return capability in self.capabilities

    @property
    def requires_key(self) -> bool:
        """Whether calls need an API key: Moonshot's routes, or any route naming `api_key_env`.

        Self-hosted and gateway routes without `api_key_env` are called without one.
        """
        return self.api_key_env is not None or self.flavor in ("moonshot", "anthropic")

    def key_env_names(self) -> tuple[str, ...]:
        """Environment variables read for the API key, in order.

        Moonshot's routes fall back to `KIMI_API_KEY` and `MOONSHOT_API_KEY`; other
        routes read only their own `api_key_env`, so an official key is never sent
        to a self-hosted server or gateway by accident.
        """
        if self.api_key_env:
            return (self.api_key_env,)
        if self.flavor in ("moonshot", "anthropic"):
            return _DEFAULT_KEY_ENVS
        return ()

    def api_key(self) -> str | None:
        """Read the API key from the environment; keys are never stored in config."""
        for name in self.key_env_names():
            value = os.environ.get(name)
            if value:
                return value
        return None

    def with_base_url(self, base_url: str) -> Route:
        """Return a copy pointing at `base_url` (used once the emulator has a port)."""
        return replace(self, base_url=base_url)


def _check_base_url(name: str, base_url: str, source: str) -> None:
    parts = urlsplit(base_url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port outside 0-65535
    except ValueError:
        raise KimiConfigError(
            f"invalid base_url {base_url!r} for route {name!r} in {source}: the port is not a "
            "number from 1 to 65535."
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise KimiConfigError(
            f"invalid base_url {base_url!r} for route {name!r} in {source}: expected an "
            "http(s) URL such as 'https://api.moonshot.ai/v1' or 'http://127.0.0.1:8000/v1', "
            "or set emulator = true to use the embedded emulator."
        )


def route_from_table(name: str, table: Mapping[str, Any], *, source: str) -> Route:
    """Build a `Route` from its validated `[tool.pytest_kimi.routes.NAME]` table."""
    if "api_key" in table:
        raise KimiConfigError(
            f"route {name!r} in {source} sets api_key: keys are read only from the environment. "
            "Remove it and set api_key_env to the variable's name."
        )
    emulator_option = table.get("emulator", False)
    emulator: dict[str, Any] | None = None
    if emulator_option is True:
        emulator = {}
    elif isinstance(emulator_option, dict):
        emulator = dict(emulator_option)

    flavor = table.get("flavor", "moonshot" if emulator is not None else None)
    if flavor is None:
        raise KimiConfigError(
            f"route {name!r} in {source} has no flavor: set flavor to one of {', '.join(FLAVORS)}."
        )
    if emulator is not None:
        from pytest_kimi.emulator.profile import check_profile_options

        try:
            check_profile_options(emulator)
        except KimiConfigError as exc:
            raise KimiConfigError(f"route {name!r} in {source}: {exc}") from None
    base_url = table.get("base_url", "")
    if emulator is None:
        if not base_url:
            raise KimiConfigError(
                f"route {name!r} in {source} has no base_url: set it to the server's URL "
                "(for example 'http://127.0.0.1:8000/v1'), or set emulator = true."
            )
        _check_base_url(name, base_url, source)
    model = table.get("model")
    if not model:
        model = "kimi-k2.6" if flavor in ("moonshot", "anthropic") else "moonshotai/Kimi-K2.6"

    capabilities = tuple(table.get("capabilities", DEFAULT_CAPABILITIES[flavor]))
    return Route(
        name=name,
        flavor=flavor,
        base_url=base_url,
        model=model,
        api_key_env=table.get("api_key_env"),
        emulator=emulator,
        modes=tuple(table.get("modes", MODES)),
        capabilities=capabilities,
        history_reasoning_field=table.get(
            "history_reasoning_field", _DEFAULT_HISTORY_FIELD[flavor]
        ),
        thinking_param=table.get("thinking_param", _DEFAULT_THINKING_PARAM[flavor]),
        preserve_kwargs=dict(table.get("preserve_kwargs", {})),
        context_window=int(table.get("context_window", K26_CONTEXT_WINDOW)),
        max_concurrency=int(table.get("max_concurrency", 8)),
        requests_per_minute=table.get("requests_per_minute"),
        request_defaults=dict(table.get("request_defaults", {})),
        headers=dict(table.get("headers", {})),
        timeout_s=table.get("timeout_s"),
        max_retries=table.get("max_retries"),
        stream=table.get("stream"),
    )


BUILTIN_EMULATOR = route_from_table("emulator", {"emulator": True}, source="built-in routes")
BUILTIN_MOONSHOT = route_from_table(
    "moonshot",
    {
        "flavor": "moonshot",
        "base_url": os.environ.get("KIMI_BASE_URL", "https://api.moonshot.ai/v1"),
        "model": "kimi-k2.6",
    },
    source="built-in routes",
)
