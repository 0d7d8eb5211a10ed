"""S3: the capture bucket (private, encrypted, TLS only, captures expiring) and the model artifact.

A bucket is this deployment's when it carries the project tag, or when it has the default name the
engine gives it (`{project}-{stage}-{account}-{region}`) and no project tag at all: CreateBucket and
the tag are two calls, and a deploy stopped between them must still find, repair and destroy it.
A bucket named in `s3.bucket` without our tag is its owner's: only this stage's rules and folder are ours.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from deployment.aws.errors import error_code, is_not_found, tag_list
from deployment.errors import DeploymentError
from deployment.naming import PROJECT_TAG, Names
from deployment.policies import canonical
from deployment.resources.artifact import Artifact
from deployment.resources.base import Kind, TagService
from deployment.resources.bucket import Bucket, Encryption, ExpiryRule, StageRules, is_stage_rule
from deployment.resources.event_function import Notification
from deployment.resources.tags import ResourceTags

ACCESS_BLOCK_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
GROUPS = "http://acs.amazonaws.com/groups/global/"
EVERYONE = (f"{GROUPS}AllUsers", f"{GROUPS}AuthenticatedUsers")


class Storage:
    def __init__(self, client, region: str) -> None:
        self.client = client
        self.region = region

    def read_bucket(self, name: str, names: Names) -> tuple[Bucket | None, bool, ResourceTags | None]:
        """The bucket as it is, whether it is ours, and (when ours) its tags."""
        named_by_engine = name == names.default_bucket()
        # Ours by name only in this account; a bucket named in s3.bucket may be another account's.
        if not bucket_exists(self.client, name, "s3.bucket", names.account_id if named_by_engine else None):
            return None, False, None
        tags = bucket_tags(self.client, name)
        owner, root = tags.get(PROJECT_TAG), names.prefix
        ours = owner == root or (named_by_engine and owner is None)
        rules = self._stage_rules(name, root)
        if not ours:  # the owner's settings are not ours to read, only whether anyone can read it
            return Bucket(name, None, (False,) * 4, "", rules, root, self._exposure(name)), False, None
        bucket = Bucket(
            name, self._encryption(name), self._access_block(name), self._policy(name), rules, root
        )
        return bucket, True, ResourceTags(Kind.BUCKET, name, tuple(sorted(tags.items())), name, TagService.S3)

    def shared_with_others(self, name: str, root: str) -> bool:
        """Whether anything but this stage's folder and rules is in the bucket (destroy then keeps it)."""
        others = [rule for rule in self._lifecycle_rules(name) if not _is_ours(rule, root)]
        listing = self.client.list_objects_v2(Bucket=name, Delimiter="/", MaxKeys=2)
        entries = [item["Key"] for item in listing.get("Contents", [])]
        entries += [item["Prefix"] for item in listing.get("CommonPrefixes", [])]
        return bool(others) or any(entry != f"{root}/" for entry in entries)

    def create_bucket(self, bucket: Bucket, tags: tuple[tuple[str, str], ...]) -> None:
        """Created, then tagged at once (the mark of ownership), then every setting: each call is
        idempotent, and a run stopped in between is repaired setting by setting by the next one."""
        try:
            create_bucket(self.client, bucket.name, self.region)
        except ClientError as error:
            if error_code(error) != "BucketAlreadyOwnedByYou":  # a retried create, outside us-east-1
                raise
        self.put_tags(bucket.name, tags)
        self.put_access_block(bucket)
        self.put_encryption(bucket)
        self.put_policy(bucket)
        self.put_stage_rules(StageRules(bucket.name, bucket.root, bucket.expiry_rules))

    def put_tags(self, name: str, tags: tuple[tuple[str, str], ...]) -> None:
        """The whole tag set: S3 replaces it at once."""
        self.client.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list(tags)})

    def put_access_block(self, bucket: Bucket) -> None:
        self.client.put_public_access_block(
            Bucket=bucket.name,
            PublicAccessBlockConfiguration=dict(zip(ACCESS_BLOCK_KEYS, bucket.access_block, strict=True)),
        )

    def put_encryption(self, bucket: Bucket) -> None:
        default = {"SSEAlgorithm": bucket.encryption.algorithm}
        if bucket.encryption.kms_key_id:
            default["KMSMasterKeyID"] = bucket.encryption.kms_key_id
        self.client.put_bucket_encryption(
            Bucket=bucket.name,
            ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": default}]},
        )

    def put_policy(self, bucket: Bucket) -> None:
        self.client.put_bucket_policy(Bucket=bucket.name, Policy=bucket.policy)

    def put_stage_rules(self, stage: StageRules) -> None:
        """This stage's expiry rules, read back just before so every other rule is kept as it is."""
        others = [rule for rule in self._lifecycle_rules(stage.bucket) if not _is_ours(rule, stage.root)]
        rules = others + [_lifecycle_rule(rule) for rule in stage.rules]
        if rules:
            self.client.put_bucket_lifecycle_configuration(
                Bucket=stage.bucket, LifecycleConfiguration={"Rules": rules}
            )
        else:  # S3 refuses an empty list
            self.client.delete_bucket_lifecycle(Bucket=stage.bucket)

    def artifact_exists(self, artifact: Artifact) -> bool:
        try:
            self.client.head_object(Bucket=artifact.bucket, Key=artifact.key)
        except ClientError as error:
            if is_not_found(error) or error_code(error) == "403":
                return False
            raise
        return True

    def artifact_sha256(self, bucket: str, key: str) -> str | None:
        """The sha256 an artifact was uploaded with (its metadata; "" if it has none), None if gone."""
        try:
            found = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if is_not_found(error) or error_code(error) == "403":
                return None
            raise
        return found.get("Metadata", {}).get("sha256", "")

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

    def count_objects(self, uri: str, suffix: str = "") -> int:
        """How many objects lie under an s3://bucket/prefix/ (those ending in `suffix`)."""
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sum(
            1
            for page in pages
            for item in page.get("Contents", [])
            if item["Key"].endswith(suffix) and not item["Key"].endswith("/")  # not folder markers
        )

    # An event function's bucket notification: one entry (by Id) among the bucket's others, kept.

    def read_notification(self, bucket: str, notification_id: str) -> Notification | None:
        for entry in self._notifications(bucket).get("LambdaFunctionConfigurations", []):
            if entry.get("Id") == notification_id:
                rules = entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])
                prefix = next((r["Value"] for r in rules if r["Name"].lower() == "prefix"), "")
                events = tuple(sorted(entry.get("Events", [])))
                return Notification(bucket, notification_id, entry["LambdaFunctionArn"], prefix, events)
        return None

    def put_notification(self, notification: Notification) -> None:
        self._replace_notification(notification.bucket, notification.notification_id, notification)

    def remove_notification(self, bucket: str, notification_id: str) -> None:
        self._replace_notification(bucket, notification_id, None)

    def _replace_notification(self, bucket: str, notification_id: str, new: Notification | None) -> None:
        configuration = self._notifications(bucket)
        kept = [
            e for e in configuration.get("LambdaFunctionConfigurations", []) if e.get("Id") != notification_id
        ]
        if new is not None:
            kept.append(
                {
                    "Id": new.notification_id,
                    "LambdaFunctionArn": new.function_arn,
                    "Events": list(new.events),
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": new.prefix}]}},
                }
            )
        configuration["LambdaFunctionConfigurations"] = kept
        if not kept:
            del configuration["LambdaFunctionConfigurations"]
        self.client.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=configuration
        )

    def _notifications(self, bucket: str) -> dict:
        found = self.client.get_bucket_notification_configuration(Bucket=bucket)
        keys = (
            "TopicConfigurations",
            "QueueConfigurations",
            "LambdaFunctionConfigurations",
            "EventBridgeConfiguration",
        )
        return {key: found[key] for key in keys if key in found}

    def delete_folder(self, bucket: str, prefix: str) -> None:
        pages = self.client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            versions = page.get("Versions", []) + page.get("DeleteMarkers", [])
            objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]
            if objects:
                self.client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})

    # Reading each setting back; "absent" is a value like any other.

    def _stage_rules(self, name: str, root: str) -> tuple[ExpiryRule, ...]:
        found = [_expiry_rule(rule) for rule in self._lifecycle_rules(name) if _is_ours(rule, root)]
        return tuple(sorted((self._with_objects(name, rule) for rule in found), key=lambda r: r.rule_id))

    def _with_objects(self, bucket: str, rule: ExpiryRule) -> ExpiryRule:
        listing = self.client.list_objects_v2(Bucket=bucket, Prefix=rule.prefix, MaxKeys=1)
        return ExpiryRule(
            rule.rule_id, rule.prefix, rule.days, rule.enabled, rule.noncurrent_days, listing["KeyCount"] > 0
        )

    def _lifecycle_rules(self, name: str) -> list[dict]:
        try:
            return self.client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
        except ClientError as error:
            if error_code(error) == "NoSuchLifecycleConfiguration":
                return []
            raise

    def _encryption(self, name: str) -> Encryption | None:
        try:
            rules = self.client.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
        except ClientError as error:
            if error_code(error) == "ServerSideEncryptionConfigurationNotFoundError":
                return None
            raise
        default = rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]
        return Encryption(default["SSEAlgorithm"], default.get("KMSMasterKeyID"))

    def _access_block(self, name: str) -> tuple[bool, bool, bool, bool]:
        try:
            found = self.client.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        except ClientError as error:
            if error_code(error) == "NoSuchPublicAccessBlockConfiguration":
                return (False, False, False, False)
            raise
        return tuple(found.get(key, False) for key in ACCESS_BLOCK_KEYS)  # type: ignore[return-value]

    def _policy(self, name: str) -> str:
        try:
            return canonical(json.loads(self.client.get_bucket_policy(Bucket=name)["Policy"]))
        except ClientError as error:
            if error_code(error) == "NoSuchBucketPolicy":
                return ""
            raise

    def _exposure(self, name: str) -> str:
        """Why anyone may read the bucket, per S3's own evaluation of its policy, its ACL and its
        Block Public Access settings; "" when no one may."""
        _, ignore_acls, _, restrict_policy = self._access_block(name)
        reasons = []
        if not restrict_policy and self._policy_is_public(name):
            reasons.append("its bucket policy allows public access")
        if not ignore_acls:
            grants = self.client.get_bucket_acl(Bucket=name)["Grants"]
            if any(grant["Grantee"].get("URI") in EVERYONE for grant in grants):
                reasons.append("its ACL grants access to all users")
        return "; ".join(reasons)

    def _policy_is_public(self, name: str) -> bool:
        try:
            return self.client.get_bucket_policy_status(Bucket=name)["PolicyStatus"]["IsPublic"]
        except ClientError as error:
            if error_code(error) == "NoSuchBucketPolicy":
                return False
            raise


def _is_ours(rule: dict, root: str) -> bool:
    return is_stage_rule(rule.get("ID", ""), rule.get("Filter", {}).get("Prefix", ""), root)


def _expiry_rule(rule: dict) -> ExpiryRule:
    noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
    return ExpiryRule(
        rule["ID"],
        rule.get("Filter", {}).get("Prefix", ""),
        rule.get("Expiration", {}).get("Days", 0),
        rule.get("Status") == "Enabled",
        noncurrent,
    )


def _lifecycle_rule(rule: ExpiryRule) -> dict:
    written = {
        "ID": rule.rule_id,
        "Filter": {"Prefix": rule.prefix},
        "Status": "Enabled" if rule.enabled else "Disabled",
        "Expiration": {"Days": rule.days},
    }
    if rule.noncurrent_days:
        written["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule.noncurrent_days}
    return written


def bucket_exists(client, name: str, setting: str, account_id: str | None = None) -> bool:
    """False when absent; a name another account holds is an error naming the setting to change
    (with `account_id`, S3 answers 403 even when that account lets us in)."""
    try:
        if account_id:
            client.head_bucket(Bucket=name, ExpectedBucketOwner=account_id)
        else:
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
