"""BlazePose two-stage geometry without a model: anchors, decoding, NMS, the ROI and the affine warp."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from inference.images import DecodedImage
from inference.pipelines.blazepose import refine_from_heatmap
from inference.pipelines.blazepose_detector import (
    Candidates,
    decode_candidates,
    find_people,
    ssd_anchors,
    weighted_nms,
)
from inference.pipelines.regions import differs, same_region, tiles
from inference.pipelines.roi import RotatedRect, crop_transform, roi_from_alignment, warp_crop, whole_photo

INPUT = 224


def test_anchors_match_mediapipe_layout():
    anchors = ssd_anchors()
    assert len(anchors) == 2254  # TensorsToDetectionsCalculator num_boxes
    # 28x28 cells x 2 anchors, then 14x14 x 2, then the three stride-32 layers as one 7x7 grid x 6.
    assert np.allclose(anchors[:2], [[0.5 / 28, 0.5 / 28]] * 2)
    assert np.allclose(anchors[2], [1.5 / 28, 0.5 / 28])  # row-major: x moves first
    assert np.allclose(anchors[1568], [0.5 / 14, 0.5 / 14])
    assert np.allclose(anchors[1568 + 392 : 1568 + 392 + 6], [[0.5 / 7, 0.5 / 7]] * 6)
    assert np.allclose(anchors[-1], [6.5 / 7, 6.5 / 7])


def raw_output(anchor: int, logit: float, values: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """A detector output where only `anchor` fires, with `values` as its 12 regressions (pixels)."""
    boxes = np.zeros((2254, 12), dtype=np.float32)
    scores = np.full((2254, 1), -10.0, dtype=np.float32)
    boxes[anchor] = values
    scores[anchor] = logit
    return boxes, scores


def test_decoding_offsets_box_and_keypoints_from_the_anchor_centre_in_input_pixels():
    anchors = ssd_anchors()
    #                        x, y,  w,  h,  kp0 x, y,  kp1 x, y,   kp2,    kp3
    boxes, scores = raw_output(700, 2.0, [5, -3, 40, 60, 0, 10, 0, -50, 1, 2, 3, 4])
    candidates = decode_candidates(boxes, scores, anchors, INPUT)
    centre, half_size = anchors[700] * INPUT + [5, -3], np.array([20, 30])
    assert candidates.scores[700] == pytest.approx(1 / (1 + math.exp(-2.0)))
    assert np.allclose(
        candidates.boxes[700] * INPUT, np.concatenate([centre - half_size, centre + half_size])
    )
    assert np.allclose(candidates.keypoints[700, :2] * INPUT, anchors[700] * INPUT + [[0, 10], [0, -50]])


def test_huge_logits_are_clipped_not_overflowing():
    boxes, scores = raw_output(0, 1e30, [0] * 12)
    with np.errstate(all="raise"):
        candidates = decode_candidates(boxes, scores, ssd_anchors(), INPUT)
    assert candidates.scores[0] == pytest.approx(1.0)


def candidates(*rows: tuple[float, list[float], float]) -> Candidates:
    """(score, box, keypoint x) rows; each keypoint's y is 0, so merging shows up in x."""
    return Candidates(
        np.array([score for score, _, _ in rows]),
        np.array([box for _, box, _ in rows], dtype=float),
        np.array([[[x, 0.0]] * 4 for _, _, x in rows]),
    )


def test_weighted_nms_averages_overlapping_detections_by_score_and_keeps_separate_people():
    found = weighted_nms(
        candidates(
            (0.6, [0.0, 0.0, 0.4, 0.4], 0.3),
            (0.9, [0.0, 0.0, 0.4, 0.4], 0.1),  # same person, more confident
            (0.8, [0.6, 0.6, 0.9, 0.9], 0.7),  # someone else
        )
    )
    assert [d.score for d in found] == [0.9, 0.8]
    assert found[0].keypoints[0, 0] == pytest.approx((0.9 * 0.1 + 0.6 * 0.3) / 1.5)
    assert found[1].keypoints[0, 0] == pytest.approx(0.7)


