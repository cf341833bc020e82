"""The pytest plugin: options, the `kimi` marker, parametrization and fixtures.

Route and mode selection, from the widest to the narrowest:
- the routes and modes in `[tool.pytest_kimi]` (`default_routes`, `modes`);
- `--kimi-route` and `--kimi-mode`, which replace them for the run;
- the `kimi` marker, which narrows them for one test;
- the route's own `modes`, which drop modes the route cannot run.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from pathlib import Path
from typing import Any

import pytest

from pytest_kimi.client.client import KimiClient
from pytest_kimi.client.factory import make_client
from pytest_kimi.client.reply import Reply
from pytest_kimi.config.routes import MODES
from pytest_kimi.config.settings import Settings, load_settings
from pytest_kimi.emulator.scripts import Script, load_scripts
from pytest_kimi.errors import KimiConfigError, KimiRouteError
from pytest_kimi.fixtures import EmulatorHandle
from pytest_kimi.media.errors import CapabilitySkip
from pytest_kimi.recording import add_recording_options, register_recording
from pytest_kimi.report import ReportPlugin, add_report_options
from pytest_kimi.state import CALLS_KEY, STATE_KEY, KimiState, Target

# Feature plugins with options of their own load with this one, before options are parsed.
pytest_plugins = ["pytest_kimi.snapshot.plugin", "pytest_kimi.parity.plugin"]

ROUTE_OPTION = "--kimi-route"
MODE_OPTION = "--kimi-mode"
STREAM_OPTION = "--kimi-stream"
SCRIPT_OPTION = "--kimi-emulator-script"
CONFIG_OPTION = "--kimi-config"

MARKER_KEYWORDS = ("routes", "modes", "needs", "stream", "record_mode", "trace_policy")


def _split_names(values: Iterable[str] | None) -> list[str]:
    names: list[str] = []
    for value in values or ():
        names.extend(part.strip() for part in value.split(",") if part.strip())
    return names


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the `--kimi-*` options."""
    group = parser.getgroup("kimi", "pytest-kimi")
    group.addoption(
        ROUTE_OPTION,
        action="append",
        dest="kimi_routes",
        default=None,
        metavar="NAME[,NAME]",
        help="Run kimi tests on these routes only (repeatable or comma-separated)",
    )
    group.addoption(
        MODE_OPTION,
        action="append",
        dest="kimi_modes",
        default=None,
        metavar="MODE[,MODE]",
        help="Run kimi tests in these modes only: thinking, instant, preserve",
    )
    group.addoption(
        STREAM_OPTION,
        action="store",
        dest="kimi_stream",
        default=None,
        choices=("on", "off"),
        help="Stream every kimi call (on) or none (off), overriding the settings",
    )
    group.addoption(
        SCRIPT_OPTION,
        action="append",
        dest="kimi_emulator_scripts",
        default=None,
        metavar="FILE",
        help="JSON or TOML file of scripted emulator replies (repeatable)",
    )
    group.addoption(
        CONFIG_OPTION,
        action="store",
        dest="kimi_config",
        default=None,
        metavar="PYPROJECT",
        help="Read [tool.pytest_kimi] from this file instead of the rootdir's pyproject.toml",
    )
    add_report_options(parser)
    add_recording_options(parser)


def _pyproject(config: pytest.Config) -> Path | None:
    explicit = config.getoption("kimi_config")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise pytest.UsageError(
                f"{CONFIG_OPTION} {explicit!r}: file not found. Pass the path of a pyproject.toml."
            )
        return path
    if config.inipath is not None and config.inipath.name == "pyproject.toml":
        return config.inipath
    candidate = config.rootpath / "pyproject.toml"
    return candidate if candidate.is_file() else None


