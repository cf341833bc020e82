"""Shared pieces of the example pack: the report folder and the needle-grid heatmap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_kimi.grounding import write_heatmap

NEEDLE_CELLS = "needle-cells"


def report_dir(config: pytest.Config) -> Path:
    """The folder for example artefacts: next to --kimi-report if given, else kimi-reports/."""
    report = config.getoption("kimi_report", default=None)
    folder = Path(report).parent if report else config.rootpath / "kimi-reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def needle_results(request: pytest.FixtureRequest) -> Path:
    """Folder where each needle-grid cell writes its pass/fail result."""
    folder = report_dir(request.config) / NEEDLE_CELLS
    folder.mkdir(exist_ok=True)
    return folder


def pytest_sessionstart(session: pytest.Session) -> None:
    """Clear the needle cells of an earlier run (on the controller only)."""
    if hasattr(session.config, "workerinput"):
        return
    folder = report_dir(session.config) / NEEDLE_CELLS
    for stale in folder.glob("*.json") if folder.is_dir() else ():
        stale.unlink()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the needle heatmap once every worker has finished."""
    if hasattr(session.config, "workerinput"):
        return
    folder = report_dir(session.config) / NEEDLE_CELLS
    cells = sorted(folder.glob("*.json")) if folder.is_dir() else []
    by_route: dict[str, dict[tuple[float, int], bool]] = {}
    for cell in cells:
        data = json.loads(cell.read_text())
        by_route.setdefault(data["target"], {})[(data["depth"], data["length"])] = data["passed"]
    for target, results in by_route.items():
        write_heatmap(
            results,
            report_dir(session.config) / f"needle-heatmap-{target}.png",
            title=f"Needle retrieval on {target} (pass/fail per depth and length)",
        )
