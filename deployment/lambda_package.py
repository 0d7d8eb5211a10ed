"""The Lambda's zip, built in memory from the `proxy` package alone, byte-for-byte reproducible.

Fixed timestamps and permissions, entries in name order, and no compression (zlib and zlib-ng
deflate the same bytes differently), so the same source gives the same zip everywhere and an
unchanged handler keeps the CodeSha256 Lambda reports: nothing is redeployed.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "proxy"
HANDLER = "proxy.handler.handler"  # module proxy/handler.py, function handler
DROP_FOLDER_HANDLER = "proxy.drop_folder.handler"  # the drop folder's function: the same zip
# What the functions run: the package's modules only (requirements.txt says there is nothing to add):
# the API's, the drop folder's, and the model registry's two event functions (resources/approval.py,
# resources/model_upload.py), with the keypoint names a packaged model's model.json lists.
PACKAGED = (
    "__init__.py",
    "handler.py",
    "refusals.py",
    "drop_folder.py",
    "approved.py",
    "model_upload.py",
    "model_files.py",
    "s3_events.py",
)
# Modules of `inference` the functions import: pure Python, no dependency.
INFERENCE = Path(__file__).resolve().parents[1] / "inference"
INFERENCE_PACKAGED = ("__init__.py", "keypoints.py")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
FILE_MODE = 0o100644  # a regular file, rw-r--r--


def package_sources() -> dict[str, bytes]:
    """Each packaged file's path inside the zip, and its bytes."""
    sources = {f"{PACKAGE.name}/{name}": (PACKAGE / name).read_bytes() for name in PACKAGED}
    sources |= {f"{INFERENCE.name}/{name}": (INFERENCE / name).read_bytes() for name in INFERENCE_PACKAGED}
    return sources


def build_zip(sources: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(sources):
            entry = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            entry.create_system = 3  # Unix, so the mode below is read as Unix permissions everywhere
            entry.external_attr = FILE_MODE << 16
            entry.compress_type = zipfile.ZIP_STORED
            archive.writestr(entry, sources[name])
    return buffer.getvalue()


@functools.cache
def handler_zip() -> bytes:
    return build_zip(package_sources())


def code_sha256(zip_bytes: bytes) -> str:
    """Lambda's CodeSha256: the base64 (not hex) of the zip's SHA-256."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()
