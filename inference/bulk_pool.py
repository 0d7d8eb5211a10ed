"""Worker processes for bulk inference: one per core, each with its own interpreter, one photo at a time.

Each worker holds at most one photo, so the parent always knows which photo a worker that died
was on (it is reported as that photo's failure and the worker replaced), and at most `workers`
photos are in flight. Workers read the photo and draw its overlay; the parent only writes.
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING

from inference.codec import DEFAULT_MAX_PEOPLE
from inference.errors import ModelError, RequestError

if TYPE_CHECKING:
    from inference.predictor import Predictor

log = logging.getLogger(__name__)
# A fresh interpreter per worker: no inherited TFLite state or threads, the same on every OS.
START_METHOD = "spawn"
READY = "ready"
MODEL_ERROR = "model error"
STOP_SECONDS = 10


@dataclass(frozen=True)
class PhotoTask:
    index: int
    path: str
    overlay: bool


@dataclass(frozen=True)
class PhotoResult:
    index: int
    document: dict | None = None
    overlay: bytes | None = None
    error: str | None = None


def run_photo(predictor: Predictor, task: PhotoTask) -> PhotoResult:
    """One photo through the predictor (as the server runs a request body); a failure is its reason."""
    from inference.overlay import draw_overlay

    try:
        photo = Path(task.path).read_bytes()
    except OSError as error:
        return PhotoResult(task.index, error=f"cannot read the file: {error.strerror}")
    try:
        document = predictor.predict(photo, "application/octet-stream")
        overlay = draw_overlay(photo, document) if task.overlay else None
    except RequestError as error:
        return PhotoResult(task.index, error=error.message)
    except Exception as error:  # a bug on one photo must not end a run of thousands
        log.exception("%s: unexpected error", task.path)
        return PhotoResult(task.index, error=f"unexpected error: {type(error).__name__}: {error}")
    return PhotoResult(task.index, document=document, overlay=overlay)


def _worker(connection: Connection, model_dir: str, max_people: int) -> None:
    """A worker's life: load the model once, then answer one task at a time until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    predictor = _load(model_dir, max_people)
    if isinstance(predictor, str):
        connection.send((MODEL_ERROR, predictor))
        return
    connection.send(READY)
    with suppress(EOFError, BrokenPipeError):  # the parent is gone: nobody wants the rest
        while (task := connection.recv()) is not None:
            connection.send(run_photo(predictor, task))


def _load(model_dir: str, max_people: int) -> Predictor | str:
    """The worker's predictor, or why it would not load, with what the runtime printed meanwhile.

    TFLite's C++ runtime prints an INFO line per interpreter on stderr: kept off the progress bar.
    """
    from inference.predictor import Predictor

    with tempfile.TemporaryFile() as printed:
        saved = os.dup(2)
        os.dup2(printed.fileno(), 2)
        try:
            return Predictor(Path(model_dir), threads=1, max_people=max_people)
        except (ModelError, ValueError, RuntimeError, OSError) as error:
            printed.seek(0)
            runtime = printed.read().decode(errors="replace").strip()
            return f"{error} ({runtime})" if runtime else str(error)
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _Worker:
    def __init__(self, context, model_dir: Path, max_people: int) -> None:
        self.connection, child_end = context.Pipe()
        arguments = (child_end, str(model_dir), max_people)
        self.process = context.Process(target=_worker, args=arguments, daemon=True)
        # Started while SIGINT is ignored, a child keeps ignoring it while it imports, so a Ctrl-C
        # during start-up prints no traceback from each worker.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self.process.start()
        finally:
            signal.signal(signal.SIGINT, previous)
        child_end.close()
        self.task: PhotoTask | None = None
        self.ready = False


class _Feed:
    """The tasks not yet sent: the caller's, and any handed back by a worker that had died."""

    def __init__(self, tasks: Iterator[PhotoTask]) -> None:
        self._tasks = tasks
        self._handed_back: deque[PhotoTask] = deque()
        self._ended = False

    @property
    def exhausted(self) -> bool:
        return self._ended and not self._handed_back

    def next(self) -> PhotoTask | None:
        if self._handed_back:
            return self._handed_back.popleft()
        if not self._ended and (task := next(self._tasks, None)) is not None:
            return task
        self._ended = True
        return None

    def give_back(self, task: PhotoTask) -> None:
        self._handed_back.append(task)