def test_without_a_confident_detection_the_best_few_candidates_are_proposed():
    unsure = candidates((0.2, [0.0, 0.0, 0.4, 0.4], 0.1), (0.3, [0.6, 0.6, 0.9, 0.9], 0.7))
    assert [d.score for d in find_people(unsure)] == [0.3, 0.2]
    assert [d.score for d in find_people(unsure, unsure=1)] == [0.3]
    sure = candidates((0.2, [0.0, 0.0, 0.4, 0.4], 0.1), (0.7, [0.6, 0.6, 0.9, 0.9], 0.7))
    assert [d.score for d in find_people(sure)] == [0.7]


@pytest.mark.parametrize(
    ("scale_point", "rotation"),
    [
        ((100.0, 100.0), 0.0),  # upright: the head is above the hips
        ((200.0, 200.0), math.pi / 2),  # lying, head to the right: turn a quarter clockwise
        ((0.0, 200.0), -math.pi / 2),  # lying, head to the left
        ((100.0, 300.0), -math.pi),  # upside down
    ],
)
def test_alignment_keypoints_give_a_square_roi_turned_so_the_head_is_up(scale_point, rotation):
    roi = roi_from_alignment(np.array([100.0, 200.0]), np.array(scale_point))
    assert roi == pytest.approx(RotatedRect(100.0, 200.0, 2 * 100 * 1.25, rotation))
    # The top centre of the crop is where the head points, 1.25 x the hip-to-head distance away.
    x, y = crop_transform(roi, 256).to_original(np.array([128.0]), np.array([0.0]))
    head = np.array([100.0, 200.0]) + 1.25 * (np.array(scale_point) - [100.0, 200.0])
    assert np.allclose([x[0], y[0]], head)


def test_a_detection_in_the_letterboxed_input_maps_to_the_roi_in_photo_pixels():
    # A 640x320 photo letterboxes into 224x224 at scale 0.35 with 56 px of padding above and below.
    photo = DecodedImage(Image.new("RGB", (640, 320)), 640, 320)
    letterbox = crop_transform(whole_photo(photo), INPUT)
    hips_and_head = np.array([[112.0, 112.0], [112.0, 77.0]])  # input pixels; the head 35 px above
    x, y = letterbox.to_original(hips_and_head[:, 0], hips_and_head[:, 1])
    assert np.allclose(np.stack([x, y], 1), [[320.0, 160.0], [320.0, 60.0]])
    roi = roi_from_alignment(np.array([x[0], y[0]]), np.array([x[1], y[1]]))
    assert roi == pytest.approx(RotatedRect(320.0, 160.0, 250.0, 0.0))


def blob_photo(size: tuple[int, int], centre: tuple[float, float], sigma: float) -> Image.Image:
    """A black photo with one smooth bright blob, whose centroid survives resampling."""
    y, x = np.mgrid[0 : size[1], 0 : size[0]] + 0.5  # pixel centres
    blob = np.exp(-((x - centre[0]) ** 2 + (y - centre[1]) ** 2) / (2 * sigma**2))
    return Image.fromarray(np.repeat((blob * 255).round().astype(np.uint8)[:, :, None], 3, axis=2))


def centroid(crop: np.ndarray) -> np.ndarray:
    weights = crop[:, :, 0].astype(float)
    y, x = np.mgrid[0 : crop.shape[0], 0 : crop.shape[1]] + 0.5
    return np.array([(x * weights).sum(), (y * weights).sum()]) / weights.sum()


