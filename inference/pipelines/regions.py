"""Comparing the landmark model's regions, and tiling a large photo for the person detector.

Pure geometry on `RotatedRect`s in original-image pixels: whether two regions frame the same
person, whether a refined region moved enough to be worth another landmark pass, and which
squares of a photo to show the detector when people are too small for its 224 px letterbox.
"""

from __future__ import annotations

import math

from inference.pipelines.roi import RotatedRect, normalize_radians

# A region is another look at someone already found when its centre lies this close (in the
# smaller region's sides) and its size is within this factor: two people side by side have hip
# centres about a quarter of a region's side apart (a region is 1.25 x a body's length).
SAME_CENTRE = 0.15
SAME_SIZE = 1.5
# A landmark pass is repeated on the person's own region (MediaPipe's tracking between video
# frames) when it moved by a tenth of its side, grew or shrank by a quarter, or turned 15 degrees:
# less than that moves the crop by a few of the model's 256 input pixels.
MOVED = 0.1
RESIZED = 1.25
TURNED = math.radians(15)
# Tiles: squares of this fraction of the photo's longer side, two per axis where the photo is
# longer than one (they overlap by at least a fifth), so each shows people 1 / TILE_SIDE as large.
TILE_SIDE = 0.6


def _centre_distance(first: RotatedRect, second: RotatedRect) -> float:
    return math.hypot(first.x_center - second.x_center, first.y_center - second.y_center)


def _size_ratio(first: RotatedRect, second: RotatedRect) -> float:
    return max(first.size, second.size) / max(min(first.size, second.size), 1e-9)


def same_region(first: RotatedRect, second: RotatedRect) -> bool:
    """Do the two regions frame the same person?"""
    near = _centre_distance(first, second) <= SAME_CENTRE * min(first.size, second.size)
    return near and _size_ratio(first, second) <= SAME_SIZE


def differs(refined: RotatedRect, first: RotatedRect) -> bool:
    """Did the person's own region move materially from the one their landmarks were found in?"""
    turned = abs(normalize_radians(refined.rotation - first.rotation))
    return (
        _centre_distance(refined, first) > MOVED * first.size
        or _size_ratio(refined, first) > RESIZED
        or turned > TURNED
    )


def tiles(width: int, height: int) -> tuple[RotatedRect, ...]:
    """Overlapping upright squares that together cover a `width` x `height` photo."""
    side = TILE_SIDE * max(width, height)

    def centres(length: int) -> tuple[float, ...]:
        if length <= side:
            return (length / 2,)
        return (side / 2, length - side / 2)

    return tuple(RotatedRect(x, y, side, 0.0) for y in centres(height) for x in centres(width))
