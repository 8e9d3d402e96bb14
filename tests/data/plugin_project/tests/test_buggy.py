"""The buggy semaphore: a marker can name the implementation itself (``impl=``)."""

import pytest

BUGGY = "semexample.buggy:NotifyOneSemaphore"


@pytest.mark.semharness_model(
    impl=BUGGY, scenarios=["standard", "multiRelease", "repro-release-n-wakes-n"], schedules=200
)
def test_buggy_model_checking():
    pass  # fails: a release wakes one waiter, and a lost wake-up follows
