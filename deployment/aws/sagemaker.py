"""SageMaker: models, endpoint configs, the endpoint, and the monitoring schedule."""

from __future__ import annotations

from botocore.exceptions import ClientError

from deployment.aws.errors import is_not_found, tag_list
from deployment.multi_model import MULTI_MODEL
from deployment.naming import MONITORED_BY_TAG, Names
from deployment.resources.endpoint import Endpoint, RemoteEndpoint, deployment_config
from deployment.resources.endpoint_config import EndpointConfig, RemoteConfig
from deployment.resources.model import Model
from deployment.resources.monitoring_schedule import Schedule
from deployment.resources.registry import (
    CONTENT_TYPES,
    IDENTITY,
    METRICS_CONTENT_TYPE,
    PENDING,
    STAGE,
    ModelGroup,
    ModelVersion,
)
from deployment.resources.transform_job import CONTENT_TYPE, ERRORS_AS_RESULTS, MAX_PAYLOAD_MB, BatchJob

CAPTURE_LOCAL_PATH = "/opt/ml/processing/input/endpoint"
REPORT_LOCAL_PATH = "/opt/ml/processing/resultdata"


class SageMaker:
    def __init__(self, client) -> None:
        self.client = client

    # Models and endpoint configs are immutable: create, list, delete.

    def model_names(self, names: Names) -> frozenset[str]:
        pages = self.client.get_paginator("list_models").paginate(NameContains=names.prefix)
        return frozenset(
            m["ModelName"] for page in pages for m in page["Models"] if names.owns(m["ModelName"])
        )

    def create_model(self, model: Model, tags: tuple[tuple[str, str], ...]) -> None:
        container = {
            "Image": model.image_uri,
            "ModelDataUrl": model.model_data_url,
            "Environment": dict(model.environment),
        }
        if model.multi_model:
            container["Mode"] = MULTI_MODEL  # SingleModel, the default, is left unsaid
        self.client.create_model(
            ModelName=model.name,
            PrimaryContainer=container,
            ExecutionRoleArn=model.role_arn,
            Tags=tag_list(tags),
        )

    def delete_model(self, name: str) -> None:
        self.client.delete_model(ModelName=name)

    def endpoint_configs(self, names: Names) -> tuple[RemoteConfig, ...]:
        pages = self.client.get_paginator("list_endpoint_configs").paginate(NameContains=names.prefix)
        found = []
        for page in pages:
            for summary in page["EndpointConfigs"]:
                if not names.owns(summary["EndpointConfigName"]):
                    continue
                described = self.client.describe_endpoint_config(
                    EndpointConfigName=summary["EndpointConfigName"]
                )
                model_name = described["ProductionVariants"][0]["ModelName"]
                found.append(RemoteConfig(summary["EndpointConfigName"], model_name, summary["CreationTime"]))
        return tuple(found)

    def create_endpoint_config(self, config: EndpointConfig, tags: tuple[tuple[str, str], ...]) -> None:
        variant = {"VariantName": config.variant_name, "ModelName": config.model_name}
        if config.serverless_memory_mb:
            variant["ServerlessConfig"] = {
                "MemorySizeInMB": config.serverless_memory_mb,
                "MaxConcurrency": config.serverless_max_concurrency,
            }
        else:
            variant.update(
                InstanceType=config.instance_type,
                InitialInstanceCount=config.instance_count,
                InitialVariantWeight=1.0,
            )
        request = {"EndpointConfigName": config.name, "ProductionVariants": [variant], "Tags": tag_list(tags)}
        if config.capture:
            request["DataCaptureConfig"] = _capture_config(config)
        self.client.create_endpoint_config(**request)

    def delete_endpoint_config(self, name: str) -> None:
        self.client.delete_endpoint_config(EndpointConfigName=name)

    # The endpoint: created once, then updated in place with blue/green deployments.

    def describe_endpoint(self, name: str) -> RemoteEndpoint | None:
        try:
            found = self.client.describe_endpoint(EndpointName=name)
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        tags = self.client.list_tags(ResourceArn=found["EndpointArn"])["Tags"]
        monitored_by = next((tag["Value"] for tag in tags if tag["Key"] == MONITORED_BY_TAG), None)
        return RemoteEndpoint(
            name,
            found["EndpointConfigName"],
            found["EndpointStatus"],
            found.get("FailureReason"),
            found["EndpointArn"],
            monitored_by,
        )

    def create_endpoint(self, endpoint: Endpoint, tags: tuple[tuple[str, str], ...]) -> None:
        if endpoint.monitored_by:
            tags = (*tags, (MONITORED_BY_TAG, endpoint.monitored_by))
        self.client.create_endpoint(
            EndpointName=endpoint.name, EndpointConfigName=endpoint.config_name, Tags=tag_list(tags)
        )

    def update_endpoint(self, endpoint: Endpoint) -> None:
        self.client.update_endpoint(
            EndpointName=endpoint.name,
            EndpointConfigName=endpoint.config_name,
            DeploymentConfig=deployment_config(endpoint),
        )

    def delete_endpoint(self, name: str) -> None:
        self.client.delete_endpoint(EndpointName=name)

    # The monitoring schedule (moto implements none of these; tests stub them).

    def describe_schedule(self, name: str) -> Schedule | None:
        try:
            found = self.client.describe_monitoring_schedule(MonitoringScheduleName=name)
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        return _schedule_from(found)

    def create_schedule(self, schedule: Schedule, tags: tuple[tuple[str, str], ...]) -> None:
        self.client.create_monitoring_schedule(
            MonitoringScheduleName=schedule.name,
            MonitoringScheduleConfig=schedule_config(schedule),
            Tags=tag_list(tags),
        )  # the endpoint's pose:monitoring-schedule tag is one of its tags (see resources/tags.py)

    def create_one_off_schedule(self, schedule: Schedule) -> None:
        """A `NOW` schedule: one run over the last hour, with the deployed job definition."""
        self.client.create_monitoring_schedule(
            MonitoringScheduleName=schedule.name, MonitoringScheduleConfig=schedule_config(schedule, "NOW")
        )

    def update_schedule(self, schedule: Schedule) -> None:
        self.client.update_monitoring_schedule(
            MonitoringScheduleName=schedule.name, MonitoringScheduleConfig=schedule_config(schedule)
        )

    def delete_schedule(self, name: str, endpoint_name: str | None = None) -> None:
        self.client.delete_monitoring_schedule(MonitoringScheduleName=name)
        if endpoint_name:
            endpoint = self.describe_endpoint(endpoint_name)
            if endpoint and endpoint.monitored_by == name:
                self.client.delete_tags(ResourceArn=endpoint.arn, TagKeys=[MONITORED_BY_TAG])

    def schedule_status(self, name: str) -> str | None:
        try:
            return self.client.describe_monitoring_schedule(MonitoringScheduleName=name)[
                "MonitoringScheduleStatus"
            ]
        except ClientError as error:
            if is_not_found(error):
                return None
            raise

    def latest_execution(self, schedule_name: str) -> dict | None:
        found = self.client.list_monitoring_executions(
            MonitoringScheduleName=schedule_name, SortBy="CreationTime", SortOrder="Descending", MaxResults=1
        )["MonitoringExecutionSummaries"]
        return found[0] if found else None

    # The model registry: a group per project, a version per model a stage ran.

    def read_model_group(self, name: str) -> ModelGroup | None:
        try:
            found = self.client.describe_model_package_group(ModelPackageGroupName=name)
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        return ModelGroup(name, found.get("ModelPackageGroupDescription", ""))

    def create_model_group(self, group: ModelGroup) -> None:
        self.client.create_model_package_group(
            ModelPackageGroupName=group.name, ModelPackageGroupDescription=group.description
        )

    def model_versions(self, group: str) -> tuple[ModelVersion, ...]:
        """Every version in the group, oldest first, with its identity (none without the group)."""
        try:
            pages = self.client.get_paginator("list_model_packages").paginate(
                ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Ascending"
            )
            summaries = [summary for page in pages for summary in page["ModelPackageSummaryList"]]
        except ClientError as error:
            if is_not_found(error):
                return ()
            raise
        return tuple(self._version(group, summary["ModelPackageArn"]) for summary in summaries)

    def _version(self, group: str, arn: str) -> ModelVersion:
        found = self.client.describe_model_package(ModelPackageName=arn)
        container = found.get("InferenceSpecification", {}).get("Containers", [{}])[0]
        metadata = found.get("CustomerMetadataProperties", {})
        statistics = found.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {})
        return ModelVersion(
            group,
            metadata.get(IDENTITY, ""),
            container.get("Image", ""),
            container.get("ModelDataUrl", ""),
            tuple(sorted(container.get("Environment", {}).items())),
            None,
            tuple(sorted(metadata.items())),
            arn,
            found.get("ModelPackageVersion", 0),
            found.get("ModelApprovalStatus", ""),
            str(found.get("CreationTime", "")),
            statistics.get("S3Uri", ""),
            statistics.get("ContentDigest", "").partition(":")[2],
        )

    def create_model_version(self, version: ModelVersion) -> str:
        inference = {
            "Containers": [
                {
                    "Image": version.image_uri,
                    "ModelDataUrl": version.model_data_url,
                    "Environment": dict(version.environment),
                }
            ],
            "SupportedContentTypes": list(CONTENT_TYPES),
            "SupportedResponseMIMETypes": ["application/json"],
        }
        if version.instance_type:
            inference["SupportedRealtimeInferenceInstanceTypes"] = [version.instance_type]
        metrics = {}
        if version.metrics_uri:  # the statistics document, checked against its sha256 by whoever reads it
            statistics = {
                "ContentType": METRICS_CONTENT_TYPE,
                "S3Uri": version.metrics_uri,
                "ContentDigest": f"sha256:{version.metrics_sha256}",
            }
            metrics = {"ModelMetrics": {"ModelQuality": {"Statistics": statistics}}}
        created = self.client.create_model_package(
            ModelPackageGroupName=version.group,
            ModelPackageDescription=f"{dict(version.metadata).get('model', 'a model')} as stage {dict(version.metadata).get(STAGE, '?')} ran it",
            InferenceSpecification=inference,
            ModelApprovalStatus=PENDING,
            CustomerMetadataProperties={**dict(version.metadata), IDENTITY: version.identity},
            **metrics,
        )
        return created["ModelPackageArn"]

    def endpoint_models(self, project: str) -> dict[str, tuple[str, str]]:
        """Each of the project's endpoints (one per stage) and the (image, artifact) it runs now."""
        running = {}
        pages = self.client.get_paginator("list_endpoints").paginate(NameContains=f"{project}-")
        for page in pages:
            for summary in page["Endpoints"]:
                name = summary["EndpointName"]
                if not name.startswith(f"{project}-"):
                    continue
                model = self.deployed_model(name)
                if model is None:
                    continue
                container = self.client.describe_model(ModelName=model).get("PrimaryContainer", {})
                running[name] = (container.get("Image", ""), container.get("ModelDataUrl", ""))
        return running

    def deployed_model(self, endpoint_name: str) -> str | None:
        """The model the endpoint runs now (its current config's), or None without an endpoint."""
        endpoint = self.describe_endpoint(endpoint_name)
        if endpoint is None:
            return None
        config = self.client.describe_endpoint_config(EndpointConfigName=endpoint.config_name)
        return config["ProductionVariants"][0]["ModelName"]

    def create_transform_job(self, job: BatchJob, tags: tuple[tuple[str, str], ...]) -> None:
        self.client.create_transform_job(
            TransformJobName=job.name,
            ModelName=job.model_name,
            MaxConcurrentTransforms=job.max_concurrent,
            MaxPayloadInMB=MAX_PAYLOAD_MB,
            BatchStrategy="SingleRecord",
            TransformInput={
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": job.input_uri}},
                "ContentType": CONTENT_TYPE,
                "CompressionType": "None",
                "SplitType": "None",  # one object, one request
            },
            TransformOutput={
                "S3OutputPath": job.output_uri,
                "Accept": "application/json",
                "AssembleWith": "None",
            },
            TransformResources={"InstanceType": job.instance_type, "InstanceCount": job.instance_count},
            # A photo the model cannot read becomes its own result instead of failing the whole job.
            Environment={ERRORS_AS_RESULTS: "true"},
            Tags=tag_list(tags),
        )

    def transform_job_status(self, name: str) -> tuple[str, str]:
        found = self.client.describe_transform_job(TransformJobName=name)
        return found["TransformJobStatus"], found.get("FailureReason", "")

    def processing_job_exit_message(self, job_name: str) -> str:
        found = self.client.describe_processing_job(ProcessingJobName=job_name)
        return found.get("ExitMessage") or found.get("FailureReason") or ""

    # Promotion and rollback (deployment/promotion.py).

    def set_approval(self, arn: str, status: str, description: str) -> None:
        self.client.update_model_package(
            ModelPackageArn=arn, ModelApprovalStatus=status, ApprovalDescription=description
        )

    def describe_model(self, name: str) -> Model | None:
        """A model as SageMaker holds it (the endpoint's current one, for a rollback), None if gone."""
        try:
            found = self.client.describe_model(ModelName=name)
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        container, role = found.get("PrimaryContainer", {}), found.get("ExecutionRoleArn", "")
        environment = tuple(sorted(container.get("Environment", {}).items()))
        multi_model = container.get("Mode") == MULTI_MODEL
        return Model(
            name,
            container.get("Image", ""),
            container.get("ModelDataUrl", ""),
            role,
            environment,
            multi_model,
            found.get("CreationTime"),
        )


