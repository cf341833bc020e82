from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from pytest_kimi.media import decode_data_url, encode_data_url, sniff_mime
from pytest_kimi.media.mime import is_animated_png


def _encoded(format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (9, 9, 9)).save(buffer, format, **params)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("format", "mime"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
    ],
)
def test_sniff_images_encoded_by_pillow(format: str, mime: str) -> None:
    assert sniff_mime(_encoded(format)) == mime


# Container headers as the first bytes of real files (ISO BMFF ftyp boxes, EBML, RIFF,
# MPEG pack header, FLV, ASF).
VIDEO_HEADERS = {
    "video/mp4": b"\x00\x00\x00\x1cftypisom\x00\x00\x02\x00isomiso2",
    "video/mov": b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ",
    "video/3gpp": b"\x00\x00\x00\x18ftyp3gp4\x00\x00\x00\x00isom",
    "video/webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm",
    "video/x-matroska": b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska",
    "video/avi": b"RIFF\x00\x10\x00\x00AVI LIST",
    "video/mpeg": b"\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01",
    "video/x-flv": b"FLV\x01\x05\x00\x00\x00\x09",
    "video/wmv": bytes.fromhex("3026B2758E66CF11A6D900AA0062CE6C") + b"\x00" * 8,
    "image/avif": b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1",
    "image/heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1",
}


@pytest.mark.parametrize(("mime", "header"), VIDEO_HEADERS.items(), ids=list(VIDEO_HEADERS))
def test_sniff_container_headers(mime: str, header: bytes) -> None:
    assert sniff_mime(header) == mime


@pytest.mark.parametrize("data", [b"", b"hello world", b"\x00" * 32, b"RIFF\x00\x00\x00\x00WAVE"])
def test_sniff_unknown_returns_none(data: bytes) -> None:
    assert sniff_mime(data) is None


def test_apng_detected() -> None:
    frames = [Image.new("RGB", (4, 4), (value, 0, 0)) for value in (0, 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:])

    assert is_animated_png(buffer.getvalue())
    assert not is_animated_png(_encoded("PNG"))


def test_data_url_round_trip() -> None:
    data = _encoded("PNG")

    mime, decoded = decode_data_url(encode_data_url("image/png", data))

    assert mime == "image/png"
    assert decoded == data


def test_data_url_with_parameters() -> None:
    payload = base64.b64encode(b"abc").decode()

    assert decode_data_url(f"data:Image/PNG;name=a.png;base64,{payload}") == ("image/png", b"abc")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://example.com/a.png", "invalid data URL"),
        ("data:image/png,plain", "invalid data URL"),
        ("data:image/.png;base64,AAAA", r"invalid MIME type 'image/\.png'"),
        ("data:;base64,AAAA", "invalid MIME type ''"),
        ("data:image/png;base64,AA*A", "invalid base64"),
        ("data:image/png;base64,AAA", "invalid base64"),
    ],
)
def test_decode_data_url_rejects(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_data_url(url)
