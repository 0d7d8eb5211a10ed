"""`python -m monitoring`: the Model Monitor container's entry point, configured only by its environment.

`python -m monitoring analyze --input DIR --output DIR`: the same run on local capture files, with
a short summary printed. Exit 0 for Completed and CompletedWithViolations (violations are
data), 1 when the run fails (bad configuration, unreadable dataset); the message file says why.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from monitoring import config, job, report
from monitoring.by_model import ModelStatistics, is_split
from monitoring.config import MonitorConfig, ResourceSettings, Thresholds
from monitoring.contract import DEFAULT_VARIANT_NAME, DEFAULT_VCPUS, MESSAGE_FILE, REPORT_FILE, ResourceLimits
from monitoring.errors import MonitoringError
from monitoring.resources import MEMORY, EndpointResources

log = logging.getLogger("monitoring")
FAILED_EXIT = 1


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if not arguments:
        _configure_logging(debug=False)
        return container(os.environ)
    args = _parser().parse_args(arguments)
    _configure_logging(args.debug)
    return args.command(args)


def container(environ: Mapping[str, str]) -> int:
    """The scheduled job: every setting from SageMaker's environment (or processingjobconfig.json)."""
    output_root = config.output_root(environ)
    try:
        job.run(config.load(environ))
    except MonitoringError as error:
        log.error("monitoring run failed: %s", error)
        _write_failure(output_root, str(error))
        return FAILED_EXIT
    except Exception as error:
        # A bug: still tell the operator in the job's ExitMessage, then fail loudly with the traceback.
        _write_failure(output_root, f"internal error: {type(error).__name__}: {error}")
        raise
    log.info("status written to %s", output_root / MESSAGE_FILE)
    return 0


def _analyze(args: argparse.Namespace) -> int:
    output = Path(args.output)
    try:
        settings = MonitorConfig(
            dataset_source=Path(args.input),
            output_path=output,
            output_root=output,
            window=config.checked_window(
                _time(args.start, "--start"), _time(args.end, "--end"), "--start, --end"
            ),
            thresholds=Thresholds(
                config.parse_seconds(args.threshold, "--threshold"),
                config.parse_seconds(args.p99_threshold, "--p99-threshold") if args.p99_threshold else None,
            ),
            publish_metrics=args.metrics,
            endpoint_name=args.endpoint,
            schedule_name="local",
            resources=ResourceSettings(
                limits=ResourceLimits(
                    *(
                        config.parse_percent(value, option) if value is not None else None
                        for value, option in (
                            (args.max_memory_percent, "--max-memory-percent"),
                            (args.max_cpu_percent_per_core, "--max-cpu-percent-per-core"),
                            (args.max_error_percent, "--max-error-percent"),
                        )
                    )
                ),
                variant_name=args.variant,
                vcpus=config.parse_count(args.vcpus, "--vcpus"),
                samples=Path(args.samples) if args.samples else None,
            ),
        )
        result = job.run(settings)
    except MonitoringError as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        _write_failure(output, str(error))
        return FAILED_EXIT
    print(_summary(result, settings, output / REPORT_FILE))
    return 0


def _summary(result: job.RunResult, settings: MonitorConfig, page: Path) -> str:
    statistics, latency = result.statistics, result.statistics.latency
    lines = [
        result.message.split(":", 1)[0],
        f"  records    {statistics.records:,} {statistics.window.describe()}",
    ]
    scan = statistics.scan
    lines.append(f"  skipped    {scan.outside_window:,} outside the window, {scan.unreadable:,} unreadable")
    if latency.summary.count:
        lines.append(
            f"  latency    mean {latency.summary.mean:.1f} ms, p50 {latency.p50:.1f}, p90 {latency.p90:.1f}, "
            f"p99 {latency.p99:.1f}, max {latency.summary.maximum:.1f} ms "
            f"(threshold {settings.thresholds.mean_seconds * 1000:g} ms)"
        )
    rate = statistics.error_rate
    lines.append(f"  errors     {statistics.errors:,}" + (f" ({rate:.1%})" if rate is not None else ""))
    if statistics.person_detected_rate is not None:
        score = statistics.keypoint_score.mean
        lines.append(
            f"  quality    person in {statistics.person_detected_rate:.1%} of predictions"
            + (f", mean keypoint score {score:.3f}" if score is not None else "")
        )
    people = statistics.people.summary
    if people.count:
        lines.append(f"  people     {people.mean:.2f} per photo on average, at most {people.maximum:g}")
    lines.extend(_model_lines(statistics.models))
    lines.extend(_resource_lines(statistics.resources))
    lines.extend(f"  violation  {violation.description}" for violation in result.violations)
    lines.append(f"  report     {page}")
    return "\n".join(lines)


