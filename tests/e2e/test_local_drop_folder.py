"""`make demo`'s drop folder end to end: files put in the inbox go through the cloud's handler and a
real inference server; results and failures appear beside them, each once."""

from __future__ import annotations

import json
import time
from pathlib import Path

from deployment.local.drop_folder import DropFolderPaths, DropFolderWatcher
from deployment.local.supervisor import Upstream
from tests.conftest import local_stack


def settle(watcher: DropFolderWatcher) -> dict[str, int]:
    """Two looks, as the thread makes them a second apart: the first sees sizes, the second hands over."""
    watcher.look()
    return watcher.look()


def test_photos_dropped_in_the_inbox_become_results_and_bad_files_failures(
    blazepose_server, eval_photos, tmp_path
):
    paths = DropFolderPaths(tmp_path)
    watcher = DropFolderWatcher(paths, lambda: Upstream("127.0.0.1", blazepose_server.port))
    for folder in (paths.inbox, paths.outbox, paths.failed):
        folder.mkdir()
    (paths.inbox / "trip").mkdir()
    photo = eval_photos[0]
    (paths.inbox / "trip" / "with person.jpg").write_bytes(Path(photo.path).read_bytes())
    (paths.inbox / "notes.jpg").write_text("not a photo")
    (paths.inbox / "cut.jpg").write_bytes(Path(photo.path).read_bytes()[:600])  # a truncated JPEG

    counts = settle(watcher)

    assert counts == {"results": 1, "failed": 2, "skipped": 0}
    result = json.loads((paths.outbox / "trip" / "with person.jpg.json").read_text())
    assert result["person_detected"] is True and result["people"]
    failed = {path.name: json.loads(path.read_text())["error"] for path in paths.failed.iterdir()}
    assert failed["notes.jpg.json"] == "not a JPEG or PNG photo"
    assert "corrupt or truncated" in failed["cut.jpg.json"]
    assert settle(watcher) == {"results": 0, "failed": 0, "skipped": 0}  # each file once


def test_a_file_still_growing_waits_and_a_changed_file_runs_again(blazepose_server, eval_photos, tmp_path):
    paths = DropFolderPaths(tmp_path)
    watcher = DropFolderWatcher(paths, lambda: Upstream("127.0.0.1", blazepose_server.port))
    for folder in (paths.inbox, paths.outbox, paths.failed):
        folder.mkdir()
    data = Path(eval_photos[1].path).read_bytes()
    target = paths.inbox / "a.jpg"
    target.write_bytes(data[:100])

    assert watcher.look()["results"] == 0  # first sight
    target.write_bytes(data)  # still being copied
    assert watcher.look() == {"results": 0, "failed": 0, "skipped": 0}
    assert watcher.look()["results"] == 1
    time.sleep(0.01)
    target.write_bytes(data)  # written again, the same size: a new mtime
    assert watcher.look()["results"] == 1
    assert watcher.look()["results"] == 0


def test_make_demo_answers_a_photo_dropped_in_its_inbox(eval_photos, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    with local_stack(state, "monitoring.enabled=false"):
        inbox = state / "inbox"
        (inbox / ".part.jpg").write_bytes(Path(eval_photos[0].path).read_bytes())
        (inbox / ".part.jpg").rename(inbox / "dropped.jpg")  # as a copy lands: whole, by a rename
        result = state / "outbox" / "dropped.jpg.json"
        deadline = time.monotonic() + 30
        while not result.exists() and time.monotonic() < deadline:
            time.sleep(0.2)

        assert json.loads(result.read_text())["person_detected"] is True
