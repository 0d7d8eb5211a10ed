"""The SNS topic the stage's alarms notify: encrypted with the stage's alert key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from deployment.resources.base import Action, Kind, Phase, Run, Standalone, TagService

if TYPE_CHECKING:
    from deployment.aws import Aws
    from deployment.config import Config
    from deployment.naming import Names
    from deployment.remote import Lookup


@dataclass(frozen=True)
class AlertTopic:
    name: str
    arn: str  # deterministic: arn:aws:sns:{region}:{account}:{name}
    kms_key: str  # the key's alias, as SNS keeps it (KmsMasterKeyId)


class AlertTopicResource(Standalone):
    kind = Kind.ALERT_TOPIC
    tag_service = TagService.SNS
    phase = Phase.BEFORE_ENDPOINT

    def desired(self, config: Config, names: Names) -> tuple[AlertTopic, ...]:
        if not config.alerts.emails:
            return ()
        return (AlertTopic(names.alert_topic, names.alert_topic_arn, names.alert_key_alias),)

    def read(self, aws: Aws, lookup: Lookup) -> tuple[AlertTopic, ...]:
        found = aws.notifications.read_topic(lookup.names.alert_topic_arn)
        return (found,) if found else ()

    def create(self, run: Run, action: Action) -> None:
        run.aws.notifications.create_topic(action.target, run.tags)

    def update(self, run: Run, action: Action) -> None:
        run.aws.notifications.set_key(action.target)

    def delete(self, run: Run, action: Action) -> None:
        run.aws.notifications.delete_topic(action.target.arn)  # its subscriptions go with it

    def tag_arn_of(self, resource: AlertTopic, names: Names) -> str:
        return resource.arn


RESOURCES = (AlertTopicResource(),)
