"""Replay N recorded chat calls through pytest-kimi's replay transport and through vcrpy.

Both replays use the same openai client calls against the same N distinct
requests, recorded from the embedded emulator on 127.0.0.1; the emulator is
stopped before either replay, so neither can reach a server. By default vcrpy
matches on method, scheme, host, port, path, query and body, so both recorders
tell the N requests apart by their JSON body. With `--vcr-match-on url`, vcrpy
leaves out the body and replays the same-URL recordings in order, which is its
fastest setting. The timed part includes loading the cassette.

Usage: .venv/bin/python benchmarks/bench_replay.py [--calls N] [--stream]
       [--vcr-match-on body|url]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx2
import openai
import vcr  # type: ignore[import-untyped]
from openai.types.chat import ChatCompletionMessageParam

from pytest_kimi.config.routes import Route, route_from_table
from pytest_kimi.emulator.embedded import start_embedded_emulator
from pytest_kimi.recording.cassette import Cassette
from pytest_kimi.recording.media import MediaStore
from pytest_kimi.recording.secrets import Redactor
from pytest_kimi.recording.session import CassetteSession, SessionContext
from pytest_kimi.recording.transport import CassetteTransport

VCR_MATCH_ON = {
    "body": ("method", "scheme", "host", "port", "path", "query", "body"),
    "url": ("method", "scheme", "host", "port", "path", "query"),
}


def _session(route: Route, path: Path, mode: str, cassette: Cassette | None) -> CassetteSession:
    context = SessionContext(
        nodeid="bench_replay.py::replay",
        path=path,
        mode=mode,
        mode_source="cli",
        trace_policy="store",
        route=route,
        test_mode="thinking",
        redactor=Redactor.build((), ()),
        media=MediaStore(path.parent / "_media"),
    )
    return CassetteSession(context, cassette)


def _client(base_url: str, transport: httpx2.BaseTransport | None) -> openai.OpenAI:
    http = httpx2.Client(transport=transport) if transport else httpx2.Client()
    return openai.OpenAI(api_key="bench", base_url=base_url, max_retries=0, http_client=http)


def _calls(client: openai.OpenAI, count: int, stream: bool) -> list[str]:
    answers = []
    for number in range(count):
        messages: list[ChatCompletionMessageParam] = [
            {"role": "user", "content": f"What is {number} + {number}?"}
        ]
        if stream:
            chunks = client.chat.completions.create(
                model="kimi-k2.6", messages=messages, stream=True
            )
            pieces = [chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices]
            answers.append("".join(pieces))
        else:
            reply = client.chat.completions.create(model="kimi-k2.6", messages=messages)
            answers.append(reply.choices[0].message.content or "")
    return answers


def _timed(run: Callable[[], list[str]]) -> tuple[float, list[str]]:
    started = time.perf_counter()
    answers = run()
    return time.perf_counter() - started, answers


def main() -> None:
    """Record N calls with both recorders, stop the emulator, and time both replays."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="number of chat calls (N)")
    parser.add_argument("--stream", action="store_true", help="stream every call (SSE)")
    parser.add_argument(
        "--vcr-match-on",
        choices=sorted(VCR_MATCH_ON),
        default="body",
        help="what vcrpy matches on: the URL and the body (default) or the URL only",
    )
    args = parser.parse_args()
    match_on = VCR_MATCH_ON[args.vcr_match_on]
    logging.getLogger("vcr").setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory() as folder:
        kimi_path = Path(folder) / "cassettes" / "bench" / "replay.json"
        vcr_path = Path(folder) / "vcr" / "replay.yaml"
        server = start_embedded_emulator()
        base_url = server.base_url("moonshot")
        route = route_from_table("bench", {"flavor": "moonshot", "base_url": base_url}, source="")

        recorder = _session(route, kimi_path, "once", None)
        live = _calls(
            _client(base_url, CassetteTransport(recorder, httpx2.HTTPTransport())),
            args.calls,
            args.stream,
        )
        recorder.finish(passed=True)
        with vcr.use_cassette(str(vcr_path), record_mode="once", match_on=match_on):
            _calls(_client(base_url, None), args.calls, args.stream)
        server.stop()

        def replay_kimi() -> list[str]:
            session = _session(route, kimi_path, "none", Cassette.load(kimi_path))
            return _calls(
                _client(base_url, CassetteTransport(session, None)), args.calls, args.stream
            )

        def replay_vcr() -> list[str]:
            with vcr.use_cassette(str(vcr_path), record_mode="none", match_on=match_on):
                return _calls(_client(base_url, None), args.calls, args.stream)

        kimi_s, kimi_answers = _timed(replay_kimi)
        vcr_s, vcr_answers = _timed(replay_vcr)
        assert kimi_answers == live, "pytest-kimi replay differs from the live answers"
        assert vcr_answers == live, "vcrpy replay differs from the live answers"

    kind = "streaming" if args.stream else "non-streaming"
    print(f"{args.calls} {kind} chat calls replayed (cassette load included)")
    print(f"  {'pytest-kimi:':<20} {kimi_s:8.3f} s  ({kimi_s / args.calls * 1e3:.3f} ms/call)")
    label = f"vcrpy ({args.vcr_match_on}):"
    print(f"  {label:<20} {vcr_s:8.3f} s  ({vcr_s / args.calls * 1e3:.3f} ms/call)")
    print(f"  ratio pytest-kimi / vcrpy: {kimi_s / vcr_s:.3f} (goal: at most 0.5)")


if __name__ == "__main__":
    main()
