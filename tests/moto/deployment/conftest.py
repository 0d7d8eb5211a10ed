"""The CLI against moto in-process, with every AWS call recorded and the APIs moto lacks answered here.

moto implements neither UpdateEndpoint, the monitoring-schedule APIs nor API Gateway's UpdateStage.
Their requests are still built and validated by botocore against the service model; a `before-call`
handler then answers them from a small in-memory store (or moto's own) instead of sending them.
"""

from __future__ import annotations

import functools
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.apigatewayv2.models import apigatewayv2_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

import deployment.aws
import deployment.monitor_now
from deployment import cli
from deployment.resources.base import Run
from tests.conftest import REPO
from tests.moto.deployment import moto_gaps
from tests.unit.deployment.builders import INFERENCE_IMAGE, MONITORING_IMAGE
from tests.unit.deployment.fakes import FakeClock

REGION = "us-east-1"
ACCOUNT = DEFAULT_ACCOUNT_ID
SHIPPED = str(REPO / "config.yml")
READ_ONLY = ("Describe", "List", "Get", "Head")
SERVICE_MODELS = botocore.loaders.create_loader()


@dataclass(frozen=True)
class Call:
    service: str  # botocore's service id, hyphenated: s3, iam, sagemaker, application-auto-scaling...
    operation: str
    params: dict

    @property
    def mutates(self) -> bool:
        return not self.operation.startswith(READ_ONLY)


