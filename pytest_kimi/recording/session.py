"""One test's cassette: matching requests, collecting new recordings, and saving.

A `CassetteSession` lives for one test item. The transport calls `take` for a
recorded response and, when the record mode allows, passes new exchanges to
`start_recording` and `complete`. At teardown the plugin calls `finish`,
which writes the cassette when something changed.
"""

from __future__ import annotations

import copy
import datetime
import importlib.metadata
import json
import logging
import shlex
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2

from pytest_kimi.config.routes import Route
from pytest_kimi.recording.cassette import Cassette, Interaction, match_key
from pytest_kimi.recording.errors import CassetteMissError, RecordingError
from pytest_kimi.recording.files import write_atomic
from pytest_kimi.recording.matching import canonical, differences
from pytest_kimi.recording.media import MediaStore
from pytest_kimi.recording.options import RECORD_MODE_OPTION
from pytest_kimi.recording.secrets import Redactor
from pytest_kimi.recording.traces import apply_stream_trace_policy, apply_trace_policy

__all__ = ["CassetteSession", "SessionContext"]

logger = logging.getLogger("pytest_kimi.recording")

EMULATOR_HEADER = "x-pytest-kimi-emulator"
EMULATOR_NOTE = "emulator output, not Kimi K2.6 output"

# Request headers that only describe the client and the connection (versions, sizes, pooling).
_NOISY_REQUEST_HEADERS = frozenset(
    {"accept", "accept-encoding", "connection", "content-length", "host", "user-agent"}
)
# Response headers worth keeping; hop-by-hop, date and size headers are left out.
_KEPT_RESPONSE_HEADERS = frozenset(
    {
        "content-type",
        "retry-after",
        "retry-after-ms",
        "x-request-id",
        "request-id",
        "openai-model",
        "msh-request-id",
        EMULATOR_HEADER,
    }
)
_KEPT_RESPONSE_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")

_MODE_SOURCES = {
    "cli": f"from {RECORD_MODE_OPTION}",
    "pyproject": "from [tool.pytest_kimi.record] mode",
    "marker": "from the kimi marker's record_mode",
    "default": "the default",
}


def plugin_version() -> str:
    """Return the installed pytest-kimi version, or `unknown` when it is not installed."""
    try:
        return importlib.metadata.version("pytest-kimi")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()


def kept_response_headers(headers: httpx2.Headers) -> dict[str, str]:
    """Return the response headers a cassette stores, with lower-case names."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in _KEPT_RESPONSE_HEADERS or lowered.startswith(_KEPT_RESPONSE_PREFIXES):
            kept[lowered] = value
    return kept


@dataclass(frozen=True)
class SessionContext:
    """The fixed facts of one test's session: the cassette path, record mode and policies."""

    nodeid: str
    path: Path
    mode: str
    mode_source: str
    trace_policy: str
    route: Route
    test_mode: str
    redactor: Redactor
    media: MediaStore


