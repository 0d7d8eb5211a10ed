"""Decode request photos safely and cheaply, and letterbox them into a model's input.

Only 192-256 px reach a model, so a large JPEG is decoded at a reduced DCT scale (PIL draft
mode), which makes a 12-megapixel phone photo cost a few milliseconds instead of a hundred.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from inference.errors import RequestError

ACCEPTED_FORMATS = ("JPEG", "PNG")
# Well above any camera (a 100 MP sensor is 12000x8000), far below a decompression bomb.
MAX_PIXELS = 120_000_000


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB photo, plus the size of the original so keypoints map back to it.

    `pixels` may be smaller than `width` x `height` when draft mode decoded at reduced scale.
    """

    pixels: Image.Image
    width: int  # of the original, after EXIF orientation
    height: int


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
    with warnings.catch_warnings():
        # Pillow warns from 89 MP and refuses from 179 MP; the limit here is ours (MAX_PIXELS).
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return _decode(data, min_side)
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
    if image.format == "JPEG":
        # draft() only ever scales by 1/2, 1/4, 1/8 and keeps at least the requested size.
        image.draft("RGB", (min_side, min_side))
    image.load()
    # Read after load(): a PNG may keep its EXIF after the pixels.
    orientation = image.getexif().get(0x0112, 1)
    if orientation != 1:
        image = ImageOps.exif_transpose(image)
        if orientation in (5, 6, 7, 8):  # quarter turns swap the sides
            width, height = height, width
    if image.mode != "RGB":
        image = image.convert("RGB")
    return DecodedImage(pixels=image, width=width, height=height)


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