def answer(parsed: dict, status: int = 200) -> tuple[AWSResponse, dict]:
    return AWSResponse("https://sagemaker.us-east-1.amazonaws.com/", status, {}, None), {
        **parsed,
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


def not_found(what: str) -> tuple[AWSResponse, dict]:
    return answer({"Error": {"Code": "ResourceNotFound", "Message": f"{what} does not exist"}}, 400)


@dataclass
class Account:
    """The test's window on AWS: what was called, and the SageMaker APIs moto lacks."""

    calls: list[Call] = field(default_factory=list)
    schedules: dict[str, dict] = field(default_factory=dict)  # name -> {"config", "tags"}
    deleted_schedules: list[str] = field(default_factory=list)
    # Per schedule, the MonitoringExecutionSummaries answered to successive polls (the last repeats).
    executions: dict[str, list[list[dict]]] = field(default_factory=dict)
    exit_messages: dict[str, str] = field(default_factory=dict)  # processing job name -> ExitMessage
    updates_succeed: bool = True  # False: an UpdateEndpoint that SageMaker rolls back
    failures: dict[str, tuple[str, str]] = field(default_factory=dict)  # operation -> (code, message)
    kill_after: int | None = None  # see `after`
    mutations: int = 0
    # Batch Transform: what a finished job reports (moto's say Completed at once), and whether it
    # writes a result per photo as SageMaker's would (moto's run nothing).
    transform_outcome: tuple[str, str] = ("Completed", "")
    transform_writes_results: bool = True

    def fake(self, operation: str):
        """The handler answering `operation` instead of moto, or None to let moto answer."""
        if operation in self.failures:
            code, message = self.failures[operation]
            return lambda: answer({"Error": {"Code": code, "Message": message}}, 400)
        return {
            "UpdateEndpoint": self._update_endpoint,
            "CreateMonitoringSchedule": self._create_schedule,
            "DescribeMonitoringSchedule": self._describe_schedule,
            "UpdateMonitoringSchedule": self._update_schedule,
            "DeleteMonitoringSchedule": self._delete_schedule,
            "ListMonitoringExecutions": self._list_executions,
            "DescribeProcessingJob": self._describe_processing_job,
            "CreateTransformJob": self._create_transform_job,
            "DescribeTransformJob": self._describe_transform_job,
            "UpdateStage": self._update_stage,
            "ListTags": self._schedule_tags,
            "AddTags": self._schedule_tags,
            "DeleteTags": self._schedule_tags,
            "GetTags": self._stage_tags,
            "TagResource": self._stage_tags,
            "UntagResource": self._stage_tags,
        }.get(operation)

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int) -> list[Call]:
        return self.calls[mark:]

    def requests(self, operation: str) -> list[dict]:
        return [call.params for call in self.calls if call.operation == operation]

    def record(self, params: dict, model, **_) -> None:
        self.calls.append(Call(model.service_model.service_id.hyphenize(), model.name, dict(params)))

    def _params(self) -> dict:
        return self.calls[-1].params  # recorded just before, while the request was built

    def _update_endpoint(self):
        params = self._params()
        if self.updates_succeed:
            endpoint = sagemaker_backends[ACCOUNT][REGION].endpoints[params["EndpointName"]]
            endpoint.endpoint_config_name = params["EndpointConfigName"]
        arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{params['EndpointName']}"
        return answer({"EndpointArn": arn})

    def _arn(self, name: str) -> str:
        return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoring-schedule/{name}"

    def _create_schedule(self):
        params = self._params()
        name = params["MonitoringScheduleName"]
        if name in self.schedules:
            return answer({"Error": {"Code": "ResourceInUse", "Message": f"{name} already exists"}}, 400)
        self.schedules[name] = {"config": params["MonitoringScheduleConfig"], "tags": params.get("Tags", [])}
        return answer({"MonitoringScheduleArn": self._arn(name)})

    def _describe_schedule(self):
        name = self._params()["MonitoringScheduleName"]
        if name not in self.schedules:
            return not_found(f"Monitoring Schedule {name}")
        now = datetime.now(UTC)
        return answer(
            {
                "MonitoringScheduleArn": self._arn(name),
                "MonitoringScheduleName": name,
                "MonitoringScheduleStatus": "Scheduled",
                "CreationTime": now,
                "LastModifiedTime": now,
                "MonitoringScheduleConfig": self.schedules[name]["config"],
            }
        )

    def _update_schedule(self):
        params = self._params()
        name = params["MonitoringScheduleName"]
        if name not in self.schedules:
            return not_found(f"Monitoring Schedule {name}")
        self.schedules[name]["config"] = params["MonitoringScheduleConfig"]
        return answer({"MonitoringScheduleArn": self._arn(name)})

    def _delete_schedule(self):
        name = self._params()["MonitoringScheduleName"]
        if self.schedules.pop(name, None) is None:
            return not_found(f"Monitoring Schedule {name}")
        self.deleted_schedules.append(name)
        return answer({})

    def _list_executions(self):
        script = self.executions.get(self._params()["MonitoringScheduleName"], [[]])
        summaries = script.pop(0) if len(script) > 1 else script[0]
        return answer({"MonitoringExecutionSummaries": summaries})

    def _describe_processing_job(self):
        name = self._params()["ProcessingJobName"]
        if name not in self.exit_messages:
            return answer({"Error": {"Code": "ValidationException", "Message": f"{name} not found"}}, 400)
        return answer(
            {
                "ProcessingJobName": name,
                "ProcessingJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/{name}",
                "ProcessingJobStatus": "Completed",
                "ExitMessage": self.exit_messages[name],
            }
        )

    def _create_transform_job(self):
        """Lets moto record the job; writes `{output}{relative key}.out` per input, as SageMaker does."""
        params = self._params()
        if not self.transform_writes_results:
            return None
        s3 = shared_session(False).client("s3")
        source = params["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"].removeprefix("s3://")
        bucket, _, prefix = source.partition("/")
        target = params["TransformOutput"]["S3OutputPath"].removeprefix("s3://")
        out_bucket, _, out_prefix = target.partition("/")
        for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
            if item["Key"].endswith("/"):
                continue
            key = out_prefix + item["Key"].removeprefix(prefix) + ".out"
            s3.put_object(Bucket=out_bucket, Key=key, Body=b'{"person_detected": true}')
        return None

    def _describe_transform_job(self):
        name = self._params()["TransformJobName"]
        status, reason = self.transform_outcome
        found = {
            "TransformJobName": name,
            "TransformJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:transform-job/{name}",
            "TransformJobStatus": status,
            "ModelName": "m",
            "TransformInput": {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/p"}}
            },
            "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
            "CreationTime": datetime.now(UTC),
        }
        return answer({**found, **({"FailureReason": reason} if reason else {})})

    def _update_stage(self):
        """Applied to moto's own stage, so reading it back shows the change."""
        params = self._params()
        api = apigatewayv2_backends[ACCOUNT][REGION].apis[params["ApiId"]]
        stage = api.stages[params["StageName"]]
        settings = params["DefaultRouteSettings"]
        stage.default_route_settings = {
            "throttlingBurstLimit": settings["ThrottlingBurstLimit"],
            "throttlingRateLimit": settings["ThrottlingRateLimit"],
        }
        stage.auto_deploy = params.get("AutoDeploy", stage.auto_deploy)
        return answer({"StageName": stage.name, "AutoDeploy": stage.auto_deploy})

    def _schedule_tags(self):
        """ListTags, AddTags and DeleteTags of a monitoring schedule (moto has none); others go to moto."""
        call = self.calls[-1]
        if call.service != "sagemaker" or "monitoring-schedule/" not in call.params["ResourceArn"]:
            return None
        schedule = self.schedules.get(call.params["ResourceArn"].rsplit("/", 1)[1])
        if schedule is None:
            return not_found(call.params["ResourceArn"])
        tags = {tag["Key"]: tag["Value"] for tag in schedule["tags"]}
        tags |= {tag["Key"]: tag["Value"] for tag in call.params.get("Tags", [])}
        tags = {key: value for key, value in tags.items() if key not in call.params.get("TagKeys", [])}
        schedule["tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
        return answer({"Tags": schedule["tags"]} if call.operation == "ListTags" else {})

    def _stage_tags(self):
        """A stage's tags: moto keeps those it was created with apart from those TagResource sets."""
        call = self.calls[-1]
        if "/stages/" not in call.params.get("ResourceArn", ""):
            return None
        api_id, _, name = call.params["ResourceArn"].split("/apis/")[1].partition("/stages/")
        stage = apigatewayv2_backends[ACCOUNT][REGION].apis[api_id].stages[name]
        stage.tags = {**stage.tags, **call.params.get("Tags", {})}
        stage.tags = {
            key: value for key, value in stage.tags.items() if key not in call.params.get("TagKeys", [])
        }
        return answer({"Tags": stage.tags} if call.operation == "GetTags" else {})

    def after(self, model, **_) -> None:
        """The kill switch: the engine dies right after its `kill_after`-th mutating call took effect."""
        if self.kill_after is None or model.name.startswith(READ_ONLY):
            return
        self.mutations += 1
        if self.mutations == self.kill_after:
            raise Killed(f"killed after mutating call {self.mutations}: {model.name}")


class Killed(BaseException):
    """Like SIGKILL: nothing in the engine catches it (it catches Exception subclasses at most)."""


ACTIVE: list[Account] = []  # the running test's account; the shared sessions route events to it


def _record(**kwargs) -> None:
    if ACTIVE:
        ACTIVE[-1].record(**kwargs)


def _after(**kwargs) -> None:
    if ACTIVE:
        ACTIVE[-1].after(**kwargs)


def _answer(model, **_):
    handler = ACTIVE[-1].fake(model.name) if ACTIVE else None
    return handler() if handler else None


@functools.cache
def shared_session(recording: bool) -> boto3.Session:
    """One session per process, so botocore parses its large service models once, not per client."""
    core = botocore.session.get_session()
    core.register_component("data_loader", SERVICE_MODELS)
    session = boto3.Session(botocore_session=core, region_name=REGION)
    if recording:
        session.events.register("before-parameter-build", _record)
        session.events.register("before-call.sagemaker", _answer)
        session.events.register("before-call.apigatewayv2", _answer)
        session.events.register("after-call", _after)
    return session


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Account]:
    """A fresh moto account that no request can leave, wired into the CLI's AWS connection."""
    for variable in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_SESSION_TOKEN",
        "GITHUB_OUTPUT",
        "GITHUB_STEP_SUMMARY",
        "INFERENCE_IMAGE",
        "MONITORING_IMAGE",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    fake = Account()
    real_connect = deployment.aws.connect
    connected: dict[str, deployment.aws.Aws] = {}  # clients hold no state: one set per test

    def connect(region: str, session=None) -> deployment.aws.Aws:
        if region not in connected:
            connected[region] = real_connect(region, shared_session(True))
        return connected[region]

    monkeypatch.setattr(deployment.aws, "connect", connect)

    def no_waiting(self, elapsed: float, what: str, *timeout: float | None) -> None:
        raise AssertionError(f"the executor would sleep waiting for {what}; moto should be immediate")

    monkeypatch.setattr(Run, "pause", no_waiting)
    for owner, attribute, value in moto_gaps.replacements():
        monkeypatch.setattr(owner, attribute, value)
    ACTIVE.append(fake)
    try:
        with mock_aws():
            yield fake
    finally:
        ACTIVE.remove(fake)


