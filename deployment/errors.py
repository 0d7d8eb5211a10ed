"""Errors people can act on: where (resource or key path), what happened, and the fix."""

from __future__ import annotations

from botocore.exceptions import ClientError


class DeploymentError(Exception):
    """A deployment step failed; the CLI prints it as one line and exits 1."""

    exit_code = 1

    def __init__(self, what: str, *, where: str = "", hint: str = "") -> None:
        self.what = what
        self.where = where
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        return f"{text} (hint: {self.hint})" if self.hint else text


class ConfigError(DeploymentError):
    """config.yml or a --set override is invalid; exit code 2 like any bad usage."""

    exit_code = 2


def error_code(error: ClientError) -> str:
    """The AWS error code of a failed call (e.g. NoSuchEntity), "" when it has none."""
    return error.response.get("Error", {}).get("Code", "")
