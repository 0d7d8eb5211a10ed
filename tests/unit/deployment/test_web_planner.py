"""The planner on the web page's side (private bucket, CloudFront, files) against in-memory accounts."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from deployment.errors import DeploymentError
from deployment.planner import plan, plan_destroy
from deployment.remote import RemoteState, RemoteWeb
from deployment.resources.placeholders import Variable, resolve
from deployment.resources.web_bucket import bucket_policy
from tests.unit.deployment.builders import EPOCH, applied, changes, deployed, desired, steps
from tests.unit.deployment.web_builders import DISTRIBUTION_ARN, DISTRIBUTION_ID, WEB_ORIGIN

BUCKET = "pose-dev-123456789012-us-east-1-web"
WEB = f"s3://{BUCKET}"
WEB_KINDS = {"web-bucket", "web-bucket-policy", "web-oac", "web-distribution", "web-distribution-tags"}
WEB_KINDS |= {"web-file", "web-page", "web-invalidation"}
STATE = desired()


def web_steps(actions) -> list[tuple[str, str, str]]:
    return [step for step in steps(actions) if step[1] in WEB_KINDS]


def web_changes(actions) -> list[tuple[str, str, str]]:
    """The page's and the API's CORS (which names the page's origin): the parts this side decides."""
    return [step for step in changes(actions) if step[1] in WEB_KINDS | {"http-api"}]


def with_web(remote: RemoteState, **parts) -> RemoteState:
    return replace(remote, web=replace(remote.web, **parts))


def the(kind: str, actions):
    (action,) = [action for action in actions if action.kind == kind]
    return action


def test_from_scratch_the_distribution_comes_before_the_api_and_the_files_after():
    actions = plan(STATE, RemoteState())

    kinds = [kind for _, kind, _ in steps(actions)]
    assert kinds.index("web-distribution") < kinds.index("web-bucket-policy") < kinds.index("http-api")
    assert kinds.index("http-api") < kinds.index("web-file") < kinds.index("web-page")
    assert "web-invalidation" not in kinds  # a new distribution has nothing cached
    # Ids CloudFront assigns in this run are left for the executor to fill in.
    assert the("web-distribution", actions).target.access_control_id == Variable("web.access_control_id")
    policy = the("web-bucket-policy", actions).target.document
    assert policy.names == ("web.distribution_arn",)
    assert json.loads(resolve(policy, {"web.distribution_arn": DISTRIBUTION_ARN}, "")) == bucket_policy(
        BUCKET, DISTRIBUTION_ARN
    )
    assert the("http-api", actions).target.api.cors.page_origin_pending


def test_a_deployed_page_changes_nothing():
    actions = plan(STATE, deployed(STATE))

    assert changes(actions) == []
    assert web_steps(actions)[:5] == [
        ("unchanged", "web-bucket", BUCKET),
        ("unchanged", "web-oac", "pose-dev-web"),
        ("unchanged", "web-distribution", "pose-dev-web"),
        ("unchanged", "web-distribution-tags", "pose-dev-web tags"),
        ("unchanged", "web-bucket-policy", BUCKET),
    ]


def test_a_deploy_from_scratch_converges():
    first = plan(STATE, RemoteState())

    assert web_changes(plan(STATE, applied(RemoteState(), first, EPOCH))) == []


def test_the_api_allows_the_distributions_https_origin():
    api = the("http-api", plan(STATE, deployed(STATE))).name

    cors = deployed(STATE).api.api.cors
    assert (api, cors.allow_origins, cors.page_origin_pending) == ("pose-dev-api", (WEB_ORIGIN,), False)


def test_an_api_still_allowing_the_old_http_website_is_moved_to_the_https_origin():
    remote = deployed(STATE)
    old = replace(remote.api.api.cors, allow_origins=(f"http://{BUCKET}.s3-website-us-east-1.amazonaws.com",))
    remote = replace(remote, api=replace(remote.api, api=replace(remote.api.api, cors=old)))

    actions = plan(STATE, remote)

    assert changes(actions) == [("update", "http-api", "pose-dev-api")]
    assert the("http-api", actions).target.cors.allow_origins == (WEB_ORIGIN,)


def test_a_page_switched_on_under_an_existing_api_makes_the_api_allow_its_new_distribution():
    before = desired({"webapp": {"enabled": False}})

    actions = plan(STATE, deployed(before))

    update = the("http-api", actions)
    assert (update.verb, update.target.cors.allow_origins, update.target.cors.page_origin_pending) == (
        "update",
        (Variable("web.origin"),),
        True,  # the executor adds the origin of the distribution it creates just before
    )


def test_an_asset_rewritten_in_place_with_its_old_metadata_is_uploaded_again():
    # S3 keeps no SHA-256 for an object uploaded by other means: its metadata is never read.
    remote = deployed(STATE)
    script, *others = remote.web.files
    remote = with_web(remote, files=(replace(script, sha256=""), *others))

    actions = plan(STATE, remote)

    assert changes(actions) == [
        ("update", "web-file", f"{WEB}/{script.key}"),
        ("create", "web-invalidation", "pose-dev-web"),
    ]
    assert the("web-file", [a for a in actions if a.mutates]).reason == "changed: sha256"
    assert the("web-invalidation", actions).target.paths == ("/static/*",)


def test_a_changed_asset_is_uploaded_a_removed_one_deleted_after_the_page_and_both_invalidated():
    remote = deployed(STATE)
    changed, *others = remote.web.files
    old_asset = replace(changed, key="static/old-name.js")
    remote = with_web(remote, files=(replace(changed, sha256="0" * 64), *others, old_asset))

    actions = plan(STATE, remote)

    assert changes(actions) == [
        ("update", "web-file", f"{WEB}/{changed.key}"),
        ("delete", "web-file", f"{WEB}/static/old-name.js"),
        ("create", "web-invalidation", "pose-dev-web"),
    ]
    invalidation = actions[-1]
    assert (invalidation.reason, invalidation.target.distribution_id) == ("/static/*", DISTRIBUTION_ID)


def test_a_new_model_name_renders_the_page_again_and_invalidates_it_under_both_its_paths():
    after = desired({"model": {"name": "movenet-thunder"}})

    actions = plan(after, deployed(STATE))

    assert changes(actions) == [
        ("update", "web-page", f"{WEB}/index.html"),
        ("create", "web-invalidation", "pose-dev-web"),
    ]
    page = the("web-page", actions)
    assert (page.reason, page.target.model_name) == ("changed: sha256", "movenet-thunder")
    assert the("web-invalidation", actions).target.paths == ("/", "/index.html")


def test_an_invalidation_reference_is_the_same_for_the_same_change_and_new_for_a_change_back():
    remote = deployed(STATE)
    script, *others = remote.web.files
    changed = with_web(remote, files=(replace(script, sha256="0" * 64), *others))

    reference = the("web-invalidation", plan(STATE, changed)).target.reference
    again = the("web-invalidation", plan(STATE, changed)).target.reference
    reverted = the("web-invalidation", plan(desired(), changed)).target.reference

    assert reference == again and reference.startswith("pose-dev-web-")
    back = with_web(remote, files=(replace(script, sha256="1" * 64), *others))
    assert the("web-invalidation", plan(STATE, back)).target.reference not in (reference, reverted)


@pytest.mark.parametrize(
    ("by_hand", "reason"),
    [
        ({"access_block": (True, True, False, False)}, "changed: access_block"),
        ({"encryption": "aws:kms"}, "changed: encryption"),
        ({"website": True}, "changed: website"),  # the plain-HTTP endpoint of earlier versions
        ({"tags": (("pose:deployment", "pose-dev"), ("owner", "me"))}, "changed: tags"),
    ],
)
def test_a_bucket_setting_changed_by_hand_is_repaired(by_hand: dict, reason: str):
    remote = deployed(STATE)
    remote = with_web(remote, bucket=replace(remote.web.bucket, **by_hand))

    actions = plan(STATE, remote)

    assert changes(actions) == [("update", "web-bucket", BUCKET)]
    assert the("web-bucket", actions).reason == reason


def test_a_public_bucket_policy_is_replaced_by_the_one_for_the_distribution():
    remote = deployed(STATE)
    public = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]}
    remote = with_web(remote, policy=replace(remote.web.policy, document=json.dumps(public)))

    actions = plan(STATE, remote)

    assert changes(actions) == [("update", "web-bucket-policy", BUCKET)]
    statements = json.loads(the("web-bucket-policy", actions).target.document)["Statement"]
    assert statements[0]["Condition"] == {"StringEquals": {"AWS:SourceArn": DISTRIBUTION_ARN}}


