"""Every service's tag calls, in one place: read a resource's tags, change them.

Each service spells tagging its own way (S3 replaces the whole set, IAM and CloudWatch take lists,
Lambda, Logs and API Gateway take maps), so each call is written out per resource kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from deployment.aws.errors import tag_list
from deployment.naming import Names
from deployment.tags import ResourceTags, TagChange

SAGEMAKER_KINDS = {"model", "endpoint-config", "endpoint", "monitoring-schedule"}


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class Arns:
    """The ARN each tagging API takes, built from the deterministic names (SageMaker lower-cases its own)."""

    names: Names

    def of(self, kind: str, name: str, api_id: str = "") -> str:
        region, account = self.names.region, self.names.account_id
        head = f"arn:{partition(region)}"
        match kind:
            case "bucket" | "role":
                return name  # S3 and IAM tag by name
            case "model" | "endpoint-config" | "endpoint" | "monitoring-schedule":
                return f"{head}:sagemaker:{region}:{account}:{kind}/{name.lower()}"
            case "alarm":
                return f"{head}:cloudwatch:{region}:{account}:alarm:{name}"
            case "function":
                return f"{head}:lambda:{region}:{account}:function:{name}"
            case "log-group":
                return f"{head}:logs:{region}:{account}:log-group:{name}"
            case "http-api":
                return f"{head}:apigateway:{region}::/apis/{api_id}"
            case "api-stage":
                stage = name.rsplit(" stage ", 1)[1]
                return f"{head}:apigateway:{region}::/apis/{api_id}/stages/{stage}"
        raise ValueError(f"no ARN for a {kind}")


class Tagging:
    def __init__(self, s3, iam, sagemaker, cloudwatch, functions, logs, gateway) -> None:
        self.s3 = s3
        self.iam = iam
        self.sagemaker = sagemaker
        self.cloudwatch = cloudwatch
        self.functions = functions
        self.logs = logs
        self.gateway = gateway

    def read(self, kind: str, name: str, arn: str) -> ResourceTags:
        """The resource's tags (S3's are read with the bucket, in storage.py)."""
        if kind in SAGEMAKER_KINDS:
            found = _pairs(self.sagemaker.list_tags(ResourceArn=arn)["Tags"])
        else:
            match kind:
                case "role":
                    found = _pairs(self.iam.list_role_tags(RoleName=name)["Tags"])
                case "alarm":
                    found = _pairs(self.cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"])
                case "function":
                    found = self.functions.list_tags(Resource=arn)["Tags"]
                case "log-group":
                    found = self.logs.list_tags_for_resource(resourceArn=arn)["tags"]
                case "http-api":  # read with the API (GetTags is the same map, one more route)
                    found = self.gateway.get_api(ApiId=_api_id(arn)).get("Tags", {})
                case "api-stage":
                    stage = arn.rsplit("/stages/", 1)[1]
                    found = self.gateway.get_stage(ApiId=_api_id(arn), StageName=stage).get("Tags", {})
                case _:
                    raise ValueError(f"cannot read the tags of a {kind}")
        return ResourceTags(kind, name, tuple(sorted(dict(found).items())), arn)

    def change(self, change: TagChange) -> None:
        """Set, then remove: a run stopped in between leaves tags the next plan still sees to remove."""
        if change.kind == "bucket":  # S3 replaces the whole set at once
            self.s3.put_bucket_tagging(Bucket=change.name, Tagging={"TagSet": tag_list(change.after)})
            return
        if change.add:
            self._add(change)
        if change.remove:
            self._remove(change)

    def _add(self, change: TagChange) -> None:
        arn, tags = change.arn, change.add
        if change.kind in SAGEMAKER_KINDS:
            self.sagemaker.add_tags(ResourceArn=arn, Tags=tag_list(tags))
            return
        match change.kind:
            case "role":
                self.iam.tag_role(RoleName=change.name, Tags=tag_list(tags))
            case "alarm":
                self.cloudwatch.tag_resource(ResourceARN=arn, Tags=tag_list(tags))
            case "function":
                self.functions.tag_resource(Resource=arn, Tags=dict(tags))
            case "log-group":
                self.logs.tag_resource(resourceArn=arn, tags=dict(tags))
            case "http-api" | "api-stage":
                self.gateway.tag_resource(ResourceArn=arn, Tags=dict(tags))
            case _:
                raise ValueError(f"cannot tag a {change.kind}")

    def _remove(self, change: TagChange) -> None:
        arn, keys = change.arn, list(change.remove)
        if change.kind in SAGEMAKER_KINDS:
            self.sagemaker.delete_tags(ResourceArn=arn, TagKeys=keys)
            return
        match change.kind:
            case "role":
                self.iam.untag_role(RoleName=change.name, TagKeys=keys)
            case "alarm":
                self.cloudwatch.untag_resource(ResourceARN=arn, TagKeys=keys)
            case "function":
                self.functions.untag_resource(Resource=arn, TagKeys=keys)
            case "log-group":
                self.logs.untag_resource(resourceArn=arn, tagKeys=keys)
            case "http-api" | "api-stage":
                self.gateway.untag_resource(ResourceArn=arn, TagKeys=keys)
            case _:
                raise ValueError(f"cannot untag a {change.kind}")


def _api_id(arn: str) -> str:
    return arn.split("/apis/", 1)[1].split("/", 1)[0]


def _pairs(tag_list_: list[dict]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tag_list_}
