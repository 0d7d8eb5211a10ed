"""Real models on real photos, through `Predictor.predict` as the server calls it: accuracy floors.

Scored with inference.evaluation, the definitions benchmarks/accuracy.py reports (PCK@0.2 by torso
size and by bbox diagonal, each prediction matched with the annotated person it fits best), so the
floors and the benchmark measure the same thing.
"""

from __future__ import annotations

import pytest

from inference.catalog import CATALOG, DEFAULT_MODEL
from inference.evaluation import (
    Summary,
    evaluate,
    evaluate_all,
    false_person_rate,
    person_free_photos,
    recall_of,
    summarize,
)
from inference.fetch import fetch
from inference.predictor import Predictor

# Measured on the 20 eval photos (benchmarks/accuracy.py): torso / bbox PCK@0.2
#   blazepose-heavy (the default)   0.835 / 0.952, a person in all 20 (one landmark pass, MediaPipe's
#                                   single-image path: 0.771 / 0.936)
#   blazepose-full                  0.720 / 0.905, a person in all 20 (before the tracking passes and
#                                   the multi-person search: 0.711 / 0.921)
#   MoveNet Lightning               0.796 / 0.979
# Floors sit a little below, so a broken pre/post-processing change fails and normal variation does not.
TORSO_FLOORS = {"default": 0.82, "blazepose": 0.70, "movenet": 0.78}
BBOX_FLOORS = {"default": 0.94, "blazepose": 0.89, "movenet": 0.96}
# People found of the 28 annotated (one-to-one, inference/evaluation.py), and listed people matching
# nobody: the default 23 and 2 (22 before candidates under the detector's threshold were tried).
DEFAULT_PEOPLE_FOUND, DEFAULT_EXTRA_PEOPLE = 23, 2

MODELS = ("default", "blazepose", "movenet")


@pytest.fixture(scope="module")
def predictors(blazepose_dir, movenet_dir) -> dict[str, Predictor]:
    default = fetch(CATALOG[DEFAULT_MODEL])  # `make models` puts it in the cache
    return {
        "default": Predictor(default),
        "blazepose": Predictor(blazepose_dir),
        "movenet": Predictor(movenet_dir),
    }


@pytest.fixture(scope="module")
def summaries(predictors, eval_photos) -> dict[str, Summary]:
    return {model: summarize(evaluate(predictors[model], eval_photos)) for model in MODELS}


@pytest.mark.parametrize("model", MODELS)
def test_keypoints_land_on_the_person_within_a_fifth_of_the_torso(model, summaries):
    assert summaries[model].torso_pck >= TORSO_FLOORS[model]


@pytest.mark.parametrize("model", MODELS)
def test_keypoints_land_on_the_person_within_a_fifth_of_the_bbox_diagonal(model, summaries):
    assert summaries[model].bbox_pck >= BBOX_FLOORS[model]


@pytest.mark.parametrize("model", ["default", "blazepose"])
def test_blazepose_finds_a_person_in_every_eval_photo(model, summaries):
    assert summaries[model].no_person == ()


@pytest.mark.parametrize("model", MODELS)
def test_the_response_reports_the_photos_own_size(model, predictors, photo_785):
    response = predictors[model].predict(photo_785, "image/jpeg")
    assert response["image"] == {"width": 640, "height": 425}


def test_movenet_singlepose_lists_its_one_person_without_landmarks(predictors, photo_785):
    response = predictors["movenet"].predict(photo_785, "image/jpeg", max_people=5)
    (person,) = response["people"]
    assert set(person) == {"score", "box", "keypoints"}
    assert (person["keypoints"], person["score"]) == (response["keypoints"], response["score"])


def test_the_default_reports_people_in_person_free_photos_no_more_often_than_before(
    blazepose_dir, predictors
):
    """Generated textures, landscapes and objects (no eval photo): before is blazepose-full as it ran
    with the detector's best candidate only, no refinement and no tiles (benchmarks/accuracy.py)."""
    photos = list(person_free_photos(24))
    before = Predictor(blazepose_dir)
    before.pipeline.passes, before.pipeline.tile, before.pipeline.unsure, before.pipeline.confirm = (
        1,
        False,
        1,
        False,
    )
    before.pipeline.below = 0
    rate_before, _ = false_person_rate(before, photos, max_people=1)
    rate, wrong = false_person_rate(predictors["default"], photos)
    assert rate <= rate_before, wrong


def test_the_default_finds_the_annotated_people_and_few_others(predictors, eval_photos):
    _, found = evaluate_all(predictors["default"], eval_photos)
    recall = recall_of(found)
    assert recall.matched >= DEFAULT_PEOPLE_FOUND and recall.extra <= DEFAULT_EXTRA_PEOPLE, recall
