"""The API through the CLI against moto: the Lambda, the HTTP API, and the page calling it."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO

import pytest

import deployment.api_state
import deployment.website
from deployment.lambda_package import build_zip, code_sha256, handler_zip, package_sources
from tests.moto.deployment.conftest import ACCOUNT, REGION
from tests.moto.deployment.inventory import tagged_resources

NO_MONITORING = ("--set", "monitoring.enabled=false")
WEB_BUCKET = f"pose-dev-{ACCOUNT}-{REGION}-web"


def mutating(calls) -> list[tuple[str, str]]:
    return [(call.service, call.operation) for call in calls if call.mutates]


def outputs(result) -> dict[str, str]:
    return dict(line.split("=", 1) for line in result.out.splitlines() if "=" in line and " " not in line)


def our_api(console) -> dict:
    (api,) = console.client("apigatewayv2").get_apis()["Items"]
    return api


def web_origin(console) -> str:
    (distribution,) = console.client("cloudfront").list_distributions()["DistributionList"]["Items"]
    return f"https://{distribution['DomainName']}"


def test_the_published_page_calls_the_api_the_deploy_reports(run, console):
    result = run("deploy", *NO_MONITORING)

    assert result.code == 0, result.err
    api_url = outputs(result)["api_url"]
    assert api_url == f"https://{our_api(console)['ApiId']}.execute-api.{REGION}.amazonaws.com/predict"
    assert outputs(result)["web_url"] == f"{web_origin(console)}/"
    s3 = console.client("s3")
    page = s3.get_object(Bucket=WEB_BUCKET, Key="index.html")
    html = page["Body"].read().decode()
    assert f'data-api-url="{api_url}"' in html
    assert 'data-model-name="blazepose-heavy"' in html
    assert (page["ContentType"], page["CacheControl"]) == ("text/html; charset=utf-8", "no-cache")


def test_the_api_routes_post_predict_to_the_lambda_for_the_pages_origin_only(run, console):
    assert (
        run("deploy", *NO_MONITORING, "--set", "api.extra_allowed_origins=[http://localhost:8080]").code == 0
    )
    gateway = console.client("apigatewayv2")
    api = our_api(console)
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pose-dev-predict"

    assert api["CorsConfiguration"] == {
        "AllowOrigins": ["http://localhost:8080", web_origin(console)],
        "AllowMethods": ["OPTIONS", "POST"],
        "AllowHeaders": ["content-type"],
        "MaxAge": 3600,
    }
    (integration,) = gateway.get_integrations(ApiId=api["ApiId"])["Items"]
    assert (integration["IntegrationType"], integration["IntegrationUri"]) == ("AWS_PROXY", function_arn)
    assert (integration["PayloadFormatVersion"], integration["TimeoutInMillis"]) == ("2.0", 29000)
    (route,) = gateway.get_routes(ApiId=api["ApiId"])["Items"]
    assert (route["RouteKey"], route["Target"]) == (
        "POST /predict",
        f"integrations/{integration['IntegrationId']}",
    )
    stage = gateway.get_stage(ApiId=api["ApiId"], StageName="$default")
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 20, "ThrottlingRateLimit": 10.0}
    policy = json.loads(console.client("lambda").get_policy(FunctionName="pose-dev-predict")["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
        f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api['ApiId']}/*/POST/predict"
    )


def test_the_lambda_runs_our_handler_zip_as_its_own_least_privilege_role(run, console):
    assert run("deploy", *NO_MONITORING).code == 0
    functions = console.client("lambda")

    found = functions.get_function(FunctionName="pose-dev-predict")["Configuration"]
    assert (found["Runtime"], found["Handler"], found["Timeout"], found["MemorySize"]) == (
        "python3.12",
        "proxy.handler.handler",
        29,
        256,
    )
    assert found["Environment"] == {"Variables": {"ENDPOINT_NAME": "pose-dev"}}
    assert found["CodeSha256"] == code_sha256(handler_zip())
    assert zipfile.ZipFile(BytesIO(handler_zip())).namelist() == [
        "inference/__init__.py",
        "inference/keypoints.py",
        "proxy/__init__.py",
        "proxy/approved.py",
        "proxy/drop_folder.py",
        "proxy/handler.py",
        "proxy/model_files.py",
        "proxy/model_upload.py",
        "proxy/refusals.py",
        "proxy/s3_events.py",
    ]
    iam = console.client("iam")
    assert found["Role"] == iam.get_role(RoleName="pose-dev-predict-lambda")["Role"]["Arn"]
    policy = iam.get_role_policy(RoleName="pose-dev-predict-lambda", PolicyName="execution")["PolicyDocument"]
    resources = [statement["Resource"] for statement in policy["Statement"]]
    assert resources == [
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/pose-dev",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/pose-dev-predict:*",
    ]
    (group,) = console.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]
    assert (group["logGroupName"], group["retentionInDays"]) == ("/aws/lambda/pose-dev-predict", 30)


def test_a_second_deploy_reads_the_public_side_and_changes_nothing(run, account):
    assert run("deploy", *NO_MONITORING).code == 0
    mark = account.mark()

    result = run("deploy", *NO_MONITORING)

    assert result.code == 0 and "plan: no changes" in result.out
    second = account.since(mark)
    assert mutating(second) == []
    assert {call.operation for call in second} >= {
        "GetFunction",
        "GetPolicy",
        "GetApis",
        "GetIntegrations",
        "GetRoutes",
        "GetStage",
        "DescribeLogGroups",
        "GetBucketWebsite",
        "GetBucketPolicy",
        "HeadObject",
    }


def test_new_handler_code_is_deployed_as_code_only(run, account, console, monkeypatch):
    assert run("deploy", *NO_MONITORING).code == 0
    sources = package_sources()
    new_zip = build_zip({**sources, "proxy/handler.py": sources["proxy/handler.py"] + b"\n#\n"})
    monkeypatch.setattr(deployment.api_state, "handler_zip", lambda: new_zip)
    mark = account.mark()

    assert run("deploy", *NO_MONITORING).code == 0

    assert mutating(account.since(mark)) == [("lambda", "UpdateFunctionCode")]
    found = console.client("lambda").get_function(FunctionName="pose-dev-predict")["Configuration"]
    assert found["CodeSha256"] == code_sha256(new_zip)


@pytest.mark.parametrize(
    ("setting", "calls"),
    [
        ("api.throttle_rate_limit=50", [("apigatewayv2", "UpdateStage")]),
        ("api.extra_allowed_origins=[https://pose.example.com]", [("apigatewayv2", "UpdateApi")]),
        ("api.log_retention_days=7", [("cloudwatch-logs", "PutRetentionPolicy")]),
        # The page shows the name (same artifact): uploaded, and CloudFront forgets the old one.
        ("model.name=movenet-thunder", [("s3", "PutObject"), ("cloudfront", "CreateInvalidation")]),
    ],
)
def test_a_setting_changes_only_its_resource(run, account, setting, calls):
    assert run("deploy", *NO_MONITORING).code == 0
    mark = account.mark()

    assert run("deploy", *NO_MONITORING, "--set", setting).code == 0

    assert mutating(account.since(mark)) == calls
    assert run("plan", *NO_MONITORING, "--set", setting).out.splitlines()[-1] == "plan: no changes"


def test_switching_the_page_and_the_api_off_removes_them(run, account, console):
    assert run("deploy", *NO_MONITORING).code == 0
    mark = account.mark()

    result = run("deploy", *NO_MONITORING, "--set", "api.enabled=false", "--set", "webapp.enabled=false")

    assert result.code == 0, result.err
    assert mutating(account.since(mark)) == [
        ("cloudfront", "UpdateDistribution"),  # disabled, then deleted
        ("cloudfront", "DeleteDistribution"),
        ("cloudfront", "DeleteOriginAccessControl"),
        ("s3", "DeleteObjects"),
        ("s3", "DeleteBucket"),
        ("apigatewayv2", "DeleteApi"),
        ("lambda", "DeleteFunction"),
        ("cloudwatch-logs", "DeleteLogGroup"),
        ("iam", "DeleteRolePolicy"),
        ("iam", "DeleteRole"),
    ]
    assert "api_url" not in outputs(result) and "web_url" not in outputs(result)
    assert {kind for kind, _ in tagged_resources(console)} == {
        "bucket",
        "role",
        "model",
        "endpoint-config",
        "endpoint",
        "alarm",
    }


def test_destroy_leaves_no_function_api_log_group_bucket_role_or_distribution(run, console):
    assert run("deploy", *NO_MONITORING).code == 0

    result = run("destroy", *NO_MONITORING)

    assert result.code == 0, result.err
    assert console.client("lambda").list_functions()["Functions"] == []
    assert console.client("apigatewayv2").get_apis()["Items"] == []
    assert console.client("logs").describe_log_groups()["logGroups"] == []
    assert console.client("s3").list_buckets()["Buckets"] == []
    assert console.client("iam").list_roles()["Roles"] == []
    cloudfront = console.client("cloudfront")
    assert cloudfront.list_distributions()["DistributionList"]["Quantity"] == 0
    assert cloudfront.list_origin_access_controls()["OriginAccessControlList"]["Quantity"] == 0
    assert tagged_resources(console) == {}
