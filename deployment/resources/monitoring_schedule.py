"""The Model Monitor schedule: the monitoring image over the endpoint's captured data, hourly."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from deployment.resources.base import Action, Kind, Resource, Run, TagService, Verb, compare
from deployment.resources.model import sagemaker_arn


@dataclass(frozen=True)
class Schedule:
    name: str
    endpoint_name: str
    image_uri: str
    role_arn: str
    expression: str
    environment: tuple[tuple[str, str], ...]
    instance_type: str
    volume_size_gb: int
    max_runtime_seconds: int
    output_s3_uri: str
    note: str = field(default="", compare=False)  # what the plan says of it besides its changes


def schedule_actions(wanted: Schedule | None, current: Schedule | None) -> list[Action]:
    if wanted is None:
        if current is None:
            return []
        reason = "monitoring.enabled is false"
        return [Action(Verb.DELETE, Kind.MONITORING_SCHEDULE, current.name, reason, current)]
    action = compare(Kind.MONITORING_SCHEDULE, wanted.name, wanted, current)
    if wanted.note:
        action = replace(action, reason="; ".join(filter(None, (action.reason, wanted.note))))
    return [action]


class ScheduleResource(Resource):
    kind = Kind.MONITORING_SCHEDULE
    tag_service = TagService.SAGEMAKER

    def create(self, run: Run, action: Action) -> None:
        run.aws.sagemaker.create_schedule(action.target, run.tags)

    def update(self, run: Run, action: Action) -> None:
        run.aws.sagemaker.update_schedule(action.target)

    def delete(self, run: Run, action: Action) -> None:
        endpoint_name = action.target.endpoint_name if isinstance(action.target, Schedule) else None
        run.aws.sagemaker.delete_schedule(action.name, endpoint_name=endpoint_name)
        started = run.clock.now()
        while run.aws.sagemaker.schedule_status(action.name) is not None:
            run.pause(run.clock.now() - started, f"deletion of monitoring schedule {action.name}")

    def tag_arn(self, region: str, account_id: str, name: str, api_id: str = "") -> str:
        return sagemaker_arn(region, account_id, self.kind, name)


RESOURCES = (ScheduleResource(),)
