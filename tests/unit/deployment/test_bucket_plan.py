"""The capture bucket against in-memory accounts: each setting read back and restored, expiry never lapsing."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from deployment.errors import DeploymentError
from deployment.planner import plan, plan_destroy
from deployment.remote import RemoteState
from deployment.resources.bucket import (
    LEGACY_EXPIRY_RULE,
    PRIVATE,
    Encryption,
    ExpiryRule,
    StageRules,
    expiry_rule,
    is_stage_rule,
)
from tests.unit.deployment.builders import EPOCH, applied, changes, deployed, desired

STATE = desired()
BUCKET = STATE.bucket.name
SHARED = desired({"s3": {"bucket": "team-bucket"}})
PUBLIC_READ = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}],
    }
)


def with_bucket(state, **settings) -> RemoteState:
    remote = deployed(state)
    return replace(remote, bucket=replace(remote.bucket, **settings))


def bucket_changes(actions) -> list[tuple[str, str, str]]:
    return [(verb, kind, reason) for verb, kind, reason in _reasons(actions) if kind.startswith("bucket")]


def _reasons(actions):
    return [(action.verb, action.kind, action.reason) for action in actions if action.mutates]


def test_a_new_bucket_is_wanted_private_encrypted_tls_only_with_its_captures_expiring():
    bucket = STATE.bucket

    assert (bucket.access_block, bucket.encryption) == (PRIVATE, Encryption("AES256"))
    (statement,) = json.loads(bucket.policy)["Statement"]
    assert (statement["Effect"], statement["Condition"]) == (
        "Deny",
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    assert bucket.expiry_rules == (
        ExpiryRule("expire-captures pose-dev/data-capture/", "pose-dev/data-capture/", 30, True, 1),
    )


def test_a_kms_key_in_config_is_the_buckets_default_encryption():
    key = "alias/pose-captures"

    assert desired({"data_capture": {"kms_key_id": key}}).bucket.encryption == Encryption("aws:kms", key)


def test_every_setting_changed_by_hand_is_restored_one_action_each_then_nothing():
    remote = with_bucket(
        STATE, access_block=(False,) * 4, policy=PUBLIC_READ, encryption=None, expiry_rules=()
    )

    actions = plan(STATE, remote)

    assert bucket_changes(actions) == [
        ("update", "bucket-access-block", "missing"),
        ("update", "bucket-policy", "changed outside the engine"),
        ("update", "bucket-encryption", "missing"),
        ("update", "bucket-lifecycle", "capture expiry"),
    ]
    assert changes(plan(STATE, applied(remote, actions, EPOCH))) == []


def test_an_untouched_bucket_plans_nothing():
    assert changes(plan(STATE, deployed(STATE))) == []


def test_a_new_capture_prefix_keeps_expiry_on_the_old_one_while_it_holds_photos():
    moved = desired({"s3": {"capture_prefix": "captures-v2"}})
    remote = deployed(STATE)

    actions = plan(moved, remote)

    (lifecycle,) = [action for action in actions if action.kind == "bucket-lifecycle"]
    assert lifecycle.target == StageRules(
        BUCKET,
        "pose-dev",
        (
            ExpiryRule("expire-captures pose-dev/captures-v2/", "pose-dev/captures-v2/", 30, True, 1),
            ExpiryRule("expire-captures pose-dev/data-capture/", "pose-dev/data-capture/", 30, True, 1),
        ),
    )
    assert lifecycle.reason == "capture expiry, kept on pose-dev/data-capture/ until it is empty"
    after = applied(remote, actions, EPOCH)
    assert changes(plan(moved, after)) == []  # still holding photos: both rules stay

    emptied = replace(
        after.bucket,
        expiry_rules=tuple(replace(rule, holds_objects=False) for rule in after.bucket.expiry_rules),
    )
    (lifecycle,) = [a for a in plan(moved, replace(after, bucket=emptied)) if a.mutates]
    assert [rule.prefix for rule in lifecycle.target.rules] == ["pose-dev/captures-v2/"]


def test_a_new_retention_applies_to_every_prefix_still_holding_photos():
    remote = with_bucket(STATE, expiry_rules=(*STATE.bucket.expiry_rules, expiry_rule("pose-dev/old/", 30)))

    (lifecycle,) = [a for a in plan(desired({"data_capture": {"retention_days": 7}}), remote) if a.mutates]

    assert [(rule.prefix, rule.days) for rule in lifecycle.target.rules] == [
        ("pose-dev/data-capture/", 7),
        ("pose-dev/old/", 7),
    ]


def test_the_single_rule_of_earlier_versions_is_replaced_by_this_stages_own():
    legacy = replace(STATE.bucket.expiry_rules[0], rule_id=LEGACY_EXPIRY_RULE, noncurrent_days=None)

    (lifecycle,) = [a for a in plan(STATE, with_bucket(STATE, expiry_rules=(legacy,))) if a.mutates]

    assert lifecycle.target.rules == STATE.bucket.expiry_rules


@pytest.mark.parametrize(
    ("rule_id", "prefix", "stage"),
    [
        ("expire-captures pose-dev/data-capture/", "pose-dev/data-capture/", True),
        (LEGACY_EXPIRY_RULE, "pose-dev/data-capture/", True),
        ("expire-captures pose-dev2/data-capture/", "pose-dev2/data-capture/", False),  # another stage
        (LEGACY_EXPIRY_RULE, "pose-pr-7/data-capture/", False),  # another stage's, not yet migrated
        ("team-logs", "pose-dev/logs/", False),  # the owner's own rule, even below our folder
    ],
)
def test_a_stage_manages_only_its_own_rules(rule_id: str, prefix: str, stage: bool):
    assert is_stage_rule(rule_id, prefix, "pose-dev") is stage


def test_stages_sharing_a_bucket_have_rules_of_their_own():
    rules = [
        desired({"s3": {"bucket": "team-bucket"}, "project": {"stage": s}}).bucket.expiry_rules for s in "ab"
    ]

    assert [rule.rule_id for (rule,) in rules] == [
        "expire-captures pose-a/data-capture/",
        "expire-captures pose-b/data-capture/",
    ]


def test_a_very_long_prefix_gets_a_rule_id_s3_accepts():
    rule = expiry_rule("pose-dev/" + "x" * 300 + "/", 30)

    assert len(rule.rule_id) <= 255 and is_stage_rule(rule.rule_id, rule.prefix, "pose-dev")


def test_a_shared_bucket_keeps_its_owners_settings_and_gets_only_this_stages_rules():
    theirs = dict(
        encryption=Encryption("aws:kms", "team-key"), access_block=(True, True, False, False), policy="{}"
    )
    same = replace(with_bucket(SHARED, **theirs), bucket_is_ours=False)
    assert changes(plan(SHARED, same)) == []

    stale = replace(with_bucket(SHARED, **theirs, expiry_rules=()), bucket_is_ours=False)
    assert bucket_changes(plan(SHARED, stale)) == [("update", "bucket-lifecycle", "capture expiry")]


def test_a_public_shared_bucket_is_refused_before_anything_is_written():
    remote = replace(
        with_bucket(SHARED, exposure="its bucket policy allows public access"), bucket_is_ours=False
    )

    with pytest.raises(DeploymentError) as raised:
        plan(SHARED, remote)

    assert str(raised.value) == (
        "s3://team-bucket: the bucket is public (its bucket policy allows public access); captured photos "
        "of people must not be readable by anyone (hint: turn on its Block Public Access settings, or set "
        "s3.bucket to a private bucket)"
    )


def test_destroy_deletes_a_bucket_that_is_ours_alone():
    assert plan_destroy(STATE.names, deployed(STATE))[-1].name == BUCKET


@pytest.mark.parametrize(
    ("ours", "shared", "why"),
    [(False, False, "the bucket is not ours"), (True, True, "another stage also uses it")],
)
def test_destroy_of_a_shared_bucket_removes_only_this_stages_folder_and_rules(ours, shared, why):
    remote = replace(deployed(SHARED), bucket_is_ours=ours, bucket_shared=shared)

    actions = plan_destroy(SHARED.names, remote)[-2:]

    assert [(a.verb, a.kind, a.name, a.reason) for a in actions] == [
        ("delete", "bucket-folder", "s3://team-bucket/pose-dev/", f"only this stage's ({why})"),
        ("update", "bucket-lifecycle", "team-bucket", "this stage's expiry rules (its folder is gone)"),
    ]
    assert actions[1].target == StageRules("team-bucket", "pose-dev", ())
