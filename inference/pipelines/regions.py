"""Comparing the landmark model's regions, and tiling a large photo for the person detector.

Pure geometry on `RotatedRect`s in original-image pixels: whether two regions frame the same
person, whether a person's region has settled or is worth another landmark pass, and which
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
# A person is tracked again (MediaPipe's tracking between video frames, repeated on one photo)
# until their region settles: until no point of the body would move by one cell of the landmark
# model's 64 x 64 heatmap (a 64th of the region's side) through the centre moving, the side
# changing or the region turning. The body reaches REACH of the side from the centre (a region
# is 1.25 x the body's length). Even changes of a few cells move the landmarks that much.
HEATMAP_CELL = 1 / 64
REACH = 0.4
MOVED = HEATMAP_CELL
RESIZED = 1 + HEATMAP_CELL / REACH  # about 4 %
TURNED = HEATMAP_CELL / REACH  # radians: about 2.2 degrees
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
    """Has the person's own region not yet settled: did it move from the one their landmarks were found in?"""
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
