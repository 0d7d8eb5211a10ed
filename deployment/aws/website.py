"""S3: the web page's bucket (private, encrypted, read by its CloudFront distribution only) and objects.

A bucket is this deployment's when it carries the project tag. CreateBucket and the tag are two
calls, so a deploy stopped between them leaves a bucket in this account that is empty and has no
tags at all: that one is taken as ours too (and tagged on the next deploy, or deleted by destroy).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import replace

from botocore.exceptions import ClientError

from deployment.aws.errors import error_code, is_not_found, tag_list
from deployment.aws.storage import bucket_tags, create_bucket
from deployment.errors import DeploymentError
from deployment.naming import PROJECT_TAG, Names
from deployment.policies import canonical
from deployment.resources.web_bucket import BucketPolicy, WebBucket
from deployment.resources.web_files import WebFile, WebPage
from deployment.website import INDEX

ACCESS_BLOCK_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
NOT_READ = (False, False, False, False)


class Website:
    def __init__(self, client, region: str) -> None:
        self.client = client
        self.region = region

    def read_bucket(self, name: str, names: Names) -> tuple[WebBucket | None, bool]:
        """The bucket's settings, and whether it is this deployment's (only then are its settings read)."""
        if not self._exists(name, names.account_id):
            return None, False
        tags = bucket_tags(self.client, name)
        ours = tags.get(PROJECT_TAG) == names.prefix or (not tags and self._empty(name))
        found = tuple(sorted(tags.items()))
        if not ours:
            return WebBucket(name, NOT_READ, "", False, found), False
        return (
            WebBucket(name, self._access_block(name), self._encryption(name), self._website(name), found),
            True,
        )

    def create_bucket(self, bucket: WebBucket, tags: tuple[tuple[str, str], ...]) -> None:
        """Tagged right after it is created: the tag is how the next run knows the bucket is ours."""
        try:
            create_bucket(self.client, bucket.name, self.region)
        except ClientError as error:
            if error_code(error) != "BucketAlreadyOwnedByYou":  # a retried create, outside us-east-1
                raise
        self._configure(replace(bucket, tags=tags))

    def configure_bucket(self, bucket: WebBucket) -> None:
        self._configure(bucket)
        # Earlier versions served the page from the plain-HTTP website endpoint (idempotent).
        self.client.delete_bucket_website(Bucket=bucket.name)

    def _configure(self, bucket: WebBucket) -> None:
        self.client.put_bucket_tagging(Bucket=bucket.name, Tagging={"TagSet": tag_list(bucket.tags)})
        self.client.put_public_access_block(
            Bucket=bucket.name,
            PublicAccessBlockConfiguration=dict(zip(ACCESS_BLOCK_KEYS, bucket.access_block, strict=True)),
        )
        self.client.put_bucket_encryption(
            Bucket=bucket.name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": bucket.encryption}}]
            },
        )

    def read_policy(self, bucket: str) -> BucketPolicy | None:
        try:
            document = self.client.get_bucket_policy(Bucket=bucket)["Policy"]
        except ClientError as error:
            if error_code(error) == "NoSuchBucketPolicy":
                return None
            raise
        return BucketPolicy(bucket, canonical(json.loads(document)))

    def put_policy(self, policy: BucketPolicy) -> None:
        self.client.put_bucket_policy(Bucket=policy.bucket, Policy=policy.document)

    def read_objects(self, bucket: str) -> tuple[tuple[WebFile, ...], WebPage | None]:
        """Every object, with the SHA-256 S3 verified when it was uploaded (not what its metadata says)."""
        files, page = [], None
        for listing in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for summary in listing.get("Contents", []):
                key = summary["Key"]
                found = self.client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
                content_type, cache_control = found.get("ContentType", ""), found.get("CacheControl", "")
                sha256 = _hex_sha256(found.get("ChecksumSHA256", ""))
                if key == INDEX:
                    page = WebPage(bucket, key, content_type, cache_control, sha256)
                else:
                    files.append(WebFile(bucket, key, content_type, cache_control, sha256))
        return tuple(files), page

    def put_file(self, file: WebFile) -> None:
        with open(file.path, "rb") as body:
            self._put(file.bucket, file.key, body, file.content_type, file.cache_control, file.sha256)

    def put_page(self, page: WebPage, body: bytes) -> None:
        self._put(page.bucket, page.key, body, page.content_type, page.cache_control, page.sha256)

    def _put(self, bucket: str, key: str, body, content_type: str, cache_control: str, sha256: str) -> None:
        # S3 refuses the upload if the bytes do not hash to this, and keeps it for head_object.
        self.client.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            CacheControl=cache_control,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
        )

    def delete_object(self, bucket: str, key: str) -> None:
        self.client.delete_object(Bucket=bucket, Key=key)

    def _exists(self, name: str, account_id: str) -> bool:
        """False when absent; a bucket of another account is an error naming the setting to change."""
        try:
            self.client.head_bucket(Bucket=name, ExpectedBucketOwner=account_id)
        except ClientError as error:
            if is_not_found(error):
                return False
            if error_code(error) in {"403", "AccessDenied"}:
                raise DeploymentError(
                    "the bucket exists but belongs to another account",
                    where=f"s3://{name}",
                    hint="bucket names are global; set webapp.bucket to a name you own",
                ) from error
            raise
        return True

    def _empty(self, name: str) -> bool:
        return not self.client.list_objects_v2(Bucket=name, MaxKeys=1).get("Contents")

    def _website(self, name: str) -> bool:
        try:
            self.client.get_bucket_website(Bucket=name)
        except ClientError as error:
            if error_code(error) == "NoSuchWebsiteConfiguration":
                return False
            raise
        return True

    def _encryption(self, name: str) -> str:
        try:
            rules = self.client.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"][
                "Rules"
            ]
        except ClientError as error:
            if error_code(error) == "ServerSideEncryptionConfigurationNotFoundError":
                return ""
            raise
        return rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]

    def _access_block(self, name: str) -> tuple[bool, bool, bool, bool]:
        try:
            found = self.client.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        except ClientError as error:
            if error_code(error) == "NoSuchPublicAccessBlockConfiguration":
                return NOT_READ
            raise
        return tuple(found.get(key, False) for key in ACCESS_BLOCK_KEYS)  # type: ignore[return-value]


def _hex_sha256(checksum: str) -> str:
    """S3's base64 ChecksumSHA256 as hex; "" for none, or for a multipart upload's checksum of checksums."""
    try:
        digest = base64.b64decode(checksum, validate=True)
    except binascii.Error:
        return ""
    return digest.hex() if len(digest) == 32 else ""