@pytest.mark.parametrize(
    ("size", "draft", "centre", "roi", "sigma"),
    [
        ((640, 480), 1, (401.3, 157.8), RotatedRect(380.0, 190.0, 300.0, math.radians(30)), 6.0),
        ((640, 480), 2, (401.3, 157.8), RotatedRect(380.0, 190.0, 300.0, math.radians(-120)), 6.0),
        ((4000, 3000), 2, (2210.7, 1333.1), RotatedRect(2000.0, 1500.0, 2600.0, 0.4), 60.0),
    ],
    ids=["rotated", "draft-decoded", "box-reduced-large-roi"],
)
def test_warp_round_trips_a_point_to_a_fraction_of_a_crop_pixel(size, draft, centre, roi, sigma):
    """The blob's centre found in the crop, mapped back, lands where it was drawn."""
    pixels = blob_photo((size[0] // draft, size[1] // draft), (centre[0] / draft, centre[1] / draft), sigma)
    crop, transform = warp_crop(DecodedImage(pixels, *size), roi, 256)
    found = centroid(crop)
    x, y = transform.to_original(found[:1], found[1:])
    crop_pixel = roi.size / 256
    assert np.hypot(x[0] - centre[0], y[0] - centre[1]) <= 0.1 * crop_pixel
    back = transform.to_crop(x, y)
    assert np.allclose(np.concatenate(back), found)


def test_a_roi_past_the_photo_edge_is_padded_with_zeros():
    photo = DecodedImage(Image.new("RGB", (200, 100), (200, 150, 100)), 200, 100)
    roi = RotatedRect(190.0, 50.0, 100.0, 0.0)  # its right 40 % lies beyond the photo
    crop, _ = warp_crop(photo, roi, 100)
    assert (crop[:, :58] == [200, 150, 100]).all() and (crop[:, 62:] == 0).all()


def test_heatmap_refinement_takes_the_confident_weighted_mean_cell():
    heatmap = np.full((64, 64, 3), -10.0, dtype=np.float32)
    heatmap[20, 10, 0] = 10.0  # landmark 0: one confident cell at row 20, column 10
    heatmap[20, 10, 1] = -1.0  # landmark 1: the same cell, but below MediaPipe's 0.5
    points = np.array([[44.0, 84.0], [44.0, 84.0], [300.0, 84.0]])  # the last is off the crop
    refined = refine_from_heatmap(points, heatmap, (256, 256))
    assert np.allclose(refined, [[10 / 64 * 256, 20 / 64 * 256], points[1], points[2]], atol=0.01)


@pytest.mark.parametrize("size", [(640, 480), (480, 640), (4032, 3024), (3000, 1000), (500, 500)])
def test_tiles_cover_every_pixel_and_magnify_the_photo(size):
    width, height = size
    found = tiles(width, height)
    y, x = np.mgrid[0:height:7, 0:width:7] + 0.5
    covered = np.zeros(x.shape, dtype=bool)
    for tile in found:
        half = tile.size / 2
        covered |= (abs(x - tile.x_center) <= half) & (abs(y - tile.y_center) <= half)
    assert covered.all() and all(tile.size < max(size) for tile in found) and len(found) <= 4


def test_regions_of_one_person_are_the_same_and_of_a_neighbour_are_not():
    person = RotatedRect(100.0, 200.0, 250.0, 0.0)
    assert same_region(person, RotatedRect(110.0, 190.0, 230.0, 0.1))
    assert not same_region(person, RotatedRect(100.0 + 0.25 * 250, 200.0, 250.0, 0.0))  # side by side
    assert not same_region(person, RotatedRect(100.0, 200.0, 100.0, 0.0))  # a child in front


@pytest.mark.parametrize(
    ("refined", "again"),
    [
        (RotatedRect(101.0, 200.5, 252.0, 0.01), False),  # under a heatmap cell anywhere: settled
        (RotatedRect(105.0, 200.0, 250.0, 0.0), True),  # moved 5 px: more than a 64th of the side
        (RotatedRect(100.0, 200.0, 262.0, 0.0), True),  # 5 % larger: the feet move over a cell
        (RotatedRect(100.0, 200.0, 250.0, math.radians(3)), True),  # turned 3 degrees
        (RotatedRect(100.0, 200.0, 250.0, 2 * math.pi - 0.01), False),  # the same angle, wrapped
    ],
)
def test_another_landmark_pass_until_the_region_settles(refined, again):
    assert differs(refined, RotatedRect(100.0, 200.0, 250.0, 0.0)) is again
