"""S3 static website hosting: the web page's bucket, public for reading only, and its objects."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from deployment.api_state import WebBucket, WebFile, WebPage
from deployment.aws.errors import error_code, is_not_found, tag_list
from deployment.aws.storage import bucket_exists, bucket_tags, create_bucket
from deployment.naming import PROJECT_TAG
from deployment.policies import canonical
from deployment.website import INDEX, website_url

ACCESS_BLOCK_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


class Website:
    def __init__(self, client, region: str) -> None:
        self.client = client
        self.region = region

    def read_bucket(self, name: str, prefix: str) -> tuple[WebBucket | None, bool]:
        """The bucket's website settings, and whether this deployment's tag is on it."""
        if not bucket_exists(self.client, name, "webapp.bucket"):
            return None, False
        bucket = WebBucket(name, self._index_document(name), self._policy(name), self._access_block(name))
        return bucket, bucket_tags(self.client, name).get(PROJECT_TAG) == prefix

    def create_bucket(self, bucket: WebBucket, tags: tuple[tuple[str, str], ...]) -> None:
        create_bucket(self.client, bucket.name, self.region)
        self.client.put_bucket_tagging(Bucket=bucket.name, Tagging={"TagSet": tag_list(tags)})
        self.configure_bucket(bucket)

    def configure_bucket(self, bucket: WebBucket) -> None:
        # Relaxed before the policy: S3 refuses a public policy while BlockPublicPolicy is on.
        self.client.put_public_access_block(
            Bucket=bucket.name,
            PublicAccessBlockConfiguration=dict(zip(ACCESS_BLOCK_KEYS, bucket.access_block, strict=True)),
        )
        self.client.put_bucket_website(
            Bucket=bucket.name, WebsiteConfiguration={"IndexDocument": {"Suffix": bucket.index_document}}
        )
        self.client.put_bucket_policy(Bucket=bucket.name, Policy=bucket.policy)

    def read_objects(self, bucket: str) -> tuple[tuple[WebFile, ...], WebPage | None]:
        """Every object, as the assets and the page they were uploaded as (from their metadata)."""
        files, page = [], None
        for listing in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for summary in listing.get("Contents", []):
                found = self.client.head_object(Bucket=bucket, Key=summary["Key"])
                metadata = found.get("Metadata", {})
                content_type, cache_control = found.get("ContentType", ""), found.get("CacheControl", "")
                if summary["Key"] == INDEX:
                    page = WebPage(
                        bucket,
                        INDEX,
                        content_type,
                        cache_control,
                        metadata.get("source-sha256", ""),
                        metadata.get("api-url"),
                    )
                else:
                    sha256 = metadata.get("sha256", "")
                    files.append(WebFile(bucket, summary["Key"], content_type, cache_control, sha256))
        return tuple(files), page

    def put_file(self, file: WebFile) -> None:
        with open(file.path, "rb") as body:
            self.client.put_object(
                Bucket=file.bucket,
                Key=file.key,
                Body=body,
                ContentType=file.content_type,
                CacheControl=file.cache_control,
                Metadata={"sha256": file.sha256},
            )

    def put_page(self, page: WebPage, body: bytes) -> None:
        self.client.put_object(
            Bucket=page.bucket,
            Key=page.key,
            Body=body,
            ContentType=page.content_type,
            CacheControl=page.cache_control,
            Metadata={"source-sha256": page.source_sha256, "api-url": page.api_url or ""},
        )

    def delete_object(self, bucket: str, key: str) -> None:
        self.client.delete_object(Bucket=bucket, Key=key)

    def url(self, bucket: str) -> str | None:
        """The website endpoint of the bucket as it exists (in the region it is really in), or None."""
        try:
            location = self.client.get_bucket_location(Bucket=bucket).get("LocationConstraint")
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        return website_url(bucket, location or "us-east-1")  # S3 reports us-east-1 as no constraint

    def _index_document(self, name: str) -> str:
        try:
            return self.client.get_bucket_website(Bucket=name)["IndexDocument"]["Suffix"]
        except ClientError as error:
            if error_code(error) == "NoSuchWebsiteConfiguration":
                return ""
            raise

    def _policy(self, name: str) -> str:
        try:
            return canonical(json.loads(self.client.get_bucket_policy(Bucket=name)["Policy"]))
        except ClientError as error:
            if error_code(error) == "NoSuchBucketPolicy":
                return ""
            raise

    def _access_block(self, name: str) -> tuple[bool, bool, bool, bool]:
        try:
            found = self.client.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        except ClientError as error:
            if error_code(error) == "NoSuchPublicAccessBlockConfiguration":
                return (False, False, False, False)
            raise
        return tuple(found.get(key, False) for key in ACCESS_BLOCK_KEYS)  # type: ignore[return-value]
