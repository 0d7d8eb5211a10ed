"""The web page's resources as a successful deploy leaves them, and the in-memory account's web side."""

from __future__ import annotations

from dataclasses import replace

from deployment import website
from deployment.policies import canonical
from deployment.remote import RemoteWeb
from deployment.resources.base import Action
from deployment.resources.http_api import Cors
from deployment.resources.placeholders import resolve
from deployment.resources.web_bucket import BucketPolicy, bucket_policy
from deployment.web_state import WebState

ACCOUNT = "123456789012"
DISTRIBUTION_ID = "E2QWRUHEXAMPLE"
DISTRIBUTION_ARN = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{DISTRIBUTION_ID}"
DOMAIN = "d111111abcdef8.cloudfront.net"
WEB_ORIGIN = f"https://{DOMAIN}"
ACCESS_CONTROL_ID = "E1OACEXAMPLE"
ETAG = "E2QWRUHAPOMQZL"


def deployed_web(web: WebState | None, api_url: str | None, tags: tuple[tuple[str, str], ...]) -> RemoteWeb:
    """Read back after a deploy: ids assigned, no local paths, the page's checksum for its API."""
    if web is None:
        return RemoteWeb()
    distribution = replace(
        web.distribution,
        access_control_id=ACCESS_CONTROL_ID,
        distribution_id=DISTRIBUTION_ID,
        arn=DISTRIBUTION_ARN,
        domain_name=DOMAIN,
        status="Deployed",
        etag=ETAG,
    )
    page = replace(web.page, model_name="", models=())
    if api_url:
        body = website.render_page(api_url, web.page.model_name, web.page.models)
        page = replace(page, sha256=website.sha256_of(body))
    return RemoteWeb(
        bucket=replace(web.bucket, tags=tags),
        bucket_is_ours=True,
        policy=BucketPolicy(web.bucket.name, canonical(bucket_policy(web.bucket.name, DISTRIBUTION_ARN))),
        files=tuple(replace(file, path="") for file in web.files),
        page=page,
        access_control=replace(web.access_control, control_id=ACCESS_CONTROL_ID),
        distribution=distribution,
        distribution_tags=tags,
    )


def applied_web(web: RemoteWeb, action: Action, api_url: str | None) -> RemoteWeb:
    """What the executor leaves of the page's resources after `action`."""
    target = action.target
    match action.kind, action.verb:
        case "web-bucket", "create" | "update":
            return replace(web, bucket=target, bucket_is_ours=True)
        case "web-bucket-policy", "create" | "update":
            return replace(web, policy=target)
        case "web-oac", "create" | "update":
            return replace(
                web, access_control=replace(target, control_id=target.control_id or ACCESS_CONTROL_ID)
            )
        case "web-distribution", "create":
            created = replace(
                target,
                access_control_id=target.access_control_id or ACCESS_CONTROL_ID,
                distribution_id=DISTRIBUTION_ID,
                arn=DISTRIBUTION_ARN,
                domain_name=DOMAIN,
                status="Deployed",
                etag=ETAG,
            )
            tags = dict(web.bucket.tags) if web.bucket else {}
            return replace(web, distribution=created, distribution_tags=tuple(sorted(tags.items())))
        case "web-distribution", "update":
            access_control_id = target.access_control_id or web.access_control.control_id
            return replace(web, distribution=replace(target, access_control_id=access_control_id))
        case "web-distribution-tags", "update":
            return replace(web, distribution_tags=target.tags)
        case "web-file", "create" | "update":
            others = tuple(file for file in web.files if file.key != target.key)
            return replace(web, files=(*others, replace(target, path="")))
        case "web-file", "delete":
            return replace(web, files=tuple(file for file in web.files if file.key != target.key))
        case "web-page", "create" | "update":
            body = website.render_page(target.api_url or api_url, target.model_name, target.models)
            read_back = replace(
                target, sha256=website.sha256_of(body), api_url=None, model_name="", models=()
            )
            return replace(web, page=read_back)
    return web


def resolved(cors: Cors | None) -> Cors | None:
    """CORS as the API holds it once the page's origin was added (AWS keeps the origins sorted)."""
    if cors is None:
        return None
    return replace(cors, allow_origins=tuple(sorted(resolve(cors.allow_origins, CREATED, "CORS"))))


# The ids the in-memory account assigns to what a run creates, by the executor's variable names.
CREATED = {
    "web.access_control_id": ACCESS_CONTROL_ID,
    "web.distribution_id": DISTRIBUTION_ID,
    "web.distribution_arn": DISTRIBUTION_ARN,
    "web.origin": WEB_ORIGIN,
}
