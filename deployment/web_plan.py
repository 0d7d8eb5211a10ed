"""The web page's part of a plan: the private bucket, CloudFront in front of it, the files. Pure.

Three groups, because of what each needs. The edge (bucket, access control, distribution, the bucket
policy naming the distribution) comes before the API, whose CORS must allow the distribution's
origin. The content (assets, then index.html, which carries the API's URL) comes after the API.
Last, assets no longer shipped are removed and CloudFront forgets what it cached of the changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from deployment import website
from deployment.api_state import ApiState
from deployment.errors import DeploymentError
from deployment.naming import PROJECT_TAG, content_hash
from deployment.policies import canonical
from deployment.remote import RemoteWeb
from deployment.resources.access_control import ACCESS_CONTROL_ID
from deployment.resources.base import Action, Kind, Verb, compare
from deployment.resources.distribution import DISTRIBUTION_ARN, Distribution, DistributionTags, Invalidation
from deployment.resources.http_api import API_URL
from deployment.resources.placeholders import Template, is_pending
from deployment.resources.web_bucket import BucketPolicy, WebBucket, bucket_policy
from deployment.resources.web_files import WebFile, WebPage
from deployment.web_state import WebState

Tags = tuple[tuple[str, str], ...]
NEW_DISTRIBUTION = "HTTPS on *.cloudfront.net; CloudFront takes minutes to deploy it"
DISABLE_FIRST = "disabled first, deleted once CloudFront has deployed that (minutes)"


@dataclass(frozen=True)
class WebPlan:
    edge: list[Action] = field(default_factory=list)
    content: list[Action] = field(default_factory=list)
    finish: list[Action] = field(default_factory=list)


def with_page_origin(api: ApiState | None, remote: RemoteWeb) -> ApiState | None:
    """The API's CORS with the page's HTTPS origin, once its distribution exists. Until then the
    origin stays a placeholder (so the CORS differs from any API found), filled in by the executor
    from the distribution it creates earlier in the same run."""
    cors = api.api.cors if api else None
    if api is None or cors is None or not cors.page_origin_pending or remote.distribution is None:
        return api
    known = {origin for origin in cors.allow_origins if not is_pending(origin)}
    origins = tuple(sorted({*known, remote.distribution.origin}))
    return replace(api, api=replace(api.api, cors=replace(cors, allow_origins=origins)))


def web_plan(desired: WebState | None, remote: RemoteWeb, tags: Tags, api_url: str | None) -> WebPlan:
    if desired is None:
        return WebPlan(
            edge=[replace(action, reason="webapp.enabled is false") for action in destroy_web(remote)]
        )
    if remote.bucket and not remote.bucket_is_ours:
        raise DeploymentError(
            "the bucket exists but is not this deployment's (another deployment's tag, or objects in it); "
            "the engine sets a web bucket's policy and deletes what webapp/static does not ship, "
            "so it only uses a bucket it created or an empty, untagged one",
            where=f"s3://{desired.bucket.name}",
            hint="set webapp.bucket to a new name",
        )
    content = _content(desired, remote, api_url)
    finish = stale_web_files(desired, remote)
    return WebPlan(
        _edge(desired, remote, tags), content, finish + _invalidation(desired, remote, content + finish)
    )


def destroy_web(remote: RemoteWeb) -> list[Action]:
    """The distribution first (it reads the bucket and uses the access control), then those two."""
    actions = []
    if remote.distribution:
        name = remote.distribution.reference or remote.distribution.distribution_id
        actions.append(Action(Verb.DELETE, Kind.WEB_DISTRIBUTION, name, DISABLE_FIRST, remote.distribution))
    if remote.access_control:
        actions.append(
            Action(Verb.DELETE, Kind.WEB_OAC, remote.access_control.name, target=remote.access_control)
        )
    if remote.bucket and remote.bucket_is_ours:
        actions.append(
            Action(Verb.DELETE, Kind.WEB_BUCKET, remote.bucket.name, "and every object in it", remote.bucket)
        )
    return actions  # a bucket that is not ours is never touched


def stale_web_files(desired: WebState, remote: RemoteWeb) -> list[Action]:
    """Objects no longer in webapp/static (a renamed asset), removed once the new page is up."""
    wanted = {file.key for file in desired.files}
    return [
        Action(Verb.DELETE, Kind.WEB_FILE, _uri(file), "no longer in webapp/static", file)
        for file in remote.files
        if file.key not in wanted
    ]


def _edge(desired: WebState, remote: RemoteWeb, tags: Tags) -> list[Action]:
    found = remote.distribution
    control_id = remote.access_control.control_id if remote.access_control else ""
    return [
        _bucket(replace(desired.bucket, tags=tags), remote),
        compare(
            Kind.WEB_OAC,
            desired.access_control.name,
            replace(desired.access_control, control_id=control_id),
            remote.access_control,
        ),
        # Signed by the access control found, or by the one created above.
        _distribution(
            replace(desired.distribution, access_control_id=control_id or ACCESS_CONTROL_ID), found
        ),
        *([_distribution_tags(found, remote.distribution_tags, tags)] if found else []),
        _policy(desired.bucket.name, found, remote.policy),
    ]


def _bucket(desired: WebBucket, remote: RemoteWeb) -> Action:
    current = remote.bucket
    if current is not None and PROJECT_TAG not in dict(current.tags):
        reason = "empty and untagged (an interrupted deploy's): marked as this deployment's and configured"
        return Action(Verb.UPDATE, Kind.WEB_BUCKET, desired.name, reason, desired)
    return compare(Kind.WEB_BUCKET, desired.name, desired, current)


def _distribution(desired: Distribution, found: Distribution | None) -> Action:
    if found is None:
        return Action(Verb.CREATE, Kind.WEB_DISTRIBUTION, desired.reference, NEW_DISTRIBUTION, desired)
    assigned = {"distribution_id", "arn", "domain_name", "status", "etag"}
    wanted = replace(desired, **{name: getattr(found, name) for name in assigned})
    if is_pending(desired.access_control_id):
        reason = "signed by the access control created above"
        return Action(Verb.UPDATE, Kind.WEB_DISTRIBUTION, desired.reference, reason, wanted)
    return compare(Kind.WEB_DISTRIBUTION, desired.reference, wanted, found)


def _distribution_tags(found: Distribution, current: Tags, tags: Tags) -> Action:
    name = f"{found.reference or found.distribution_id} tags"
    return compare(
        Kind.WEB_DISTRIBUTION_TAGS,
        name,
        DistributionTags(found.arn, tags),
        DistributionTags(found.arn, current),
    )


def _policy(bucket: str, found: Distribution | None, current: BucketPolicy | None) -> Action:
    if found is None:
        verb = Verb.CREATE if current is None else Verb.UPDATE
        document = Template.of(canonical(bucket_policy(bucket, "{arn}")), arn=DISTRIBUTION_ARN)
        return Action(
            verb,
            Kind.WEB_BUCKET_POLICY,
            bucket,
            "for the distribution created above",
            BucketPolicy(bucket, document),
        )
    wanted = BucketPolicy(bucket, canonical(bucket_policy(bucket, found.arn)))
    return compare(Kind.WEB_BUCKET_POLICY, bucket, wanted, current)


def _content(desired: WebState, remote: RemoteWeb, api_url: str | None) -> list[Action]:
    existing = {file.key: file for file in remote.files}
    return [
        *(compare(Kind.WEB_FILE, _uri(file), file, existing.get(file.key)) for file in desired.files),
        _page(desired.page, remote.page, api_url),
    ]


def _page(desired: WebPage, remote: WebPage | None, api_url: str | None) -> Action:
    if api_url is None:
        verb = Verb.CREATE if remote is None else Verb.UPDATE
        target = replace(desired, api_url=API_URL)
        return Action(verb, Kind.WEB_PAGE, _uri(desired), "with the URL of the API created above", target)
    body = website.render_page(api_url, desired.model_name, desired.models)
    wanted = replace(desired, api_url=api_url, sha256=website.sha256_of(body))
    return compare(Kind.WEB_PAGE, _uri(desired), wanted, remote)


def _invalidation(desired: WebState, remote: RemoteWeb, changes: list[Action]) -> list[Action]:
    """Changed paths leave CloudFront's cache at once, not when their TTL ends (assets: 5 minutes).
    A new distribution has nothing cached. `/static/*` counts as one path, like each other path."""
    changed = [action for action in changes if action.mutates]
    found = remote.distribution
    if found is None or not changed:
        return []
    paths = []
    if any(action.kind == Kind.WEB_PAGE for action in changed):
        paths += ["/", f"/{website.INDEX}"]  # the root object is cached under "/" too
    if any(action.kind == Kind.WEB_FILE for action in changed):
        paths.append(f"/{website.STATIC_PREFIX}/*")
    # From what is replaced and by what: a retried deploy reuses it (CloudFront then makes no second
    # invalidation), while changing a file back later is a new change with a new reference.
    before = {file.key: file.sha256 for file in remote.files}
    before[website.INDEX] = remote.page.sha256 if remote.page else ""
    after = [(action.name, getattr(action.target, "sha256", ""), action.verb) for action in changed]
    reference = f"{found.reference}-{content_hash([sorted(before.items()), after], 16)}"
    target = Invalidation(found.distribution_id, tuple(paths), reference)
    return [Action(Verb.CREATE, Kind.WEB_INVALIDATION, found.reference, " ".join(paths), target)]


def _uri(file: WebFile | WebPage) -> str:
    return f"s3://{file.bucket}/{file.key}"