def _build_state(config: pytest.Config) -> KimiState:
    settings = load_settings(_pyproject(config))
    routes = _split_names(config.getoption("kimi_routes")) or settings.default_routes
    for name in routes:
        settings.route(name)
    modes = _split_names(config.getoption("kimi_modes")) or settings.modes
    for mode in modes:
        if mode not in MODES:
            raise KimiConfigError(
                f"unknown mode {mode!r} in {MODE_OPTION} or the modes setting: "
                f"the modes are {', '.join(MODES)}."
            )
    stream_option = config.getoption("kimi_stream")
    scripts: list[Script] = []
    script_paths = [*settings.emulator_scripts]
    script_paths += [Path(p) for p in config.getoption("kimi_emulator_scripts") or ()]
    for path in script_paths:
        scripts.extend(load_scripts(path))
    return KimiState(
        settings=settings,
        selected_routes=list(dict.fromkeys(routes)),
        selected_modes=list(dict.fromkeys(modes)),
        stream=None if stream_option is None else stream_option == "on",
        emulator_scripts=scripts,
    )


def pytest_configure(config: pytest.Config) -> None:
    """Load and validate the settings, and register the `kimi` marker."""
    config.addinivalue_line(
        "markers",
        "kimi(routes=None, modes=None, needs=None, stream=None, record_mode=None, "
        "trace_policy=None): narrow the routes and modes of a kimi test, name the "
        "capabilities it needs, and set its streaming and recording behaviour",
    )
    try:
        config.stash[STATE_KEY] = _build_state(config)
    except KimiConfigError as exc:
        raise pytest.UsageError(f"pytest-kimi: {exc}") from None
    register_recording(config)
    config.pluginmanager.register(ReportPlugin(config), "kimi-report")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the embedded emulator."""
    state = config.stash.get(STATE_KEY, None)
    if state is not None:
        state.close()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Name the routes and modes, and flag emulator output."""
    state = config.stash.get(STATE_KEY, None)
    if state is None:
        return []
    settings = state.settings
    described = []
    emulated = False
    for name in state.selected_routes:
        route = settings.routes[name]
        if route.is_emulator:
            emulated = True
            described.append(f"{name} (embedded emulator, {route.flavor} profile)")
        else:
            described.append(f"{name} ({route.flavor}, {route.host}, model {route.model})")
    lines = [
        f"pytest-kimi: kimi fixture routes: {', '.join(described)}; "
        f"modes: {', '.join(state.selected_modes)}; settings: {settings.source}"
    ]
    if emulated:
        lines.append(
            "pytest-kimi: replies from emulator routes are pytest-kimi emulator output, "
            "not Kimi K2.6 output"
        )
    return lines


def _validate_marker(marker: pytest.Mark, nodeid: str) -> dict[str, Any]:
    if marker.args:
        pytest.fail(
            f"{nodeid}: the kimi marker takes keyword arguments only "
            f"({', '.join(MARKER_KEYWORDS)}); got positional {marker.args!r}",
            pytrace=False,
        )
    unknown = sorted(set(marker.kwargs) - set(MARKER_KEYWORDS))
    if unknown:
        pytest.fail(
            f"{nodeid}: unknown kimi marker argument(s) {', '.join(unknown)}; "
            f"the kimi marker accepts {', '.join(MARKER_KEYWORDS)}",
            pytrace=False,
        )
    return dict(marker.kwargs)


def _as_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return list(value)


