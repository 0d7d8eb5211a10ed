"""The server's front process: it owns the port, answers `/ping` itself, and hands every other
request to a worker that is free.

SageMaker marks an instance unhealthy when `/ping` takes over 2 s. Workers run one request at a
time (one model each), so a ping queued behind busy workers waits for them. The front reads only
each request's first line: it answers `/ping` at once from the state the workers report, and
passes any other connection itself (its file descriptor, SCM_RIGHTS) to an idle worker, so the
photo is never copied and a busy worker is never handed a second request.

It is single-threaded (one selector loop), which keeps `fork()` of a replacement worker safe.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import selectors
import signal
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

from inference import codec
from inference.model_registry import MESSAGE_KINDS, ModelRegistry, Outgoing

log = logging.getLogger(__name__)

# What the front reads before it decides: a request line, or a ping's whole head.
HEAD_LIMIT_BYTES = 8192
# A client that has not sent its request line (or a ping's head) by then is dropped.
HEAD_TIMEOUT_SECONDS = 10.0
# Connections held while every worker is busy; past it, new ones wait in the kernel's backlog.
# Containers often run with 1024 open files.
MAX_HELD_CONNECTIONS = 768
# A replacement for a worker that died is started at most this often.
RESPAWN_INTERVAL_SECONDS = 1.0
# Workers that take longer on one request than this are killed and replaced (SageMaker gives 60 s).
REQUEST_TIMEOUT_SECONDS = 65.0

# Messages on a worker's channel (a SOCK_SEQPACKET pair, so each message arrives whole).
CONNECTION = b"C"  # front -> worker: this connection, with what the front read of it
LOADED = b"L"  # worker -> front: the model loaded, JSON model info follows
FAILED = b"F"  # worker -> front: the model cannot load, the reason follows
DONE = b"D"  # worker -> front: finished with the connection; free again


class ModelState(enum.StrEnum):
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


@dataclass
class Worker:
    pid: int
    channel: socket.socket
    started: float
    state: ModelState = ModelState.LOADING
    busy_since: float | None = None
    detail: str = ""  # the model info (JSON) when ready, the error when failed


@dataclass
class Client:
    sock: socket.socket
    accepted: float
    head: bytearray = field(default_factory=bytearray)


# Starts a worker process on the child end of a channel; returns its pid. `close_in_child` is what
# the child must close first (the front's sockets).
Spawn = Callable[[socket.socket, Callable[[], None]], int]


class Front:
    def __init__(
        self,
        listener: socket.socket,
        workers: int,
        spawn: Spawn,
        graceful_seconds: float,
        models: ModelRegistry | None = None,  # a multi-model server's registry
    ) -> None:
        self._listener = listener
        self._models = models
        self._spawn_worker = spawn
        self._graceful_seconds = graceful_seconds
        self._selector = selectors.DefaultSelector()
        self._workers: dict[int, Worker] = {}  # by the fd of the front's end of the channel
        self._reading: dict[int, Client] = {}  # by socket fd: request line not complete yet
        self._waiting: deque[Client] = deque()  # complete request lines, oldest first
        self._wanted = workers
        self._last_respawn = 0.0
        self._stop_signal = 0
        self._stop_deadline: float | None = None
        self._wakeup_read, self._wakeup_write = socket.socketpair()

    # ------------------------------------------------------------------ lifecycle

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT, then let in-flight requests finish; 0 on a clean stop."""
        for _ in range(self._wanted):
            self._start_worker()
        self._listener.setblocking(False)
        self._selector.register(self._listener, selectors.EVENT_READ, self._accept)
        self._wakeup_read.setblocking(False)
        self._wakeup_write.setblocking(False)
        self._selector.register(self._wakeup_read, selectors.EVENT_READ, self._drain_wakeup)
        signal.set_wakeup_fd(self._wakeup_write.fileno())
        for stop in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop, self._request_stop)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # only to wake the loop
        try:
            while not self._finished():
                self._step()
        finally:
            self._shut_down_workers()
        return 0

    def _step(self) -> None:
        for key, _ in self._selector.select(self._next_timeout()):
            key.data(key.fileobj)
        if self._stop_signal and self._stop_deadline is None:
            self._stop()
        now = time.monotonic()
        self._expire(now)
        self._replace_dead_workers(now)
        self._dispatch()

    def _request_stop(self, signum: int, frame: object) -> None:
        self._stop_signal = signum  # acted on by the loop, not inside the handler

    def _stop(self) -> None:
        name = signal.Signals(self._stop_signal).name
        log.info("received %s: finishing in-flight requests (up to %.0f s)", name, self._graceful_seconds)
        self._stop_deadline = time.monotonic() + self._graceful_seconds
        # No new connections from now on: SageMaker's load balancer has stopped sending any.
        self._selector.unregister(self._listener)
        self._listener.close()
        # A connection that has sent nothing yet is no request in flight.
        for client in [client for client in self._reading.values() if not client.head]:
            self._drop(client)

    def _finished(self) -> bool:
        if self._stop_deadline is None:
            return False
        if time.monotonic() >= self._stop_deadline:
            log.warning("grace period over with requests still in flight")
            return True
        busy = any(worker.busy_since is not None for worker in self._workers.values())
        return not (busy or self._waiting or self._reading)

    def _next_timeout(self) -> float:
        return 0.5 if (self._reading or self._stop_deadline) else 1.0

    # ------------------------------------------------------------------ workers

    def _start_worker(self) -> None:
        front_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = self._spawn_worker(worker_end, lambda: self._close_in_child(front_end))
        worker_end.close()
        worker = Worker(pid, front_end, time.monotonic())
        self._workers[front_end.fileno()] = worker
        self._selector.register(front_end, selectors.EVENT_READ, self._from_worker)
        log.info("started worker %d", pid)

    def _close_in_child(self, channel: socket.socket) -> None:
        """In a new worker: drop every socket of the front's, so only the front holds the port."""
        signal.set_wakeup_fd(-1)
        for stop in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(stop, signal.SIG_DFL)
        for sock in (
            self._listener,
            self._wakeup_read,
            self._wakeup_write,
            channel,
            *(worker.channel for worker in self._workers.values()),
            *(client.sock for client in (*self._reading.values(), *self._waiting)),
        ):
            sock.close()
        self._selector.close()

    def _from_worker(self, channel: socket.socket) -> None:
        worker = self._workers[channel.fileno()]
        try:
            message = channel.recv(65536)
        except ConnectionError:
            message = b""
        if not message:  # the worker exited
            self._forget(worker)
            return
        kind, detail = message[:1], message[1:].decode(errors="replace")
        if kind == DONE:
            worker.busy_since = None
        elif kind == LOADED:
            worker.state, worker.detail = ModelState.READY, detail
        elif kind == FAILED:
            worker.state, worker.detail = ModelState.FAILED, detail
        elif kind in MESSAGE_KINDS and self._models is not None:
            live = {each.pid for each in self._workers.values()}
            self._send(self._models.receive(worker.pid, kind, message[1:], live))

    def _send(self, messages: list[Outgoing]) -> None:
        """Messages about models to workers (a worker gone meanwhile is forgotten on its own)."""
        channels = {worker.pid: worker.channel for worker in self._workers.values()}
        for pid, outgoing in messages:
            try:
                channels[pid].send(outgoing)
            except (KeyError, OSError) as error:
                log.warning("cannot tell worker %d about a model: %r", pid, error)

    def _forget(self, worker: Worker) -> None:
        self._selector.unregister(worker.channel)
        del self._workers[worker.channel.fileno()]
        worker.channel.close()
        _, status = os.waitpid(worker.pid, 0)
        if self._models is not None:
            self._send(self._models.worker_gone(worker.pid))
        if self._stop_deadline is None:
            log.error("worker %d exited (%s); starting a replacement", worker.pid, _exit_reason(status))

    def _replace_dead_workers(self, now: float) -> None:
        missing = self._wanted - len(self._workers)
        if (
            self._stop_deadline is None
            and missing > 0
            and now - self._last_respawn >= RESPAWN_INTERVAL_SECONDS
        ):
            self._last_respawn = now
            self._start_worker()

    def _shut_down_workers(self) -> None:
        """Closing a worker's channel tells it to exit; a worker still busy past the grace period is killed."""
        for worker in list(self._workers.values()):
            if worker.busy_since is not None:
                os.kill(worker.pid, signal.SIGKILL)
            worker.channel.close()
        for worker in self._workers.values():
            os.waitpid(worker.pid, 0)
        self._workers.clear()

    # ------------------------------------------------------------------ clients

    def _accept(self, listener: socket.socket) -> None:
        while len(self._reading) + len(self._waiting) < MAX_HELD_CONNECTIONS:
            try:
                sock, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:  # e.g. out of file descriptors: leave the rest in the backlog
                log.warning("cannot accept a connection: %s", error)
                return
            sock.setblocking(False)
            client = Client(sock, time.monotonic())
            self._reading[sock.fileno()] = client
            self._selector.register(sock, selectors.EVENT_READ, self._read_head)

    def _read_head(self, sock: socket.socket) -> None:
        client = self._reading[sock.fileno()]
        try:
            data = sock.recv(HEAD_LIMIT_BYTES - len(client.head))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away before asking anything
            self._drop(client)
            return
        client.head += data
        route = _route(bytes(client.head))
        if route is _Route.UNDECIDED and len(client.head) < HEAD_LIMIT_BYTES:
            return
        if route in (_Route.PING, _Route.PING_HEAD):
            self._answer_ping(client, head_only=route is _Route.PING_HEAD)
            return
        # Anything else, including a head too long or malformed, is the worker's to answer.
        self._selector.unregister(sock)
        del self._reading[sock.fileno()]
        self._waiting.append(client)

    def _answer_ping(self, client: Client, head_only: bool) -> None:
        head, body = json_response(*self.ping())
        try:
            client.sock.send(head if head_only else head + body)  # a few hundred bytes: one send
        except OSError:
            log.debug("a ping's client left before its answer")
        self._drop(client)

    def ping(self) -> tuple[int, dict]:
        """200 once any worker can serve; 500 when every worker failed to load; 503 while loading.
        A multi-model server is ready with no model loaded: SageMaker loads them after /ping."""
        workers = list(self._workers.values())
        ready = [worker for worker in workers if worker.state is ModelState.READY]
        if ready and self._models is not None:
            return 200, {"status": "ready", "models_loaded": self._models.loaded}
        if ready:
            return 200, {"status": "ready", "model": json.loads(ready[0].detail)}
        if workers and all(worker.state is ModelState.FAILED for worker in workers):
            return 500, {"status": "failed", "error": workers[0].detail}
        return 503, {"status": "loading"}

    def _dispatch(self) -> None:
        while self._waiting and (worker := self._idle_worker()):
            client = self._waiting.popleft()
            try:
                socket.send_fds(worker.channel, [CONNECTION + bytes(client.head)], [client.sock.fileno()])
            except OSError as error:  # the worker died just now; its replacement will take the next one
                log.warning("cannot hand a request to worker %d: %s", worker.pid, error)
                self._waiting.appendleft(client)
                return
            worker.busy_since = time.monotonic()
            client.sock.close()  # the worker holds its own copy now

    def _idle_worker(self) -> Worker | None:
        """A free worker, one with its model loaded first (a loading one waits for its model itself)."""
        idle = [worker for worker in self._workers.values() if worker.busy_since is None]
        order = (ModelState.READY, ModelState.LOADING, ModelState.FAILED)
        return min(idle, key=lambda worker: order.index(worker.state), default=None)

    def _drop(self, client: Client) -> None:
        self._selector.unregister(client.sock)
        del self._reading[client.sock.fileno()]
        client.sock.close()

    def _expire(self, now: float) -> None:
        for client in [c for c in self._reading.values() if now - c.accepted > HEAD_TIMEOUT_SECONDS]:
            log.info("dropped a connection that sent no request line within %.0f s", HEAD_TIMEOUT_SECONDS)
            self._drop(client)
        for worker in self._workers.values():
            if worker.busy_since is not None and now - worker.busy_since > REQUEST_TIMEOUT_SECONDS:
                log.error(
                    "worker %d is stuck on one request for over %.0f s; killing it",
                    worker.pid,
                    REQUEST_TIMEOUT_SECONDS,
                )
                os.kill(worker.pid, signal.SIGKILL)
                worker.busy_since = now  # once; its channel closes when it is gone

    def _drain_wakeup(self, sock: socket.socket) -> None:
        try:
            while sock.recv(512):
                continue
        except (BlockingIOError, InterruptedError):
            return


class _Route(enum.Enum):
    UNDECIDED = "undecided"
    PING = "ping"
    PING_HEAD = "ping-head"
    WORKER = "worker"


def json_response(status: int, document: dict) -> tuple[bytes, bytes]:
    """The head and body of a JSON answer after which the connection closes (front and workers)."""
    body = codec.encode_json(document)
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    return head, body


def _route(head: bytes) -> _Route:
    """Who answers: the front for GET/HEAD /ping (once its head is complete), a worker otherwise."""
    line_end = head.find(b"\r\n")
    if line_end < 0:
        return _Route.UNDECIDED
    parts = head[:line_end].split(b" ")
    if (
        len(parts) != 3
        or parts[0] not in (b"GET", b"HEAD")
        or parts[1].split(b"?", 1)[0] != b"/ping"
        or parts[2] not in (b"HTTP/1.0", b"HTTP/1.1")
    ):
        return _Route.WORKER
    if b"\r\n\r\n" not in head:
        return _Route.UNDECIDED
    return _Route.PING_HEAD if parts[0] == b"HEAD" else _Route.PING


def _exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"
