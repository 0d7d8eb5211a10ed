"""The capture bucket's part of a plan: one action per setting that differs. Pure, like planner.py.

Expiry never lapses: a stage's rules cover its current capture prefix and every earlier one that
still holds photos; each stage has rules of its own, so stages sharing a bucket leave each other's be.
"""

from __future__ import annotations

from deployment.actions import Action
from deployment.bucket_state import Bucket, ExpiryRule, StageRules, expiry_rule
from deployment.errors import DeploymentError


def bucket_actions(desired: Bucket, current: Bucket | None, ours: bool) -> list[Action]:
    if current is None:
        return [Action("create", "bucket", desired.name, target=desired)]
    lifecycle = _lifecycle(desired, current)
    if not ours:
        _refuse_if_public(current)
        return lifecycle or [Action("unchanged", "bucket", desired.name)]
    actions = [
        # The access block first: it neutralises a public policy or ACL before anything else runs.
        _setting("bucket-access-block", desired, current.access_block != desired.access_block, current),
        _setting("bucket-policy", desired, current.policy != desired.policy, current),
        _setting("bucket-encryption", desired, current.encryption != desired.encryption, current),
    ]
    actions = [action for action in actions if action] + lifecycle
    return actions or [Action("unchanged", "bucket", desired.name)]


def wanted_rules(desired: Bucket, current: Bucket | None) -> tuple[ExpiryRule, ...]:
    """The current prefix's rule, and one for every earlier prefix of this stage still holding photos."""
    (rule,) = desired.expiry_rules
    earlier = {
        old.prefix
        for old in (current.expiry_rules if current else ())
        if old.prefix != rule.prefix and old.holds_objects
    }
    return tuple(sorted([rule, *(expiry_rule(prefix, rule.days) for prefix in earlier)], key=_by_id))


def destroy_bucket(root: str, current: Bucket | None, ours: bool, shared: bool) -> list[Action]:
    """The whole bucket when it is ours alone; otherwise this stage's folder and expiry rules only."""
    if current is None:
        return []
    if ours and not shared:
        return [Action("delete", "bucket", current.name, "and every object in it", current)]
    whose = "another stage also uses it" if ours else "the bucket is not ours"
    actions = [
        Action("delete", "bucket-folder", f"s3://{current.name}/{root}/", f"only this stage's ({whose})")
    ]
    if current.expiry_rules:
        reason = "this stage's expiry rules (its folder is gone)"
        actions.append(
            Action("update", "bucket-lifecycle", current.name, reason, StageRules(current.name, root, ()))
        )
    return actions


def _setting(kind: str, desired: Bucket, differs: bool, current: Bucket) -> Action | None:
    if not differs:
        return None
    field = {
        "bucket-access-block": "access_block",
        "bucket-policy": "policy",
        "bucket-encryption": "encryption",
    }
    found = getattr(current, field[kind])
    reason = "missing" if found in ("", None, (False, False, False, False)) else "changed outside the engine"
    return Action("update", kind, desired.name, reason, desired)


def _lifecycle(desired: Bucket, current: Bucket) -> list[Action]:
    rules = wanted_rules(desired, current)
    if tuple(sorted(current.expiry_rules, key=_by_id)) == rules:
        return []
    kept = [rule.prefix for rule in rules if rule.prefix != desired.capture_prefix]
    reason = "capture expiry" + (f", kept on {', '.join(kept)} until it is empty" if kept else "")
    return [
        Action(
            "update", "bucket-lifecycle", desired.name, reason, StageRules(desired.name, desired.root, rules)
        )
    ]


def _refuse_if_public(current: Bucket) -> None:
    """Captured photos of people never go to a bucket anyone can read."""
    if current.exposure:
        raise DeploymentError(
            f"the bucket is public ({current.exposure}); captured photos of people must not be readable by anyone",
            where=f"s3://{current.name}",
            hint="turn on its Block Public Access settings, or set s3.bucket to a private bucket",
        )


def _by_id(rule: ExpiryRule) -> str:
    return rule.rule_id
