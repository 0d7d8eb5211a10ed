"""Every service's tag calls, in one place: read a resource's tags, change them.

Each service spells tagging its own way (S3 replaces the whole set, IAM and CloudWatch take lists,
Lambda, Logs and API Gateway take maps); each resource kind says which service tags it
(`Resource.tag_service`) and the ARN it is tagged by.
"""

from __future__ import annotations

from deployment.aws.errors import tag_list
from deployment.aws.keys import key_id
from deployment.resources.base import Kind, TagService
from deployment.resources.tags import ResourceTags, TagChange


class Tagging:
    def __init__(self, s3, iam, sagemaker, cloudwatch, functions, logs, gateway, sns, kms) -> None:
        self.s3 = s3
        self.iam = iam
        self.sagemaker = sagemaker
        self.cloudwatch = cloudwatch
        self.functions = functions
        self.logs = logs
        self.gateway = gateway
        self.sns = sns
        self.kms = kms

    def read(self, kind: Kind, service: TagService, name: str, arn: str) -> ResourceTags:
        """The resource's tags (S3's are read with the bucket, in storage.py)."""
        match service:
            case TagService.SAGEMAKER:
                found = _pairs(self.sagemaker.list_tags(ResourceArn=arn)["Tags"])
            case TagService.IAM:
                found = _pairs(self.iam.list_role_tags(RoleName=name)["Tags"])
            case TagService.CLOUDWATCH:
                found = _pairs(self.cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"])
            case TagService.LAMBDA:
                found = self.functions.list_tags(Resource=arn)["Tags"]
            case TagService.LOGS:
                found = self.logs.list_tags_for_resource(resourceArn=arn)["tags"]
            case TagService.APIGATEWAY if "/stages/" in arn:
                stage = arn.rsplit("/stages/", 1)[1]
                found = self.gateway.get_stage(ApiId=_api_id(arn), StageName=stage).get("Tags", {})
            case TagService.APIGATEWAY:  # read with the API (GetTags is the same map, one more route)
                found = self.gateway.get_api(ApiId=_api_id(arn)).get("Tags", {})
            case TagService.SNS:
                found = _pairs(self.sns.list_tags_for_resource(ResourceArn=arn)["Tags"])
            case TagService.KMS:
                tags = self.kms.list_resource_tags(KeyId=key_id(arn))["Tags"]
                found = {tag["TagKey"]: tag["TagValue"] for tag in tags}
            case _:
                raise ValueError(f"cannot read the tags of a {kind} through {service}")
        return ResourceTags(kind, name, tuple(sorted(dict(found).items())), arn, service)

    def change(self, change: TagChange) -> None:
        """Set, then remove: a run stopped in between leaves tags the next plan still sees to remove."""
        if change.service == TagService.S3:  # S3 replaces the whole set at once
            self.s3.put_bucket_tagging(Bucket=change.name, Tagging={"TagSet": tag_list(change.after)})
            return
        if change.add:
            self._add(change)
        if change.remove:
            self._remove(change)

    def _add(self, change: TagChange) -> None:
        arn, tags = change.arn, change.add
        match change.service:
            case TagService.SAGEMAKER:
                self.sagemaker.add_tags(ResourceArn=arn, Tags=tag_list(tags))
            case TagService.IAM:
                self.iam.tag_role(RoleName=change.name, Tags=tag_list(tags))
            case TagService.CLOUDWATCH:
                self.cloudwatch.tag_resource(ResourceARN=arn, Tags=tag_list(tags))
            case TagService.LAMBDA:
                self.functions.tag_resource(Resource=arn, Tags=dict(tags))
            case TagService.LOGS:
                self.logs.tag_resource(resourceArn=arn, tags=dict(tags))
            case TagService.APIGATEWAY:
                self.gateway.tag_resource(ResourceArn=arn, Tags=dict(tags))
            case TagService.SNS:
                self.sns.tag_resource(ResourceArn=arn, Tags=tag_list(tags))
            case TagService.KMS:
                self.kms.tag_resource(KeyId=key_id(arn), Tags=[{"TagKey": k, "TagValue": v} for k, v in tags])
            case _:
                raise ValueError(f"cannot tag a {change.kind} through {change.service}")

    def _remove(self, change: TagChange) -> None:
        arn, keys = change.arn, list(change.remove)
        match change.service:
            case TagService.SAGEMAKER:
                self.sagemaker.delete_tags(ResourceArn=arn, TagKeys=keys)
            case TagService.IAM:
                self.iam.untag_role(RoleName=change.name, TagKeys=keys)
            case TagService.CLOUDWATCH:
                self.cloudwatch.untag_resource(ResourceARN=arn, TagKeys=keys)
            case TagService.LAMBDA:
                self.functions.untag_resource(Resource=arn, TagKeys=keys)
            case TagService.LOGS:
                self.logs.untag_resource(resourceArn=arn, tagKeys=keys)
            case TagService.APIGATEWAY:
                self.gateway.untag_resource(ResourceArn=arn, TagKeys=keys)
            case TagService.SNS:
                self.sns.untag_resource(ResourceArn=arn, TagKeys=keys)
            case TagService.KMS:
                self.kms.untag_resource(KeyId=key_id(arn), TagKeys=keys)
            case _:
                raise ValueError(f"cannot untag a {change.kind} through {change.service}")


def _api_id(arn: str) -> str:
    return arn.split("/apis/", 1)[1].split("/", 1)[0]


def _pairs(tag_list_: list[dict]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tag_list_}
