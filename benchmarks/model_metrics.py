"""Measure each catalog model as it is served, and commit the numbers the model registry records.

For every catalog model available on this machine (in the model cache, or MoveNet Lightning from
../shared/models/movenet when its sha256 is the catalog's), PCK@0.2 torso and bbox and the photos
where no person was found, through `Predictor.predict` (the server path, default settings) on
accuracy.py's eval set. The results go to benchmarks/results/model_metrics.json with each model's
file sha256s, the eval set, the date and this command; a deploy matches a model to them by those
sha256s (deployment/metrics.py) and never runs this. Nothing is downloaded: a model not here is
listed as skipped with the reason, and keeps the entry it had.

    .venv/bin/python benchmarks/model_metrics.py [--models blazepose-heavy,...] [--output PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: make `inference`, `deployment` and `benchmarks` importable

from benchmarks.accuracy import EVAL_DIR, MOVENET_LIGHTNING  # noqa: E402
from deployment.metrics import RESULTS, Measurement, load_results  # noqa: E402
from inference.catalog import CATALOG, LocalSource, ModelSpec  # noqa: E402
from inference.evaluation import NEAR, evaluate, load_eval_set, summarize  # noqa: E402
from inference.fetch import default_cache_dir, fetch  # noqa: E402
from inference.manifest import sha256_of  # noqa: E402
from inference.predictor import Predictor  # noqa: E402

COMMAND = ".venv/bin/python benchmarks/model_metrics.py"
# Catalog models whose file may be found outside the cache: (name, path).
ELSEWHERE = {"movenet-lightning": MOVENET_LIGHTNING}


def model_dir(spec: ModelSpec, scratch: Path) -> tuple[Path | None, str]:
    """A verified directory of the catalog model, or None and why not (nothing is downloaded)."""
    cached = default_cache_dir() / f"{spec.name}-{spec.version}"
    if (cached / "model.json").is_file():
        return fetch(spec), ""  # verifies the cached files against the catalog's sha256s
    other = ELSEWHERE.get(spec.name)
    if other is None or not other.is_file():
        return None, f"{cached.name} is not in the model cache, nor elsewhere on the machine measured"
    (model_file,) = spec.files
    if sha256_of(other) != model_file.sha256:
        return None, f"{other} is not the catalog's file (sha256 differs)"
    staged = scratch / "staged" / model_file.filename
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.symlink_to(other)
    return fetch(replace(spec, source=LocalSource(staged)), scratch / "cache"), ""


def eval_set_description(eval_dir: Path) -> str:
    info = json.loads((eval_dir / "annotations.json").read_text()).get("info", {})
    return f"{info.get('description', 'COCO keypoint photos')} (../shared/eval/coco)"


def measure(spec: ModelSpec, directory: Path, photos: list, description: str, date: str) -> Measurement:
    summary = summarize(evaluate(Predictor(directory), photos))
    return Measurement(
        spec.name,
        spec.version,
        tuple(sorted((model_file.filename, model_file.sha256) for model_file in spec.files)),
        summary.torso_pck,
        summary.bbox_pck,
        summary.no_person,
        NEAR,
        description,
        len(photos),
        date,
        COMMAND,
    )


def write_results(path: Path, measured: list[Measurement], skipped: dict[str, str]) -> None:
    """Every catalog model in catalog order: measured now, else as measured before (if ever); the
    skipped ones never measured, with the reason."""
    before = {entry.name: entry for entry in load_results(path)}
    now = {entry.name: entry for entry in measured}
    entries = [now.get(name) or before[name] for name in CATALOG if name in now or name in before]
    document = {
        "about": "Accuracy of each catalog model as served; the model registry records it (deployment/metrics.py)",
        "models": [entry.to_json() for entry in entries],
        "skipped": [
            {"name": name, "reason": reason} for name, reason in skipped.items() if name not in before
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(CATALOG), help="comma-separated catalog names")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    photos = load_eval_set(EVAL_DIR)
    description = eval_set_description(EVAL_DIR)
    date = datetime.now(UTC).date().isoformat()
    measured, skipped = [], {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.models.split(","):
            directory, why = model_dir(CATALOG[name], Path(scratch) / name)
            if directory is None:
                skipped[name] = why
                continue
            measured.append(measure(CATALOG[name], directory, photos, description, date))
    print(f"\nPCK@{NEAR} on {len(photos)} photos through Predictor.predict, default settings")
    print(f"{'model':20} {'torso':>6} {'bbox':>6} {'miss':>5}")
    for entry in measured:
        print(f"{entry.name:20} {entry.torso_pck:6.3f} {entry.bbox_pck:6.3f} {len(entry.without_person):5}")
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")
    write_results(args.output, measured, skipped)
    print(f"written: {args.output}")


if __name__ == "__main__":
    main()
