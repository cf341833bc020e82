"""Unit tests of the comparison policies and of record comparison."""

from __future__ import annotations

import pytest

from pytest_kimi.client.reply import Reply, Timings, Usage
from pytest_kimi.snapshot import (
    Policy,
    ReplySubject,
    compare_records,
    mask_volatile,
    serialize_record,
    word_similarity,
)


def _reply(content: str, **kw: object) -> Reply:
    return Reply(
        content=content,
        reasoning=kw.pop("reasoning", None),  # type: ignore[arg-type]
        tool_calls=[],
        finish_reason="stop",
        usage=Usage(),
        timings=Timings(total_s=1.0),
        route=str(kw.pop("route", "official")),
        mode="thinking",
        model="kimi-k2.6",
        flavor="moonshot",
        streamed=False,
        request={},
        response={},
    )


@pytest.mark.parametrize(
    "spec",
    ["exact", "json", "citations", "ignore", "number(0.5)", "similar(0.8)", "pass_rate(0.1)"],
)
def test_policy_round_trips(spec: str) -> None:
    assert str(Policy.parse(spec)) == spec


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("fuzzy", "unknown snapshot policy 'fuzzy'"),
        ("similar", "needs a finite threshold"),
        ("similar(1.5)", "at most 1"),
        ("number(-1)", "at least 0"),
        ("exact(1)", "takes no parameter"),
        ("number(x)", "not a number"),
    ],
)
def test_bad_policy_rejected(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        Policy.parse(spec)


def test_number_tolerance() -> None:
    assert Policy.number(0.1).apply(1.0, 1.05).passed
    assert not Policy.number(0.1).apply(1.0, 1.2).passed


def test_number_rejects_text() -> None:
    with pytest.raises(ValueError, match="needs numbers"):
        Policy.number(0.1).apply("1", 1)


def test_citations_compare_as_sets() -> None:
    assert Policy.citations().apply(["2", "3"], ["3", "2"]).passed
    result = Policy.citations().apply(["2", "3"], ["2"])
    assert not result.passed
    assert result.score == 0.5


def test_json_policy_parses_strings() -> None:
    assert Policy.json().apply('{"a": 1, "b": 2}', '{"b":2,"a":1}').passed
    assert not Policy.json().apply('{"a": 1}', '{"a": 2}').passed


def test_pass_rate_margin() -> None:
    stored = {"passed": 8, "total": 10, "rate": 0.8}
    assert Policy.pass_rate(0.1).apply(stored, {"passed": 7, "total": 10, "rate": 0.7}).passed
    assert not Policy.pass_rate(0.1).apply(stored, {"passed": 6, "total": 10, "rate": 0.6}).passed


def test_word_similarity_values() -> None:
    assert word_similarity("a b c d", "a b c d") == 1.0
    assert word_similarity("a b c d", "e f g h") == 0.0
    assert word_similarity("a b c d", "a b c x") == 0.75


def test_mask_any_list_position() -> None:
    calls = [{"id": f"call_{i}", "function": {"name": f"f{i}"}} for i in range(3)]
    body = {"id": "x", "choices": [{"message": {"tool_calls": calls}}] * 2}
    masked = mask_volatile(body)
    for choice in masked["choices"]:
        assert [call["id"] for call in choice["message"]["tool_calls"]] == ["<str>"] * 3
        assert choice["message"]["tool_calls"][2]["function"]["name"] == "f2"
    assert masked["id"] == "<str>"
    assert body["id"] == "x"


def test_mask_stream_events() -> None:
    events = [{"id": "c1", "created": 5, "choices": [{"delta": {"content": "Hi"}}]}]
    assert mask_volatile(events) == [
        {"id": "<str>", "created": "<int>", "choices": [{"delta": {"content": "Hi"}}]}
    ]


def test_json_content_compared_parsed() -> None:
    stored = serialize_record(_reply('{"a": 1, "b": 2}'))
    assert compare_records(stored, serialize_record(_reply('{"b":2, "a":1}'))).matched
    assert not compare_records(stored, serialize_record(_reply('{"a": 1, "b": 3}'))).matched


def test_reasoning_length_not_compared() -> None:
    stored = serialize_record(_reply("Paris", reasoning="short"))
    verdict = compare_records(stored, serialize_record(_reply("Paris", reasoning="much longer")))
    assert verdict.matched


def test_extra_number_field() -> None:
    def record(score: float) -> str:
        subject = ReplySubject(
            _reply("Paris"), extra={"score": score}, policies={"score": "number(0.05)"}
        )
        return serialize_record(subject)

    assert compare_records(record(0.90), record(0.93)).matched
    verdict = compare_records(record(0.90), record(0.99))
    assert not verdict.matched
    assert [item.field for item in verdict.fields if not item.passed] == ["score"]


def test_unknown_policy_field_rejected() -> None:
    with pytest.raises(ValueError, match="'contnet'"):
        serialize_record(ReplySubject(_reply("x"), policies={"contnet": "ignore"}))
