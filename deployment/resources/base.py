"""The vocabulary every resource module shares: kinds, verbs, actions, and how a handler is run.

A plan is a list of `Action`s: what to do to which resource, and why. The executor looks each
action's kind up in the registry (`deployment.resources.REGISTRY`) and calls that kind's
`Resource.create`, `update` or `delete` with a `Run`: the AWS clients, the tags, the clock, and
the values earlier actions of the same run produced (see placeholders.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from botocore.exceptions import ClientError

from deployment.errors import DeploymentError, error_code

if TYPE_CHECKING:
    from deployment.aws import Aws
    from deployment.config import Config
    from deployment.naming import Names
    from deployment.remote import Lookup

log = logging.getLogger(__name__)

Tags = tuple[tuple[str, str], ...]


class Kind(StrEnum):
    """Every kind of resource the engine manages; each has one handler in the registry."""

    BUCKET = "bucket"
    BUCKET_ACCESS_BLOCK = "bucket-access-block"
    BUCKET_POLICY = "bucket-policy"
    BUCKET_ENCRYPTION = "bucket-encryption"
    BUCKET_LIFECYCLE = "bucket-lifecycle"
    BUCKET_FOLDER = "bucket-folder"
    ROLE = "role"
    ARTIFACT = "artifact"
    MODEL = "model"
    ENDPOINT_CONFIG = "endpoint-config"
    ALARM = "alarm"
    ENDPOINT = "endpoint"
    AUTOSCALING = "autoscaling"
    MONITORING_SCHEDULE = "monitoring-schedule"
    LOG_GROUP = "log-group"
    FUNCTION = "function"
    FUNCTION_CODE = "function-code"
    HTTP_API = "http-api"
    API_INTEGRATION = "api-integration"
    API_ROUTE = "api-route"
    API_STAGE = "api-stage"
    LAMBDA_PERMISSION = "lambda-permission"
    WEB_BUCKET = "web-bucket"
    WEB_BUCKET_POLICY = "web-bucket-policy"
    WEB_OAC = "web-oac"
    WEB_DISTRIBUTION = "web-distribution"
    WEB_DISTRIBUTION_TAGS = "web-distribution-tags"
    WEB_FILE = "web-file"
    WEB_PAGE = "web-page"
    WEB_INVALIDATION = "web-invalidation"
    ALERT_KEY = "alert-key"
    ALERT_TOPIC = "alert-topic"
    ALERT_SUBSCRIPTION = "alert-subscription"
    ALERT = "alert"
    DASHBOARD = "dashboard"
    DROP_FOLDER = "drop-folder"
    MODEL_GROUP = "model-group"
    MODEL_VERSION = "model-version"
    APPROVAL_DEPLOY = "approval-deploy"
    MODEL_UPLOAD = "model-upload"
    TAGS = "tags"


class Verb(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"


class TagService(StrEnum):
    """How a kind's tags are read and changed: each service spells tagging its own way."""

    S3 = "s3"
    IAM = "iam"
    SAGEMAKER = "sagemaker"
    CLOUDWATCH = "cloudwatch"
    LAMBDA = "lambda"
    LOGS = "logs"
    APIGATEWAY = "apigateway"
    SNS = "sns"
    KMS = "kms"


@dataclass(frozen=True)
class Action:
    verb: Verb
    kind: Kind
    name: str
    reason: str = ""
    target: object = None  # the desired resource for create/update; the remote one for delete

    def __post_init__(self) -> None:
        # Plain strings are accepted and checked, so a misspelt kind or verb fails where it is made.
        object.__setattr__(self, "verb", Verb(self.verb))
        object.__setattr__(self, "kind", Kind(self.kind))

    @property
    def mutates(self) -> bool:
        return self.verb != Verb.UNCHANGED

    def to_json(self) -> dict:
        return {
            "action": str(self.verb),
            "resource": str(self.kind),
            "name": self.name,
            "reason": self.reason,
        }


def compare(kind: Kind, name: str, desired: object, remote: object | None) -> Action:
    if remote is None:
        return Action(Verb.CREATE, kind, name, target=desired)
    if remote != desired:
        return Action(Verb.UPDATE, kind, name, differences(desired, remote), desired)
    return Action(Verb.UNCHANGED, kind, name)


def exists(kind: Kind, name: str, desired: object, found: bool) -> Action:
    return Action(Verb.UNCHANGED, kind, name) if found else Action(Verb.CREATE, kind, name, target=desired)


