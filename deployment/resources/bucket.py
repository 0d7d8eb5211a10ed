"""The capture bucket as the engine manages it: every security-relevant setting, as values.

It holds photos of people. The AWS layer reads a live bucket back into the same `Bucket`, so each
setting is compared on its own and a difference becomes one action that restores it.
A bucket the engine does not own (named in `s3.bucket`, someone else's) keeps its owner's settings:
there only this stage's expiry rules and folder are the engine's.

Expiry never lapses: a stage's rules cover its current capture prefix and every earlier one that
still holds photos; each stage has rules of its own, so stages sharing a bucket leave each other's be.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deployment.errors import DeploymentError
from deployment.naming import content_hash
from deployment.policies import canonical, deny_insecure_transport
from deployment.resources.base import Action, Kind, Resource, Run, TagService, Verb

# BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets: all on.
PRIVATE = (True, True, True, True)
EXPIRY_RULE = "expire-captures"  # + " {prefix}": one rule per capture prefix of each stage
LEGACY_EXPIRY_RULE = "expire-captured-requests"  # the single rule of earlier versions, adopted
RULE_ID_LIMIT = 255
# On a versioned bucket an expired photo becomes a noncurrent version: delete that a day later.
NONCURRENT_DAYS = 1


@dataclass(frozen=True)
class Encryption:
    algorithm: str  # AES256 (S3-managed keys) | aws:kms
    kms_key_id: str | None = None


@dataclass(frozen=True)
class ExpiryRule:
    """A lifecycle rule deleting captured photos below `prefix` `days` after they were written."""

    rule_id: str
    prefix: str
    days: int
    enabled: bool = True
    noncurrent_days: int | None = NONCURRENT_DAYS
    # Read back: whether any object is still below `prefix` (an old prefix keeps its rule until empty).
    holds_objects: bool = field(default=True, compare=False)


@dataclass(frozen=True)
class Bucket:
    name: str
    encryption: Encryption | None
    access_block: tuple[bool, bool, bool, bool]
    policy: str  # canonical JSON; "" for none
    expiry_rules: tuple[ExpiryRule, ...]  # this stage's only, by rule id
    root: str = field(default="", compare=False)  # the stage's folder, e.g. "pose-dev"
    # Read back from a bucket that is not ours: why anyone could read it ("" if no one can).
    exposure: str = field(default="", compare=False)

    @property
    def capture_prefix(self) -> str:
        return self.expiry_rules[0].prefix

    @property
    def retention_days(self) -> int:
        return self.expiry_rules[0].days


@dataclass(frozen=True)
class StageRules:
    """What one `bucket-lifecycle` action writes: this stage's rules; other rules stay as they are."""

    bucket: str
    root: str
    rules: tuple[ExpiryRule, ...]


def capture_bucket(
    name: str, root: str, capture_prefix: str, retention_days: int, kms_key_id: str | None
) -> Bucket:
    """The bucket a deploy wants: private, encrypted, TLS only, captures under `capture_prefix` expiring."""
    encryption = Encryption("aws:kms", kms_key_id) if kms_key_id else Encryption("AES256")
    rule = expiry_rule(capture_prefix, retention_days)
    return Bucket(name, encryption, PRIVATE, canonical(tls_only_policy(name)), (rule,), root)


def expiry_rule(prefix: str, days: int) -> ExpiryRule:
    rule_id = f"{EXPIRY_RULE} {prefix}"
    if len(rule_id) > RULE_ID_LIMIT:
        rule_id = f"{EXPIRY_RULE} {prefix.split('/', 1)[0]}/ {content_hash(prefix, 16)}"
    return ExpiryRule(rule_id, prefix, days)


def is_stage_rule(rule_id: str, prefix: str, root: str) -> bool:
    """A lifecycle rule this stage's engine wrote: an expiry rule id, filtering below `{root}/`."""
    engine_rule = rule_id == LEGACY_EXPIRY_RULE or rule_id.startswith(f"{EXPIRY_RULE} ")
    return engine_rule and prefix.startswith(f"{root}/")


def tls_only_policy(bucket: str) -> dict:
    """The bucket refuses every request not made over TLS (the IAM policies grant the rest)."""
    return {"Version": "2012-10-17", "Statement": [deny_insecure_transport(bucket)]}


