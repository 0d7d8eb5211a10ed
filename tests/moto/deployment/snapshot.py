"""Every setting of one stage, read back through the services' own APIs (not the engine's reader).

`settings` is what a deploy must leave, comparable between two accounts (ids AWS assigns and
timestamps are left out or replaced by placeholders); `leftovers` is anything of the stage at all,
found by name prefix and by tag, for after `destroy`.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from deployment.naming import PROJECT_TAG
from tests.moto.deployment.inventory import tagged_resources

Settings = dict[str, object]
OBJECT_FIELDS = ("ContentType", "CacheControl", "ContentLength", "Metadata", "ServerSideEncryption")


def settings(console, prefix: str, schedules: dict[str, dict]) -> Settings:
    """The stage's resources and every managed setting of each, as plain, id-free data."""
    found: Settings = {
        "buckets": {name: _bucket(console.client("s3"), name) for name in _buckets(console, prefix)},
        "roles": _roles(console.client("iam"), prefix),
        "sagemaker": _sagemaker(console.client("sagemaker"), prefix),
        "schedules": {name: schedule for name, schedule in schedules.items() if name.startswith(prefix)},
        "alarms": _alarms(console.client("cloudwatch"), prefix),
        "functions": _functions(console.client("lambda"), prefix),
        "log_groups": _log_groups(console.client("logs"), prefix),
        "apis": _apis(console.client("apigatewayv2"), prefix),
    }
    return _without_ids(found, console.client("apigatewayv2"), prefix, console.client("cloudfront"))


def leftovers(console, prefix: str, schedules: dict[str, dict]) -> list[tuple[str, str]]:
    """(kind, name) of everything named after the stage or carrying its tag."""
    sagemaker = console.client("sagemaker")
    named = [("bucket", name) for name in _buckets(console, prefix)]
    named += [("role", role["RoleName"]) for role in console.client("iam").list_roles()["Roles"]]
    named += [("model", m["ModelName"]) for m in sagemaker.list_models()["Models"]]
    named += [
        ("endpoint-config", c["EndpointConfigName"])
        for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]
    ]
    named += [("endpoint", e["EndpointName"]) for e in sagemaker.list_endpoints()["Endpoints"]]
    named += [("monitoring-schedule", name) for name in schedules]
    named += [
        ("alarm", a["AlarmName"]) for a in console.client("cloudwatch").describe_alarms()["MetricAlarms"]
    ]
    named += [("function", f["FunctionName"]) for f in console.client("lambda").list_functions()["Functions"]]
    named += [("http-api", api["Name"]) for api in console.client("apigatewayv2").get_apis()["Items"]]
    groups = console.client("logs").describe_log_groups()["logGroups"]
    named += [("log-group", group["logGroupName"]) for group in groups]
    ours = {item for item in named if item[1].removeprefix("/aws/lambda/").startswith(prefix)}
    tagged = {key for key, tags in tagged_resources(console).items() if tags.get(PROJECT_TAG) == prefix}
    return sorted(ours | tagged)


def _buckets(console, prefix: str) -> list[str]:
    return sorted(
        b["Name"] for b in console.client("s3").list_buckets()["Buckets"] if b["Name"].startswith(prefix)
    )


def _bucket(s3, name: str) -> dict:
    def read(call, key: str, missing: str, **extra):
        try:
            return call(Bucket=name, **extra)[key]
        except ClientError as error:
            if error.response["Error"]["Code"] == missing:
                return None
            raise

    policy = read(s3.get_bucket_policy, "Policy", "NoSuchBucketPolicy")
    objects = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name)
        for o in page.get("Contents", [])
    ]
    return {
        "tags": read(s3.get_bucket_tagging, "TagSet", "NoSuchTagSet"),
        "encryption": read(
            s3.get_bucket_encryption,
            "ServerSideEncryptionConfiguration",
            "ServerSideEncryptionConfigurationNotFoundError",
        ),
        "access_block": read(
            s3.get_public_access_block,
            "PublicAccessBlockConfiguration",
            "NoSuchPublicAccessBlockConfiguration",
        ),
        "policy": json.loads(policy) if policy else None,
        "lifecycle": read(s3.get_bucket_lifecycle_configuration, "Rules", "NoSuchLifecycleConfiguration"),
        "website": read(s3.get_bucket_website, "IndexDocument", "NoSuchWebsiteConfiguration"),
        "objects": {key: _object(s3, name, key) for key in objects},
    }


def _object(s3, bucket: str, key: str) -> dict:
    found = s3.head_object(Bucket=bucket, Key=key)
    return {field: found.get(field) for field in OBJECT_FIELDS}


def _roles(iam, prefix: str) -> dict:
    roles = {}
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        if not name.startswith(prefix):
            continue
        policies = iam.list_role_policies(RoleName=name)["PolicyNames"]
        roles[name] = {
            "trust": role["AssumeRolePolicyDocument"],
            "boundary": iam.get_role(RoleName=name)["Role"].get("PermissionsBoundary"),
            "tags": iam.list_role_tags(RoleName=name)["Tags"],
            "policies": {
                p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"] for p in policies
            },
        }
    return roles


