"""Which executor runs an implementation: C ones under the model backend, Python ones under the
cooperative scheduler."""

from __future__ import annotations

from ..errors import UsageError
from ..registry import Implementation
from .core import Executor, Program, RunConfig
from .runner import MakeExecutor


def model_skip_reason(impl: Implementation) -> str | None:
    """Why ``impl`` cannot run under the model checker, or None when it can."""
    if not impl.capabilities.model:
        return "does not run under the model checker (it declares model=False)"
    if impl.kind == "c" and impl.source is None:
        return "a C implementation without its source file"
    return None


def executor_factory(impl: Implementation, crash_fd: int = 2) -> MakeExecutor:
    """A function making executors of ``impl`` for (program, config)."""
    reason = model_skip_reason(impl)
    if reason:
        raise UsageError(f"{impl.name} {reason}")
    if impl.kind == "c":
        from .cexec import CExecutor

        source = impl.source
        assert source is not None

        def make_c(program: Program, config: RunConfig) -> Executor:
            return CExecutor(source, program, config, crash_fd)

        return make_c
    from .pyexec import PyExecutor

    def make_py(program: Program, config: RunConfig) -> Executor:
        return PyExecutor(impl.factory, program, config)

    return make_py
