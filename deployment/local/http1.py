"""HTTP/1.1 request heads for the local gateway, parsed strictly.

Every malformed byte becomes an `HttpError` carrying the status and the sentence a client
should see, so the gateway answers a precise 4xx instead of dropping the connection.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Protocol
from urllib.parse import unquote

MAX_LINE_BYTES = 8192
MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
# Longer than any real length: past this, int() of a hostile header would only burn CPU.
MAX_LENGTH_DIGITS = 18
USAGE = "send METHOD /path HTTP/1.1"

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(r"HTTP/(\d)\.(\d)")
_DIGITS = re.compile(r"[0-9]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters other than HTAB


class HttpError(Exception):
    """A request refused with `status`; `message` is what the client reads."""

    def __init__(self, status: int, message: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        self.status = status
        self.message = message
        self.headers = tuple(headers)
        super().__init__(f"{status}: {message}")


class LineReader(Protocol):
    def readline(self, limit: int) -> bytes: ...


@dataclass(frozen=True)
class RequestHead:
    method: str
    target: str
    version: str
    headers: tuple[tuple[str, str], ...]  # (lower-case name, value), in arrival order

    @property
    def request_line(self) -> str:
        return f"{self.method} {self.target} {self.version}"

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    def header(self, name: str, default: str = "") -> str:
        found = self.values(name)
        return found[0] if found else default

    @property
    def path(self) -> str:
        """The target's path, percent-decoded, without its query string."""
        raw = self.target.split("?", 1)[0]
        try:
            path = unquote(raw, errors="strict")
        except UnicodeDecodeError as error:
            raise HttpError(400, f"the path {shown(raw)} is not UTF-8 once percent-decoded") from error
        if _CONTROL.search(path):
            raise HttpError(400, f"the path {shown(path)} holds a control character")
        return path

    @property
    def keep_alive(self) -> bool:
        tokens = {token.strip().lower() for value in self.values("connection") for token in value.split(",")}
        return self.version == "HTTP/1.1" and "close" not in tokens


def read_head(reader: LineReader) -> RequestHead | None:
    """The next request's head from `reader`, or None when the client closed before sending one."""
    line, size = _request_line(reader)
    if line is None:
        return None
    method, target, version = _split_request_line(line)
    return RequestHead(method, target, version, _header_fields(reader, size))


def body_length(head: RequestHead) -> int | None:
    """The declared body size (None: no body declared), or the error of a framing we refuse."""
    codings = ", ".join(head.values("transfer-encoding"))
    if codings:
        if "chunked" in codings.lower():
            raise HttpError(411, "chunked bodies are not supported; send the body with a Content-Length")
        raise HttpError(501, f"Transfer-Encoding {shown(codings)} is not implemented; send a Content-Length")
    lengths = head.values("content-length")
    if not lengths:
        return None
    if len(lengths) > 1:
        raise HttpError(400, f"{len(lengths)} Content-Length headers; send exactly one")
    if not _DIGITS.fullmatch(lengths[0]):
        raise HttpError(400, f"Content-Length must be a whole number of bytes, not {shown(lengths[0])}")
    if len(lengths[0]) > MAX_LENGTH_DIGITS:
        raise HttpError(
            413, f"Content-Length is a {len(lengths[0])}-digit number of bytes; far over the limit"
        )
    return int(lengths[0])


def head_is_complete(buffer: bytes | bytearray) -> bool:
    """Whether `buffer` holds enough for `read_head` to answer without waiting: a whole head, or
    a request line that is already wrong, or more bytes than any head may have."""
    data = bytes(buffer).lstrip(b"\r\n")
    if b"\n\n" in data or b"\n\r\n" in data or len(data) > MAX_HEAD_BYTES:
        return True
    end = data.find(b"\n")
    if end < 0:
        return len(data) > MAX_LINE_BYTES
    return not data[:end].rstrip(b"\r").rpartition(b" ")[2].startswith(b"HTTP/")


