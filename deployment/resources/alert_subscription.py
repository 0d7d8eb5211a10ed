"""An email address subscribed to the alerts topic. SNS sends it a confirmation link; until its
owner follows it the subscription is pending (deploy and status say so), and SNS drops it unconfirmed
after three days. A pending subscription cannot be removed, only left to lapse."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deployment.resources.base import Action, Kind, Phase, Run, Standalone

if TYPE_CHECKING:
    from deployment.aws import Aws
    from deployment.config import Config
    from deployment.naming import Names
    from deployment.remote import Lookup

PENDING = "PendingConfirmation"  # SNS's SubscriptionArn until the address confirms


@dataclass(frozen=True)
class Subscription:
    topic_arn: str
    email: str
    arn: str = field(default="", compare=False)  # PENDING until confirmed

    @property
    def name(self) -> str:
        return self.email

    @property
    def pending(self) -> bool:
        return self.arn in ("", PENDING)


class SubscriptionResource(Standalone):
    kind = Kind.ALERT_SUBSCRIPTION
    phase = Phase.BEFORE_ENDPOINT

    def desired(self, config: Config, names: Names) -> tuple[Subscription, ...]:
        return tuple(Subscription(names.alert_topic_arn, email) for email in config.alerts.emails)

    def read(self, aws: Aws, lookup: Lookup) -> tuple[Subscription, ...]:
        return aws.notifications.subscriptions(lookup.names.alert_topic_arn)

    def create(self, run: Run, action: Action) -> None:
        run.aws.notifications.subscribe(action.target)
        run.report(
            f"  {action.target.email}: SNS sent a confirmation link; alerts arrive once it is followed"
        )

    def delete(self, run: Run, action: Action) -> None:
        run.aws.notifications.unsubscribe(action.target.arn)

    def removable(self, resource: Subscription) -> bool:
        return not resource.pending  # SNS refuses to remove an unconfirmed one; it lapses by itself


RESOURCES = (SubscriptionResource(),)
