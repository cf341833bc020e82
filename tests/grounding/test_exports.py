from __future__ import annotations

import pytest_kimi.grounding as grounding


def test_all_is_sorted_and_complete() -> None:
    public = {
        name
        for name, value in vars(grounding).items()
        if not name.startswith("_")
        and not isinstance(value, type(grounding))
        and name != "annotations"
    }

    assert grounding.__all__ == sorted(grounding.__all__)
    assert set(grounding.__all__) == public
