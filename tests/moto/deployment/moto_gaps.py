"""What moto 5.2 gets wrong for our web page, put right for our tests (in-process, or as a server).

- CloudFront: moto drops an origin's OriginAccessControlId and S3OriginConfig, so a distribution it
  returns never matches the one asked for, and the plan after a deploy would never be "no changes".
- S3: moto enforces a bucket policy's statements with Principal "*" but ignores their conditions, so
  a "deny unless TLS" statement denies everything. A condition-bound statement is left out here:
  neither ours (TLS-only, CloudFront-only) applies to a test's own HTTPS request.
- SageMaker: moto's UpdateModelPackage clears a version's CustomerMetadataProperties when the
  request leaves them out (an approval); SageMaker keeps them.

`python -m tests.moto.deployment.moto_gaps -H 127.0.0.1 -p PORT` runs moto's server with both put right.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from moto.cloudfront import models as cloudfront
from moto.s3 import models as s3
from moto.sagemaker import models as sagemaker


def keeping_access_control(init: Callable) -> Callable:
    """moto's Origin.__init__, also keeping what its serializer looks for by these attribute names."""

    def origin_init(self, origin: dict) -> None:
        init(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId", "")
        self.s3_origin_config = origin.get("S3OriginConfig")

    return origin_init


def unconditional_only(get_permission: Callable) -> Callable:
    """moto's Bucket.get_permission over the policy's statements without a Condition."""

    def permission(self, action: str, resource: str):
        if self.policy is None:
            return get_permission(self, action, resource)
        document = json.loads(self.policy)
        statements = document.get("Statement", [])
        kept = [statement for statement in statements if "Condition" not in statement]
        policy, self.policy = self.policy, json.dumps({**document, "Statement": kept}).encode()
        try:
            return get_permission(self, action, resource)
        finally:
            self.policy = policy

    return permission


def keeping_metadata(update: Callable) -> Callable:
    """moto's update_model_package, leaving the metadata as it is when the request gives none."""

    def update_model_package(self, model_package_arn: str, **changes):
        if changes.get("customer_metadata_properties") is None:
            name = self.model_package_name_mapping.get(model_package_arn, model_package_arn)
            found = self.model_packages.get(name)
            changes["customer_metadata_properties"] = found.customer_metadata_properties if found else None
        return update(self, model_package_arn=model_package_arn, **changes)

    return update_model_package


def replacements() -> list[tuple[object, str, Callable]]:
    """(owner, attribute, new value): for monkeypatch.setattr, or to apply for good in a server."""
    return [
        (cloudfront.Origin, "__init__", keeping_access_control(cloudfront.Origin.__init__)),
        (s3.FakeBucket, "get_permission", unconditional_only(s3.FakeBucket.get_permission)),
        (
            sagemaker.SageMakerModelBackend,
            "update_model_package",
            keeping_metadata(sagemaker.SageMakerModelBackend.update_model_package),
        ),
    ]


def main() -> None:
    from moto.server import main as serve

    for owner, attribute, value in replacements():
        setattr(owner, attribute, value)
    serve(sys.argv[1:])


if __name__ == "__main__":
    main()
