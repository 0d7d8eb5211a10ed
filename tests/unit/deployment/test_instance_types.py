"""The SageMaker lists kept offline in the repository equal what the pinned botocore says.

A botocore bump that adds or drops an instance type or a region fails here, naming the difference.
"""

from __future__ import annotations

import boto3
import botocore.session
import pytest

from deployment.config_checks import sagemaker_regions
from deployment.instance_types import HOSTING_INSTANCE_TYPES, PROCESSING_INSTANCE_TYPES


@pytest.mark.parametrize(
    ("kept", "shape"),
    [
        (HOSTING_INSTANCE_TYPES, "ProductionVariantInstanceType"),
        (PROCESSING_INSTANCE_TYPES, "ProcessingInstanceType"),
    ],
)
def test_the_instance_types_kept_in_the_repository_are_botocores(kept: frozenset[str], shape: str):
    model = botocore.session.get_session().get_service_model("sagemaker")
    botocores = frozenset(model.shape_for(shape).enum)

    drift = {"add": sorted(botocores - kept), "remove": sorted(kept - botocores)}
    assert drift == {"add": [], "remove": []}, f"update deployment/instance_types.py ({shape}): {drift}"


def test_the_regions_are_those_boto3_lists_for_sagemaker_in_every_partition():
    session = boto3.session.Session()
    listed = {
        region: partition
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("sagemaker", partition_name=partition)
    }

    assert sagemaker_regions() == listed
    assert {"us-east-1", "cn-north-1", "us-gov-west-1"} <= set(listed)
