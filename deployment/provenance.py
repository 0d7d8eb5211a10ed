"""Where a deploy comes from, as GitHub Actions tells it: the commit and the pull request, which
the model registry records on each version it makes (`--commit`, `--pull-request`)."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping

log = logging.getLogger(__name__)

# A pull_request run checks out refs/pull/N/merge (refs/pull/N/head for some events).
PULL_REF = re.compile(r"^refs/pull/(\d+)/(?:merge|head)$")


def commit(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get("GITHUB_SHA", "")


def pull_request(environ: Mapping[str, str] = os.environ) -> str:
    """The pull request's number from GITHUB_REF, else from the event's payload; "" when none."""
    found = PULL_REF.match(environ.get("GITHUB_REF", ""))
    if found:
        return found.group(1)
    path = environ.get("GITHUB_EVENT_PATH", "")
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8") as stream:
            event = json.load(stream)
    except (OSError, ValueError) as error:
        log.warning("GITHUB_EVENT_PATH %s unreadable (%s): no pull request recorded", path, error)
        return ""
    number = (event.get("pull_request") or {}).get("number") if isinstance(event, dict) else None
    return str(number) if isinstance(number, int) and number > 0 else ""


def pull_request_number(value: str) -> str:
    """`--pull-request`: a number, or "" for none (the registry keeps digits only)."""
    if value and not (value.isdigit() and int(value) > 0):
        raise ValueError(f"{value!r} is not a pull request number")
    return value
