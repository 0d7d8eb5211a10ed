"""The two kinds of error the inference service reports: a model problem and a bad request."""

from __future__ import annotations


class ModelError(Exception):
    """A model cannot be found, fetched, verified or loaded.

    Carries where (the model name, file or URL), what went wrong, and a hint to fix it,
    so the CLI can print one actionable line instead of a traceback.
    """

    def __init__(self, what: str, *, where: str = "", hint: str = "") -> None:
        self.what = what
        self.where = where
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        return f"{text} (hint: {self.hint})" if self.hint else text


class RequestError(Exception):
    """A request the server rejects, with the HTTP status a client should see."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"{status}: {message}")
