"""People found: inference.evaluation's one-to-one matching of listed people to annotated ones, and
the pipeline listing everyone in a photo of two (and paying a bounded amount for the search)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from inference.catalog import CATALOG, DEFAULT_MODEL
from inference.evaluation import (
    GroundTruthPerson,
    PeopleFound,
    fit,
    match_people,
    recall_of,
    response_people,
)
from inference.fetch import fetch
from inference.pipelines.blazepose import BELOW_PROPOSALS
from inference.pipelines.blazepose_detector import Candidates, find_people
from inference.predictor import Predictor


def person(x0: float, labelled: int = 17, size: float = 100.0) -> GroundTruthPerson:
    """A person whose keypoints lie on a vertical line at x0, `size` px tall, the first `labelled` labelled."""
    keypoints = np.zeros((17, 3))
    keypoints[:, 0] = x0
    keypoints[:, 1] = np.linspace(0, size, 17)
    keypoints[:labelled, 2] = 2
    return GroundTruthPerson(keypoints, (x0 - size / 4, 0.0, size / 2, size))


def points_of(truth: GroundTruthPerson, shift: float = 0.0) -> np.ndarray:
    return truth.keypoints[:, :2] + (shift, 0.0)


def test_fit_is_the_share_of_labelled_keypoints_within_a_fifth_of_the_persons_own_diagonal():
    truth = person(0.0)  # diagonal hypot(50, 100) = 111.8 px: 0.2 of it is 22.4 px
    assert fit(points_of(truth, 22.0), truth) == 1.0 and fit(points_of(truth, 23.0), truth) == 0.0
    small = person(0.0, size=10.0)  # the same 22 px is far off for a person ten times smaller
    assert fit(points_of(small, 22.0), small) == 0.0
    half_wrong = points_of(truth)
    half_wrong[:8] += 500.0
    assert fit(half_wrong, truth) == pytest.approx(9 / 17)
    only_some = person(0.0, labelled=4)  # unlabelled keypoints are not judged
    wild = points_of(only_some)
    wild[4:] = 1e6
    assert fit(wild, only_some) == 1.0


def test_each_annotated_person_matches_at_most_one_found_person_and_the_rest_are_extra():
    left, right = person(0.0), person(300.0)
    twice_left = [points_of(left), points_of(left, 5.0)]
    assert match_people("a", twice_left, [left, right]) == PeopleFound("a", 2, 1, 1)
    both = [points_of(right, 3.0), points_of(left)]
    assert match_people("b", both, [left, right]) == PeopleFound("b", 2, 2, 0)
    nowhere = [points_of(left, 1000.0)]
    assert match_people("c", nowhere, [left]) == PeopleFound("c", 1, 0, 1)
    unlabelled = GroundTruthPerson(np.zeros((17, 3)), (0.0, 0.0, 10.0, 10.0))
    assert match_people("d", [], [left, unlabelled]) == PeopleFound("d", 1, 0, 0)


def test_the_best_fit_is_paired_first_so_a_between_prediction_does_not_steal_a_person():
    left, right = person(0.0), person(40.0)  # close together: a prediction can fit both
    between = points_of(left, 20.0)  # fits both fully (within 22.4 px of each)
    exact_left = points_of(left)
    result = match_people("e", [between, exact_left], [left, right])
    assert (result.matched, result.extra) == (2, 0)


def test_recall_is_matched_over_annotated_across_photos():
    recall = recall_of([PeopleFound("a", 4, 1, 0), PeopleFound("b", 1, 1, 2)])
    assert (recall.recall, recall.matched, recall.annotated, recall.extra) == (0.4, 2, 5, 2)


def test_a_response_lists_its_people_else_its_one_person_else_none():
    keypoints = [{"x": 1.0, "y": 2.0}] * 17
    listed = {"people": [{"keypoints": keypoints}] * 2, "keypoints": keypoints, "person_detected": True}
    assert len(response_people(listed)) == 2
    single = {"keypoints": keypoints, "person_detected": True}
    assert [p.shape for p in response_people(single)] == [(17, 2)]
    assert response_people({"people": [], "keypoints": [], "person_detected": False}) == []


def test_the_detector_proposes_the_best_few_under_its_threshold_after_the_sure_ones_only_when_asked():
    boxes = np.array([[0.0, 0.0, 0.3, 0.3], [0.5, 0.5, 0.9, 0.9], [0.0, 0.6, 0.3, 0.9], [0.6, 0.0, 0.9, 0.3]])
    candidates = Candidates(np.array([0.8, 0.4, 0.3, 0.2]), boxes, np.zeros((4, 4, 2)))
    assert [d.score for d in find_people(candidates)] == [0.8]
    assert [d.score for d in find_people(candidates, below=2)] == [0.8, 0.4, 0.3]


@pytest.fixture(scope="module")
def default() -> Predictor:
    return Predictor(fetch(CATALOG[DEFAULT_MODEL]))


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def test_two_clearly_separate_people_are_both_listed(default, eval_photos):
    """Two one-person eval photos pasted side by side: each annotated person is matched."""
    alone = [photo for photo in eval_photos if len(photo.people) == 1][:2]
    left, right = (Image.open(photo.path).convert("RGB") for photo in alone)
    pair = Image.new("RGB", (left.width + right.width, max(left.height, right.height)))
    pair.paste(left, (0, 0))
    pair.paste(right, (left.width, 0))
    moved = alone[1].people[0].keypoints.copy()
    moved[:, 0] += left.width
    x, y, w, h = alone[1].people[0].bbox
    truth = [alone[0].people[0], GroundTruthPerson(moved, (x + left.width, y, w, h))]
    response = default.predict(jpeg(pair), "image/jpeg")
    assert match_people("pair", response_people(response), truth) == PeopleFound("pair", 2, 2, 0)


def test_the_search_under_the_threshold_costs_a_one_person_photo_a_bounded_number_of_passes(
    default, photo_785
):
    pipeline = default.pipeline
    calls: list[int] = []
    invoke = pipeline.landmark_model.invoke

    def counted() -> None:
        calls.append(1)
        invoke()

    pipeline.landmark_model.invoke = counted
    try:
        default.predict(photo_785, "image/jpeg")
        with_search = len(calls)
        pipeline.below, calls[:] = 0, []
        default.predict(photo_785, "image/jpeg")
        without = len(calls)
    finally:
        pipeline.below = BELOW_PROPOSALS
        del pipeline.landmark_model.invoke
    assert without <= with_search <= without + 2 * BELOW_PROPOSALS
