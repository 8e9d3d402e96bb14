"""Compiling C implementations written to ``semharness.h``.

The package build compiles the built-in implementations; this module compiles a user's ``.c``
file the same way at run time -- with the Python frontend (``pysem.c``) into an extension
module, or with a C driver (benchmarks, stress) into a program -- and caches the result by a
hash of everything that went into it, so a second run costs nothing.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

from .errors import UsageError

#: The flags every C implementation is compiled with, natively (setup.py uses the same).
C_FLAGS = ("-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-O2")
PY_FLAGS = ("-fPIC", "-shared", "-DSEMH_INTERRUPT_HOOK=semh_py_interrupt_hook")
#: The model checker's build: the header's model backend, and the runtime's symbols kept
#: inside the module (direct calls between the implementation and the scheduler).
MODEL_FLAGS = ("-fPIC", "-shared", "-fvisibility=hidden", "-DSEMH_BACKEND_MODEL")


class CompileError(UsageError):
    """A C file did not compile; the message carries the compiler's own words."""


def csrc_dir() -> Path:
    """Where the installed header and frontends are (``semharness/csrc``)."""
    return Path(__file__).resolve().parent / "csrc"


def builtin_source(name: str) -> Path:
    """The C source of a built-in implementation, shipped with the package."""
    return Path(__file__).resolve().parent / "implementations" / "c" / f"{name}.c"


def cache_dir() -> Path:
    root = os.environ.get("SEMHARNESS_CACHE") or Path.home() / ".cache" / "semharness"
    path = Path(root) / "build"
    path.mkdir(parents=True, exist_ok=True)
    return path


def compiler() -> str:
    cc = os.environ.get("CC", "gcc")
    if shutil.which(cc) is None:
        raise CompileError(f"no C compiler: '{cc}' is not on PATH (set CC to gcc or clang)")
    return cc


def _digest(parts: list[bytes | str]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _run_compiler(args: list[str], source: Path) -> None:
    env = {**os.environ, "LC_ALL": "C"}  # plain ASCII quotes in the compiler's messages
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        message = (proc.stderr or proc.stdout).strip().splitlines()
        first = next((ln for ln in message if "error" in ln), message[0] if message else "")
        raise CompileError(f"{source} does not compile: {first.strip()}", "\n".join(message))


_LOCAL_INCLUDE = re.compile(rb'^\s*#\s*include\s*"([^"]+)"', re.MULTILINE)


def _source_text(source: Path, seen: set[Path] | None = None) -> bytes:
    """The file's text and that of the files it includes with quotes from beside it (as the
    known-bug corpus includes the correct twin it changes), so the cache key sees them all."""
    try:
        text = source.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read C file {source}: {exc.strerror}") from exc
    seen = seen if seen is not None else {source.resolve()}
    for name in _LOCAL_INCLUDE.findall(text):
        near = (source.parent / name.decode(errors="replace")).resolve()
        if near not in seen and near.is_file():
            seen.add(near)
            text += b"\0" + _source_text(near, seen)
    return text


def build_program(
    driver: Path, source: Path, extra_flags: tuple[str, ...] = (), name: str = "prog"
) -> Path:
    """Compiles ``driver`` (a C program) with one implementation file; returns the executable."""
    parts = [*C_FLAGS, *extra_flags, _source_text(source), driver.read_bytes()]
    parts.append((csrc_dir() / "semharness.h").read_bytes())
    out = cache_dir() / f"{name}-{source.stem}-{_digest(parts)}"
    if not out.exists():
        tmp = out.with_suffix(f".tmp{os.getpid()}")
        args = [compiler(), *C_FLAGS, *extra_flags, f"-I{csrc_dir()}", str(driver), str(source)]
        _run_compiler([*args, "-o", str(tmp), "-lpthread"], source)
        tmp.replace(out)
    return out


def _build_extension(
    source: Path, frontend: Path, flags: tuple[str, ...], prefix: str, headers: tuple[str, ...]
) -> tuple[str, Path]:
    """Compiles ``frontend`` + ``source`` into a cached extension module: (name, path)."""
    source = Path(source)
    include = sysconfig.get_paths()["include"]
    if not (Path(include) / "Python.h").exists():
        raise CompileError(
            f"cannot build {source}: Python.h is not in {include} (install the Python headers)"
        )
    parts = [*C_FLAGS, *flags, sys.version, _source_text(source), frontend.read_bytes()]
    parts += [(csrc_dir() / header).read_bytes() for header in headers]
    name = f"{prefix}_{source.stem.replace('-', '_')}_{_digest(parts)}"
    if not name.replace("_", "a").isalnum():
        name = f"{prefix}_user_{_digest(parts)}"
    out = cache_dir() / f"{name}{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    if not out.exists():
        tmp = out.with_suffix(f".tmp{os.getpid()}")
        args = [compiler(), *C_FLAGS, *flags, f"-DSEMH_MODULE={name}", f"-I{csrc_dir()}"]
        args += [f"-I{include}", str(frontend), str(source), "-o", str(tmp), "-lm", "-lpthread"]
        _run_compiler(args, source)
        tmp.replace(out)
    return name, out


def build_python_module(source: Path) -> ModuleType:
    """Compiles a C implementation with the Python frontend and imports it."""
    frontend = csrc_dir() / "pysem.c"
    name, out = _build_extension(source, frontend, PY_FLAGS, "_semh", ("semharness.h",))
    return _load_extension(name, out)


def _load_extension(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_MODEL_MODULES: dict[Path, ModuleType] = {}


def build_model_module(source: Path) -> ModuleType:
    """Compiles a C implementation against the header's model backend, together with the
    model checker's scheduler runtime (``model_runtime.c``), and imports the result.

    The module offers ``Runner`` (see harness/model/cexec.py) and the implementation's
    ``description``, ``capabilities`` and ``state_size``.  Cached like the other builds.
    """
    runtime = csrc_dir() / "model_runtime.c"
    headers = ("semharness.h", "semharness_model.h")
    name, out = _build_extension(source, runtime, MODEL_FLAGS, "_semhm", headers)
    module = _MODEL_MODULES.get(out)
    if module is None:  # executors are made by the thousand: import each build once
        module = _MODEL_MODULES[out] = _load_extension(name, out)
    return module
