"""A person's region decoded again at the DCT scale their crop needs: right place, right pixels, bounded work."""

from __future__ import annotations

import dataclasses
import io
import math

import numpy as np
import pytest
from PIL import Image

from inference.errors import RequestError
from inference.images import SHARPEST_REGION_SIDE, DecodedImage, JpegSource, decode
from inference.pipelines.roi import RotatedRect, warp_crop
from inference.predictor import Predictor

# What exif_transpose undoes for each orientation: applied to the upright photo, it gives the
# stored pixels a camera would have written with that tag.
STORED_FROM_UPRIGHT = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
UPRIGHT = (2400, 1600)
BLOB = (1530.0, 410.0)  # upright pixels, well off every axis of symmetry
SIGMA = 12.0


def stored(upright: Image.Image, orientation: int) -> Image.Image:
    method = STORED_FROM_UPRIGHT[orientation]
    return upright.transpose(method) if method is not None else upright


def jpeg(upright: Image.Image, orientation: int, quality: int = 95) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored(upright, orientation).save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


@pytest.fixture(scope="module")
def blob_photo() -> Image.Image:
    """A grey photo with one smooth bright blob, whose centroid survives JPEG and resampling."""
    y, x = np.mgrid[0 : UPRIGHT[1], 0 : UPRIGHT[0]] + 0.5
    blob = np.exp(-((x - BLOB[0]) ** 2 + (y - BLOB[1]) ** 2) / (2 * SIGMA**2))
    grey = (40 + 200 * blob).round().astype(np.uint8)
    return Image.fromarray(np.repeat(grey[:, :, None], 3, axis=2))


def centroid(crop: np.ndarray) -> np.ndarray:
    weights = np.clip(crop[:, :, 0].astype(float) - 60, 0, None)
    y, x = np.mgrid[0 : crop.shape[0], 0 : crop.shape[1]] + 0.5
    return np.array([(x * weights).sum(), (y * weights).sum()]) / weights.sum()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_upright_coordinates_map_onto_the_stored_pixels_exactly(orientation):
    upright = Image.fromarray(
        np.random.default_rng(orientation).integers(0, 255, (30, 50, 3), dtype=np.uint8)
    )
    pixels = np.asarray(stored(upright, orientation))
    source = JpegSource(b"", (pixels.shape[1], pixels.shape[0]), orientation, coarse_scale=8)
    matrix, offset = source.stored_from_upright(upright.width, upright.height)
    y, x = np.mgrid[0 : upright.height, 0 : upright.width] + 0.5  # every upright pixel centre
    at = np.floor(matrix @ np.stack([x.ravel(), y.ravel()]) + offset[:, None]).astype(int)
    assert (pixels[at[1], at[0]] == np.asarray(upright).reshape(-1, 3)).all()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_small_persons_region_is_decoded_sharper_and_lands_where_it_is_upright(blob_photo, orientation):
    decoded = decode(jpeg(blob_photo, orientation), min_side=192)
    assert (decoded.width, decoded.height) == UPRIGHT and decoded.pixels.size == (300, 200)  # 1/8
    roi = RotatedRect(BLOB[0] + 20, BLOB[1] - 15, 300.0, math.radians(25))  # 2 x 256 px need 1/1
    crop, transform = warp_crop(decoded, roi, 256)
    found = centroid(crop)
    x, y = transform.to_original(found[:1], found[1:])
    assert math.hypot(x[0] - BLOB[0], y[0] - BLOB[1]) <= 0.2 * roi.size / 256
    # The same crop from the whole photo decoded at full size, as before regions were decoded apart.
    whole = dataclasses.replace(decode(jpeg(blob_photo, orientation), min_side=10_000), source=None)
    reference, _ = warp_crop(whole, roi, 256)
    assert np.abs(crop.astype(int) - reference.astype(int)).mean() < 1.0


def test_a_large_person_is_cropped_from_the_coarse_decode_without_decoding_again(blob_photo):
    decoded = decode(jpeg(blob_photo, 6), min_side=400)
    assert decoded.pixels.size == (600, 400)  # 1/4, upright
    warp_crop(decoded, RotatedRect(BLOB[0], BLOB[1], 2200.0, 0.3), 256)  # 2200 / 4 >= 2 x 256
    assert decoded.source.decoded_scales == () and decoded.region_decode_seconds == 0.0


def test_many_regions_decode_each_scale_at_most_twice_and_never_past_the_sharpest(blob_photo):
    """A hostile photo with many candidate people must not decode the whole photo many times."""
    decoded = decode(jpeg(blob_photo, 8), min_side=192)
    rng = np.random.default_rng(7)
    for size in rng.uniform(20.0, 1500.0, 60):  # tiny to large regions, in any order
        centre = rng.uniform(0, UPRIGHT[0]), rng.uniform(0, UPRIGHT[1])
        crop, _ = warp_crop(decoded, RotatedRect(*centre, float(size), float(rng.uniform(-3, 3))), 256)
        assert crop.shape == (256, 256, 3)
    # Each scale once down to a region's rows, then at most once whole (1600 // 1024: full size is
    # allowed here), whatever the order.
    scales = decoded.source.decoded_scales
    assert 1 in scales and set(scales) <= {1, 2, 4} and all(scales.count(s) <= 2 for s in scales)
    assert decoded.region_decode_seconds > 0.0


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("orientation", [1, 3])
def test_a_region_high_in_the_stored_photo_decodes_only_the_rows_down_to_it(
    blob_photo, progressive, orientation
):
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored(blob_photo, orientation).save(
        buffer, "JPEG", quality=95, exif=exif.tobytes(), progressive=progressive
    )
    decoded = decode(buffer.getvalue(), min_side=192)
    y = BLOB[1] if orientation == 1 else UPRIGHT[1] - BLOB[1]  # turned 180: the blob is stored low
    roi = RotatedRect(BLOB[0] if orientation == 1 else UPRIGHT[0] - BLOB[0], y, 300.0, 0.0)
    crop, _ = warp_crop(decoded, roi, 256)
    (scale, rows), *_ = decoded.source.decodes
    assert scale == 1 and rows < UPRIGHT[1] and rows % 16 == 0  # top rows only, to an MCU row
    whole = dataclasses.replace(decode(buffer.getvalue(), min_side=10_000), source=None)
    assert np.array_equal(crop, warp_crop(whole, roi, 256)[0])


