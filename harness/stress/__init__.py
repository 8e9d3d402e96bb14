"""Stress runs on real threads: the operation mix language and the native (C) driver.

:class:`Mix` says what the threads do; :func:`run_native` runs a C implementation under the
native driver in a child process and returns a :class:`NativeResult` with the recorded
history, ready for the linearizability checker and the invariants.
"""

from .mix import DEFAULT_MIX, Mix
from .native import NativeResult, ThreadState, read_records, records_to_history, run_native

__all__ = [
    "DEFAULT_MIX",
    "Mix",
    "NativeResult",
    "ThreadState",
    "read_records",
    "records_to_history",
    "run_native",
]
