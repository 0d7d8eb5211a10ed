"""Real models on real photos, through `Predictor.predict` as the server calls it: accuracy floors.

Scored with inference.evaluation, the definitions benchmarks/accuracy.py reports (PCK@0.2 by torso
size and by bbox diagonal, each prediction matched with the annotated person it fits best), so the
floors and the benchmark measure the same thing.
"""

from __future__ import annotations

import pytest

from inference.evaluation import Summary, evaluate, summarize
from inference.predictor import Predictor

# Measured on the 20 eval photos (benchmarks/accuracy.py): torso / bbox PCK@0.2
#   BlazePose two-stage   0.711 / 0.921, a person in all 20 (landmark model alone: 0.534 / 0.770)
#   MoveNet Lightning     0.796 / 0.979
# Floors sit a little below, so a broken pre/post-processing change fails and normal variation does not.
TORSO_FLOORS = {"blazepose": 0.68, "movenet": 0.76}
BBOX_FLOORS = {"blazepose": 0.88, "movenet": 0.94}

MODELS = ("blazepose", "movenet")


@pytest.fixture(scope="module")
def predictors(blazepose_dir, movenet_dir) -> dict[str, Predictor]:
    return {"blazepose": Predictor(blazepose_dir), "movenet": Predictor(movenet_dir)}


@pytest.fixture(scope="module")
def summaries(predictors, eval_photos) -> dict[str, Summary]:
    return {model: summarize(evaluate(predictors[model], eval_photos)) for model in MODELS}


@pytest.mark.parametrize("model", MODELS)
def test_keypoints_land_on_the_person_within_a_fifth_of_the_torso(model, summaries):
    assert summaries[model].torso_pck >= TORSO_FLOORS[model]


@pytest.mark.parametrize("model", MODELS)
def test_keypoints_land_on_the_person_within_a_fifth_of_the_bbox_diagonal(model, summaries):
    assert summaries[model].bbox_pck >= BBOX_FLOORS[model]


def test_blazepose_finds_a_person_in_every_eval_photo(summaries):
    assert summaries["blazepose"].no_person == ()


@pytest.mark.parametrize("model", MODELS)
def test_the_response_reports_the_photos_own_size(model, predictors, photo_785):
    response = predictors[model].predict(photo_785, "image/jpeg")
    assert response["image"] == {"width": 640, "height": 425}


def test_movenet_singlepose_lists_its_one_person_without_landmarks(predictors, photo_785):
    response = predictors["movenet"].predict(photo_785, "image/jpeg", max_people=5)
    (person,) = response["people"]
    assert set(person) == {"score", "box", "keypoints"}
    assert (person["keypoints"], person["score"]) == (response["keypoints"], response["score"])