def _sagemaker(sagemaker, prefix: str) -> dict:
    def tags(arn: str) -> list:
        return sorted(sagemaker.list_tags(ResourceArn=arn)["Tags"], key=lambda tag: tag["Key"])

    models = {
        m["ModelName"]: {
            "container": sagemaker.describe_model(ModelName=m["ModelName"])["PrimaryContainer"],
            "tags": tags(m["ModelArn"]),
        }
        for m in sagemaker.list_models()["Models"]
        if m["ModelName"].startswith(prefix)
    }
    configs = {}
    for config in sagemaker.list_endpoint_configs()["EndpointConfigs"]:
        if config["EndpointConfigName"].startswith(prefix):
            found = sagemaker.describe_endpoint_config(EndpointConfigName=config["EndpointConfigName"])
            kept = {key: found.get(key) for key in ("ProductionVariants", "DataCaptureConfig")}
            configs[config["EndpointConfigName"]] = {**kept, "tags": tags(config["EndpointConfigArn"])}
    endpoints = {
        e["EndpointName"]: {
            "config": sagemaker.describe_endpoint(EndpointName=e["EndpointName"])["EndpointConfigName"],
            "tags": tags(e["EndpointArn"]),
        }
        for e in sagemaker.list_endpoints()["Endpoints"]
        if e["EndpointName"].startswith(prefix)
    }
    return {"models": models, "configs": configs, "endpoints": endpoints}


def _alarms(cloudwatch, prefix: str) -> dict:
    kept = ("MetricName", "Namespace", "Statistic", "Dimensions", "Period", "EvaluationPeriods", "Threshold")
    return {
        alarm["AlarmName"]: {
            **{key: alarm.get(key) for key in (*kept, "ComparisonOperator", "TreatMissingData")},
            "tags": cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"],
        }
        for alarm in cloudwatch.describe_alarms()["MetricAlarms"]
        if alarm["AlarmName"].startswith(prefix)
    }


def _functions(functions, prefix: str) -> dict:
    found = {}
    for function in functions.list_functions()["Functions"]:
        name = function["FunctionName"]
        if not name.startswith(prefix):
            continue
        kept = ("Runtime", "Role", "Handler", "Timeout", "MemorySize", "Environment", "CodeSha256")
        try:
            policy = json.loads(functions.get_policy(FunctionName=name)["Policy"])["Statement"]
        except ClientError:
            policy = None
        found[name] = {
            **{key: function.get(key) for key in kept},
            "tags": functions.list_tags(Resource=function["FunctionArn"])["Tags"],
            "policy": policy,
        }
    return found


def _log_groups(logs, prefix: str) -> dict:
    return {
        group["logGroupName"]: {
            "retention": group.get("retentionInDays"),
            "tags": logs.list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"],
        }
        for group in logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{prefix}")["logGroups"]
    }


def _apis(gateway, prefix: str) -> list:
    apis = []
    for api in gateway.get_apis()["Items"]:
        if not api["Name"].startswith(prefix):
            continue
        api_id = api["ApiId"]
        integrations = gateway.get_integrations(ApiId=api_id)["Items"]
        stages = gateway.get_stages(ApiId=api_id)["Items"]
        apis.append(
            {
                "name": api["Name"],
                "cors": api.get("CorsConfiguration"),
                "tags": api.get("Tags"),
                "integrations": integrations,
                "routes": [
                    (r["RouteKey"], r.get("Target")) for r in gateway.get_routes(ApiId=api_id)["Items"]
                ],
                "stages": [
                    {k: s.get(k) for k in ("StageName", "AutoDeploy", "DefaultRouteSettings", "Tags")}
                    for s in stages
                ],
            }
        )
    return apis


def _without_ids(found: Settings, gateway, prefix: str, cloudfront=None) -> Settings:
    """Ids API Gateway and CloudFront assign, replaced by what they stand for, so two accounts compare equal."""
    text = json.dumps(found, sort_keys=True, default=str)
    listing = cloudfront.list_distributions()["DistributionList"] if cloudfront else {}
    for distribution in listing.get("Items", []):
        text = text.replace(distribution["DomainName"], "<distribution domain>")
        text = text.replace(distribution["Id"], "<distribution id>")
    for api in gateway.get_apis()["Items"]:
        if api["Name"].startswith(prefix):
            text = text.replace(api["ApiId"], f"<{api['Name']} id>")
            for integration in gateway.get_integrations(ApiId=api["ApiId"])["Items"]:
                text = text.replace(integration["IntegrationId"], "<integration id>")
    return json.loads(text)


def differences(found: object, wanted: object, path: str = "") -> list[str]:
    """Where two settings differ, as key paths: what a failing comparison should say first."""
    if isinstance(found, dict) and isinstance(wanted, dict):
        return [
            line
            for key in sorted(set(found) | set(wanted), key=str)
            for line in differences(found.get(key), wanted.get(key), f"{path}/{key}")
        ]
    if isinstance(found, list) and isinstance(wanted, list) and len(found) == len(wanted):
        return [
            line
            for i, pair in enumerate(zip(found, wanted, strict=True))
            for line in differences(*pair, f"{path}[{i}]")
        ]
    return [] if found == wanted else [f"{path}: {found!r} != {wanted!r}"]
