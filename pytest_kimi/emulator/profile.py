"""Emulator profiles: which server the emulator imitates, and how it misbehaves."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from pytest_kimi.errors import KimiConfigError

__all__ = ["BUILTIN_PROFILES", "Profile", "profile_from_options"]


@dataclass(frozen=True)
class Profile:
    """How one emulator endpoint behaves.

    The defaults imitate Moonshot's official chat-completions contract. The
    `flavor` switches the thinking field and reasoning field to the vLLM or
    SGLang shape; the remaining flags reproduce route faults seen in the
    wild, so conformance checks can be shown to catch them.
    """

    flavor: str = "moonshot"
    model: str = "kimi-k2.6"
    # Field that carries reasoning in responses: reasoning_content, reasoning or none.
    reasoning_field: str = "reasoning_content"
    context_window: int = 262_144
    supports_video: bool = True
    # Moonshot's fixed sampling values; other values get a 400.
    enforce_sampling: bool = True
    # A vLLM server launched without --reasoning-parser: reasoning and </think> in content.
    no_reasoning_parser: bool = False
    # A gateway that forces thinking on whatever the request says.
    ignore_thinking_switch: bool = False
    # A proxy that rewrites tool-call ids, which breaks every later tool call.
    rewrite_tool_ids: bool = False
    # Seconds to wait before the first byte of every response.
    latency_s: float = 0.0
    # Bearer key the emulator requires; None accepts any key.
    api_key: str | None = None

    @property
    def official(self) -> bool:
        """Whether the profile imitates the official API (thinking field, fixed sampling)."""
        return self.flavor == "moonshot"


_VLLM = Profile(
    flavor="vllm",
    model="moonshotai/Kimi-K2.6",
    reasoning_field="reasoning",
    enforce_sampling=False,
    supports_video=False,
)
_SGLANG = Profile(
    flavor="sglang",
    model="moonshotai/Kimi-K2.6",
    reasoning_field="reasoning_content",
    enforce_sampling=False,
    supports_video=False,
)

BUILTIN_PROFILES: dict[str, Profile] = {
    "moonshot": Profile(),
    "vllm": _VLLM,
    "sglang": _SGLANG,
    "openai": Profile(flavor="openai", enforce_sampling=False),
    "anthropic": Profile(flavor="anthropic"),
}

_FIELD_NAMES = {f.name for f in fields(Profile)}


_OPTION_TYPES: dict[str, tuple[type, ...]] = {
    "flavor": (str,),
    "model": (str,),
    "reasoning_field": (str,),
    "context_window": (int,),
    "supports_video": (bool,),
    "enforce_sampling": (bool,),
    "no_reasoning_parser": (bool,),
    "ignore_thinking_switch": (bool,),
    "rewrite_tool_ids": (bool,),
    "latency_s": (int, float),
    "api_key": (str,),
}


def check_profile_options(options: dict[str, Any]) -> None:
    """Raise `KimiConfigError` for an unknown emulator option or a value of the wrong type."""
    unknown = sorted(set(options) - _FIELD_NAMES)
    if unknown:
        raise KimiConfigError(
            f"unknown emulator option(s) {', '.join(unknown)}: the options are "
            f"{', '.join(sorted(_FIELD_NAMES - {'flavor', 'model'}))}."
        )
    for key, value in options.items():
        allowed = _OPTION_TYPES[key]
        wrong_bool = isinstance(value, bool) and bool not in allowed
        if wrong_bool or not isinstance(value, allowed):
            names = " or ".join(kind.__name__ for kind in allowed)
            raise KimiConfigError(
                f"emulator option {key} = {value!r} is invalid: expected {names}."
            )
    field = options.get("reasoning_field")
    if field is not None and field not in ("reasoning_content", "reasoning", "none"):
        raise KimiConfigError(
            f"emulator option reasoning_field = {field!r} is invalid: expected "
            "'reasoning_content', 'reasoning' or 'none'."
        )


def profile_from_options(flavor: str, model: str, options: dict[str, Any]) -> Profile:
    """Build the profile for an emulator route from its `emulator = {...}` table."""
    check_profile_options(options)
    base = BUILTIN_PROFILES.get(flavor, Profile())
    values = {f.name: getattr(base, f.name) for f in fields(Profile)}
    values.update({"flavor": flavor, "model": model})
    values.update(options)
    return Profile(**values)
