import io

import numpy as np
import pytest
from PIL import Image

from inference.errors import RequestError
from inference.images import MAX_PIXELS, decode, letterbox


def encode(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("mode", "fmt"), [("RGBA", "PNG"), ("L", "PNG"), ("P", "PNG"), ("RGB", "JPEG"), ("CMYK", "JPEG")]
)
def test_png_and_jpeg_in_any_mode_decode_to_rgb_at_full_size(mode, fmt):
    decoded = decode(encode(Image.new(mode, (300, 200)), fmt), min_side=256)
    assert (decoded.width, decoded.height, decoded.pixels.mode) == (300, 200, "RGB")


def test_large_jpeg_is_decoded_at_reduced_scale_but_reports_original_size():
    decoded = decode(encode(Image.new("RGB", (4032, 3024), (90, 120, 150))), min_side=256)
    assert (decoded.width, decoded.height) == (4032, 3024)
    assert decoded.pixels.size == (504, 378)  # 1/8 DCT scale, still >= 256 on the short side


def test_exif_orientation_is_applied_before_the_model_sees_the_photo():
    # A landscape sensor image whose left half is white, stored with "rotate 90 CW to view" (6).
    stored = Image.new("RGB", (400, 200), (0, 0, 0))
    stored.paste((255, 255, 255), (0, 0, 200, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    decoded = decode(encode(stored, exif=exif.tobytes(), quality=95), min_side=1000)
    assert (decoded.width, decoded.height) == (200, 400)
    pixels = np.asarray(decoded.pixels)
    assert pixels[50, 100].mean() > 200 and pixels[350, 100].mean() < 50  # white now on top


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"", 400, "empty"),
        (b"GIF89a" + b"\0" * 100, 400, "not a JPEG or PNG"),
        (b"plain text, not an image", 400, "not a JPEG or PNG"),
    ],
)
def test_non_images_are_rejected_with_400(body, status, fragment):
    with pytest.raises(RequestError) as caught:
        decode(body, min_side=256)
    assert caught.value.status == status and fragment in caught.value.message


def test_truncated_jpeg_is_a_400_not_a_crash():
    data = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)))
    with pytest.raises(RequestError) as caught:
        decode(data[: len(data) // 2], min_side=256)
    assert caught.value.status == 400 and "truncated" in caught.value.message


def test_decompression_bomb_is_refused_before_decoding():
    side = int(MAX_PIXELS**0.5) + 100
    bomb = encode(Image.new("1", (side, side)), "PNG")  # a few KB that would expand to >100 MP
    assert len(bomb) < 100_000
    with pytest.raises(RequestError) as caught:
        decode(bomb, min_side=256)
    assert caught.value.status == 413


def test_letterbox_maps_model_coordinates_back_to_the_original():
    decoded = decode(encode(Image.new("RGB", (4000, 2000))), min_side=192)
    canvas, box = letterbox(decoded, 192, 192)
    assert canvas.shape == (192, 192, 3)
    # The image fills the width and is centred vertically: 96 px tall with 48 px bands.
    x, y = box.to_original(np.array([0.0, 192.0]), np.array([48.0, 144.0]))
    np.testing.assert_allclose(x, [0, 4000], atol=1)
    np.testing.assert_allclose(y, [0, 2000], atol=1)
