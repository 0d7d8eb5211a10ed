"""A deploy killed right after any of its AWS calls converges: the next deploy ends where a clean one
does, plans nothing more, and destroy leaves nothing of the stage.

The kill is a BaseException raised from botocore's `after-call` event (conftest.Account.after), once
the k-th mutating call has taken effect, so the engine gets no chance to clean up, as with SIGKILL.
The clean deploy's calls are counted once; the capture bucket's and a seeded sample of the rest keep
the module under a minute.
"""

from __future__ import annotations

import os
import random

import pytest

from tests.moto.deployment.conftest import Killed
from tests.moto.deployment.snapshot import differences, leftovers, settings

STAGE = "pose-dev"
HARNESS = ("--set", "autoscaling.enabled=true")  # everything: endpoint, monitoring, API, page
SEED = 20261202
# CRASH_SAMPLES=50 (or more than the calls) kills after every call: a few minutes.
SAMPLES = int(os.environ.get("CRASH_SAMPLES", "16"))
REFERENCE: dict[str, object] = {}  # what a clean deploy leaves, and its mutating calls (computed once)


def reference(run, account, console) -> tuple[dict, list[str]]:
    """A clean deploy's settings and calls, then a destroy that must leave nothing."""
    if not REFERENCE:
        mark = account.mark()
        assert run("deploy", *HARNESS).code == 0
        calls = [f"{call.service} {call.operation}" for call in account.since(mark) if call.mutates]
        clean = settings(console, STAGE, account.schedules)
        assert run("destroy", *HARNESS).code == 0
        assert leftovers(console, STAGE, account.schedules) == []
        REFERENCE.update(settings=clean, calls=calls)
    return REFERENCE["settings"], REFERENCE["calls"]


def kills(count: int) -> list[int]:
    """Which calls to kill after: the first few (the capture bucket's), then a seeded sample."""
    first = list(range(1, min(7, count) + 1))
    rest = random.Random(SEED).sample(
        range(len(first) + 1, count + 1), max(0, min(SAMPLES - len(first), count - len(first)))
    )
    return sorted(first + rest)


@pytest.mark.parametrize("sample", range(SAMPLES))
def test_a_deploy_killed_after_any_call_converges_and_destroy_leaves_nothing(sample, run, account, console):
    clean, calls = reference(run, account, console)
    chosen = kills(len(calls))
    k = chosen[sample % len(chosen)]  # more samples than calls: every call, some twice
    killed_after = f"killed after call {k} of {len(calls)} ({calls[k - 1]})"
    account.kill_after = k
    with pytest.raises(Killed):
        run("deploy", *HARNESS)
    account.kill_after = None

    recovered = run("deploy", *HARNESS)

    assert recovered.code == 0, f"{killed_after}: {recovered.err}"
    found = settings(console, STAGE, account.schedules)
    assert found == clean, f"{killed_after}: {differences(found, clean)}"
    assert run("plan", *HARNESS).out.splitlines()[-1] == "plan: no changes", killed_after
    assert run("destroy", *HARNESS).code == 0, killed_after
    assert leftovers(console, STAGE, account.schedules) == [], killed_after


@pytest.mark.parametrize("k", [1, 3, 6])
def test_a_destroy_killed_midway_is_finished_by_the_next_one(k, run, account, console):
    assert run("deploy", *HARNESS).code == 0
    account.mutations, account.kill_after = 0, k
    with pytest.raises(Killed):
        run("destroy", *HARNESS)
    account.kill_after = None

    assert run("destroy", *HARNESS).code == 0
    assert leftovers(console, STAGE, account.schedules) == []
