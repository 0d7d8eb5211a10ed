"""S3: the deployment bucket (encrypted, private, capture expiry) and the model artifact."""

from __future__ import annotations

from botocore.exceptions import ClientError

from deployment.aws.errors import error_code, is_not_found, tag_list
from deployment.errors import DeploymentError
from deployment.naming import PROJECT_TAG
from deployment.state import Artifact, Bucket

CAPTURE_EXPIRY_RULE = "expire-captured-requests"


class Storage:
    def __init__(self, client, region: str) -> None:
        self.client = client
        self.region = region

    def read_bucket(self, name: str, prefix: str) -> tuple[Bucket | None, bool]:
        """The bucket as configured now, and whether this deployment's tag is on it."""
        if not bucket_exists(self.client, name, "s3.bucket"):
            return None, False
        capture_prefix, retention_days = self._capture_rule(name)
        bucket = Bucket(name, self._kms_key(name), capture_prefix, retention_days)
        return bucket, bucket_tags(self.client, name).get(PROJECT_TAG) == prefix

    def create_bucket(self, bucket: Bucket, tags: tuple[tuple[str, str], ...]) -> None:
        create_bucket(self.client, bucket.name, self.region)
        self.client.put_public_access_block(
            Bucket=bucket.name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        self.client.put_bucket_tagging(Bucket=bucket.name, Tagging={"TagSet": tag_list(tags)})
        self._apply_settings(bucket, other_rules=[])

    def configure_bucket(self, bucket: Bucket) -> None:
        """Our encryption and capture expiry, keeping any other lifecycle rules."""
        rules = self._lifecycle_rules(bucket.name)
        self._apply_settings(bucket, [rule for rule in rules if rule.get("ID") != CAPTURE_EXPIRY_RULE])

    def put_capture_expiry(self, bucket: Bucket) -> None:
        """Only our lifecycle rule, for a bucket that is not ours (its owner sets its encryption)."""
        rules = self._lifecycle_rules(bucket.name)
        self._put_lifecycle(bucket, [rule for rule in rules if rule.get("ID") != CAPTURE_EXPIRY_RULE])

    def _apply_settings(self, bucket: Bucket, other_rules: list[dict]) -> None:
        self._put_encryption(bucket)
        self._put_lifecycle(bucket, other_rules)

    def _put_encryption(self, bucket: Bucket) -> None:
        if bucket.kms_key_id:
            default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": bucket.kms_key_id}
        else:
            default = {"SSEAlgorithm": "AES256"}
        self.client.put_bucket_encryption(
            Bucket=bucket.name,
            ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": default}]},
        )

    def _put_lifecycle(self, bucket: Bucket, other_rules: list[dict]) -> None:
        self.client.put_bucket_lifecycle_configuration(
            Bucket=bucket.name,
            LifecycleConfiguration={
                "Rules": [
                    *other_rules,
                    {
                        "ID": CAPTURE_EXPIRY_RULE,
                        "Filter": {"Prefix": bucket.capture_prefix},
                        "Status": "Enabled",
                        "Expiration": {"Days": bucket.retention_days},
                    },
                ]
            },
        )

    def artifact_exists(self, artifact: Artifact) -> bool:
        try:
            self.client.head_object(Bucket=artifact.bucket, Key=artifact.key)
        except ClientError as error:
            if is_not_found(error) or error_code(error) == "403":
                return False
            raise
        return True

    def upload_artifact(self, artifact: Artifact) -> None:
        with open(artifact.local_path, "rb") as stream:
            self.client.put_object(
                Bucket=artifact.bucket,
                Key=artifact.key,
                Body=stream,
                ChecksumAlgorithm="SHA256",
                Metadata={"sha256": artifact.sha256},
            )

    def delete_bucket(self, name: str) -> None:
        self.delete_folder(name, "")
        self.client.delete_bucket(Bucket=name)

    def delete_folder(self, bucket: str, prefix: str) -> None:
        pages = self.client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            versions = page.get("Versions", []) + page.get("DeleteMarkers", [])
            objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]
            if objects:
                self.client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})

    def _capture_rule(self, name: str) -> tuple[str, int]:
        for rule in self._lifecycle_rules(name):
            if rule.get("ID") == CAPTURE_EXPIRY_RULE:
                return rule.get("Filter", {}).get("Prefix", ""), rule.get("Expiration", {}).get("Days", 0)
        return "", 0

    def _lifecycle_rules(self, name: str) -> list[dict]:
        try:
            return self.client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
        except ClientError as error:
            if error_code(error) == "NoSuchLifecycleConfiguration":
                return []
            raise

    def _kms_key(self, name: str) -> str | None:
        try:
            rules = self.client.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"][
                "Rules"
            ]
        except ClientError as error:
            if error_code(error) == "ServerSideEncryptionConfigurationNotFoundError":
                return None
            raise
        return rules[0]["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID")


def bucket_exists(client, name: str, setting: str) -> bool:
    """False when absent; a name another account holds is an error naming the setting to change."""
    try:
        client.head_bucket(Bucket=name)
    except ClientError as error:
        if is_not_found(error):
            return False
        if error_code(error) in {"403", "AccessDenied"}:
            raise DeploymentError(
                "the bucket exists but this account cannot use it",
                where=f"s3://{name}",
                hint=f"bucket names are global; set {setting} to a name you own",
            ) from error
        raise
    return True


def create_bucket(client, name: str, region: str) -> None:
    if region == "us-east-1":  # the one region that refuses to be named as a location constraint
        client.create_bucket(Bucket=name)
    else:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def bucket_tags(client, name: str) -> dict[str, str]:
    try:
        tag_set = client.get_bucket_tagging(Bucket=name)["TagSet"]
    except ClientError as error:
        if error_code(error) == "NoSuchTagSet":
            return {}
        raise
    return {tag["Key"]: tag["Value"] for tag in tag_set}
