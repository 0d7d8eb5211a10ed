"""Everything in an account that carries the project tag, read back through the services' own tag APIs.

Shared by the in-process moto tests and the end-to-end test against a moto server.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from deployment.naming import PROJECT_TAG

Inventory = dict[tuple[str, str], dict[str, str]]  # (kind, name) -> its tags


def tagged_resources(session, region: str = "us-east-1") -> Inventory:
    """(kind, name) -> tags of every bucket, role, alarm, SageMaker model/config/endpoint, Lambda
    function, HTTP API, log group and CloudFront distribution with our tag."""
    found: Inventory = {}
    s3 = session.client("s3", region_name=region)
    for bucket in s3.list_buckets()["Buckets"]:
        found[("bucket", bucket["Name"])] = _bucket_tags(s3, bucket["Name"])
    iam = session.client("iam", region_name=region)
    for role in iam.list_roles()["Roles"]:
        found[("role", role["RoleName"])] = _tags(iam.list_role_tags(RoleName=role["RoleName"])["Tags"])
    cloudwatch = session.client("cloudwatch", region_name=region)
    for alarm in cloudwatch.describe_alarms()["MetricAlarms"]:
        tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
        found[("alarm", alarm["AlarmName"])] = _tags(tags)
    sagemaker = session.client("sagemaker", region_name=region)
    for model in sagemaker.list_models()["Models"]:
        found[("model", model["ModelName"])] = _sagemaker_tags(sagemaker, model["ModelArn"])
    for config in sagemaker.list_endpoint_configs()["EndpointConfigs"]:
        found[("endpoint-config", config["EndpointConfigName"])] = _sagemaker_tags(
            sagemaker, config["EndpointConfigArn"]
        )
    for endpoint in sagemaker.list_endpoints()["Endpoints"]:
        found[("endpoint", endpoint["EndpointName"])] = _sagemaker_tags(sagemaker, endpoint["EndpointArn"])
    found |= _public_side(session, region)
    return {key: tags for key, tags in found.items() if PROJECT_TAG in tags}


def _public_side(session, region: str) -> Inventory:
    found: Inventory = {}
    functions = session.client("lambda", region_name=region)
    for function in functions.list_functions()["Functions"]:
        tags = functions.list_tags(Resource=function["FunctionArn"])["Tags"]
        found[("function", function["FunctionName"])] = tags
    for api in session.client("apigatewayv2", region_name=region).get_apis()["Items"]:
        found[("http-api", api["Name"])] = api.get("Tags", {})
    logs = session.client("logs", region_name=region)
    for group in logs.describe_log_groups()["logGroups"]:
        tags = logs.list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"]
        found[("log-group", group["logGroupName"])] = tags
    cloudfront = session.client("cloudfront", region_name=region)
    for distribution in cloudfront.list_distributions()["DistributionList"].get("Items", []):
        tags = cloudfront.list_tags_for_resource(Resource=distribution["ARN"])["Tags"].get("Items", [])
        found[("distribution", distribution["Comment"])] = _tags(tags)
    return found


def of_deployment(inventory: Inventory, prefix: str) -> set[tuple[str, str]]:
    return {key for key, tags in inventory.items() if tags[PROJECT_TAG] == prefix}


def _tags(tag_list: list[dict]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tag_list}


def _bucket_tags(s3, name: str) -> dict[str, str]:
    try:
        return _tags(s3.get_bucket_tagging(Bucket=name)["TagSet"])
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchTagSet":
            return {}
        raise


def _sagemaker_tags(sagemaker, arn: str) -> dict[str, str]:
    return _tags(sagemaker.list_tags(ResourceArn=arn)["Tags"])
