"""report.html: one self-contained page (inline CSS and SVG, nothing fetched) an operator can open or mail."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path

from monitoring import charts
from monitoring.aggregates import PEOPLE_LABELS, Summary
from monitoring.by_model import ModelStatistics, is_split
from monitoring.capture import Outcome
from monitoring.checks import Statistics, Violation
from monitoring.config import MonitorConfig, Window
from monitoring.contract import REPORT_FILE, format_time
from monitoring.report import notes
from monitoring.resource_page import resource_section

ERROR_LABELS = {
    Outcome.ERROR_RESPONSE: 'errors: {"error": …} responses',
    Outcome.NO_TIMING: "errors: no timing.inference_ms",
    Outcome.NOT_JSON: "errors: not a JSON object",
}
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 800px; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; } h3 { font-size: 1rem; }
.status { padding: .6rem .9rem; border-radius: 6px; background: #e8f5e9; border: 1px solid #a5d6a7; }
.status.violations { background: #fdecea; border-color: #f5a9a1; }
table { border-collapse: collapse; width: 100%; } td, th { padding: .25rem .5rem; text-align: left; }
tr:nth-child(even) { background: #f6f6f6; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: .9em; } footer { margin-top: 2rem; color: #777; font-size: .85em; }
.wide { overflow-x: auto; margin-bottom: 1rem; } .wide th, .wide td { white-space: nowrap; }
thead th { border-bottom: 1px solid #ccc; } thead th + th { text-align: right; }
caption { text-align: left; font-weight: 600; padding: .25rem .5rem; }
td.over { color: #c0392b; font-weight: 600; }
"""


def write_page(
    config: MonitorConfig, statistics: Statistics, violations: tuple[Violation, ...], message: str
) -> Path:
    path = config.output_path / REPORT_FILE
    path.write_text(render_page(config, statistics, violations, message), encoding="utf-8")
    return path


def render_page(
    config: MonitorConfig, statistics: Statistics, violations: tuple[Violation, ...], message: str
) -> str:
    threshold_ms = config.thresholds.mean_seconds * 1000.0
    p99_ms = config.thresholds.p99_seconds * 1000.0 if config.thresholds.p99_seconds else None
    span = _span(config.window)
    sections = [
        f"<h1>Inference monitoring: {escape(config.endpoint_name or 'local capture')}</h1>",
        f'<p class="status{" violations" if violations else ""}">{escape(message)}</p>',
        _violations(violations),
        "<h2>Latency distribution</h2>",
        charts.latency_histogram(statistics.latency.histogram, threshold_ms, p99_ms),
        "<h2>Latency over time</h2>",
        charts.latency_over_time(
            statistics.timeline, threshold_ms, statistics.timeline_seconds, span, p99_ms
        ),
        _models_section(statistics.models, threshold_ms, statistics.timeline_seconds, span),
        resource_section(statistics.resources, config.resources.limits, span),
        "<h2>People per photo</h2>",
        charts.people_histogram(PEOPLE_LABELS, statistics.people.histogram),
        "<h2>Statistics</h2>",
        _table(_statistics_rows(statistics)),
        "<h2>Capture files</h2>",
        _table(_capture_rows(statistics)),
        _notes(statistics),
        f"<footer>Records {escape(statistics.window.describe())}. Source: <code>{escape(str(config.dataset_source))}"
        f"</code>. Generated {format_time(datetime.now(UTC))}.</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Inference monitoring report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(section for section in sections if section)
        + "\n</body>\n</html>\n"
    )


def _models_section(
    models: tuple[ModelStatistics, ...],
    threshold_ms: float,
    bucket_seconds: int,
    span: tuple[float, float] | None,
) -> str:
    """Latency and quality per model, and their latency over time, when two or more models answered."""
    if not is_split(models):
        return ""
    timed = [(model.name, model.timeline) for model in models if model.latency.summary.count]
    return "\n".join(
        [
            "<h2>By model</h2>",
            _grid(
                "Inference time (ms)",
                ("model", "predictions", "mean", "p50", "p90", "p99", "max"),
                [_latency_row(model, threshold_ms) for model in models],
            ),
            _grid(
                "Counts and quality",
                ("model", "records", "errors", "person found", "keypoint score", "people: mean / max"),
                [_quality_row(model) for model in models],
            ),
            "<h3>Latency over time by model</h3>",
            charts.latency_by_model(timed, threshold_ms, bucket_seconds, span),
        ]
    )


