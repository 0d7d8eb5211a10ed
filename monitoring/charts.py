"""Three inline SVG charts for report.html, drawn by hand so the page needs no plotting library or network.

Pure functions: numbers in, SVG text out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from monitoring.aggregates import TimeBucket

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40  # plot margins
DISPLAY_BINS = 40
BAR, MEAN, PEAK, LIMIT = "#4a7fb5", "#1f4e79", "#e0a030", "#c0392b"


def latency_histogram(buckets: Sequence[tuple[float, float, int]], threshold_ms: float) -> str:
    """Counts of inference times on a log axis, from the log-histogram buckets, with the threshold marked."""
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
    if threshold_ms <= high * 4:  # show the limit when it is near the data
        high = max(high, threshold_ms * 1.1)
    x_of = _log_scale(low, high)
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
    parts = [*_log_x_axis(low, high, x_of), *_y_axis(max(counts), y_of, "predictions", whole=True), *bars]
    if threshold_ms <= high:
        parts.append(_vertical_limit(x_of(threshold_ms), f"threshold {threshold_ms:g} ms"))
    return _svg("Distribution of inference time (ms, log scale)", parts)


def latency_over_time(buckets: Sequence[TimeBucket], threshold_ms: float, bucket_seconds: int) -> str:
    """Mean and maximum inference time per time bucket, with the threshold as a dashed line."""
    timed = [bucket for bucket in buckets if bucket.latency.count]
    if not timed:
        return _empty("no inference times to plot")
    start = timed[0].start.timestamp()
    end = max(timed[-1].start.timestamp() + bucket_seconds, start + bucket_seconds)
    top = max(bucket.latency.maximum for bucket in timed)
    if threshold_ms <= top * 4:
        top = max(top, threshold_ms * 1.1)
    x_of = _linear_scale(start, end, horizontal=True)
    y_of = _linear_scale(0, top)

    def point(bucket: TimeBucket, value: float) -> str:
        return f"{x_of(bucket.start.timestamp() + bucket_seconds / 2):.1f},{y_of(value):.1f}"

    means = " ".join(point(bucket, bucket.latency.mean) for bucket in timed)
    peaks = " ".join(point(bucket, bucket.latency.maximum) for bucket in timed)
    parts = [
        *_time_x_axis(start, end, x_of),
        *_y_axis(top, y_of, "ms"),
        f'<polyline points="{peaks}" fill="none" stroke="{PEAK}" stroke-width="1.5"><title>maximum</title></polyline>',
        f'<polyline points="{means}" fill="none" stroke="{MEAN}" stroke-width="2"><title>mean</title></polyline>',
        f'<text x="{LEFT + 8}" y="{TOP + 12}" fill="{MEAN}">mean</text>',
        f'<text x="{LEFT + 50}" y="{TOP + 12}" fill="{PEAK}">max</text>',
    ]
    if threshold_ms <= top:
        y = y_of(threshold_ms)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LIMIT}" '
            f'stroke-dasharray="6 4"/><text x="{WIDTH - RIGHT - 4}" y="{y - 4:.1f}" text-anchor="end" '
            f'fill="{LIMIT}">threshold {threshold_ms:g} ms</text>'
        )
    minutes = bucket_seconds / 60
    return _svg(f"Inference time per {minutes:g}-minute bucket (ms, UTC)", parts)


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


def _vertical_limit(x: float, label: str) -> str:
    return (
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="{LIMIT}" '
        f'stroke-dasharray="6 4"/><text x="{x - 4:.1f}" y="{TOP + 12}" text-anchor="end" '
        f'fill="{LIMIT}">{escape(label)}</text>'
    )
