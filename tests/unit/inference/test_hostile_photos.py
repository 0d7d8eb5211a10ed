"""Damaged, lying and oversized photos: each is a 4xx with a precise message, never a crash.

The seeded generator damages real photos the ways the fuzzing of the server did (truncation,
bit flips, overwritten header bytes); the named cases are the ones it found answered with a 500.
"""

from __future__ import annotations

import io
import math
import random
import struct
import zlib

import pytest
from PIL import Image

from inference import codec
from inference.errors import RequestError
from inference.images import MAX_PIXELS, decode
from inference.predictor import Predictor

SEED = 20261202
CASES = 300


def png_claiming(width: int, height: int, mode: int = 2) -> bytes:
    """A PNG whose header says `width` x `height` (8-bit, colour type `mode`) over one tiny IDAT."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, mode, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def jpeg_claiming(photo: bytes, width: int, height: int) -> bytes:
    """A real JPEG with its frame header (SOF0/SOF2) rewritten to claim `width` x `height`."""
    data = bytearray(photo)
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = data.find(marker)
        if at > 0:
            data[at + 5 : at + 9] = struct.pack(">HH", height, width)
            return bytes(data)
    raise AssertionError("no frame header in the photo")


def damaged(rng: random.Random, photo: bytes) -> tuple[str, bytes]:
    data = bytearray(photo)
    how = rng.choice(("truncated", "bit-flips", "header-bytes", "header-splice"))
    if how == "truncated":
        data = data[: rng.randrange(1, len(data))]
    elif how == "bit-flips":
        for _ in range(rng.randrange(1, 24)):
            at = rng.randrange(len(data))
            data[at] ^= 1 << rng.randrange(8)
    elif how == "header-bytes":
        for _ in range(rng.randrange(1, 12)):
            data[rng.randrange(min(len(data), 2048))] = rng.randrange(256)
    else:
        at = rng.randrange(min(len(data), 600))
        data[at : at + rng.randrange(1, 48)] = rng.randbytes(rng.randrange(48))
    return how, bytes(data)


@pytest.fixture(scope="module")
def source_photos(eval_photos) -> list[bytes]:
    """Real JPEGs, and one as PNG, to damage."""
    jpegs = [photo.data for photo in eval_photos[:6]]
    buffer = io.BytesIO()
    Image.open(io.BytesIO(jpegs[0])).save(buffer, "PNG")
    return [*jpegs, buffer.getvalue()]


def test_seeded_damaged_photos_are_refused_with_a_4xx_or_decoded(source_photos):
    rng = random.Random(SEED)
    outcomes: dict[str, set] = {}
    for _ in range(CASES):
        how, data = damaged(rng, rng.choice(source_photos))
        try:
            decoded = decode(data, min_side=256)
        except RequestError as error:
            refusal = error
        else:
            assert decoded.pixels.mode == "RGB" and decoded.width >= 1 and decoded.height >= 1
            continue
        assert refusal.status in (400, 413) and refusal.message and "\n" not in refusal.message, refusal
        outcomes.setdefault(how, set()).add(refusal.status)
    # The generator must have produced refusals of every kind, or it tests nothing.
    assert set(outcomes) == {"truncated", "bit-flips", "header-bytes", "header-splice"}


@pytest.mark.parametrize(
    ("make", "status", "fragment"),
    [
        pytest.param(
            lambda photo: jpeg_claiming(photo, 65500, 65500), 413, "too many pixels", id="jpeg-65500x65500"
        ),
        pytest.param(
            lambda photo: png_claiming(30000, 30000), 413, "too many pixels", id="png-header-30000x30000"
        ),
        pytest.param(lambda photo: png_claiming(20000, 20000), 413, "too many pixels", id="png-20000x20000"),
        pytest.param(
            lambda photo: png_claiming(11000, 11000), 413, "11000x11000", id="png-121mp-over-our-limit"
        ),
        pytest.param(
            lambda photo: png_claiming(9500, 9500), 400, "corrupt or truncated", id="png-90mp-no-pixels"
        ),
        pytest.param(lambda photo: png_claiming(100, 100, mode=9), 400, "", id="png-bad-colour-type"),
        pytest.param(lambda photo: photo[:200], 400, "corrupt or truncated", id="jpeg-header-only"),
        pytest.param(
            lambda photo: photo[:2] + b"\xff\xe1\xff\xff" + photo[6:], 400, "", id="jpeg-bad-exif-length"
        ),
    ],
)
def test_named_hostile_photos_get_their_status(photo_785, make, status, fragment):
    with pytest.raises(RequestError) as caught:
        decode(make(photo_785), min_side=256)
    assert caught.value.status == status and fragment in caught.value.message


def test_pillows_own_bomb_limit_does_not_undercut_ours():
    """Pillow warns from 89 MP; photos up to MAX_PIXELS are ours to accept."""
    assert MAX_PIXELS > Image.MAX_IMAGE_PIXELS
    with pytest.raises(RequestError) as caught:  # 90 MP passes the size check and fails on its pixels
        decode(png_claiming(9500, 9500), min_side=256)
    assert "too many pixels" not in caught.value.message


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"image":' * 100_000, b"[" * 5_000 + b"]" * 5_000])
def test_json_nested_beyond_reason_is_a_400(body):
    with pytest.raises(RequestError) as caught:
        codec.image_bytes("application/json", body)
    assert caught.value.status == 400


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


ODD_IMAGES = {
    "1x1": lambda: encode(Image.new("RGB", (1, 1)), "PNG"),
    "1x5000": lambda: encode(Image.new("RGB", (1, 5000)), "PNG"),
    "5000x1-jpeg": lambda: encode(Image.new("RGB", (5000, 1)), "JPEG"),
    "16-bit-grey": lambda: encode(Image.new("I;16", (120, 80)), "PNG"),
    "1-bit": lambda: encode(Image.new("1", (120, 80)), "PNG"),
    "palette-transparent": lambda: encode(Image.new("P", (120, 80)), "PNG", transparency=0),
    "grey-alpha": lambda: encode(Image.new("LA", (120, 80)), "PNG"),
    "animated-png": lambda: encode(
        Image.new("RGB", (120, 80)), "PNG", save_all=True, append_images=[Image.new("RGB", (120, 80), "red")]
    ),
}


@pytest.mark.parametrize("name", sorted(ODD_IMAGES))
@pytest.mark.parametrize("model", ["blazepose", "movenet"])
def test_odd_but_valid_images_give_a_normal_answer(name, model, blazepose_dir, movenet_dir):
    predictor = _predictor(blazepose_dir if model == "blazepose" else movenet_dir)
    photo = ODD_IMAGES[name]()
    document = predictor.predict(photo, "image/png")
    width, height = Image.open(io.BytesIO(photo)).size
    assert document["image"] == {"width": width, "height": height}
    assert isinstance(document["person_detected"], bool)
    assert all(math.isfinite(point["x"]) and math.isfinite(point["y"]) for point in document["keypoints"])


_PREDICTORS: dict = {}


def _predictor(model_dir) -> Predictor:
    if model_dir not in _PREDICTORS:
        _PREDICTORS[model_dir] = Predictor(model_dir)
    return _PREDICTORS[model_dir]
