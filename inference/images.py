"""Decode request photos safely and cheaply, and letterbox them into a model's input.

Only 192-256 px reach a model, so a large JPEG is decoded at a reduced DCT scale (PIL draft
mode), which makes a 12-megapixel phone photo cost a few milliseconds instead of a hundred. When
a person's region needs more pixels than that coarse decode has, `DecodedImage.view` decodes the
JPEG again at the coarsest DCT scale that has them, down to the last row the region needs.
"""

from __future__ import annotations

import io
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from inference.errors import RequestError

ACCEPTED_FORMATS = ("JPEG", "PNG")
# Well above any camera (a 100 MP sensor is 12000x8000), far below a decompression bomb.
MAX_PIXELS = 120_000_000
# libjpeg decodes at 1/1, 1/2, 1/4 or 1/8 of the stored size by scaling its inverse DCT.
DCT_SCALES = (8, 4, 2, 1)
# A region is never decoded sharper than this on the photo's shorter side (the whole-photo decode
# the two-stage pipeline made before regions were decoded apart), so a photo costs at most one
# coarse decode plus at most two decodes per finer scale (the rows down to a region, then the
# whole photo), the sharpest of them this one.
SHARPEST_REGION_SIDE = 1024
# EXIF orientation: where an upright pixel (x, y) of a w x h photo lies in the stored pixels, as
# (x_stored coefficients of x, y, w, h), (y_stored coefficients ...): exact in continuous pixels.
_STORED_FROM_UPRIGHT = {
    2: ((-1, 0, 1, 0), (0, 1, 0, 0)),  # mirrored left-right
    3: ((-1, 0, 1, 0), (0, -1, 0, 1)),  # turned 180 degrees
    4: ((1, 0, 0, 0), (0, -1, 0, 1)),  # mirrored top-bottom
    5: ((0, 1, 0, 0), (1, 0, 0, 0)),  # transposed
    6: ((0, 1, 0, 0), (-1, 0, 1, 0)),  # to be turned 90 degrees clockwise
    7: ((0, -1, 0, 1), (-1, 0, 1, 0)),  # transversed
    8: ((0, -1, 0, 1), (1, 0, 0, 0)),  # to be turned 90 degrees anticlockwise
}

# A decode of only a photo's top rows (its frame header made to claim fewer rows) stops on an MCU
# row; 16 is the tallest (4:2:0 sampling). Rows past those are then skipped as data after the scan.
MCU_ROWS = 16
# Start-of-frame markers (C4, C8 and CC are Huffman tables, a reserved code and arithmetic tables).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_START_OF_SCAN, _END_OF_IMAGE = 0xDA, 0xD9

T = TypeVar("T")


@dataclass(frozen=True)
class View:
    """Pixels to sample, and where original-image (upright) coordinates land in them.

    pixel = matrix @ (x, y) + offset, all in continuous pixel coordinates.
    """

    pixels: Image.Image
    matrix: np.ndarray  # (2, 2)
    offset: np.ndarray  # (2,)


@dataclass(frozen=True)
class _Decoded:
    image: Image.Image  # stored orientation, RGB; maybe only the photo's top rows
    rows: int  # the stored rows it holds, from the top
    to_pixels: np.ndarray  # (2, 2) diagonal: stored-pixel coordinates to its pixel coordinates


