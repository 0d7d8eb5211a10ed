"""The GitHub deploy role's policy grants only what deploy/destroy call, on this project's resources."""

from __future__ import annotations

import json

from deployment.deploy_policy import deploy_policy, trust_policy

# Actions AWS cannot scope to a resource: the only statements allowed a "*" resource.
UNSCOPED = {
    "sts:GetCallerIdentity",
    "ecr:GetAuthorizationToken",
    "sagemaker:List*",
    "sagemaker:DescribeProcessingJob",
    "cloudwatch:DescribeAlarms",
    "iam:CreateServiceLinkedRole",
    "logs:DescribeLogGroups",
}


def test_every_scoped_statement_names_only_this_projects_resources():
    policy = deploy_policy("pose", "123456789012", "eu-west-1")
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        if resources == ["*"]:
            assert set(actions) <= UNSCOPED | {a for a in actions if a.startswith("application-autoscaling:")}
            continue
        for resource in resources:
            # HTTP API ARNs carry generated ids, not names: those are scoped to the region only.
            assert "pose-" in resource or resource.startswith("arn:aws:apigateway:eu-west-1::/"), resource
            assert "123456789012" in resource or resource.startswith(("arn:aws:s3:::", "arn:aws:apigateway:"))


def test_roles_can_only_be_passed_to_sagemaker_and_lambda():
    policy = deploy_policy("pose", "123456789012", "us-east-1")
    (passing,) = [s for s in policy["Statement"] if s["Action"] == "iam:PassRole"]
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": ["sagemaker.amazonaws.com", "lambda.amazonaws.com"]}
    }


def test_the_policy_fits_an_inline_role_policy():
    document = json.dumps(deploy_policy("a-long-project-name", "123456789012", "ap-southeast-2"))
    assert len(document) < 10_240  # IAM's limit for inline role policies


def test_trust_is_limited_to_the_repository_and_sts_audience():
    trust = trust_policy("123456789012", "octo/pose")
    condition = trust["Statement"][0]["Condition"]
    assert condition["StringEquals"] == {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
    assert condition["StringLike"]["token.actions.githubusercontent.com:sub"] == [
        "repo:octo/pose:pull_request",
        "repo:octo/pose:ref:*",
    ]


def test_the_cli_prints_the_policy_for_the_configured_project(capsys):
    from deployment.cli import main

    assert main(["iam-policy", "--account-id", "123456789012", "--set", "project.name=vision"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == deploy_policy("vision", "123456789012", "us-east-1")
    assert main(["iam-policy", "--account-id", "not-an-id"]) == 2
