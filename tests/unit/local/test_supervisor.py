"""The supervisor's back-off, without processes (tests/e2e/test_local_supervisor.py runs real ones)."""

from __future__ import annotations

from deployment.local.supervisor import Backoff


def test_the_restart_wait_doubles_up_to_its_cap():
    assert [Backoff().delay(failures) for failures in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert Backoff().delay(10**6) == 30  # no overflow after a long crash loop
