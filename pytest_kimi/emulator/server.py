"""The K2.6 contract emulator: a real HTTP server on 127.0.0.1.

Endpoints, where PROFILE is a built-in profile (`moonshot`, `vllm`, `sglang`,
`openai`) or one registered with `add_profile`:

    POST /v1/chat/completions             the official-shaped profile
    POST /PROFILE/v1/chat/completions     any profile
    GET  /v1/models, /PROFILE/v1/models   the profile's model id
    GET  /healthz

Every response carries `x-pytest-kimi-emulator: 1`, so replies are always
marked as emulator output.
"""

from __future__ import annotations

import itertools
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pytest_kimi.emulator.contract import (
    ContractViolation,
    MediaCheck,
    thinking_enabled,
    validate_request,
)
from pytest_kimi.emulator.engine import Completion, TruthReader, default_completion, message_text
from pytest_kimi.emulator.profile import BUILTIN_PROFILES, Profile
from pytest_kimi.emulator.render import (
    apply_profile_faults,
    completion_body,
    completion_events,
)
from pytest_kimi.emulator.scripts import Fault, Script, ScriptBook, ScriptedReply

__all__ = ["EmulatorServer", "ReceivedRequest"]

logger = logging.getLogger("pytest_kimi.emulator")

EMULATOR_HEADER = "x-pytest-kimi-emulator"
# Largest request body read; media-heavy requests stay well below it.
MAX_BODY_BYTES = 256 * 1024 * 1024
# Extra endpoint handlers by path suffix (for example the Anthropic Messages API);
# each returns (status, headers, body or events).
ExtraHandler = Callable[["EmulatorServer", Profile, Any], tuple[int, dict[str, str], Any]]


@dataclass
class ReceivedRequest:
    """One request the emulator received; the Authorization value is masked."""

    path: str
    profile: str
    headers: dict[str, str]
    body: Any
    received_at: float = field(default_factory=time.time)


