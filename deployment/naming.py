"""Every AWS resource name, in one place.

Resources updated in place (endpoint, schedule, bucket, role, alarms) get stable names;
immutable ones (model, endpoint config) are named by a hash of their definition, so an
unchanged definition maps to the same name and a second deploy has nothing to do.
No random suffixes, no timestamps, no local state: names and tags are the state.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

# The tag that marks everything this project created, and which deployment it belongs to.
PROJECT_TAG = "pose:deployment"
# On the endpoint: the monitoring schedule that watches it.
MONITORED_BY_TAG = "pose:monitoring-schedule"
# Every tag the engine sets itself; config.yml's project.tags may not use their prefix.
ENGINE_TAGS = (PROJECT_TAG, MONITORED_BY_TAG)
SAGEMAKER_NAME_LIMIT = 63


def content_hash(definition: object, length: int = 8) -> str:
    """A short, stable hash of any JSON-serialisable definition (key order does not matter)."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:length]


@dataclass(frozen=True)
class Names:
    """Names for one deployment, `{project}-{stage}` (e.g. `pose-pr-42`)."""

    prefix: str
    account_id: str
    region: str

    @property
    def endpoint(self) -> str:
        return self.prefix

    @property
    def monitoring_schedule(self) -> str:
        return monitoring_schedule(self.prefix)

    @property
    def one_off_schedule(self) -> str:
        """`monitor --now`'s schedule: the hourly one's job, run once."""
        return f"{self.monitoring_schedule}-now"

    @property
    def execution_role(self) -> str:
        return f"{self.prefix}-sagemaker-execution"

    @property
    def error_alarm(self) -> str:
        return f"{self.prefix}-invocation-5xx"

    @property
    def latency_alarm(self) -> str:
        return f"{self.prefix}-model-latency"

    # Everything that watches the running endpoint is named `{prefix}-monitor...` (the schedule,
    # the alerts, their topic and key, the dashboard): one name pattern in the session policy.

    @property
    def alert_topic(self) -> str:
        """The SNS topic the stage's alarms notify (alerts.emails subscribe to it)."""
        return f"{self.monitoring_schedule}-alerts"

    @property
    def alert_topic_arn(self) -> str:
        return f"arn:{partition(self.region)}:sns:{self.region}:{self.account_id}:{self.alert_topic}"

    @property
    def alert_key_alias(self) -> str:
        """The KMS key encrypting the topic: CloudWatch may use it, which AWS's own SNS key forbids."""
        return f"alias/{self.alert_topic}"

    def alert(self, what: str) -> str:
        """An alarm that notifies people (the rollback alarms roll updates back instead)."""
        return f"{self.monitoring_schedule}-{what}"

    @property
    def dashboard(self) -> str:
        # Dashboards are global to the account: the region keeps two regions' stages apart.
        return f"{self.monitoring_schedule}-{self.region}"

    @property
    def function(self) -> str:
        """The Lambda behind `POST /predict`."""
        return f"{self.prefix}-predict"

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function}"

    @property
    def function_role(self) -> str:
        return f"{self.prefix}-predict-lambda"

    @property
    def function_log_group(self) -> str:
        return f"/aws/lambda/{self.function}"  # the group Lambda writes to; created here to set its retention

    @property
    def http_api(self) -> str:
        # API names are not unique in an account: the API is found by this name *and* the project tag.
        return f"{self.prefix}-api"

    @property
    def web_distribution(self) -> str:
        """The page's CloudFront distribution: its CallerReference, and its name in plans."""
        return f"{self.prefix}-web"

    @property
    def web_distribution_comment(self) -> str:
        # Distributions have no name: ours is the one with this comment *and* this deployment's tag.
        return f"{self.prefix}-web: the pose-estimation web page"

    @property
    def origin_access_control(self) -> str:
        # Unique in the account, and untaggable: the name alone identifies it.
        return f"{self.prefix}-web"

    def default_bucket(self) -> str:
        return f"{self.prefix}-{self.account_id}-{self.region}"

    def bucket(self, configured: str | None) -> str:
        """The capture and artifact bucket: config.yml's s3.bucket, else the default."""
        return configured or self.default_bucket()

    def role_arn(self, role_name: str) -> str:
        return role_arn(self.account_id, role_name)

    def default_web_bucket(self) -> str:
        # A suffix, not an infix: no other stage's default bucket can end in "-web" (regions end in a digit).
        return f"{self.prefix}-{self.account_id}-{self.region}-web"

    def endpoint_arn(self) -> str:
        # SageMaker lower-cases endpoint names in ARNs; IAM compares resources case-sensitively.
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:endpoint/{self.endpoint.lower()}"

    def api_source_arn(self, api_id: str) -> str:
        """What may invoke the Lambda: this API's `POST /predict`, on any stage."""
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{api_id}/*/POST/predict"

    def model(self, definition: object) -> str:
        return self._hashed("model", definition)

    def endpoint_config(self, definition: object) -> str:
        return self._hashed("config", definition)

    def owns(self, name: str) -> bool:
        """Whether a model or endpoint config name was made by `model` / `endpoint_config` here."""
        return re.fullmatch(rf"{re.escape(self.prefix)}-(model|config)-[0-9a-f]{{8}}", name) is not None

    def _hashed(self, kind: str, definition: object) -> str:
        name = f"{self.prefix}-{kind}-{content_hash(definition)}"
        if len(name) > SAGEMAKER_NAME_LIMIT:
            raise ValueError(f"{name} is longer than SageMaker's {SAGEMAKER_NAME_LIMIT} characters")
        return name


def deployment_tags(project_tags: dict[str, str], prefix: str) -> tuple[tuple[str, str], ...]:
    """Every resource's tags: config.yml's, and the one naming its deployment."""
    return tuple(sorted({**project_tags, PROJECT_TAG: prefix}.items()))


def partition(region: str) -> str:
    """The ARN partition a region belongs to."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def monitoring_schedule(prefix: str) -> str:
    """The hourly schedule's name; the local stack, which has no account, names its timer the same."""
    return f"{prefix}-monitor"


def role_arn(account_id: str, role_name: str) -> str:
    """An IAM role's ARN (IAM is global: no region); `account_id` may be `*` in a policy."""
    return f"arn:aws:iam::{account_id}:role/{role_name}"


def artifact_key(model_prefix: str, artifact_sha256: str) -> str:
    """Content-addressed S3 key: the same model.tar.gz is uploaded once."""
    return f"{model_prefix}/{artifact_sha256[:16]}/model.tar.gz"
