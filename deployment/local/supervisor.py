"""Where the inference server behind the gateway is, and whether it answers its /ping."""

from __future__ import annotations

import http.client
from dataclasses import dataclass


@dataclass(frozen=True)
class Upstream:
    """A fixed inference server address; with no supervisor behind it, it is never restarting."""

    host: str
    port: int

    def status(self) -> UpstreamStatus:
        return UpstreamStatus(self)


@dataclass(frozen=True)
class UpstreamStatus:
    address: Upstream
    restarting: bool = False
    retry_after_seconds: int = 0


def ping(address: Upstream, timeout: float = 2.0) -> int | None:
    """The status of the server's GET /ping, or None when it cannot be reached."""
    connection = http.client.HTTPConnection(address.host, address.port, timeout=timeout)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
