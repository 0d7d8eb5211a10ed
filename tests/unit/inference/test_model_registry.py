"""The front's registry of loaded models, as pure messages in and out (no processes)."""

from __future__ import annotations

import json

import pytest

from inference.model_registry import ANSWER, ASK, DROPPED, EVICT, HAVE, MIB, ModelRegistry

WORKERS = {101, 102}


def ask(registry: ModelRegistry, pid: int, live: set[int] = WORKERS, **question) -> list[tuple[int, bytes]]:
    return registry.receive(pid, ASK, json.dumps(question).encode(), live)


def answered(messages: list[tuple[int, bytes]]) -> tuple[int, int, dict]:
    [(pid, data)] = messages
    assert data[:1] == ANSWER
    document = json.loads(data[1:])
    return pid, document.pop("status"), document


def load(
    registry: ModelRegistry, pid: int, name: str, estimate: int = 10 * MIB, available: int = 1 << 40
) -> int:
    reserved = ask(
        registry,
        pid,
        op="load",
        name=name,
        url=f"/opt/ml/models/{name}/model",
        estimate=estimate,
        available=available,
    )
    _, status, document = answered(reserved)
    assert status == 200
    assert answered(ask(registry, pid, op="loaded", name=name, generation=document["generation"]))[1] == 200
    return document["generation"]


def test_unload_waits_for_every_other_holder_then_answers_the_asker():
    registry = ModelRegistry(workers=2)
    generation = load(registry, 101, "lite")
    assert (
        registry.receive(102, HAVE, json.dumps({"name": "lite", "generation": generation}).encode(), WORKERS)
        == []
    )
    evict = json.dumps({"name": "lite", "generation": generation}).encode()
    assert ask(registry, 101, op="unload", name="lite") == [(102, EVICT + evict)]
    assert answered(ask(registry, 101, op="lookup", name="lite"))[1] == 404  # gone at once for new requests
    assert registry.receive(102, DROPPED, evict, WORKERS) == [(101, ANSWER + b'{"status": 200}')]


def test_a_holder_that_dies_counts_as_dropped():
    registry = ModelRegistry(workers=2)
    generation = load(registry, 101, "lite")
    registry.receive(102, HAVE, json.dumps({"name": "lite", "generation": generation}).encode(), WORKERS)
    ask(registry, 101, op="unload", name="lite")
    assert registry.worker_gone(102) == [(101, ANSWER + b'{"status": 200}')]


def test_a_copy_loaded_after_an_unload_is_evicted_at_once():
    registry = ModelRegistry(workers=2)
    generation = load(registry, 101, "lite")
    assert answered(ask(registry, 101, op="unload", name="lite"))[1] == 200
    have = json.dumps({"name": "lite", "generation": generation}).encode()
    assert registry.receive(102, HAVE, have, WORKERS) == [(102, EVICT + have)]


def test_a_load_abandoned_by_a_dying_worker_frees_the_name():
    registry = ModelRegistry(workers=2)
    ask(registry, 101, op="load", name="lite", url="/m", estimate=MIB, available=1 << 40)
    assert (
        answered(ask(registry, 102, op="load", name="lite", url="/m", estimate=MIB, available=1 << 40))[1]
        == 409
    )
    registry.worker_gone(101)
    assert (
        answered(ask(registry, 102, op="load", name="lite", url="/m", estimate=MIB, available=1 << 40))[1]
        == 200
    )


def test_507_counts_what_workers_will_still_load_against_what_is_free():
    """Two workers: a loaded 100 MiB model held by one worker will take 100 MiB more in the other."""
    registry = ModelRegistry(workers=2)
    load(registry, 101, "heavy", estimate=100 * MIB)
    _, status, document = answered(
        ask(registry, 101, op="load", name="lite", url="/m", estimate=60 * MIB, available=200 * MIB)
    )
    assert (status, document) == (
        507,
        {
            "error": "not enough memory to load model 'lite': it needs about 120 MiB (2 workers x 60 MiB), and 100 MiB are free"
        },
    )
    assert (
        answered(
            ask(registry, 101, op="load", name="lite", url="/m", estimate=50 * MIB, available=200 * MIB)
        )[1]
        == 200
    )


def test_the_models_memory_cap():
    registry = ModelRegistry(workers=1, limit_bytes=100 * MIB)
    load(registry, 101, "a", estimate=70 * MIB)
    _, status, document = answered(
        ask(registry, 101, op="load", name="b", url="/m", estimate=40 * MIB, available=1 << 40)
    )
    assert (status, document["error"]) == (
        507,
        "not enough memory to load model 'b': it needs about 40 MiB (1 workers x 40 MiB), "
        "and 30 MiB are left of the models' 100 MiB",
    )


@pytest.mark.parametrize("names", [[], ["a"], ["c", "a", "b"]])
def test_pages_cover_every_model_once(names):
    registry = ModelRegistry(workers=1)
    for name in names:
        load(registry, 101, name)
    listed, token = [], None
    while True:
        _, status, page = answered(ask(registry, 101, op="list", limit="2", token=token))
        assert status == 200
        listed += [model["modelName"] for model in page["models"]]
        token = page.get("nextPageToken")
        if token is None:
            break
    assert listed == sorted(names)
