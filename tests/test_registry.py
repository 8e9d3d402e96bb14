"""Finding implementations: built-ins, entry points, module:Class, file.py:Class, file.c."""

from __future__ import annotations

import importlib.metadata
import sys
import textwrap
from pathlib import Path

import pytest

from semharness import Capabilities, UsageError, builtins, resolve
from semharness.cbuild import CompileError, csrc_dir

GOOD_PY = textwrap.dedent(
    '''
    import threading

    class Mine:
        """My semaphore."""
        semharness_capabilities = {"multi_acquire": False}

        def __init__(self, initial=0):
            self.c = initial
        def acquire(self, n=1): ...
        def try_acquire(self, n=1, timeout=0.0): return False
        def release(self, n=1): ...
        def available(self): return self.c
    '''
)


def test_builtins_are_listed_with_kind_and_capabilities() -> None:
    impls = {i.name: i for i in builtins()}
    assert list(impls) == [
        "futex64",
        "futex32",
        "posix_sem",
        "textbook",
        "threading",
        "threading-bounded",
        "multiprocessing",
    ]
    assert impls["futex64"].kind == "c" and impls["futex64"].capabilities == Capabilities()
    assert impls["futex64"].source is not None and impls["futex64"].source.is_file()
    assert not impls["posix_sem"].capabilities.multi_acquire
    assert not impls["posix_sem"].capabilities.model
    assert not impls["threading-bounded"].capabilities.exceed_initial
    assert impls["threading"].kind == "adapter"
    for impl in impls.values():
        sem = impl.create(2)
        assert sem.available() == 2


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UsageError, match=r"unknown implementation 'nope'.*futex64"):
        resolve("nope")


def test_file_py_class(tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_text(GOOD_PY)
    impl = resolve(f"{path}:Mine")
    assert impl.name == "Mine" and impl.description == "My semaphore."
    assert not impl.capabilities.multi_acquire and impl.capabilities.timeouts
    assert impl.create(4).available() == 4
    with pytest.raises(UsageError, match=r"has no class Other"):
        resolve(f"{path}:Other")
    with pytest.raises(UsageError, match=r"no such file"):
        resolve(f"{tmp_path / 'missing.py'}:Mine")


def test_module_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mysems.py").write_text(GOOD_PY)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert resolve("mysems:Mine").create(1).available() == 1
    with pytest.raises(UsageError, match=r"cannot import module"):
        resolve("no_such_module_xyz:Mine")
    sys.modules.pop("mysems", None)


def test_class_missing_methods_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text("class Half:\n    def acquire(self, n=1): pass\n")
    with pytest.raises(UsageError, match=r"lacks try_acquire, release, available"):
        resolve(f"{path}:Half")


def test_bad_capability_declaration_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "caps.py"
    path.write_text(GOOD_PY.replace('{"multi_acquire": False}', '{"teleport": True}'))
    with pytest.raises(UsageError, match=r"unknown capabilities"):
        resolve(f"{path}:Mine")


def test_entry_point(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "epsems.py").write_text(GOOD_PY)
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = importlib.metadata.EntryPoint(
        name="mine", value="epsems:Mine", group="semharness.implementations"
    )
    broken = importlib.metadata.EntryPoint(
        name="broken", value="epsems:Nothing", group="semharness.implementations"
    )

    def fake_entry_points(group: str) -> list[importlib.metadata.EntryPoint]:
        return [ep, broken] if group == "semharness.implementations" else []

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    assert resolve("mine").create(3).available() == 3
    with pytest.raises(UsageError, match=r"entry point broken .* failed to load"):
        resolve("broken")
    with pytest.raises(UsageError, match=r"known: .*mine"):
        resolve("nope")


def test_user_c_file_compiles_and_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEMHARNESS_CACHE", str(tmp_path / "cache"))
    src = Path(__file__).parent / "data" / "mutex_sem.c"
    impl = resolve(str(src))
    assert impl.kind == "c" and impl.name == "mutex_sem"
    assert impl.capabilities.multi_acquire and impl.capabilities.model
    sem = impl.create(2)
    assert sem.try_acquire(2) is True and sem.try_acquire(1, 0.01) is False
    sem.release(3)
    assert sem.available() == 3
    with pytest.raises(ValueError):
        sem.release(-1)
    assert sem.available() == 3


def test_c_file_that_does_not_compile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEMHARNESS_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "broken.c"
    src.write_text('#include "semharness.h"\nint semh_init(void *self, int32_t n) { return x; }\n')
    with pytest.raises(CompileError, match=r"does not compile: .*error.*'x' undeclared") as info:
        resolve(str(src))
    assert "broken.c" in (info.value.details or "")


def test_missing_c_file() -> None:
    with pytest.raises(UsageError, match=r"no such C file"):
        resolve("does/not/exist.c")


def test_header_is_installed() -> None:
    assert (csrc_dir() / "semharness.h").is_file()
