"""Data capture as SageMaker does it: sampled, one JSON line per invocation, hourly files.

Files land in `{root}/{endpoint}/{variant}/yyyy/mm/dd/hh/*.jsonl`, the layout the monitoring
job reads. Each record is appended and flushed at once, so Ctrl-C or a crash loses nothing
that was already answered.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from monitoring.capture import Invocation, capture_path, capture_record, encode_record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaptureSettings:
    root: Path
    endpoint: str
    variant: str
    sampling_percent: int
    capture_input: bool = True
    capture_output: bool = True


class CaptureWriter:
    """Thread-safe; one open file per hour, like SageMaker's per-hour folders."""

    def __init__(self, settings: CaptureSettings, rng: random.Random | None = None) -> None:
        self.settings = settings
        self._rng = rng or random.Random()  # noqa: S311 - sampling, not security
        self._lock = threading.Lock()
        self._hour: str | None = None
        self._stream: IO[str] | None = None
        self.written = 0

    def sampled(self) -> bool:
        return self._rng.uniform(0, 100) < self.settings.sampling_percent

    def write(self, invocation: Invocation) -> Path:
        record = capture_record(invocation)
        if not self.settings.capture_input:
            del record["captureData"]["endpointInput"]
        if not self.settings.capture_output:
            del record["captureData"]["endpointOutput"]
        line = encode_record(record)
        with self._lock:
            stream = self._stream_for(invocation.inference_time)
            stream.write(line)
            stream.flush()
            self.written += 1
            return Path(stream.name)

    def close(self) -> None:
        with self._lock:
            if self._stream:
                self._stream.close()
                self._stream = None

    def _stream_for(self, moment: datetime) -> IO[str]:
        hour = moment.astimezone(UTC).strftime("%Y%m%d%H")
        if hour != self._hour or self._stream is None:
            if self._stream:
                self._stream.close()
            path = capture_path(self.settings.root, self.settings.endpoint, self.settings.variant, moment)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the hour
            self._hour = hour
            log.info("capturing to %s", path)
        return self._stream
