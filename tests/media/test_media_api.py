from __future__ import annotations

import importlib

import pytest

import pytest_kimi.media as media

MODULES = ["errors", "generators", "history", "images", "mime", "parts", "validation", "video"]


def test_all_sorted_and_importable() -> None:
    assert media.__all__ == sorted(media.__all__)
    for name in media.__all__:
        assert hasattr(media, name), name


@pytest.mark.parametrize("module", MODULES)
def test_submodule_all_names_exist(module: str) -> None:
    loaded = importlib.import_module(f"pytest_kimi.media.{module}")

    for name in loaded.__all__:
        assert hasattr(loaded, name), name


def test_media_error_is_value_error() -> None:
    error = media.MediaError("<bytes>", "bad", "Fix it.")

    assert isinstance(error, ValueError)
    assert str(error) == "<bytes>: bad. Fix it."
