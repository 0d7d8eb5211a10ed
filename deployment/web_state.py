"""Desired state of the web page: a private S3 bucket, served over HTTPS by a CloudFront distribution.

CloudFront signs its requests to the bucket with an origin access control (SigV4), and the bucket
policy lets in that one distribution and nothing else: no object is public. Ids CloudFront assigns
(the distribution's id, domain and ARN, the access control's id) are not compared; the planner takes
them from what exists, and the executor from what it creates in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deployment import website
from deployment.config import Config
from deployment.config import Model as ModelSettings
from deployment.errors import ConfigError
from deployment.naming import Names
from deployment.resources.access_control import ACCESS_CONTROL_ID, AccessControl
from deployment.resources.distribution import Distribution
from deployment.resources.web_bucket import WebBucket
from deployment.resources.web_files import WebFile, WebPage
from webapp.render import content_type

PRIVATE = (
    True,
    True,
    True,
    True,
)  # BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets
SSE_S3 = "AES256"  # KMS would also need a key policy for CloudFront; the page holds no secret
# Regions outside AWS's standard partition: China, GovCloud, the isolated and sovereign clouds.
OTHER_PARTITIONS = ("cn-", "us-gov-", "us-iso", "eu-iso", "eusc-")


@dataclass(frozen=True)
class WebState:
    bucket: WebBucket
    files: tuple[WebFile, ...]
    page: WebPage
    access_control: AccessControl
    distribution: Distribution


def web_state(config: Config, names: Names) -> WebState | None:
    if not config.webapp.enabled:
        return None
    if names.region.startswith(OTHER_PARTITIONS):
        raise ConfigError(
            f"the page is served by CloudFront on *.cloudfront.net, which {names.region}'s partition "
            "does not offer",
            where="webapp.enabled",
            hint="set webapp.enabled: false, or deploy to a standard region",
        )
    bucket = web_bucket_name(config, names)
    files = tuple(
        WebFile(
            bucket,
            key,
            content_type(path),
            website.ASSET_CACHE_CONTROL,
            website.file_sha256(path),
            str(path),
        )
        for key, path in website.static_files()
    )
    model_name = page_model_name(config.model)
    page = WebPage(
        bucket,
        website.INDEX,
        content_type(Path(website.INDEX)),
        website.PAGE_CACHE_CONTROL,
        sha256="",
        model_name=model_name,
        models=config.served_models,
    )
    access_control = AccessControl(
        names.origin_access_control, f"CloudFront reads {bucket} for {names.web_distribution}"
    )
    distribution = Distribution(
        names.web_distribution_comment,
        s3_origin_domain(bucket, names.region),
        access_control_id=ACCESS_CONTROL_ID,
        price_class=config.webapp.price_class,
        reference=names.web_distribution,
    )
    return WebState(
        WebBucket(bucket, PRIVATE, SSE_S3, website=False), files, page, access_control, distribution
    )


def web_bucket_name(config: Config, names: Names) -> str:
    return config.webapp.bucket or names.default_web_bucket()


def s3_origin_domain(bucket: str, region: str) -> str:
    """The bucket's regional REST endpoint: what an origin access control signs requests for."""
    return f"{bucket}.s3.{region}.amazonaws.com"


def page_model_name(model: ModelSettings) -> str:
    """The name the page shows: the catalog name, or the file's name for a model of your own."""
    source = model.path or (model.url or "").split("?")[0]
    return Path(source).stem if source else model.name
