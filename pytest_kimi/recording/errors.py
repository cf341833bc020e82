"""Errors raised by record and replay.

KimiError
└── RecordingError            base of every record/replay failure
    ├── CassetteMissError     no recorded interaction matches a request
    ├── CassetteCorruptError  a cassette or media blob cannot be read or replayed
    └── CassetteWriteError    a cassette could not be written
"""

from __future__ import annotations

from pathlib import Path

from pytest_kimi.errors import KimiError

__all__ = ["CassetteCorruptError", "CassetteMissError", "CassetteWriteError", "RecordingError"]


class RecordingError(KimiError):
    """Base class of record and replay failures; the message names the cassette and the fix."""


class CassetteMissError(RecordingError):
    """No recorded interaction matches the request, and the record mode forbids going live."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


class CassetteCorruptError(RecordingError):
    """A cassette is not valid JSON, does not match the cassette schema, or cannot be replayed."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


class CassetteWriteError(RecordingError):
    """Writing a cassette or a media blob failed; earlier files are left as they were."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path
