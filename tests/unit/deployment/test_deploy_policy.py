"""The deploy role's policy, its boundary and trust, and each run's session policy.

Claims are checked two ways: on the documents' shape, and by evaluating requests against them
(iam_eval.py) — a run holds the intersection of the role's policy and its session policy.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from deployment.boundary_policy import boundary_policy
from deployment.config import load_config
from deployment.deploy_policy import (
    ENVIRONMENTS,
    Project,
    check_isolation,
    deploy_policy,
    trust_policy,
)
from deployment.errors import ConfigError
from deployment.naming import Names
from deployment.session_policy import SESSION_POLICY_LIMIT, packed, session_policy
from tests.conftest import REPO
from tests.unit.deployment.iam_eval import Request, allowed, allowed_in_session, matches

ACCOUNT, REGION = "123456789012", "eu-west-1"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/pose-role-boundary"
TAG = "pose:deployment"
SCALING = {
    "application-autoscaling:service-namespace": "sagemaker",
    "application-autoscaling:scalable-dimension": "sagemaker:variant:DesiredInstanceCount",
}


def config(stage: str = "pr-42", *overrides: str, project: str = "pose"):
    sets = [f"project.name={project}", f"project.stage={stage}", f"project.region={REGION}", *overrides]
    return load_config(REPO / "config.yml", sets)


def policies(stage: str = "pr-42", *overrides: str) -> tuple[dict, dict]:
    """(the role's policy, the run's session policy) for one stage."""
    settings = config(stage, *overrides)
    return deploy_policy(Project.of(settings, ACCOUNT)), session_policy(settings, ACCOUNT)


def stage_arns(stage: str, project: str = "pose") -> list[str]:
    """A real ARN of every resource a stage's deploy makes."""
    names = Names(f"{project}-{stage}", ACCOUNT, REGION)
    sagemaker = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
    bucket, web = names.default_bucket(), names.default_web_bucket()
    return [
        f"arn:aws:s3:::{bucket}",
        f"arn:aws:s3:::{bucket}/{names.prefix}/models/0123/model.tar.gz",
        f"arn:aws:s3:::{web}",
        f"arn:aws:s3:::{web}/index.html",
        names.endpoint_arn(),
        f"{sagemaker}:model/{names.model('definition')}",
        f"{sagemaker}:endpoint-config/{names.endpoint_config('definition')}",
        f"{sagemaker}:monitoring-schedule/{names.monitoring_schedule}",
        f"{sagemaker}:monitoring-schedule/{names.monitoring_schedule}-now",
        f"arn:aws:iam::{ACCOUNT}:role/{names.execution_role}",
        f"arn:aws:iam::{ACCOUNT}:role/{names.function_role}",
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{names.error_alarm}",
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{names.latency_alarm}",
        names.function_arn,
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{names.function_log_group}",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{names.function_log_group}:log-stream:x",
    ]


def scoped_resources(policy: dict) -> list[str]:
    """Every Resource pattern of the statements not left to `*` (those are tag- or action-bound)."""
    found = []
    for statement in policy["Statement"]:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        found += [resource for resource in resources if resource != "*"]
    return found


def actions_of(statement: dict) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


# The name-prefix trap: `pose-pr-4*` reaches pr-42, `pose-pr-*` reaches pr-4.
@pytest.mark.parametrize(
    ("stage", "other"),
    [
        ("pr-42", "pr-4"),
        ("pr-4", "pr-42"),
        ("pr-4", "pr-40"),
        ("pr", "pr-4"),
        ("pr-4", "pr"),
        ("dev", "dev-2"),
        ("dev", "devel"),
        ("pr-42", "dev"),
    ],
)
def test_a_stages_session_reaches_no_resource_of_another_stage(stage, other):
    _, session = policies(stage)
    for arn in stage_arns(other):
        reached = [pattern for pattern in scoped_resources(session) if matches(pattern, arn)]
        assert not reached, f"{stage}'s session reaches {arn} through {reached}"


