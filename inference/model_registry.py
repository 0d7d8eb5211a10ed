"""The models a multi-model server has loaded: one registry, kept by the front process.

Every worker must serve every loaded model, so the list lives in one place. A worker asks the
front (over its channel) before it loads, invokes, lists or unloads; the front answers from
here at once, and the worker loads a model's interpreter itself, on its first request for it.
The front never loads or reads a model: /ping stays instant.

Messages (the first byte says which, JSON follows):
  worker -> front: ASK a question (the front ANSWERs it), HAVE a model now loaded in this worker,
                   DROPPED a model this worker was told to EVICT
  front -> worker: ANSWER, EVICT (drop your copy of this model: it was unloaded)
An unload is answered once every worker that held the model has dropped it (or died), so its
memory is free when SageMaker hears 200, as the contract asks.
https://docs.aws.amazon.com/sagemaker/latest/dg/mms-container-apis.html
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

ASK = b"Q"
ANSWER = b"A"
HAVE = b"H"
DROPPED = b"X"
EVICT = b"E"
MESSAGE_KINDS = (ASK, HAVE, DROPPED)  # what a worker may send about models
DEFAULT_PAGE_SIZE = 100  # GET /models without ?limit=
MOST_PAGE_SIZE = 1000
MIB = 1024 * 1024

Outgoing = tuple[int, bytes]  # (worker pid, message)


@dataclass
class Entry:
    name: str
    url: str
    generation: int  # a new one each load, so a worker never serves an unloaded model's copy
    estimate: int  # bytes in each worker that loads it
    loader: int  # the worker loading it; its death abandons the load
    ready: bool = False
    holders: set[int] = field(default_factory=set)  # workers with an interpreter for it

    @property
    def description(self) -> dict:
        return {"modelName": self.name, "modelUrl": self.url}


@dataclass
class PendingUnload:
    asker: int
    name: str
    generation: int
    waiting: set[int]  # holders that have not dropped it yet


def message(kind: bytes, document: dict) -> bytes:
    return kind + json.dumps(document).encode()


def answer(status: int, document: dict | None = None) -> bytes:
    return message(ANSWER, {"status": status, **(document or {})})


class ModelRegistry:
    def __init__(self, workers: int, limit_bytes: int | None = None) -> None:
        self._workers = workers
        self._limit_bytes = limit_bytes
        self._models: dict[str, Entry] = {}
        self._unloads: list[PendingUnload] = []
        self._generation = 0

    @property
    def loaded(self) -> int:
        return sum(entry.ready for entry in self._models.values())

    def receive(self, pid: int, kind: bytes, payload: bytes, live: set[int]) -> list[Outgoing]:
        """What to send back for one message from worker `pid` (`live`: the workers running)."""
        try:
            document = json.loads(payload)
        except ValueError:
            log.error("worker %d sent an unreadable %r message", pid, kind)
            return [(pid, answer(500, {"error": "internal error"}))] if kind == ASK else []
        if kind == HAVE:
            return self._have(pid, document)
        if kind == DROPPED:
            return self._dropped(pid, document)
        if document.get("op") == "unload":
            return self._unload(pid, str(document.get("name")), live)
        return [(pid, self._answer(pid, document))]

    def _answer(self, pid: int, question: dict) -> bytes:
        op, name = question.get("op"), str(question.get("name"))
        if op == "load":
            return self._load(pid, question)
        if op == "list":
            return self._list(question.get("limit"), question.get("token"))
        entry = self._models.get(name)
        if op in ("loaded", "failed"):
            if entry is None or entry.generation != question.get("generation"):
                return answer(404, {"error": f"model {name!r} was unloaded while it loaded"})
            if op == "failed":
                del self._models[name]
            else:
                entry.ready = True
                entry.holders.add(pid)
            return answer(200)
        if entry is None or not entry.ready:
            return not_loaded(name, entry)
        if op == "lookup":
            return answer(200, {"url": entry.url, "generation": entry.generation})
        if op == "get":
            return answer(200, entry.description)
        return answer(400, {"error": f"unknown question {op!r}"})

    def _load(self, pid: int, question: dict) -> bytes:
        name, estimate = str(question["name"]), int(question["estimate"])
        if name in self._models:
            state = "loaded" if self._models[name].ready else "being loaded"
            return answer(409, {"error": f"model {name!r} is already {state}"})
        shortage = self._shortage(estimate, int(question["available"]))
        if shortage:
            return answer(507, {"error": f"not enough memory to load model {name!r}: {shortage}"})
        self._generation += 1
        self._models[name] = Entry(name, str(question["url"]), self._generation, estimate, pid)
        return answer(200, {"generation": self._generation})

    def _shortage(self, estimate: int, available: int) -> str:
        """Why a model of `estimate` bytes a worker does not fit, or "" when it does."""
        need = estimate * self._workers
        # Loaded models not yet in every worker will take more as workers load them lazily.
        coming = sum(
            entry.estimate * max(self._workers - len(entry.holders), 0) for entry in self._models.values()
        )
        cost = f"it needs about {need // MIB} MiB ({self._workers} workers x {estimate // MIB} MiB)"
        if need + coming > available:
            return f"{cost}, and {max(available - coming, 0) // MIB} MiB are free"
        committed = sum(entry.estimate * self._workers for entry in self._models.values())
        if self._limit_bytes is not None and committed + need > self._limit_bytes:
            room = max(self._limit_bytes - committed, 0) // MIB
            return f"{cost}, and {room} MiB are left of the models' {self._limit_bytes // MIB} MiB"
        return ""

    def _list(self, limit: object, token: object) -> bytes:
        """One page, by name; `nextPageToken` names where the next page starts."""
        size = DEFAULT_PAGE_SIZE if limit in (None, "") else _page_size(limit)
        if size is None:
            return answer(400, {"error": f"limit must be a whole number from 1 to {MOST_PAGE_SIZE}"})
        start = "" if token in (None, "") else _token_name(token)
        if start is None:
            return answer(400, {"error": "next_page_token is not one this server gave"})
        names = sorted(name for name, entry in self._models.items() if entry.ready and name >= start)
        page = {"models": [self._models[name].description for name in names[:size]]}
        if len(names) > size:
            page["nextPageToken"] = base64.urlsafe_b64encode(names[size].encode()).decode()
        return answer(200, page)

    def _unload(self, pid: int, name: str, live: set[int]) -> list[Outgoing]:
        entry = self._models.get(name)
        if entry is None or not entry.ready:
            return [(pid, not_loaded(name, entry))]
        del self._models[name]
        waiting = (entry.holders & live) - {pid}  # the asker dropped its own copy already
        log.info("unloading model %s; %d other workers hold it", name, len(waiting))
        if not waiting:
            return [(pid, answer(200))]
        self._unloads.append(PendingUnload(pid, name, entry.generation, waiting))
        evict = message(EVICT, {"name": name, "generation": entry.generation})
        return [(holder, evict) for holder in waiting]

    def _have(self, pid: int, document: dict) -> list[Outgoing]:
        entry = self._models.get(str(document.get("name")))
        if entry is not None and entry.generation == document.get("generation"):
            entry.holders.add(pid)
            return []
        return [(pid, message(EVICT, document))]  # unloaded while that worker loaded it

    def _dropped(self, pid: int, document: dict) -> list[Outgoing]:
        key = (document.get("name"), document.get("generation"))
        return self._forget_holder(pid, lambda unload: (unload.name, unload.generation) == key)

    def worker_gone(self, pid: int) -> list[Outgoing]:
        """A worker died: its copies are gone, a load it was making is abandoned."""
        for name, entry in list(self._models.items()):
            entry.holders.discard(pid)
            if entry.loader == pid and not entry.ready:
                log.warning("worker %d died loading model %s; the load is abandoned", pid, name)
                del self._models[name]
        self._unloads = [unload for unload in self._unloads if unload.asker != pid]
        return self._forget_holder(pid, lambda unload: True)

    def _forget_holder(self, pid: int, which: Callable[[PendingUnload], bool]) -> list[Outgoing]:
        """Answer each unload (of those `which` picks) that was waiting only for this worker."""
        done = []
        for unload in filter(which, self._unloads):
            unload.waiting.discard(pid)
            if not unload.waiting:
                done.append(unload)
        self._unloads = [unload for unload in self._unloads if unload.waiting]
        return [(unload.asker, answer(200)) for unload in done]


def not_loaded(name: str, entry: Entry | None) -> bytes:
    if entry is not None:
        return answer(404, {"error": f"model {name!r} is still loading"})
    return answer(404, {"error": f"model {name!r} is not loaded; load it with POST /models"})


def _page_size(limit: object) -> int | None:
    text = str(limit)
    return int(text) if text.isdigit() and 1 <= int(text) <= MOST_PAGE_SIZE else None


def _token_name(token: object) -> str | None:
    try:
        return base64.b64decode(str(token).encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
