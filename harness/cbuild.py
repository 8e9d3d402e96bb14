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


def _source_text(source: Path) -> bytes:
    try:
        return source.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read C file {source}: {exc.strerror}") from exc


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


def build_python_module(source: Path) -> ModuleType:
    """Compiles a C implementation with the Python frontend and imports it."""
    source = Path(source)
    include = sysconfig.get_paths()["include"]
    if not (Path(include) / "Python.h").exists():
        raise CompileError(
            f"cannot build {source}: Python.h is not in {include} (install the Python headers)"
        )
    frontend = csrc_dir() / "pysem.c"
    parts = [*C_FLAGS, *PY_FLAGS, sys.version, _source_text(source), frontend.read_bytes()]
    parts.append((csrc_dir() / "semharness.h").read_bytes())
    name = f"_semh_{source.stem.replace('-', '_')}_{_digest(parts)}"
    if not name.replace("_", "a").isalnum():
        name = f"_semh_user_{_digest(parts)}"
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    out = cache_dir() / f"{name}{suffix}"
    if not out.exists():
        tmp = out.with_suffix(f".tmp{os.getpid()}")
        args = [compiler(), *C_FLAGS, *PY_FLAGS, f"-DSEMH_MODULE={name}", f"-I{csrc_dir()}"]
        args += [f"-I{include}", str(frontend), str(source), "-o", str(tmp), "-lm", "-lpthread"]
        _run_compiler(args, source)
        tmp.replace(out)
    spec = importlib.util.spec_from_file_location(name, out)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
