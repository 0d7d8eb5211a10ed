"""Servers shared by the server's end-to-end tests: one per model, started once per module."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import free_port
from tests.e2e.server_client import (
    Server,
    encode,
    ready,
    running_server,
    serve_args,
)


@pytest.fixture(scope="module")
def blazepose_server(blazepose_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    args = serve_args(blazepose_dir, port, workers=2)
    with running_server(tmp_path_factory.mktemp("blazepose-server"), args, port) as server:
        yield ready(server, workers=2)


@pytest.fixture(scope="module")
def movenet_server(movenet_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    args = serve_args(movenet_dir, port, workers=1)
    with running_server(tmp_path_factory.mktemp("movenet-server"), args, port) as server:
        yield ready(server, workers=1)


@pytest.fixture(scope="module")
def photo_12mp(photo_785: bytes) -> bytes:
    """A phone-sized 4032x3024 JPEG (about 1 MB) made by upscaling the 640x425 photo."""
    upscaled = Image.open(io.BytesIO(photo_785)).resize((4032, 3024), Image.Resampling.BICUBIC)
    return encode(upscaled, "JPEG", quality=90)
