"""Finding semaphore implementations by name.

An implementation is named by one of:

- a built-in name (``semharness list``);
- a name in the ``semharness.implementations`` entry-point group (a class, or an
  :class:`Implementation`);
- ``package.module:Class``;
- ``path/to/file.py:Class``;
- ``path/to/file.c`` -- a C file written to ``semharness.h``, compiled on first use.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .contract import Capabilities, SemaphoreLike, capabilities_of
from .errors import UsageError

ENTRY_POINT_GROUP = "semharness.implementations"


@dataclass(frozen=True)
class Implementation:
    """One semaphore implementation the harness can run, and what it can do."""

    name: str
    kind: str  # 'c' | 'python' | 'adapter'
    description: str
    capabilities: Capabilities
    factory: Callable[[int], SemaphoreLike] = field(repr=False)
    #: the C file (for the model and stress builds), or None for Python implementations
    source: Path | None = None
    origin: str = "built-in"

    def create(self, initial: int = 0) -> SemaphoreLike:
        return self.factory(initial)


def _capabilities_from_c(flags: int) -> Capabilities:
    from .csrc_flags import CAP_ATOMIC_RELEASE, CAP_MODEL, CAP_MULTI_ACQUIRE, CAP_TIMEOUTS

    return Capabilities(
        multi_acquire=bool(flags & CAP_MULTI_ACQUIRE),
        atomic_release=bool(flags & CAP_ATOMIC_RELEASE),
        timeouts=bool(flags & CAP_TIMEOUTS),
        model=bool(flags & CAP_MODEL),
    )


def from_c_module(name: str, module: Any, source: Path | None, origin: str) -> Implementation:
    """An implementation compiled with the Python frontend (built-in or a user's file)."""
    return Implementation(
        name=name,
        kind="c",
        description=module.description,
        capabilities=_capabilities_from_c(module.capabilities),
        factory=module.Semaphore,
        source=source,
        origin=origin,
    )


def from_class(name: str, cls: Any, origin: str, kind: str = "python") -> Implementation:
    """A Python class obeying the contract; its docstring's first line describes it."""
    if not callable(cls):
        raise UsageError(f"{origin}: {cls!r} is not a class")
    missing = [m for m in ("acquire", "try_acquire", "release", "available") if not hasattr(cls, m)]
    if missing:
        raise UsageError(f"{origin}: {cls.__name__} lacks {', '.join(missing)} (see DESIGN.md)")
    try:
        caps = capabilities_of(cls)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{origin}: {exc}") from exc
    summary = " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split()).replace("``", "")
    return Implementation(name, kind, summary or cls.__name__, caps, cls, origin=origin)


def _builtin_c(name: str) -> Implementation:
    from .cbuild import builtin_source

    module = importlib.import_module(f"semharness.implementations._{name}")
    return from_c_module(name, module, builtin_source(name), "built-in")


def builtins() -> list[Implementation]:
    """The built-in correct implementations, in the order reports list them."""
    from .implementations.adapters import (
        MultiprocessingSemaphore,
        ThreadingBoundedSemaphore,
        ThreadingSemaphore,
    )
    from .implementations.textbook import ConditionSemaphore

    return [
        _builtin_c("futex64"),
        _builtin_c("futex32"),
        _builtin_c("posix_sem"),
        from_class("textbook", ConditionSemaphore, "built-in"),
        from_class("threading", ThreadingSemaphore, "built-in", kind="adapter"),
        from_class("threading-bounded", ThreadingBoundedSemaphore, "built-in", kind="adapter"),
        from_class("multiprocessing", MultiprocessingSemaphore, "built-in", kind="adapter"),
    ]


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def _load_entry_point(ep: importlib.metadata.EntryPoint) -> Implementation:
    origin = f"entry point {ep.name} ({ep.value})"
    try:
        obj = ep.load()
    except Exception as exc:  # a broken plug-in must not take the harness down
        raise UsageError(f"{origin} failed to load: {type(exc).__name__}: {exc}") from exc
    if isinstance(obj, Implementation):
        return obj
    return from_class(ep.name, obj, origin)


def _load_file_class(path: Path, attr: str, spec: str) -> Any:
    if not path.is_file():
        raise UsageError(f"{spec}: no such file {path}")
    module_name = f"semharness_user_{abs(hash(path.resolve()))}"
    mod_spec = importlib.util.spec_from_file_location(module_name, path)
    if mod_spec is None or mod_spec.loader is None:
        raise UsageError(f"{spec}: cannot import {path}")
    module = importlib.util.module_from_spec(mod_spec)
    sys.modules[module_name] = module
    try:
        mod_spec.loader.exec_module(module)
    except Exception as exc:
        raise UsageError(f"{spec}: importing {path} failed: {type(exc).__name__}: {exc}") from exc
    if not hasattr(module, attr):
        raise UsageError(f"{spec}: {path} has no class {attr}")
    return getattr(module, attr)


def _load_module_class(module_name: str, attr: str, spec: str) -> Any:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"{spec}: cannot import module {module_name} ({exc})") from exc
    except Exception as exc:
        raise UsageError(f"{spec}: importing {module_name} failed: {exc}") from exc
    if not hasattr(module, attr):
        raise UsageError(f"{spec}: module {module_name} has no attribute {attr}")
    return getattr(module, attr)


def buggy() -> list[Implementation]:
    """The known-buggy implementations (implementations/buggy/): the harness's self-test.

    Every ``*.c`` file there is one (built with the C contract), and every Python module that
    names its class in ``SEMAPHORE``; ``buggy-`` + the file's stem (``_`` as ``-``) names it.
    """
    folder = Path(__file__).resolve().parent / "implementations" / "buggy"
    out = []
    for path in sorted(folder.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        module = importlib.import_module(f"semharness.implementations.buggy.{path.stem}")
        cls = getattr(module, "SEMAPHORE", None)
        if cls is not None:
            out.append(from_class(_buggy_name(path), cls, "known bug"))
    for path in sorted(folder.glob("*.c")):
        from .cbuild import build_python_module

        out.append(from_c_module(_buggy_name(path), build_python_module(path), path, "known bug"))
    return sorted(out, key=lambda impl: impl.name)


def _buggy_name(path: Path) -> str:
    return "buggy-" + path.stem.replace("_", "-")


def known_names() -> list[str]:
    return [impl.name for impl in builtins()] + sorted(_entry_points())


def resolve(spec: str) -> Implementation:
    """The implementation a command-line argument names; UsageError if there is none."""
    if not spec:
        raise UsageError("empty implementation name")
    for impl in builtins():
        if impl.name == spec:
            return impl
    if spec.startswith("buggy-"):
        for impl in buggy():
            if impl.name == spec:
                return impl
    eps = _entry_points()
    if spec in eps:
        return _load_entry_point(eps[spec])
    if spec.endswith(".c"):
        from .cbuild import build_python_module

        path = Path(spec)
        if not path.is_file():
            raise UsageError(f"no such C file: {spec}")
        module = build_python_module(path)
        return from_c_module(path.stem, module, path.resolve(), spec)
    if ":" in spec:
        target, _, attr = spec.rpartition(":")
        if target.endswith(".py"):
            return from_class(attr, _load_file_class(Path(target), attr, spec), spec)
        return from_class(attr, _load_module_class(target, attr, spec), spec)
    raise UsageError(
        f"unknown implementation '{spec}'; known: {', '.join(known_names())} "
        "(or module:Class, path/file.py:Class, path/file.c)"
    )
