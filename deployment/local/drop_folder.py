"""`make demo`'s drop folder: photos put in `.local/inbox/` become results in `.local/outbox/`
(failures, with the reason, in `.local/failed/`), by the cloud's own Lambda handler
(`proxy/drop_folder.py`) with stand-ins for its S3 and SageMaker clients.

A thread looks at the inbox every second, as S3 would send an event per new object; a file is
taken once its size has stayed the same for one look (a copy in progress is not read half-way), and
again only if it changes. A fault that may pass (the server restarting) is retried on the next look.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_plus

from botocore.exceptions import BotoCoreError, ClientError

from deployment.local.function import LocalRuntime
from proxy import drop_folder as handler_module

log = logging.getLogger(__name__)
BUCKET = "local"  # the stand-in's one bucket: the `.local` folder
LOOK_SECONDS = 1.0
UPSTREAM_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class DropFolderPaths:
    root: Path  # `.local`: keys are paths under it

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def failed(self) -> Path:
        return self.root / "failed"


class LocalS3:
    """Stands in for boto3's S3 client as the handler uses it: objects are files under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get_object(self, *, Bucket: str, Key: str) -> dict:
        try:
            data = (self.root / Key).read_bytes()
        except (FileNotFoundError, IsADirectoryError) as error:
            raise ClientError(
                {"Error": {"Code": "NoSuchKey", "Message": "no such key"}}, "GetObject"
            ) from error
        return {"Body": io.BytesIO(data)}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, ContentType: str = "") -> dict:
        target = self.root / Key
        target.parent.mkdir(parents=True, exist_ok=True)
        # Whole or not at all, as S3 writes an object: a temporary file, then a rename.
        with tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=f".{target.name}.", delete=False
        ) as stream:
            stream.write(Body)
        os.replace(stream.name, target)
        return {}


class DropFolderWatcher:
    def __init__(self, paths: DropFolderPaths, upstream) -> None:
        self.paths = paths
        self._upstream = upstream  # () -> the inference server's current address
        self._seen: dict[Path, tuple[int, int]] = {}  # file -> (size, mtime) when it was handed over
        self._sizes: dict[Path, int] = {}  # file -> its size at the last look
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drop-folder", daemon=True)

    def start(self) -> None:
        for folder in (self.paths.inbox, self.paths.outbox, self.paths.failed):
            folder.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=UPSTREAM_TIMEOUT_SECONDS + 5)

    def look(self) -> dict[str, int]:
        """One look at the inbox: the new or changed files that stopped growing, through the handler."""
        ready = []
        for path in sorted(
            p for p in self.paths.inbox.rglob("*") if p.is_file() and not p.name.startswith(".")
        ):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            state = (stat.st_size, stat.st_mtime_ns)
            settled = self._sizes.get(path) == stat.st_size
            self._sizes[path] = stat.st_size
            if settled and self._seen.get(path) != state:
                ready.append((path, state))
        if not ready:
            return {"results": 0, "failed": 0, "skipped": 0}
        root = self.paths.root
        records = [_record(path.relative_to(root).as_posix()) for path, _ in ready]
        environment = {
            "ENDPOINT_NAME": "local",
            "INPUT_PREFIX": f"{self.paths.inbox.relative_to(root).as_posix()}/",
            "RESULT_PREFIX": f"{self.paths.outbox.relative_to(root).as_posix()}/",
            "FAILED_PREFIX": f"{self.paths.failed.relative_to(root).as_posix()}/",
        }
        runtime = LocalRuntime(self._upstream(), UPSTREAM_TIMEOUT_SECONDS)
        counts = handler_module.handle({"Records": records}, LocalS3(root), runtime, environment)
        for path, state in ready:
            self._seen[path] = state
        return counts

    def _run(self) -> None:
        while not self._stop.wait(LOOK_SECONDS):
            try:
                counts = self.look()
            except (ClientError, BotoCoreError, OSError) as error:  # the server restarting, say: try again
                log.warning("drop folder: %s; trying again", error)
                continue
            if counts["results"] or counts["failed"]:
                log.info("drop folder: %s result(s), %s failed", counts["results"], counts["failed"])


def _record(key: str) -> dict:
    return {"eventSource": "aws:s3", "s3": {"bucket": {"name": BUCKET}, "object": {"key": quote_plus(key)}}}