def schedule_config(schedule: Schedule, expression: str | None = None) -> dict:
    """The MonitoringScheduleConfig for our custom image.

    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateMonitoringSchedule.html
    """
    schedule_part = {"ScheduleExpression": expression or schedule.expression}
    if expression == "NOW":
        schedule_part.update(DataAnalysisStartTime="-PT1H", DataAnalysisEndTime="-PT0H")
    return {
        "ScheduleConfig": schedule_part,
        "MonitoringJobDefinition": {
            "MonitoringInputs": [
                {
                    "EndpointInput": {
                        "EndpointName": schedule.endpoint_name,
                        "LocalPath": CAPTURE_LOCAL_PATH,
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                }
            ],
            "MonitoringOutputConfig": {
                "MonitoringOutputs": [
                    {
                        "S3Output": {
                            "S3Uri": schedule.output_s3_uri,
                            "LocalPath": REPORT_LOCAL_PATH,
                            "S3UploadMode": "EndOfJob",
                        }
                    }
                ]
            },
            "MonitoringResources": {
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": schedule.instance_type,
                    "VolumeSizeInGB": schedule.volume_size_gb,
                }
            },
            "MonitoringAppSpecification": {"ImageUri": schedule.image_uri},
            "StoppingCondition": {"MaxRuntimeInSeconds": schedule.max_runtime_seconds},
            "Environment": dict(schedule.environment),
            "RoleArn": schedule.role_arn,
        },
    }


