"""Progress of a bulk run: a bar with rate and ETA on a terminal, one plain line per photo otherwise
(a log file or CI gets no carriage returns)."""

from __future__ import annotations

import time
from typing import TextIO

BAR_WIDTH = 24
REDRAW_SECONDS = 0.1  # a terminal redraw at most ten times a second, however fast photos go


class Progress:
    def __init__(self, total: int, stream: TextIO, clock=time.monotonic) -> None:
        self.total = total
        self.stream = stream
        self.terminal = stream.isatty()
        self.clock = clock
        self.started = clock()
        self.count = 0
        self.failed = 0
        self._drawn_at = float("-inf")

    def start(self) -> None:
        """The work begins: the rate counts from now (not from discovering photos or loading models)."""
        self.started = self.clock()
        if self.terminal:
            self._draw()

    def note(self, line: str) -> None:
        """A line to keep on screen, apart from the count (a file that never reached a worker)."""
        print(f"\r\x1b[K{line}" if self.terminal else line, file=self.stream, flush=True)
        if self.terminal and self._drawn_at > float("-inf"):
            self._draw()

    def advance(self, name: str, outcome: str, failed: bool = False) -> None:
        """One more photo finished: `outcome` says how (people found, or the failure's reason)."""
        self.count += 1
        self.failed += failed
        if not self.terminal:
            print(f"[{self.count}/{self.total}] {name}: {outcome}", file=self.stream, flush=True)
            return
        if failed:  # a failure stays on screen above the bar
            self.note(f"{name}: {outcome}")
        elif self.count == self.total or self.clock() - self._drawn_at >= REDRAW_SECONDS:
            self._draw()

    def bar(self) -> str:
        """`[#####.....]  37/120  31%  4.2 photos/s  ETA 0:19  2 failed`"""
        elapsed = self.clock() - self.started
        rate = self.count / elapsed if elapsed > 0 else 0.0
        share = self.count / self.total if self.total else 1.0
        filled = round(share * BAR_WIDTH)
        eta = _clock_text((self.total - self.count) / rate) if rate else "?"
        failed = f"  {self.failed} failed" if self.failed else ""
        return (
            f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.count}/{self.total} {share:4.0%}"
            f"  {rate:.1f} photos/s  ETA {eta}{failed}"
        )

    def close(self) -> None:
        if self.terminal and self.count:
            self._draw()
            print(file=self.stream, flush=True)

    def _draw(self) -> None:
        self._drawn_at = self.clock()
        print(f"\r\x1b[K{self.bar()}", end="", file=self.stream, flush=True)


def _clock_text(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
