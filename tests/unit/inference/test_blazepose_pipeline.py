"""BlazePose two-stage through `Predictor.predict`: turned, cut, small, crowded and empty photos."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from inference.errors import ModelError
from inference.evaluation import single_stage_dir
from inference.pipelines.blazepose import TRACKING_PASSES, BlazePosePipeline
from inference.predictor import Predictor

NEAR = 0.2  # of the person's bbox diagonal


@pytest.fixture(scope="module")
def predictor(blazepose_dir) -> Predictor:
    return Predictor(blazepose_dir)


@pytest.fixture(scope="module")
def standing(eval_photos):
    """000000000785.jpg: one standing skier, all 17 keypoints labelled, and its annotation."""
    photo = next(photo for photo in eval_photos if photo.path.name == "000000000785.jpg")
    return Image.open(photo.path).convert("RGB"), photo.people[0]


def jpeg(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, **options)
    return buffer.getvalue()


def on_person(response: dict, truth: np.ndarray, diagonal: float) -> float:
    """The fraction of the labelled keypoints (v > 0 in `truth`, (17, 3)) within NEAR x diagonal."""
    predicted = np.array([[k["x"], k["y"]] for k in response["keypoints"]])
    labelled = truth[:, 2] > 0
    distance = np.linalg.norm(predicted[labelled] - truth[labelled, :2], axis=1)
    return float(np.mean(distance <= NEAR * diagonal))


@pytest.mark.parametrize("colour", [(128, 128, 128), (0, 0, 0), (255, 255, 255)])
def test_a_photo_without_a_person_answers_no_person_and_no_keypoints(predictor, colour):
    response = predictor.predict(jpeg(Image.new("RGB", (640, 480), colour)), "image/jpeg")
    assert (response["person_detected"], response["score"], response["keypoints"]) == (False, 0.0, [])
    assert "landmarks" not in response and response["people"] == []


def turn_points(points: np.ndarray, turn: Image.Transpose, size: tuple[int, int]) -> np.ndarray:
    """Where PIL's `transpose(turn)` moves (x, y) points of a `size` photo; v stays."""
    width, height = size
    x, y, v = points.T
    moved = {
        Image.Transpose.ROTATE_90: (y, width - x),  # a quarter turn counter-clockwise
        Image.Transpose.ROTATE_180: (width - x, height - y),
        Image.Transpose.ROTATE_270: (height - y, x),
    }[turn]
    return np.stack([*moved, v], axis=1)


@pytest.mark.parametrize(
    "turn", [Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270]
)
def test_a_person_lying_or_upside_down_still_gets_keypoints_on_them(predictor, standing, turn):
    image, person = standing
    response = predictor.predict(jpeg(image.transpose(turn)), "image/jpeg")
    truth = turn_points(person.keypoints, turn, image.size)
    assert response["person_detected"] and on_person(response, truth, person.diagonal) >= 0.9


def test_a_person_cut_by_the_photo_border_gets_keypoints_on_the_visible_part(predictor, standing):
    image, person = standing
    left = 330  # through the skier's right arm (the bbox starts at x = 281)
    truth = person.keypoints - [left, 0, 0]
    truth[truth[:, 0] < 0, 2] = 0  # cut off: no longer scored
    response = predictor.predict(jpeg(image.crop((left, 0, *image.size))), "image/jpeg")
    assert response["person_detected"] and on_person(response, truth, person.diagonal) >= 0.9


def test_a_person_in_a_corner_of_a_large_photo_is_found(predictor, standing):
    image, person = standing
    canvas = Image.new("RGB", (3200, 2400), (90, 110, 130))
    canvas.paste(image.resize((1280, 850)), (1900, 1500))  # the skier is 0.29 of the photo's height
    response = predictor.predict(jpeg(canvas), "image/jpeg")
    truth = person.keypoints * [2, 2, 1] + [1900, 1500, 0]
    assert response["person_detected"] and on_person(response, truth, 2 * person.diagonal) >= 0.9


def test_of_two_people_one_is_reported_with_all_keypoints_on_that_one(predictor, standing):
    image, person = standing
    canvas = Image.new("RGB", (1280, 425), (255, 255, 255))
    canvas.paste(image, (0, 0))
    canvas.paste(image.resize((320, 212)), (800, 100))
    response = predictor.predict(jpeg(canvas), "image/jpeg")
    big = on_person(response, person.keypoints, person.diagonal)
    small = on_person(response, person.keypoints * [0.5, 0.5, 1] + [800, 100, 0], person.diagonal / 2)
    assert response["person_detected"] and max(big, small) >= 0.9


