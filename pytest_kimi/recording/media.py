"""Store media out of line: each base64 payload becomes a file named by its sha256.

A request part such as `{"image_url": {"url": "data:image/png;base64,iVBOR..."}}` is
written to the cassette as `{"image_url": {"url": "media:image/png;sha256=<hex>"}}`
and the decoded bytes go to `<cassette root>/_media/<hex>.png`, so two tests that send
the same image share one blob and the cassette stays small and diffable. The same
happens to Anthropic-style `{"type": "base64", "media_type": ..., "data": ...}` sources.

The hash is over the decoded bytes, so a request whose media differs by one byte
never matches a recording of another image.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from pathlib import Path
from typing import Any

from pytest_kimi.recording.errors import CassetteCorruptError
from pytest_kimi.recording.files import write_atomic

__all__ = ["MEDIA_DIRNAME", "MediaStore", "media_refs"]

MEDIA_DIRNAME = "_media"

_DATA_URL = re.compile(r"data:(?P<mime>[\w.+-]+/[\w.+-]+)(?:;[^;,]*)*;base64,(?P<data>.*)", re.S)
_MEDIA_REF = re.compile(r"media:(?P<mime>[\w.+-]+/[\w.+-]+);sha256=(?P<hash>[0-9a-f]{64})")

_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
    "image/avif": "avif",
    "image/heic": "heic",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/quicktime": "mov",
    "audio/wav": "wav",
    "audio/mpeg": "mp3",
    "application/pdf": "pdf",
}


def _extension(mime: str) -> str:
    return _EXTENSIONS.get(mime.lower(), "bin")


def _decode(payload: str) -> bytes | None:
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None


def media_refs(value: Any) -> list[tuple[str, str]]:
    """Return the `(mime, sha256)` of every media reference in a stored JSON value."""
    found: list[tuple[str, str]] = []
    if isinstance(value, str):
        match = _MEDIA_REF.fullmatch(value)
        if match:
            found.append((match["mime"], match["hash"]))
    elif isinstance(value, list):
        for item in value:
            found.extend(media_refs(item))
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(media_refs(item))
    return found


class MediaStore:
    """The `_media` folder of one cassette root."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, mime: str, digest: str) -> Path:
        """Return the blob path of a payload with this type and sha256."""
        return self.directory / f"{digest}.{_extension(mime)}"

    def extract(self, value: Any, *, write: bool) -> Any:
        """Return a copy of `value` with base64 media replaced by references.

        With `write`, each payload is also saved as a blob (once per hash).
        """
        if isinstance(value, str):
            return self._extract_url(value, write)
        if isinstance(value, list):
            return [self.extract(item, write=write) for item in value]
        if isinstance(value, dict):
            copy = {key: self.extract(item, write=write) for key, item in value.items()}
            if copy.get("type") == "base64" and isinstance(copy.get("data"), str):
                mime = str(copy.get("media_type") or "application/octet-stream")
                copy["data"] = self._reference(mime, copy["data"], write) or copy["data"]
            return copy
        return value

    def _extract_url(self, text: str, write: bool) -> str:
        if not text.startswith("data:"):
            return text
        match = _DATA_URL.fullmatch(text)
        if match is None:
            return text
        return self._reference(match["mime"], match["data"], write) or text

    def _reference(self, mime: str, payload: str, write: bool) -> str | None:
        if payload.startswith("media:"):
            return None
        data = _decode(payload)
        if data is None:
            return None
        digest = hashlib.sha256(data).hexdigest()
        if write:
            path = self.path_for(mime, digest)
            if not path.exists():
                write_atomic(path, data)
        return f"media:{mime};sha256={digest}"

    def expand(self, value: Any) -> Any:
        """Return a copy of a stored value with each reference rebuilt as a data URL."""
        if isinstance(value, str):
            match = _MEDIA_REF.fullmatch(value)
            if match is None:
                return value
            encoded = base64.b64encode(self.read(match["mime"], match["hash"])).decode("ascii")
            return f"data:{match['mime']};base64,{encoded}"
        if isinstance(value, list):
            return [self.expand(item) for item in value]
        if isinstance(value, dict):
            copy = {key: self.expand(item) for key, item in value.items()}
            if copy.get("type") == "base64" and isinstance(copy.get("data"), str):
                match = _MEDIA_REF.fullmatch(copy["data"])
                if match is not None:
                    blob = self.read(match["mime"], match["hash"])
                    copy["data"] = base64.b64encode(blob).decode("ascii")
            return copy
        return value

    def read(self, mime: str, digest: str) -> bytes:
        """Return a blob's bytes after checking them against their hash."""
        path = self.path_for(mime, digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise CassetteCorruptError(
                f"media blob {path} is missing; commit the {MEDIA_DIRNAME} folder with the "
                "cassettes, or re-record the test.",
                path=path,
            ) from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise CassetteCorruptError(
                f"media blob {path} does not match its sha256 name; it was changed or "
                "truncated. Restore it from version control or re-record the test.",
                path=path,
            )
        return data

    def check(self, value: Any) -> None:
        """Check that every blob a stored value refers to exists and matches its hash."""
        for mime, digest in media_refs(value):
            self.read(mime, digest)
