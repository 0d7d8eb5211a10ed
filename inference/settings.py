"""Settings the container reads from its environment, checked by the same rules where they are
read (the server, at start) and where they are written (`python -m deployment validate`, for
`endpoint.environment`, through `CONTAINER_SETTINGS`). Standard library only: the deployment
imports it.
"""

from __future__ import annotations

from collections.abc import Callable

from inference import codec
from inference.errors import ModelError
from inference.memory import MODELS_MEMORY_ENV, limit_setting

# The container's default for how many people a response lists (config.yml's model.max_people).
MAX_PEOPLE_ENV = "POSE_MAX_PEOPLE"
# Set by `python -m deployment batch` in the transform job's environment: Batch Transform fails the
# whole job on one 4xx, so a photo the model cannot read is answered 200 with `{"error", "status"}`
# and becomes that photo's result, like every other photo's.
ERRORS_AS_RESULTS_ENV = "POSE_ERRORS_AS_RESULTS"

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


def max_people_setting(value: str | None) -> int:
    """POSE_MAX_PEOPLE, or the default when unset; a bad value stops the server before it starts."""
    if value is None or not value.strip():
        return codec.DEFAULT_MAX_PEOPLE
    count = codec.people_count(value)
    if count is None:
        raise ModelError(
            f"must be an integer from 1 to {codec.MAX_PEOPLE_LIMIT}, got {value[:40]!r}",
            where=MAX_PEOPLE_ENV,
            hint="set model.max_people in config.yml, or unset the variable for the default",
        )
    return count


def errors_as_results_setting(value: str | None) -> bool:
    """POSE_ERRORS_AS_RESULTS: on for "1" or "true" (any case), off when unset or anything else."""
    return (value or "").strip().lower() in ("1", "true")


# Every setting the container refuses a bad value of, by its variable: read at start, or checked.
CONTAINER_SETTINGS: dict[str, Callable[[str | None], object]] = {
    MAX_PEOPLE_ENV: max_people_setting,
    TRACKING_PASSES_ENV: tracking_passes_setting,
    MODELS_MEMORY_ENV: limit_setting,
}
