"""Request encoding per route flavor, deep merge of extra_body, and the thinking-field lint."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_kimi.client.encoding import build_body, deep_merge, mode_fields
from pytest_kimi.config.routes import route_from_table
from pytest_kimi.errors import KimiConfigError

OFFICIAL = route_from_table(
    "official", {"flavor": "moonshot", "base_url": "https://api.moonshot.ai/v1"}, source="test"
)
VLLM = route_from_table(
    "vllm", {"flavor": "vllm", "base_url": "http://127.0.0.1:8000/v1"}, source="test"
)
SGLANG = route_from_table(
    "sglang", {"flavor": "sglang", "base_url": "http://127.0.0.1:8000/v1"}, source="test"
)
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("thinking", {"thinking": {"type": "enabled"}}),
        ("instant", {"thinking": {"type": "disabled"}}),
        ("preserve", {"thinking": {"type": "enabled", "keep": "all"}}),
    ],
)
def test_official_mode_fields(mode: str, expected: dict[str, Any]) -> None:
    assert mode_fields(OFFICIAL, mode) == expected


@pytest.mark.parametrize("route", [VLLM, SGLANG], ids=["vllm", "sglang"])
@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("thinking", {"thinking": True}),
        ("instant", {"thinking": False}),
        ("preserve", {"thinking": True, "preserve_thinking": True}),
    ],
)
def test_self_hosted_mode_fields(route: Any, mode: str, expected: dict[str, Any]) -> None:
    assert mode_fields(route, mode) == {"chat_template_kwargs": expected}


def test_official_instant_body_has_no_chat_template_kwargs() -> None:
    body = build_body(OFFICIAL, "instant", MESSAGES, {})
    assert body["thinking"] == {"type": "disabled"}
    assert "chat_template_kwargs" not in body


def test_unrelated_extra_body_keeps_mode_toggle() -> None:
    body = build_body(VLLM, "instant", MESSAGES, {"extra_body": {"top_k": 20}})
    assert body["chat_template_kwargs"] == {"thinking": False}
    assert body["top_k"] == 20


def test_nested_extra_body_is_deep_merged() -> None:
    fields = {"extra_body": {"chat_template_kwargs": {"custom_flag": 1}}}
    body = build_body(VLLM, "instant", MESSAGES, fields)
    assert body["chat_template_kwargs"] == {"thinking": False, "custom_flag": 1}


def test_explicit_thinking_overrides_mode() -> None:
    body = build_body(OFFICIAL, "instant", MESSAGES, {"thinking": {"type": "enabled"}})
    assert body["thinking"] == {"type": "enabled"}


def test_literal_extra_body_key_is_flattened() -> None:
    fields = {"extra_body": {"extra_body": {"chat_template_kwargs": {"thinking": True}}}}
    body = build_body(VLLM, "thinking", MESSAGES, fields)
    assert "extra_body" not in body
    assert body["chat_template_kwargs"] == {"thinking": True}


def test_deep_merge_does_not_mutate_inputs() -> None:
    base = {"a": {"b": 1}}
    update = {"a": {"c": 2}}
    merged = deep_merge(base, update)
    assert merged == {"a": {"b": 1, "c": 2}}
    assert base == {"a": {"b": 1}}


def test_enable_thinking_is_rejected_with_right_key() -> None:
    fields = {"chat_template_kwargs": {"enable_thinking": False}}
    with pytest.raises(KimiConfigError, match="chat_template_kwargs.thinking"):
        build_body(VLLM, "instant", MESSAGES, fields)
    with pytest.raises(KimiConfigError, match="thinking.type"):
        build_body(
            OFFICIAL,
            "instant",
            MESSAGES,
            {"extra_body": {"chat_template_kwargs": {"enable_thinking": False}}},
        )


def test_official_thinking_field_rejected_on_vllm() -> None:
    with pytest.raises(KimiConfigError, match="vLLM and SGLang ignore it"):
        build_body(VLLM, "instant", MESSAGES, {"thinking": {"type": "disabled"}})


def test_thinking_with_reasoning_effort_rejected_on_official() -> None:
    with pytest.raises(KimiConfigError, match="reasoning_effort"):
        build_body(OFFICIAL, "thinking", MESSAGES, {"reasoning_effort": "high"})


def test_route_default_sampling_dropped_on_official_only() -> None:
    official = route_from_table(
        "o",
        {
            "flavor": "moonshot",
            "base_url": "https://api.moonshot.ai/v1",
            "request_defaults": {"temperature": 0.7, "max_tokens": 100},
        },
        source="test",
    )
    vllm = route_from_table(
        "v",
        {
            "flavor": "vllm",
            "base_url": "http://127.0.0.1:8000/v1",
            "request_defaults": {"temperature": 0.7},
        },
        source="test",
    )
    assert "temperature" not in build_body(official, "thinking", MESSAGES, {})
    assert build_body(official, "thinking", MESSAGES, {})["max_tokens"] == 100
    assert build_body(vllm, "thinking", MESSAGES, {})["temperature"] == 0.7


def test_explicit_sampling_is_sent_on_official() -> None:
    body = build_body(OFFICIAL, "thinking", MESSAGES, {"temperature": 0.5})
    assert body["temperature"] == 0.5


def test_unknown_mode_names_the_modes() -> None:
    with pytest.raises(KimiConfigError, match="unknown mode 'fast'.*thinking, instant, preserve"):
        mode_fields(OFFICIAL, "fast")


def test_official_key_not_read_for_self_hosted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIMI_API_KEY", "sk-PLACEHOLDER-OFFICIAL-KEY-0001")
    monkeypatch.setenv("LOCAL_KEY", "local-secret-0001")
    assert VLLM.api_key() is None
    assert not VLLM.requires_key
    assert OFFICIAL.api_key() == "sk-PLACEHOLDER-OFFICIAL-KEY-0001"
    own = route_from_table("v", {"flavor": "vllm", "base_url": "http://127.0.0.1:8000/v1",
                                 "api_key_env": "LOCAL_KEY"}, source="test")
    assert own.api_key() == "local-secret-0001"
    assert own.requires_key
