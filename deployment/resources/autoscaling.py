"""Target-tracking autoscaling of the endpoint's variant (Application Auto Scaling).

SageMaker refuses to update an endpoint whose variant is a registered scalable target, so an
endpoint update is wrapped: deregistered before (`Paused`), registered again after. A run that
fails in between gives the variant its autoscaling back rather than leave it at a fixed size.
"""

from __future__ import annotations

from dataclasses import dataclass

from deployment.resources.base import Action, Kind, Resource, Run, Verb, compare


@dataclass(frozen=True)
class Autoscaling:
    endpoint_name: str
    variant_name: str
    min_instances: int
    max_instances: int
    target_invocations_per_instance: int

    @property
    def resource_id(self) -> str:
        return f"endpoint/{self.endpoint_name}/variant/{self.variant_name}"


def autoscaling_actions(
    wanted: Autoscaling | None, current: Autoscaling | None, endpoint_updating: bool
) -> tuple[list[Action], list[Action]]:
    """(before the endpoint's actions, after them)."""
    before = []
    if endpoint_updating and current:
        reason = "deregistered during the endpoint update, registered again after"
        paused = wanted is not None and wanted.resource_id == current.resource_id
        before = [Action(Verb.DELETE, Kind.AUTOSCALING, current.resource_id, reason, current)]
        if paused:
            before = [Action(Verb.DELETE, Kind.AUTOSCALING, current.resource_id, reason, Paused(current))]
        current = None  # deregistered above
    if wanted is None:
        if current is None:
            return before, []
        reason = "autoscaling.enabled is false"
        return before, [Action(Verb.DELETE, Kind.AUTOSCALING, current.resource_id, reason, current)]
    return before, [compare(Kind.AUTOSCALING, wanted.resource_id, wanted, current)]


@dataclass(frozen=True)
class Paused:
    """Autoscaling deregistered only for the endpoint update that follows (and registered again)."""

    scaling: Autoscaling


class AutoscalingResource(Resource):
    kind = Kind.AUTOSCALING

    def create(self, run: Run, action: Action) -> None:
        run.aws.scaling.put(action.target, run.tags)

    update = create

    def delete(self, run: Run, action: Action) -> None:
        target = action.target
        if isinstance(target, Paused):
            run.aws.scaling.delete(target.scaling)
            run.on_failure.append(lambda: _restore(run, target.scaling))
            return
        run.aws.scaling.delete(target)


def _restore(run: Run, scaling: Autoscaling) -> None:
    run.report(f"restoring autoscaling {scaling.resource_id}")
    run.aws.scaling.put(scaling, run.tags)


RESOURCES = (AutoscalingResource(),)
