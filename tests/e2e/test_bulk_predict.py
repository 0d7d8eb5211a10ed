"""`python -m inference predict` as a user runs it: real processes, the real model, real photos."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from inference.bulk_pool import PhotoTask, WorkerPool
from inference.predictor import Predictor
from tests.conftest import REPO


def predict(model_dir: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "inference", "predict", "--model-dir", str(model_dir), *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False)


def without_timing(document: dict) -> dict:
    return {key: value for key, value in document.items() if key != "timing"}


@pytest.fixture
def shoot(eval_photos, tmp_path: Path) -> Path:
    """The eval photos, one in a subfolder, plus a truncated JPEG and a text file named .jpg."""
    folder = tmp_path / "shoot"
    (folder / "day 2").mkdir(parents=True)
    for index, photo in enumerate(eval_photos):
        shutil.copy(photo.path, folder / ("day 2" if index == 0 else ".") / photo.path.name)
    whole = eval_photos[0].path.read_bytes()
    (folder / "truncated.jpg").write_bytes(whole[: len(whole) // 3])
    (folder / "notes.jpg").write_text("not a photo\n")
    (folder / "PROVENANCE.md").write_text("ignored: not a photo, not named like one\n")
    return folder


def test_a_folder_gives_one_result_per_photo_reports_bad_files_and_a_rerun_skips(
    shoot, tmp_path, blazepose_dir, eval_photos
):
    output = tmp_path / "out"
    run = predict(blazepose_dir, str(shoot), "--output", str(output), "--overlay", "--workers", "2")
    assert run.returncode == 1, run.stderr
    results = sorted(path.relative_to(output).as_posix() for path in output.rglob("*.json"))
    expected = sorted(("day 2/" if i == 0 else "") + p.path.name + ".json" for i, p in enumerate(eval_photos))
    assert results == expected and len(results) == 20
    errors = [json.loads(line) for line in (output / "errors.jsonl").read_text().splitlines()]
    assert sorted((Path(error["photo"]).name, error["error"].split(" (")[0]) for error in errors) == [
        ("notes.jpg", "not a JPEG or PNG image"),
        ("truncated.jpg", "the image is corrupt or truncated"),
    ]
    assert run.stdout.startswith("22 photos: 20 done, 0 skipped (result already there), 2 failed;")
    assert f"  {shoot / 'notes.jpg'}: not a JPEG or PNG image" in run.stdout.splitlines()

    # Each result is exactly what the server answers for that photo (timing aside).
    photo = eval_photos[1].path
    written = json.loads((output / f"{photo.name}.json").read_text())
    assert without_timing(written) == without_timing(
        Predictor(blazepose_dir).predict(photo.read_bytes(), "image/jpeg")
    )

    # Each overlay opens, upright and at the photo's size.
    for photo in eval_photos:
        overlay_path = next(output.rglob(photo.path.name + ".overlay.jpg"))
        with Image.open(overlay_path) as overlay, Image.open(photo.path) as original:
            overlay.load()
            assert overlay.size == ImageOps.exif_transpose(original).size

    before = {path: path.stat().st_mtime_ns for path in output.rglob("*.json")}
    rerun = predict(blazepose_dir, str(shoot), "--output", str(output), "--overlay")
    assert rerun.returncode == 1, rerun.stderr
    assert rerun.stdout.startswith("22 photos: 0 done, 20 skipped (result already there), 2 failed;")
    assert {path: path.stat().st_mtime_ns for path in output.rglob("*.json")} == before

    forced = predict(blazepose_dir, str(shoot / "day 2"), "--output", str(output), "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.startswith("1 photo: 1 done, 0 skipped")


def test_without_output_the_answer_is_printed_and_a_bad_file_named_is_a_failure(
    shoot, blazepose_dir, photo_785
):
    run = predict(blazepose_dir, str(shoot / "day 2" / "000000000785.jpg"), str(shoot / "notes.jpg"))
    assert run.returncode == 1, run.stderr
    answer = json.loads(run.stdout)  # one photo: the answer alone, indented
    assert without_timing(answer) == without_timing(Predictor(blazepose_dir).predict(photo_785, "image/jpeg"))
    assert f"{shoot / 'notes.jpg'}: not a JPEG or PNG image" in run.stderr


def test_ctrl_c_stops_the_workers_leaves_only_whole_results_and_exits_130(
    eval_photos, tmp_path, blazepose_dir
):
    many = tmp_path / "many"
    many.mkdir()
    for copy in range(15):  # 300 photos: far more than a run gets through before the interrupt
        for photo in eval_photos:
            shutil.copy(photo.path, many / f"{copy}-{photo.path.name}")
    output = tmp_path / "out"
    command = [sys.executable, "-m", "inference", "predict", "--model-dir", str(blazepose_dir), str(many)]
    command += ["--output", str(output), "--overlay"]
    # Its own process group, so the SIGINT reaches the workers too, as a terminal's Ctrl-C does.
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while not list(output.glob("*.json")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted after" in stdout and "Traceback" not in stderr
    written = list(output.iterdir())
    assert [path.name for path in written if path.name.startswith(".")] == []  # no temporary left
    results = [path for path in written if path.suffix == ".json"]
    assert 0 < len(results) < 300
    for result in results:
        assert json.loads(result.read_text())["model"]["name"] == "blazepose-full"
        with Image.open(result.with_suffix(".overlay.jpg")) as overlay:  # its overlay came first, whole
            overlay.load()
    # Workers are `multiprocessing.spawn` children (the resource tracker, which exits on its own, is not).
    workers = subprocess.run(
        ["pgrep", "-g", str(process.pid), "-f", "spawn_main"], capture_output=True, check=False
    )
    assert workers.stdout == b"", "a worker outlived the interrupted run"


def test_a_model_that_will_not_load_exits_2_with_the_runtime_reason(shoot, tmp_path, blazepose_dir):
    broken = tmp_path / "model"
    shutil.copytree(blazepose_dir, broken)
    landmarks = next(broken.glob("pose_landmark_*.tflite"))
    landmarks.chmod(0o644)
    landmarks.write_bytes(landmarks.read_bytes()[:1000])
    run = predict(broken, str(shoot), "--output", str(tmp_path / "out"))
    assert run.returncode == 2, run.stderr
    assert f"error: {landmarks}: cannot load the TFLite model" in run.stderr
    assert list((tmp_path / "out").glob("*.json")) == []


def test_a_worker_that_dies_is_replaced_and_its_next_photo_still_runs(blazepose_dir, photo_785, tmp_path):
    photo = tmp_path / "p.jpg"
    photo.write_bytes(photo_785)
    with WorkerPool(blazepose_dir, 1) as pool:
        (victim,) = pool.pids
        os.kill(victim, signal.SIGKILL)
        # Dead and reapable (WNOWAIT leaves it for the pool to reap): a zombie in /proc may not be yet.
        while os.waitid(os.P_PID, victim, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            time.sleep(0.01)
        results = list(pool.results([PhotoTask(0, str(photo), overlay=False)]))
        assert victim not in pool.pids
    assert [(result.index, result.error, result.document["person_detected"]) for result in results] == [
        (0, None, True)
    ]


def test_max_people_comes_from_the_option_else_pose_max_people_as_the_server_reads_it(
    blazepose_dir, eval_photos, tmp_path
):
    # Two eval photos side by side: a photo with more than one person in it.
    left, right = (Image.open(photo.path).convert("RGB") for photo in eval_photos[:2])
    pair = Image.new("RGB", (left.width + right.width, max(left.height, right.height)))
    pair.paste(left, (0, 0))
    pair.paste(right, (left.width, 0))
    path = tmp_path / "pair.jpg"
    pair.save(path, quality=92)
    body = path.read_bytes()

    def people(*args: str, env: dict | None = None) -> int:
        command = [sys.executable, "-m", "inference", "predict", "--model-dir", str(blazepose_dir), *args]
        run = subprocess.run(
            [*command, str(path)], cwd=REPO, capture_output=True, text=True, timeout=240, env=env, check=False
        )
        assert run.returncode == 0, run.stderr
        return len(json.loads(run.stdout)["people"])

    expected = {
        n: len(Predictor(blazepose_dir, max_people=n).predict(body, "image/jpeg")["people"]) for n in (1, 5)
    }
    assert expected[1] == 1 < expected[5]
    assert people() == expected[5]
    assert people("--max-people", "1") == 1
    assert people(env={**os.environ, "POSE_MAX_PEOPLE": "1"}) == 1
    assert people("--max-people", "5", env={**os.environ, "POSE_MAX_PEOPLE": "1"}) == expected[5]

    refused = predict(blazepose_dir, "--max-people", "21", str(path))
    assert refused.returncode == 2 and "'21' is not a whole number from 1 to 20" in refused.stderr
    env = {**os.environ, "POSE_MAX_PEOPLE": "many"}
    command = [sys.executable, "-m", "inference", "predict", "--model-dir", str(blazepose_dir), str(path)]
    refused = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, env=env, timeout=240, check=False
    )
    assert refused.returncode == 2 and "POSE_MAX_PEOPLE" in refused.stderr and "'many'" in refused.stderr
