"""Build cassette sessions and transports directly, without a pytest run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2

from pytest_kimi.config.routes import Route, route_from_table
from pytest_kimi.recording.cassette import Cassette, Interaction
from pytest_kimi.recording.media import MediaStore
from pytest_kimi.recording.secrets import Redactor
from pytest_kimi.recording.session import CassetteSession, SessionContext
from pytest_kimi.recording.transport import CassetteTransport

KIMI = route_from_table(
    "moonshot", {"flavor": "moonshot", "base_url": "https://api.moonshot.ai/v1"}, source="test"
)
VLLM = route_from_table(
    "vllm", {"flavor": "vllm", "base_url": "http://10.0.0.5:8000/v1"}, source="test"
)


def make_session(
    tmp_path: Path,
    *,
    mode: str = "none",
    route: Route = KIMI,
    policy: str = "store",
    cassette: Cassette | None = None,
    redactor: Redactor | None = None,
) -> CassetteSession:
    """Return a session for a cassette under `tmp_path/cassettes`."""
    path = tmp_path / "cassettes" / "test_unit" / "test_case[moonshot-thinking].json"
    context = SessionContext(
        nodeid="test_unit.py::test_case[moonshot-thinking]",
        path=path,
        mode=mode,
        mode_source="cli",
        trace_policy=policy,
        route=route,
        test_mode="thinking",
        redactor=redactor or Redactor.build((), ()),
        media=MediaStore(tmp_path / "cassettes" / "_media"),
    )
    return CassetteSession(context, cassette)


def chat_request(body: Any, route: Route = KIMI, *, raw: bytes | None = None) -> httpx2.Request:
    """Return a POST to the route's chat completions URL."""
    content = raw if raw is not None else json.dumps(body).encode("utf-8")
    return httpx2.Request(
        "POST",
        f"{route.base_url}/chat/completions",
        headers={"content-type": "application/json", "authorization": "Bearer x"},
        content=content,
    )


def recorded_cassette(tmp_path: Path, body: Any, response: Any, route: Route = KIMI) -> Cassette:
    """Return a cassette holding one exchange for `body`, described as recording stores it."""
    describer = make_session(tmp_path, route=route)
    request = describer.describe(chat_request(body, route))
    interaction = Interaction(
        request=request,
        response={"status": 200, "headers": {"content-type": "application/json"}, "json": response},
    )
    return Cassette(path=describer.context.path, interactions=[interaction])


class NoNetwork(httpx2.BaseTransport):
    """An inner transport that records every call, so a test can prove none happened."""

    def __init__(self) -> None:
        self.calls: list[httpx2.Request] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.calls.append(request)
        raise httpx2.ConnectError("the network must not be used", request=request)


def replay_transport(session: CassetteSession) -> tuple[CassetteTransport, NoNetwork]:
    """Return a cassette transport over a `NoNetwork` inner transport."""
    inner = NoNetwork()
    return CassetteTransport(session, inner), inner
