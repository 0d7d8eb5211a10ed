"""The scripted AWS answers only to the real wrappers' method names, so a typo cannot pass silently."""

from __future__ import annotations

import pytest

from tests.unit.deployment.fakes import Calls, FakeAws, FakeClock


def test_a_misspelled_call_fails_and_a_real_one_is_recorded():
    aws = FakeAws(FakeClock())
    with pytest.raises(AttributeError, match="SageMaker has no method 'delete_shedule'"):
        aws.sagemaker.delete_shedule("pose-dev-monitor")
    aws.sagemaker.delete_schedule("pose-dev-monitor")
    assert aws.calls == [("sagemaker", "delete_schedule", ("pose-dev-monitor",))]


def test_a_misspelled_scripted_answer_fails():
    with pytest.raises(AttributeError, match="Storage has no method 'read_buckets'"):
        Calls([], "storage", read_buckets=lambda name: None)
