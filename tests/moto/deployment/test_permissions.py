"""What the engine calls, its deploy role allows.

Every AWS operation of a deploy, an update, `monitor --now`, `status`, `batch`, `models` and `destroy` (everything on:
autoscaling, the API, the page) is mapped to the IAM action AWS checks for it, and must be granted
by the deploy role's policy and by the run's session policy. This is the action level: which
resources and conditions each statement admits is tests/unit/deployment/test_deploy_policy.py's.
A new AWS call the policies forget fails here, before a user's first pull request does.
"""

from __future__ import annotations

import botocore.session
import pytest

from deployment.config import load_config
from deployment.deploy_policy import Project, deploy_policy
from deployment.session_policy import session_policy
from tests.moto.deployment.conftest import ACCOUNT, REGION, SHIPPED
from tests.moto.deployment.test_monitor import JOB, JOB_ARN, execution
from tests.unit.deployment.iam_eval import matches

EVERYTHING = (
    "--set",
    "autoscaling.enabled=true",
    "--set",
    "alerts.emails=[oncall@example.com]",
    "--set",
    "monitoring.max_memory_percent=90",
    "--set",
    "batch.drop_folder.enabled=true",
    "--set",
    "registry.deploy_on_approval=dev",
    "--set",
    "registry.upload_prefix=uploads",
)
PREFIXES = {
    "application-auto-scaling": "application-autoscaling",
    "cloudwatch-logs": "logs",
    "eventbridge": "events",
}
# Operations whose IAM action is not `{prefix}:{operation}` (the Service Authorization Reference).
S3_ACTIONS = {
    "HeadBucket": ["s3:ListBucket"],
    "HeadObject": ["s3:GetObject"],
    "ListObjects": ["s3:ListBucket"],
    "ListObjectsV2": ["s3:ListBucket"],
    "ListObjectVersions": ["s3:ListBucketVersions"],
    "DeleteObjects": ["s3:DeleteObject"],
    "CopyObject": ["s3:GetObject", "s3:PutObject"],
    "PutBucketEncryption": ["s3:PutEncryptionConfiguration"],
    "GetBucketEncryption": ["s3:GetEncryptionConfiguration"],
    "DeleteBucketEncryption": ["s3:PutEncryptionConfiguration"],
    "PutPublicAccessBlock": ["s3:PutBucketPublicAccessBlock"],
    "GetPublicAccessBlock": ["s3:GetBucketPublicAccessBlock"],
    "DeletePublicAccessBlock": ["s3:PutBucketPublicAccessBlock"],
    "PutBucketLifecycleConfiguration": ["s3:PutLifecycleConfiguration"],
    "GetBucketLifecycleConfiguration": ["s3:GetLifecycleConfiguration"],
    "DeleteBucketLifecycle": ["s3:PutLifecycleConfiguration"],
    "DeleteBucketTagging": ["s3:PutBucketTagging"],
    "DeleteBucketOwnershipControls": ["s3:PutBucketOwnershipControls"],
}
OTHER_ACTIONS = {
    ("cloudfront", "CreateDistributionWithTags"): ["cloudfront:CreateDistribution", "cloudfront:TagResource"],
    ("cloudwatch-logs", "ListTagsLogGroup"): ["logs:ListTagsLogGroup"],
}
_MODELS = botocore.session.get_session()


def iam_actions(service: str, operation: str) -> list[str]:
    if service == "s3" and operation in S3_ACTIONS:
        return S3_ACTIONS[operation]
    if (service, operation) in OTHER_ACTIONS:
        return OTHER_ACTIONS[(service, operation)]
    if service == "apigatewayv2":  # API Gateway authorises by HTTP method on the resource path
        model = _MODELS.get_service_model("apigatewayv2").operation_model(operation)
        return [f"apigateway:{model.http['method']}"]
    return [f"{PREFIXES.get(service, service)}:{operation}"]


def grants(policy: dict, action: str) -> bool:
    """Some Allow statement of `policy` names `action` (IAM action names are case-insensitive)."""
    for statement in policy["Statement"]:
        patterns = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Effect"] == "Allow" and any(matches(p, action, case_sensitive=False) for p in patterns):
            return True
    return False


@pytest.fixture
def engine_actions(run, account, clock, console) -> dict[str, str]:
    """IAM action -> the first operation that needs it, over a whole life of a stage."""
    assert run("deploy", *EVERYTHING).code == 0
    assert run("deploy", *EVERYTHING, "--set", "data_capture.sampling_percent=50").code == 0  # an update
    account.executions["pose-dev-monitor-now"] = [[execution("Completed", ProcessingJobArn=JOB_ARN)]]
    account.exit_messages[JOB] = "Completed: no violations"
    assert run("monitor", "--now", *EVERYTHING).code == 0
    assert run("status", *EVERYTHING).code == 0
    bucket = f"pose-dev-{ACCOUNT}-{REGION}"
    console.client("s3").put_object(Bucket=bucket, Key="pose-dev/batch-input/a.jpg", Body=b"photo")
    assert run("batch", *EVERYTHING, f"s3://{bucket}/pose-dev/batch-input/").code == 0
    assert run("models", *EVERYTHING).code == 0
    assert run("destroy", *EVERYTHING).code == 0
    needed: dict[str, str] = {}
    for call in account.calls:
        for action in iam_actions(call.service, call.operation):
            needed.setdefault(action, f"{call.service} {call.operation}")
    return needed


def test_every_call_of_a_stages_life_is_granted_by_the_role_and_the_session(engine_actions):
    config = load_config(SHIPPED, EVERYTHING[1::2])
    role = deploy_policy(Project.of(config, ACCOUNT))
    session = session_policy(config, ACCOUNT)
    assert len(engine_actions) > 60  # the whole life was exercised: buckets, SageMaker, API, page...
    missing_in_role = {action: call for action, call in engine_actions.items() if not grants(role, action)}
    missing_in_session = {
        action: call for action, call in engine_actions.items() if not grants(session, action)
    }
    assert missing_in_role == {}, f"the deploy role's policy lacks (action: first call) {missing_in_role}"
    assert missing_in_session == {}, f"the session policy lacks (action: first call) {missing_in_session}"