class WorkerPool:
    """`with WorkerPool(model_dir, 4) as pool: for result in pool.results(tasks): ...`"""

    def __init__(self, model_dir: Path, workers: int, max_people: int = DEFAULT_MAX_PEOPLE) -> None:
        self.model_dir = model_dir
        self.size = workers
        self.max_people = max_people
        self._context = get_context(START_METHOD)
        self._workers: list[_Worker] = []

    def __enter__(self) -> WorkerPool:
        try:
            for _ in range(self.size):
                self._workers.append(_Worker(self._context, self.model_dir, self.max_people))
            while not all(worker.ready for worker in self._workers):
                for worker in self._ready_workers():
                    self._receive(worker)
        except BaseException:
            self.close(graceful=False)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close(graceful=exc_info[0] is None)

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids (the benchmark reads their CPU time)."""
        return [worker.process.pid for worker in self._workers]

    def results(self, tasks: Iterable[PhotoTask]) -> Iterator[PhotoResult]:
        """Each task's result as it completes (not in task order)."""
        feed = _Feed(iter(tasks))
        while True:
            self._dispatch(feed)
            if feed.exhausted and all(worker.task is None for worker in self._workers):
                return
            finished = [result for worker in self._ready_workers() if (result := self._receive(worker))]
            # The next photo goes out before the caller writes these results: no worker waits on a write.
            self._dispatch(feed)
            yield from finished

    def _dispatch(self, feed: _Feed) -> None:
        """A task to every idle worker, while there are tasks."""
        for worker in self._workers:
            if not worker.ready or worker.task is not None or not worker.process.is_alive():
                continue  # a dead one is replaced when its sentinel is seen, then gets the task
            if (task := feed.next()) is None:
                continue
            try:
                worker.connection.send(task)
                worker.task = task
            except OSError:  # it died since its last answer; its replacement will take the task
                feed.give_back(task)

    def close(self, graceful: bool = True) -> None:
        """Stop every worker: asked to finish when `graceful`, else terminated (Ctrl-C, an error)."""
        for worker in self._workers:
            if graceful and worker.process.is_alive():
                with suppress(OSError):  # it died already; join() below reaps it
                    worker.connection.send(None)
            else:
                worker.process.terminate()
        for worker in self._workers:
            worker.process.join(STOP_SECONDS)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()
        self._workers = []

    def _ready_workers(self) -> list[_Worker]:
        """The workers that answered or died, waiting until at least one has."""
        waiting = {worker.connection: worker for worker in self._workers}
        waiting.update({worker.process.sentinel: worker for worker in self._workers})
        return list({id(waiting[ready]): waiting[ready] for ready in wait(list(waiting))}.values())

    def _receive(self, worker: _Worker) -> PhotoResult | None:
        try:
            message = worker.connection.recv()
        except (EOFError, OSError):  # it died: closed (EOF), or reset with unread data
            return self._replace(worker)
        if isinstance(message, tuple) and message[0] == MODEL_ERROR:
            raise ModelError(message[1], hint="check --model-dir (or --model)")
        if message == READY:
            worker.ready = True
            return None
        worker.task = None
        return message

    def _replace(self, worker: _Worker) -> PhotoResult | None:
        """A worker died: its photo (if it had one) fails with the reason, a new worker takes its place."""
        worker.process.join()
        code = worker.process.exitcode
        if not worker.ready:
            raise ModelError(f"a worker process exited with code {code} while loading the model")
        worker.connection.close()
        self._workers[self._workers.index(worker)] = _Worker(self._context, self.model_dir, self.max_people)
        if worker.task is None:
            return None
        log.warning("a worker died (exit code %s) on %s; starting another", code, worker.task.path)
        return PhotoResult(
            worker.task.index, error=f"the worker process died on this photo (exit code {code})"
        )
