"""Connections for the local gateway: one event loop waits, a bounded pool of threads works.

The loop holds every idle, new or slowly-sending connection and reads request heads as their
bytes arrive, so an idle or slowloris client costs a socket, never a thread. Only a complete
head goes to a worker; at most `Limits.workers` run at once, and when `max_connections` are
open a new client pushes out the connection closest to its deadline instead of waiting.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from deployment.local.http1 import head_is_complete, response_head

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """How long and how many: the defaults suit a demo on a laptop; tests shorten the times."""

    head_seconds: float = 10.0  # from connecting (or a kept-alive one's next byte) to the head's end
    keep_alive_seconds: float = 5.0  # an idle kept-alive connection is closed after this
    body_grace_seconds: float = 10.0  # a body may take this long plus its size at the minimum rate
    body_min_bytes_per_second: int = 32 * 1024
    write_seconds: float = 10.0  # a client that stops reading our answer is dropped after this
    linger_seconds: float = 1.0  # after refusing a body: read what still arrives, briefly, then close
    workers: int = 32
    max_connections: int = 256

    def body_seconds(self, length: int) -> float:
        return self.body_grace_seconds + length / self.body_min_bytes_per_second


class ClientGone(Exception):
    """The client closed or reset the connection, or stopped reading; nobody is left to answer."""


class Connection:
    """A client socket, the bytes read from it but not yet parsed, and the deadline of the read."""

    def __init__(self, sock: socket.socket, peer: str, deadline: float) -> None:
        self.sock = sock
        self.peer = peer
        self.deadline = deadline
        self.buffer = bytearray()
        self.requests = 0  # answered on this connection so far
        self.linger = False  # unread request bytes may follow: drain briefly before closing

    def readline(self, limit: int) -> bytes:
        """Up to and including the next newline, at most `limit` bytes; short only at end of stream."""
        while (end := self.buffer.find(b"\n", 0, limit)) < 0 and len(self.buffer) < limit:
            if not self._fill():
                return self._take(len(self.buffer))
        return self._take(end + 1 if end >= 0 else limit)

    def read(self, size: int) -> bytes:
        """`size` bytes, or fewer if the client ends the stream first."""
        while len(self.buffer) < size and self._fill():
            pass
        return self._take(min(size, len(self.buffer)))

    def send(self, data: bytes, timeout: float) -> None:
        try:
            self.sock.settimeout(timeout)
            self.sock.sendall(data)
        except OSError as error:  # TimeoutError included: a client that does not read is gone to us
            raise ClientGone(str(error)) from error

    def receive_available(self) -> bool:
        """One non-blocking read for the event loop; False once the client has closed."""
        try:
            self.sock.setblocking(False)
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return True
        except OSError:
            return False
        self.buffer += chunk
        return bool(chunk)

    def close(self, linger_seconds: float = 0.0) -> None:
        try:
            if self.linger and linger_seconds > 0:
                self._drain(linger_seconds)
            self.sock.close()
        except OSError:
            self.sock.close()

    def _fill(self) -> bool:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        try:
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
        except TimeoutError:
            raise
        except OSError as error:
            raise ClientGone(str(error)) from error
        self.buffer += chunk
        return bool(chunk)

    def _take(self, size: int) -> bytes:
        taken = bytes(self.buffer[:size])
        del self.buffer[:size]
        return taken

    def _drain(self, seconds: float) -> None:
        """Our answer is sent: stop writing, and read (and drop) the rest of a refused request
        until the client closes or `seconds` pass, so its close does not reset our answer away."""
        self.sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self.sock.settimeout(remaining)
            if not self.sock.recv(1 << 16):
                return


Handler = Callable[[Connection], bool]  # serves one request; True keeps the connection open


class ConnectionServer:
    """Accepts on `address`; the calling thread runs the loop in `serve_forever`."""

    def __init__(self, address: tuple[str, int], handler: Handler, limits: Limits) -> None:
        self.limits = limits
        self._handler = handler
        self._listener = socket.create_server(address, backlog=128)
        self._listener.setblocking(False)
        self.server_address: tuple[str, int] = self._listener.getsockname()[:2]
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._waiting: dict[socket.socket, Connection] = {}  # owned by the loop thread
        self._busy: set[Connection] = set()  # with a worker
        self._returned: queue.SimpleQueue[Connection] = queue.SimpleQueue()
        self._ready: queue.SimpleQueue[Connection | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._idle_workers = 0
        self._stopping = threading.Event()
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        try:
            while not self._stopping.is_set():
                for key, _ in self._selector.select(self._next_timeout()):
                    try:
                        self._on_ready(key.fileobj)
                    except Exception:  # the last resort: one bad event must not stop the gateway
                        log.exception("the connection loop failed on one event and carries on")
                self._expire(time.monotonic())
        finally:
            self._stopped.set()

    def _on_ready(self, source: object) -> None:
        if source is self._listener:
            self._accept()
        elif source is self._wake_reader:
            self._take_returned()
        elif connection := self._waiting.get(source):  # None: pushed out earlier in this round
            self._receive(connection)

    def shutdown(self) -> None:
        """Stop `serve_forever` (from another thread) and wait for it to return."""
        self._stopping.set()
        self._wake()
        self._stopped.wait(5)

    def server_close(self) -> None:
        """Close the listener and every connection; a worker blocked on its client wakes and ends."""
        self._stopping.set()
        self._listener.close()
        for connection in list(self._waiting.values()):
            connection.close()
        self._waiting.clear()
        while not self._returned.empty():  # kept alive by a worker, not yet back in the loop
            self._returned.get_nowait().close()
        with self._lock:
            busy, workers = list(self._busy), list(self._workers)
        for connection in busy:
            with contextlib.suppress(OSError):  # already closed by its worker
                connection.sock.shutdown(socket.SHUT_RDWR)
        for _ in workers:
            self._ready.put(None)
        for worker in workers:
            worker.join(timeout=2)
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def _accept(self) -> None:
        while True:
            try:
                sock, peer = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as error:  # out of file descriptors: make room, and let the next loop retry
                log.warning("cannot accept a connection (%s)", error)
                if not self._evict_one():
                    time.sleep(0.05)
                return
            connection = Connection(sock, f"{peer[0]}:{peer[1]}", time.monotonic() + self.limits.head_seconds)
            with self._lock:
                open_count = len(self._waiting) + len(self._busy)
            if open_count >= self.limits.max_connections and not self._evict_one():
                _answer_and_close(connection, 503, "the gateway is at its connection limit; retry", "1")
            else:
                self._wait_for_head(connection)

    def _wait_for_head(self, connection: Connection) -> None:
        if head_is_complete(connection.buffer):
            self._dispatch(connection)
            return
        self._waiting[connection.sock] = connection
        self._selector.register(connection.sock, selectors.EVENT_READ)

    def _receive(self, connection: Connection) -> None:
        first_bytes = not connection.buffer
        if not connection.receive_available():
            self._forget(connection).close()
        elif head_is_complete(connection.buffer):
            self._dispatch(self._forget(connection))
        elif first_bytes and connection.requests:  # a kept-alive connection starts its next head
            connection.deadline = time.monotonic() + self.limits.head_seconds

    def _expire(self, now: float) -> None:
        for connection in [c for c in self._waiting.values() if c.deadline <= now]:
            self._refuse(self._forget(connection))

    def _evict_one(self) -> bool:
        """Close the waiting connection nearest its deadline, so a new client always gets in."""
        if not self._waiting:
            return False
        self._refuse(self._forget(min(self._waiting.values(), key=lambda c: c.deadline)))
        return True

    def _refuse(self, connection: Connection) -> None:
        """A kept-alive connection that stays idle is closed quietly, as clients expect; one that
        never finished a head hears 408 (a short non-blocking write: it must not stall the loop)."""
        if connection.buffer or not connection.requests:
            _answer_and_close(connection, 408, "the request did not arrive in time")
        else:
            connection.close()

    def _forget(self, connection: Connection) -> Connection:
        self._selector.unregister(connection.sock)
        del self._waiting[connection.sock]
        return connection

    def _dispatch(self, connection: Connection) -> None:
        with self._lock:
            self._busy.add(connection)
            self._ready.put(connection)
            if self._ready.qsize() > self._idle_workers and len(self._workers) < self.limits.workers:
                worker = threading.Thread(
                    target=self._work, name=f"gateway-{len(self._workers)}", daemon=True
                )
                self._workers.append(worker)
                worker.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle_workers += 1
            connection = self._ready.get()
            with self._lock:
                self._idle_workers -= 1
            if connection is None:
                return
            keep = self._serve(connection)
            with self._lock:
                self._busy.discard(connection)
            if keep and not self._stopping.is_set():
                self._returned.put(connection)
                self._wake()
            else:
                connection.close(self.limits.linger_seconds)

    def _serve(self, connection: Connection) -> bool:
        try:
            return self._handler(connection)
        except Exception:  # the handler answers its own errors; this only keeps the worker alive
            log.exception("the handler failed on a connection from %s", connection.peer)
            return False

    def _take_returned(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self._wake_reader.recv(4096)
        while True:
            try:
                connection = self._returned.get_nowait()
            except queue.Empty:
                return
            connection.deadline = time.monotonic() + (
                self.limits.head_seconds if connection.buffer else self.limits.keep_alive_seconds
            )
            self._wait_for_head(connection)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # closed at shutdown, or already full of wake-ups
            self._wake_writer.send(b"\0")

    def _next_timeout(self) -> float:
        if not self._waiting:
            return 1.0
        soonest = min(connection.deadline for connection in self._waiting.values())
        return min(max(soonest - time.monotonic(), 0.0), 1.0)


def _answer_and_close(connection: Connection, status: int, message: str, retry_after: str = "") -> None:
    """Answer from the loop itself: one non-blocking write (it must never stall the loop), then close."""
    body = json.dumps({"error": message}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    headers += [("Retry-After", retry_after)] if retry_after else []
    with contextlib.suppress(OSError):  # the client is gone or not reading: closed either way
        connection.sock.setblocking(False)
        connection.sock.send(response_head(status, [*headers, ("Connection", "close")]) + body)
    connection.close()