@pytest.mark.parametrize(
    ("by_hand", "reason"),
    [
        ({"enabled": False}, "changed: enabled"),
        ({"viewer_protocol_policy": "allow-all"}, "changed: viewer_protocol_policy"),
        ({"access_control_id": ""}, "changed: access_control_id"),
        ({"origin_domain": f"{BUCKET}.s3-website-us-east-1.amazonaws.com"}, "changed: origin_domain"),
        ({"price_class": "PriceClass_All"}, "changed: price_class"),
    ],
)
def test_a_distribution_setting_changed_by_hand_is_repaired_on_the_same_distribution(by_hand, reason):
    remote = deployed(STATE)
    remote = with_web(remote, distribution=replace(remote.web.distribution, **by_hand))

    actions = plan(STATE, remote)

    assert changes(actions) == [("update", "web-distribution", "pose-dev-web")]
    update = the("web-distribution", actions)
    assert (update.reason, update.target.distribution_id) == (reason, DISTRIBUTION_ID)
    assert update.target.access_control_id == remote.web.access_control.control_id


def test_distribution_tags_changed_by_hand_are_set_back():
    remote = with_web(deployed(STATE), distribution_tags=(("pose:deployment", "pose-dev"), ("x", "y")))

    actions = plan(STATE, remote)

    assert changes(actions) == [("update", "web-distribution-tags", "pose-dev-web tags")]
    assert the("web-distribution-tags", actions).target.tags == STATE.tags