def _mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    masked = {}
    for key, value in headers.items():
        lowered = key.lower()
        if lowered in ("authorization", "x-api-key", "api-key"):
            value = "<masked>"
        masked[lowered] = value
    return masked


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("emulator: " + format, *args)

    # --- plumbing -----------------------------------------------------------

    def _send_json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header(EMULATOR_HEADER, "1")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_raw(self, status: int, text: str, content_type: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.send_header(EMULATOR_HEADER, "1")
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header(EMULATOR_HEADER, "1")
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # --- routing ------------------------------------------------------------

    def _split_path(self) -> tuple[str, str] | None:
        path = self.path.split("?", 1)[0].rstrip("/")
        parts = path.split("/")[1:]
        if parts and parts[0] == "v1":
            return "moonshot", "/" + "/".join(parts[1:])
        if len(parts) >= 2 and parts[1] == "v1":
            return parts[0], "/" + "/".join(parts[2:])
        return None

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/healthz":
            self._send_json(200, {"status": "ok", "emulator": "pytest-kimi"})
            return
        split = self._split_path()
        profile = self.server.emulator.profile(split[0]) if split else None
        if split is None or profile is None or split[1] != "/models":
            self._send_json(
                404, {"error": {"type": "not_found", "message": f"no route {self.path}"}}
            )
            return
        self._send_json(
            200,
            {
                "object": "list",
                "data": [
                    {"id": profile.model, "object": "model", "owned_by": "pytest-kimi-emulator"}
                ],
            },
        )

    def do_POST(self) -> None:  # noqa: N802
        try:
            self._post()
        except Exception as exc:  # a bug in the emulator must not look like a network fault
            logger.exception("emulator: error while handling POST %s", self.path)
            self._send_json(
                500,
                {
                    "error": {
                        "type": "server_error",
                        "message": f"pytest-kimi emulator error: {exc!r}",
                    }
                },
            )

    def _post(self) -> None:
        split = self._split_path()
        emulator = self.server.emulator
        profile = emulator.profile(split[0]) if split else None
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send_json(
                413,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": f"Invalid request: body of {length} bytes; "
                        f"the emulator accepts at most {MAX_BODY_BYTES}",
                    }
                },
            )
            return
        raw = self.rfile.read(length) if length else b""
        if split is None or profile is None:
            self._send_json(
                404, {"error": {"type": "not_found", "message": f"no route {self.path}"}}
            )
            return
        try:
            body = json.loads(raw or b"null")
        except json.JSONDecodeError as exc:
            self._send_json(
                400,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": f"Invalid request: body is not JSON ({exc.msg})",
                    }
                },
            )
            return
        headers = _mask_headers(dict(self.headers.items()))
        emulator.log(ReceivedRequest(self.path, split[0], headers, body))
        if profile.latency_s:
            time.sleep(profile.latency_s)
        if profile.api_key is not None:
            sent = self.headers.get("authorization", "")
            if sent != f"Bearer {profile.api_key}":
                self._send_json(
                    401,
                    {
                        "error": {
                            "type": "invalid_authentication_error",
                            "message": "Invalid Authentication",
                        }
                    },
                )
                return
        extra = emulator.extra_handlers.get(split[1])
        if extra is not None:
            status, headers, payload = extra(emulator, profile, body)
            if isinstance(payload, list):
                self._stream_events(payload, Fault())
            else:
                self._send_json(status, payload, headers)
            return
        if split[1] != "/chat/completions":
            self._send_json(
                404, {"error": {"type": "not_found", "message": f"no route {self.path}"}}
            )
            return
        self._chat(profile, split[0], body)

    # --- chat completions ---------------------------------------------------

    def _chat(self, profile: Profile, profile_name: str, body: Any) -> None:
        emulator = self.server.emulator
        try:
            thinking = validate_request(body, profile, media_check=emulator.media_check)
        except ContractViolation as violation:
            self._send_json(violation.status, violation.envelope())
            return
        summary = emulator.summarize(body, profile_name, thinking)
        script = emulator.scripts.take(summary)
        fault = script.fault if script and script.fault else Fault()
        if self._apply_fault_before_reply(fault):
            return
        completion = emulator.complete(body, thinking, script.reply if script else None)
        parts = apply_profile_faults(completion, profile, body, thinking)
        completion_id = f"chatcmpl-emu{next(emulator.counter):06d}"
        if body.get("stream"):
            events = completion_events(profile, body, completion, parts, completion_id)
            self._stream_events(events, fault)
            return
        if fault.slow_first_token_s:
            time.sleep(fault.slow_first_token_s)
        self._send_json(200, completion_body(profile, body, completion, parts, completion_id))

    def _apply_fault_before_reply(self, fault: Fault) -> bool:
        if fault.drop_connection:
            self._drop()
            return True
        if fault.status is not None:
            headers = {}
            if fault.retry_after is not None:
                headers["retry-after"] = f"{fault.retry_after:g}"
            kind = fault.error_type or _default_error_type(fault.status)
            message = fault.message or _default_error_message(fault.status)
            self._send_json(fault.status, {"error": {"type": kind, "message": message}}, headers)
            return True
        if fault.body is not None:
            self._send_raw(200, fault.body, fault.content_type or "text/html")
            return True
        if fault.empty_stream:
            self._start_stream()
            self._end_stream()
            return True
        return False

    def _stream_events(self, events: list[str] | list[tuple[str, str]], fault: Fault) -> None:
        self._start_stream()
        if fault.slow_first_token_s:
            time.sleep(fault.slow_first_token_s)
        for index, event in enumerate(events):
            if fault.truncate_after is not None and index >= fault.truncate_after:
                self._drop()
                return
            if fault.malformed_chunk and index == 1:
                self._write_chunk(b'data: {"choices": [{"delta": \n\n')
                continue
            if isinstance(event, tuple):
                name, data = event
                self._write_chunk(f"event: {name}\ndata: {data}\n\n".encode())
            else:
                self._write_chunk(f"data: {event}\n\n".encode())
        self._end_stream()


def _default_error_type(status: int) -> str:
    if status == 429:
        return "rate_limit_reached_error"
    if status == 401:
        return "invalid_authentication_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def _default_error_message(status: int) -> str:
    if status == 429:
        return (
            "Your account request reached organization max RPM: 3, please try again after "
            "1 seconds (pytest-kimi emulator)"
        )
    if status >= 500:
        return "internal server error (pytest-kimi emulator fault injection)"
    return f"HTTP {status} (pytest-kimi emulator fault injection)"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: EmulatorServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (BrokenPipeError, ConnectionResetError)):
            # The client gave up (a timeout test, a dropped stream); nothing to report.
            logger.debug("emulator: client %s closed the connection early", client_address)
            return
        logger.exception("emulator: error while handling a request from %s", client_address)


