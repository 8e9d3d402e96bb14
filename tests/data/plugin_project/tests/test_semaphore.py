"""semharness's checks on our semaphore: the one ``semharness_impl`` in pytest.ini names."""

import pytest


@pytest.mark.semharness_model(
    scenarios=["standard", "multiRelease", "repro-release-n-wakes-n", "repro-timed-waits"],
    schedules=200,
)
def test_model_checking():
    pass  # the marker's check runs before the body; a failure shows the minimised trace


@pytest.mark.semharness_peer(scenarios=["battery", "acquire-a", "multiAcquireRelease"])
def test_peer_suite():
    pass


@pytest.mark.semharness_stress(threads=(2, 3), seconds=0.2)
def test_stress(semharness_result):
    # the body runs after the checks passed, and may look at what they found
    assert [run.threads for run in semharness_result.stress] == [2, 3]
    assert all(run.ops > 0 for run in semharness_result.stress)


def test_our_own_test(semharness_impl):
    sem = semharness_impl.create(2)
    assert sem.try_acquire(2)
    assert not sem.try_acquire(1, timeout=0.01)
    sem.release(1)
    assert sem.available() == 1
