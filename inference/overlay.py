"""A copy of a photo with every person's skeleton drawn on it, as the web page draws them.

Coordinates in a response are pixels of the upright photo (EXIF orientation applied), so the copy
is turned upright too before drawing.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageOps

from inference.keypoints import COCO_LIMBS

# As the web page: Okabe & Ito's colour-blind-safe palette, one colour per person, best first.
PERSON_COLORS = ("#e69f00", "#56b4e9", "#009e73", "#f0e442", "#cc79a7", "#d55e00", "#0072b2")
LOW_SCORE = 0.3  # points below it are drawn hollow and grey, their limbs thin and grey
LOW_COLOR = (226, 232, 240)
OUTLINE_COLOR = (15, 23, 42)
OVERLAY_FORMAT = "JPEG"
OVERLAY_QUALITY = 90


def people_keypoints(document: dict) -> list[list[dict]]:
    """Each person's 17 keypoints: every entry of `people` when present, else the top-level pose."""
    people = document.get("people")
    if isinstance(people, list):
        return [
            person["keypoints"] for person in people if isinstance(person, dict) and person.get("keypoints")
        ]
    if document.get("person_detected") and document.get("keypoints"):
        return [document["keypoints"]]
    return []


def draw_overlay(photo: bytes, document: dict) -> bytes:
    """The photo, upright, with each person of the response drawn in their own colour (JPEG)."""
    with Image.open(io.BytesIO(photo)) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    canvas = ImageDraw.Draw(image)
    line = max(2, round(max(image.size) / 200))
    for index, keypoints in enumerate(people_keypoints(document)):
        _draw_person(canvas, keypoints, PERSON_COLORS[index % len(PERSON_COLORS)], line)
    encoded = io.BytesIO()
    image.save(encoded, OVERLAY_FORMAT, quality=OVERLAY_QUALITY)
    return encoded.getvalue()


def _draw_person(canvas: ImageDraw.ImageDraw, keypoints: Sequence[dict], color: str, line: int) -> None:
    points = [(point["x"], point["y"]) for point in keypoints]
    confident = [point["score"] >= LOW_SCORE for point in keypoints]
    for a, b in COCO_LIMBS:
        if a >= len(points) or b >= len(points):
            continue
        if confident[a] and confident[b]:
            canvas.line([points[a], points[b]], fill=OUTLINE_COLOR, width=line + 2)
            canvas.line([points[a], points[b]], fill=color, width=line)
        else:
            canvas.line([points[a], points[b]], fill=LOW_COLOR, width=max(1, line // 2))
    radius = max(3.5, line * 1.6)
    for (x, y), sure in zip(points, confident, strict=True):
        circle = (x - radius, y - radius, x + radius, y + radius)
        if sure:
            canvas.ellipse(circle, fill=color, outline=OUTLINE_COLOR, width=max(1, line // 2))
        else:
            canvas.ellipse(circle, outline=LOW_COLOR, width=max(1, line // 2))