def test_everyone_in_a_wide_photo_is_listed_each_with_keypoints_on_them(predictor, standing):
    image, person = standing
    canvas = Image.new("RGB", (3 * 640, 425), (255, 255, 255))
    for index in range(3):  # each a small figure in the whole photo's 224 px letterbox
        canvas.paste(image, (640 * index, 0))
    people = predictor.predict(jpeg(canvas), "image/jpeg")["people"]
    found = sorted(people, key=lambda found_person: found_person["box"]["x"])
    assert len(found) == 3
    for index, found_person in enumerate(found):
        truth = person.keypoints + np.array([640 * index, 0, 0])
        assert on_person(found_person, truth, person.diagonal) >= 0.9


def test_max_people_caps_the_list_and_the_top_level_is_the_first_person(predictor, standing):
    image, _ = standing
    canvas = Image.new("RGB", (1280, 425), (255, 255, 255))
    canvas.paste(image, (0, 0))
    canvas.paste(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (640, 0))
    both, one = (predictor.predict(jpeg(canvas), "image/jpeg", max_people=count) for count in (5, 1))
    assert (len(both["people"]), len(one["people"])) == (2, 1)
    for response in (both, one):
        best = response["people"][0]
        assert (best["keypoints"], best["landmarks"], best["score"]) == (
            response["keypoints"],
            response["landmarks"],
            response["score"],
        )
        box = best["box"]
        xs, ys = [k["x"] for k in best["landmarks"]], [k["y"] for k in best["landmarks"]]
        assert (box["x"], box["y"]) == (min(xs), min(ys))
        assert (box["width"], box["height"]) == pytest.approx(
            (max(xs) - min(xs), max(ys) - min(ys)), abs=0.02
        )


def test_an_exif_rotated_photo_gives_the_upright_photos_keypoints(predictor, standing):
    image, _ = standing
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view", as a phone stores a portrait shot
    sideways = jpeg(image.transpose(Image.Transpose.ROTATE_90), exif=exif.tobytes())
    turned, upright = predictor.predict(sideways, "image/jpeg"), predictor.predict(jpeg(image), "image/jpeg")
    assert turned["image"] == upright["image"] == {"width": 640, "height": 425}
    moved = [
        np.hypot(a["x"] - b["x"], a["y"] - b["y"])
        for a, b in zip(*(turned["keypoints"], upright["keypoints"]), strict=True)
    ]
    assert max(moved) <= 10.0  # re-encoding alone moves keypoints by a few pixels


def test_a_landmark_model_without_its_detector_runs_on_the_whole_photo(blazepose_dir, tmp_path, photo_785):
    predictor = Predictor(single_stage_dir(blazepose_dir, tmp_path))
    response = predictor.predict(photo_785, "image/jpeg")
    assert predictor.pipeline.decode_side == 256 and response["person_detected"]
    assert len(response["keypoints"]) == 17 and len(response["landmarks"]) == 33


def test_a_detector_that_is_not_pose_detection_is_refused(blazepose_dir):
    landmarks = blazepose_dir / "pose_landmark_full.tflite"
    with pytest.raises(ModelError, match="pose_detection"):
        BlazePosePipeline(landmarks, detector_path=landmarks)


def test_only_the_person_the_response_leads_with_is_tracked_again(blazepose_dir, eval_photos):
    """A crowded photo (five people): the extra tracking passes go to the best person alone."""
    photo = next(photo for photo in eval_photos if photo.path.name == "000000197388.jpg")
    invokes = {}
    for passes in (1, TRACKING_PASSES):
        predictor = Predictor(blazepose_dir)
        predictor.pipeline.passes = passes
        model, calls = predictor.pipeline.landmark_model, []
        invoke = model.invoke
        model.invoke = lambda invoke=invoke, calls=calls: (calls.append(1), invoke())
        response = predictor.predict(photo.data, "image/jpeg")
        invokes[passes] = (len(calls), len(response["people"]))
    (single, people), (tracked, tracked_people) = invokes[1], invokes[TRACKING_PASSES]
    assert people == tracked_people >= 2
    assert single < tracked <= single + TRACKING_PASSES - 1


@pytest.mark.parametrize(
    ("value", "passes"), [(None, TRACKING_PASSES), ("", TRACKING_PASSES), ("1", 1), (" 2 ", 2)]
)
def test_pose_tracking_passes_sets_the_passes_a_predictor_tracks_with(
    blazepose_dir, monkeypatch, value, passes
):
    if value is None:
        monkeypatch.delenv("POSE_TRACKING_PASSES", raising=False)
    else:
        monkeypatch.setenv("POSE_TRACKING_PASSES", value)
    assert Predictor(blazepose_dir).pipeline.passes == passes


def test_a_bad_pose_tracking_passes_refuses_to_load_the_model(blazepose_dir, monkeypatch):
    monkeypatch.setenv("POSE_TRACKING_PASSES", "9")
    with pytest.raises(ModelError, match=r"^POSE_TRACKING_PASSES: must be 1, 2 or 3, got '9'"):
        Predictor(blazepose_dir)
