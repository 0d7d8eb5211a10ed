"""The one error a monitoring run reports: it cannot run, and why, in words an operator can act on."""

from __future__ import annotations


class MonitoringError(Exception):
    """Bad configuration or an unreadable dataset: the run fails instead of reporting wrong numbers.

    Carries where (an environment variable or a path), what went wrong, and a hint to fix it,
    so the job's message file and the CLI show one actionable line instead of a traceback.
    """

    def __init__(self, what: str, *, where: str = "", hint: str = "") -> None:
        self.what = what
        self.where = where
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        return f"{text} (hint: {self.hint})" if self.hint else text
