"""Desired state of the web page: a private S3 bucket, served over HTTPS by a CloudFront distribution.

CloudFront signs its requests to the bucket with an origin access control (SigV4), and the bucket
policy lets in that one distribution and nothing else: no object is public. Ids CloudFront assigns
(the distribution's id, domain and ARN, the access control's id) are not compared; the planner takes
them from what exists, and the executor from what it creates in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from deployment import website
from deployment.config import Config
from deployment.config import Model as ModelSettings
from deployment.errors import ConfigError
from deployment.naming import Names
from deployment.policies import deny_insecure_transport
from webapp.render import content_type

ORIGIN_ID = "web-bucket"
# Managed policies, the same id in every account. CachingOptimized honours the objects' own
# Cache-Control between 1 second and a year, so index.html ("no-cache") is held 1 s at the edge.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
# SecurityHeadersPolicy: HSTS, X-Content-Type-Options, X-Frame-Options, Referrer-Policy, X-XSS-Protection.
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
HTTP_VERSION = "http2and3"
ALLOWED_METHODS = ("GET", "HEAD")  # a static page: nothing is sent to the bucket
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
class WebBucket:
    name: str
    access_block: tuple[bool, bool, bool, bool]
    encryption: str  # the default SSEAlgorithm
    website: (
        bool  # S3 static website hosting, the plain-HTTP endpoint earlier versions published: never wanted
    )
    tags: tuple[tuple[str, str], ...] = ()  # desired: filled in by the planner with the engine's tags


@dataclass(frozen=True)
class BucketPolicy:
    bucket: str
    document: str  # canonical JSON; "" when it must name a distribution created in the same run


@dataclass(frozen=True)
class WebFile:
    """An asset uploaded as it is; S3 verifies and keeps its SHA-256 (ChecksumSHA256), so it is
    compared by content, not by what the object's metadata claims."""

    bucket: str
    key: str
    content_type: str
    cache_control: str
    sha256: str  # hex; "" when S3 holds no full-object SHA-256 for it (uploaded by other means)
    path: str = field(default="", compare=False)


@dataclass(frozen=True)
class WebPage:
    """index.html, rendered for the API's URL, compared by the SHA-256 of the rendered bytes."""

    bucket: str
    key: str
    content_type: str
    cache_control: str
    sha256: str  # "" until the API's URL is known (an API created in the same run)
    api_url: str | None = field(default=None, compare=False)
    model_name: str = field(default="", compare=False)


@dataclass(frozen=True)
class AccessControl:
    """The origin access control: CloudFront signs every request to the bucket (SigV4)."""

    name: str  # unique in the account; the access control has no tags, so its name identifies it
    description: str
    signing_protocol: str = "sigv4"
    signing_behavior: str = "always"
    origin_type: str = "s3"
    control_id: str = field(default="", compare=False)


@dataclass(frozen=True)
class Distribution:
    """What the engine sets on the page's distribution; found again by its comment and the project tag."""

    comment: str
    origin_domain: str  # the bucket's S3 REST endpoint (not the website endpoint)
    access_control_id: str  # "" when the access control is created in the same run
    default_root_object: str = website.INDEX
    viewer_protocol_policy: str = "redirect-to-https"
    allowed_methods: tuple[str, ...] = ALLOWED_METHODS
    cache_policy_id: str = CACHING_OPTIMIZED
    response_headers_policy_id: str = SECURITY_HEADERS
    compress: bool = True
    price_class: str = "PriceClass_100"  # webapp.price_class
    http_version: str = HTTP_VERSION
    ipv6: bool = True
    default_certificate: bool = True  # HTTPS on *.cloudfront.net
    enabled: bool = True
    reference: str = field(default="", compare=False)  # CallerReference: fixed at creation
    distribution_id: str = field(default="", compare=False)
    arn: str = field(default="", compare=False)
    domain_name: str = field(default="", compare=False)  # d111111abcdef8.cloudfront.net
    status: str = field(default="", compare=False)  # InProgress | Deployed
    etag: str = field(default="", compare=False)  # the version an update or delete must name (IfMatch)

    @property
    def origin(self) -> str:
        """What a browser on the page sends as `Origin`."""
        return f"https://{self.domain_name}"

    @property
    def url(self) -> str:
        return f"{self.origin}/"


@dataclass(frozen=True)
class DistributionTags:
    arn: str = field(compare=False)
    tags: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Invalidation:
    distribution_id: str
    paths: tuple[str, ...]
    reference: str  # CallerReference: the same change invalidated twice is one invalidation


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
    )
    access_control = AccessControl(
        names.origin_access_control, f"CloudFront reads {bucket} for {names.web_distribution}"
    )
    distribution = Distribution(
        names.web_distribution_comment,
        s3_origin_domain(bucket, names.region),
        access_control_id="",
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


def bucket_policy(bucket: str, distribution_arn: str) -> dict:
    """Only the page's distribution may read objects, and no request may arrive without TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadByThePagesDistribution",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            },
            deny_insecure_transport(bucket),
        ],
    }


def page_model_name(model: ModelSettings) -> str:
    """The name the page shows: the catalog name, or the file's name for a model of your own."""
    source = model.path or (model.url or "").split("?")[0]
    return Path(source).stem if source else model.name
