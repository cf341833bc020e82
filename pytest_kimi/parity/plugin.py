"""Hooks and fixtures for route parity, calibration, shared limits and the pre-flight.

Options:
- `--kimi-calibrate K`: run each selected kimi test K times on the reference
  route and store pass rates in the calibration file.
- `--kimi-calibration-file PATH`: where calibration is read and written
  (default: `calibration_file` in `[tool.pytest_kimi.parity]`, else
  `.kimi-calibration.json` in the rootdir).
- `--kimi-preflight`: run the conformance pack on every selected route
  before the tests, and stop the session on the first route that fails.

`[tool.pytest_kimi.parity]` keys: `reference` (route name), `routes` (list
compared by `kimi_compare`), `calibration_file`. `[tool.pytest_kimi.budget]`
keys: see `pytest_kimi.parity.limits.budget_from_settings`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_kimi.errors import KimiConfigError
from pytest_kimi.parity.calibration import (
    DEFAULT_CALIBRATION_FILE,
    KEY_PROPERTY,
    SCORE_PROPERTY,
    CalibrationRecorder,
    assert_calibrated,
    calibration_key,
)
from pytest_kimi.parity.clients import make_client
from pytest_kimi.parity.compare import QUALITY_METRICS, Comparison, compare_routes
from pytest_kimi.parity.limits import (
    BudgetExceededError,
    LimitedTransport,
    RouteLimits,
    SharedLimiter,
    TokenBudget,
    budget_from_settings,
)
from pytest_kimi.state import CALLS_KEY, STATE_KEY

if TYPE_CHECKING:
    from pytest_kimi.client.client import ContentInput, KimiClient, TransportWrapper
    from pytest_kimi.config.routes import Route
    from pytest_kimi.parity.sampling import AnswerKey

__all__ = ["PARITY_KEY", "ParityState", "RouteComparer"]

CALIBRATE_OPTION = "--kimi-calibrate"
CALIBRATION_FILE_OPTION = "--kimi-calibration-file"
PREFLIGHT_OPTION = "--kimi-preflight"
RUN_DIR_INPUT = "kimi_run_dir"
PARITY_PROPERTY = "kimi_parity"
# A failed pre-flight is a route configuration problem, reported like a usage error.
PREFLIGHT_EXIT_CODE = pytest.ExitCode.USAGE_ERROR
_PARITY_KEYS = {"reference", "routes", "calibration_file"}


@dataclass
class ParityState:
    """Per-process state of the parity plugin."""

    run_dir: Path
    owns_run_dir: bool
    limiter: SharedLimiter
    budget: TokenBudget | None
    reference: str | None
    compare_routes: list[str]
    calibration_file: Path
    calibrate: int = 0
    recorder: CalibrationRecorder | None = None
    comparisons: list[dict[str, Any]] = field(default_factory=list)


PARITY_KEY = pytest.StashKey[ParityState]()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the calibration and pre-flight options."""
    group = parser.getgroup("kimi", "pytest-kimi")
    group.addoption(
        CALIBRATE_OPTION,
        action="store",
        dest="kimi_calibrate",
        type=int,
        default=0,
        metavar="K",
        help="Run each selected kimi test K times on the reference route and store pass rates",
    )
    group.addoption(
        CALIBRATION_FILE_OPTION,
        action="store",
        dest="kimi_calibration_file",
        default=None,
        metavar="PATH",
        help="Calibration JSON file (default: .kimi-calibration.json in the rootdir)",
    )
    group.addoption(
        PREFLIGHT_OPTION,
        action="store_true",
        dest="kimi_preflight",
        default=False,
        help="Run the K2.6 conformance checks on each selected route first; stop if one fails",
    )


def _parity_table(config: pytest.Config) -> dict[str, Any]:
    table = config.stash[STATE_KEY].settings.extra.get("parity") or {}
    unknown = sorted(set(table) - _PARITY_KEYS)
    if unknown:
        raise KimiConfigError(
            f"unknown key(s) {', '.join(unknown)} in [tool.pytest_kimi.parity]: the keys are "
            f"{', '.join(sorted(_PARITY_KEYS))}."
        )
    return dict(table)


