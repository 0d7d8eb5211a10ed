"""Bulk predict without a model: which files are photos, what their results are named, how results are
written, the progress display, the summary and the usage errors."""

import io
import json
import os
import re
from pathlib import Path

import pytest
from PIL import Image

from inference import bulk
from inference.__main__ import main
from inference.bulk import Failure, Summary, UsageError, find_photos
from inference.bulk_pool import PhotoResult
from inference.overlay import PERSON_COLORS, draw_overlay, people_keypoints
from inference.progress import Progress


def photo_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (40, 40, 40)).save(buffer, fmt)
    return buffer.getvalue()


def put(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def names(found: bulk.Inputs) -> dict[str, str]:
    return {photo.name: str(photo.path) for photo in found.photos}


def reasons(found: bulk.Inputs) -> dict[str, str]:
    return {failure.photo: failure.reason for failure in found.failures}


def test_a_folder_is_read_recursively_by_content_and_names_keep_the_path_under_it(tmp_path):
    folder = tmp_path / "shoot"
    put(folder / "a.jpg", photo_bytes())
    put(folder / "a.png", photo_bytes("PNG"))  # same stem: its results must not collide with a.jpg's
    put(folder / "day 2" / "IMG_0001", photo_bytes())  # no extension: a JPEG by its bytes
    put(folder / "day 2" / "scan.JPEG", photo_bytes("PNG"))  # a PNG named .JPEG is still a photo
    put(folder / "notes.txt", b"not a photo")  # ignored silently
    put(folder / ".hidden.jpg", b"resource fork")  # hidden: ignored
    put(folder / ".thumbs" / "x.jpg", photo_bytes())  # hidden folder: ignored
    found = find_photos([str(folder)])
    assert names(found) == {
        "a.jpg": str(folder / "a.jpg"),
        "a.png": str(folder / "a.png"),
        "day 2/IMG_0001": str(folder / "day 2" / "IMG_0001"),
        "day 2/scan.JPEG": str(folder / "day 2" / "scan.JPEG"),
    }
    assert found.failures == []


def test_a_photo_extension_on_something_else_is_a_failure_in_folders_and_anything_named_explicitly(tmp_path):
    text = put(tmp_path / "in" / "text.jpg", b"hello")
    empty = put(tmp_path / "in" / "empty.png", b"")
    readme = put(tmp_path / "README.md", b"# photos")
    found = find_photos([str(tmp_path / "in"), str(readme)])
    assert reasons(found) == {
        str(empty): "not a JPEG or PNG image (the file is empty)",
        str(text): "not a JPEG or PNG image",
        str(readme): "not a JPEG or PNG image",
    }


def test_an_unreadable_file_is_a_failure_with_the_reason(tmp_path):
    dangling = tmp_path / "moved"
    dangling.symlink_to(tmp_path / "gone.jpg")  # listed in its folder, but cannot be opened
    assert reasons(find_photos([str(tmp_path)])) == {
        str(dangling): "cannot read the file: No such file or directory"
    }


def test_an_unreadable_folder_is_a_failure_with_the_reason(tmp_path, monkeypatch):
    put(tmp_path / "a.jpg", photo_bytes())
    put(tmp_path / "locked" / "b.jpg", photo_bytes())
    real_scandir = os.scandir

    def scandir(path):  # what a folder without read permission does (root reads any, so simulated)
        if Path(path) == tmp_path / "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = find_photos([str(tmp_path)])
    assert (names(found), reasons(found)) == (
        {"a.jpg": str(tmp_path / "a.jpg")},
        {str(tmp_path / "locked"): "cannot read the folder: Permission denied"},
    )


def test_a_glob_names_results_under_its_fixed_prefix_and_a_file_by_its_name(tmp_path, monkeypatch):
    put(tmp_path / "photos" / "2024" / "x.jpg", photo_bytes())
    put(tmp_path / "photos" / "2025" / "y.png", photo_bytes("PNG"))
    put(tmp_path / "photos" / "2025" / "list.txt", b"x")  # matched by the glob, not a photo: ignored
    put(tmp_path / "single" / "z.jpg", photo_bytes())
    monkeypatch.chdir(tmp_path)
    found = find_photos(["photos/**/*", "single/z.jpg"])
    assert names(found) == {
        "2024/x.jpg": "photos/2024/x.jpg",
        "2025/y.png": "photos/2025/y.png",
        "z.jpg": "single/z.jpg",
    }


def test_the_output_folder_inside_an_input_folder_is_not_read(tmp_path):
    put(tmp_path / "a.jpg", photo_bytes())
    put(tmp_path / "out" / "a.jpg.overlay.jpg", photo_bytes())
    assert names(find_photos([str(tmp_path)], output=tmp_path / "out")) == {"a.jpg": str(tmp_path / "a.jpg")}
    assert names(find_photos([f"{tmp_path}/*"], output=tmp_path / "out")) == {
        "a.jpg": str(tmp_path / "a.jpg")
    }
    with pytest.raises(UsageError, match="is the folder being read"):
        find_photos([str(tmp_path)], output=tmp_path)


def test_one_result_name_for_two_files_is_a_failure_of_the_later_and_one_file_is_run_once(tmp_path):
    first = put(tmp_path / "one" / "p.jpg", photo_bytes())
    second = put(tmp_path / "two" / "p.jpg", photo_bytes())
    found = find_photos([str(tmp_path / "one"), str(tmp_path / "two"), str(first)])
    assert names(found) == {"p.jpg": str(first)}
    assert reasons(found) == {
        str(second): f"its result name p.jpg is also {first}'s; run them into separate --output folders"
    }


def test_nothing_matched_is_a_usage_error_and_an_unmatched_input_beside_photos_a_failure(tmp_path):
    put(tmp_path / "notes.txt", b"x")
    with pytest.raises(UsageError, match="no JPEG or PNG photos in"):
        find_photos([str(tmp_path), str(tmp_path / "missing"), str(tmp_path / "*.jpg")])
    put(tmp_path / "a.jpg", photo_bytes())
    found = find_photos([str(tmp_path), str(tmp_path / "missing")])
    assert reasons(found) == {str(tmp_path / "missing"): "no such file, folder or match"}


def test_results_are_written_whole_and_an_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    folder = bulk.ResultFolder(tmp_path / "out", overlay=True)
    photo = bulk.Photo(tmp_path / "a" / "b.jpg", "a/b.jpg")
    assert not folder.has(photo)
    folder.done(photo, PhotoResult(0, document={"person_detected": False}, overlay=b"overlay"))
    assert folder.has(photo)
    assert json.loads((tmp_path / "out" / "a" / "b.jpg.json").read_text()) == {"person_detected": False}
    assert (tmp_path / "out" / "a" / "b.jpg.overlay.jpg").read_bytes() == b"overlay"

    def interrupted(*_):
        raise KeyboardInterrupt

    other = bulk.Photo(tmp_path / "c.jpg", "c.jpg")
    monkeypatch.setattr(bulk.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        folder.done(other, PhotoResult(1, document={}, overlay=b"overlay"))
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["a"]


def test_a_new_run_starts_a_new_errors_file(tmp_path):
    (tmp_path / "errors.jsonl").write_text('{"photo": "old.jpg", "error": "stale"}\n')
    folder = bulk.ResultFolder(tmp_path, overlay=False)
    assert not folder.errors_file.exists()
    folder.failed(Failure("x.jpg", "not a JPEG or PNG image"))
    lines = folder.errors_file.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"photo": "x.jpg", "error": "not a JPEG or PNG image"}]


