"""Fixtures of `make image-test`: both images built once per run on the engine found here."""

from __future__ import annotations

import pytest

from tests.conftest import STRICT
from tests.images.engine import Engine, EngineMissing, base_image, find_engine

_BUILT: dict[str, Engine] = {}

INFERENCE_IMAGE = "localhost/pose-inference:test"
MONITORING_IMAGE = "localhost/pose-monitoring:test"


def _missing(error: EngineMissing):
    if STRICT:
        pytest.fail(f"{error} (STRICT_TESTS=1 runs every test)", pytrace=False)
    pytest.skip(str(error))


@pytest.fixture(scope="session")
def engine() -> Engine:
    try:
        return find_engine()
    except EngineMissing as error:
        _missing(error)


@pytest.fixture(scope="session")
def base(engine: Engine) -> str | None:
    try:
        return base_image(engine)
    except EngineMissing as error:
        _missing(error)


@pytest.fixture(scope="session")
def inference_image(engine: Engine, base: str | None) -> str:
    engine.build("inference/Dockerfile", INFERENCE_IMAGE, base)
    _BUILT[INFERENCE_IMAGE] = engine
    return INFERENCE_IMAGE


@pytest.fixture(scope="session")
def monitoring_image(engine: Engine, base: str | None) -> str:
    engine.build("monitoring/Dockerfile", MONITORING_IMAGE, base)
    _BUILT[MONITORING_IMAGE] = engine
    return MONITORING_IMAGE


def pytest_terminal_summary(terminalreporter) -> None:
    """What each image weighs, printed after the results (the README quotes it)."""
    for image, engine in _BUILT.items():
        terminalreporter.write_line(f"image size: {image} {engine.image_size_mb(image):.0f} MB")
