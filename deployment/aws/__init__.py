"""The only package that talks to AWS. One small class per service, each AWS call spelled out."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
from botocore.config import Config as BotoConfig

from deployment.aws.alarms import Alarms
from deployment.aws.cdn import Cdn
from deployment.aws.dashboards import Dashboards
from deployment.aws.events import Events
from deployment.aws.functions import Functions
from deployment.aws.http_api import HttpApis
from deployment.aws.identity import Identity
from deployment.aws.keys import Keys
from deployment.aws.notifications import Notifications
from deployment.aws.sagemaker import SageMaker
from deployment.aws.scaling import Scaling
from deployment.aws.storage import Storage
from deployment.aws.tagging import Tagging
from deployment.aws.website import Website


@dataclass(frozen=True)
class Aws:
    storage: Storage
    identity: Identity
    sagemaker: SageMaker
    alarms: Alarms
    scaling: Scaling
    functions: Functions
    http_api: HttpApis
    tagging: Tagging
    website: Website
    cdn: Cdn
    notifications: Notifications
    keys: Keys
    dashboards: Dashboards
    events: Events
    region: str


def connect(region: str, session: boto3.Session | None = None) -> Aws:
    """Clients for one region. boto3 honours AWS_ENDPOINT_URL, so a local moto server works too."""
    session = session or boto3.Session(region_name=region)
    retries = BotoConfig(retries={"mode": "standard", "max_attempts": 5})

    def client(name: str):
        return session.client(name, region_name=region, config=retries)

    s3, iam, sagemaker, cloudwatch = client("s3"), client("iam"), client("sagemaker"), client("cloudwatch")
    functions, logs, gateway = client("lambda"), client("logs"), client("apigatewayv2")
    sns, kms = client("sns"), client("kms")
    return Aws(
        storage=Storage(s3, region),
        identity=Identity(iam, client("sts")),
        sagemaker=SageMaker(sagemaker),
        alarms=Alarms(cloudwatch),
        scaling=Scaling(client("application-autoscaling")),
        functions=Functions(functions, logs),
        http_api=HttpApis(gateway),
        tagging=Tagging(s3, iam, sagemaker, cloudwatch, functions, logs, gateway, sns, kms),
        website=Website(s3, region),
        cdn=Cdn(client("cloudfront")),  # global: one endpoint whatever the region
        notifications=Notifications(sns),
        keys=Keys(kms),
        dashboards=Dashboards(cloudwatch),
        events=Events(client("events")),
        region=region,
    )
