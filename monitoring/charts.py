"""Inline SVG charts for report.html, drawn by hand so the page needs no plotting library or network.

Pure functions: numbers in, SVG text out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from monitoring.aggregates import TimeBucket

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40  # plot margins
DISPLAY_BINS = 40
BAR, MEAN, PEAK, LIMIT = "#4a7fb5", "#1f4e79", "#e0a030", "#c0392b"
# One colour per model (Okabe & Ito's colour-blind-safe palette, darker ones first: they read on white).
MODEL_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
LEGEND_GAP = 70  # px between the starts of two legend labels, or more for a long label


def latency_histogram(
    buckets: Sequence[tuple[float, float, int]], threshold_ms: float, p99_threshold_ms: float | None = None
) -> str:
    """Counts of inference times on a log axis, from the log-histogram buckets, with the thresholds marked."""
    finite = [(lower, upper, count) for lower, upper, count in buckets if lower > 0 and math.isfinite(upper)]
    if not finite:
        return _empty("no inference times to plot")
    low = finite[0][0]
    growth = finite[0][1] / low
    # Whole source buckets per bar: bars of uneven width would draw a comb, not a distribution.
    last = round(math.log(finite[-1][0] / low) / math.log(growth))
    per_bar = max(1, math.ceil((last + 1) / DISPLAY_BINS))
    counts = [0] * (last // per_bar + 1)
    for lower, _, count in finite:
        counts[round(math.log(lower / low) / math.log(growth)) // per_bar] += count
    width = growth**per_bar
    high = max(low * width ** len(counts), low * 1.5)
    limits = [(threshold_ms, f"threshold {threshold_ms:g} ms")]
    if p99_threshold_ms is not None:
        limits.append((p99_threshold_ms, f"p99 threshold {p99_threshold_ms:g} ms"))
    high = max(high, *(value * 1.1 for value, _ in limits))  # a log axis has room for the limits
    axis_low = min(low, *(value / 1.1 for value, _ in limits))
    x_of = _log_scale(axis_low, high)
    y_of = _linear_scale(0, max(counts))
    bars = []
    for index, count in enumerate(counts):
        if count:
            left, right = x_of(low * width**index), x_of(low * width ** (index + 1))
            bars.append(
                f'<rect x="{left:.1f}" y="{y_of(count):.1f}" width="{max(1.0, right - left - 1):.1f}" '
                f'height="{y_of(0) - y_of(count):.1f}" fill="{BAR}"><title>{count} from '
                f"{low * width ** index:.3g} to {low * width ** (index + 1):.3g} ms</title></rect>"
            )
    parts = [
        *_log_x_axis(axis_low, high, x_of),
        *_y_axis(max(counts), y_of, "predictions", whole=True),
        *bars,
    ]
    parts += [_vertical_limit(x_of(value), label, index) for index, (value, label) in enumerate(limits)]
    return _svg("Distribution of inference time (ms, log scale)", parts)


@dataclass(frozen=True)
class Line:
    """One series of a time chart: (seconds since the epoch of the period's middle, value), oldest first."""

    label: str
    colour: str
    points: Sequence[tuple[float, float]]
    width: float = 1.5


@dataclass(frozen=True)
class Limit:
    label: str
    value: float


def latency_over_time(
    buckets: Sequence[TimeBucket],
    threshold_ms: float,
    bucket_seconds: int,
    span: tuple[float, float] | None = None,
    p99_threshold_ms: float | None = None,
) -> str:
    """Mean and maximum inference time per time bucket over the whole window, the thresholds dashed."""
    timed = [bucket for bucket in buckets if bucket.latency.count]
    if not timed:
        return _empty("no inference times to plot")
    middle = bucket_seconds / 2

    def series(value) -> list[tuple[float, float]]:
        return [(bucket.start.timestamp() + middle, value(bucket.latency)) for bucket in timed]

    limits = [Limit(f"threshold {threshold_ms:g} ms", threshold_ms)]
    if p99_threshold_ms is not None:
        limits.append(Limit(f"p99 threshold {p99_threshold_ms:g} ms", p99_threshold_ms))
    return time_chart(
        f"Inference time per {bucket_seconds / 60:g}-minute bucket (ms, UTC)",
        [
            Line("mean", MEAN, series(lambda latency: latency.mean), width=2.5),
            Line("max", PEAK, series(lambda latency: latency.maximum)),
        ],
        limits,
        span or (timed[0].start.timestamp(), timed[-1].start.timestamp() + bucket_seconds),
        bucket_seconds,
        "ms",
    )


def latency_by_model(
    models: Sequence[tuple[str, Sequence[TimeBucket]]],
    threshold_ms: float,
    bucket_seconds: int,
    span: tuple[float, float] | None = None,
) -> str:
    """Mean inference time per time bucket, one line per model, the threshold dashed."""
    middle = bucket_seconds / 2
    lines = [
        Line(
            name,
            MODEL_COLOURS[index % len(MODEL_COLOURS)],
            [
                (bucket.start.timestamp() + middle, bucket.latency.mean)
                for bucket in buckets
                if bucket.latency.count
            ],
            width=2,
        )
        for index, (name, buckets) in enumerate(models)
    ]
    timed = [point for line in lines for point in line.points]
    if not timed:
        return _empty("no inference times to plot")
    return time_chart(
        f"Mean inference time by model per {bucket_seconds / 60:g}-minute bucket (ms, UTC)",
        lines,
        [Limit(f"threshold {threshold_ms:g} ms", threshold_ms)],
        span or (min(timed)[0] - middle, max(timed)[0] + middle),
        bucket_seconds,
        "ms",
    )


def time_chart(
    title: str,
    lines: Sequence[Line],
    limits: Sequence[Limit],
    span: tuple[float, float],
    step_seconds: float,
    unit: str,
) -> str:
    """Series over [start, end) of the window; a missing period breaks a line instead of bridging it.

    A limit far above the data (over 4x its top) is marked at the top edge rather than flattening the data.
    """
    plotted = [line for line in lines if line.points]
    if not plotted:
        return _empty(f"no {title.lower()} to plot")
    start = min(span[0], *(line.points[0][0] - step_seconds / 2 for line in plotted))
    end = max(span[1], *(line.points[-1][0] + step_seconds / 2 for line in plotted), start + step_seconds)
    top = max(value for line in plotted for _, value in line.points)
    near = [limit for limit in limits if limit.value <= top * 4]
    top = max([top, *(limit.value * 1.1 for limit in near)]) or 1.0
    x_of = _linear_scale(start, end, horizontal=True)
    y_of = _linear_scale(0, top)
    parts = [*_time_x_axis(start, end, x_of), *_y_axis(top, y_of, unit)]
    legend_x = LEFT + 8
    for line in plotted:
        parts += _polylines(line, x_of, y_of, step_seconds)
        parts.append(f'<text x="{legend_x}" y="{TOP + 12}" fill="{line.colour}">{escape(line.label)}</text>')
        legend_x += max(LEGEND_GAP, len(line.label) * 7 + 16)  # ~7 px a character at font-size 11
    for limit in limits:
        above = limit not in near
        y = y_of(top) if above else y_of(limit.value)
        label = f"{limit.label} (above the scale)" if above else limit.label
        parts.append(_horizontal_limit(y, label))
    return _svg(title, parts)


def _polylines(line: Line, x_of, y_of, step_seconds: float) -> list[str]:
    """One polyline per run of consecutive periods; a lone period is a dot."""
    runs: list[list[tuple[float, float]]] = []
    for moment, value in line.points:
        if runs and moment - runs[-1][-1][0] <= step_seconds * 1.5:
            runs[-1].append((moment, value))
        else:
            runs.append([(moment, value)])
    drawn = []
    for run in runs:
        title = f"<title>{escape(line.label)}</title>"
        if len(run) == 1:
            ((moment, value),) = run
            drawn.append(
                f'<circle cx="{x_of(moment):.1f}" cy="{y_of(value):.1f}" r="{line.width + 1:g}" '
                f'fill="{line.colour}">{title}</circle>'
            )
            continue
        points = " ".join(f"{x_of(moment):.1f},{y_of(value):.1f}" for moment, value in run)
        drawn.append(
            f'<polyline points="{points}" fill="none" stroke="{line.colour}" '
            f'stroke-width="{line.width:g}">{title}</polyline>'
        )
    return drawn


def _horizontal_limit(y: float, label: str) -> str:
    return (
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LIMIT}" '
        f'stroke-dasharray="6 4"/><text x="{WIDTH - RIGHT - 4}" y="{y - 4 if y > TOP + 14 else y + 12:.1f}" '
        f'text-anchor="end" fill="{LIMIT}">{escape(label)}</text>'
    )


