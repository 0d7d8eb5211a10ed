"""`python -m monitoring analyze`, in process: the summary, the files, the exit codes."""

import json

import pytest

from monitoring import job
from monitoring.__main__ import container, main
from monitoring.samples import sample_line, samples_path
from tests.unit.monitoring.monitor_samples import at, line, write_capture


def capture_dir(tmp_path, latencies_ms):
    source = tmp_path / "capture"
    write_capture(
        source, "AllTraffic", [line(at(19, index % 60), ms) for index, ms in enumerate(latencies_ms)]
    )
    return source


def test_analyze_prints_a_summary_and_writes_the_report(tmp_path, capsys):
    output = tmp_path / "out"
    code = main(
        ["analyze", "--input", str(capture_dir(tmp_path, [10.0, 20.0, 30.0])), "--output", str(output)]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert printed.splitlines()[0] == "Completed"
    assert "records    3 over all time" in printed
    assert "latency    mean 20.0 ms" in printed
    assert "people     1.00 per photo on average, at most 1" in printed
    page = (output / "report.html").read_text()
    assert page.count("<svg") == 3 and "Latency distribution" in page and "People per photo" in page
    assert sorted(path.name for path in output.iterdir()) == [
        "constraint_violations.json",
        "message",
        "report.html",
        "statistics.json",
    ]


def test_violations_are_data_exit_zero(tmp_path, capsys):
    output = tmp_path / "out"
    source = capture_dir(tmp_path, [1500.0, 2500.0])
    code = main(["analyze", "--input", str(source), "--output", str(output), "--threshold", "1"])
    assert code == 0
    assert capsys.readouterr().out.startswith("CompletedWithViolations\n")
    violations = json.loads((output / "constraint_violations.json").read_text())["violations"]
    assert [violation["feature_name"] for violation in violations] == ["inference_ms"]


def test_window_options_filter_records(tmp_path, capsys):
    source = tmp_path / "capture"
    write_capture(
        source, "AllTraffic", [line(at(18, 30), 10.0), line(at(19, 30), 20.0), line(at(20, 30), 30.0)]
    )
    output = tmp_path / "out"
    args = ["--start", "2026-11-22T19:00:00Z", "--end", "2026-11-22T20:00:00Z"]
    assert main(["analyze", "--input", str(source), "--output", str(output), *args]) == 0
    statistics = json.loads((output / "statistics.json").read_text())
    assert (statistics["dataset"]["item_count"], statistics["capture"]["outside_window"]) == (1, 2)


def test_metrics_are_written_on_request(tmp_path):
    output = tmp_path / "out"
    assert (
        main(["analyze", "--input", str(capture_dir(tmp_path, [10.0])), "--output", str(output), "--metrics"])
        == 0
    )
    lines = (output / "metrics" / "cloudwatch" / "pose-monitor.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["Dimensions"][0] == {"Name": "Endpoint", "Value": "local"}


def test_a_bad_option_value_fails_with_its_name(tmp_path, capsys):
    output = tmp_path / "out"
    code = main(["analyze", "--input", str(tmp_path), "--output", str(output), "--start", "noon"])
    assert code == 1
    assert "error: --start: 'noon' is not an ISO-8601 time" in capsys.readouterr().err
    assert (output / "message").read_text().startswith("Failed: --start:")


def test_an_empty_window_fails(tmp_path, capsys):
    window = ["--start", "2026-11-22T20:00:00Z", "--end", "2026-11-22T19:00:00Z"]
    assert main(["analyze", "--input", str(tmp_path), "--output", str(tmp_path / "out"), *window]) == 1
    assert "error: --start, --end: 2026-11-22T20:00:00Z is not before" in capsys.readouterr().err


def test_a_missing_input_fails(tmp_path, capsys):
    code = main(["analyze", "--input", str(tmp_path / "nowhere"), "--output", str(tmp_path / "out")])
    assert code == 1
    assert "does not exist" in capsys.readouterr().err


def test_an_unexpected_error_still_leaves_a_message_then_fails_loudly(tmp_path, monkeypatch):
    def broken(_config):
        raise RuntimeError("boom")

    monkeypatch.setattr(job, "run", broken)
    environment = {
        "MONITORING_OUTPUT_ROOT": str(tmp_path),
        "MONITORING_JOB_CONFIG": str(tmp_path / "none.json"),
    }
    with pytest.raises(RuntimeError, match="boom"):
        container(environment)
    assert (tmp_path / "message").read_text() == "Failed: internal error: RuntimeError: boom"


def test_analyze_reads_resource_samples_and_checks_them(tmp_path, capsys):
    samples = tmp_path / "usage"
    path = samples_path(samples, "local", "AllTraffic", at(19))
    path.parent.mkdir(parents=True)
    path.write_text(
        "".join(
            sample_line("CPUUtilization", at(19, minute, second), 300.0, "Percent")
            + sample_line("MemoryUtilization", at(19, minute, second), 40.0, "Percent")
            for minute, second in ((0, 0), (0, 20), (0, 40), (1, 10))
        )
    )
    output = tmp_path / "out"
    source = capture_dir(tmp_path, [10.0])
    options = ["--samples", str(samples), "--vcpus", "4", "--max-cpu-percent-per-core", "70"]
    options += ["--max-error-percent", "5"]  # no invocation counts locally: said, never a violation
    assert main(["analyze", "--input", str(source), "--output", str(output), *options]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("CompletedWithViolations\n")
    assert "  cpu        75.0% per core on average, at most 75.0%" in printed
    assert "  memory     40.0% on average, at most 40.0%" in printed
    assert "exceeds the threshold of 70% per core (MAX_CPU_PERCENT_PER_CORE=70)" in printed
    notes = json.loads((output / "statistics.json").read_text())["notes"]
    assert (
        f"local samples in {samples}: MAX_ERROR_PERCENT not checked: no invocations, or no 5XX count, in the window"
        in notes
    )
    violations = json.loads((output / "constraint_violations.json").read_text())["violations"]
    assert [v["feature_name"] for v in violations] == ["cpu_utilization_percent_per_core"]


def test_analyze_refuses_a_bad_percentage_by_its_option(tmp_path, capsys):
    source = capture_dir(tmp_path, [10.0])
    args = [
        "analyze",
        "--input",
        str(source),
        "--output",
        str(tmp_path / "out"),
        "--max-memory-percent",
        "200",
    ]
    assert main(args) == 1
    assert capsys.readouterr().err == "error: --max-memory-percent: '200' is not a percentage in (0, 100]\n"
