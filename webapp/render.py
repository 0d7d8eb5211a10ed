"""Render the page for one API: the same static files serve the cloud (S3) and `make demo`."""

from __future__ import annotations

import functools
from collections.abc import Sequence
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


def render_index(
    api_url: str, model_name: str, static_url: str = "static", models: Sequence[str] = ()
) -> str:
    """index.html with the API's URL and the model's name filled in (autoescaped).

    `models`: the models the endpoint serves, default first; two or more add a picker (default
    selected: `model_name`) and a side-by-side comparison. None or one: the single-model page.
    """
    served = tuple(dict.fromkeys(models))  # each name once, in order
    return (
        _templates()
        .get_template("index.html")
        .render(
            api_url=api_url,
            model_name=model_name,
            static_url=static_url,
            models=served if len(served) > 1 else (),
            selected=model_name if model_name in served else served[0] if served else model_name,
        )
    )


def static_names() -> dict[str, Path]:
    """Every file under webapp/static by its URL name (`app.js`, `icons/a.svg`); dotfiles are not served."""
    return dict(_static_listing(STATIC.stat().st_mtime_ns))


@functools.lru_cache(maxsize=1)
def _static_listing(folder_mtime_ns: int) -> dict[str, Path]:
    """Listed again only when the folder changes (a file added, removed or renamed)."""
    return {
        path.relative_to(STATIC).as_posix(): path
        for path in sorted(STATIC.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(STATIC).parts)
    }


def static_file(name: str) -> Path | None:
    """A file under webapp/static by its URL name, or None. The name is looked up among the files
    that exist, never joined onto a path, so no name (too long, NUL, `..`) reaches the filesystem."""
    return _static_listing(STATIC.stat().st_mtime_ns).get(name)


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix, "application/octet-stream")
