"""Carry out a plan's actions against AWS, through each kind's handler in the registry.

Each action's target is resolved first (placeholders.py: ids an earlier action of this run
recorded), then handed to its kind's `create`, `update` or `delete`. A failure stops the run with
one line naming the step, after the undo steps handlers registered (e.g. autoscaling given back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from botocore.exceptions import ClientError

from deployment.aws import Aws
from deployment.errors import DeploymentError, error_code
from deployment.resources import REGISTRY
from deployment.resources.base import Action, Clock, Run, Verb, WaitPolicy
from deployment.resources.placeholders import resolve

__all__ = ["Clock", "Executor", "WaitPolicy"]


@dataclass
class Executor:
    aws: Aws
    tags: tuple[tuple[str, str], ...]
    report: Callable[[str], None] = print
    clock: Clock = field(default_factory=Clock)
    waits: WaitPolicy = field(default_factory=WaitPolicy)
    # What handlers recorded in this run (an API's id, a distribution's origin...), by variable name.
    recorded: dict[str, str] = field(default_factory=dict, init=False)

    def run(self, actions: list[Action]) -> None:
        run = Run(self.aws, self.tags, self.report, self.clock, self.waits)
        for action in actions:
            if not action.mutates:
                continue
            self.report(f"{action.verb:<9} {action.kind} {action.name}")
            try:
                self._apply(run, action)
            except ClientError as error:  # one line naming the step, not a traceback
                message = error.response.get("Error", {}).get("Message", "")
                _undo(run)
                raise DeploymentError(
                    f"{error.operation_name} failed ({error_code(error)}): {message}",
                    where=f"{action.kind} {action.name}",
                ) from error
            except DeploymentError:
                _undo(run)
                raise

    def _apply(self, run: Run, action: Action) -> None:
        handler = REGISTRY[action.kind]
        resolved = replace(
            action, target=resolve(action.target, self.recorded, f"{action.kind} {action.name}")
        )
        apply = {Verb.CREATE: handler.create, Verb.UPDATE: handler.update, Verb.DELETE: handler.delete}
        self.recorded.update(apply[action.verb](run, resolved) or {})


def _undo(run: Run) -> None:
    for step in run.on_failure:
        step()
