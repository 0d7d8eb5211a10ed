"""`.github/workflows/production.yml`, unmodified, run by act on a push to main.

A merge deploys stage prod with the images the merged pull request's run built and tested (found
by its head commit's tag, never rebuilt) and approves the model's registry version; a merge whose
pull request has no images fails with the reason and deploys nothing.
"""

from __future__ import annotations

import pytest

from tests.pipeline.conftest import PullRequests, Scenario
from tests.pipeline.fake_aws import FakeAws
from tests.pipeline.test_pull_request import (
    assert_only_assumed_role_credentials,
    rest_calls,
    session_policies,
)

PRODUCTION_SUB = "repo:octo-org/sagemaker-pose:environment:production"
MERGED_STEP = "The pull request this commit merged, and the commit its images were built from"
IMAGES_STEP = "The images that pull request's run pushed, by digest (nothing is rebuilt)"
# What a prod run may ask of ECR: reading. A push, a new repository or a login would be a build.
ECR_READS = {"DescribeImages", "DescribeRepositories"}
CHANGES_PROD = {"CreateModel", "CreateEndpoint", "UpdateEndpoint", "UpdateModelPackage", "CreateBucket"}


@pytest.fixture(scope="session")
def merged(pull_requests: PullRequests, synchronized: Scenario) -> Scenario:
    """Pull request 1 merged after its second push's run built, deployed and tested it."""
    assert synchronized.run.jobs.get("build") == "success", synchronized.failed(
        "the run that builds the images"
    )
    return pull_requests.merge(1, synchronized.head_sha)


@pytest.fixture(scope="session")
def merged_unbuilt(pull_requests: PullRequests) -> Scenario:
    """Pull request 5 merged though no run of its ever built images (a fork's, say)."""
    sha = pull_requests.push(5, message="a change no run built")
    return pull_requests.merge(5, sha)


@pytest.fixture(scope="session")
def pushed_directly(pull_requests: PullRequests) -> Scenario:
    """A commit pushed to main with no pull request: nothing built it."""
    sha = pull_requests.push(6, message="straight to main")
    return pull_requests.merge(6, sha, through_pull_request=False)


def registry(fake_aws: FakeAws) -> list[dict]:
    sagemaker = fake_aws.console().client("sagemaker")
    listed = sagemaker.list_model_packages(ModelPackageGroupName="pose", SortBy="CreationTime")
    return [
        sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
        for summary in listed["ModelPackageSummaryList"]
    ]


def test_a_merge_deploys_prod_with_the_pull_requests_images_and_approves_its_version(
    merged: Scenario, synchronized: Scenario, fake_aws: FakeAws
):
    assert (merged.run.returncode, merged.run.jobs) == (0, {"deploy": "success"}), merged.failed("the merge")
    # Credentials through the production environment only, narrowed to stage prod.
    assert [token["sub"] for token in merged.tokens] == [PRODUCTION_SUB]
    assert session_policies(merged) == [merged.run.outputs["deploy/stage"]["session_policy"]]
    assert '"arn:aws:sagemaker:*:*:*/pose-prod"' in merged.run.outputs["deploy/stage"]["session_policy"]
    assert_only_assumed_role_credentials(merged)
    # The pull request found by the merge commit, and its images by the commit they were built from.
    (lookup,) = rest_calls(merged)
    assert lookup.path.endswith("/pulls") and lookup.status == 200
    found = merged.run.outputs["deploy/merged"]
    assert (found["number"], found["head-sha"]) == ("1", synchronized.head_sha)
    built = synchronized.run.outputs["build/push"]
    assert merged.run.outputs["deploy/images"] == built
    assert {call.operation for call in merged.calls if call.service == "ecr"} <= ECR_READS
    # Deployed with exactly those digests: the endpoint's model and the monitoring schedule.
    (model,) = [call.params for call in merged.calls if call.operation == "CreateModel"]
    assert model["PrimaryContainer"]["Image"] == built["inference-image"]
    schedule = fake_aws.gaps.schedules["pose-prod-monitor"].config["MonitoringJobDefinition"]
    assert schedule["MonitoringAppSpecification"]["ImageUri"] == built["monitoring-image"]
    assert merged.stage.endpoint["EndpointStatus"] == "InService"
    assert "| endpoint_name | `pose-prod` |" in merged.run.summaries["deploy"][0]
    # The model pull request 1 registered (the same digest and artifact) is now Approved, once.
    (approval,) = [call.params for call in merged.calls if call.operation == "UpdateModelPackage"]
    versions = {v["ModelPackageArn"]: v for v in registry(fake_aws)}
    approved = versions[approval["ModelPackageArn"]]
    assert approved["ModelApprovalStatus"] == "Approved"
    assert approved["InferenceSpecification"]["Containers"][0]["Image"] == built["inference-image"]
    assert approved["CustomerMetadataProperties"]["pose:stage"].startswith("pose-pr-1")
    assert merged.run.outputs["deploy/deploy"]["approved_versions"] == str(approved["ModelPackageVersion"])


def test_a_merge_whose_pull_request_has_no_images_fails_saying_so_and_deploys_nothing(
    merged_unbuilt: Scenario,
):
    run = merged_unbuilt.run
    assert (run.returncode != 0, run.jobs) == (True, {"deploy": "failure"}), merged_unbuilt.failed(
        "the merge"
    )
    assert run.steps["deploy"][IMAGES_STEP] == "failure"
    assert run.errors["deploy"] == [
        "No image to deploy: pose-inference has no image tagged "
        f"{merged_unbuilt.head_sha}, the last commit of pull request #5: its run did not push one (it "
        "failed or was skipped, or the pull request came from a fork), or the image was deleted since. "
        "Production never rebuilds: run that pull request's workflow again, then re-run this one."
    ], run.printed("deploy")[-20:]
    assert {call.operation for call in merged_unbuilt.calls if call.service == "ecr"} <= ECR_READS
    assert {call.operation for call in merged_unbuilt.calls} & CHANGES_PROD == set()
    assert "deploy/deploy" not in run.outputs


def test_a_push_to_main_that_merged_no_pull_request_fails_before_asking_for_credentials(
    pushed_directly: Scenario,
):
    run = pushed_directly.run
    assert (run.returncode != 0, run.jobs) == (True, {"deploy": "failure"}), pushed_directly.failed(
        "the push"
    )
    assert run.steps["deploy"][MERGED_STEP] == "failure"
    (merge_sha,) = {request.path.split("/")[-2] for request in rest_calls(pushed_directly)}
    assert run.errors["deploy"] == [
        f"commit {merge_sha} is not the merge of a pull request: production deploys only the images a "
        "pull request's run built and tested, and builds nothing itself"
    ]
    assert (pushed_directly.tokens, pushed_directly.calls) == ([], [])
