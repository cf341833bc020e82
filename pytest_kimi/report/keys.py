"""Stash keys shared between the plugin and the report plugin."""

from __future__ import annotations

from pytest_kimi.state import CALLS_KEY

__all__ = ["CALLS_KEY"]
