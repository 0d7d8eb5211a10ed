"""What a model is expected to take, and what the container has free (cgroup v2, v1, meminfo)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.errors import ModelError
from inference.manifest import ModelManifest
from inference.memory import MIB, available_memory, limit_setting, model_estimate


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def probe(tmp_path: Path) -> int:
    return available_memory(tmp_path / "v2", tmp_path / "v1", tmp_path / "meminfo")


def test_cgroup_v2_room_when_less_than_the_machine_has(tmp_path: Path):
    write(tmp_path / "v2" / "memory.max", "1073741824\n")
    write(tmp_path / "v2" / "memory.current", "268435456\n")
    write(tmp_path / "meminfo", "MemTotal: 16000000 kB\nMemAvailable:    8000000 kB\n")
    assert probe(tmp_path) == 768 * MIB


def test_no_cgroup_limit_falls_back_to_mem_available(tmp_path: Path):
    write(tmp_path / "v2" / "memory.max", "max\n")
    write(tmp_path / "v2" / "memory.current", "268435456\n")
    write(tmp_path / "v1" / "memory.limit_in_bytes", str(2**63 - 4096))  # v1's "no limit"
    write(tmp_path / "v1" / "memory.usage_in_bytes", "1")
    write(tmp_path / "meminfo", "MemAvailable:    1024 kB\n")
    assert probe(tmp_path) == 1024 * 1024


def test_cgroup_v1_limit(tmp_path: Path):
    write(tmp_path / "v1" / "memory.limit_in_bytes", str(512 * MIB))
    write(tmp_path / "v1" / "memory.usage_in_bytes", str(600 * MIB))
    write(tmp_path / "meminfo", "MemAvailable:    8000000 kB\n")
    assert probe(tmp_path) == 0  # over its limit already: nothing more fits


def test_estimate_is_per_interpreter_and_per_byte(movenet_dir: Path, blazepose_dir: Path):
    movenet = model_estimate(movenet_dir, ModelManifest.read(movenet_dir))
    blazepose = model_estimate(blazepose_dir, ModelManifest.read(blazepose_dir))
    movenet_bytes = sum(path.stat().st_size for path in movenet_dir.glob("*.tflite"))
    blazepose_bytes = sum(path.stat().st_size for path in blazepose_dir.glob("*.tflite"))
    assert movenet == 24 * MIB + 4 * movenet_bytes
    assert blazepose == 2 * 24 * MIB + 4 * blazepose_bytes


@pytest.mark.parametrize(("value", "expected"), [(None, None), (" ", None), ("200", 200 * MIB)])
def test_models_memory_setting(value, expected):
    assert limit_setting(value) == expected


@pytest.mark.parametrize("value", ["0", "-5", "1.5", "lots"])
def test_a_bad_models_memory_setting_stops_the_server(value):
    with pytest.raises(ModelError, match="POSE_MODELS_MEMORY_MB: must be a whole number of MiB"):
        limit_setting(value)
