"""MIME type detection from magic bytes, and data URL encoding and decoding.

The MIME type of a data URL comes from the bytes, never from a file extension. Moonshot's
vision guide builds the type from ``os.path.splitext`` and so sends ``data:image/.png``.

Video types use the spellings of Moonshot's vision guide, which lists the accepted video
formats as mp4, mpeg, mov, avi, x-flv, mpg, webm, wmv and 3gpp. ``sniff_mime`` therefore
returns ``video/mov`` for QuickTime rather than the IANA name ``video/quicktime``.
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = [
    "IMAGE_MIME_TYPES",
    "MIME_ALIASES",
    "VIDEO_MIME_TYPES",
    "canonical_mime",
    "decode_data_url",
    "encode_data_url",
    "is_animated_png",
    "sniff_mime",
]

#: Image types the Moonshot vision guide lists: png, jpeg, webp, gif.
IMAGE_MIME_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})

#: Video types the Moonshot vision guide lists, spelled as ``sniff_mime`` returns them.
VIDEO_MIME_TYPES = frozenset(
    {
        "video/mp4",
        "video/mpeg",
        "video/mov",
        "video/avi",
        "video/x-flv",
        "video/webm",
        "video/wmv",
        "video/3gpp",
    }
)

#: Other spellings of the same formats (IANA names and common variants).
MIME_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/apng": "image/png",
    "video/mpg": "video/mpeg",
    "video/quicktime": "video/mov",
    "video/x-msvideo": "video/avi",
    "video/msvideo": "video/avi",
    "video/x-ms-wmv": "video/wmv",
    "video/x-ms-asf": "video/wmv",
    "video/flv": "video/x-flv",
    "video/3gp": "video/3gpp",
}

_DATA_URL = re.compile(r"data:(?P<mime>[^;,]*)(?P<params>(;[^;,]*)*?);base64,(?P<payload>.*)", re.S)
_MIME_SYNTAX = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")

_ASF_GUID = bytes.fromhex("3026B2758E66CF11A6D900AA0062CE6C")
_QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1")


def canonical_mime(mime: str) -> str:
    """Return the lower-case MIME type with aliases such as ``image/jpg`` resolved."""
    lowered = mime.strip().lower()
    return MIME_ALIASES.get(lowered, lowered)


def sniff_mime(data: bytes) -> str | None:
    """Detect the MIME type of image or video bytes from their magic numbers.

    Args:
        data: The file contents, or at least their first 64 bytes.

    Returns:
        The MIME type, or ``None`` when the bytes match no known format. Images also
        include formats the API does not take (``image/bmp``, ``image/tiff``,
        ``image/avif``, ``image/heic``) so that callers can convert or name them.
    """
    image = _sniff_image(data)
    if image is not None:
        return image
    return _sniff_video(data)


def _sniff_image(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:2] == b"BM":
        return "image/bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "image/avif"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def _sniff_video(data: bytes) -> str | None:
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand == b"qt  ":
            return "video/mov"
        if brand.startswith((b"3gp", b"3g2")):
            return "video/3gpp"
        return "video/mp4"
    if data[4:8] in _QUICKTIME_ATOMS:
        return "video/mov"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm" if b"webm" in data[:64] else "video/x-matroska"
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return "video/avi"
    if data[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return "video/mpeg"
    if data[:4] == b"FLV\x01":
        return "video/x-flv"
    if data[:16] == _ASF_GUID:
        return "video/wmv"
    return None


def is_animated_png(data: bytes) -> bool:
    """Return whether PNG bytes are an APNG, which has an ``acTL`` chunk before ``IDAT``."""
    position = 8
    while position + 8 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        chunk_type = data[position + 4 : position + 8]
        if chunk_type == b"acTL":
            return True
        if chunk_type == b"IDAT":
            return False
        position += 12 + length
    return False


def encode_data_url(mime: str, data: bytes) -> str:
    """Return ``data:<mime>;base64,<data>``."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def decode_data_url(url: str) -> tuple[str, bytes]:
    """Split a base64 data URL into its declared MIME type and its bytes.

    Args:
        url: A URL of the form ``data:<mime>[;param=value];base64,<payload>``.

    Returns:
        The declared MIME type (lower case, exactly as declared) and the decoded bytes.

    Raises:
        ValueError: The URL is not a base64 data URL, its MIME type is not of the form
            ``type/subtype``, or its payload is not valid base64.
    """
    match = _DATA_URL.fullmatch(url)
    if match is None:
        raise ValueError(
            f"invalid data URL {url[:40]!r}: expected 'data:<mime type>;base64,<payload>'"
        )
    mime = match["mime"].strip().lower()
    if not _MIME_SYNTAX.fullmatch(mime):
        raise ValueError(
            f"invalid MIME type {mime!r} in data URL: expected 'type/subtype', "
            "for example 'image/png'"
        )
    try:
        data = base64.b64decode(match["payload"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"invalid base64 payload in data URL for {mime!r}: {exc}") from None
    return mime, data