def _capture_config(config: EndpointConfig) -> dict:
    capture = config.capture
    modes = [{"CaptureMode": "Input"}] * capture.capture_input + [
        {"CaptureMode": "Output"}
    ] * capture.capture_output
    request = {
        "EnableCapture": True,
        "InitialSamplingPercentage": capture.sampling_percent,
        "DestinationS3Uri": capture.destination_s3_uri,
        "CaptureOptions": modes,
        # Responses are JSON: captured as text, not base64, so the monitor reads them directly.
        "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
    }
    if capture.kms_key_id:
        request["KmsKeyId"] = capture.kms_key_id
    return request


def _schedule_from(found: dict) -> Schedule:
    config = found["MonitoringScheduleConfig"]
    job = config["MonitoringJobDefinition"]
    cluster = job["MonitoringResources"]["ClusterConfig"]
    return Schedule(
        name=found["MonitoringScheduleName"],
        endpoint_name=job["MonitoringInputs"][0]["EndpointInput"]["EndpointName"],
        image_uri=job["MonitoringAppSpecification"]["ImageUri"],
        role_arn=job["RoleArn"],
        expression=config["ScheduleConfig"]["ScheduleExpression"],
        environment=tuple(sorted(job.get("Environment", {}).items())),
        instance_type=cluster["InstanceType"],
        volume_size_gb=cluster["VolumeSizeInGB"],
        max_runtime_seconds=job["StoppingCondition"]["MaxRuntimeInSeconds"],
        output_s3_uri=job["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["S3Uri"],
    )