def bucket_actions(desired: Bucket, current: Bucket | None, ours: bool) -> list[Action]:
    if current is None:
        return [Action(Verb.CREATE, Kind.BUCKET, desired.name, target=desired)]
    lifecycle = _lifecycle(desired, current)
    if not ours:
        _refuse_if_public(current)
        return lifecycle or [Action(Verb.UNCHANGED, Kind.BUCKET, desired.name)]
    actions = [
        # The access block first: it neutralises a public policy or ACL before anything else runs.
        _setting(Kind.BUCKET_ACCESS_BLOCK, desired, current.access_block != desired.access_block, current),
        _setting(Kind.BUCKET_POLICY, desired, current.policy != desired.policy, current),
        _setting(Kind.BUCKET_ENCRYPTION, desired, current.encryption != desired.encryption, current),
    ]
    actions = [action for action in actions if action] + lifecycle
    return actions or [Action(Verb.UNCHANGED, Kind.BUCKET, desired.name)]


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
        return [Action(Verb.DELETE, Kind.BUCKET, current.name, "and every object in it", current)]
    whose = "another stage also uses it" if ours else "the bucket is not ours"
    actions = [
        Action(
            Verb.DELETE, Kind.BUCKET_FOLDER, f"s3://{current.name}/{root}/", f"only this stage's ({whose})"
        )
    ]
    if current.expiry_rules:
        reason = "this stage's expiry rules (its folder is gone)"
        actions.append(
            Action(
                Verb.UPDATE, Kind.BUCKET_LIFECYCLE, current.name, reason, StageRules(current.name, root, ())
            )
        )
    return actions


def _setting(kind: Kind, desired: Bucket, differs: bool, current: Bucket) -> Action | None:
    if not differs:
        return None
    found = getattr(current, _SETTINGS[kind])
    reason = "missing" if found in ("", None, (False, False, False, False)) else "changed outside the engine"
    return Action(Verb.UPDATE, kind, desired.name, reason, desired)


def _lifecycle(desired: Bucket, current: Bucket) -> list[Action]:
    rules = wanted_rules(desired, current)
    if tuple(sorted(current.expiry_rules, key=_by_id)) == rules:
        return []
    kept = [rule.prefix for rule in rules if rule.prefix != desired.capture_prefix]
    reason = "capture expiry" + (f", kept on {', '.join(kept)} until it is empty" if kept else "")
    return [
        Action(
            Verb.UPDATE,
            Kind.BUCKET_LIFECYCLE,
            desired.name,
            reason,
            StageRules(desired.name, desired.root, rules),
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


_SETTINGS = {
    Kind.BUCKET_ACCESS_BLOCK: "access_block",
    Kind.BUCKET_POLICY: "policy",
    Kind.BUCKET_ENCRYPTION: "encryption",
}


class BucketResource(Resource):
    kind = Kind.BUCKET
    tag_service = TagService.S3

    def create(self, run: Run, action: Action) -> None:
        run.aws.storage.create_bucket(action.target, run.tags)

    def delete(self, run: Run, action: Action) -> None:
        run.aws.storage.delete_bucket(action.name)

    def tag_arn(self, region: str, account_id: str, name: str, api_id: str = "") -> str:
        return name  # S3 tags a bucket by its name


class AccessBlockResource(Resource):
    kind = Kind.BUCKET_ACCESS_BLOCK

    def update(self, run: Run, action: Action) -> None:
        run.aws.storage.put_access_block(action.target)


class BucketPolicyResource(Resource):
    kind = Kind.BUCKET_POLICY

    def update(self, run: Run, action: Action) -> None:
        run.aws.storage.put_policy(action.target)


class EncryptionResource(Resource):
    kind = Kind.BUCKET_ENCRYPTION

    def update(self, run: Run, action: Action) -> None:
        run.aws.storage.put_encryption(action.target)


class LifecycleResource(Resource):
    kind = Kind.BUCKET_LIFECYCLE

    def update(self, run: Run, action: Action) -> None:
        run.aws.storage.put_stage_rules(action.target)


class FolderResource(Resource):
    """One stage's folder in a bucket it shares: deleted alone by destroy."""

    kind = Kind.BUCKET_FOLDER

    def delete(self, run: Run, action: Action) -> None:
        bucket, _, prefix = action.name.removeprefix("s3://").partition("/")
        run.aws.storage.delete_folder(bucket, prefix)


RESOURCES = (
    BucketResource(),
    AccessBlockResource(),
    BucketPolicyResource(),
    EncryptionResource(),
    LifecycleResource(),
    FolderResource(),
)
