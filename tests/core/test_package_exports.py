"""The package's public names."""

from __future__ import annotations

import pytest_kimi


def test_all_is_sorted_and_complete() -> None:
    assert pytest_kimi.__all__ == sorted(pytest_kimi.__all__)
    for name in pytest_kimi.__all__:
        assert hasattr(pytest_kimi, name), name


def test_error_tree() -> None:
    assert issubclass(pytest_kimi.HistoryProtocolError, pytest_kimi.KimiAPIError)
    assert issubclass(pytest_kimi.KimiRouteError, AssertionError)
    assert issubclass(pytest_kimi.ContextBudgetError, pytest_kimi.KimiConfigError)


def test_test_module_names_are_unique() -> None:
    # Test folders have no __init__.py, so two modules with one basename clash at import.
    from collections import Counter
    from pathlib import Path

    tests = Path(__file__).resolve().parents[1]
    names = Counter(path.name for path in tests.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
