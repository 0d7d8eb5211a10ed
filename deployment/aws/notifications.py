"""SNS: the alerts topic and its email subscriptions."""

from __future__ import annotations

from botocore.exceptions import ClientError

from deployment.aws.errors import is_not_found, tag_list
from deployment.resources.alert_subscription import Subscription
from deployment.resources.alert_topic import AlertTopic


class Notifications:
    def __init__(self, client) -> None:
        self.client = client

    def read_topic(self, arn: str) -> AlertTopic | None:
        try:
            attributes = self.client.get_topic_attributes(TopicArn=arn)["Attributes"]
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        return AlertTopic(arn.rsplit(":", 1)[1], arn, attributes.get("KmsMasterKeyId", ""))

    def create_topic(self, topic: AlertTopic, tags: tuple[tuple[str, str], ...]) -> None:
        self.client.create_topic(
            Name=topic.name, Attributes={"KmsMasterKeyId": topic.kms_key}, Tags=tag_list(tags)
        )

    def set_key(self, topic: AlertTopic) -> None:
        self.client.set_topic_attributes(
            TopicArn=topic.arn, AttributeName="KmsMasterKeyId", AttributeValue=topic.kms_key
        )

    def delete_topic(self, arn: str) -> None:
        self.client.delete_topic(TopicArn=arn)

    def subscriptions(self, topic_arn: str) -> tuple[Subscription, ...]:
        """The topic's email subscriptions, confirmed or pending (none when the topic is absent)."""
        found = []
        try:
            for page in self.client.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
                found += [
                    Subscription(topic_arn, item["Endpoint"], item["SubscriptionArn"])
                    for item in page["Subscriptions"]
                    if item.get("Protocol") == "email"
                ]
        except ClientError as error:
            if is_not_found(error):
                return ()
            raise
        return tuple(sorted(found, key=lambda subscription: subscription.email))

    def subscribe(self, subscription: Subscription) -> None:
        self.client.subscribe(
            TopicArn=subscription.topic_arn,
            Protocol="email",
            Endpoint=subscription.email,
            ReturnSubscriptionArn=True,
        )

    def unsubscribe(self, subscription_arn: str) -> None:
        self.client.unsubscribe(SubscriptionArn=subscription_arn)
