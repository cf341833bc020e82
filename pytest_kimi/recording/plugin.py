"""Wire record and replay into pytest-kimi: the transport hook and the session plugin.

Emulator routes: while the record mode is the default `none` (set nowhere), an
emulator-route test calls the embedded emulator over real HTTP and records
nothing, whether or not a cassette exists, because the emulator is local and
free. When `none` is set explicitly (command line, pyproject or marker), the
test replays its cassette, so `pytest --kimi-record-mode none` passes without
the emulator, and a missing cassette fails the test as on any other route. The
other modes record emulator routes like real ones, with the provenance note
that the output is emulator output.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Generator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from pytest_kimi.config.routes import Route
from pytest_kimi.config.settings import Settings
from pytest_kimi.recording.cassette import Cassette
from pytest_kimi.recording.errors import CassetteCorruptError, RecordingError
from pytest_kimi.recording.media import MEDIA_DIRNAME, MediaStore
from pytest_kimi.recording.options import (
    RECORD_MODE_OPTION,
    RECORD_MODES,
    RecordSettings,
    load_record_settings,
    resolve_setting,
)
from pytest_kimi.recording.scan import FileLeak, scan_files, scan_roots
from pytest_kimi.recording.secrets import Redactor, secret_values
from pytest_kimi.recording.session import CassetteSession, SessionContext
from pytest_kimi.recording.traces import TRACE_POLICIES
from pytest_kimi.recording.transport import CassetteTransport
from pytest_kimi.state import STATE_KEY

__all__ = [
    "CASSETTE_DIRNAME",
    "CassetteWrapper",
    "RecordingPlugin",
    "cassette_name",
    "register_recording",
    "replay_base_url",
]

CASSETTE_DIRNAME = "cassettes"
PLUGIN_NAME = "pytest-kimi-recording"

# One session per cassette file: a test that calls several routes has several.
SESSION_KEY = pytest.StashKey[dict[Path, CassetteSession]]()
PASSED_KEY = pytest.StashKey[bool]()
PLUGIN_KEY = pytest.StashKey["RecordingPlugin"]()

_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\[\]]")
_MAX_NAME = 120


def _own_target(item: pytest.Item) -> tuple[str, str] | None:
    callspec = getattr(item, "callspec", None)
    target = callspec.params.get("_kimi_target") if callspec is not None else None
    if target is None:
        return None
    return (target.route, target.mode)


def cassette_name(nodeid: str) -> str:
    """Return the file name (without `.json`) for a test node id.

    The part after the module is kept (`TestClass.test_x[emulator-thinking]`).
    Characters unsafe in file names become `_`. When that or shortening changed
    the name, a short hash of the id is appended, so two ids never share a file.
    """
    name = nodeid.split("::", 1)[-1].replace("::", ".")
    safe = _UNSAFE.sub("_", name)
    if safe == name and len(safe) <= _MAX_NAME:
        return safe
    digest = hashlib.sha1(nodeid.encode("utf-8")).hexdigest()[:8]
    return f"{safe[:_MAX_NAME]}-{digest}"


def replay_base_url(route: Route) -> str:
    """Return a base URL for an emulator route whose calls all replay (nothing listens there).

    The `.invalid` top-level domain never resolves (RFC 2606), so a request that
    escaped the replay transport would fail instead of reaching a server.
    """
    return f"http://{route.name}.emulator.invalid/{route.name}/v1"


class CassetteWrapper:
    """The transport wrapper a test's `kimi` client gets.

    `offline` is true when the wrapper never calls the inner transport, so the
    client needs no server (the emulator need not start). `replays` is true
    when it is offline and has a cassette to replay, so a live route needs no
    API key.
    """

    def __init__(self, session: CassetteSession) -> None:
        self.session = session
        self.offline = not session.record_allowed
        self.replays = self.offline and session.existed

    def __call__(self, inner: httpx2.BaseTransport) -> httpx2.BaseTransport:
        return CassetteTransport(self.session, None if self.offline else inner)


def _marker_options(item: pytest.Item) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for marker in reversed(list(item.iter_markers("kimi"))):
        options.update(marker.kwargs)
    return options


def _checked(value: str, allowed: tuple[str, ...], what: str, nodeid: str) -> str:
    if value not in allowed:
        pytest.fail(
            f"{nodeid}: kimi marker {what}={value!r} is invalid; use one of {', '.join(allowed)}",
            pytrace=False,
        )
    return value


class RecordingPlugin:
    """Session-level record and replay work: saving cassettes and the secret scan."""

    def __init__(self, config: pytest.Config, settings: Settings, record: RecordSettings) -> None:
        self.config = config
        self.settings = settings
        self.record = record
        variables = [name for route in settings.routes.values() for name in route.key_env_names()]
        self.secret_values = secret_values(variables)
        self.redactor = Redactor.build(record.redact_headers, self.secret_values.values())
        self.leaks: list[FileLeak] = []

    # --- per test ------------------------------------------------------------------

    def cassette_path(
        self, item: pytest.Item, route: str | None = None, mode: str | None = None
    ) -> Path:
        """Return the cassette file of a test item's calls on `route` in `mode`.

        A test parametrized by the `kimi` fixture has one route and mode, already in
        its id. Any other route or mode the test calls (route comparison, migration)
        gets its own file, suffixed `@route-mode`.
        """
        module = Path(item.path)
        if self.record.directory is not None:
            try:
                relative = module.relative_to(self.config.rootpath).with_suffix("")
            except ValueError:
                relative = Path(module.stem)
            folder = self.record.directory / relative
        else:
            folder = module.parent / CASSETTE_DIRNAME / module.stem
        name = cassette_name(item.nodeid)
        if route is not None and mode is not None and _own_target(item) != (route, mode):
            name = f"{name}@{cassette_name(f'{route}-{mode}')}"
        return folder / f"{name}.json"

    def media_store(self, cassette_path: Path) -> MediaStore:
        """Return the media folder shared by all cassettes under the same root."""
        if self.record.directory is not None:
            return MediaStore(self.record.directory / MEDIA_DIRNAME)
        return MediaStore(cassette_path.parent.parent / MEDIA_DIRNAME)

    def transport_hook(self, item: pytest.Item, route: Route, mode: str) -> CassetteWrapper | None:
        """Return the cassette wrapper for this test, or None to call the emulator live."""
        options = _marker_options(item)
        record = self.record
        # Precedence, strongest first: --kimi-record-mode, then [tool.pytest_kimi.record]
        # mode, then the kimi marker's record_mode, then none.
        record_mode, source = resolve_setting(
            record.cli_mode, record.mode, options.get("record_mode"), "none"
        )
        _checked(record_mode, RECORD_MODES, "record_mode", item.nodeid)
        policy, _ = resolve_setting(
            record.cli_trace_policy, record.trace_policy, options.get("trace_policy"), "store"
        )
        _checked(policy, TRACE_POLICIES, "trace_policy", item.nodeid)

        path = self.cassette_path(item, route.name, mode)
        sessions = item.stash.setdefault(SESSION_KEY, {})
        if path in sessions:
            return CassetteWrapper(sessions[path])
        exists = path.exists()
        if record_mode == "none" and source == "default" and route.is_emulator:
            return None
        media = self.media_store(path)
        cassette = None
        if exists and record_mode != "all":
            cassette = self._load(path, media, item.nodeid)

        context = SessionContext(
            nodeid=item.nodeid,
            path=path,
            mode=record_mode,
            mode_source=source,
            trace_policy=policy,
            route=route,
            test_mode=mode,
            redactor=self.redactor,
            media=media,
        )
        session = CassetteSession(context, cassette)
        sessions[path] = session
        return CassetteWrapper(session)

    @staticmethod
    def _load(path: Path, media: MediaStore, nodeid: str) -> Cassette:
        try:
            cassette = Cassette.load(path)
            for interaction in cassette.interactions:
                media.check(interaction.request)
        except CassetteCorruptError as exc:
            raise CassetteCorruptError(
                f"{str(exc).rstrip('.')}. It was left unchanged. Restore it from version "
                f"control, or re-record it with: pytest {shlex.quote(nodeid)} "
                f"{RECORD_MODE_OPTION} all (this replaces the file).",
                path=exc.path,
            ) from None
        return cassette

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Note whether the test passed, and show record/replay errors without a traceback."""
        report = yield
        if report.when == "call":
            item.stash[PASSED_KEY] = report.passed
        if call.excinfo is not None and isinstance(call.excinfo.value, RecordingError):
            report.longrepr = str(call.excinfo.value)
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, None, None]:
        """Write the test's cassette once its fixtures (and the client) are closed."""
        try:
            return (yield)
        finally:
            sessions = item.stash.get(SESSION_KEY, {})
            if sessions:
                del item.stash[SESSION_KEY]
            for session in sessions.values():
                session.finish(passed=item.stash.get(PASSED_KEY, False))

    # --- end of session --------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Fail the run when a cassette, snapshot or report contains an API key."""
        if hasattr(self.config, "workerinput"):
            return
        explicit = [*self.record.scan]
        if self.record.directory is not None:
            explicit.append(self.record.directory)
        searched, whole = scan_roots(self.config, explicit)
        self.leaks = scan_files(searched, whole, self.secret_values)
        if self.leaks and session.exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.NO_TESTS_COLLECTED,
        ):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """List the files the secret scan found keys in."""
        if not self.leaks:
            return
        files = sorted({str(leak.path) for leak in self.leaks})
        terminalreporter.write_sep("=", "pytest-kimi secret scan failed", red=True)
        terminalreporter.write_line(
            f"{len(files)} file(s) contain an API key or a provider key token:"
        )
        for leak in self.leaks:
            terminalreporter.write_line(f"  {leak}")
        terminalreporter.write_line(
            "Remove the key from these files (cassettes are redacted again on every write; "
            "re-record with --kimi-record-mode all), and rotate the key if a file was shared."
        )


def register_recording(config: pytest.Config) -> RecordingPlugin:
    """Set up record and replay for this run; call from `pytest_configure` after the state.

    Appends the transport hook to `KimiState.transport_hooks` and registers the
    session plugin. Calling it twice returns the first plugin.

    Raises:
        pytest.UsageError: `[tool.pytest_kimi.record]` is invalid.
    """
    existing = config.stash.get(PLUGIN_KEY, None)
    if existing is not None:
        return existing
    state = config.stash[STATE_KEY]
    settings = state.settings
    source_path = Path(settings.source)
    root = source_path.parent if source_path.is_file() else config.rootpath
    record = load_record_settings(
        settings.extra.get("record", {}),
        source=settings.source,
        root=root,
        cli_mode=config.getoption("kimi_record_mode", None),
        cli_trace_policy=config.getoption("kimi_trace_policy", None),
    )
    plugin = RecordingPlugin(config, settings, record)
    state.transport_hooks.append(plugin.transport_hook)
    config.pluginmanager.register(plugin, PLUGIN_NAME)
    config.stash[PLUGIN_KEY] = plugin
    return plugin
