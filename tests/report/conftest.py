"""Shared helpers for the report tests: a pytester project that records model calls."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

PLUGIN_ARGS = ("-p", "no:kimi", "-p", "kimireportplugin", "-p", "no:cacheprovider")

# Registers ReportPlugin the way pytest_kimi.plugin does, without the rest of pytest-kimi.
LOADER = """
from pytest_kimi.report import ReportPlugin, add_report_options


def pytest_addoption(parser):
    add_report_options(parser)


def pytest_configure(config):
    config.pluginmanager.register(ReportPlugin(config), "kimi-report")
"""

# A test module whose tests append Replies to the item stash, as the client fixtures do.
TESTS = """
import pytest
from pytest_kimi.client.reply import Reply, Timings, ToolCall, Usage
from pytest_kimi.report import CALLS_KEY
from pytest_kimi.snapshot import kimi_snapshot

PIXEL = "data:image/png;base64,iVBORw0KGgo="


def record(request, content, route="official", total_s=1.0, emulated=False):
    reply = Reply(
        content=content,
        reasoning="because",
        tool_calls=[ToolCall(id="call_1", name="lookup", arguments='{"q": "x"}')],
        finish_reason="stop",
        usage=Usage(prompt_tokens=100, completion_tokens=20, cached_tokens=40,
                    reasoning_tokens=5),
        timings=Timings(total_s=total_s, time_to_first_token_s=0.1),
        route=route,
        mode="thinking",
        model="kimi-k2.6",
        flavor="emulator" if emulated else "moonshot",
        streamed=False,
        emulated=emulated,
        request={"messages": [{"role": "user", "content": [
            {"type": "text", "text": "describe"},
            {"type": "image_url", "image_url": {"url": PIXEL}},
        ]}]},
        response={},
    )
    request.node.stash.setdefault(CALLS_KEY, []).append(reply)
    return reply


@pytest.mark.parametrize("i", range(4))
def test_pass(request, i):
    record(request, f"answer {i}", total_s=float(i + 1))


def test_fail(request):
    record(request, "wrong", route="vllm", emulated=True)
    assert False


def test_snapshot(request, snapshot):
    reply = record(request, "snap")
    assert reply == kimi_snapshot(snapshot)


def test_no_calls():
    pass
"""


@pytest.fixture
def report_pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Return a pytester project with the report loader and a test module that records calls."""
    path = os.pathsep.join(
        filter(None, [str(pytester.path), str(REPO_ROOT), os.environ.get("PYTHONPATH")])
    )
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    pytester.makepyfile(kimireportplugin=LOADER, test_calls=TESTS)
    return pytester
