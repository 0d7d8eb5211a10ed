"""What the S3 website serves: webapp/'s static files as they are, and index.html rendered for the API.

No AWS here. The page is rendered with the API's URL, which exists only once the API does, so
index.html is described by what it is rendered *from* (its sources and the URL), and rendered
when it is uploaded.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from webapp.render import WEBAPP, render_index, static_names

INDEX = "index.html"
STATIC_PREFIX = "static"
PAGE_CACHE_CONTROL = "no-cache"  # always revalidated: a new deploy shows at once
# Assets keep their names across deploys, so browsers may reuse them only briefly.
ASSET_CACHE_CONTROL = "public, max-age=300"
# The regions that predate the dotted spelling: http://{bucket}.s3-website-{region}.amazonaws.com
DASHED_WEBSITE_REGIONS = frozenset(
    {
        "us-east-1",
        "us-west-1",
        "us-west-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-northeast-1",
        "eu-west-1",
        "sa-east-1",
        "us-gov-west-1",
    }
)


def website_url(bucket: str, region: str) -> str:
    """The S3 website endpoint of a bucket: `s3-website-{region}` in older regions, `s3-website.{region}` after."""
    separator = "-" if region in DASHED_WEBSITE_REGIONS else "."
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"http://{bucket}.s3-website{separator}{region}.{domain}"


def origin_of(url: str) -> str:
    """Scheme and host: what a browser sends as `Origin` (no path, no trailing slash)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def static_files() -> list[tuple[str, Path]]:
    """(bucket key, local file) of every asset under webapp/static, in a stable order."""
    return [(f"{STATIC_PREFIX}/{name}", path) for name, path in static_names().items()]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def page_source_sha256(model_name: str) -> str:
    """What index.html is rendered from besides the API URL: the templates and the model's name."""
    digest = hashlib.sha256()
    templates = WEBAPP / "templates"
    for path in sorted(templates.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(templates).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(f"model_name={model_name}\0static_url={STATIC_PREFIX}".encode())
    return digest.hexdigest()


def render_page(api_url: str, model_name: str) -> bytes:
    return render_index(api_url=api_url, model_name=model_name, static_url=STATIC_PREFIX).encode()
