"""GitHub Actions step outputs and job summary, written so that no value can forge another.

`key=value` lines let a value holding a newline add lines of its own (a monitoring message ending
in "\\napi_url=https://attacker.example/predict" would replace the API URL). Every output uses
GitHub's multiline form instead, `key<<DELIMITER`, with a random delimiter no value contains.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping

OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def output_block(key: str, value: str, delimiter: str = "") -> str:
    """One output in the multiline form; a value containing the delimiter is refused, as GitHub's
    own toolkit does (with a fresh uuid4 per output it cannot be guessed in advance)."""
    if not OUTPUT_NAME.fullmatch(key):
        raise ValueError(f"{key!r} is not a step output name")
    delimiter = delimiter or f"ghadelimiter_{uuid.uuid4()}"
    if delimiter in value:
        raise ValueError(f"the value of {key} contains its delimiter")
    return f"{key}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(outputs: Mapping[str, str]) -> None:
    """Step outputs, when running in GitHub Actions (GITHUB_OUTPUT names the file)."""
    if path := os.environ.get("GITHUB_OUTPUT"):
        with open(path, "a", encoding="utf-8") as stream:
            stream.writelines(output_block(key, value) for key, value in outputs.items())


def summary_cell(value: str) -> str:
    """A value as one Markdown table cell: no line breaks, no column breaks, no code-span escape."""
    flat = " ".join(value.split())
    return flat.replace("\\", "\\\\").replace("|", "\\|").replace("`", "'")