def _model_lines(models: tuple[ModelStatistics, ...]) -> list[str]:
    """One line per model, when two or more answered."""
    if not is_split(models):
        return []
    lines = []
    for model in models:
        latency, rate = model.latency, model.person_detected_rate
        line = f"  model      {model.name}: {model.predictions:,} predictions, {model.errors:,} errors"
        if latency.summary.count:
            line += f", mean {latency.summary.mean:.1f} ms, p99 {latency.p99:.1f} ms"
        lines.append(line + (f", person in {rate:.1%}" if rate is not None else ""))
    return lines


def _resource_lines(resources: EndpointResources) -> list[str]:
    if not resources.source:
        return []
    lines = []
    per_core, memory = resources.cpu_per_core, resources.metric(MEMORY.name)
    if per_core:
        lines.append(f"  cpu        {per_core[0]:.1f}% per core on average, at most {per_core[1]:.1f}%")
    if memory:
        lines.append(f"  memory     {memory.mean:.1f}% on average, at most {memory.maximum:.1f}%")
    if resources.unavailable:
        lines.append(f"  no data    {', '.join(resources.unavailable)} ({resources.source})")
    return lines


def _write_failure(output_root: Path, reason: str) -> None:
    try:
        report.write_message(output_root, report.failure_message(reason))
    except OSError as write_error:
        log.error("cannot write the failure message to %s: %s", output_root, write_error)


def _time(value: str | None, where: str) -> datetime | None:
    return config.parse_time(value, where) if value else None


def _configure_logging(debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m monitoring", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    analyze = commands.add_parser("analyze", help="analyse local capture files and write report.html")
    analyze.add_argument(
        "--input", required=True, help="capture files: {endpoint}/{variant}/yyyy/mm/dd/hh/*.jsonl"
    )
    analyze.add_argument("--output", required=True, help="where the results and report.html go")
    analyze.add_argument("--start", help="ISO-8601 UTC start of the window (default: no limit)")
    analyze.add_argument("--end", help="ISO-8601 UTC end of the window, exclusive (default: no limit)")
    analyze.add_argument(
        "--threshold", default=str(config.DEFAULT_THRESHOLD_SECONDS), help="seconds, average"
    )
    analyze.add_argument("--p99-threshold", help="seconds, p99 (default: not checked)")
    analyze.add_argument("--metrics", action="store_true", help="also write metrics/cloudwatch/*.jsonl")
    analyze.add_argument("--endpoint", default="local", help="the Endpoint dimension of the metrics")
    analyze.add_argument("--samples", help="resource samples of the server (make demo's .local/usage)")
    analyze.add_argument("--variant", default=DEFAULT_VARIANT_NAME, help="the variant the samples are of")
    analyze.add_argument("--vcpus", default=str(DEFAULT_VCPUS), help="cores the CPU is summed over")
    analyze.add_argument(
        "--max-memory-percent", help="percent of the machine's memory (default: not checked)"
    )
    analyze.add_argument("--max-cpu-percent-per-core", help="percent per core (default: not checked)")
    analyze.add_argument(
        "--max-error-percent", help="percent of invocations answered 5XX (default: not checked)"
    )
    analyze.set_defaults(command=_analyze)
    return parser


if __name__ == "__main__":
    sys.exit(main())
