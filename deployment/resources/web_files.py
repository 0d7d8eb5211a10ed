"""The page's files in its bucket: the assets as they are, and index.html rendered for the API's URL."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from deployment import website
from deployment.errors import DeploymentError
from deployment.resources.base import Action, Kind, Resource, Run
from deployment.resources.placeholders import Variable


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
    sha256: str  # of the rendered page; "" until the API's URL is known (rendered when it is put)
    api_url: str | Variable | None = field(default=None, compare=False)
    model_name: str = field(default="", compare=False)
    models: tuple[str, ...] = field(default=(), compare=False)  # a multi-model stage's, default first


class WebFileResource(Resource):
    kind = Kind.WEB_FILE

    def create(self, run: Run, action: Action) -> None:
        run.aws.website.put_file(action.target)

    update = create

    def delete(self, run: Run, action: Action) -> None:
        run.aws.website.delete_object(action.target.bucket, action.target.key)


class WebPageResource(Resource):
    kind = Kind.WEB_PAGE

    def create(self, run: Run, action: Action) -> None:
        page: WebPage = action.target
        if not isinstance(page.api_url, str):
            raise DeploymentError("the API's URL is unknown, so the page cannot be rendered", where=page.key)
        body = website.render_page(page.api_url, page.model_name, page.models)
        run.aws.website.put_page(replace(page, sha256=website.sha256_of(body)), body)

    update = create


RESOURCES = (WebFileResource(), WebPageResource())