def _targets(state: KimiState, options: dict[str, Any], nodeid: str) -> list[Target]:
    settings: Settings = state.settings
    routes = state.selected_routes
    wanted_routes = _as_list(options.get("routes"))
    if wanted_routes is not None:
        for name in wanted_routes:
            if name not in settings.routes:
                pytest.fail(
                    f"{nodeid}: kimi marker names unknown route {name!r}; known routes: "
                    f"{', '.join(sorted(settings.routes))}",
                    pytrace=False,
                )
        routes = [name for name in routes if name in wanted_routes]
    modes = state.selected_modes
    wanted_modes = _as_list(options.get("modes"))
    if wanted_modes is not None:
        for mode in wanted_modes:
            if mode not in MODES:
                pytest.fail(
                    f"{nodeid}: kimi marker names unknown mode {mode!r}; the modes are "
                    f"{', '.join(MODES)}",
                    pytrace=False,
                )
        modes = [mode for mode in modes if mode in wanted_modes]
    return [
        Target(route, mode)
        for route in routes
        for mode in modes
        if mode in settings.routes[route].modes
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize every test that uses `kimi` over the selected routes and modes."""
    if "_kimi_target" not in metafunc.fixturenames:
        return
    state = metafunc.config.stash[STATE_KEY]
    options: dict[str, Any] = {}
    for marker in reversed(list(metafunc.definition.iter_markers("kimi"))):
        options.update(_validate_marker(marker, metafunc.definition.nodeid))
    targets = _targets(state, options, metafunc.definition.nodeid)
    if not targets:
        reason = (
            "no selected route and mode matches this test's kimi marker "
            f"(selected routes: {', '.join(state.selected_routes)}; "
            f"modes: {', '.join(state.selected_modes)})"
        )
        metafunc.parametrize(
            "_kimi_target",
            [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="unselected")],
        )
        return
    metafunc.parametrize("_kimi_target", targets, ids=[t.id for t in targets])


def kimi_marker_options(item: pytest.Item) -> dict[str, Any]:
    """Return the merged keyword arguments of the `kimi` markers on `item`."""
    options: dict[str, Any] = {}
    for marker in reversed(list(item.iter_markers("kimi"))):
        options.update(marker.kwargs)
    return options


@pytest.fixture
def _kimi_target(request: pytest.FixtureRequest) -> Target:
    """The (route, mode) pair of this test; set by parametrization."""
    param = getattr(request, "param", None)
    if param is None:
        raise pytest.UsageError(
            f"{request.node.nodeid}: _kimi_target is internal; request the kimi fixture instead."
        )
    assert isinstance(param, Target)
    return param


@pytest.fixture(scope="session")
def kimi_settings(pytestconfig: pytest.Config) -> Settings:
    """The validated `[tool.pytest_kimi]` settings of this run."""
    return pytestconfig.stash[STATE_KEY].settings


@pytest.fixture
def kimi(request: pytest.FixtureRequest, _kimi_target: Target) -> Generator[KimiClient]:
    """A client for this test's route and mode; the test runs once per pair."""
    state = request.config.stash[STATE_KEY]
    options = kimi_marker_options(request.node)
    route = state.settings.route(_kimi_target.route)
    for capability in _as_list(options.get("needs")) or ():
        if not route.supports(capability):
            pytest.skip(
                f"route {route.name!r} ({route.flavor}) does not support {capability!r}, "
                "which this test needs (kimi marker needs=...)"
            )
    client = make_client(
        request.config,
        route.name,
        _kimi_target.mode,
        item=request.node,
        stream=options.get("stream"),
    )
    yield client
    client.close()


@pytest.fixture
def kimi_emulator(request: pytest.FixtureRequest) -> Generator[EmulatorHandle]:
    """The embedded emulator: add scripts and faults, and read the requests it received.

    Scripts added here are removed when the test ends; `requests` lists only
    what arrived during this test.
    """
    state = request.config.stash[STATE_KEY]
    handle = EmulatorHandle(state.emulator())
    yield handle
    handle.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None]:
    """Turn `CapabilitySkip` from the media helpers into a skip with its reason."""
    try:
        return (yield)
    except CapabilitySkip as exc:
        pytest.skip(str(exc))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Label failures caused by a route problem, so they are not read as regressions."""
    report = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, KimiRouteError):
        error = call.excinfo.value
        report.user_properties.append(("kimi_failure_kind", "route"))
        report.sections.append(
            (
                "pytest-kimi",
                f"route problem ({error.check}) on route {error.route!r}: "
                "fix the route, not the model test",
            )
        )
    return report


def replies_of(item: pytest.Item) -> list[Reply]:
    """Return the replies the `kimi` client of `item` received."""
    return item.stash.get(CALLS_KEY, [])
