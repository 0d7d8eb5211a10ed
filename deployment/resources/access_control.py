"""The origin access control: CloudFront signs every request to the page's bucket (SigV4)."""

from __future__ import annotations

from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from deployment.errors import error_code
from deployment.resources.base import Action, Kind, Resource, Run
from deployment.resources.placeholders import Variable

ACCESS_CONTROL_ID = Variable("web.access_control_id")


@dataclass(frozen=True)
class AccessControl:
    name: str  # unique in the account; the access control has no tags, so its name identifies it
    description: str
    signing_protocol: str = "sigv4"
    signing_behavior: str = "always"
    origin_type: str = "s3"
    control_id: str = field(default="", compare=False)


class AccessControlResource(Resource):
    kind = Kind.WEB_OAC

    def create(self, run: Run, action: Action) -> dict[str, str]:
        return {ACCESS_CONTROL_ID.name: run.aws.cdn.create_access_control(action.target)}

    def update(self, run: Run, action: Action) -> None:
        run.aws.cdn.update_access_control(action.target)

    def delete(self, run: Run, action: Action) -> None:
        """CloudFront may still count the distribution deleted a moment ago as a user."""
        control_id = action.target.control_id
        started = run.clock.now()
        while True:
            try:
                run.aws.cdn.delete_access_control(control_id)
                return
            except ClientError as error:
                if error_code(error) != "OriginAccessControlInUse":
                    raise
            elapsed = run.clock.now() - started
            run.report(f"  origin access control {control_id}: still in use ({elapsed:.0f}s)")
            run.pause(
                elapsed,
                f"origin access control {control_id}",
                run.waits.distribution_timeout_seconds,
                run.waits.distribution_poll_seconds,
            )


RESOURCES = (AccessControlResource(),)
