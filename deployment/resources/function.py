"""The API's Lambda (the `proxy` package). New code and new settings are separate Lambda calls,
and Lambda refuses a change while the previous one is still being applied: each is waited for."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from deployment.errors import DeploymentError
from deployment.naming import partition
from deployment.resources.base import Action, Kind, Resource, Run, TagService, Verb, differences


@dataclass(frozen=True)
class Function:
    name: str
    role_arn: str
    runtime: str
    handler: str
    timeout_seconds: int
    memory_mb: int
    environment: tuple[tuple[str, str], ...]
    code_sha256: str  # base64 SHA-256 of the zip, as Lambda reports it
    zip_file: bytes = field(default=b"", compare=False, repr=False)


def function_actions(desired: Function, remote: Function | None) -> list[Action]:
    """An unchanged part (the code, or the settings) is not sent."""
    if remote is None:
        return [Action(Verb.CREATE, Kind.FUNCTION, desired.name, target=desired)]
    actions = []
    if remote.code_sha256 != desired.code_sha256:
        reason = f"CodeSha256 {remote.code_sha256} -> {desired.code_sha256}"
        actions.append(Action(Verb.UPDATE, Kind.FUNCTION_CODE, desired.name, reason, desired))
    settings = replace(remote, code_sha256=desired.code_sha256)
    if settings != desired:
        actions.append(
            Action(Verb.UPDATE, Kind.FUNCTION, desired.name, differences(desired, settings), desired)
        )
    return actions or [Action(Verb.UNCHANGED, Kind.FUNCTION, desired.name)]


class FunctionResource(Resource):
    kind = Kind.FUNCTION
    tag_service = TagService.LAMBDA

    def create(self, run: Run, action: Action) -> None:
        run.retry_while_role_propagates(lambda: run.aws.functions.create(action.target, run.tags))
        wait_for_function(run, action.target.name)

    def update(self, run: Run, action: Action) -> None:
        _change(run, action.target, run.aws.functions.update_configuration)

    def delete(self, run: Run, action: Action) -> None:
        run.aws.functions.delete(action.name)

    def tag_arn(self, region: str, account_id: str, name: str, api_id: str = "") -> str:
        return f"arn:{partition(region)}:lambda:{region}:{account_id}:function:{name}"


class FunctionCodeResource(Resource):
    kind = Kind.FUNCTION_CODE

    def update(self, run: Run, action: Action) -> None:
        _change(run, action.target, run.aws.functions.update_code)


def _change(run: Run, function: Function, change) -> None:
    wait_for_function(run, function.name)
    change(function)
    wait_for_function(run, function.name)


def wait_for_function(run: Run, name: str) -> None:
    started = run.clock.now()
    while True:
        status = run.aws.functions.status(name)
        if status.settled:
            return
        elapsed = run.clock.now() - started
        if status.failed:
            raise DeploymentError(
                f"the function is {status.state} (last update {status.last_update}): {status.reason}",
                where=name,
                hint=f"see /aws/lambda/{name} in CloudWatch Logs",
            )
        run.report(f"  function {name}: {status.state}, update {status.last_update} ({elapsed:.0f}s)")
        run.pause(
            elapsed, f"function {name}", run.waits.function_timeout_seconds, run.waits.function_poll_seconds
        )


RESOURCES = (FunctionResource(), FunctionCodeResource())
