"""A plan is a list of actions: what to do to which resource, and why. Shared by every planner module."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

Verb = Literal["create", "update", "delete", "unchanged"]


@dataclass(frozen=True)
class Action:
    verb: Verb
    kind: str  # bucket, role, artifact, model, endpoint-config, alarm, endpoint, function, http-api, web-file...
    name: str
    reason: str = ""
    target: object = None  # the desired resource for create/update; the remote one for delete

    @property
    def mutates(self) -> bool:
        return self.verb != "unchanged"

    def to_json(self) -> dict:
        return {"action": self.verb, "resource": self.kind, "name": self.name, "reason": self.reason}


def compare(kind: str, name: str, desired: object, remote: object | None) -> Action:
    if remote is None:
        return Action("create", kind, name, target=desired)
    if remote != desired:
        return Action("update", kind, name, differences(desired, remote), desired)
    return Action("unchanged", kind, name)


def exists(kind: str, name: str, desired: object, found: bool) -> Action:
    return Action("unchanged", kind, name) if found else Action("create", kind, name, target=desired)


def differences(desired: object, remote: object) -> str:
    """The compared fields that differ (ids AWS assigns and local-only fields are not compared)."""
    compared = [f.name for f in fields(desired) if f.compare]  # type: ignore[arg-type]
    changed = [key for key in compared if getattr(desired, key) != getattr(remote, key, None)]
    return "changed: " + ", ".join(changed)