def test_without_output_answers_are_printed_in_input_order_errors_as_the_server_words_them(tmp_path):
    stdout = io.StringIO()
    photos = [bulk.Photo(tmp_path / name, name) for name in ("a.jpg", "b.jpg", "c.jpg")]
    printer = bulk.AnswerPrinter(photos, stdout)
    printer.done(photos[2], PhotoResult(2, document={"n": 2}))
    printer.failed(Failure("b.jpg", "the image is corrupt"), 1)
    assert stdout.getvalue() == ""
    printer.done(photos[0], PhotoResult(0, document={"n": 0}))
    assert stdout.getvalue().splitlines() == ['{"n": 0}', '{"error": "the image is corrupt"}', '{"n": 2}']


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_with_rate_and_eta_on_a_terminal_and_plain_lines_otherwise():
    now = [0.0]
    terminal = Progress(4, FakeTerminal(), clock=lambda: now[0])
    now[0] = 2.0
    terminal.advance("a.jpg", "1 person")
    assert terminal.bar() == "[######..................] 1/4  25%  0.5 photos/s  ETA 0:06"
    terminal.advance("b.jpg", "failed: not a JPEG or PNG image", failed=True)
    assert "\r\x1b[Kb.jpg: failed: not a JPEG or PNG image\n" in terminal.stream.getvalue()
    assert terminal.bar().endswith("1.0 photos/s  ETA 0:02  1 failed")
    plain = Progress(2, io.StringIO())
    plain.advance("a.jpg", "2 people")
    plain.close()
    assert plain.stream.getvalue() == "[1/2] a.jpg: 2 people\n"


def test_summary_counts_and_lists_each_failure_and_the_exit_code_follows():
    failures = [Failure("/in/bad.jpg", "the image is corrupt or truncated")]
    summary = Summary(photos=3, done=1, skipped=1, people=1, failures=failures, seconds=2.0, workers=2)
    summary.errors_file = Path("/out/errors.jsonl")
    assert list(bulk.summary_lines(summary)) == [
        "3 photos: 1 done, 1 skipped (result already there), 1 failed; 1 person found; finished in 2.0 s "
        "(0.5 photos/s, 2 workers)",
        "failed (also in /out/errors.jsonl):",
        "  /in/bad.jpg: the image is corrupt or truncated",
    ]
    assert (summary.exit_code, Summary(done=1).exit_code, Summary(interrupted=True).exit_code) == (1, 0, 130)


