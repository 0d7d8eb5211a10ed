"""A small IAM evaluator for identity policies, so claims about our policies are testable.

Covers what our documents use: Allow/Deny, wildcard Action (case-insensitive) and Resource
(case-sensitive) matching, and the condition operators StringEquals, StringLike, their IfExists
forms, ForAnyValue:StringEquals and ForAllValues:StringNotLike. An operator it does not know is an
error, never a silent match. A session's permissions are the intersection of the role's policy and
the session policy (a request must be allowed by both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: dict[str, str | list[str]] = field(default_factory=dict)


def matches(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM wildcards: `*` any run of characters (including `/` and `:`), `?` one character."""
    regex = "".join({"*": ".*", "?": "."}.get(char, re.escape(char)) for char in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (0 if case_sensitive else re.IGNORECASE)) is not None


def _values(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def _string_test(name: str):
    if name == "StringEquals":
        return lambda expected, actual: expected == actual
    if name == "StringLike":
        return lambda expected, actual: matches(expected, actual)
    if name == "StringNotLike":
        return lambda expected, actual: not matches(expected, actual)
    raise ValueError(f"operator {name} is not supported by this evaluator")


def _condition_holds(operator: str, key: str, expected: str | list[str], context: dict) -> bool:
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    test = _string_test(name.removesuffix("IfExists"))
    wanted = _values(expected)
    if key not in context:
        return if_exists or qualifier == "ForAllValues"
    actual = _values(context[key])
    if qualifier == "ForAnyValue":
        return any(test(w, a) for a in actual for w in wanted)
    if qualifier == "ForAllValues":
        return all(any(test(w, a) for w in wanted) for a in actual)
    if qualifier:
        raise ValueError(f"qualifier {qualifier} is not supported")
    if len(actual) != 1:
        raise ValueError(f"{key} is multivalued: use ForAnyValue/ForAllValues")
    if name.startswith("StringNot"):  # negated operators: every expected value must fail to match
        return all(test(w, actual[0]) for w in wanted)
    return any(test(w, actual[0]) for w in wanted)


def _applies(statement: dict, request: Request) -> bool:
    actions = _values(statement["Action"])
    resources = _values(statement["Resource"])
    if not any(matches(action, request.action, case_sensitive=False) for action in actions):
        return False
    if not any(matches(resource, request.resource) for resource in resources):
        return False
    for operator, keys in statement.get("Condition", {}).items():
        for key, expected in keys.items():
            if not _condition_holds(operator, key, expected, request.context):
                return False
    return True


def allowed(policy: dict, request: Request) -> bool:
    """One identity policy: an explicit Deny wins, else any Allow, else the implicit deny."""
    applying = [s for s in policy["Statement"] if _applies(s, request)]
    if any(s["Effect"] == "Deny" for s in applying):
        return False
    return any(s["Effect"] == "Allow" for s in applying)


def allowed_in_session(role_policy: dict, session_policy: dict, request: Request) -> bool:
    return allowed(role_policy, request) and allowed(session_policy, request)
