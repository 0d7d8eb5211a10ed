"""The capture bucket as the engine manages it: every security-relevant setting, as values.

It holds photos of people. The AWS layer reads a live bucket back into the same `Bucket`, so each
setting is compared on its own and a difference becomes one action that restores it.
A bucket the engine does not own (named in `s3.bucket`, someone else's) keeps its owner's settings:
there only this stage's expiry rules and folder are the engine's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deployment.naming import content_hash
from deployment.policies import canonical, deny_insecure_transport

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