class EmulatorServer:
    """The emulator, serving on 127.0.0.1 from a background thread.

    Use it as a context manager, or call `start` and `stop`. Scripts added
    with `script` are tried before the default answer; `requests` lists what
    the server received, with credentials masked.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        media_check: MediaCheck | None = None,
        truth_reader: TruthReader | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.scripts = ScriptBook()
        self.requests: list[ReceivedRequest] = []
        self.media_check = media_check
        self.truth_reader = truth_reader
        self.extra_handlers: dict[str, ExtraHandler] = {}
        self.counter = itertools.count(1)
        self._profiles: dict[str, Profile] = dict(BUILTIN_PROFILES)
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------

    def start(self) -> EmulatorServer:
        """Bind the socket and serve in a daemon thread."""
        server = _Server((self.host, self.port), _Handler)
        server.emulator = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="pytest-kimi-emulator", daemon=True
        )
        self._thread.start()
        logger.info("emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            logger.info("emulator stopped")

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The server's root URL, for example `http://127.0.0.1:41234`."""
        return f"http://{self.host}:{self.port}"

    def base_url(self, profile: str = "moonshot") -> str:
        """Return the OpenAI-style base URL (ending in `/v1`) of a profile."""
        return f"{self.url}/{profile}/v1"

    # --- profiles and scripts -----------------------------------------------

    def add_profile(self, name: str, profile: Profile) -> str:
        """Register `profile` under `name` and return its base URL."""
        with self._lock:
            self._profiles[name] = profile
        return self.base_url(name)

    def profile(self, name: str) -> Profile | None:
        """Return the profile called `name`, or None."""
        with self._lock:
            return self._profiles.get(name)

    def script(
        self,
        *,
        match: Mapping[str, Any] | None = None,
        reply: ScriptedReply | Mapping[str, Any] | None = None,
        fault: Fault | Mapping[str, Any] | None = None,
        times: int | None = None,
        name: str = "",
    ) -> Script:
        """Add a scripted reply or fault; see `pytest_kimi.emulator.scripts`."""
        from pytest_kimi.emulator.scripts import script_from_dict

        raw: dict[str, Any] = {"match": dict(match or {}), "name": name}
        if reply is not None:
            raw["reply"] = reply.__dict__ if isinstance(reply, ScriptedReply) else dict(reply)
        if fault is not None:
            raw["fault"] = fault.__dict__ if isinstance(fault, Fault) else dict(fault)
        if times is not None:
            raw["times"] = times
        return self.scripts.add(script_from_dict(raw, where="kimi_emulator.script()"))

    def log(self, request: ReceivedRequest) -> None:
        """Record a received request."""
        with self._lock:
            self.requests.append(request)

    def summarize(self, body: Any, profile_name: str, thinking: bool) -> dict[str, Any]:
        """Build the request summary that script matchers read."""
        messages = [m for m in body.get("messages") or [] if isinstance(m, Mapping)]
        return {
            "text": "\n".join(message_text(m) for m in messages),
            "mode": "thinking" if thinking else "instant",
            "profile": profile_name,
            "last_role": messages[-1].get("role") if messages else None,
            "has_tools": bool(body.get("tools")),
            "model": body.get("model"),
        }

    def complete(
        self, body: Mapping[str, Any], thinking: bool, scripted: ScriptedReply | None
    ) -> Completion:
        """Return the scripted reply merged over the default answer."""
        completion = default_completion(body, thinking=thinking, truth_reader=self.truth_reader)
        if scripted is None:
            return completion
        if scripted.content is not None:
            completion.content = scripted.content
            completion.tool_calls = []
            completion.finish_reason = "stop"
        if scripted.reasoning is not None:
            completion.reasoning = scripted.reasoning
        if scripted.tool_calls is not None:
            completion.tool_calls = [
                {
                    "id": call.get("id", f"functions.{call['name']}:{i}"),
                    "name": call["name"],
                    "arguments": call["arguments"]
                    if isinstance(call.get("arguments"), str)
                    else json.dumps(call.get("arguments", {})),
                }
                for i, call in enumerate(scripted.tool_calls)
            ]
            completion.finish_reason = "tool_calls" if completion.tool_calls else "stop"
            if scripted.content is None:
                completion.content = ""
        if scripted.finish_reason is not None:
            completion.finish_reason = scripted.finish_reason
        if scripted.usage is not None:
            completion.usage = dict(scripted.usage)
        return completion

    def thinking_enabled(self, profile: Profile, body: Mapping[str, Any]) -> bool:
        """Return whether `body` turns thinking on for `profile`."""
        return thinking_enabled(profile, body)
