"""Settings the container reads from its environment, checked by the same rules where they are
read (the server, at start) and where they are written (`python -m deployment validate`, for
`endpoint.environment`). Standard library only: the deployment imports it.
"""

from __future__ import annotations

from inference.errors import ModelError

# How many landmark passes BlazePose may spend tracking the person it leads with (1: MediaPipe's
# single pass, fastest; 3: the default, most accurate). benchmarks/accuracy.py prints the trade.
TRACKING_PASSES_ENV = "POSE_TRACKING_PASSES"
MOST_TRACKING_PASSES = 3


def tracking_passes_setting(value: str | None) -> int | None:
    """POSE_TRACKING_PASSES, or None (the pipeline's own) when unset; a bad value is refused at start."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MOST_TRACKING_PASSES):
        raise ModelError(
            f"must be 1, 2 or {MOST_TRACKING_PASSES}, got {value[:40]!r}",
            where=TRACKING_PASSES_ENV,
            hint="unset it for the default (3 passes, most accurate); 1 is the fastest",
        )
    return int(text)