def _build_parity_state(config: pytest.Config) -> ParityState:
    state = config.stash[STATE_KEY]
    table = _parity_table(config)
    if _is_worker(config):
        run_dir, owns = Path(config.workerinput[RUN_DIR_INPUT]), False  # type: ignore[attr-defined]
    else:
        run_dir, owns = Path(tempfile.mkdtemp(prefix="pytest-kimi-run-")), True
    reference = table.get("reference")
    routes = list(table.get("routes") or [])
    for name in [*routes, *([reference] if reference else [])]:
        state.settings.route(name)
    option_file = config.getoption("kimi_calibration_file")
    calibration_file = Path(
        option_file or table.get("calibration_file") or DEFAULT_CALIBRATION_FILE
    )
    if not calibration_file.is_absolute():
        calibration_file = config.rootpath / calibration_file
    calibrate = int(config.getoption("kimi_calibrate") or 0)
    if calibrate < 0:
        raise KimiConfigError(f"{CALIBRATE_OPTION} must be >= 1, got {calibrate}.")
    return ParityState(
        run_dir=run_dir,
        owns_run_dir=owns,
        limiter=SharedLimiter(run_dir),
        budget=budget_from_settings(state.settings.extra.get("budget"), run_dir),
        reference=reference,
        compare_routes=routes,
        calibration_file=calibration_file,
        calibrate=calibrate,
    )


def _reference_route(config: pytest.Config, parity: ParityState) -> str:
    return parity.reference or config.stash[STATE_KEY].selected_routes[0]


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Create the shared run directory, the limiter, the budget and the calibration recorder."""
    if STATE_KEY not in config.stash:
        return
    try:
        parity = _build_parity_state(config)
    except KimiConfigError as exc:
        raise pytest.UsageError(f"pytest-kimi: {exc}") from None
    config.stash[PARITY_KEY] = parity
    if parity.calibrate and not _is_worker(config):
        parity.recorder = CalibrationRecorder(
            path=parity.calibration_file,
            reference_route=_reference_route(config, parity),
            runs_requested=parity.calibrate,
        )
    config.stash[STATE_KEY].transport_hooks.insert(0, _limit_hook(parity))
    if not _is_worker(config):
        config.pluginmanager.register(_ControllerCollector(parity), "kimi-parity-collector")


class _ControllerCollector:
    """Collects calibration outcomes and parity results from every worker's reports.

    Registered on the controller only (or the single process without xdist),
    where `pytest_runtest_logreport` sees the reports of every worker.
    """

    def __init__(self, parity: ParityState) -> None:
        self.parity = parity

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record one report's calibration outcome and parity result."""
        parity = self.parity
        properties = dict(report.user_properties)
        if report.when == "call" and PARITY_PROPERTY in properties:
            parity.comparisons.extend(
                dict(value)  # type: ignore[call-overload]
                for name, value in report.user_properties
                if name == PARITY_PROPERTY
            )
        key = properties.get(KEY_PROPERTY)
        if parity.recorder is None or key is None:
            return
        if report.when == "call" or (report.when == "setup" and report.failed):
            scores = [
                float(value)  # type: ignore[arg-type]
                for name, value in report.user_properties
                if name == SCORE_PROPERTY
            ]
            parity.recorder.record(str(key), report.passed, report.duration, scores)