def test_the_overlay_draws_everyone_in_people_else_the_top_level_pose():
    def person(x: float, score: float = 0.9) -> dict:
        return {"keypoints": [{"x": x, "y": 10.0 + 10 * i, "score": score} for i in range(17)]}

    assert people_keypoints({"people": [person(10), person(40)], "person_detected": True}) == [
        person(10)["keypoints"],
        person(40)["keypoints"],
    ]
    assert people_keypoints({"person_detected": True, **person(5)}) == [person(5)["keypoints"]]
    assert people_keypoints({"person_detected": False, **person(5)}) == []
    overlay = Image.open(
        io.BytesIO(draw_overlay(photo_bytes(size=(200, 180)), {"people": [person(30), person(150)]}))
    )
    assert overlay.size == (200, 180)
    for x, color in ((30, PERSON_COLORS[0]), (150, PERSON_COLORS[1])):
        drawn = overlay.getpixel((x, 10))  # the nose, drawn over its limbs
        expected = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
        assert max(abs(a - b) for a, b in zip(drawn, expected, strict=True)) < 40, (x, drawn, expected)


def test_usage_errors_exit_2_before_any_model_loads(tmp_path, capsys):
    put(tmp_path / "a.jpg", photo_bytes())
    model_dir = ["--model-dir", str(tmp_path / "no-model")]
    assert main(["predict", *model_dir, str(tmp_path / "a.jpg")]) == 2
    assert "no model.json in the model directory" in capsys.readouterr().err
    assert main(["predict", *model_dir, str(tmp_path / "a.jpg"), "--overlay"]) == 2
    assert "--overlay needs --output DIR" in capsys.readouterr().err


def test_no_photos_or_an_unwritable_output_exit_2_naming_the_problem(tmp_path, capsys, blazepose_dir):
    put(tmp_path / "in" / "notes.txt", b"x")
    model_dir = ["--model-dir", str(blazepose_dir)]
    assert main(["predict", *model_dir, str(tmp_path / "in")]) == 2
    assert capsys.readouterr().err == f"error: no JPEG or PNG photos in {tmp_path / 'in'}\n"
    put(tmp_path / "in" / "a.jpg", photo_bytes())
    put(tmp_path / "file", b"")
    assert main(["predict", *model_dir, str(tmp_path / "in"), "--output", str(tmp_path / "file")]) == 2
    assert "is not a writable folder (File exists)" in capsys.readouterr().err


def test_the_overlay_skeleton_is_the_web_page_skeleton():
    from inference.keypoints import COCO_LIMBS
    from tests.conftest import REPO

    script = (REPO / "webapp" / "static" / "pose.js").read_text()
    table = script.split("export const LIMBS = [", 1)[1].split("];", 1)[0]
    pairs = [(int(a), int(b)) for a, b in re.findall(r"\[(\d+),\s*(\d+)\]", table)]
    assert tuple(pairs) == COCO_LIMBS


def test_workers_must_be_a_positive_number(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "--workers", "0", "x.jpg"])
    assert exit_info.value.code == 2 and "'0' is not a whole number of at least 1" in capsys.readouterr().err


def test_a_long_failure_list_is_cut_to_a_screenful_when_errors_jsonl_has_it_all():
    failures = [Failure(f"/in/{n}.jpg", "not a JPEG or PNG image") for n in range(25)]
    summary = Summary(photos=25, failures=failures, seconds=1.0, errors_file=Path("/out/errors.jsonl"))
    lines = list(bulk.summary_lines(summary))
    assert lines[1:3] == ["failed (also in /out/errors.jsonl):", "  /in/0.jpg: not a JPEG or PNG image"]
    assert lines[-2:] == ["  /in/19.jpg: not a JPEG or PNG image", "  ... and 5 more"]
    summary.errors_file = None  # printed answers only: every failure is listed
    assert len(list(bulk.summary_lines(summary))) == 2 + 25


def test_a_result_that_cannot_be_written_is_that_photos_failure_and_the_run_goes_on(tmp_path):
    folder = bulk.ResultFolder(tmp_path / "out", overlay=False)
    (tmp_path / "out" / "a.jpg.json").mkdir()  # something else holds the result's name
    summary = Summary()
    run = bulk._Run(folder, Progress(2, io.StringIO()), summary)
    run.done(bulk.Photo(tmp_path / "a.jpg", "a.jpg"), PhotoResult(0, document={"person_detected": True}))
    run.done(bulk.Photo(tmp_path / "b.jpg", "b.jpg"), PhotoResult(1, document={"person_detected": True}))
    assert (summary.done, summary.failures) == (
        1,
        [Failure(str(tmp_path / "a.jpg"), "cannot write its result: Is a directory")],
    )
    assert json.loads(folder.errors_file.read_text())["error"] == "cannot write its result: Is a directory"
