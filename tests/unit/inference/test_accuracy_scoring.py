"""inference.evaluation's scoring, as benchmarks/accuracy.py reports it: torso size, matching a
prediction to a person, misses."""

from __future__ import annotations

import numpy as np
import pytest

from inference.evaluation import GroundTruthPerson, score_photo, summarize, torso_size

LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP = 5, 6, 11, 12


def person(points: dict[int, tuple[float, float]], bbox=(0.0, 0.0, 30.0, 40.0)) -> GroundTruthPerson:
    keypoints = np.zeros((17, 3))
    for index, (x, y) in points.items():
        keypoints[index] = (x, y, 2)
    return GroundTruthPerson(keypoints, bbox)


TORSO = {
    LEFT_SHOULDER: (30.0, 0.0),
    RIGHT_SHOULDER: (0.0, 0.0),
    LEFT_HIP: (30.0, 40.0),
    RIGHT_HIP: (0.0, 40.0),
}


def test_torso_is_left_shoulder_to_right_hip_else_the_other_diagonal_else_none():
    assert torso_size(person(TORSO)) == pytest.approx(50.0)
    assert torso_size(person({**TORSO, RIGHT_HIP: (0.0, 80.0)})) == pytest.approx(np.hypot(30, 80))
    without_right_hip = person({k: v for k, v in TORSO.items() if k != RIGHT_HIP})
    assert torso_size(without_right_hip) == pytest.approx(50.0)  # right shoulder to left hip
    assert torso_size(person({LEFT_SHOULDER: (30.0, 0.0), RIGHT_SHOULDER: (0.0, 0.0)})) is None


def prediction_at(points: dict[int, tuple[float, float]], offset: float = 0.0) -> np.ndarray:
    predicted = np.full((17, 2), -1000.0)
    for index, (x, y) in points.items():
        predicted[index] = (x + offset, y)
    return predicted


def test_a_prediction_is_scored_against_the_person_it_fits_and_only_on_labelled_keypoints():
    near = person(TORSO)
    far = person({k: (x + 500, y) for k, (x, y) in TORSO.items()}, bbox=(500.0, 0.0, 30.0, 40.0))
    # Torso and bbox diagonal are both 50 px, so 0.2 of either is 10 px: 9 px off counts, 11 px not.
    score = score_photo("photo.jpg", prediction_at(TORSO, offset=9.0), [far, near])
    assert score.labelled.sum() == 4 and score.torso_hits.sum() == 4 and score.bbox_hits.sum() == 4
    score = score_photo("photo.jpg", prediction_at(TORSO, offset=11.0), [far, near])
    assert score.torso_hits.sum() == 0 and score.bbox_hits.sum() == 0


def test_no_person_found_counts_every_labelled_keypoint_of_the_main_person_as_missed():
    small = person({LEFT_SHOULDER: (1.0, 1.0)}, bbox=(0.0, 0.0, 5.0, 5.0))
    main = person(TORSO)
    unlabelled = GroundTruthPerson(np.zeros((17, 3)), (0.0, 0.0, 99.0, 99.0))
    found = score_photo("a.jpg", prediction_at(TORSO), [main])
    missed = score_photo("b.jpg", None, [small, main, unlabelled])
    assert (missed.person_found, missed.labelled.sum(), missed.torso_hits.sum()) == (False, 4, 0)
    summary = summarize([found, missed])
    assert (summary.torso_pck, summary.bbox_pck, summary.no_person) == (0.5, 0.5, ("b.jpg",))
    assert summary.per_keypoint["left_shoulder"] == 0.5 and summary.per_keypoint["nose"] is None
