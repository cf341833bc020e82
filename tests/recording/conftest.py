"""Fixtures for record/replay plugin tests."""

from __future__ import annotations

import pytest
from recording_helpers import Project


@pytest.fixture
def project(pytester: pytest.Pytester) -> Project:
    """A pytester project with emulator routes kimi, vllm, sglang and gateway."""
    return Project(pytester)