def _limit_hook(
    parity: ParityState,
) -> Callable[[pytest.Item, Route, str], TransportWrapper | None]:
    def hook(item: pytest.Item, route: Route, mode: str) -> TransportWrapper | None:
        limited = not route.is_emulator or route.requests_per_minute is not None
        if not limited and parity.budget is None:
            return None
        limits = RouteLimits(
            max_concurrency=route.max_concurrency if limited else 1_000_000,
            requests_per_minute=route.requests_per_minute,
        )

        def wrap(inner: Any) -> Any:
            return LimitedTransport(
                inner,
                route=route.name,
                limiter=parity.limiter,
                limits=limits,
                budget=parity.budget,
            )

        return wrap

    return hook


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Hand the shared run directory to each xdist worker."""
    parity = node.config.stash.get(PARITY_KEY, None)
    if parity is not None:
        node.workerinput[RUN_DIR_INPUT] = str(parity.run_dir)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the run directory this process created."""
    parity = config.stash.get(PARITY_KEY, None)
    if parity is not None and parity.owns_run_dir:
        shutil.rmtree(parity.run_dir, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Run the pre-flight on the controller before any worker starts."""
    config = session.config
    if not config.getoption("kimi_preflight") or _is_worker(config):
        return
    if STATE_KEY not in config.stash:
        return
    from pytest_kimi.conformance.preflight import preflight_message

    message = preflight_message(config)
    if message is not None:
        pytest.exit(message, returncode=PREFLIGHT_EXIT_CODE)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Repeat every kimi test K times under `--kimi-calibrate K`."""
    parity = metafunc.config.stash.get(PARITY_KEY, None)
    if parity is None or not parity.calibrate or "_kimi_target" not in metafunc.fixturenames:
        return
    metafunc.fixturenames.append("_kimi_calibration_run")
    runs = list(range(parity.calibrate))
    metafunc.parametrize(
        "_kimi_calibration_run", runs, ids=[f"calib{run}" for run in runs], indirect=True
    )


@pytest.fixture
def _kimi_calibration_run(request: pytest.FixtureRequest) -> int:
    """Return the repeat number of a calibration run, set by parametrization."""
    return int(request.param)


def _target_route(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    target = callspec.params.get("_kimi_target") if callspec is not None else None
    return getattr(target, "route", None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--kimi-calibrate`, keep only the reference route's runs."""
    parity = config.stash.get(PARITY_KEY, None)
    if parity is None or not parity.calibrate:
        return
    reference = _reference_route(config, parity)
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        route = _target_route(item)
        (drop if route is not None and route != reference else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _stop_for_budget(item: pytest.Item, parity: ParityState) -> str | None:
    if parity.budget is None:
        return None
    message = parity.budget.exceeded()
    if message is not None:
        item.session.shouldstop = message
    return message


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip when the budget is used up, and tag calibration runs with their key."""
    parity = item.config.stash.get(PARITY_KEY, None)
    if parity is None:
        return
    message = _stop_for_budget(item, parity)
    if message is not None:
        pytest.skip(message)
    if parity.calibrate and _target_route(item) is not None:
        key = calibration_key(item.nodeid, _target_route(item))
        item.user_properties.append((KEY_PROPERTY, key))


def _budget_error(error: BaseException | None) -> BudgetExceededError | None:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, BudgetExceededError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Report a test whose request the budget refused as skipped, not failed."""
    report = yield
    refused = _budget_error(call.excinfo.value) if call.excinfo is not None else None
    if refused is not None:
        item.session.shouldstop = str(refused)
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {refused}")
    return report


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Charge the test's replies to the run's budget and stop the run once it is used up."""
    parity = item.config.stash.get(PARITY_KEY, None)
    if parity is None or parity.budget is None:
        return
    for reply in item.stash.get(CALLS_KEY, []):
        parity.budget.add(reply.usage.prompt_tokens or 0, reply.usage.completion_tokens or 0)
    item.stash[CALLS_KEY] = []
    _stop_for_budget(item, parity)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the calibration file on the controller."""
    parity = session.config.stash.get(PARITY_KEY, None)
    if parity is not None and parity.recorder is not None and parity.recorder.outcomes:
        parity.recorder.write()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Report the calibration file and the overall route parity of this run."""
    parity = config.stash.get(PARITY_KEY, None)
    if parity is None:
        return
    if parity.recorder is not None and parity.recorder.outcomes:
        terminalreporter.write_sep("-", "pytest-kimi calibration")
        terminalreporter.write_line(
            f"{len(parity.recorder.outcomes)} test(s) calibrated on route "
            f"{parity.recorder.reference_route!r}; written to {parity.recorder.path}"
        )
    if parity.comparisons:
        terminalreporter.write_sep("-", "pytest-kimi route parity")
        for line in overall_parity(parity.comparisons):
            terminalreporter.write_line(line)


def overall_parity(comparisons: Sequence[Mapping[str, Any]]) -> list[str]:
    """Return one line per route with each quality metric averaged over `comparisons`."""
    totals: dict[str, dict[str, list[float]]] = {}
    references = {str(comparison.get("reference")) for comparison in comparisons}
    for comparison in comparisons:
        for route, metrics in comparison["routes"].items():
            bucket = totals.setdefault(route, {metric: [] for metric in QUALITY_METRICS})
            for metric in QUALITY_METRICS:
                if metrics.get(metric) is not None:
                    bucket[metric].append(float(metrics[metric]))
    lines = [f"{len(comparisons)} comparison(s); mean per route:"]
    for route, bucket in totals.items():
        shown = ", ".join(
            f"{metric} {sum(values) / len(values):.3f}" if values else f"{metric} -"
            for metric, values in bucket.items()
        )
        label = f"{route} (reference, scored against itself)" if route in references else route
        lines.append(f"  {label}: {shown}")
    return lines


class RouteComparer:
    """The `kimi_compare` fixture: call it to compare routes on one request."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request
        self.comparisons: list[Comparison] = []

    def _routes(self, routes: Sequence[str] | None, reference: str | None) -> tuple[list[str], str]:
        config = self._request.config
        parity = config.stash[PARITY_KEY]
        names = list(routes or parity.compare_routes or config.stash[STATE_KEY].selected_routes)
        chosen = reference or parity.reference or names[0]
        if chosen not in names:
            names.insert(0, chosen)
        if len(names) < 2:
            raise KimiConfigError(
                f"kimi_compare needs at least two routes, got {names}: pass routes=[...] or set "
                "routes in [tool.pytest_kimi.parity]."
            )
        return names, chosen

    def __call__(
        self,
        prompt: ContentInput,
        *,
        routes: Sequence[str] | None = None,
        reference: str | None = None,
        mode: str = "thinking",
        tools: Sequence[Mapping[str, Any]] | None = None,
        repeats: int = 1,
        answer: AnswerKey = None,
        **chat_fields: Any,
    ) -> Comparison:
        """Send `prompt` to every route and return the scored `Comparison`.

        Routes default to `routes` in `[tool.pytest_kimi.parity]`, then the
        selected routes; the reference defaults to `reference` there, then
        the first route. A live route without an API key skips the test.
        """
        config = self._request.config
        names, chosen = self._routes(routes, reference)
        settings = config.stash[STATE_KEY].settings
        for name in names:
            route = settings.route(name)
            if not route.is_emulator and route.requires_key and route.api_key() is None:
                pytest.skip(
                    f"kimi_compare: route {name!r} needs an API key "
                    f"({' or '.join(route.key_env_names())} is not set)"
                )
        clients: dict[str, KimiClient] = {
            name: make_client(config, name, mode, item=self._request.node) for name in names
        }
        try:
            comparison = compare_routes(
                clients,
                prompt,
                reference=chosen,
                tools=tools,
                repeats=repeats,
                answer=answer,
                **chat_fields,
            )
        finally:
            for client in clients.values():
                client.close()
        self.comparisons.append(comparison)
        self._request.node.user_properties.append((PARITY_PROPERTY, comparison.as_dict()))
        return comparison


@pytest.fixture
def kimi_compare(request: pytest.FixtureRequest) -> RouteComparer:
    """Compare routes on one request: `kimi_compare(prompt, routes=[...], reference=...)`."""
    return RouteComparer(request)


class CalibrationHandle:
    """The `kimi_calibration` fixture: record scores and assert against the stored rates."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request

    @property
    def key(self) -> str:
        """This test's calibration key."""
        node = self._request.node
        return calibration_key(node.nodeid, _target_route(node))

    def record_score(self, value: float) -> None:
        """Record a score from 0 to 1 for this run (stored under `score` when calibrating)."""
        self._request.node.user_properties.append((SCORE_PROPERTY, float(value)))

    def assert_rate(self, observed: float, *, k: float = 2.0, metric: str = "pass_rate") -> None:
        """Fail when `observed` is below this test's calibrated value minus k standard errors."""
        __tracebackhide__ = True
        parity = self._request.config.stash[PARITY_KEY]
        assert_calibrated(self.key, observed, path=parity.calibration_file, k=k, metric=metric)


@pytest.fixture
def kimi_calibration(request: pytest.FixtureRequest) -> CalibrationHandle:
    """This test's calibration: `record_score(x)` and `assert_rate(observed)`."""
    return CalibrationHandle(request)
