"""KMS: the alerts topic's key, found by its alias."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from deployment.aws.errors import is_not_found
from deployment.policies import canonical
from deployment.resources.alert_key import AlertKey

POLICY_NAME = "default"  # the only key policy name KMS has


class Keys:
    def __init__(self, client) -> None:
        self.client = client

    def read(self, alias: str) -> AlertKey | None:
        """The key behind `alias`, unless it is gone or scheduled for deletion."""
        try:
            described = self.client.describe_key(KeyId=alias)["KeyMetadata"]
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        if described.get("KeyState") in ("PendingDeletion", "PendingReplicaDeletion"):
            return None
        policy = self.client.get_key_policy(KeyId=described["KeyId"], PolicyName=POLICY_NAME)["Policy"]
        return AlertKey(
            alias, described.get("Description", ""), canonical(json.loads(policy)), described["Arn"]
        )

    def create(self, key: AlertKey, tags: tuple[tuple[str, str], ...]) -> str:
        """A symmetric encryption key with the alias; returns its ARN."""
        created = self.client.create_key(
            Policy=key.policy,
            Description=key.description,
            KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT",
            Tags=[{"TagKey": k, "TagValue": v} for k, v in tags],
        )["KeyMetadata"]
        self.client.create_alias(AliasName=key.alias, TargetKeyId=created["KeyId"])
        return created["Arn"]

    def put_policy(self, key: AlertKey) -> None:
        self.client.put_key_policy(KeyId=key_id(key.arn), PolicyName=POLICY_NAME, Policy=key.policy)

    def delete(self, key: AlertKey, window_days: int) -> None:
        """The alias at once (a redeploy then makes a new key), the key after KMS's waiting period."""
        self.client.delete_alias(AliasName=key.alias)
        self.client.schedule_key_deletion(KeyId=key_id(key.arn), PendingWindowInDays=window_days)


def key_id(arn: str) -> str:
    """The key's id (KMS takes it or the ARN; the id is what every KMS call and its stand-ins take)."""
    return arn.rsplit("/", 1)[-1]