def test_a_12mp_photo_is_never_decoded_past_the_sharpest_region_side():
    data = jpeg(Image.new("RGB", (4032, 3024), (90, 120, 150)), 1, quality=70)
    decoded = decode(data, min_side=512)
    assert decoded.pixels.size == (1008, 756)  # 1/4 for the detector and people at least 1/4 tall
    warp_crop(decoded, RotatedRect(2000.0, 1500.0, 40.0, 0.0), 256)  # a person far too small
    # 1/2 (1512 px on the shorter side) is the sharpest at or past SHARPEST_REGION_SIDE, not 1/1.
    assert decoded.source.decoded_scales == (2,) and 3024 // 2 >= SHARPEST_REGION_SIDE > 3024 // 4


def test_a_jpeg_that_fails_only_on_the_region_decode_is_a_400(blob_photo):
    data = jpeg(blob_photo, 3)
    decoded = decode(data, min_side=192)
    source = decoded.source
    truncated = JpegSource(
        data[: len(data) // 2], source.stored_size, source.orientation, source.coarse_scale
    )
    damaged = dataclasses.replace(decoded, source=truncated)
    with pytest.raises(RequestError) as caught:
        warp_crop(damaged, RotatedRect(BLOB[0], BLOB[1], 300.0, 0.0), 256)
    assert caught.value.status == 400 and "corrupt or truncated" in caught.value.message


def test_a_png_is_decoded_once_at_full_size_and_cropped_from_that(blob_photo):
    buffer = io.BytesIO()
    blob_photo.save(buffer, "PNG")
    decoded = decode(buffer.getvalue(), min_side=192)
    assert decoded.source is None and decoded.pixels.size == UPRIGHT
    crop, transform = warp_crop(decoded, RotatedRect(BLOB[0], BLOB[1], 300.0, 0.0), 256)
    found = centroid(crop)
    x, y = transform.to_original(found[:1], found[1:])
    assert math.hypot(x[0] - BLOB[0], y[0] - BLOB[1]) <= 0.2 * 300 / 256


@pytest.mark.parametrize("size", [0.0, -5.0])
def test_a_degenerate_region_keeps_the_coarse_decode(blob_photo, size):
    decoded = decode(jpeg(blob_photo, 1), min_side=192)
    crop, _ = warp_crop(decoded, RotatedRect(BLOB[0], BLOB[1], size, 0.0), 64)
    assert crop.shape == (64, 64, 3) and decoded.source.decoded_scales == ()


def test_a_decoded_image_made_by_hand_has_no_source():
    photo = DecodedImage(Image.new("RGB", (40, 30)), 40, 30)
    assert photo.source is None and photo.region_decode_seconds == 0.0


@pytest.fixture(scope="module")
def small_person_jpeg(photo_785) -> bytes:
    """A real person a third of a 12 MP frame tall (1518 x 1008 at 1500, 1000 upright), stored turned."""
    person = Image.open(io.BytesIO(photo_785)).convert("RGB")
    person = person.resize((person.width * 1008 // person.height, 1008), Image.Resampling.BICUBIC)
    frame = Image.new("RGB", (4032, 3024), (128, 128, 128))
    frame.paste(person, (1500, 1000))
    return jpeg(frame, 6, quality=90)


def test_a_small_person_in_a_turned_12mp_photo_is_found_from_their_region_decoded_again(
    small_person_jpeg, blazepose_dir
):
    predictor = Predictor(blazepose_dir)
    decoded = decode(small_person_jpeg, predictor.pipeline.decode_side)
    predictor.pipeline(decoded)
    # The 1/4 decode is too coarse for this crop: 1/2, down to the region's rows, then (as the person
    # is tracked into a region reaching further) at most once more, whole.
    assert decoded.source.decoded_scales in ((2,), (2, 2))
    document = predictor.predict(small_person_jpeg, "image/jpeg")
    nose = next(point for point in document["keypoints"] if point["name"] == "nose")
    assert document["person_detected"] and 1500 < nose["x"] < 3018 and 1000 < nose["y"] < 2008


def test_a_region_decode_failing_inside_the_pipeline_is_a_400_from_predict(
    small_person_jpeg, blazepose_dir, monkeypatch
):
    def fails(source: JpegSource, scale: int, rows: int) -> Image.Image:
        raise OSError("broken data stream when reading image file")

    monkeypatch.setattr(JpegSource, "_decode", fails)
    with pytest.raises(RequestError) as caught:
        Predictor(blazepose_dir).predict(small_person_jpeg, "image/jpeg")
    assert caught.value.status == 400 and "broken data stream" in caught.value.message
