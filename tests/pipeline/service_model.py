"""Requests checked against botocore's service model, as AWS checks them before acting.

botocore's own ParamValidator checks types, required members and minimums; AWS also refuses
values past a maximum, outside an enum or not matching a member's pattern, so those are checked
here too. Used by the stand-ins for the operations moto lacks: a request that AWS would refuse is
refused here, with AWS's error code.
"""

from __future__ import annotations

import functools
import re

import botocore.session
from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator

NUMBERS = frozenset({"integer", "long", "float", "double"})


class Refused(Exception):
    """A request AWS would refuse: the error code, message and HTTP status AWS would answer."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


@functools.cache
def operation(service: str, name: str) -> OperationModel:
    return botocore.session.get_session().get_service_model(service).operation_model(name)


def validated(service: str, name: str, params: dict) -> dict:
    """`params` if the operation's input shape admits them, else Refused("ValidationException")."""
    shape = operation(service, name).input_shape
    report = ParamValidator().validate(params, shape)
    problems = [report.generate_report()] if report.has_errors() else []
    problems += list(_limits(params, shape, name))
    if problems:
        raise Refused("ValidationException", "; ".join(problems))
    return params


def _limits(value, shape: Shape, where: str):
    """Maximums, enums and patterns, which ParamValidator leaves to the service."""
    if shape.type_name == "structure" and isinstance(value, dict):
        for member, member_value in value.items():
            if member in shape.members:
                yield from _limits(member_value, shape.members[member], f"{where}.{member}")
    elif shape.type_name == "list" and isinstance(value, list):
        yield from _bounded(len(value), shape, where, "items")
        for index, item in enumerate(value):
            yield from _limits(item, shape.member, f"{where}[{index}]")
    elif shape.type_name == "map" and isinstance(value, dict):
        yield from _bounded(len(value), shape, where, "entries")
        for key, item in value.items():
            yield from _limits(key, shape.key, f"{where} key")
            yield from _limits(item, shape.value, f"{where}[{key}]")
    elif shape.type_name == "string" and isinstance(value, str):
        yield from _bounded(len(value), shape, where, "characters")
        if shape.enum and value not in shape.enum:
            yield f"{where}: {value!r} is none of {', '.join(shape.enum)}"
        pattern = _pattern(shape.metadata.get("pattern", ""))
        if pattern and not pattern.fullmatch(value):
            yield f"{where}: {value!r} does not match {shape.metadata['pattern']}"
    elif (
        shape.type_name in NUMBERS
        and isinstance(value, int | float)
        and value > shape.metadata.get("max", value)
    ):
        yield f"{where}: {value} is over the maximum {shape.metadata['max']}"


def _bounded(size: int, shape: Shape, where: str, unit: str):
    if "max" in shape.metadata and size > shape.metadata["max"]:
        yield f"{where}: {size} {unit}, over the maximum {shape.metadata['max']}"


@functools.cache
def _pattern(source: str) -> re.Pattern | None:
    """The model's pattern, matched whole as AWS matches it; None where `re` cannot read it (\\p{...})."""
    if not source:
        return None
    try:
        return re.compile(source)
    except re.error:
        return None
