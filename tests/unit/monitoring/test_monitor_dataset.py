"""Walking dataset_source: SageMaker's folders, the window, and lines that cannot be read."""

import re
import tracemalloc

import pytest

from monitoring.capture import capture_line
from monitoring.checks import summarize
from monitoring.config import Window
from monitoring.dataset import CaptureScan, ScanCounts
from monitoring.errors import MonitoringError
from tests.unit.monitoring.monitor_samples import at, invocation, line, prediction, write_capture

WINDOW = Window(at(19), at(20))


def scan_all(source, window=WINDOW):
    scan = CaptureScan(source, window)
    return list(scan), scan.counts


def test_two_variants_several_hours_only_the_window_is_yielded(tmp_path):
    write_capture(
        tmp_path, "AllTraffic", [line(at(18, 59, 59), 10.0), line(at(19), 20.0), line(at(19, 30), 30.0)]
    )
    write_capture(tmp_path, "AllTraffic", [line(at(20), 40.0), line(at(20, 10), 50.0)])  # next hour's folder
    write_capture(tmp_path, "Canary", [line(at(19, 59, 59), 60.0)])
    records, counts = scan_all(tmp_path)
    assert sorted(record.response.inference_ms for record in records) == [20.0, 30.0, 60.0]
    assert counts == ScanCounts(
        files=3, lines=6, in_window=3, outside_window=3, variants=(("AllTraffic", 2), ("Canary", 1))
    )


def test_a_truncated_last_line_is_counted_and_skipped(tmp_path):
    cut = line(at(19, 5), 25.0)
    path = write_capture(tmp_path, "AllTraffic", [line(at(19), 20.0), cut[: len(cut) // 2]])
    records, counts = scan_all(tmp_path)
    assert [record.response.inference_ms for record in records] == [20.0]
    assert (counts.lines, counts.unreadable) == (2, 1)
    relative = path.relative_to(tmp_path)
    assert counts.unreadable_examples == (f"{relative}:2: not JSON: Input data was truncated",)


def test_garbage_and_blank_lines_do_not_stop_the_scan(tmp_path):
    write_capture(
        tmp_path, "AllTraffic", [line(at(19), 20.0), "\n", "<html>oops</html>\n", line(at(19, 1), 21.0)]
    )
    records, counts = scan_all(tmp_path)
    assert len(records) == 2
    assert (counts.lines, counts.unreadable) == (3, 1)


def test_only_jsonl_files_are_read(tmp_path):
    write_capture(tmp_path, "AllTraffic", [line(at(19), 20.0)])
    (tmp_path / "pose-endpoint" / "README.txt").write_text("not capture data")
    assert scan_all(tmp_path)[1].files == 1


def test_without_a_window_everything_is_read(tmp_path):
    write_capture(tmp_path, "AllTraffic", [line(at(1), 20.0), line(at(23), 21.0)])
    assert len(scan_all(tmp_path, Window())[0]) == 2


def test_a_single_capture_file_can_be_the_source(tmp_path):
    path = write_capture(tmp_path, "AllTraffic", [line(at(19), 20.0)])
    records, counts = scan_all(path)
    assert len(records) == 1 and counts.files == 1


def test_an_empty_source_is_no_traffic_not_an_error(tmp_path):
    assert scan_all(tmp_path) == ([], ScanCounts())


def test_a_missing_source_fails_naming_it(tmp_path):
    with pytest.raises(
        MonitoringError, match=re.escape(f"dataset_source {tmp_path / 'nowhere'}: does not exist")
    ):
        CaptureScan(tmp_path / "nowhere", WINDOW)


def test_a_capture_file_that_cannot_be_opened_fails_the_run(tmp_path):
    folder = tmp_path / "pose-endpoint" / "AllTraffic" / "2026" / "11" / "22" / "19"
    folder.mkdir(parents=True)
    (folder / "00-00-000-gone.jsonl").symlink_to(tmp_path / "deleted.jsonl")
    with pytest.raises(MonitoringError, match=re.escape("00-00-000-gone.jsonl: cannot be read")):
        scan_all(tmp_path)


def test_memory_stays_flat_however_many_lines(tmp_path):
    """8 MB of 40 KB photos: reading and summarizing holds about one line and one read buffer."""
    photo_line = capture_line(invocation(at(19), prediction(20.0), request=bytes(40_000)))
    write_capture(tmp_path, "AllTraffic", [photo_line] * 200)
    tracemalloc.start()
    try:
        statistics = summarize(CaptureScan(tmp_path, WINDOW), WINDOW)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert statistics.records == 200
    assert peak < 3_000_000
