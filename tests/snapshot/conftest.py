"""Shared helpers for the snapshot tests: the pytester setup that loads the plugin."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# Loads only the snapshot hooks, explicitly, so the runs do not depend on the whole
# pytest-kimi plugin being installed.
PLUGIN_ARGS = (
    "-p",
    "no:kimi",
    "-p",
    "pytest_kimi.snapshot.plugin",
    "-p",
    "no:cacheprovider",
    "--snapshot-no-colors",
)

REPLY_HELPER = """
from pytest_kimi.client.reply import Reply, Timings, ToolCall, Usage


def make_reply(content="Done.", route="official", model="kimi-k2.6", reasoning="think",
               tool_calls=(), mode="thinking", flavor="moonshot"):
    return Reply(
        content=content,
        reasoning=reasoning,
        tool_calls=[ToolCall(id=f"call_{i}", name=n, arguments=a) for i, (n, a) in
                    enumerate(tool_calls)],
        finish_reason="stop",
        usage=Usage(prompt_tokens=10, completion_tokens=5),
        timings=Timings(total_s=0.5),
        route=route,
        mode=mode,
        model=model,
        flavor=flavor,
        streamed=False,
        request={},
        response={},
    )
"""


@pytest.fixture
def kimi_pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Return a pytester whose runs can import pytest_kimi, with the reply helper module."""
    path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    pytester.makepyfile(replyhelper=REPLY_HELPER)
    return pytester
