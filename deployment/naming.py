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
        return f"{self.prefix}-monitor"

    @property
    def execution_role(self) -> str:
        return f"{self.prefix}-sagemaker-execution"

    @property
    def error_alarm(self) -> str:
        return f"{self.prefix}-invocation-5xx"

    @property
    def latency_alarm(self) -> str:
        return f"{self.prefix}-model-latency"

    def default_bucket(self) -> str:
        return f"{self.prefix}-{self.account_id}-{self.region}"

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


def artifact_key(model_prefix: str, artifact_sha256: str) -> str:
    """Content-addressed S3 key: the same model.tar.gz is uploaded once."""
    return f"{model_prefix}/{artifact_sha256[:16]}/model.tar.gz"
