"""Values known only once an earlier action of the same run has happened, as typed placeholders.

A new API's id, a new distribution's ARN or origin: the planner cannot know them, so the desired
resource holds a `Variable` (or a `Template` that contains one) where the value goes. The executor
records what each handler learns (`Run` outputs) and `resolve`s an action's target just before
its handler runs. A placeholder never equals a real value, so a resource that holds one always
differs from what AWS has: it is planned as a change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any

from deployment.errors import DeploymentError


@dataclass(frozen=True)
class Variable:
    """A value an earlier action records under `name` (e.g. "api.id")."""

    name: str

    def __str__(self) -> str:
        return f"${{{self.name}}}"


@dataclass(frozen=True)
class Template:
    """Text with `${name}` where variables go, e.g. a policy naming a distribution made in this run."""

    text: str

    @staticmethod
    def of(text: str, **variables: Variable) -> Template:
        """`text` with each `{key}` marker replaced by its variable's `${name}`."""
        for key, variable in variables.items():
            text = text.replace("{" + key + "}", str(variable))
        return Template(text)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(_MARKER.findall(self.text))

    def __str__(self) -> str:
        return self.text


_MARKER = re.compile(r"\$\{([a-z0-9_.]+)\}")


def resolve(value: Any, known: dict[str, str], where: str) -> Any:
    """`value` with every placeholder in it (in dataclass fields and tuples too) replaced by
    what `known` holds; a placeholder nothing recorded is an error naming it."""
    if isinstance(value, Variable):
        return _lookup(value.name, known, where)
    if isinstance(value, Template):
        return _MARKER.sub(lambda match: _lookup(match.group(1), known, where), value.text)
    if isinstance(value, tuple):
        items = tuple(resolve(item, known, where) for item in value)
        return value if all(new is old for new, old in zip(items, value, strict=True)) else items
    if is_dataclass(value) and not isinstance(value, type):
        changed = {}
        for item in fields(value):
            current = getattr(value, item.name)
            resolved = resolve(current, known, where)
            if resolved is not current:
                changed[item.name] = resolved
        return replace(value, **changed) if changed else value
    return value


def is_pending(value: Any) -> bool:
    return isinstance(value, Variable | Template)


def _lookup(name: str, known: dict[str, str], where: str) -> str:
    if name not in known:
        raise DeploymentError(
            f"needs the {name.replace('.', ' ').replace('_', ' ')} of a resource created in this run, "
            "and none was",
            where=where,
        )
    return known[name]