def differences(desired: object, remote: object) -> str:
    """The compared fields that differ (ids AWS assigns and local-only fields are not compared)."""
    compared = [f.name for f in fields(desired) if f.compare]  # type: ignore[arg-type]
    changed = [key for key in compared if getattr(desired, key) != getattr(remote, key, None)]
    return "changed: " + ", ".join(changed)


@dataclass(frozen=True)
class Clock:
    """Injected so tests can fake a 20-minute endpoint creation without sleeping."""

    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class WaitPolicy:
    poll_seconds: float = 30.0
    endpoint_timeout_seconds: float = 3600.0
    role_propagation_attempts: int = 12  # a new IAM role takes seconds to be assumable
    function_poll_seconds: float = 2.0
    function_timeout_seconds: float = 300.0
    distribution_poll_seconds: float = 20.0
    distribution_timeout_seconds: float = 2700.0  # CloudFront deploys in minutes, rarely past half an hour


Outputs = Mapping[str, str] | None  # values a handler learnt (ids AWS assigned) for later actions


@dataclass
class Run:
    """What a handler works with during one `apply`."""

    aws: Aws
    tags: Tags
    report: Callable[[str], None] = print
    clock: Clock = field(default_factory=Clock)
    waits: WaitPolicy = field(default_factory=WaitPolicy)
    # Undo steps for a run that fails part way (e.g. autoscaling paused for an endpoint update).
    on_failure: list[Callable[[], None]] = field(default_factory=list)

    def pause(
        self,
        elapsed: float,
        what: str,
        timeout_seconds: float | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        if elapsed >= (timeout_seconds or self.waits.endpoint_timeout_seconds):
            raise DeploymentError(f"gave up waiting after {elapsed:.0f}s", where=what)
        self.clock.sleep(poll_seconds or self.waits.poll_seconds)

    def retry_while_role_propagates(self, create: Callable[[], None]) -> None:
        for attempt in range(self.waits.role_propagation_attempts):
            try:
                create()
                return
            except ClientError as error:
                message = error.response.get("Error", {}).get("Message", "")
                last = attempt == self.waits.role_propagation_attempts - 1
                # SageMaker says ValidationException, Lambda InvalidParameterValueException.
                propagating = error_code(error) in {"ValidationException", "InvalidParameterValueException"}
                if not propagating or "assume" not in message.lower() or last:
                    raise
                log.info("the new role is not assumable yet; retrying")
                self.clock.sleep(5)


class Resource:
    """How the engine changes one kind of resource. A verb a kind does not support is an error."""

    kind: ClassVar[Kind]
    # Where the kind's tags live, for kinds whose tags the engine manages (None: not tagged, or
    # tagged with the resource itself).
    tag_service: ClassVar[TagService | None] = None

    def create(self, run: Run, action: Action) -> Outputs:
        raise _unsupported(action)

    def update(self, run: Run, action: Action) -> Outputs:
        raise _unsupported(action)

    def delete(self, run: Run, action: Action) -> Outputs:
        raise _unsupported(action)

    def tag_arn(self, region: str, account_id: str, name: str, api_id: str = "") -> str:
        """The ARN the tagging API takes for one resource of this kind (S3 and IAM: the name)."""
        raise ValueError(f"no ARN for a {self.kind}")


class Phase(IntEnum):
    """Where a standalone kind's actions go in a plan (and, reversed, in a destroy)."""

    BEFORE_ENDPOINT = 1  # what the endpoint's blue/green update names (its rollback alarms)
    AFTER_ENDPOINT = 2  # what watches the running endpoint (alerts, dashboards)


class Standalone(Resource):
    """A kind the generic planner handles whole: its desired resources come from config.yml, the
    ones of this deployment found are read back, and each is created, updated or deleted by name.
    A new kind of this shape is its module and its line in the registry, nothing else."""

    phase: ClassVar[Phase]

    def desired(self, config: Config, names: Names) -> tuple[Any, ...]:
        raise NotImplementedError

    def read(self, aws: Aws, lookup: Lookup) -> tuple[Any, ...]:
        """This deployment's resources of the kind that exist (read-only calls)."""
        raise NotImplementedError

    def name_of(self, resource: Any) -> str:
        return resource.name

    def tag_arn_of(self, resource: Any, names: Names) -> str:
        """The ARN a found resource's tags are reached by (its kind's, from its name, by default)."""
        return self.tag_arn(names.region, names.account_id, self.name_of(resource))

    def removable(self, resource: Any) -> bool:
        """Whether a found resource config.yml no longer asks for can be deleted now."""
        return True


def _unsupported(action: Action) -> DeploymentError:
    return DeploymentError(f"no way to {action.verb} a {action.kind}", where=action.name)
