"""What the web bucket holds: webapp/'s static files as they are, and index.html rendered for the API.

No AWS here. The page is rendered with the API's URL, which exists only once the API does; a page
and an asset are both compared by the SHA-256 of their bytes, which S3 verifies on upload.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from webapp.render import render_index, static_names

INDEX = "index.html"
STATIC_PREFIX = "static"
PAGE_CACHE_CONTROL = "no-cache"  # always revalidated (CloudFront holds it 1 s): a new deploy shows at once
# Assets keep their names across deploys, so browsers (and CloudFront, until invalidated) keep them briefly.
ASSET_CACHE_CONTROL = "public, max-age=300"


def static_files() -> list[tuple[str, Path]]:
    """(bucket key, local file) of every asset under webapp/static, in a stable order."""
    return [(f"{STATIC_PREFIX}/{name}", path) for name, path in static_names().items()]


def file_sha256(path: Path) -> str:
    return sha256_of(path.read_bytes())


def sha256_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def render_page(api_url: str, model_name: str, models: tuple[str, ...] = ()) -> bytes:
    """`models`: a multi-model stage's, the default first (the page's picker); () for one model."""
    return render_index(
        api_url=api_url, model_name=model_name, static_url=STATIC_PREFIX, models=models
    ).encode()
