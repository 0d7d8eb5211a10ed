"""The KMS key encrypting the alerts topic.

CloudWatch alarms cannot publish to a topic encrypted with AWS's own SNS key (its policy cannot
grant CloudWatch), so the stage has a key of its own: the account administers it, CloudWatch may
use it. Found by its alias; deleting it deletes the alias and schedules the key's deletion (KMS
waits at least 7 days, during which the key cannot be used).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deployment.naming import partition
from deployment.policies import canonical
from deployment.resources.base import Action, Kind, Phase, Run, Standalone, TagService

if TYPE_CHECKING:
    from deployment.aws import Aws
    from deployment.config import Config
    from deployment.naming import Names
    from deployment.remote import Lookup

KEY_ARN = "alerts.key_arn"
DELETION_WINDOW_DAYS = 7  # the shortest KMS allows


@dataclass(frozen=True)
class AlertKey:
    alias: str  # alias/{prefix}-alerts: the key's name
    description: str
    policy: str  # canonical JSON
    arn: str = field(default="", compare=False)  # assigned by KMS

    @property
    def name(self) -> str:
        return self.alias


def key_policy(account_id: str, partition: str) -> dict:
    """The account administers the key (through IAM); CloudWatch encrypts alarm messages with it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TheAccountAdministersIt",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchAlarmsPublishToTheTopic",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ],
    }


class AlertKeyResource(Standalone):
    kind = Kind.ALERT_KEY
    tag_service = TagService.KMS
    phase = Phase.BEFORE_ENDPOINT

    def desired(self, config: Config, names: Names) -> tuple[AlertKey, ...]:
        if not config.alerts.emails:
            return ()
        policy = canonical(key_policy(names.account_id, partition(names.region)))
        return (AlertKey(names.alert_key_alias, f"Encrypts the alerts topic of {names.prefix}", policy),)

    def read(self, aws: Aws, lookup: Lookup) -> tuple[AlertKey, ...]:
        found = aws.keys.read(lookup.names.alert_key_alias)
        return (found,) if found else ()

    def create(self, run: Run, action: Action) -> dict[str, str]:
        return {KEY_ARN: run.aws.keys.create(action.target, run.tags)}

    def update(self, run: Run, action: Action) -> None:
        run.aws.keys.put_policy(action.target)

    def delete(self, run: Run, action: Action) -> None:
        run.aws.keys.delete(action.target, DELETION_WINDOW_DAYS)

    def tag_arn_of(self, resource: AlertKey, names: Names) -> str:
        return resource.arn  # a key's ARN holds its random id: read with the key


RESOURCES = (AlertKeyResource(),)
