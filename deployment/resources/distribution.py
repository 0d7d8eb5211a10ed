"""The page's CloudFront distribution (HTTPS on *.cloudfront.net), its tags, and invalidations.

CloudFront takes minutes to deploy a new or changed distribution, and deletes only one that is
disabled and deployed; each wait reports a line per poll. Ids it assigns are not compared: the
planner takes them from what exists, and the executor from what is created in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deployment import website
from deployment.errors import DeploymentError
from deployment.resources.base import Action, Kind, Resource, Run
from deployment.resources.placeholders import Variable

# Managed policies, the same id in every account. CachingOptimized honours the objects' own
# Cache-Control between 1 second and a year, so index.html ("no-cache") is held 1 s at the edge.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
# SecurityHeadersPolicy: HSTS, X-Content-Type-Options, X-Frame-Options, Referrer-Policy, X-XSS-Protection.
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
HTTP_VERSION = "http2and3"
ALLOWED_METHODS = ("GET", "HEAD")  # a static page: nothing is sent to the bucket
ORIGIN_ID = "web-bucket"  # the distribution's one origin the engine manages (others are kept)

# What creating (or updating) the distribution records for the actions after it.
DISTRIBUTION_ID = Variable("web.distribution_id")
DISTRIBUTION_ARN = Variable("web.distribution_arn")
WEB_ORIGIN = Variable("web.origin")


@dataclass(frozen=True)
class Distribution:
    """What the engine sets on the page's distribution; found again by its comment and the project tag."""

    comment: str
    origin_domain: str  # the bucket's S3 REST endpoint (not the website endpoint)
    access_control_id: str | Variable  # the access control's; a Variable when created in the same run
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


class DistributionResource(Resource):
    kind = Kind.WEB_DISTRIBUTION

    def create(self, run: Run, action: Action) -> dict[str, str]:
        return _recorded(wait_deployed(run, run.aws.cdn.create(action.target, run.tags)))

    def update(self, run: Run, action: Action) -> dict[str, str]:
        return _recorded(wait_deployed(run, run.aws.cdn.update(action.target)))

    def delete(self, run: Run, action: Action) -> None:
        """Disable, wait for that to deploy, delete: resumable from any step (a destroy run again)."""
        current = run.aws.cdn.read(action.target.distribution_id)
        if current is None:
            return  # deleted since it was read
        if current.enabled:
            current = run.aws.cdn.disable(current.distribution_id)
        run.aws.cdn.delete(wait_deployed(run, current))


class DistributionTagsResource(Resource):
    kind = Kind.WEB_DISTRIBUTION_TAGS

    def update(self, run: Run, action: Action) -> None:
        run.aws.cdn.set_tags(action.target.arn, action.target.tags)


class InvalidationResource(Resource):
    """Changed paths leave CloudFront's cache at once, not when their TTL ends."""

    kind = Kind.WEB_INVALIDATION

    def create(self, run: Run, action: Action) -> None:
        invalidation: Invalidation = action.target
        distribution_id = invalidation.distribution_id
        invalidation_id = run.aws.cdn.invalidate(distribution_id, invalidation.paths, invalidation.reference)
        started = run.clock.now()
        while (status := run.aws.cdn.invalidation_status(distribution_id, invalidation_id)) != "Completed":
            elapsed = run.clock.now() - started
            run.report(f"  invalidation {invalidation_id}: {status} ({elapsed:.0f}s)")
            _pause(run, elapsed, f"invalidation {invalidation_id}")


def wait_deployed(run: Run, distribution: Distribution) -> Distribution:
    """Waits until CloudFront has deployed the distribution to its edges (minutes)."""
    started = run.clock.now()
    what = f"distribution {distribution.distribution_id} ({distribution.domain_name})"
    while True:
        current = run.aws.cdn.read(distribution.distribution_id)
        elapsed = run.clock.now() - started
        if current is None:
            raise DeploymentError("the distribution disappeared while deploying", where=what)
        run.report(f"  {what}: {current.status} ({elapsed:.0f}s)")
        if current.status == "Deployed":
            return current
        _pause(run, elapsed, what)


def _recorded(distribution: Distribution) -> dict[str, str]:
    return {
        DISTRIBUTION_ID.name: distribution.distribution_id,
        DISTRIBUTION_ARN.name: distribution.arn,
        WEB_ORIGIN.name: distribution.origin,
    }


def _pause(run: Run, elapsed: float, what: str) -> None:
    run.pause(elapsed, what, run.waits.distribution_timeout_seconds, run.waits.distribution_poll_seconds)


RESOURCES = (DistributionResource(), DistributionTagsResource(), InvalidationResource())
