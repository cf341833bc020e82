from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from media_helpers import half_transparent, part_bytes, part_image, png_bytes
from PIL import Image

from pytest_kimi.media import MediaError, image_part, sniff_mime

TRANSPARENT_MODES = ["RGBA", "LA", "PA", "P"]


def _transparent_source(mode: str, as_bytes: bool) -> Image.Image | bytes:
    image = half_transparent(mode)
    if not as_bytes:
        return image
    # Pillow cannot write PA as PNG, so PA is only tested as an in-memory image.
    return png_bytes(image)


@pytest.mark.parametrize("as_bytes", [False, True], ids=["image", "png-bytes"])
@pytest.mark.parametrize("mode", TRANSPARENT_MODES)
def test_transparent_to_jpeg_lays_over_white(mode: str, as_bytes: bool) -> None:
    if mode == "PA" and as_bytes:
        pytest.skip("Pillow cannot write PA images as PNG")
    part = image_part(_transparent_source(mode, as_bytes), format="jpeg")

    url = part["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    _, data = part_bytes(part)
    assert data[:3] == b"\xff\xd8\xff"
    decoded = Image.open(io.BytesIO(data)).convert("RGB")
    assert all(channel >= 240 for channel in decoded.getpixel((24, 8)))
    assert all(channel <= 15 for channel in decoded.getpixel((8, 8)))


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparent_budget_forces_jpeg(mode: str) -> None:
    # Noise makes the PNG large; the transparent right half must still come out white.
    rng = np.random.default_rng(1)
    if mode == "P":
        indices = rng.integers(0, 255, (160, 320), dtype=np.uint8)
        indices[:, 160:] = 255
        image = Image.fromarray(indices, mode="L").convert("P")
        image.putpalette(rng.integers(0, 256, 768, dtype=np.uint8).tobytes())
        image.info["transparency"] = 255
    else:
        noise = rng.integers(0, 256, (160, 320, 3), dtype=np.uint8)
        image = Image.fromarray(noise).convert(mode)
        image.paste((0,) * len(mode), (160, 0, 320, 160))
    raw = png_bytes(image)
    budget = len(raw) // 3

    part = image_part(raw, max_bytes=budget)

    mime, data = part_bytes(part)
    assert mime == "image/jpeg"
    assert len(data) <= budget
    decoded = Image.open(io.BytesIO(data)).convert("RGB")
    assert min(decoded.getpixel((decoded.width - 4, decoded.height // 2))) >= 240


def test_transparent_png_kept_as_png() -> None:
    raw = png_bytes(half_transparent("RGBA"))

    part = image_part(raw)

    assert part["image_url"]["url"].startswith("data:image/png;base64,")
    mime, data = part_bytes(part)
    assert data[:4] == b"\x89PNG"
    assert data == raw


def test_resize_keeps_transparent_edge_light() -> None:
    # Without premultiplied alpha, transparent black bleeds into the white edge.
    image = Image.new("RGBA", (400, 200), (0, 0, 0, 0))
    image.paste((255, 255, 255, 255), (0, 0, 200, 200))

    part = image_part(image, max_pixels=100 * 50, format="jpeg")

    decoded = part_image(part).convert("RGB")
    assert decoded.size == (100, 50)
    for x in range(100):
        assert min(decoded.getpixel((x, 25))) >= 230


def test_png_named_jpg_declares_png(tmp_path: Path) -> None:
    path = tmp_path / "screenshot.jpg"
    path.write_bytes(png_bytes(Image.new("RGB", (8, 8), (10, 200, 30))))

    part = image_part(path)

    mime, data = part_bytes(part)
    assert mime == "image/png"
    assert sniff_mime(data) == "image/png"
    assert not part["image_url"]["url"].startswith("data:image/.")


def test_str_path_accepted(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(png_bytes(Image.new("L", (4, 4), 7)))

    part = image_part(str(path))

    assert part_image(part).getpixel((0, 0)) == 7


def test_pixel_budget_keeps_aspect_ratio() -> None:
    image = Image.new("RGB", (4000, 1000), (0, 128, 255))

    part = image_part(image, max_pixels=1_000_000)

    decoded = part_image(part)
    width, height = decoded.size
    assert width * height <= 1_000_000
    assert width * height >= 990_000
    assert abs(width / height - 4.0) < 0.01


def test_small_image_not_resized() -> None:
    part = image_part(Image.new("RGB", (640, 480)))

    assert part_image(part).size == (640, 480)


def test_explicit_png_downscales_not_jpeg() -> None:
    noise = np.random.default_rng(2).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    raw = png_bytes(Image.fromarray(noise))

    part = image_part(raw, max_bytes=len(raw) // 4, format="png")

    mime, data = part_bytes(part)
    assert mime == "image/png"
    assert len(data) <= len(raw) // 4
    assert Image.open(io.BytesIO(data)).width < 200


def test_impossible_budget_raises() -> None:
    noise = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)

    with pytest.raises(MediaError, match=r"<array>: cannot encode .* max_bytes=50") as info:
        image_part(noise, max_bytes=50)

    assert "Raise max_bytes" in str(info.value)


def test_exif_orientation_applied() -> None:
    landscape = Image.new("RGB", (64, 32), (220, 30, 30))
    landscape.paste((30, 30, 220), (32, 0, 64, 32))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    landscape.save(buffer, "JPEG", exif=exif.tobytes())

    part = image_part(buffer.getvalue())

    mime, _ = part_bytes(part)
    decoded = part_image(part).convert("RGB")
    assert mime == "image/jpeg"
    assert decoded.size == (32, 64)
    top_red, _, top_blue = decoded.getpixel((16, 8))
    bottom_red, _, bottom_blue = decoded.getpixel((16, 56))
    assert top_red > 180
    assert top_blue < 80
    assert bottom_blue > 180
    assert bottom_red < 80


def test_16bit_png_scaled_not_clipped() -> None:
    values = np.array([[0, 256, 32768, 65535]], dtype=np.uint16)
    raw = png_bytes(Image.fromarray(values))
    assert Image.open(io.BytesIO(raw)).mode.startswith("I")

    part = image_part(raw)

    decoded = part_image(part)
    assert decoded.mode == "L"
    assert [decoded.getpixel((x, 0)) for x in range(4)] == [0, 1, 128, 255]


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.full((4, 6), 200, np.uint8), 200),
        (np.full((4, 6), 65535, np.uint16), 255),
        (np.full((4, 6, 3), (10, 20, 30), np.uint8), (10, 20, 30)),
        (np.full((4, 6, 3), (0, 32896, 65535), np.uint16), (0, 128, 255)),
        (np.full((4, 6, 4), (10, 20, 30, 255), np.uint8), (10, 20, 30, 255)),
        (np.full((4, 6, 4), (0, 0, 65535, 65535), np.uint16), (0, 0, 255, 255)),
    ],
    ids=["gray8", "gray16", "rgb8", "rgb16", "rgba8", "rgba16"],
)
def test_numpy_arrays(array: np.ndarray, expected: object) -> None:
    decoded = part_image(image_part(array))

    assert decoded.size == (6, 4)
    assert decoded.getpixel((2, 2)) == expected


@pytest.mark.parametrize(
    ("array", "reason"),
    [
        (np.zeros((4, 4), np.float32), "unsupported dtype float32"),
        (np.zeros((4, 4, 2), np.uint8), r"unsupported shape \(4, 4, 2\)"),
        (np.zeros((0, 4), np.uint8), r"unsupported shape \(0, 4\)"),
    ],
)
def test_numpy_rejected(array: np.ndarray, reason: str) -> None:
    with pytest.raises(MediaError, match=f"<array>: {reason}"):
        image_part(array)


def test_http_url_passed_through() -> None:
    url = "https://example.com/cat.png"

    part = image_part(url, detail="low")

    assert part == {"type": "image_url", "image_url": {"url": url, "detail": "low"}}


def test_corrupt_file_names_path(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(png_bytes(Image.new("RGB", (50, 50)))[:60])

    with pytest.raises(MediaError) as info:
        image_part(path)

    assert isinstance(info.value, ValueError)
    assert str(path) in str(info.value)
    assert "not a readable image" in str(info.value)
    assert "PNG, JPEG, WebP or GIF" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="file not found"):
        image_part(tmp_path / "nope.png")


def test_unknown_bytes_named() -> None:
    with pytest.raises(MediaError, match="<bytes>: not a readable image"):
        image_part(b"hello, not an image")


def test_bmp_converted_to_png() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (5, 5), (1, 2, 3)).save(buffer, "BMP")

    part = image_part(buffer.getvalue())

    mime, _ = part_bytes(part)
    assert mime == "image/png"
    assert part_image(part).getpixel((1, 1)) == (1, 2, 3)


def _counter_gif(count: int, size: tuple[int, int] = (40, 30)) -> bytes:
    frames = [Image.new("RGB", size, (index * 20, 0, 0)) for index in range(count)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return buffer.getvalue()


def test_animated_gif_kept_unchanged() -> None:
    raw = _counter_gif(6)

    mime, data = part_bytes(image_part(raw))

    assert mime == "image/gif"
    assert data == raw


def test_animated_gif_over_budget_stays_animated() -> None:
    raw = _counter_gif(6, size=(200, 100))

    part = image_part(raw, max_pixels=50 * 25)

    decoded = part_image(part)
    assert decoded.format == "GIF"
    assert getattr(decoded, "n_frames", 1) == 6
    assert decoded.width * decoded.height <= 50 * 25


def test_animated_gif_split_evenly() -> None:
    raw = _counter_gif(10)

    parts = image_part(raw, frames=True, max_frames=4)

    reds = [part_image(part).convert("RGB").getpixel((5, 5))[0] for part in parts]
    assert len(parts) == 4
    assert reds == [0, 60, 120, 180]


def test_animated_to_jpeg_rejected() -> None:
    with pytest.raises(MediaError, match="frames=True"):
        image_part(_counter_gif(3), format="jpeg")


def test_still_image_frames_gives_one() -> None:
    parts = image_part(Image.new("RGB", (8, 8)), frames=True)

    assert len(parts) == 1


@pytest.mark.parametrize("limit", ["max_pixels", "max_bytes", "max_frames"])
def test_non_positive_limit_rejected(limit: str) -> None:
    with pytest.raises(ValueError, match=f"invalid {limit}=0"):
        image_part(Image.new("RGB", (2, 2)), **{limit: 0})  # type: ignore[call-overload]
