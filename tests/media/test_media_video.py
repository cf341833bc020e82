from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from media_helpers import part_bytes, part_image, png_bytes
from PIL import Image

from pytest_kimi.media import (
    VIDEO_EXTRA_INSTALL,
    CapabilitySkip,
    MediaError,
    video_frames,
    video_or_frames,
    video_part,
)

MP4_HEADER = b"\x00\x00\x00\x1cftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 32
WEBM_HEADER = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\x00" * 32


def _gif(count: int) -> bytes:
    frames = [Image.new("RGB", (16, 16), (index * 25, 0, 0)) for index in range(count)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=40)
    return buffer.getvalue()


def _apng(count: int) -> bytes:
    frames = [Image.new("RGB", (16, 16), (0, index * 25, 0)) for index in range(count)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:], duration=40)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("header", "mime"), [(MP4_HEADER, "video/mp4"), (WEBM_HEADER, "video/webm")]
)
def test_video_part_sniffs_mime(tmp_path: Path, header: bytes, mime: str) -> None:
    path = tmp_path / "clip.bin"
    path.write_bytes(header)

    part = video_part(path)

    assert part["type"] == "video_url"
    assert part["video_url"]["url"].startswith(f"data:{mime};base64,")
    assert part_bytes(part) == (mime, header)


def test_video_part_passes_file_reference() -> None:
    assert video_part("ms://file-1") == {"type": "video_url", "video_url": {"url": "ms://file-1"}}


@pytest.mark.parametrize("animation", [_gif(4), _apng(4)], ids=["gif", "apng"])
def test_animation_becomes_image_part(animation: bytes) -> None:
    part = video_part(animation)

    assert part["type"] == "image_url"
    assert part_bytes(part)[1] == animation


def test_still_image_not_a_video() -> None:
    with pytest.raises(
        MediaError, match=r"<bytes>: not a supported video .* still image \(image/png\)"
    ):
        video_part(png_bytes(Image.new("RGB", (4, 4))))


def test_video_over_budget_suggests_frames() -> None:
    with pytest.raises(MediaError, match="over max_bytes=10") as info:
        video_part(MP4_HEADER, max_bytes=10)

    assert "video_frames()" in str(info.value)


@pytest.mark.parametrize(
    ("animation", "channel"), [(_gif(9), 0), (_apng(9), 1)], ids=["gif", "apng"]
)
def test_animation_frames_sampled_evenly(animation: bytes, channel: int) -> None:
    parts = video_frames(animation, max_frames=3)

    values = [part_image(part).convert("RGB").getpixel((8, 8))[channel] for part in parts]
    assert values == [0, 100, 200]


def test_animated_webp_frames() -> None:
    frames = [Image.new("RGB", (16, 16), (0, 0, index * 60)) for index in range(4)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], lossless=True)

    parts = video_frames(buffer.getvalue(), max_frames=2)

    assert [part_image(part).convert("RGB").getpixel((8, 8))[2] for part in parts] == [0, 180]


def test_missing_decoder_gives_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)

    with pytest.raises(MediaError) as info:
        video_frames(MP4_HEADER)

    assert "needs PyAV" in str(info.value)
    assert VIDEO_EXTRA_INSTALL in str(info.value)
    assert VIDEO_EXTRA_INSTALL == "pip install 'pytest-kimi[video]'"


def test_video_or_frames_sends_video() -> None:
    parts = video_or_frames(MP4_HEADER, supports_video=True, fallback="skip")

    assert [part["type"] for part in parts] == ["video_url"]


def test_video_or_frames_skip_names_route() -> None:
    with pytest.raises(CapabilitySkip, match="vllm-local does not support video input"):
        video_or_frames(MP4_HEADER, supports_video=False, fallback="skip", route="vllm-local")


def test_video_or_frames_falls_back_to_frames() -> None:
    parts = video_or_frames(_gif(5), supports_video=False, fallback="frames", max_frames=2)

    assert [part["type"] for part in parts] == ["image_url", "image_url"]


def _encode_video(container_format: str, codec: str, count: int) -> bytes:
    av = pytest.importorskip(
        "av", reason="PyAV is the optional video extra: pip install 'pytest-kimi[video]'"
    )
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(count):
            pixels = np.full((48, 64, 3), index * 12, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("container_format", "codec", "mime"),
    [
        ("mp4", "mpeg4", "video/mp4"),
        ("webm", "libvpx", "video/webm"),
        ("mov", "mpeg4", "video/mov"),
    ],
)
def test_decoded_video_frames(container_format: str, codec: str, mime: str) -> None:
    data = _encode_video(container_format, codec, count=20)

    parts = video_frames(data, max_frames=4)

    assert part_bytes(video_part(data))[0] == mime
    # Frames 0, 6, 13 and 19 of 20 have grey levels 0, 72, 156 and 228 before compression.
    levels = [part_image(part).convert("L").getpixel((32, 24)) for part in parts]
    assert all(part_bytes(part)[0] == "image/jpeg" for part in parts)
    for level, expected in zip(levels, [0, 72, 156, 228], strict=True):
        assert abs(level - expected) <= 6, levels
