"""The web page's private bucket and its policy: only the page's CloudFront distribution reads it."""

from __future__ import annotations

from dataclasses import dataclass

from deployment.policies import deny_insecure_transport
from deployment.resources.base import Action, Kind, Resource, Run
from deployment.resources.placeholders import Template


@dataclass(frozen=True)
class WebBucket:
    name: str
    access_block: tuple[bool, bool, bool, bool]
    encryption: str  # the default SSEAlgorithm
    # S3 static website hosting, the plain-HTTP endpoint earlier versions published: never wanted.
    website: bool
    tags: tuple[tuple[str, str], ...] = ()  # desired: filled in by the planner with the engine's tags


@dataclass(frozen=True)
class BucketPolicy:
    bucket: str
    # Canonical JSON; a Template naming the distribution's ARN when that is created in the same run.
    document: str | Template


def bucket_policy(bucket: str, distribution_arn: str) -> dict:
    """Only the page's distribution may read objects, and no request may arrive without TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadByThePagesDistribution",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            },
            deny_insecure_transport(bucket),
        ],
    }


class WebBucketResource(Resource):
    kind = Kind.WEB_BUCKET

    def create(self, run: Run, action: Action) -> None:
        run.aws.website.create_bucket(action.target, run.tags)

    def update(self, run: Run, action: Action) -> None:
        run.aws.website.configure_bucket(action.target)

    def delete(self, run: Run, action: Action) -> None:
        run.aws.storage.delete_bucket(action.name)


class WebBucketPolicyResource(Resource):
    kind = Kind.WEB_BUCKET_POLICY

    def create(self, run: Run, action: Action) -> None:
        run.aws.website.put_policy(action.target)

    update = create


RESOURCES = (WebBucketResource(), WebBucketPolicyResource())
