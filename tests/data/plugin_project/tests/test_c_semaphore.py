"""Our C semaphore, a file written to semharness.h (a relative path reads from the rootdir)."""

import pytest

C_SEMAPHORE = "csrc/wake_all.c"


@pytest.mark.semharness_model(
    impl=C_SEMAPHORE, scenarios=["standard", "repro-multi-token-waiter", "acquire-b"]
)
@pytest.mark.semharness_stress(impl=C_SEMAPHORE, ops=20_000)
def test_c_semaphore():
    pass
