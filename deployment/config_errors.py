"""pydantic's ValidationError as the one line a person reads: key path, what is wrong, what is allowed.

Apart from `deployment.config` because it is about reporting, not the schema: it takes the root
model as an argument, so it works for any strict pydantic schema and imports none of ours.
"""

from __future__ import annotations

from typing import get_args

from pydantic import BaseModel, ValidationError

from deployment.config_yaml import key_path

# A config with hundreds of mistakes (say, a list of 500 bad origins) still gets a readable line.
MOST_PROBLEMS_SHOWN = 5


def describe(error: ValidationError, schema: type[BaseModel]) -> str:
    """The first few problems as "key.path: message", an unknown key listing the keys allowed there."""
    lines = []
    problems = error.errors(include_url=False, include_input=False)
    for problem in problems[:MOST_PROBLEMS_SHOWN]:
        location = key_path(problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            allowed = allowed_keys(schema, problem["loc"][:-1])
            message = f"unknown key; allowed here: {', '.join(allowed)}"
        lines.append(f"{location}: {message}" if location else message)
    if len(problems) > MOST_PROBLEMS_SHOWN:
        lines.append(f"and {len(problems) - MOST_PROBLEMS_SHOWN} more")
    return "; ".join(lines)


def allowed_keys(schema: type[BaseModel], section_path: tuple) -> list[str]:
    """The keys of the section at `section_path` (e.g. ("endpoint", "serverless")), in schema order."""
    section: type[BaseModel] | None = schema
    for key in section_path:
        field = section.model_fields.get(str(key)) if section else None
        section = _section_type(field.annotation) if field else None
    return list(section.model_fields) if section else []


def _section_type(annotation: object) -> type[BaseModel] | None:
    for candidate in (annotation, *get_args(annotation)):  # `Serverless | None` -> Serverless
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
