"""Exceptions raised by `pytest_kimi.media`.

Hierarchy::

    ValueError
    └── MediaError          an image or video could not be read, converted or encoded
    Exception
    └── CapabilitySkip      the route cannot take this input; the plugin turns it into a skip
"""

from __future__ import annotations

__all__ = ["CapabilitySkip", "MediaError"]


class MediaError(ValueError):
    """An image or video could not be read, converted or encoded.

    The message names the source (a path, ``<bytes>``, ``<array>`` or ``<image>``),
    the reason and the fix.
    """

    def __init__(self, source: str, reason: str, fix: str) -> None:
        self.source = source
        self.reason = reason
        self.fix = fix
        super().__init__(f"{source}: {reason}. {fix}")


class CapabilitySkip(Exception):
    """The route cannot take this media input, so the test should be skipped.

    ``str(exc)`` is the skip reason, which names the route capability that is missing.
    """