def people_histogram(labels: Sequence[str], counts: Sequence[int]) -> str:
    """Photos by the number of people found in them, one bar per bucket (0, 1, ... 5+)."""
    if not sum(counts):
        return _empty("no predictions to count people in")
    slot = (WIDTH - LEFT - RIGHT) / len(counts)
    y_of = _linear_scale(0, max(counts))
    parts = [_axis_line(horizontal=True), *_y_axis(max(counts), y_of, "photos", whole=True)]
    for index, (label, count) in enumerate(zip(labels, counts, strict=True)):
        middle = LEFT + slot * (index + 0.5)
        parts.append(_x_tick(middle, label))
        if count:
            parts.append(
                f'<rect x="{middle - slot * 0.35:.1f}" y="{y_of(count):.1f}" width="{slot * 0.7:.1f}" '
                f'height="{y_of(0) - y_of(count):.1f}" fill="{BAR}"><title>{count} with {escape(label)} '
                f"{'person' if label == '1' else 'people'}</title></rect>"
            )
    return _svg("Photos by the number of people found in them", parts)


def _svg(title: str, parts: list[str]) -> str:
    body = "\n".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>\n{body}\n</svg>"
    )


def _empty(text: str) -> str:
    return _svg(text, [f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">{escape(text)}</text>'])


def _linear_scale(low: float, high: float, horizontal: bool = False):
    span = (high - low) or 1.0
    if horizontal:
        return lambda value: LEFT + (value - low) / span * (WIDTH - LEFT - RIGHT)
    return lambda value: HEIGHT - BOTTOM - (value - low) / span * (HEIGHT - TOP - BOTTOM)


def _log_scale(low: float, high: float):
    span = math.log(high / low)
    return lambda value: LEFT + math.log(value / low) / span * (WIDTH - LEFT - RIGHT)


def _log_x_axis(low: float, high: float, x_of) -> list[str]:
    ticks = [
        mantissa * 10.0**exponent
        for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        for mantissa in (1, 2, 5)
        if low <= mantissa * 10.0**exponent <= high
    ]
    return [_axis_line(horizontal=True)] + [_x_tick(x_of(tick), f"{tick:g}") for tick in ticks]


def _time_x_axis(start: float, end: float, x_of) -> list[str]:
    step = _nice_step((end - start) / 6, (60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400))
    first = math.ceil(start / step) * step
    ticks = range(int(first), int(end) + 1, int(step))
    fmt = "%H:%M" if end - start <= 86400 else "%m-%d %H:%M"
    labels = [_x_tick(x_of(tick), datetime.fromtimestamp(tick, UTC).strftime(fmt)) for tick in ticks]
    return [_axis_line(horizontal=True), *labels]


def _y_axis(top: float, y_of, label: str, whole: bool = False) -> list[str]:
    choices = [m * 10.0**e for e in range(0 if whole else -3, 9) for m in (1, 2, 5)]
    step = _nice_step(top / 4, choices)
    ticks = [step * index for index in range(int(top / step) + 1)]
    parts = [_axis_line(horizontal=False)]
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>'
        )
    parts.append(
        f'<text x="14" y="{(HEIGHT - BOTTOM + TOP) / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(HEIGHT - BOTTOM + TOP) / 2:.1f})">{escape(label)}</text>'
    )
    return parts


def _nice_step(rough: float, choices) -> float:
    return next((choice for choice in choices if choice >= rough), max(choices))


def _axis_line(horizontal: bool) -> str:
    if horizontal:
        y = HEIGHT - BOTTOM
        return f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="#555"/>'
    return f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#555"/>'


def _x_tick(x: float, label: str) -> str:
    y = HEIGHT - BOTTOM
    return (
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y}" y2="{y + 4}" stroke="#555"/>'
        f'<text x="{x:.1f}" y="{y + 16}" text-anchor="middle">{escape(label)}</text>'
    )


def _vertical_limit(x: float, label: str, row: int = 0) -> str:
    return (
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="{LIMIT}" '
        f'stroke-dasharray="6 4"/><text x="{x - 4:.1f}" y="{TOP + 12 + 14 * row}" text-anchor="end" '
        f'fill="{LIMIT}">{escape(label)}</text>'
    )