def test_an_access_control_deleted_by_hand_is_created_and_the_distribution_signs_with_the_new_one():
    remote = deployed(STATE)
    remote = with_web(
        remote, access_control=None, distribution=replace(remote.web.distribution, access_control_id="")
    )

    actions = plan(STATE, remote)

    assert changes(actions) == [
        ("create", "web-oac", "pose-dev-web"),
        ("update", "web-distribution", "pose-dev-web"),
    ]
    # The one created above.
    assert the("web-distribution", actions).target.access_control_id == Variable("web.access_control_id")


def test_a_deploy_stopped_right_after_create_bucket_converges_and_destroy_removes_the_bucket():
    # CreateBucket succeeded; the tag, the settings and everything after never came.
    bare = replace(STATE.web.bucket, access_block=(False, False, False, False), encryption="AES256", tags=())
    remote = RemoteState(web=RemoteWeb(bucket=bare, bucket_is_ours=True))  # empty and untagged: ours

    actions = plan(STATE, remote)

    bucket = the("web-bucket", actions)
    assert (bucket.verb, bucket.target.tags, bucket.target.access_block) == (
        "update",
        STATE.tags,
        (True, True, True, True),
    )
    assert bucket.reason.startswith("empty and untagged")
    assert web_changes(plan(STATE, applied(remote, actions, EPOCH))) == []
    assert steps(plan_destroy(STATE.names, remote)) == [("delete", "web-bucket", BUCKET)]


def test_a_web_bucket_that_is_not_ours_is_never_used():
    state = desired({"webapp": {"bucket": "someone-elses"}})
    remote = with_web(deployed(state), bucket_is_ours=False)

    with pytest.raises(DeploymentError) as raised:
        plan(state, remote)

    assert (raised.value.where, raised.value.hint) == (
        "s3://someone-elses",
        "set webapp.bucket to a new name",
    )


def test_destroy_takes_the_distribution_down_first_and_never_a_bucket_that_is_not_ours():
    remote = with_web(deployed(STATE), bucket_is_ours=False)

    actions = plan_destroy(STATE.names, remote)

    assert web_steps(actions) == [
        ("delete", "web-distribution", "pose-dev-web"),
        ("delete", "web-oac", "pose-dev-web"),
    ]
    assert actions[0].reason == "disabled first, deleted once CloudFront has deployed that (minutes)"


def test_destroy_finds_a_half_deleted_distribution_again():
    remote = deployed(STATE)
    half = replace(remote.web.distribution, enabled=False, status="InProgress")

    first, *_ = plan_destroy(STATE.names, with_web(remote, distribution=half))

    assert (first.verb, first.kind, first.target) == ("delete", "web-distribution", half)