class JpegSource:
    """A JPEG's bytes, decoded again at a finer DCT scale for a region the coarse decode is too small for.

    A scale is first decoded only down to the rows the region needs (libjpeg must read every row
    above it anyway); a later region needing more rows gets the whole photo at that scale, so
    several people and second passes over one photo cost at most two decodes per scale.
    """

    def __init__(
        self, data: bytes, stored_size: tuple[int, int], orientation: int, coarse_scale: int
    ) -> None:
        self._data = data
        self.stored_size = stored_size
        self.orientation = orientation
        self.coarse_scale = coarse_scale
        self.sharpest_scale = draft_scale(stored_size, SHARPEST_REGION_SIDE)
        self._decoded: dict[int, _Decoded] = {}
        self.decodes: list[tuple[int, int]] = []  # (scale, stored rows) of each decode, in order
        self.decode_seconds = 0.0  # spent in region decodes, for the response's timing

    def scale_for(self, density: float) -> int:
        """The coarsest DCT scale with at least `density` pixels per stored pixel, within the limits."""
        kept = [scale for scale in self._decoded if 1 / scale >= density]
        if kept:
            return max(kept)
        sufficient = [scale for scale in DCT_SCALES if 1 / scale >= density] or [1]
        return min(self.coarse_scale, max(self.sharpest_scale, max(sufficient)))

    @property
    def decoded_scales(self) -> tuple[int, ...]:
        """The scales decoded again so far, in order, once per decode."""
        return tuple(scale for scale, _ in self.decodes)

    def pixels(self, scale: int, rows: int) -> _Decoded:
        """The photo at 1/`scale` holding at least its top `rows` stored rows; bad bytes are a RequestError."""
        kept = self._decoded.get(scale)
        if kept is None or kept.rows < min(rows, self.stored_size[1]):
            wanted = self.stored_size[1] if kept else rows
            started = time.perf_counter()
            self._decoded[scale] = kept = _refusing_bad_bytes(lambda: self._decode(scale, wanted))
            self.decode_seconds += time.perf_counter() - started
            self.decodes.append((scale, kept.rows))
        return kept

    def _decode(self, scale: int, rows: int) -> _Decoded:
        width, height = self.stored_size
        rows = min(height, max(1, math.ceil(rows / MCU_ROWS)) * MCU_ROWS)
        top_rows = _claiming_rows(self._data, rows) if rows < height else None
        image = Image.open(io.BytesIO(top_rows or self._data), formats=("JPEG",))
        image.draft("RGB", (max(1, width // scale), max(1, image.height // scale)))
        image.load()
        drafted = image.decoderconfig[0] if image.decoderconfig else 1
        # Rows map as in the whole photo's decode at this scale, however many of them were decoded.
        to_pixels = np.diag([image.width / width, math.ceil(height / drafted) / height])
        image = image if image.mode == "RGB" else image.convert("RGB")
        return _Decoded(image, rows if top_rows else height, to_pixels)

    def stored_from_upright(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """The affine map from upright pixel coordinates (a `width` x `height` photo) to stored ones."""
        rows = _STORED_FROM_UPRIGHT.get(self.orientation, ((1, 0, 0, 0), (0, 1, 0, 0)))
        matrix = np.array([row[:2] for row in rows], dtype=float)
        offset = np.array([row[2] * width + row[3] * height for row in rows], dtype=float)
        return matrix, offset


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB photo, plus the size of the original so keypoints map back to it.

    `pixels` may be smaller than `width` x `height` when draft mode decoded at reduced scale.
    """

    pixels: Image.Image
    width: int  # of the original, after EXIF orientation
    height: int
    # Set when `pixels` is a reduced-scale decode of a JPEG that can be decoded sharper.
    source: JpegSource | None = field(default=None, compare=False)

    def view(self, density: float, region: np.ndarray | None = None) -> View:
        """The coarsest decode with at least `density` pixels per original pixel, or the sharpest allowed.

        `region` (2, N): original-image points the caller will sample within; a finer scale is then
        decoded down to the rows that hold them (a damaged JPEG is still a 400).
        """
        coarse = View(
            self.pixels,
            np.diag([self.pixels.width / self.width, self.pixels.height / self.height]),
            np.zeros(2),
        )
        if self.source is None or not density > self.pixels.width / self.width:  # NaN: keep the coarse
            return coarse
        scale = self.source.scale_for(density)
        if scale >= self.source.coarse_scale:
            return coarse
        matrix, offset = self.source.stored_from_upright(self.width, self.height)
        rows = self.source.stored_size[1]
        if region is not None:
            stored_y = (matrix @ region + offset[:, None])[1]
            if np.isfinite(stored_y).all():
                # Slack for the sampling's reach, and for a second pass on a nearby region.
                rows = math.ceil(stored_y.max() + (stored_y.max() - stored_y.min()) / 2 + MCU_ROWS)
        decoded = self.source.pixels(scale, rows)
        return View(decoded.image, decoded.to_pixels @ matrix, decoded.to_pixels @ offset)

    @property
    def region_decode_seconds(self) -> float:
        return self.source.decode_seconds if self.source else 0.0


@dataclass(frozen=True)
class Letterbox:
    """Where the original image sits in the model input: x_input = x_original * scale_x + pad_x."""

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float

    def to_original(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Model-input pixel coordinates to original-image pixel coordinates."""
        return (x - self.pad_x) / self.scale_x, (y - self.pad_y) / self.scale_y


def decode(data: bytes, min_side: int) -> DecodedImage:
    """Decode a JPEG or PNG, upright, at no less than `min_side` px on its shorter side when possible.

    The bytes come from anyone: every way Pillow can fail on them is the request's fault, a 4xx.
    """
    if not data:
        raise RequestError(400, "the request body is empty; send a JPEG or PNG image")
    return _refusing_bad_bytes(lambda: _decode(data, min_side))


def _refusing_bad_bytes(decoding: Callable[[], T]) -> T:
    """Run a decode of client bytes, turning each way Pillow fails on them into a precise 400 or 413."""
    with warnings.catch_warnings():
        # Pillow warns from 89 MP and refuses from 179 MP; the limit here is ours (MAX_PIXELS).
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return decoding()
        except RequestError:
            raise
        except UnidentifiedImageError as error:
            raise RequestError(400, "the body is not a JPEG or PNG image") from error
        except Image.DecompressionBombError as error:
            raise RequestError(413, f"the image has too many pixels (the limit is {MAX_PIXELS:,})") from error
        except MemoryError as error:
            raise RequestError(413, "the image is too large to decode") from error
        # Pillow raises OSError, SyntaxError, ValueError, struct.error, IndexError... on damaged files.
        except Exception as error:
            raise RequestError(400, f"the image is corrupt or truncated ({_reason(error)})") from error


def _decode(data: bytes, min_side: int) -> DecodedImage:
    image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise RequestError(413, f"the image is {width}x{height} pixels; the limit is {MAX_PIXELS:,} pixels")
    if width < 1 or height < 1:
        raise RequestError(400, "the image has no pixels")
    scale = 1
    if image.format == "JPEG":
        # draft() only ever scales by 1/2, 1/4, 1/8 and keeps at least the requested size.
        image.draft("RGB", (min_side, min_side))
        scale = image.decoderconfig[0] if image.decoderconfig else 1
    image.load()
    # Read after load(): a PNG may keep its EXIF after the pixels.
    orientation = image.getexif().get(0x0112, 1)
    source = JpegSource(data, (width, height), orientation, scale) if scale > 1 else None
    if orientation != 1:
        image = ImageOps.exif_transpose(image)
        if orientation in (5, 6, 7, 8):  # quarter turns swap the sides
            width, height = height, width
    if image.mode != "RGB":
        image = image.convert("RGB")
    return DecodedImage(pixels=image, width=width, height=height, source=source)


def _claiming_rows(data: bytes, rows: int) -> bytes | None:
    """The JPEG with its frame header saying `rows` tall, or None where its markers do not parse."""
    at = 2  # after the start-of-image marker
    while at + 9 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:  # a fill byte
            at += 1
        elif marker in _SOF_MARKERS:  # FF Cn, length (2), precision (1), rows (2), columns (2)
            return data[: at + 5] + rows.to_bytes(2, "big") + data[at + 7 :]
        elif marker in (_START_OF_SCAN, _END_OF_IMAGE):
            return None
        else:
            at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return None


def draft_scale(size: tuple[int, int], min_side: int) -> int:
    """The DCT scale draft() picks for a JPEG of `size` asked for at least `min_side` on both sides."""
    fits = min(size[0] // min_side, size[1] // min_side)
    return next(scale for scale in DCT_SCALES if fits >= scale or scale == 1)


def _reason(error: Exception) -> str:
    """Pillow's own words, one line, without the exception's repr noise."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]


def letterbox(decoded: DecodedImage, width: int, height: int) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping the aspect ratio and pad with black to `width` x `height` (uint8 HWC)."""
    image = decoded.pixels
    scale = min(width / image.width, height / image.height)
    resized_w = max(1, round(image.width * scale))
    resized_h = max(1, round(image.height * scale))
    resized = image.resize((resized_w, resized_h), Image.Resampling.BILINEAR, reducing_gap=3.0)
    pad_x = (width - resized_w) // 2
    pad_y = (height - resized_h) // 2
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    canvas[pad_y : pad_y + resized_h, pad_x : pad_x + resized_w] = np.asarray(resized)
    # Per-axis scales from the rounded sizes, relative to the original (not the drafted) image.
    transform = Letterbox(resized_w / decoded.width, resized_h / decoded.height, pad_x, pad_y)
    return canvas, transform
