"""Record then replay through the real openai client: the reply must be identical."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from recording_helpers import Project

ROUNDTRIP_TEST = """
import json, os
import pytest

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}

def dump(request, reply, emulator_requests):
    record = {
        "content": reply.content,
        "reasoning": reply.reasoning,
        "tool_calls": [[c.id, c.name, c.arguments] for c in reply.tool_calls],
        "usage": [reply.usage.prompt_tokens, reply.usage.completion_tokens,
                  reply.usage.total_tokens],
        "finish_reason": reply.finish_reason,
        "streamed": reply.streamed,
        "emulator_requests": emulator_requests,
    }
    with open(os.environ["DUMP_FILE"], "a") as handle:
        handle.write(json.dumps([request.node.nodeid, record]) + "\\n")

@pytest.mark.kimi(routes=["kimi", "vllm", "sglang", "gateway"], modes=["thinking", "instant"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_answer(request, kimi, kimi_emulator, stream):
    reply = kimi.chat("What is 17 * 23?", stream=stream)
    dump(request, reply, len(kimi_emulator.requests))

@pytest.mark.kimi(routes=["kimi", "vllm", "sglang", "gateway"], modes=["thinking"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_tool_call(request, kimi, kimi_emulator, stream):
    reply = kimi.chat("What is the weather in Paris?", tools=[WEATHER_TOOL], stream=stream)
    assert reply.tool_calls
    dump(request, reply, len(kimi_emulator.requests))
"""


ALL_ROUTES = ("--kimi-route", "kimi,vllm,sglang,gateway", "--kimi-mode", "thinking,instant")


def _dumps(path: Path) -> dict[str, dict[str, object]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {nodeid: record for nodeid, record in map(json.loads, lines)}


def test_roundtrip_every_flavor(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write_test(ROUNDTRIP_TEST)
    recorded_file = project.root / "recorded.jsonl"
    replayed_file = project.root / "replayed.jsonl"

    monkeypatch.setenv("DUMP_FILE", str(recorded_file))
    project.run(*ALL_ROUTES, "--kimi-record-mode", "once").assert_outcomes(passed=24)
    monkeypatch.setenv("DUMP_FILE", str(replayed_file))
    project.run(*ALL_ROUTES, "--kimi-record-mode", "none").assert_outcomes(passed=24)

    recorded = _dumps(recorded_file)
    replayed = _dumps(replayed_file)
    assert len(recorded) == 24
    assert sorted(replayed) == sorted(recorded)
    for nodeid, live in recorded.items():
        again = replayed[nodeid]
        assert live["emulator_requests"] == 1, nodeid
        assert again["emulator_requests"] == 0, nodeid
        for field in ("content", "reasoning", "tool_calls", "usage", "finish_reason", "streamed"):
            assert again[field] == live[field], (nodeid, field)


def test_roundtrip_cassette_provenance(project: Project) -> None:
    project.write_test(ROUNDTRIP_TEST)
    project.run(*ALL_ROUTES, "--kimi-record-mode", "once", "-k", "vllm-thinking-sse and answer")
    provenance = project.raw("test_answer[vllm-thinking-sse]")["provenance"]
    assert provenance["route"] == "vllm"
    assert provenance["flavor"] == "vllm"
    assert provenance["host"] == "emulator"
    assert provenance["model"] == "moonshotai/Kimi-K2.6"
    assert provenance["mode"] == "thinking"
    assert provenance["emulator"] is True
    assert provenance["note"] == "emulator output, not Kimi K2.6 output"
    assert provenance["plugin_version"]
    assert provenance["recorded_at"].startswith("20")


def test_stream_events_keep_boundaries(project: Project) -> None:
    project.write_test(ROUNDTRIP_TEST)
    project.run(*ALL_ROUTES, "--kimi-record-mode", "once", "-k", "kimi-thinking-sse and tool_call")
    response = project.raw("test_tool_call[kimi-thinking-sse]")["interactions"][0]["response"]
    events = response["events"]
    deltas = [e["json"]["choices"][0]["delta"] for e in events[:-1] if e["json"]["choices"]]
    assert any("reasoning_content" in delta for delta in deltas)
    assert any("tool_calls" in delta for delta in deltas)
    finish = [
        e
        for e in events[:-1]
        if e["json"]["choices"] and e["json"]["choices"][0].get("finish_reason")
    ]
    assert finish
    assert any(e.get("json", {}).get("usage") for e in events[:-1])
    assert events[-1] == {"data": "[DONE]"}
