"""Capability declarations and the argument checks shared by the Python implementations."""

from __future__ import annotations

import math
from typing import ClassVar

import pytest

from semharness import Implementation, builtins
from semharness.contract import (
    MAX_COUNT,
    Capabilities,
    capabilities_of,
    check_n,
    check_timeout,
)


def test_capabilities_missing_lists_only_lacking_needed_flags() -> None:
    caps = Capabilities(multi_acquire=False, model=False)
    assert caps.missing(frozenset({"multi_acquire", "timeouts"})) == ["multi_acquire"]
    assert caps.missing(frozenset()) == []
    assert Capabilities().missing(frozenset(Capabilities.names())) == []


def test_capabilities_of_accepts_dataclass_dict_or_nothing() -> None:
    class A:
        semharness_capabilities = Capabilities(timeouts=False)

    class B:
        semharness_capabilities: ClassVar[dict[str, bool]] = {"overflow_check": False}

    class C:
        pass

    class D:
        semharness_capabilities = 3

    assert not capabilities_of(A).timeouts
    assert not capabilities_of(B).overflow_check and capabilities_of(B).timeouts
    assert capabilities_of(C) == Capabilities()
    with pytest.raises(TypeError):
        capabilities_of(D)


def test_check_n() -> None:
    assert check_n(0) == 0 and check_n(MAX_COUNT) == MAX_COUNT
    with pytest.raises(ValueError):
        check_n(-1)
    with pytest.raises(OverflowError):
        check_n(MAX_COUNT + 1)
    for bad in (1.0, "1", None):
        with pytest.raises(TypeError):
            check_n(bad)


def test_check_timeout() -> None:
    assert check_timeout(None) is None
    assert check_timeout(-1) is None and check_timeout(-(2**31)) is None
    assert check_timeout(math.inf) is None
    assert check_timeout(0) == 0.0 and check_timeout(0.25) == 0.25
    with pytest.raises(ValueError):
        check_timeout(math.nan)
    for bad in ("1", True, b"x"):
        with pytest.raises(TypeError):
            check_timeout(bad)


@pytest.mark.parametrize("impl", builtins(), ids=lambda i: i.name)
def test_every_builtin_rejects_wrong_types_and_keeps_its_count(impl: Implementation) -> None:
    sem = impl.create(2)
    calls = [
        lambda: sem.acquire("1"),
        lambda: sem.try_acquire(None),
        lambda: sem.try_acquire(1, "soon"),
        lambda: sem.try_acquire(1, b"x"),
        lambda: sem.release(2.0),
    ]
    for call in calls:
        with pytest.raises(TypeError):
            call()
        assert sem.available() == 2
    with pytest.raises(ValueError):
        impl.create(-1)
    for bad in ("3", 1.5):
        with pytest.raises(TypeError):
            impl.create(bad)


@pytest.mark.parametrize("impl", builtins(), ids=lambda i: i.name)
def test_every_builtin_accepts_keywords(impl: Implementation) -> None:
    sem = impl.create(2)
    assert sem.try_acquire(n=1, timeout=0.0) is True
    sem.acquire(n=1)
    assert sem.try_acquire(timeout=0.01) is False
    sem.release(n=2)
    assert sem.available() == 2