def _latency_row(model: ModelStatistics, threshold_ms: float) -> list[tuple[str, str]]:
    """(text, CSS class) per cell; a mean over the threshold is marked."""
    latency = model.latency
    return [
        (model.name, ""),
        (f"{latency.summary.count:,}", "number"),
        (_number(latency.summary.mean), "number over" if _over(model, threshold_ms) else "number"),
        *[(_number(value), "number") for value in (latency.p50, latency.p90, latency.p99)],
        (_number(latency.summary.maximum), "number"),
    ]


def _quality_row(model: ModelStatistics) -> list[tuple[str, str]]:
    people = model.people.summary
    return [
        (model.name, ""),
        (f"{model.records:,}", "number"),
        (f"{model.errors:,} ({_percent(model.error_rate)})", "number"),
        (_percent(model.person_detected_rate), "number"),
        (_number(model.keypoint_score.mean, 3), "number"),
        (f"{_number(people.mean, 2)} / {_number(people.maximum, 0)}", "number"),
    ]


def _over(model: ModelStatistics, threshold_ms: float) -> bool:
    return model.latency.summary.count > 0 and model.latency.summary.mean > threshold_ms


def _grid(caption: str, headers: tuple[str, ...], rows: list[list[tuple[str, str]]]) -> str:
    """A table with a header row; each cell a (text, CSS class) pair."""
    head = "".join(f'<th scope="col">{escape(name)}</th>' for name in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<th scope="row">{escape(text)}</th>' if not index else f'<td class="{css}">{escape(text)}</td>'
            for index, (text, css) in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="wide"><table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _violations(violations: tuple[Violation, ...]) -> str:
    if not violations:
        return "<p>No violations.</p>"
    items = "".join(
        f"<li><code>{escape(v.feature_name)}</code> ({escape(v.constraint_check_type)}): {escape(v.description)}</li>"
        for v in violations
    )
    return f"<h2>Violations</h2><ul>{items}</ul>"


def _statistics_rows(statistics: Statistics) -> list[tuple[str, str]]:
    latency = statistics.latency
    return [
        ("records in the window", f"{statistics.records:,}"),
        ("predictions", f"{statistics.predictions:,}"),
        ("errors", f"{statistics.errors:,} ({_percent(statistics.error_rate)})"),
        *[(label, f"{statistics.outcome(outcome):,}") for outcome, label in ERROR_LABELS.items()],
        ("output not captured", f"{statistics.output_not_captured:,}"),
        (
            "inference ms: mean / std dev",
            f"{_number(latency.summary.mean)} / {_number(latency.summary.std_dev)}",
        ),
        (
            "inference ms: p50 / p90 / p99",
            " / ".join(_number(value) for value in (latency.p50, latency.p90, latency.p99)),
        ),
        (
            "inference ms: min / max",
            f"{_number(latency.summary.minimum)} / {_number(latency.summary.maximum)}",
        ),
        ("person detected", _percent(statistics.person_detected_rate)),
        (
            "people per photo: mean / max",
            f"{_number(statistics.people.summary.mean, 2)} / {_number(statistics.people.summary.maximum, 0)}",
        ),
        ("mean keypoint score", _number(statistics.keypoint_score.mean, 3)),
        ("request size: mean / max", _bytes(statistics.request_bytes)),
    ]


def _capture_rows(statistics: Statistics) -> list[tuple[str, str]]:
    scan = statistics.scan
    rows = [
        ("files", f"{scan.files:,}"),
        ("lines", f"{scan.lines:,}"),
        ("outside the window", f"{scan.outside_window:,}"),
        ("unreadable (skipped)", f"{scan.unreadable:,}"),
    ]
    rows += [(f"variant {name or '(unknown)'}", f"{count:,} records") for name, count in scan.variants]
    return rows + [("unreadable example", example) for example in scan.unreadable_examples]


def _notes(statistics: Statistics) -> str:
    found = notes(statistics)
    return f"<h2>Notes</h2><ul>{''.join(f'<li>{escape(note)}</li>' for note in found)}</ul>" if found else ""


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f'<tr><th>{escape(name)}</th><td class="number">{escape(value)}</td></tr>' for name, value in rows
    )
    return f"<table>{body}</table>"


def _number(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _bytes(summary: Summary) -> str:
    if not summary.count:
        return "–"
    return f"{summary.mean / 1024:,.1f} KB / {summary.maximum / 1024:,.1f} KB"


def _span(window: Window) -> tuple[float, float] | None:
    """The window in seconds since the epoch, when it has both ends: charts span all of it."""
    return (window.start.timestamp(), window.end.timestamp()) if window.start and window.end else None
