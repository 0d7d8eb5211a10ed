"""The engine's one entry point: config → desired → remote → plan → apply, reporting as it goes.

The CLI parses arguments and prints; everything it asks of AWS goes through a `Deployer`, which
reports progress through one callback (`report`), so a caller other than the CLI (a test, a
notebook) sees the same lines without capturing stdout.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from deployment.batch import BatchResult
from deployment.config import Config
from deployment.errors import ConfigError, DeploymentError
from deployment.metrics import quality_of
from deployment.multi_model import PackagedModel, runs
from deployment.naming import Names, deployment_tags
from deployment.planner import plan, plan_destroy
from deployment.remote import Lookup, read_remote_state
from deployment.resources.alert import Alert
from deployment.resources.base import Action, Clock
from deployment.resources.dashboard import console_url
from deployment.resources.registry import ModelVersion, with_notes
from deployment.state import DesiredState, Inputs, desired_state
from deployment.web_state import web_bucket_name

if TYPE_CHECKING:
    from deployment.promotion import Rollback

DIGEST_PINNED = re.compile(r"^\S+@sha256:[0-9a-f]{64}$")
ARTIFACT_CACHE = Path(".cache/artifacts")


@dataclass(frozen=True)
class Images:
    """The two images a deploy runs, each pinned by digest (`--inference-image` / `--monitoring-image`)."""

    inference: str | None
    monitoring: str | None

    def check(self) -> None:
        for flag, uri in (("--inference-image", self.inference), ("--monitoring-image", self.monitoring)):
            if not uri:
                variable = flag.removeprefix("--").replace("-", "_").upper()
                raise ConfigError(f"missing; pass {flag} or set {variable}", where=flag)
            if not DIGEST_PINNED.match(uri):
                raise ConfigError(f"{uri!r} is not pinned by digest (repo@sha256:<64 hex>)", where=flag)


@dataclass(frozen=True)
class Plan:
    desired: DesiredState
    actions: list[Action]


@dataclass
class Deployer:
    config: Config
    report: Callable[[str], None] = print
    clock: Clock = field(default_factory=Clock)
    _aws: object = field(default=None, init=False, repr=False)
    _names: Names | None = field(default=None, init=False, repr=False)

    def connect(self):
        """The AWS clients for config.project.region, and this deployment's names in the account."""
        if self._aws is None:
            from deployment.aws import connect

            self._aws = connect(self.config.project.region)
            self._names = Names(
                self.config.prefix, self._aws.identity.account_id(), self.config.project.region
            )
        return self._aws, self._names

    def plan(
        self, images: Images, model_artifact: Path | None = None, commit: str = "", pull_request: str = ""
    ) -> Plan:
        """Everything `plan` and `deploy` share: images checked, the artifact built, desired state,
        remote state, and the actions between them."""
        images.check()
        models = self._models(model_artifact)
        artifact, artifact_sha = (
            (models[0].path, models[0].sha256) if models else self._artifact(model_artifact)
        )
        paths = [Path(model.path) for model in models] or [Path(artifact)]
        qualities = tuple(quality_of(path, ARTIFACT_CACHE) for path in paths)
        aws, names = self.connect()
        inputs = Inputs(
            images.inference,
            images.monitoring,
            str(artifact),
            artifact_sha,
            commit=commit,
            models=models,
            pull_request=pull_request,
            qualities=qualities,
        )
        desired = desired_state(self.config, inputs, names.account_id)
        lookup = self._lookup(desired.names, artifacts=(*desired.artifacts, *desired.statistics))
        return Plan(desired, with_notes(plan(desired, read_remote_state(aws, lookup))))

    def apply(self, planned: Plan) -> None:
        from deployment.executor import Executor

        aws, _ = self.connect()
        Executor(aws, planned.desired.tags, self.report, self.clock).run(planned.actions)

    def plan_destroy(self) -> list[Action]:
        aws, names = self.connect()
        return plan_destroy(names, read_remote_state(aws, self._lookup(names, destroying=True)))

    def destroy(self, actions: list[Action]) -> None:
        from deployment.executor import Executor

        aws, _ = self.connect()
        Executor(aws, (), self.report, self.clock).run(actions)

    def outputs(self) -> dict[str, str]:
        """What CI and people need next; the URLs come from the live API and distribution (absent until made)."""
        config = self.config
        aws, names = self.connect()
        bucket = names.bucket(config.s3.bucket)
        outputs = {"endpoint_name": names.endpoint, "region": config.project.region}
        if config.data_capture.enabled:
            outputs["capture_s3_uri"] = (
                f"s3://{bucket}/{names.prefix}/{config.s3.capture_prefix}/{names.endpoint}"
            )
        if config.monitoring.enabled:
            outputs["monitoring_schedule"] = names.monitoring_schedule
            outputs["reports_s3_uri"] = f"s3://{bucket}/{names.prefix}/{config.s3.reports_prefix}"
        api = aws.http_api.find(names.http_api, names.prefix) if config.api.enabled else None
        if api:
            outputs["api_url"] = api.predict_url
        page = aws.cdn.find(names.web_distribution_comment, names.prefix) if config.webapp.enabled else None
        if page:
            outputs["web_url"] = page[0].url
        if aws.dashboards.read(names.dashboard):
            outputs["dashboard_url"] = console_url(names)
        return outputs

    def alerts(self) -> tuple[tuple[Alert, ...], tuple[str, ...]]:
        """The alerting alarms with their states, and the email addresses yet to confirm."""
        aws, names = self.connect()
        pending = tuple(s.email for s in aws.notifications.subscriptions(names.alert_topic_arn) if s.pending)
        return aws.alarms.read_alerts(names.alert("")), pending

    def billed(self) -> str:
        """After a failed deploy, what stands and bills by the hour: the endpoint's instances, or
        nothing of note (S3 and IAM cost pennies). The pull-request comment quotes it."""
        from deployment.costs import hourly_cost

        aws, names = self.connect()
        try:
            endpoint_stands = aws.sagemaker.describe_endpoint(names.endpoint) is not None
        except (ClientError, BotoCoreError):
            endpoint_stands = True  # cannot tell: say what it would cost
        return hourly_cost(self.config) if endpoint_stands else "nothing by the hour: no endpoint was created"

    def batch(
        self, input_uri: str, output_uri: str | None, instances: int, instance_type: str | None
    ) -> BatchResult:
        """Every photo under `input_uri` through the deployed model, with Batch Transform."""
        from deployment.batch import batch_job, run_batch

        if self.config.endpoint.models:
            raise ConfigError(
                "a multi-model stage's model needs each request to name its model (TargetModel), "
                "which Batch Transform cannot do",
                where="endpoint.models",
                hint="run batch on a single-model stage (without endpoint.models)",
            )
        aws, names = self.connect()
        model = aws.sagemaker.deployed_model(names.endpoint)
        if model is None:
            raise DeploymentError(
                "no endpoint is deployed, so there is no model to run",
                where=names.endpoint,
                hint="deploy first",
            )
        job = batch_job(
            self.config, names, model, input_uri, output_uri, instances, instance_type, datetime.now(UTC)
        )
        tags = deployment_tags(self.config.project.tags, names.prefix)
        return run_batch(aws, job, tags, self.report, self.clock)

    def models(self) -> list[tuple[ModelVersion, list[str]]]:
        """The project's registry, oldest first: each version and the stages whose endpoint runs it."""
        aws, _ = self.connect()
        project = self.config.project.name
        running = aws.sagemaker.endpoint_models(project)
        return [
            (
                version,
                sorted(
                    name.removeprefix(f"{project}-")
                    for name, model in running.items()
                    if runs(model, version.image_uri, version.model_data_url)
                ),
            )
            for version in aws.sagemaker.model_versions(project)
        ]

    def approve(self, planned: Plan) -> list[ModelVersion]:
        """After `apply`: the registry versions of what `planned` put in service, marked Approved."""
        from deployment.promotion import approve
        from deployment.resources.base import Kind

        aws, _ = self.connect()
        stage = self.config.project.stage
        return [approve(aws, v, stage, self.report) for v in planned.desired.standalone[Kind.MODEL_VERSION]]

    def plan_rollback(self) -> Rollback:
        """The stage back on the approved version (or set) before the one it runs (promotion.py)."""
        from deployment.promotion import plan_rollback

        aws, names = self.connect()
        return plan_rollback(self.config, aws, names, self._lookup)

    def monitor_now(self) -> tuple[str, str]:
        """One run of the deployed monitoring job over the last hour: (status, exit message)."""
        from deployment.monitor_now import run_now

        aws, names = self.connect()
        return run_now(aws, names, report=self.report)

    def _lookup(self, names: Names, **extra) -> Lookup:
        """What to read of this deployment (`plan` adds the artifact, `destroy` the leftovers)."""
        return Lookup(
            names,
            names.bucket(self.config.s3.bucket),
            self.config.endpoint.variant_name,
            monitoring=self.config.monitoring.enabled,
            web_bucket=web_bucket_name(self.config, names),
            **extra,
        )

    def _models(self, model_artifact: Path | None) -> tuple[PackagedModel, ...]:
        """Each model of a multi-model endpoint packaged, the default first; () for one model."""
        if not self.config.endpoint.models:
            return ()
        if model_artifact is not None:
            raise ConfigError(
                "a multi-model endpoint packages each model of endpoint.models itself; leave it out",
                where=f"--model-artifact {model_artifact}",
            )
        from deployment.artifact import build_artifacts

        return build_artifacts(self.config.served_models, ARTIFACT_CACHE)

    def _artifact(self, model_artifact: Path | None) -> tuple[Path, str]:
        if model_artifact is None:
            from deployment.artifact import build_artifact

            return build_artifact(self.config.model, ARTIFACT_CACHE)
        from inference.manifest import sha256_of

        if not model_artifact.is_file():
            raise ConfigError("no such file", where=f"--model-artifact {model_artifact}")
        return model_artifact, sha256_of(model_artifact)
