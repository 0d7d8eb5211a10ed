"""`endpoint.models`: several catalog models on one multi-model endpoint, refused precisely when wrong."""

from __future__ import annotations

import pytest

from deployment.config import parse_config
from deployment.errors import ConfigError

THREE = ["blazepose-heavy", "blazepose-lite", "movenet-lightning"]


def refusal(document: dict) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_config(document, source="config.yml")
    assert raised.value.exit_code == 2 and "\n" not in str(raised.value)
    return str(raised.value)


def models(names: object, **sections: dict) -> dict:
    return {"endpoint": {"models": names}, **sections}


def test_the_listed_models_are_served_default_first():
    config = parse_config(models(THREE, model={"name": "blazepose-lite"}))

    assert config.endpoint.models == tuple(THREE)
    assert config.served_models == ("blazepose-lite", "blazepose-heavy", "movenet-lightning")


@pytest.mark.parametrize("absent", [{}, models([]), models(None)])
def test_no_models_is_todays_single_model_endpoint(absent):
    config = parse_config(absent)

    assert (config.endpoint.models, config.served_models) == ((), ())


REFUSED = {
    "not a catalog name": (
        models(["blazepose-heavy", "blazepose-huge"]),
        "config.yml: endpoint.models.1: 'blazepose-huge' is not a catalog model; use one of "
        "blazepose-heavy, blazepose-full, blazepose-lite, movenet-thunder, movenet-lightning",
    ),
    "a number among the names": (
        models(["blazepose-heavy", 7]),
        "config.yml: endpoint.models.1: Input should be a valid string",
    ),
    "one name, not a list": (
        models("blazepose-heavy"),
        "config.yml: endpoint.models: should be a list of catalog model names, "
        "e.g. [blazepose-heavy, blazepose-lite]",
    ),
    "a mapping": (
        models({"blazepose-heavy": True}),
        "config.yml: endpoint.models: should be a list of catalog model names, "
        "e.g. [blazepose-heavy, blazepose-lite]",
    ),
    "one model": (
        models(["blazepose-heavy"]),
        "config.yml: endpoint.models: one model is a single-model endpoint: list 2 to 10 catalog models, "
        "or remove endpoint.models and set model.name",
    ),
    "eleven models": (
        models(["blazepose-heavy", "blazepose-lite"] * 5 + ["movenet-thunder"]),
        "config.yml: endpoint.models: 11 models; list at most 10",
    ),
    "a duplicate": (
        models([*THREE, "blazepose-lite"]),
        "config.yml: endpoint.models: blazepose-lite is listed twice (items 1 and 3); keep one",
    ),
    "the default not listed": (
        models(["blazepose-lite", "movenet-lightning"]),
        "config.yml: model.name: blazepose-heavy is the default model, so it must be one of "
        "endpoint.models (blazepose-lite, movenet-lightning); add it there, or set model.name to one of them",
    ),
    "a custom model": (
        models(THREE, model={"path": "models/mine.tflite", "family": "movenet"}),
        "config.yml: endpoint.models: a model of your own (model.path or model.url) cannot be combined "
        "with endpoint.models in this version; list catalog models only, or remove endpoint.models",
    ),
    "serverless": (
        {
            "endpoint": {"models": THREE, "serverless": {}},
            "data_capture": {"enabled": False},
            "monitoring": {"enabled": False},
        },
        "config.yml: endpoint.serverless: SageMaker serverless endpoints cannot host several models "
        "(multi-model endpoints run on instances); remove serverless or endpoint.models",
    ),
    "the drop folder": (
        models(THREE, batch={"drop_folder": {"enabled": True}}),
        "config.yml: batch.drop_folder.enabled: the drop folder calls the endpoint without naming a model, "
        "which a multi-model endpoint requires; disable it or remove endpoint.models",
    ),
}


@pytest.mark.parametrize(("document", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_a_wrong_model_list_is_refused_naming_its_key(document, message):
    assert refusal(document) == message