@pytest.mark.parametrize("stage", ["pr-42", "dev", "pr"])
def test_a_stages_session_reaches_every_resource_of_its_own(stage):
    _, session = policies(stage)
    for arn in stage_arns(stage):
        assert any(matches(pattern, arn) for pattern in scoped_resources(session)), arn


@pytest.mark.parametrize("other_project", ["posex", "pose2", "other"])
def test_the_roles_policy_reaches_no_other_projects_resources(other_project):
    role, _ = policies()
    for arn in stage_arns("pr-42", project=other_project):
        reached = [pattern for pattern in scoped_resources(role) if matches(pattern, arn)]
        assert not reached, f"the role reaches {arn} through {reached}"


def test_names_that_could_overlap_are_refused_for_ci():
    for project in ("pose-pr", "Pose", "p" * 21):
        with pytest.raises(ConfigError):
            check_isolation(project)
    for stage in ("pr-4-x", "pr-", "pr-x", "dev-eu", "a-1-2"):
        with pytest.raises(ConfigError):
            check_isolation("pose", stage)
    for stage in ("dev", "prod", "pr-42", "dev-2", "42"):
        check_isolation("pose", stage)


# What a run for pr-42 may and may not do: (action, resource, context), evaluated on role ∩ session.
NEW_TAG = {f"aws:RequestTag/{TAG}": "pose-pr-42"}
OWN_TAG = {f"aws:ResourceTag/{TAG}": "pose-pr-42"}
DEV_TAG = {f"aws:ResourceTag/{TAG}": "pose-dev"}
SM = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
APIS = f"arn:aws:apigateway:{REGION}::/apis"
TARGET = f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/0123abcd"
ROLE = f"arn:aws:iam::{ACCOUNT}:role"
BUCKET = f"pose-pr-42-{ACCOUNT}-{REGION}"
CF = f"arn:aws:cloudfront::{ACCOUNT}"
# (sts:GetCallerIdentity needs no permission: AWS answers it whatever the policies say.)
ALLOWED = [
    ("cloudfront:CreateDistribution", f"{CF}:distribution/E1ABC", NEW_TAG),
    ("cloudfront:TagResource", f"{CF}:distribution/E1ABC", NEW_TAG),
    ("cloudfront:TagResource", f"{CF}:distribution/E1ABC", {**NEW_TAG, **OWN_TAG}),
    ("cloudfront:UpdateDistribution", f"{CF}:distribution/E1ABC", OWN_TAG),
    ("cloudfront:CreateInvalidation", f"{CF}:distribution/E1ABC", OWN_TAG),
    ("cloudfront:DeleteDistribution", f"{CF}:distribution/E1ABC", OWN_TAG),
    ("cloudfront:GetDistributionConfig", f"{CF}:distribution/E1ABC", {}),
    ("cloudfront:ListDistributions", "*", {}),
    ("cloudfront:CreateOriginAccessControl", f"{CF}:origin-access-control/E2OAC", {}),
    ("s3:PutEncryptionConfiguration", f"arn:aws:s3:::{BUCKET}", {}),
    ("sagemaker:CreateEndpoint", f"{SM}:endpoint/pose-pr-42", {}),
    ("sagemaker:CreateModel", f"{SM}:model/pose-pr-42-model-0123abcd", {}),
    ("sagemaker:DeleteEndpointConfig", f"{SM}:endpoint-config/pose-pr-42-config-0123abcd", {}),
    ("sagemaker:CreateMonitoringSchedule", f"{SM}:monitoring-schedule/pose-pr-42-monitor-now", {}),
    ("sagemaker:ListModels", "*", {}),
    ("s3:CreateBucket", f"arn:aws:s3:::{BUCKET}", {}),
    ("s3:PutObject", f"arn:aws:s3:::{BUCKET}/pose-pr-42/models/0123/model.tar.gz", {}),
    ("s3:PutBucketPolicy", f"arn:aws:s3:::{BUCKET}-web", {}),
    ("ecr:PutImage", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/pose-inference", {}),
    ("ecr:GetAuthorizationToken", "*", {}),
    ("iam:CreateRole", f"{ROLE}/pose-pr-42-sagemaker-execution", {"iam:PermissionsBoundary": BOUNDARY}),
    ("iam:PutRolePolicy", f"{ROLE}/pose-pr-42-predict-lambda", {"iam:PermissionsBoundary": BOUNDARY}),
    ("iam:DeleteRole", f"{ROLE}/pose-pr-42-predict-lambda", {}),
    (
        "iam:PassRole",
        f"{ROLE}/pose-pr-42-sagemaker-execution",
        {"iam:PassedToService": "sagemaker.amazonaws.com"},
    ),
    ("iam:PassRole", f"{ROLE}/pose-pr-42-predict-lambda", {"iam:PassedToService": "lambda.amazonaws.com"}),
    (
        "iam:CreateServiceLinkedRole",
        f"{ROLE}/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
        {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"},
    ),
    ("lambda:CreateFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pose-pr-42-predict", {}),
    (
        "lambda:AddPermission",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pose-pr-42-predict",
        {"lambda:Principal": "apigateway.amazonaws.com"},
    ),
    ("logs:CreateLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/pose-pr-42-predict", {}),
    (
        "cloudwatch:PutMetricAlarm",
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:pose-pr-42-model-latency",
        {},
    ),
    # Tags kept as config.yml says (deployment/resources/tags.py): by name, on this stage's resources.
    ("iam:UntagRole", f"{ROLE}/pose-pr-42-predict-lambda", {}),
    ("lambda:UntagResource", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pose-pr-42-predict", {}),
    (
        "cloudwatch:UntagResource",
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:pose-pr-42-invocation-5xx",
        {},
    ),
    ("logs:UntagResource", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/pose-pr-42-predict", {}),
    ("sagemaker:DeleteTags", f"{SM}:endpoint/pose-pr-42", {}),
    ("apigateway:GET", APIS, {}),
    ("apigateway:POST", APIS, NEW_TAG),
    ("apigateway:POST", f"{APIS}/a1b2c3/integrations", OWN_TAG),
    ("apigateway:POST", f"{APIS}/a1b2c3/stages", {**OWN_TAG, **NEW_TAG}),
    ("apigateway:PATCH", f"{APIS}/a1b2c3/routes/r1", OWN_TAG),
    ("apigateway:DELETE", f"{APIS}/a1b2c3", OWN_TAG),
    ("application-autoscaling:RegisterScalableTarget", TARGET, {**SCALING, **NEW_TAG}),
    ("application-autoscaling:RegisterScalableTarget", TARGET, {**SCALING, **NEW_TAG, **OWN_TAG}),
    ("application-autoscaling:PutScalingPolicy", TARGET, {**SCALING, **OWN_TAG}),
    ("application-autoscaling:DeregisterScalableTarget", TARGET, {**SCALING, **OWN_TAG}),
]
DENIED = [
    # CloudFront: only distributions carrying this stage's tag; never re-tagged to another stage.
    ("cloudfront:CreateDistribution", f"{CF}:distribution/E1ABC", {}),
    ("cloudfront:CreateDistribution", f"{CF}:distribution/E1ABC", {f"aws:RequestTag/{TAG}": "pose-dev"}),
    ("cloudfront:UpdateDistribution", f"{CF}:distribution/E9DEV", DEV_TAG),
    ("cloudfront:DeleteDistribution", f"{CF}:distribution/E9DEV", {}),
    ("cloudfront:TagResource", f"{CF}:distribution/E9DEV", {**NEW_TAG, **DEV_TAG}),
    ("cloudfront:UntagResource", f"{CF}:distribution/E9DEV", DEV_TAG),
    # Other stages and projects, by name.
    ("sagemaker:DeleteEndpoint", f"{SM}:endpoint/pose-pr-4", {}),
    ("sagemaker:DeleteEndpoint", f"{SM}:endpoint/pose-dev", {}),
    ("sagemaker:DeleteModel", f"{SM}:model/pose-pr-420-model-0123abcd", {}),
    ("sagemaker:DeleteEndpoint", f"{SM}:endpoint/other-pr-42", {}),
    ("s3:DeleteBucket", f"arn:aws:s3:::pose-dev-{ACCOUNT}-{REGION}", {}),
    ("s3:DeleteObject", f"arn:aws:s3:::pose-pr-4-{ACCOUNT}-{REGION}/pose-pr-4/models/x", {}),
    ("lambda:UpdateFunctionCode", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pose-pr-4-predict", {}),
    ("logs:DeleteLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/pose-dev-predict", {}),
    ("cloudwatch:DeleteAlarms", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:pose-pr-4-model-latency", {}),
    ("ecr:PutImage", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/someone-else", {}),
    ("iam:UntagRole", f"{ROLE}/pose-dev-predict-lambda", {}),
    ("lambda:UntagResource", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pose-pr-4-predict", {}),
    # Roles: never without the boundary, never edited out of it, passed only to their own service.
    ("iam:CreateRole", f"{ROLE}/pose-pr-42-sagemaker-execution", {}),
    ("iam:CreateRole", f"{ROLE}/pose-pr-42-x", {"iam:PermissionsBoundary": f"{BOUNDARY}-2"}),
    ("iam:PutRolePolicy", f"{ROLE}/pose-pr-42-predict-lambda", {}),
    ("iam:CreateRole", f"{ROLE}/pose-dev-sagemaker-execution", {"iam:PermissionsBoundary": BOUNDARY}),
    ("iam:AttachRolePolicy", f"{ROLE}/pose-pr-42-predict-lambda", {"iam:PermissionsBoundary": BOUNDARY}),
    ("iam:DeleteRolePermissionsBoundary", f"{ROLE}/pose-pr-42-predict-lambda", {}),
    ("iam:UpdateAssumeRolePolicy", f"{ROLE}/pose-pr-42-predict-lambda", {}),
    ("iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/pose-role-boundary", {}),
    (
        "iam:PassRole",
        f"{ROLE}/pose-pr-42-sagemaker-execution",
        {"iam:PassedToService": "lambda.amazonaws.com"},
    ),
    ("iam:PassRole", f"{ROLE}/pose-pr-42-predict-lambda", {"iam:PassedToService": "ec2.amazonaws.com"}),
    ("iam:PassRole", f"{ROLE}/pose-pr-4-predict-lambda", {"iam:PassedToService": "lambda.amazonaws.com"}),
    (
        "iam:CreateServiceLinkedRole",
        f"{ROLE}/aws-service-role/x",
        {"iam:AWSServiceName": "ecs.amazonaws.com"},
    ),
    ("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pose-pr-42-predict", {}),
    (
        "lambda:AddPermission",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pose-pr-42-predict",
        {"lambda:Principal": "*"},
    ),
    # HTTP APIs: only with this stage's tag; never re-tagged.
    ("apigateway:POST", APIS, {}),
    ("apigateway:POST", APIS, {f"aws:RequestTag/{TAG}": "pose-dev"}),
    ("apigateway:DELETE", f"{APIS}/d4e5f6", DEV_TAG),
    ("apigateway:DELETE", f"{APIS}/d4e5f6", {}),
    ("apigateway:PATCH", f"{APIS}/d4e5f6/routes/r1", {f"aws:ResourceTag/{TAG}": "pose-pr-4"}),
    ("apigateway:POST", f"{APIS}/d4e5f6/stages", {**DEV_TAG, **NEW_TAG}),
    ("apigateway:POST", f"arn:aws:apigateway:{REGION}::/tags/arn%3Aaws%3Aapigateway", NEW_TAG),
    # Scalable targets: only SageMaker variants carrying this stage's tag.
    ("application-autoscaling:RegisterScalableTarget", TARGET, {**SCALING, **NEW_TAG, **DEV_TAG}),
    ("application-autoscaling:RegisterScalableTarget", TARGET, SCALING),
    ("application-autoscaling:DeregisterScalableTarget", TARGET, {**SCALING, **DEV_TAG}),
    ("application-autoscaling:PutScalingPolicy", TARGET, SCALING),
    (
        "application-autoscaling:RegisterScalableTarget",
        TARGET,
        {**NEW_TAG, "application-autoscaling:service-namespace": "ecs"},
    ),
    ("application-autoscaling:DeleteScheduledAction", TARGET, {**SCALING, **OWN_TAG}),
]


@pytest.mark.parametrize(("action", "resource", "context"), ALLOWED)
def test_a_pull_request_run_may_do_what_its_deploy_needs(action, resource, context):
    role, session = policies()
    assert allowed_in_session(role, session, Request(action, resource, context))


@pytest.mark.parametrize(("action", "resource", "context"), DENIED)
def test_a_pull_request_run_may_not_reach_beyond_its_stage(action, resource, context):
    role, session = policies()
    assert not allowed_in_session(role, session, Request(action, resource, context))


def test_roles_are_created_and_given_policies_only_under_the_boundary():
    role, _ = policies()
    editing = {
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:PutRolePermissionsBoundary",
    }
    for statement in role["Statement"]:
        if editing & set(actions_of(statement)):
            assert statement["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}}
    assert not any("iam:AttachRolePolicy" in actions_of(s) for s in role["Statement"])


def test_roles_are_passed_only_to_their_own_service():
    role, _ = policies()
    passing = {s["Sid"]: s for s in role["Statement"] if "iam:PassRole" in actions_of(s)}
    assert {sid: (s["Resource"], s["Condition"]) for sid, s in passing.items()} == {
        "PassExecutionRoles": (
            [f"{ROLE}/pose-*-sagemaker-execution"],
            {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
        "PassFunctionRoles": (
            [f"{ROLE}/pose-*-predict-*", f"{ROLE}/pose-*-registry-*"],
            {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        ),
    }


def test_no_statement_grants_a_whole_service():
    role, _ = policies()
    assert not [a for s in role["Statement"] for a in actions_of(s) if re.fullmatch(r"[a-z0-9-]+:\*", a)]


def test_scalable_targets_and_http_apis_are_always_tag_conditioned():
    role, _ = policies()
    for statement in role["Statement"]:
        actions = actions_of(statement)
        if any(a.startswith("application-autoscaling:") and "Describe" not in a for a in actions):
            condition = statement["Condition"]
            assert condition["StringEquals"] == SCALING
            assert any(
                f"aws:ResourceTag/{TAG}" in keys or f"aws:RequestTag/{TAG}" in keys
                for keys in condition.values()
            )
        if any(a.startswith("apigateway:") and a != "apigateway:GET" for a in actions):
            (keys,) = statement["Condition"].values()
            assert set(keys) <= {f"aws:ResourceTag/{TAG}", f"aws:RequestTag/{TAG}"}
            assert not any("/tags" in resource for resource in statement["Resource"])


def test_a_capture_key_is_usable_only_through_s3_and_only_that_key():
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    role, session = policies("pr-42", f"data_capture.kms_key_id={key}")
    through_s3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    assert allowed_in_session(role, session, Request("kms:GenerateDataKey", key, through_s3))
    assert not allowed_in_session(role, session, Request("kms:Decrypt", key, {}))
    assert not allowed_in_session(role, session, Request("kms:Decrypt", f"{key[:-4]}ffff", through_s3))
    assert not allowed(policies()[0], Request("kms:Decrypt", key, through_s3))  # no key configured


def test_the_session_policy_fits_sts_for_the_longest_names():
    longest = config(
        "abcdefghijklm-99",
        "s3.bucket=" + "b" * 63,
        "webapp.bucket=" + "w" * 63,
        "project.region=ap-southeast-2",
        project="abcdefghijklmnopqrst",
    )
    assert len(packed(session_policy(longest, ACCOUNT))) <= SESSION_POLICY_LIMIT
    with_a_key_and_role = config(
        "pr-4242",
        f"data_capture.kms_key_id=arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        f"iam.execution_role_arn=arn:aws:iam::{ACCOUNT}:role/team/{'r' * 40}",
        project="abcdefghijklmnopqrst",
    )
    assert len(packed(session_policy(with_a_key_and_role, ACCOUNT))) <= SESSION_POLICY_LIMIT


def test_a_session_policy_over_the_limit_is_refused_with_the_fix():
    huge = config("pr-42", f"iam.execution_role_arn=arn:aws:iam::{ACCOUNT}:role/{'p' * 500}/{'r' * 64}")
    with pytest.raises(ConfigError, match="over STS's 2048; shorten"):
        packed(session_policy(huge, ACCOUNT))


def test_the_boundary_caps_engine_roles_at_what_the_endpoint_and_lambda_need():
    boundary = boundary_policy(Project.of(config(), ACCOUNT))
    actions = {a for s in boundary["Statement"] for a in actions_of(s)}
    services = {
        "s3",
        "ecr",
        "logs",
        "cloudwatch",
        "sagemaker",
        "kms",
        "iam",
    }  # iam: PassRole, to SageMaker only
    assert {a.split(":")[0] for a in actions} == services
    assert "sagemaker:InvokeEndpoint" in actions and not [a for a in actions if a.endswith("*")]
    assert not allowed(boundary, Request("s3:GetObject", "arn:aws:s3:::other-bucket/x"))
    assert not allowed(boundary, Request("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"))


def credentialed_environments() -> set[str]:
    """The GitHub Environments every job that assumes the AWS role can run in, read from the YAML."""
    found = set()
    for path in (REPO / ".github" / "workflows").glob("*.yml"):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            if not any("configure-aws-credentials@" in step.get("uses", "") for step in job["steps"]):
                continue
            environment = job["environment"]
            name = environment["name"] if isinstance(environment, dict) else environment
            # An expression picks one: `cond && 'a' || 'b'`.
            found |= set(re.findall(r"(?:&&|\|\|)\s*'([^']+)'", name)) if "${{" in name else {name}
    return found


def test_the_trust_admits_exactly_the_environments_the_workflows_use():
    trust = trust_policy(ACCOUNT, "octo/pose")
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {
        "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    }
    (condition,) = statement["Condition"].values()  # StringEquals: exact subjects, no wildcard
    assert condition.pop("token.actions.githubusercontent.com:aud") == "sts.amazonaws.com"
    (subjects,) = condition.values()
    assert sorted(subjects) == [
        f"repo:octo/pose:environment:{name}" for name in sorted(credentialed_environments())
    ]
    assert "StringEquals" in statement["Condition"] and set(ENVIRONMENTS) == credentialed_environments()


def test_the_cli_prints_each_document_for_the_configured_project(capsys, tmp_path, monkeypatch):
    from deployment.cli import main

    account = ["--account-id", ACCOUNT, "--set", "project.name=vision", "--set", "project.stage=pr-7"]
    assert main(["iam-policy", *account]) == 0
    settings = load_config(REPO / "config.yml", ["project.name=vision", "project.stage=pr-7"])
    assert json.loads(capsys.readouterr().out) == deploy_policy(Project.of(settings, ACCOUNT))
    assert main(["iam-policy", "--boundary", *account]) == 0
    assert json.loads(capsys.readouterr().out) == boundary_policy(Project.of(settings, ACCOUNT))
    assert main(["iam-policy", "--trust", "octo/vision", "--environment", "production", *account]) == 0
    assert json.loads(capsys.readouterr().out) == trust_policy(ACCOUNT, "octo/vision", ("production",))

    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    assert main(["iam-policy", "--session", *account]) == 0
    printed = capsys.readouterr().out.strip()
    assert json.loads(printed) == session_policy(settings, ACCOUNT) and " " not in printed
    assert outputs.read_text().splitlines()[1] == printed  # session_policy<<delimiter, the policy, delimiter


@pytest.mark.parametrize(
    "arguments",
    [
        ["--account-id", "not-an-id"],
        ["--account-id", ""],
        ["--account-id", ACCOUNT, "--set", "project.name=pose-estimation"],
        ["--account-id", ACCOUNT, "--session", "--set", "project.stage=pr-4-x"],
        ["--account-id", ACCOUNT, "--trust", "octo/pose", "--environment", "staging"],
    ],
)
def test_the_cli_refuses_what_would_make_an_unsafe_policy(capsys, arguments):
    from deployment.cli import main

    assert main(["iam-policy", *arguments]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_the_evaluator_follows_iam_semantics():
    """The evaluator's own rules, on a policy small enough to read: if it were lenient, every
    'denied' above would prove nothing."""
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/p/*"},
            {
                "Effect": "Allow",
                "Action": "x:Tag",
                "Resource": "*",
                "Condition": {"StringEquals": {"k": ["a", "b"]}, "StringLikeIfExists": {"r": "v-*"}},
            },
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/p/secret"},
        ]
    }
    assert allowed(policy, Request("S3:GETOBJECT", "arn:aws:s3:::b/p/q/r"))  # actions ignore case
    assert not allowed(policy, Request("s3:GetObject", "arn:aws:s3:::B/p/q"))  # resources do not
    assert not allowed(policy, Request("s3:GetObject", "arn:aws:s3:::b/p/secret"))  # deny wins
    assert not allowed(policy, Request("s3:PutObject", "arn:aws:s3:::b/p/q"))  # implicit deny
    assert allowed(policy, Request("x:Tag", "z", {"k": "b"}))  # values are alternatives
    assert not allowed(policy, Request("x:Tag", "z", {}))  # a missing key fails StringEquals
    assert allowed(policy, Request("x:Tag", "z", {"k": "a", "r": "v-1"}))
    assert not allowed(policy, Request("x:Tag", "z", {"k": "a", "r": "w"}))  # IfExists only when absent
    with pytest.raises(ValueError, match="not supported"):
        allowed(
            {"Statement": [{**policy["Statement"][1], "Condition": {"ArnLike": {"k": "a"}}}]},
            Request("x:Tag", "z"),
        )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("project.name", "pose-x"),
        ("project.stage", "pr-4-x"),
        ("project.stage", "dev-eu"),
        ("project.stage", "pr-"),
    ],
)
def test_config_yml_refuses_the_same_names_everywhere_not_only_in_ci(key, value):
    with pytest.raises(ConfigError, match=key):
        load_config(REPO / "config.yml", [f"{key}={value}"])


def test_the_role_policy_and_the_boundary_fit_iams_limits():
    longest = config(
        "pr-42",
        "s3.bucket=" + "b" * 63,
        "webapp.bucket=" + "w" * 63,
        "data_capture.kms_key_id=alias/" + "k" * 200,
        f"iam.execution_role_arn=arn:aws:iam::{ACCOUNT}:role/{'r' * 64}",
        project="abcdefghijklmnopqrst",
    )
    role = json.dumps(deploy_policy(Project.of(longest, ACCOUNT)), separators=(",", ":"))
    boundary = json.dumps(boundary_policy(Project.of(longest, ACCOUNT)), separators=(",", ":"))
    assert len(role) <= 10_240  # an inline role policy (put-role-policy)
    assert len(boundary) <= 6_144  # a managed policy (create-policy)
