"""`aws SERVICE OPERATION [--member value ...]`: the AWS CLI's grammar for the calls a workflow makes,
with boto3 doing the call (through AWS_ENDPOINT_URL, with the step's credentials).

Options are the operation's input members in the CLI's spelling (`--repository-name` for
repositoryName), read by the member's shape as the CLI reads them: a string or number as is, a
list as the words that follow, a structure (or each item of a list of structures) in the `k=v,k=v`
shorthand, a boolean as `--flag`/`--no-flag`. An unknown option is a usage error (exit 252), an
AWS error is exit 254 with the CLI's message, as aws CLI v2 does.
"""

from __future__ import annotations

import json
import os
import sys

import boto3
import botocore.session
import jmespath
from botocore import xform_name
from botocore.exceptions import ClientError, NoRegionError, ParamValidationError, UnknownServiceError
from botocore.model import OperationModel, Shape

USAGE_ERROR, SERVICE_ERROR = 252, 254
GLOBAL = {"--region", "--output", "--query", "--no-cli-pager", "--endpoint-url"}


def run(args: list[str]) -> int:
    if len(args) < 2:
        return _usage("usage: aws SERVICE OPERATION [options]")
    service, command, words = args[0], args[1], args[2:]
    settings, words = _global_options(words)
    session = boto3.Session(region_name=settings.get("--region") or os.environ.get("AWS_REGION"))
    try:
        model = botocore.session.get_session().get_service_model(service)
    except UnknownServiceError:
        return _usage(f"aws: {service!r} is not a service")
    names = {xform_name(name, "-"): name for name in model.operation_names}
    if command not in names:
        return _usage(f"aws {service}: {command!r} is not an operation")
    operation = model.operation_model(names[command])
    try:
        params = parse(operation, words)
    except ValueError as error:
        return _usage(f"aws {service} {command}: {error}")
    try:
        client = session.client(service, endpoint_url=settings.get("--endpoint-url"))
        # The operation is the one named on the command line, as the AWS CLI finds it.
        answer = getattr(client, xform_name(operation.name))(**params)
    except NoRegionError:
        return _usage("You must specify a region (--region or AWS_REGION).")
    except (ClientError, ParamValidationError) as error:
        print(f"\nAn error occurred: {error}", file=sys.stderr)
        return SERVICE_ERROR
    answer.pop("ResponseMetadata", None)
    if settings.get("--query"):
        answer = jmespath.search(settings["--query"], answer)
    print(_render(answer, settings.get("--output") or os.environ.get("AWS_DEFAULT_OUTPUT", "json")))
    return 0


def _global_options(words: list[str]) -> tuple[dict[str, str], list[str]]:
    settings: dict[str, str] = {}
    rest: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--no-cli-pager":
            index += 1
        elif word in GLOBAL:
            settings[word] = words[index + 1] if index + 1 < len(words) else ""
            index += 2
        else:
            rest.append(word)
            index += 1
    return settings, rest


def parse(operation: OperationModel, words: list[str]) -> dict:
    members = operation.input_shape.members if operation.input_shape else {}
    options = {f"--{xform_name(name, '-')}": name for name in members}
    params: dict = {}
    index = 0
    while index < len(words):
        word = words[index]
        negated = word.startswith("--no-") and f"--{word[5:]}" in options
        name = options.get(f"--{word[5:]}" if negated else word)
        if name is None:
            raise ValueError(f"unknown option {word!r}")
        shape = members[name]
        if shape.type_name == "boolean":
            params[name] = not negated
            index += 1
            continue
        values = []
        index += 1
        while index < len(words) and not words[index].startswith("--"):
            values.append(words[index])
            index += 1
        if not values:
            raise ValueError(f"{word} needs a value")
        params[name] = _value(shape, values, word)
    return params


def _value(shape: Shape, values: list[str], option: str):
    if shape.type_name == "list":
        return [_scalar_or_struct(shape.member, value, option) for value in values]
    if len(values) != 1:
        raise ValueError(f"{option} takes one value, not {len(values)}")
    return _scalar_or_struct(shape, values[0], option)


def _scalar_or_struct(shape: Shape, value: str, option: str):
    if shape.type_name == "structure":
        if value.startswith("{"):
            return json.loads(value)
        pairs = [item.split("=", 1) for item in value.split(",")]
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError(f"{option}: {value!r} is not k=v,k=v shorthand")
        unknown = [key for key, _ in pairs if key not in shape.members]
        if unknown:
            raise ValueError(f"{option}: unknown key {unknown[0]!r}, valid: {', '.join(shape.members)}")
        return {key: _scalar_or_struct(shape.members[key], item, option) for key, item in pairs}
    if shape.type_name in ("integer", "long"):
        return int(value)
    if shape.type_name in ("float", "double"):
        return float(value)
    if shape.type_name == "boolean":
        return value.lower() == "true"
    return value


def _render(answer, output: str) -> str:
    if output != "text":
        return json.dumps(answer, indent=4, default=str)
    if answer is None:
        return "None"
    if isinstance(answer, list):
        return "\t".join(str(item) for item in answer)
    if isinstance(answer, dict):
        return "\t".join(str(value) for value in answer.values() if not isinstance(value, dict | list))
    return str(answer)


def _usage(message: str) -> int:
    print(message, file=sys.stderr)
    return USAGE_ERROR
