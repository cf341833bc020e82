from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from pytest_kimi.media import check_content_part, check_message_content, image_part

MP4_HEADER = b"\x00\x00\x00\x1cftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 16


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "JPEG")
    return buffer.getvalue()


def _bmp() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "BMP")
    return buffer.getvalue()


def _url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _image(url: Any) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


def _video(url: str) -> dict[str, Any]:
    return {"type": "video_url", "video_url": {"url": url}}


@pytest.mark.parametrize(
    "part",
    [
        {"type": "text", "text": "hi"},
        _image(_url("image/png", _png())),
        {"type": "image_url", "image_url": _url("image/png", _png())},
        _image(_url("image/jpg", _jpeg())),
        _image("https://example.com/cat.png"),
        _image("ms://file-abc123"),
        _video(_url("video/mp4", MP4_HEADER)),
        {"type": "video_url", "video_url": "ms://file-abc123"},
    ],
    ids=[
        "text",
        "png",
        "bare-string",
        "jpg-alias",
        "http",
        "ms-file",
        "mp4",
        "bare-video",
    ],
)
def test_valid_parts(part: dict[str, Any]) -> None:
    assert check_content_part(part, allow_video=True) is None


@pytest.mark.parametrize(
    ("part", "message"),
    [
        ("text", "expected an object, got str"),
        ({"type": "text", "text": 3}, "'text' must be a string"),
        ({"type": "audio_url"}, "Invalid content part type 'audio_url'"),
        ({"type": "image_url"}, "expected a URL string or an object"),
        ({"type": "image_url", "image_url": {"url": 5}}, "expected a URL string or an object"),
        (_image("file:///etc/hosts"), "unsupported URL"),
        (_image("data:image/png;base64"), "invalid data URL"),
        (_image("data:image/png;base64,%%%"), "invalid base64"),
        (_image("data:image/.png;base64," + base64.b64encode(_png()).decode()), "invalid MIME"),
        (
            _image(_url("image/png", _jpeg())),
            "'image/png' does not match the data, which is image/jpeg",
        ),
        (_image(_url("image/bmp", _bmp())), "unsupported image format 'image/bmp'"),
        (_image(_url("image/png", b"")), "is empty"),
        (_image(_url("image/png", b"not an image")), "not a recognised image"),
        (_image(_url("video/mp4", MP4_HEADER)), "unsupported image format 'video/mp4'"),
        (
            _video(_url("video/webm", MP4_HEADER)),
            "'video/webm' does not match the data, which is video/mp4",
        ),
        (_video(_url("image/png", _png())), "unsupported video format 'image/png'"),
    ],
)
def test_invalid_parts(part: Any, message: str) -> None:
    error = check_content_part(part, allow_video=True)

    assert error is not None
    assert message in error


def test_video_rejected_when_not_allowed() -> None:
    error = check_content_part(_video(_url("video/mp4", MP4_HEADER)), allow_video=False)

    assert error == "Invalid video_url: this model does not support video input"


def test_image_part_output_is_valid() -> None:
    part = image_part(Image.new("RGBA", (20, 10)), format="jpeg")

    assert check_content_part(part, allow_video=False) is None


def test_message_content_names_index() -> None:
    content = [{"type": "text", "text": "a"}, _image("data:image/png;base64,%%%")]

    error = check_message_content(content, allow_video=False)

    assert error is not None
    assert error.startswith("content[1]: Invalid image_url")
    assert check_message_content("plain text", allow_video=False) is None
    assert "got int" in (check_message_content(3, allow_video=False) or "")