class CassetteSession:
    """Replay and recording state of one test's cassette."""

    def __init__(self, context: SessionContext, cassette: Cassette | None) -> None:
        self.context = context
        self.cassette = cassette
        self.existed = cassette is not None
        self.recorded: list[Interaction] = []
        self.errors: list[str] = []
        self.replayed = 0
        self._played: set[int] = set()
        self._lock = threading.Lock()
        self._index: dict[str, deque[int]] = {}
        for position, interaction in enumerate(cassette.interactions if cassette else ()):
            self._index.setdefault(interaction.key, deque()).append(position)
        self._base_path = self._route_base_path(context.route)

    @staticmethod
    def _route_base_path(route: Route) -> str:
        if route.is_emulator:
            # The embedded emulator serves each route's profile at /<route name>/v1.
            return f"/{route.name}/v1/"
        return urlsplit(route.base_url).path.rstrip("/") + "/"

    @property
    def replay_allowed(self) -> bool:
        """Whether requests are looked up in the cassette (every mode but `all`)."""
        return self.context.mode != "all" and self.cassette is not None

    @property
    def record_allowed(self) -> bool:
        """Whether a request with no recording may go to the server and be recorded."""
        mode = self.context.mode
        return mode in ("new_episodes", "all") or (mode == "once" and not self.existed)

    # --- describing requests ----------------------------------------------------

    def _host(self, url: httpx2.URL) -> str:
        if self.context.route.is_emulator:
            return self.context.route.host
        return f"{url.host}:{url.port}" if url.port else url.host

    def _path(self, url: httpx2.URL) -> str:
        path = url.path
        return path[len(self._base_path) :] if path.startswith(self._base_path) else path

    def normalize_json(self, value: Any, raw: bytes, *, write_media: bool) -> Any:
        """Return the stored form of a JSON body: media by hash, trace policy, secrets out."""
        if b"base64" in raw:
            value = self.context.media.extract(value, write=write_media)
        if self.context.trace_policy != "store" and (b"reasoning" in raw or b"thinking" in raw):
            value = apply_trace_policy(copy.deepcopy(value), self.context.trace_policy)
        redactor = self.context.redactor
        if redactor.needs_redaction(raw.decode("utf-8", "replace")):
            value = redactor.json(value)
        return value

    def describe(self, request: httpx2.Request) -> dict[str, Any]:
        """Return the stored form of an outgoing request."""
        redactor = self.context.redactor
        headers = {
            name.lower(): value
            for name, value in request.headers.items()
            if name.lower() not in _NOISY_REQUEST_HEADERS
            and not name.lower().startswith("x-stainless-")
        }
        described: dict[str, Any] = {
            "method": request.method,
            "route": self.context.route.name,
            "host": self._host(request.url),
            "path": self._path(request.url),
            "query": redactor.query(request.url.query.decode("ascii", "replace")),
            "headers": redactor.headers(headers),
        }
        raw = request.read()
        if raw:
            try:
                described["json"] = self.normalize_json(json.loads(raw), raw, write_media=False)
            except (json.JSONDecodeError, UnicodeDecodeError):
                described["text"] = redactor.text(raw.decode("utf-8", "replace"))
        return described

    # --- replay ----------------------------------------------------------------

    def take(self, described: dict[str, Any]) -> Interaction | None:
        """Return the first unplayed recording that matches, marking it played."""
        if not self.replay_allowed or self.cassette is None:
            return None
        key = canonical(match_key(described))
        with self._lock:
            positions = self._index.get(key)
            if not positions:
                return None
            position = positions.popleft()
            self._played.add(position)
            self.replayed += 1
        logger.info(
            "replayed %s %s for %s from %s",
            described["method"],
            described["path"],
            self.context.nodeid,
            self.context.path,
        )
        return self.cassette.interactions[position]

    def miss_error(self, described: dict[str, Any]) -> CassetteMissError:
        """Build the error for a request that has no recording and may not go live."""
        context = self.context
        lines = [
            "pytest-kimi: no recorded interaction matches this request, and no request was "
            "sent to the network.",
            f"  test: {context.nodeid}",
        ]
        if self.cassette is None:
            lines.append(f"  cassette: {context.path} (missing)")
        else:
            lines.append(
                f"  cassette: {context.path} ({len(self.cassette.interactions)} interactions)"
            )
        lines.append(f"  record mode: {context.mode} ({_MODE_SOURCES[context.mode_source]})")
        lines.append(
            f"  request: {described['method']} {described['path']} on route "
            f"{described['route']!r} (host {described['host']})"
        )
        lines.extend(self._closest_lines(described))
        mode = "once" if self.cassette is None else "new_episodes"
        lines.append("To record it, run:")
        lines.append(f"  pytest {shlex.quote(context.nodeid)} {RECORD_MODE_OPTION} {mode}")
        if self.cassette is not None:
            lines.append(f"(or {RECORD_MODE_OPTION} all to re-record the whole cassette)")
        return CassetteMissError("\n".join(lines), path=context.path)

    def _closest_lines(self, described: dict[str, Any]) -> list[str]:
        if self.cassette is None or not self.cassette.interactions:
            return []
        wanted = match_key(described)
        position = 0
        found: list[str] | None = None
        for index, interaction in enumerate(self.cassette.interactions):
            candidate = differences(match_key(interaction.request), wanted)
            if found is None or len(candidate) < len(found):
                position, found = index, candidate
        assert found is not None
        if not found:
            return [
                f"Interaction {position + 1} matches, but every matching recording was already "
                "played: each recording replays once per test, and this request was sent more "
                "often than when the test was recorded."
            ]
        lines = [f"The closest recorded request is interaction {position + 1}; it differs at:"]
        lines.extend(f"  {line}" for line in found)
        return lines

    # --- recording ---------------------------------------------------------------

    def start_recording(self, described: dict[str, Any], raw: bytes) -> Interaction:
        """Add a pending interaction for a request about to go to the server."""
        request = dict(described)
        if "json" in request:
            # Normalize again with blob writing on, so the media files exist.
            request["json"] = self.normalize_json(json.loads(raw), raw, write_media=True)
        interaction = Interaction(request=request, recorded_at=_now())
        with self._lock:
            self.recorded.append(interaction)
        return interaction

    def complete(self, interaction: Interaction, response: dict[str, Any]) -> None:
        """Store the response (or transport error) of a pending interaction."""
        headers = response.get("headers") or {}
        interaction.emulator = headers.get(EMULATOR_HEADER) == "1"
        interaction.response = response
        logger.info(
            "recorded %s %s for %s into %s",
            interaction.request["method"],
            interaction.request["path"],
            self.context.nodeid,
            self.context.path,
        )

    def discard(self, interaction: Interaction, message: str) -> None:
        """Drop a pending interaction that cannot be stored, keeping `message` as an error."""
        with self._lock:
            if interaction in self.recorded:
                self.recorded.remove(interaction)
            self.errors.append(message)

    # --- saving ------------------------------------------------------------------

    def _interactions_to_write(self, passed: bool) -> list[Interaction] | None:
        finished = [item for item in self.recorded if item.response is not None]
        unfinished = len(self.recorded) - len(finished)
        if unfinished:
            logger.warning(
                "%s: %d recorded exchange(s) never finished (a response left unread); "
                "they are not saved",
                self.context.nodeid,
                unfinished,
            )
        mode = self.context.mode
        if mode in ("all", "once"):
            return finished or None
        if mode != "new_episodes" or self.cassette is None:
            return finished or None
        old = self.cassette.interactions
        # Prune recordings this test no longer uses, but only after a passing run:
        # a test that failed half-way did not send all of its requests.
        kept = [item for i, item in enumerate(old) if i in self._played] if passed else list(old)
        if not finished and len(kept) == len(old):
            return None
        return (kept + finished) or None

    def _sanitize(self, interaction: Interaction) -> dict[str, Any]:
        redactor = self.context.redactor
        policy = self.context.trace_policy
        request = copy.deepcopy(interaction.request)
        request["headers"] = redactor.headers(request.get("headers") or {})
        request["query"] = redactor.query(request.get("query", ""))
        if "json" in request:
            body = self.context.media.extract(request["json"], write=True)
            request["json"] = redactor.json(apply_trace_policy(body, policy))
        if "text" in request:
            request["text"] = redactor.text(request["text"])
        response = copy.deepcopy(interaction.response or {})
        if "headers" in response:
            response["headers"] = redactor.headers(response["headers"])
        if "json" in response:
            response["json"] = redactor.json(apply_trace_policy(response["json"], policy))
        if "events" in response:
            apply_stream_trace_policy(response["events"], policy)
            response["events"] = redactor.events(response["events"])
        for name in ("text", "error", "stream_error"):
            if name in response:
                response[name] = redactor.json(response[name])
        return {
            "request": request,
            "response": response,
            "recorded_at": interaction.recorded_at,
            "emulator": interaction.emulator,
        }

    def _provenance(self, interactions: list[Interaction]) -> dict[str, Any]:
        route = self.context.route
        emulator = route.is_emulator or any(item.emulator for item in interactions)
        provenance: dict[str, Any] = {
            "route": route.name,
            "flavor": route.flavor,
            "host": route.host,
            "model": route.model,
            "mode": self.context.test_mode,
            "test": self.context.nodeid,
            "plugin_version": plugin_version(),
            "recorded_at": _now(),
            "record_mode": self.context.mode,
            "trace_policy": self.context.trace_policy,
            "emulator": emulator,
        }
        if emulator:
            provenance["note"] = EMULATOR_NOTE
        return provenance

    def finish(self, *, passed: bool) -> Path | None:
        """Write the cassette if this test changed it, and return its path.

        Every interaction is redacted and put through the trace policy on every
        write, including the ones loaded from an older file.

        Raises:
            CassetteWriteError: the file could not be written; the old file is intact.
            RecordingError: a response could not be recorded (for example an empty
                event stream); the other interactions are still written.
        """
        interactions = self._interactions_to_write(passed)
        written: Path | None = None
        if interactions is not None:
            stored = [self._sanitize(item) for item in interactions]
            cassette = Cassette(
                path=self.context.path,
                provenance=self._provenance(interactions),
                interactions=[
                    Interaction(
                        request=raw["request"],
                        response=raw["response"],
                        recorded_at=raw["recorded_at"],
                        emulator=raw["emulator"],
                    )
                    for raw in stored
                ],
            )
            write_atomic(self.context.path, cassette.dumps().encode("utf-8"))
            written = self.context.path
        if self.errors:
            raise RecordingError(f"{self.context.nodeid}: " + "; ".join(self.errors))
        return written
