"""Atomic file writes: a crash leaves either the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pytest_kimi.recording.errors import CassetteWriteError

__all__ = ["write_atomic"]


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file in `path`'s folder, then rename it over `path`.

    The temporary file is in the same folder so that `os.replace` is a rename on
    one file system, which POSIX and Windows both perform atomically.

    Raises:
        CassetteWriteError: the folder cannot be created, or the write or rename failed;
            the temporary file is removed and `path` keeps its old content.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as exc:
        raise CassetteWriteError(f"cannot write {path}: {exc}", path=path) from exc
    try:
        # mkstemp creates the file readable by its owner only; cassettes are shared files.
        os.chmod(temporary, 0o644)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise CassetteWriteError(
            f"cannot write {path}: {exc}. The previous version of the file is unchanged.",
            path=path,
        ) from exc
