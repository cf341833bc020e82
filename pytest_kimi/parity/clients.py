"""Client construction for parity checks; see `pytest_kimi.client.factory`."""

from __future__ import annotations

from pytest_kimi.client.factory import make_client

__all__ = ["make_client"]
