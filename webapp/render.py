"""Render the page for one API: the same static files serve the cloud (S3) and `make demo`."""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

WEBAPP = Path(__file__).resolve().parent
STATIC = WEBAPP / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
}


@functools.cache
def _templates() -> Environment:
    """One environment: the compiled template is reused (and reloaded if the file changes)."""
    return Environment(
        loader=FileSystemLoader(WEBAPP / "templates"),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )


def render_index(api_url: str, model_name: str, static_url: str = "static") -> str:
    """index.html with the API's URL and the model's name filled in (autoescaped)."""
    return (
        _templates()
        .get_template("index.html")
        .render(api_url=api_url, model_name=model_name, static_url=static_url)
    )


def static_file(name: str) -> Path | None:
    """A file under webapp/static by its URL name, or None (also for any path escaping the folder)."""
    candidate = (STATIC / name).resolve()
    if not candidate.is_file() or STATIC not in candidate.parents:
        return None
    return candidate


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix, "application/octet-stream")
