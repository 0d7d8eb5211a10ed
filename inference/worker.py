"""A worker process: one request at a time, on connections the front hands it.

The HTTP parsing is gunicorn's (strict about request lines, headers and chunked bodies); the
worker only wires it to the WSGI app and answers a malformed request with a JSON error.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from contextlib import suppress
from http import HTTPStatus

from gunicorn.config import Config as GunicornConfig
from gunicorn.http import errors as http_errors
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser

from inference.front import CONNECTION, DONE, HEAD_LIMIT_BYTES, json_response

log = logging.getLogger(__name__)
access_log = logging.getLogger("inference.access")

# A client has this long for each read of its request (SageMaker sends the whole body at once).
READ_TIMEOUT_SECONDS = 30.0
_PARSE_STATUS = {
    http_errors.LimitRequestLine: HTTPStatus.REQUEST_URI_TOO_LONG,
    http_errors.LimitRequestHeaders: HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
    http_errors.UnsupportedTransferCoding: HTTPStatus.NOT_IMPLEMENTED,
    http_errors.ExpectationFailed: HTTPStatus.EXPECTATION_FAILED,
}


def run_worker(
    channel: socket.socket, app: Callable, on_message: Callable[[bytes], None] | None = None
) -> None:
    """Serve the connections that arrive on `channel` until the front closes it; any other message
    from the front (a multi-model server's EVICT) goes to `on_message`."""
    # The front decides when to stop: Ctrl-C (the whole process group) and SIGTERM are its to handle.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    settings = GunicornConfig()
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(channel, HEAD_LIMIT_BYTES + 1, 1)
        except ConnectionError:
            return
        if not message:  # the front is stopping (or gone)
            return
        if message[:1] != CONNECTION or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            if on_message is not None and not fds:
                on_message(message)
            continue
        with socket.socket(fileno=fds[0]) as connection:
            serve_connection(connection, message[1:], app, settings)
        channel.send(DONE)


def serve_connection(connection: socket.socket, head: bytes, app: Callable, settings: GunicornConfig) -> None:
    """One request on `connection`, of which the front already read `head`; then close it."""
    started = time.perf_counter()
    connection.setblocking(True)
    connection.settimeout(READ_TIMEOUT_SECONDS)
    try:
        peer = connection.getpeername()
    except OSError:  # the client is gone already
        return
    parser = RequestParser(settings, connection, peer)
    parser.unreader.unread(head)
    request_line, status, sent = "-", "-", 0
    try:
        request = next(parser)
        request_line = f"{request.method} {request.uri} HTTP/{request.version[0]}.{request.version[1]}"
        response, environ = wsgi.create(request, connection, peer, connection.getsockname(), settings)
        response.force_close()
        for chunk in app(environ, response.start_response):
            response.write(chunk)
        response.close()
        status, sent = response.status_code, response.sent
    except http_errors.ParseException as error:
        status = _PARSE_STATUS.get(type(error), HTTPStatus.BAD_REQUEST)
        sent = _send_error(connection, status, f"malformed HTTP request: {error}")
    except (http_errors.NoMoreData, StopIteration):
        log.debug("the client closed the connection before a whole request")
    except OSError as error:  # timeouts and resets: the client is gone, nothing to answer
        log.info("connection from %s ended early: %s", peer[0], error)
    finally:
        _close(connection)
        elapsed_ms = (time.perf_counter() - started) * 1000
        access_log.info('%s "%s" %s %sB %.0fms', peer[0], request_line, status, sent, elapsed_ms)


def _send_error(connection: socket.socket, status: HTTPStatus, message: str) -> int:
    head, body = json_response(status, {"error": message})
    try:
        connection.sendall(head + body)
    except OSError:
        return 0
    return len(body)


def _close(connection: socket.socket) -> None:
    """Send FIN, drop what the client already sent and we did not read, then close.

    Closing with unread bytes in the receive buffer makes the kernel send a reset, which can
    destroy the answer before the client reads it.
    """
    with suppress(OSError):  # BlockingIOError: nothing left to drop; others: the client is gone
        connection.shutdown(socket.SHUT_WR)
        connection.setblocking(False)
        for _ in range(16):
            if not connection.recv(65536):
                break
    connection.close()
