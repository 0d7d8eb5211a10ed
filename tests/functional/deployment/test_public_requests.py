"""Lambda, API Gateway and CloudWatch Logs requests, exact to the parameter (the page's: test_web_requests).

moto accepts a CORS rule whatever its content; the Stubber does not.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from deployment.aws.functions import Functions
from deployment.aws.http_api import HttpApis
from deployment.aws.identity import Identity
from deployment.lambda_package import handler_zip
from deployment.policies import trust_policy
from deployment.resources.http_api import Cors, HttpApi
from tests.unit.deployment.builders import desired

TAGS = (("owner", "ml-team"), ("pose:deployment", "pose-dev"))
TAG_MAP = {"owner": "ml-team", "pose:deployment": "pose-dev"}
ACCOUNT = "123456789012"
API_ID = "a1b2c3d4e5"
ENDPOINT = f"https://{API_ID}.execute-api.us-east-1.amazonaws.com"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:pose-dev-predict"
WEB_ORIGIN = "https://d111111abcdef8.cloudfront.net"
NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
STATE = desired({"project": {"tags": {"owner": "ml-team"}}})
CORS = {
    "AllowOrigins": ["http://localhost:8080", WEB_ORIGIN],
    "AllowMethods": ["OPTIONS", "POST"],
    "AllowHeaders": ["content-type"],
    "MaxAge": 3600,
}


@pytest.fixture
def lambda_api(stubbed):
    client, stubber = stubbed("lambda")
    logs, logs_stubber = stubbed("logs")
    yield Functions(client, logs), stubber, logs_stubber
    stubber.assert_no_pending_responses()
    logs_stubber.assert_no_pending_responses()


@pytest.fixture
def gateway(stubbed):
    client, stubber = stubbed("apigatewayv2")
    yield HttpApis(client), stubber
    stubber.assert_no_pending_responses()


def test_the_function_is_created_from_the_handler_zip_with_its_settings_and_tags(lambda_api):
    functions, stubber, _ = lambda_api
    stubber.add_response(
        "create_function",
        {"FunctionName": "pose-dev-predict", "FunctionArn": FUNCTION_ARN},
        {
            "FunctionName": "pose-dev-predict",
            "Runtime": "python3.12",
            "Role": f"arn:aws:iam::{ACCOUNT}:role/pose-dev-predict-lambda",
            "Handler": "proxy.handler.handler",
            "Code": {"ZipFile": handler_zip()},
            "Description": "POST /predict of a pose-estimation deployment: calls its SageMaker endpoint",
            "Timeout": 29,
            "MemorySize": 256,
            "Environment": {"Variables": {"ENDPOINT_NAME": "pose-dev"}},
            "Tags": TAG_MAP,
        },
    )

    functions.create(STATE.api.function, TAGS)


def test_new_code_and_new_settings_are_separate_requests(lambda_api):
    functions, stubber, _ = lambda_api
    function = STATE.api.function
    stubber.add_response(
        "update_function_code", {}, {"FunctionName": "pose-dev-predict", "ZipFile": handler_zip()}
    )
    stubber.add_response(
        "update_function_configuration",
        {},
        {
            "FunctionName": "pose-dev-predict",
            "Role": function.role_arn,
            "Runtime": "python3.12",
            "Handler": "proxy.handler.handler",
            "Timeout": 29,
            "MemorySize": 256,
            "Environment": {"Variables": {"ENDPOINT_NAME": "pose-dev"}},
        },
    )

    functions.update_code(function)
    functions.update_configuration(function)


def test_a_function_is_read_back_into_the_desired_shape(lambda_api):
    functions, stubber, _ = lambda_api
    function = STATE.api.function
    stubber.add_response(
        "get_function",
        {
            "Configuration": {
                "FunctionName": "pose-dev-predict",
                "FunctionArn": FUNCTION_ARN,
                "Runtime": "python3.12",
                "Role": function.role_arn,
                "Handler": "proxy.handler.handler",
                "Timeout": 29,
                "MemorySize": 256,
                "Environment": {"Variables": {"ENDPOINT_NAME": "pose-dev"}},
                "CodeSha256": function.code_sha256,
                "State": "Active",
            },
            "Tags": TAG_MAP,
        },
        {"FunctionName": "pose-dev-predict"},
    )

    assert functions.read("pose-dev-predict") == function


def test_a_missing_function_is_none(lambda_api):
    functions, stubber, _ = lambda_api
    stubber.add_client_error("get_function", "ResourceNotFoundException", "Function not found", 404)

    assert functions.read("pose-dev-predict") is None


def test_api_gateway_may_invoke_the_function_from_this_apis_post_predict_only(lambda_api):
    functions, stubber, _ = lambda_api
    source_arn = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/*/POST/predict"
    permission = replace(STATE.api.permission, source_arn=source_arn)
    stubber.add_response(
        "add_permission",
        {"Statement": "{}"},
        {
            "FunctionName": "pose-dev-predict",
            "StatementId": "invoke-from-http-api",
            "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": source_arn,
        },
    )
    statement = {
        "Sid": "invoke-from-http-api",
        "Effect": "Allow",
        "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": FUNCTION_ARN,
        "Condition": {"ArnLike": {"AWS:SourceArn": source_arn}},
    }
    stubber.add_response(
        "get_policy",
        {"Policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})},
        {"FunctionName": "pose-dev-predict"},
    )

    functions.add_permission(permission)

    assert functions.read_permission("pose-dev-predict", "invoke-from-http-api") == permission


def test_the_log_group_is_tagged_and_keeps_logs_for_the_configured_days(lambda_api):
    functions, _, logs = lambda_api
    group = desired({"api": {"log_retention_days": 14}}).api.log_group
    logs.add_response(
        "create_log_group", {}, {"logGroupName": "/aws/lambda/pose-dev-predict", "tags": TAG_MAP}
    )
    logs.add_response(
        "put_retention_policy", {}, {"logGroupName": "/aws/lambda/pose-dev-predict", "retentionInDays": 14}
    )

    functions.create_log_group(group, TAGS)


def test_the_lambda_role_trusts_lambda_and_may_only_invoke_this_endpoint_and_log(stubbed):
    iam, stubber = stubbed("iam")
    role = STATE.api.role
    stubber.add_response(
        "create_role",
        {
            "Role": {
                "Path": "/",
                "RoleName": role.name,
                "RoleId": "AROAEXAMPLEEXAMPLE02",
                "Arn": role.arn,
                "CreateDate": NOW,
            }
        },
        {
            "RoleName": "pose-dev-predict-lambda",
            "AssumeRolePolicyDocument": json.dumps(trust_policy("lambda.amazonaws.com")),
            "Description": "Role of the Lambda behind a pose-estimation deployment's HTTP API",
            "Tags": [{"Key": "owner", "Value": "ml-team"}, {"Key": "pose:deployment", "Value": "pose-dev"}],
            "PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/pose-role-boundary",
        },
    )
    stubber.add_response(
        "put_role_permissions_boundary",
        {},
        {"RoleName": role.name, "PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/pose-role-boundary"},
    )
    stubber.add_response(
        "put_role_policy",
        {},
        {"RoleName": role.name, "PolicyName": "execution", "PolicyDocument": role.policy},
    )

    Identity(iam, None).create_role(role, TAGS)

    assert json.loads(role.policy)["Statement"] == [
        {
            "Sid": "InvokeTheEndpoint",
            "Effect": "Allow",
            "Action": "sagemaker:InvokeEndpoint",
            "Resource": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/pose-dev",
        },
        {
            "Sid": "WriteItsOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/pose-dev-predict:*",
        },
    ]


def test_a_new_api_is_created_with_cors_integration_route_and_throttled_stage(gateway):
    api, stubber = gateway
    state = desired(
        {
            "project": {"tags": {"owner": "ml-team"}},
            "api": {
                "extra_allowed_origins": ["http://localhost:8080"],
                "throttle_rate_limit": 5,
                "throttle_burst_limit": 8,
            },
        }
    ).api
    state = replace(
        state, api=replace(state.api, cors=Cors(tuple(CORS["AllowOrigins"])))
    )  # as the executor adds
    stubber.add_response(
        "create_api",
        {"ApiId": API_ID, "ApiEndpoint": ENDPOINT, "Name": "pose-dev-api", "ProtocolType": "HTTP"},
        {
            "Name": "pose-dev-api",
            "ProtocolType": "HTTP",
            "Description": "Public API of a pose-estimation deployment: POST /predict with a photo",
            "CorsConfiguration": CORS,
            "Tags": TAG_MAP,
        },
    )
    stubber.add_response(
        "create_integration",
        {"IntegrationId": "int0001"},
        {
            "ApiId": API_ID,
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": FUNCTION_ARN,
            "PayloadFormatVersion": "2.0",
            "TimeoutInMillis": 29000,
        },
    )
    stubber.add_response(
        "create_route",
        {"RouteId": "route01"},
        {
            "ApiId": API_ID,
            "RouteKey": "POST /predict",
            "Target": "integrations/int0001",
            "AuthorizationType": "NONE",
        },
    )
    stubber.add_response(
        "create_stage",
        {"StageName": "$default"},
        {
            "ApiId": API_ID,
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingBurstLimit": 8, "ThrottlingRateLimit": 5.0},
            "Tags": TAG_MAP,
        },
    )

    created = api.create(state, TAGS)

    assert (created.api_id, created.predict_url) == (API_ID, f"{ENDPOINT}/predict")


def test_cors_and_throttling_are_updated_in_place(gateway):
    api, stubber = gateway
    stubber.add_response("update_api", {}, {"ApiId": API_ID, "CorsConfiguration": CORS})
    stubber.add_response("delete_cors_configuration", {}, {"ApiId": API_ID})
    stubber.add_response(
        "update_stage",
        {},
        {
            "ApiId": API_ID,
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingBurstLimit": 20, "ThrottlingRateLimit": 10.0},
        },
    )
    cors = Cors(tuple(CORS["AllowOrigins"]))

    api.update_cors(HttpApi("pose-dev-api", cors, API_ID, ENDPOINT))
    api.update_cors(HttpApi("pose-dev-api", None, API_ID, ENDPOINT))
    api.update_stage(replace(STATE.api.stage, api_id=API_ID))


def test_our_api_is_the_one_with_our_name_and_our_tag(gateway):
    api, stubber = gateway
    cors = {
        **CORS,
        "AllowOrigins": [WEB_ORIGIN],
        "AllowMethods": ["POST", "OPTIONS"],
        "AllowHeaders": ["Content-Type"],
    }
    items = [
        {
            "ApiId": "other",
            "ApiEndpoint": "https://other",
            "Name": "pose-dev-api",
            "ProtocolType": "HTTP",
            "RouteSelectionExpression": "x",
            "Tags": {"pose:deployment": "pose-dev2"},
        },
        {
            "ApiId": API_ID,
            "ApiEndpoint": ENDPOINT,
            "Name": "pose-dev-api",
            "ProtocolType": "HTTP",
            "RouteSelectionExpression": "x",
            "Tags": TAG_MAP,
            "CorsConfiguration": cors,
        },
    ]
    stubber.add_response("get_apis", {"Items": items}, {})

    # Read back in any order or case, CORS compares equal to what we asked for (with the page's origin).
    wanted = replace(STATE.api.api, cors=Cors((WEB_ORIGIN,)), api_id=API_ID, endpoint=ENDPOINT)
    assert api.find("pose-dev-api", "pose-dev") == wanted
