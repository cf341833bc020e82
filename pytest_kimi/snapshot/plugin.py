"""pytest hooks of the snapshot package: failure explanations and an xdist safety check."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import nullcontext
from typing import Any

import pytest
import syrupy.utils
from syrupy.assertion import SnapshotAssertion
from syrupy.terminal import disable_color

from pytest_kimi.snapshot.assertion import KimiSnapshot
from pytest_kimi.snapshot.extension import compare_records, explain_verdict

__all__ = ["check_snapshot_update_safe", "pytest_assertrepr_compare", "pytest_configure"]


def check_snapshot_update_safe(config: pytest.Config) -> None:
    """Reject `--snapshot-update` with xdist workers when syrupy cannot lock amber files.

    syrupy 5 and later lock amber writes under pytest-xdist (see
    syrupy-project/syrupy#1237). Without the lock, workers race on the
    read-modify-write of a shared `.ambr` file and entries are lost while the
    run still passes.

    Raises:
        pytest.UsageError: snapshots would be updated by several workers without locking.
    """
    if not getattr(config.option, "update_snapshots", False):
        return
    if hasattr(syrupy.utils, "exclusive_file_lock"):
        return
    workers = getattr(config.option, "numprocesses", None)
    if workers in (None, 0):
        return
    raise pytest.UsageError(
        f"--snapshot-update with -n {workers} can lose snapshot entries: the installed "
        "syrupy does not lock amber files between pytest-xdist workers. Run "
        "'pytest --snapshot-update -n 0', or upgrade syrupy to a version with "
        "pytest-xdist write locking."
    )


def pytest_configure(config: pytest.Config) -> None:
    """Check the snapshot settings once, before collection.

    https://docs.pytest.org/en/stable/reference/reference.html#pytest.hookspec.pytest_configure
    """
    check_snapshot_update_safe(config)


@pytest.hookimpl(wrapper=True)
def pytest_assertrepr_compare(
    config: pytest.Config, op: str, left: Any, right: Any
) -> Generator[None, list[list[str]], list[list[str]]]:
    """Add the policy, score and detail of each failing field to a snapshot diff.

    syrupy renders the text diff. This wrapper inserts the field verdicts after
    its header line, and renders the diff itself for `kimi_snapshot` targets,
    which syrupy does not recognise. pytest shows the first non-empty result.

    https://docs.pytest.org/en/stable/reference/reference.html#pytest.hookspec.pytest_assertrepr_compare
    """
    results = yield
    assertion = _find_assertion(left, right)
    if assertion is None or not assertion.num_executions:
        return results
    position = next((index for index, lines in enumerate(results) if lines), None)
    if position is None:
        results = [_render_diff(config, op, assertion)]
        position = 0
    lines = list(results[position])
    result = assertion.executions[assertion.num_executions - 1]
    if result.success or result.recalled_data is None or result.asserted_data is None:
        return results
    verdict = compare_records(str(result.recalled_data), str(result.asserted_data))
    if not verdict.fields:
        return results
    results[position] = [lines[0], *explain_verdict(verdict), *lines[1:]]
    return results


def _render_diff(config: pytest.Config, op: str, assertion: SnapshotAssertion) -> list[str]:
    colors = nullcontext() if not config.option.no_colors else disable_color()
    with colors:
        header = f"[+ received] {op} [- {assertion.name}]"
        return [header, *assertion.get_assert_diff(diff_mode=config.option.diff_mode)]


def _find_assertion(left: Any, right: Any) -> SnapshotAssertion | None:
    for side in (left, right):
        if isinstance(side, KimiSnapshot):
            return side.snapshot
        if isinstance(side, SnapshotAssertion):
            return side
    return None
