"""A model's measured accuracy, as the registry records it: the committed results of
benchmarks/model_metrics.py, matched to a packaged model by the sha256 of its files.

The deploy never runs the benchmark (a fork has no evaluation photos): it looks the model up in
`benchmarks/results/model_metrics.json`, and when the files' sha256s match an entry it uploads that
entry as a ModelQuality statistics document next to the artifact and names it in CreateModelPackage.
A model nobody measured (another model of your own, or a catalog model changed since) gets none,
and the plan says so. https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ModelQuality.html
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from dataclasses import dataclass, replace
from pathlib import Path

from deployment.resources.artifact import Artifact
from deployment.resources.registry import BBOX_PCK, TORSO_PCK, ModelVersion
from inference.manifest import MANIFEST_NAME

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "model_metrics.json"
RESULTS_NAME = "benchmarks/results/model_metrics.json"
NOT_MEASURED = "no measured accuracy for this model"
STATISTICS_SUFFIX = "-quality-{digest}.json"  # beside `{stem}.tar.gz`: `{stem}-quality-{sha16}.json`


@dataclass(frozen=True)
class Measurement:
    """One model's line of the results file: what was measured, on what, when and by which command."""

    name: str
    version: str
    files: tuple[tuple[str, str], ...]  # (file name, sha256), sorted
    torso_pck: float
    bbox_pck: float
    without_person: tuple[str, ...]  # the eval photos where no person was found
    threshold: float  # PCK@threshold
    eval_set: str
    photos: int
    date: str
    command: str

    @property
    def digests(self) -> frozenset[str]:
        return frozenset(sha256 for _, sha256 in self.files)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "files": dict(self.files),
            "torso_pck": round(self.torso_pck, 4),
            "bbox_pck": round(self.bbox_pck, 4),
            "misses": len(self.without_person),
            "without_person": list(self.without_person),
            "pck_threshold": self.threshold,
            "eval_set": {"description": self.eval_set, "photos": self.photos},
            "date": self.date,
            "command": self.command,
        }

    @classmethod
    def from_json(cls, entry: dict) -> Measurement:
        return cls(
            entry["name"],
            entry["version"],
            tuple(sorted(entry["files"].items())),
            float(entry["torso_pck"]),
            float(entry["bbox_pck"]),
            tuple(entry["without_person"]),
            float(entry["pck_threshold"]),
            entry["eval_set"]["description"],
            int(entry["eval_set"]["photos"]),
            entry["date"],
            entry["command"],
        )

    def summary(self) -> str:
        """One line for the plan and the registry listing."""
        return (
            f"torso PCK@{self.threshold} {self.torso_pck:.3f}, bbox {self.bbox_pck:.3f}, "
            f"{len(self.without_person)} missed, on {self.photos} photos ({self.date})"
        )


@dataclass(frozen=True)
class Quality:
    """A packaged model's ModelQuality statistics, written locally for upload; or why there are none."""

    measurement: Measurement | None = None
    path: str = ""  # the statistics document, written locally
    sha256: str = ""
    reason: str = ""

    def note(self, model: str) -> str:
        if self.measurement is None:
            return f"{model}: no model metrics: {self.reason}"
        return f"{model}: model metrics {self.measurement.summary()}"


def load_results(path: Path = RESULTS) -> tuple[Measurement, ...]:
    """The measured models; none when the file is absent (a fork may remove it). ValueError when
    it is not what benchmarks/model_metrics.py writes."""
    if not path.is_file():
        return ()
    try:
        return tuple(Measurement.from_json(entry) for entry in json.loads(path.read_text())["models"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{RESULTS_NAME} is unreadable ({type(error).__name__}: {error})") from error


def packaged_digests(artifact: Path) -> frozenset[str] | None:
    """The sha256 of each model file in a model.tar.gz, from its model.json (None without one).

    inference/artifact.py writes model.json first (names sorted, model.json before any *.tflite
    of ours), so the stream is read only up to it."""
    try:
        with tarfile.open(artifact, "r|gz") as archive:
            for member in archive:
                if member.name == MANIFEST_NAME and member.isfile():
                    stream = archive.extractfile(member)
                    return frozenset(json.loads(stream.read())["sha256"].values()) if stream else None
    except (tarfile.TarError, OSError, ValueError, KeyError, AttributeError):
        return None
    return None


def quality_of(artifact: Path, out_dir: Path, results: Path = RESULTS) -> Quality:
    """The measurement whose files are exactly the artifact's, written as a statistics document."""
    digests = packaged_digests(artifact)
    if digests is None:
        return Quality(reason=f"{NOT_MEASURED} (the artifact has no readable {MANIFEST_NAME})")
    try:
        found = [m for m in load_results(results) if m.digests == digests]
    except ValueError as error:
        return Quality(reason=f"{NOT_MEASURED} ({error})")
    if not found:
        return Quality(reason=f"{NOT_MEASURED} (its files' sha256 match no entry of {RESULTS_NAME})")
    document = statistics_document(found[-1])
    sha256 = hashlib.sha256(document).hexdigest()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"model-quality-{sha256[:16]}.json"
    path.write_bytes(document)
    return Quality(found[-1], str(path), sha256)


def statistics_document(measured: Measurement) -> bytes:
    """Model Monitor's model-quality statistics shape (version, dataset, metrics as {value}), with
    pose metrics in place of its regression or classification ones; the same bytes every time."""
    document = {
        "version": 0.0,
        "dataset": {
            "item_count": measured.photos,
            "description": measured.eval_set,
            "evaluation_time": measured.date,
        },
        "pose_metrics": {
            f"torso_pck@{measured.threshold}": {"value": round(measured.torso_pck, 4)},
            f"bbox_pck@{measured.threshold}": {"value": round(measured.bbox_pck, 4)},
            "photos_without_person": {"value": len(measured.without_person)},
        },
        "model": {"name": measured.name, "version": measured.version, "files": dict(measured.files)},
        "command": measured.command,
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def statistics_artifact(quality: Quality, artifact: Artifact) -> Artifact | None:
    """The statistics next to the artifact they describe, named by their own content."""
    if quality.measurement is None:
        return None
    stem = artifact.key.removesuffix(".tar.gz")
    key = stem + STATISTICS_SUFFIX.format(digest=quality.sha256[:16])
    return Artifact(artifact.bucket, key, quality.sha256, quality.path)


def with_quality(
    version: ModelVersion, quality: Quality | None, artifact: Artifact
) -> tuple[ModelVersion, Artifact | None]:
    """The registry version with its model's metrics (and the statistics object to upload for them)."""
    if quality is None:
        return version, None
    note = quality.note(dict(version.metadata).get("model", "the model"))
    statistics = statistics_artifact(quality, artifact)
    if statistics is None or quality.measurement is None:
        return replace(version, note=note), None
    numbers = {
        TORSO_PCK: f"{quality.measurement.torso_pck:.3f}",
        BBOX_PCK: f"{quality.measurement.bbox_pck:.3f}",
    }
    measured = replace(
        version,
        metadata=tuple(sorted({**dict(version.metadata), **numbers}.items())),
        metrics_uri=statistics.s3_uri,
        metrics_sha256=quality.sha256,
        note=note,
    )
    return measured, statistics


def measured_line(version: ModelVersion) -> str:
    """What `python -m deployment models` shows of a version's metrics."""
    metadata = dict(version.metadata)
    if TORSO_PCK in metadata:
        return f"PCK torso {metadata[TORSO_PCK]} bbox {metadata.get(BBOX_PCK, '?')}"
    return "metrics in S3" if version.metrics_uri else "no metrics"