@pytest.fixture
def console(account: Account) -> boto3.Session:
    """A session for the test's own look at the account (not recorded, never faked)."""
    return shared_session(False)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The clock `monitor --now` waits with (the CLI builds it; this replaces it)."""
    fake = FakeClock()
    monkeypatch.setattr(deployment.monitor_now, "Clock", fake.clock)
    return fake


@pytest.fixture(scope="session")
def model_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model.tar.gz: the engine only hashes and uploads it."""
    directory = tmp_path_factory.mktemp("artifact")
    (directory / "model.tflite").write_bytes(b"TFL3 not a real model")
    path = directory / "model.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(directory / "model.tflite", arcname="model.tflite")
    return path


@pytest.fixture
def run(account: Account, model_artifact: Path, capsys: pytest.CaptureFixture) -> Callable[..., Result]:
    """`run("deploy", "--set", "k=v")`: the CLI with the shipped config.yml, our images and artifact."""

    def invoke(command: str, *extra: str) -> Result:
        argv = [command, "--config", SHIPPED]
        if command in ("plan", "deploy"):  # before `extra`, which may override them
            argv += ["--inference-image", INFERENCE_IMAGE, "--monitoring-image", MONITORING_IMAGE]
            argv += ["--model-artifact", str(model_artifact)]
        code = cli.main([*argv, *extra])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke
