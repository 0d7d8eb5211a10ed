"""The container engine the image tests drive: podman (or docker), a Debian base made with
debootstrap when Docker Hub is out of reach, and builds of the two Dockerfiles on it.

Nothing here is the product: it is how `make image-test` gets real images on a machine with no
registry but Debian's and PyPI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The base made here: Debian bookworm with Debian's Python 3.11, the same release as the
# Dockerfiles' default python:3.11-slim-bookworm.
LOCAL_BASE = "localhost/pose-base:bookworm"
DEBIAN_MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
BASE_PACKAGES = "python3,python3-pip,ca-certificates"
# The machine's CA bundle: where a TLS-inspecting proxy's certificate lives, pip inside a build
# needs it to reach PyPI.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
INSTALL_HINT = "apt-get install podman buildah runc debootstrap (Debian), or install docker"


class EngineMissing(Exception):
    """No usable container engine or base: the one line says what to install."""


@dataclass(frozen=True)
class Engine:
    command: str

    def run(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.command, *args], capture_output=True, text=True, timeout=timeout, check=check
        )

    def image_exists(self, reference: str) -> bool:
        return self.run("image", "inspect", reference, check=False).returncode == 0

    def image_size_mb(self, reference: str) -> float:
        size = self.run("image", "inspect", "--format", "{{.Size}}", reference).stdout.strip()
        return int(size) / 1e6

    def build(self, dockerfile: str, tag: str, base: str | None) -> None:
        args = ["build", "--file", dockerfile, "--tag", tag]
        if base:
            args += ["--build-arg", f"BASE_IMAGE={base}"]
        if HOST_CA_BUNDLE.is_file() and self.command.endswith("podman"):
            args += ["--volume", f"{HOST_CA_BUNDLE}:{HOST_CA_BUNDLE}:ro"]
        built = self.run(*args, str(REPO), check=False, timeout=1800)
        if built.returncode != 0:
            raise AssertionError(f"{self.command} build -f {dockerfile} failed:\n{built.stderr[-4000:]}")


def find_engine() -> Engine:
    for name in ("podman", "docker"):
        path = shutil.which(name)
        if path and subprocess.run([path, "info"], capture_output=True, timeout=60).returncode == 0:
            return Engine(path)
    raise EngineMissing(f"no working container engine (podman or docker) on PATH: {INSTALL_HINT}")


def base_image(engine: Engine) -> str | None:
    """The base to build on: POSE_BASE_IMAGE, the Dockerfiles' default where a registry answers
    (POSE_BASE_IMAGE=default), or a Debian base made here once with debootstrap and kept in the
    engine's image store."""
    chosen = os.environ.get("POSE_BASE_IMAGE", "")
    if chosen == "default":
        return None
    if chosen:
        return chosen
    if not engine.image_exists(LOCAL_BASE):
        make_debian_base(engine)
    return LOCAL_BASE


def make_debian_base(engine: Engine) -> None:
    debootstrap = shutil.which("debootstrap")
    if not debootstrap:
        raise EngineMissing(
            f"debootstrap is needed to make the base image offline from Docker Hub: {INSTALL_HINT}"
        )
    with tempfile.TemporaryDirectory(prefix="pose-base-") as scratch:
        root = Path(scratch) / "rootfs"
        made = subprocess.run(
            [
                debootstrap,
                "--variant=minbase",
                f"--include={BASE_PACKAGES}",
                "bookworm",
                str(root),
                DEBIAN_MIRROR,
            ],
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        if made.returncode != 0:
            raise EngineMissing(
                f"debootstrap failed (it needs root and {DEBIAN_MIRROR}): {made.stdout[-500:]}"
            )
        for leftover in (
            "var/cache/apt",
            "var/lib/apt/lists",
            "usr/share/doc",
            "usr/share/man",
            "usr/share/locale",
        ):
            shutil.rmtree(root / leftover, ignore_errors=True)
        # Our base's Python is the image's own, as in python:3.11-slim: pip may install into it.
        (root / "etc" / "pip.conf").write_text("[global]\nbreak-system-packages = true\n")
        archive = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            [engine.command, "import", "--change", 'CMD ["/bin/bash"]', "-", LOCAL_BASE],
            stdin=archive.stdout,
            capture_output=True,
            timeout=600,
            check=False,
        )
        archive.wait()
        if imported.returncode != 0:
            raise EngineMissing(f"{engine.command} import of the base failed: {imported.stderr[-500:]!r}")
