"""Every kind of AWS resource the engine manages, one module each, and the registry of them.

A module holds the kind's desired model (frozen dataclasses that `deployment/aws/` reads live
resources back into), its planning helpers where it needs more than `compare`, and its `Resource`
handler: how to create, update and delete it. To add a kind: a `Kind` member in base.py, a module
here, its module in `MODULES` below, and its tests.
"""

from __future__ import annotations

from deployment.resources import (
    access_control,
    alarm,
    alert,
    alert_key,
    alert_subscription,
    alert_topic,
    approval,
    artifact,
    autoscaling,
    bucket,
    dashboard,
    distribution,
    drop_folder,
    endpoint,
    endpoint_config,
    function,
    http_api,
    lambda_permission,
    log_group,
    model,
    model_upload,
    monitoring_schedule,
    registry,
    role,
    tags,
    web_bucket,
    web_files,
)
from deployment.resources.base import Kind, Resource

MODULES = (
    bucket,
    role,
    artifact,
    model,
    endpoint_config,
    alert_key,
    alert_topic,
    alert_subscription,
    alarm,
    alert,
    endpoint,
    autoscaling,
    monitoring_schedule,
    log_group,
    function,
    http_api,
    lambda_permission,
    web_bucket,
    access_control,
    distribution,
    web_files,
    dashboard,
    drop_folder,
    registry,
    approval,
    model_upload,
    tags,
)

REGISTRY: dict[Kind, Resource] = {handler.kind: handler for module in MODULES for handler in module.RESOURCES}

missing = set(Kind) - set(REGISTRY)
if missing:  # a Kind without a handler is a programming error, caught at import
    raise ImportError(f"no handler for {', '.join(sorted(missing))}")
