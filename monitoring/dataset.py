"""Every capture file below dataset_source, streamed one line at a time: the records in the window,
and a tally of everything else (lines outside the window, lines that cannot be read).

SageMaker copies whole hour folders, often more than the window, for every variant:
`{endpoint}/{variant}/yyyy/mm/dd/hh/*.jsonl`. Only one line is in memory at a time.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from monitoring.capture import Record, UnreadableRecord, read_record
from monitoring.config import ALL_TIME, Window
from monitoring.errors import MonitoringError

log = logging.getLogger(__name__)

CAPTURE_SUFFIX = ".jsonl"
READ_BUFFER_BYTES = 1 << 20  # lines are ~55 KB: a small buffer would assemble each from many reads
MAX_UNREADABLE_EXAMPLES = 5


@dataclass(frozen=True)
class ScanCounts:
    files: int = 0
    lines: int = 0
    in_window: int = 0
    outside_window: int = 0
    unreadable: int = 0
    unreadable_examples: tuple[str, ...] = ()  # "file:line: reason" of the first few
    variants: tuple[tuple[str, int], ...] = ()  # records in the window per production variant


@dataclass
class _Tally:
    files: int = 0
    lines: int = 0
    outside_window: int = 0
    unreadable: int = 0
    examples: list[str] = field(default_factory=list)
    variants: Counter[str] = field(default_factory=Counter)


class CaptureScan:
    """Iterate once for the records in the window; `counts` is complete after the iteration."""

    def __init__(self, source: Path, window: Window = ALL_TIME) -> None:
        self.source = source
        self.window = window
        self._tally = _Tally()
        if not source.exists():
            raise MonitoringError(
                "does not exist",
                where=f"dataset_source {source}",
                hint="point dataset_source (or --input) at the copied capture files",
            )

    def __iter__(self) -> Iterator[Record]:
        for path in capture_files(self.source):
            self._tally.files += 1
            yield from self._records(path, _variant(path.relative_to(self.source)))

    @property
    def counts(self) -> ScanCounts:
        tally = self._tally
        return ScanCounts(
            files=tally.files,
            lines=tally.lines,
            in_window=sum(tally.variants.values()),
            outside_window=tally.outside_window,
            unreadable=tally.unreadable,
            unreadable_examples=tuple(tally.examples),
            variants=tuple(sorted(tally.variants.items())),
        )

    def _records(self, path: Path, variant: str) -> Iterator[Record]:
        tally = self._tally
        try:
            with path.open("rb", buffering=READ_BUFFER_BYTES) as lines:
                for number, line in enumerate(lines, 1):
                    if line.isspace():
                        continue
                    tally.lines += 1
                    try:
                        record = read_record(line)
                    except UnreadableRecord as error:
                        self._unreadable(path, number, str(error))
                        continue
                    if not self.window.contains(record.inference_time):
                        tally.outside_window += 1
                        continue
                    tally.variants[variant] += 1
                    yield record
        except OSError as error:
            raise MonitoringError(f"cannot be read ({error.strerror or error})", where=str(path)) from error

    def _unreadable(self, path: Path, number: int, reason: str) -> None:
        self._tally.unreadable += 1
        if len(self._tally.examples) < MAX_UNREADABLE_EXAMPLES:
            example = (
                f"{path.relative_to(self.source) if path != self.source else path.name}:{number}: {reason}"
            )
            self._tally.examples.append(example)
            log.warning("skipping unreadable capture record %s", example)


def capture_files(source: Path) -> Iterator[Path]:
    """Every *.jsonl file below source in path order (so hour by hour), or source itself if it is a file."""
    if source.is_file():
        yield source
        return

    def fail(error: OSError) -> None:
        raise MonitoringError(
            f"cannot be read ({error.strerror or error})", where=f"dataset_source {error.filename or source}"
        ) from error

    for folder, subfolders, names in os.walk(source, onerror=fail):
        subfolders.sort()
        for name in sorted(names):
            if name.endswith(CAPTURE_SUFFIX):
                yield Path(folder, name)


def _variant(relative: Path) -> str:
    """The production variant from `[{endpoint}/]{variant}/yyyy/mm/dd/hh/file`; "" if not laid out so."""
    parts = relative.parts
    if len(parts) >= 6 and all(part.isdigit() for part in parts[-5:-1]):
        return parts[-6]
    return ""
