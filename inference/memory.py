"""How much memory a model takes once loaded, and how much the container has free.

A multi-model endpoint answers 507 to a load that will not fit, and SageMaker then unloads
models it has not used lately and asks again; so the guess must be made before loading.
"""

from __future__ import annotations

import ctypes
import logging
from pathlib import Path

from inference.errors import ModelError
from inference.manifest import ModelManifest

log = logging.getLogger(__name__)

MIB = 1024 * 1024
# Measured in one process per model (USS after loading and one 640x425 photo, XNNPACK on):
# movenet-lightning 2.9 MB of files took 12 MB, blazepose-lite 5.8 MB took 52-67 MB, full 9.4 MB
# took 75 MB, heavy 30.7 MB took 112 MB. A fixed cost per interpreter (its tensor arena and
# delegate) plus the weights unpacked covers each with room: 24 MiB + 4 x the file's size.
BYTES_PER_FILE_BYTE = 4
BYTES_PER_INTERPRETER = 24 * MIB
CGROUP_V2 = Path("/sys/fs/cgroup")
CGROUP_V1 = Path("/sys/fs/cgroup/memory")
MEMINFO = Path("/proc/meminfo")
# A cap on what the loaded models may take together (estimated), for a host shared with others.
MODELS_MEMORY_ENV = "POSE_MODELS_MEMORY_MB"


def model_estimate(model_dir: Path, manifest: ModelManifest) -> int:
    """Bytes one worker process needs for this model (one interpreter per file)."""
    sizes = [manifest.path_of(model_dir, role).stat().st_size for role in manifest.files]
    return sum(BYTES_PER_INTERPRETER + BYTES_PER_FILE_BYTE * size for size in sizes)


def available_memory(
    cgroup_v2: Path = CGROUP_V2, cgroup_v1: Path = CGROUP_V1, meminfo: Path = MEMINFO
) -> int:
    """The least of what the container's cgroup still allows and what the machine has available."""
    figures = [
        figure
        for figure in (_cgroup_room(cgroup_v2, cgroup_v1), _mem_available(meminfo))
        if figure is not None
    ]
    return min(figures) if figures else 0


def _cgroup_room(v2: Path, v1: Path) -> int | None:
    """limit - usage of this container's memory cgroup; None when it has no limit."""
    for limit_file, usage_file in (
        (v2 / "memory.max", v2 / "memory.current"),
        (v1 / "memory.limit_in_bytes", v1 / "memory.usage_in_bytes"),
    ):
        limit, usage = _read_number(limit_file), _read_number(usage_file)
        # cgroup v1 says "no limit" with a number near 2**63.
        if limit is not None and usage is not None and limit < 1 << 60:
            return max(limit - usage, 0)
    return None


def _mem_available(meminfo: Path) -> int | None:
    try:
        lines = meminfo.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024  # kB
    return None


def _read_number(path: Path) -> int | None:
    """A cgroup file's number; None for "max", or when the file is not there."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def release_freed_memory() -> None:
    """Hand memory freed by an unloaded model back to the system now (glibc keeps it otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: its allocator returns memory its own way
        log.debug("malloc_trim is not available")


def limit_setting(value: str | None) -> int | None:
    """POSE_MODELS_MEMORY_MB in bytes, or None (no cap) when unset; a bad value stops the server."""
    if value is None or not value.strip():
        return None
    if not value.strip().isdigit() or int(value) < 1:
        raise ModelError(
            f"must be a whole number of MiB of at least 1, got {value[:40]!r}",
            where=MODELS_MEMORY_ENV,
            hint="unset it to use what the container has free",
        )
    return int(value) * MIB
