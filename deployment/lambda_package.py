"""The Lambda's zip, built in memory from `lambda_proxy.py` alone, byte-for-byte reproducible.

Fixed timestamps and permissions, and no compression (zlib and zlib-ng deflate the same bytes
differently), so the same source gives the same zip everywhere and an unchanged handler keeps
the CodeSha256 Lambda reports: nothing is redeployed.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import zipfile
from pathlib import Path

HANDLER_SOURCE = Path(__file__).resolve().parent / "lambda_proxy.py"
HANDLER = "lambda_proxy.handler"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
FILE_MODE = 0o100644  # a regular file, rw-r--r--


def build_zip(source: bytes, name: str = HANDLER_SOURCE.name) -> bytes:
    entry = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    entry.create_system = 3  # Unix, so the mode below is read as Unix permissions on every platform
    entry.external_attr = FILE_MODE << 16
    entry.compress_type = zipfile.ZIP_STORED
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(entry, source)
    return buffer.getvalue()


@functools.cache
def handler_zip() -> bytes:
    return build_zip(HANDLER_SOURCE.read_bytes())


def code_sha256(zip_bytes: bytes) -> str:
    """Lambda's CodeSha256: the base64 (not hex) of the zip's SHA-256."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()