def response_head(status: int, headers: Sequence[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason(status)}", f"Date: {email.utils.formatdate(usegmt=True)}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def shown(text: str, limit: int = 60) -> str:
    """`text` quoted for an error message: escaped, and cut to `limit` characters."""
    return f"'{escaped(text, limit)}'"


def escaped(text: str, limit: int) -> str:
    """`text` safe for one log line or message: control and non-ASCII characters escaped, cut to `limit`."""
    cut = ascii(text[:limit])[1:-1]
    return f"{cut}..." if len(text) > limit else cut


def _request_line(reader: LineReader) -> tuple[str | None, int]:
    size = 0
    while True:  # RFC 9112 2.2: empty lines before a request line are ignored
        raw = _line(reader, 414, "the request line is longer than")
        size += len(raw)
        if not raw:
            return None, size
        if raw.strip(b"\r\n"):
            return _text(raw, "the request line"), size
        if size > MAX_HEAD_BYTES:
            raise HttpError(400, "only empty lines where a request line belongs")


def _split_request_line(line: str) -> tuple[str, str, str]:
    if not line.isascii():
        raise HttpError(400, "the request line must be ASCII: percent-encode the path")
    parts = line.split(" ")
    if len(parts) == 2:
        raise HttpError(400, f"the request line has no HTTP version (HTTP/0.9 is not served); {USAGE}")
    if len(parts) != 3 or not all(parts):
        raise HttpError(400, f"malformed request line {shown(line)}; {USAGE}")
    method, target, version = parts
    if not _TOKEN.fullmatch(method):
        raise HttpError(400, f"the method {shown(method)} is not an HTTP token")
    matched = _VERSION.fullmatch(version)
    if not matched:
        raise HttpError(400, f"{shown(version)} is not an HTTP version; {USAGE}")
    if matched.group(1) != "1":
        raise HttpError(505, f"{version} is not served here; use HTTP/1.1")
    if not target.startswith("/") and not (target == "*" and method == "OPTIONS"):
        raise HttpError(400, f"the request target must be a path starting with /, not {shown(target)}")
    return method, target, "HTTP/1.0" if version == "HTTP/1.0" else "HTTP/1.1"


def _header_fields(reader: LineReader, size: int) -> tuple[tuple[str, str], ...]:
    fields: list[tuple[str, str]] = []
    while True:
        raw = _line(reader, 431, "a header line is longer than")
        size += len(raw)
        if not raw:
            raise HttpError(400, "the request ended before the blank line that closes its headers")
        if raw in (b"\r\n", b"\n"):
            return tuple(fields)
        if len(fields) >= MAX_HEADERS:
            raise HttpError(431, f"more than {MAX_HEADERS} header fields")
        if size > MAX_HEAD_BYTES:
            raise HttpError(431, f"the headers are larger than {MAX_HEAD_BYTES:,} bytes")
        fields.append(_header_field(_text(raw, "a header line")))


def _header_field(line: str) -> tuple[str, str]:
    if line[:1] in (" ", "\t"):
        raise HttpError(400, "a header line starts with whitespace (obsolete line folding is refused)")
    name, colon, value = line.partition(":")
    if not colon or not _TOKEN.fullmatch(name):
        raise HttpError(400, f"malformed header line {shown(line)}; send Name: value")
    return name.lower(), value.strip(" \t")


def _line(reader: LineReader, status: int, too_long: str) -> bytes:
    raw = reader.readline(MAX_LINE_BYTES + 1)
    if len(raw) > MAX_LINE_BYTES:
        raise HttpError(status, f"{too_long} {MAX_LINE_BYTES:,} bytes")
    if raw and not raw.endswith(b"\n"):
        raise HttpError(400, "the request ended in the middle of a line")
    return raw


def _text(raw: bytes, what: str) -> str:
    text = raw.removesuffix(b"\n").removesuffix(b"\r").decode("latin-1")
    if _CONTROL.search(text):
        raise HttpError(400, f"{what} holds a control character: {shown(text)}")
    return text
