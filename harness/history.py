"""The record of one run: a columnar history of semaphore operations, and its JSON Lines files.

A :class:`History` is what the linearizability checker reads and what ``check-history`` loads.
It is columnar (one numpy array per field) because stress runs record millions of operations and
the checker works on whole columns: 47 bytes per operation (4+1+8+8+8+8+8+2), at most 1.5x that
while appends grow the columns (47.6 bytes/op measured after 1,000,000 appends; exactly 47 after
:func:`read_jsonl`, :meth:`History.from_arrays` or :meth:`History.trim`).  Appending a million
operations from Python takes about 0.6 s: rows are staged in ``array.array`` columns (typed and
range-checked in C) and moved into numpy 65,536 at a time.

Encodings (all columns have one row per operation, in the order appended or read):

- ``thread`` int32; ``op`` int8, one of :data:`ACQUIRE`, :data:`TRY_ACQUIRE`, :data:`RELEASE`,
  :data:`AVAILABLE` (names in :data:`OP_NAMES`); ``n`` int64 (bad-input operations carry
  negative or huge n).
- ``timeout`` float64, NaN for None (wait forever, or no timeout at all: acquire and friends).
- ``invoke`` and ``ret`` int64 monotonic nanoseconds; ``ret`` is :data:`PENDING` (INT64_MIN) for
  an operation that never returned.  INT64_MIN is not accepted as a real return time, so the
  sentinel cannot collide with one.
- ``result`` int64: try_acquire 0/1, available the count, acquire/release 0; :data:`NO_RESULT`
  (INT64_MIN, also refused as an available() count) for a pending operation or one that failed.
- ``error`` int16: an index into :attr:`History.error_names` (index 0, None, is "no error").

JSON Lines (DESIGN.md, "History file format"): :func:`write_jsonl` and :func:`read_jsonl`
stream line by line, gzip when the path ends in ``.gz``.  Round trip: for a history that passes
:meth:`History.validate`, ``read_jsonl(p) == h`` after ``write_jsonl(h, p)``, column for column,
with ``initial`` and ``meta``.  The reader also takes other tools' histories (no header, extra
fields, absent return/result/error/timeout) and rejects malformed ones with a
:class:`HistoryFormatError` naming the file and line.
"""

from __future__ import annotations

import array
import gzip
import io
import json
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from .errors import UsageError

ACQUIRE = 0
TRY_ACQUIRE = 1
RELEASE = 2
AVAILABLE = 3
#: Op names by code.
OP_NAMES: tuple[str, ...] = ("acquire", "try_acquire", "release", "available")
#: Op codes by name.
OP_CODES: dict[str, int] = {name: code for code, name in enumerate(OP_NAMES)}

_I64_MIN = -(2**63)
_I64_END = 2**63  # one past INT64_MAX
_I32_MIN = -(2**31)
_I32_END = 2**31
#: ``ret`` of an operation that never returned.
PENDING = _I64_MIN
#: ``result`` of a pending operation or of one that raised.
NO_RESULT = _I64_MIN

FORMAT = "semharness-history"
VERSION = 1
_RESERVED = ("format", "version", "initial")

#: (column, numpy dtype, array.array typecode for the append stage)
_COLUMNS: tuple[tuple[str, type, str], ...] = (
    ("thread", np.int32, "i"),
    ("op", np.int8, "b"),
    ("n", np.int64, "q"),
    ("timeout", np.float64, "d"),
    ("invoke", np.int64, "q"),
    ("ret", np.int64, "q"),
    ("result", np.int64, "q"),
    ("error", np.int16, "h"),
)
_NAMES = tuple(name for name, _, _ in _COLUMNS)
_CHUNK = 1 << 16  # appended rows staged in array.arrays, moved to numpy this many at a time
_MAX_ERRORS = 2**15 - 1
for _name, _dtype, _code in _COLUMNS:  # the stage is copied into numpy by its raw bytes
    assert array.array(_code).itemsize == np.dtype(_dtype).itemsize, _name
# op codes and names (and the numpy ints that equal them) -> code; bools are turned away first
_OP_LOOKUP: dict[Any, int] = {**OP_CODES, **{code: code for code in range(len(OP_NAMES))}}


class HistoryFormatError(UsageError):
    """A history file that cannot be read; ``str()`` is ``FILE:LINE: what is wrong``.

    ``line`` is 1-based, or None when the problem is the whole file (an empty one).
    """

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of a history, decoded: for messages, tests and small histories."""

    index: int
    thread: int
    op: str
    n: int
    timeout: float | None  # None: no timeout (wait forever)
    invoke: int
    ret: int | None  # None: never returned
    result: bool | int | None  # bool for try_acquire, int for available, None otherwise
    error: str | None

    @property
    def pending(self) -> bool:
        return self.ret is None


class History:
    """The operations of one run on one semaphore, in columns (see the module docstring).

    Columns are read as read-only numpy views (``h.thread``, ``h.op``, ``h.n``, ``h.timeout``,
    ``h.invoke``, ``h.ret``, ``h.result``, ``h.error``); a view taken before later appends keeps
    showing the rows it had.  ``initial`` is the semaphore's initial count, ``meta`` a free-form
    JSON-able dict written into the file header.
    """

    def __init__(self, initial: int = 0, meta: dict[str, Any] | None = None) -> None:
        self.initial = _check_initial(initial)
        self.meta: dict[str, Any] = dict(meta or {})
        for key in _RESERVED:
            if key in self.meta:
                raise ValueError(f"meta may not hold the header field {key!r}")
        self._cols: dict[str, np.ndarray] = {name: np.empty(0, dt) for name, dt, _ in _COLUMNS}
        self._size = 0  # rows held in the numpy columns
        self._stage = tuple(array.array(code) for _, _, code in _COLUMNS)
        self._push_to = tuple(a.append for a in self._stage)
        self._error_names: list[str | None] = [None]
        self._error_codes: dict[str, int] = {}

    # ---- building ----------------------------------------------------------------------------

    def append(
        self,
        thread: int,
        op: str | int,
        n: int,
        timeout: float | None,
        invoke: int,
        ret: int | None,
        result: bool | int | None = None,
        error: str | None = None,
    ) -> None:
        """Adds one operation.  ``ret`` None: pending; ``error``: the exception's name (the
        operation had no effect).  ``result`` counts only for a completed try_acquire (a bool,
        or 0/1) or available (an int); it is ignored otherwise."""
        code = None if op.__class__ is bool else _OP_LOOKUP.get(op)
        if code is None:
            raise ValueError(f"unknown op {op!r}")
        if ret is None:
            ret = PENDING
            if error is not None:
                raise ValueError("a pending operation cannot have an error")
            res = NO_RESULT
        elif ret == PENDING:
            raise ValueError("ret INT64_MIN is reserved for pending operations (pass None)")
        elif error is not None:
            res = NO_RESULT
        elif code == TRY_ACQUIRE:
            if result is True or result is False or result == 0 or result == 1:
                res = 1 if result else 0
            else:
                raise ValueError(f"try_acquire result must be a bool, not {result!r}")
        elif code == AVAILABLE:
            if result.__class__ is bool or result is None or result == NO_RESULT:
                raise ValueError(f"available result must be an int, not {result!r}")
            res = result
        else:
            res = 0
        err = 0 if error is None else self._error_codes.get(error) or self._error_code(error)
        p = self._push_to
        try:
            p[0](thread)
            p[1](code)
            p[2](n)
            p[3](math.nan if timeout is None else timeout)
            p[4](invoke)
            p[5](ret)
            p[6](res)
            p[7](err)
        except (TypeError, OverflowError) as exc:
            self._unstage_partial()
            raise ValueError(f"bad operation field: {exc}") from None
        if len(self._stage[0]) >= _CHUNK:
            self._flush()

    def extend_records(self, records: Iterable[Any], sem: int | None = None) -> None:
        """Appends real-thread runner records (:class:`semharness.realtime.Record`).

        A history is of one semaphore: ``sem`` keeps the records of that semaphore only; with
        None every record must be of the same one (ValueError otherwise).  A record whose result
        does not fit its op (a buggy try_acquire returning None) is refused with ValueError:
        the history could not say what happened.
        """
        first: int | None = None
        for k, r in enumerate(records):
            if sem is None:
                if first is None:
                    first = r.sem
                elif r.sem != first:
                    raise ValueError(
                        f"records of semaphores {first} and {r.sem}: pass sem= to pick one"
                    )
            elif r.sem != sem:
                continue
            try:
                self.append(
                    r.thread, r.op, r.n, r.timeout, r.invoke_ns, r.return_ns, r.result, r.error
                )
            except ValueError as exc:
                raise ValueError(f"record {k} ({r!r}): {exc}") from None

    @classmethod
    def from_arrays(
        cls,
        *,
        thread: Any,
        op: Any,
        n: Any,
        invoke: Any,
        ret: Any,
        result: Any = None,
        timeout: Any = None,
        error: Any = None,
        error_names: Sequence[str | None] = (),
        initial: int = 0,
        meta: dict[str, Any] | None = None,
    ) -> History:
        """Builds a history from whole columns (array-likes, copied), e.g. generated benchmarks.

        ``op``: codes or names.  ``ret``: :data:`PENDING` (or None in a list) for pending.
        ``timeout``: None for all-None, else floats with NaN/None for None.  ``error``: codes
        into ``error_names`` (as :attr:`error_names`; its leading None may be left out), None
        for no errors.  ``result``: None is allowed when no completed try_acquire or available
        needs one.  Results of pending and failed operations are set to :data:`NO_RESULT` and
        those of completed acquires/releases to 0, as :meth:`append` does.
        """
        h = cls(initial, meta)
        op_arr = np.asarray(op)
        if op_arr.dtype.kind in "UO":
            try:
                op_arr = np.array([_OP_LOOKUP[x] for x in op_arr.reshape(-1).tolist()], np.int8)
            except KeyError as exc:
                raise ValueError(f"unknown op {exc.args[0]!r}") from None
        cols = {
            "thread": _int_column("thread", thread, np.int32),
            "op": _int_column("op", op_arr, np.int8),
            "n": _int_column("n", n, np.int64),
            "invoke": _int_column("invoke", invoke, np.int64),
            "ret": _int_column("ret", ret, np.int64, none=PENDING),
        }
        size = len(cols["thread"])
        cols["timeout"] = (
            np.full(size, np.nan)
            if timeout is None
            else np.array(timeout, dtype=np.float64).reshape(-1)
        )
        cols["error"] = (
            np.zeros(size, np.int16) if error is None else _int_column("error", error, np.int16)
        )
        cols["result"] = (
            np.zeros(size, np.int64)
            if result is None
            else _int_column("result", result, np.int64, none=NO_RESULT)
        )
        for name, col in cols.items():
            if len(col) != size:
                raise ValueError(f"column {name} has {len(col)} rows, thread has {size}")
        names = list(error_names)
        if names and names[0] is None:
            names.pop(0)
        for name in names:
            h._error_code(name)
        if len(h._error_names) != len(names) + 1:
            raise ValueError("error_names repeats a name")
        codes, err = cols["op"], cols["error"]
        if size and not ((codes >= 0) & (codes < len(OP_NAMES))).all():
            raise ValueError("op codes must be 0..3")
        if size and not ((err >= 0) & (err < len(h._error_names))).all():
            raise ValueError("error codes must index error_names")
        pending = cols["ret"] == PENDING
        if (pending & (err != 0)).any():
            raise ValueError("a pending operation cannot have an error")
        res = cols["result"]
        done = ~pending & (err == 0)
        tried = done & (codes == TRY_ACQUIRE)
        read = done & (codes == AVAILABLE)
        if result is None and (tried | read).any():
            raise ValueError("result is needed: there are completed try_acquire/available ops")
        if not ((res[tried] == 0) | (res[tried] == 1)).all():
            raise ValueError("a completed try_acquire's result must be 0 or 1")
        if (res[read] == NO_RESULT).any():
            raise ValueError("a completed available() needs a result")
        res[~done] = NO_RESULT
        res[done & ((codes == ACQUIRE) | (codes == RELEASE))] = 0
        h._cols = {name: cols[name] for name in _NAMES}
        h._size = size
        return h

    def trim(self) -> None:
        """Gives back the spare capacity appends leave (at most half the rows again)."""
        self._flush()
        if len(self._cols["thread"]) != self._size:
            self._cols = {k: v[: self._size].copy() for k, v in self._cols.items()}

    # ---- reading -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._size + len(self._stage[0])

    def _column(self, name: str) -> np.ndarray:
        if self._stage[0]:
            self._flush()
        view = self._cols[name][: self._size]
        view.flags.writeable = False
        return view

    thread = property(lambda self: self._column("thread"), doc="int32 thread ids")
    op = property(lambda self: self._column("op"), doc="int8 op codes (OP_NAMES)")
    n = property(lambda self: self._column("n"), doc="int64 token counts")
    timeout = property(lambda self: self._column("timeout"), doc="float64 seconds, NaN = None")
    invoke = property(lambda self: self._column("invoke"), doc="int64 ns")
    ret = property(lambda self: self._column("ret"), doc="int64 ns, PENDING if never returned")
    result = property(lambda self: self._column("result"), doc="int64, NO_RESULT if none")
    error = property(lambda self: self._column("error"), doc="int16 index into error_names")

    def columns(self) -> dict[str, np.ndarray]:
        """All columns by name (read-only views)."""
        return {name: self._column(name) for name in _NAMES}

    @property
    def error_names(self) -> tuple[str | None, ...]:
        """Error names by code: ``error_names[h.error[i]]``; code 0 is None (no error)."""
        return tuple(self._error_names)

    @property
    def nbytes(self) -> int:
        """Bytes held by the columns, spare capacity and the append stage included."""
        held = sum(a.nbytes for a in self._cols.values())
        return held + sum(len(a) * a.itemsize for a in self._stage)

    def pending_mask(self) -> np.ndarray:
        """True for the operations that never returned."""
        return self.ret == PENDING

    def op_at(self, i: int) -> Operation:
        """Operation ``i`` (negative counts from the end), decoded."""
        size = len(self)
        if not -size <= i < size:
            raise IndexError(f"operation {i} of {size}")
        i %= size
        self._flush()
        c = self._cols
        return self._decode(
            i,
            int(c["thread"][i]),
            int(c["op"][i]),
            int(c["n"][i]),
            float(c["timeout"][i]),
            int(c["invoke"][i]),
            int(c["ret"][i]),
            int(c["result"][i]),
            int(c["error"][i]),
        )

    def __iter__(self) -> Iterator[Operation]:
        decode = self._decode
        for start in range(0, len(self), _CHUNK):
            rows = [self._column(k)[start : start + _CHUNK].tolist() for k in _NAMES]
            for k, row in enumerate(zip(*rows, strict=True)):
                yield decode(start + k, *row)

    def _decode(
        self, i: int, t: int, o: int, n: int, to: float, inv: int, ret: int, res: int, err: int
    ) -> Operation:
        if res == NO_RESULT:
            result: bool | int | None = None
        elif o == TRY_ACQUIRE:
            result = res == 1
        elif o == AVAILABLE:
            result = res
        else:
            result = None
        return Operation(
            index=i,
            thread=t,
            op=OP_NAMES[o],
            n=n,
            timeout=None if to != to else to,
            invoke=inv,
            ret=None if ret == PENDING else ret,
            result=result,
            error=self._error_names[err],
        )

    def invoke_order(self) -> np.ndarray:
        """Row indices by invoke time, stable (ties keep their recorded order)."""
        return np.argsort(self.invoke, kind="stable")

    def sorted_by_invoke(self) -> History:
        """A new history with the rows in :meth:`invoke_order`; this one is unchanged."""
        return self.take(self.invoke_order())

    def take(self, indices: Any) -> History:
        """A new history of the rows at ``indices`` (an index array or a boolean mask)."""
        h = History(self.initial, self.meta)
        h._error_names = list(self._error_names)
        h._error_codes = dict(self._error_codes)
        h._cols = {name: self._column(name)[indices].copy() for name in _NAMES}
        h._size = len(h._cols["thread"])
        return h

    def validate(self) -> None:
        """Raises ValueError unless the history is well formed, as :func:`read_jsonl` demands:
        no return before its invoke, and each thread's operations one after another in the
        recorded order, none after a pending one."""
        inv, ret, thr = self.invoke, self.ret, self.thread
        pending = ret == PENDING
        bad = np.flatnonzero(~pending & (ret < inv))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"operation {i} returns at {ret[i]}, before its invoke {inv[i]}")
        order = np.argsort(thr, kind="stable")  # each thread's rows, in recorded order
        same = thr[order][1:] == thr[order][:-1]
        prev, nxt = order[:-1][same], order[1:][same]
        bad = np.flatnonzero(pending[prev] | (inv[nxt] < ret[prev]))
        if bad.size:
            i, j = int(prev[bad[0]]), int(nxt[bad[0]])
            what = "is pending" if pending[i] else f"returns at {ret[i]}"
            raise ValueError(
                f"thread {thr[j]}: operation {j} (invoked at {inv[j]}) follows operation {i}, "
                f"which {what}: a thread makes one call at a time"
            )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        if (self.initial, self.meta, len(self)) != (other.initial, other.meta, len(other)):
            return False
        for name in _NAMES:
            a, b = self._column(name), other._column(name)
            if name == "timeout":
                if not np.array_equal(a, b, equal_nan=True):
                    return False
            elif name == "error" and self._error_names != other._error_names:
                names_a = np.array(self._error_names, dtype=object)[a]
                names_b = np.array(other._error_names, dtype=object)[b]
                if not np.array_equal(names_a, names_b):
                    return False
            elif not np.array_equal(a, b):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        size = len(self)
        threads = len(np.unique(self.thread)) if size else 0
        return f"<History of {size} operations, {threads} threads, initial {self.initial}>"

    # ---- internals ---------------------------------------------------------------------------

    def _error_code(self, name: str) -> int:
        if name.__class__ is not str or not name:
            raise ValueError(f"error must be a non-empty string, not {name!r}")
        code = self._error_codes.get(name)
        if code is None:
            if len(self._error_names) > _MAX_ERRORS:
                raise ValueError(f"more than {_MAX_ERRORS} distinct error names")
            code = self._error_codes[name] = len(self._error_names)
            self._error_names.append(name)
        return code

    def _unstage_partial(self) -> None:
        """Drops the fields a failed append had staged, so the columns stay aligned."""
        keep = min(len(a) for a in self._stage)
        for a in self._stage:
            del a[keep:]

    def _flush(self) -> None:
        """Moves the staged rows into the numpy columns, growing them by half when full."""
        k = len(self._stage[0])
        if not k:
            return
        need = self._size + k
        cap = len(self._cols["thread"])
        if need > cap:
            cap = max(need, cap + cap // 2, _CHUNK)
            for name, dtype, _ in _COLUMNS:
                col = np.empty(cap, dtype)
                col[: self._size] = self._cols[name][: self._size]
                self._cols[name] = col
        for (name, dtype, _), staged in zip(_COLUMNS, self._stage, strict=True):
            self._cols[name][self._size : need] = np.frombuffer(staged, dtype)
        for staged in self._stage:
            del staged[:]
        self._size = need


def _check_initial(initial: Any) -> int:
    if initial.__class__ is bool or not isinstance(initial, int | np.integer):
        raise TypeError(f"initial must be an int, not {initial!r}")
    return int(initial)


def _int_column(name: str, values: Any, dtype: type, none: int | None = None) -> np.ndarray:
    """A 1-d integer column, copied; refuses floats and values out of the dtype's range (numpy
    would truncate or wrap them silently).  ``none`` stands in for None items."""
    arr = np.asarray(values)
    if arr.dtype.kind == "O" and none is not None:
        arr = np.asarray([none if v is None else v for v in arr.reshape(-1).tolist()])
    arr = arr.reshape(-1)
    if arr.size == 0:
        return np.zeros(0, dtype)
    if arr.dtype.kind not in "iub":
        raise TypeError(f"column {name} must hold integers, not {arr.dtype}")
    info = np.iinfo(dtype)
    fits = np.can_cast(arr.dtype, dtype, "safe")  # every value fits: no pass over them
    if not fits and (int(arr.min()) < info.min or int(arr.max()) > info.max):
        raise ValueError(f"column {name} has values outside {np.dtype(dtype).name}")
    return arr.astype(dtype, copy=True)


# ---- JSON Lines -------------------------------------------------------------------------------


def _open(path: str | os.PathLike[str], mode: str) -> IO[str]:
    name = os.fspath(path)
    gz = name.lower().endswith(".gz")
    if mode == "w":
        if gz:
            return gzip.open(name, "wt", encoding="utf-8", compresslevel=6, newline="\n")
        return open(name, "w", encoding="utf-8", newline="\n")
    try:
        if gz:
            return io.TextIOWrapper(
                io.BufferedReader(gzip.open(name, "rb")), encoding="utf-8-sig", newline=None
            )
        return open(name, encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from None


def _float_text(x: float) -> str:
    """JSON for a timeout: null for NaN, repr (exact) for finite floats, Infinity as Python's
    json writes and reads it."""
    if x != x:
        return "null"
    if -math.inf < x < math.inf:
        return repr(x)
    return "Infinity" if x > 0 else "-Infinity"


def write_jsonl(history: History, path: str | os.PathLike[str]) -> None:
    """Writes ``history`` as JSON Lines (DESIGN.md), gzipped when ``path`` ends in ``.gz``.

    Streams in blocks; the history is not checked (:meth:`History.validate` does that), so a
    malformed one can be written for inspection, though :func:`read_jsonl` will refuse it.
    """
    header = {"format": FORMAT, "version": VERSION, "initial": history.initial, **history.meta}
    err_text = ["null"] + [json.dumps(e) for e in history.error_names[1:]]
    op_text = [f'"{name}"' for name in OP_NAMES]
    cols = history.columns()
    float_text = _float_text
    with _open(path, "w") as f:
        f.write(json.dumps(header) + "\n")
        for start in range(0, len(history), _CHUNK):
            block = [cols[k][start : start + _CHUNK].tolist() for k in _NAMES]
            lines = []
            for t, o, n, to, inv, ret, res, err in zip(*block, strict=True):
                if res == NO_RESULT:
                    rtext = "null"
                elif o == TRY_ACQUIRE:
                    rtext = "true" if res else "false"
                elif o == AVAILABLE:
                    rtext = str(res)
                else:
                    rtext = "null"
                lines.append(
                    f'{{"thread": {t}, "op": {op_text[o]}, "n": {n}, '
                    f'"timeout": {"null" if to != to else float_text(to)}, '
                    f'"invoke": {inv}, "return": {"null" if ret == PENDING else ret}, '
                    f'"result": {rtext}, "error": {err_text[err]}}}\n'
                )
            f.write("".join(lines))


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else "NaN"
    return text if len(text) <= 40 else text[:37] + "..."


def _timestamp(value: Any, field: str) -> int:
    """An int, or an integer-valued float (some tools write 1000.0), within int64."""
    if value.__class__ is float and value.is_integer():
        value = int(value)
    if value.__class__ is not int:
        raise ValueError(f'"{field}" must be an integer of nanoseconds, not {_show(value)}')
    if not _I64_MIN < value < _I64_END:
        raise ValueError(f'"{field}" {value} is outside the int64 range')
    return value


def read_jsonl(path: str | os.PathLike[str], initial: int | None = None) -> History:
    """Reads a history file written by :func:`write_jsonl` or by another tool.

    The header line is optional; without one, ``initial`` (default 0) is the initial count (a
    header's own ``initial`` wins).  Unknown fields are ignored; ``return`` absent or null means
    pending; ``result``, ``error`` and ``timeout`` default to null.  The result of an acquire or
    release, and of any pending or failed operation, is ignored.  Blank lines are skipped.
    Anything malformed raises :class:`HistoryFormatError` at its line; an unreadable file raises
    :class:`~semharness.errors.UsageError`.
    """
    name = os.fspath(path)
    h = History(0 if initial is None else initial)
    push = h._push_to
    stage0 = h._stage[0]
    error_codes = h._error_codes
    last: dict[int, tuple[int, int]] = {}  # thread -> (return of its latest op, its line)
    loads = json.loads
    seen_line = False  # any non-blank line yet
    lineno = 0
    f = _open(name, "r")
    try:
        with f:
            for lineno, line in enumerate(f, 1):
                if line.isspace() or not line:
                    continue
                try:
                    obj = loads(line)
                except ValueError as exc:
                    if isinstance(exc, json.JSONDecodeError):
                        raise ValueError(f"bad JSON: {exc.msg} (column {exc.colno})") from None
                    raise ValueError(f"bad JSON: {exc}") from None
                if obj.__class__ is not dict:
                    raise ValueError(
                        f"expected a JSON object, got {type(obj).__name__} {_show(obj)}"
                    )
                if "format" in obj:
                    if seen_line:
                        raise ValueError("a header line must be the first line of the file")
                    _read_header(h, obj)
                    seen_line = True
                    continue
                seen_line = True
                try:
                    thread = obj["thread"]
                    op = obj["op"]
                    n = obj["n"]
                    inv = obj["invoke"]
                except KeyError as exc:
                    raise ValueError(f"missing required field {exc.args[0]!r}") from None
                code = OP_CODES.get(op) if op.__class__ is str else None
                if code is None:
                    raise ValueError(f"unknown op {_show(op)} (ops: {', '.join(OP_NAMES)})")
                if thread.__class__ is not int:
                    raise ValueError(f'"thread" must be an integer, not {_show(thread)}')
                if not _I32_MIN <= thread < _I32_END:
                    raise ValueError(f'"thread" {thread} is outside the int32 range')
                if n.__class__ is not int:
                    raise ValueError(f'"n" must be an integer, not {_show(n)}')
                if not _I64_MIN <= n < _I64_END:
                    raise ValueError(f'"n" {n} is outside the int64 range')
                if inv.__class__ is not int or not _I64_MIN < inv < _I64_END:
                    inv = _timestamp(inv, "invoke")
                ret = obj.get("return")
                if ret is not None:
                    if ret.__class__ is not int or not _I64_MIN < ret < _I64_END:
                        ret = _timestamp(ret, "return")
                    if ret < inv:
                        raise ValueError(f"returns at {ret}, before it was invoked at {inv}")
                timeout = obj.get("timeout")
                if timeout is None:
                    timeout = math.nan
                elif timeout.__class__ is int:
                    timeout = (
                        float(timeout) if abs(timeout) < 1e300 else math.copysign(math.inf, timeout)
                    )
                elif timeout.__class__ is not float or timeout != timeout:
                    raise ValueError(f'"timeout" must be a number or null, not {_show(timeout)}')
                error = obj.get("error")
                if error is None:
                    err = 0
                elif ret is None:
                    raise ValueError("a pending operation (no return) cannot have an error")
                else:
                    err = error_codes.get(error) if error.__class__ is str else None
                    if err is None:
                        if error.__class__ is not str or not error:
                            raise ValueError(
                                f'"error" must be a non-empty string or null, not {_show(error)}'
                            )
                        err = h._error_code(error)
                if ret is None or err:
                    res = NO_RESULT
                elif code == TRY_ACQUIRE:
                    result = obj.get("result")
                    if result is True:
                        res = 1
                    elif result is False:
                        res = 0
                    else:
                        raise ValueError(
                            f"a try_acquire's result must be true or false, not {_show(result)}"
                        )
                elif code == AVAILABLE:
                    res = obj.get("result")
                    if res.__class__ is not int:
                        raise ValueError(
                            f"an available's result must be an integer, not {_show(res)}"
                        )
                    if not _I64_MIN < res < _I64_END:
                        raise ValueError(f"an available's result {res} is outside the int64 range")
                else:
                    res = 0
                prev = last.get(thread)
                if prev is not None:
                    pret, pline = prev
                    if pret == PENDING:
                        raise ValueError(
                            f"thread {thread} already has an operation that never returned "
                            f"(line {pline}): a thread makes one call at a time"
                        )
                    if inv < pret:
                        raise ValueError(
                            f"thread {thread} is invoked at {inv}, before its previous "
                            f"operation (line {pline}) returned at {pret}: a thread makes one "
                            "call at a time"
                        )
                if ret is None:
                    ret = PENDING
                last[thread] = (ret, lineno)
                push[0](thread)
                push[1](code)
                push[2](n)
                push[3](timeout)
                push[4](inv)
                push[5](ret)
                push[6](res)
                push[7](err)
                if len(stage0) >= _CHUNK:
                    h._flush()
    except UnicodeDecodeError as exc:  # decoded in blocks: the line is where reading stood
        raise HistoryFormatError(name, lineno + 1, f"not UTF-8 text: {exc.reason}") from None
    except ValueError as exc:
        raise HistoryFormatError(name, lineno or 1, str(exc)) from None
    except (OSError, EOFError) as exc:  # a truncated or corrupt gzip stream, a read error
        raise HistoryFormatError(name, lineno + 1, f"cannot read: {exc}") from None
    if not seen_line:
        raise HistoryFormatError(name, None, "empty file")
    h.trim()
    return h


def _read_header(h: History, obj: dict[str, Any]) -> None:
    fmt = obj["format"]
    if fmt != FORMAT:
        raise ValueError(f"not a semharness history: format {_show(fmt)}, expected {FORMAT!r}")
    version = obj.get("version")
    if version.__class__ is not int or version != VERSION:
        raise ValueError(f"unsupported version {_show(version)} (this reader knows {VERSION})")
    if "initial" in obj:
        init = obj["initial"]
        if init.__class__ is not int:
            raise ValueError(f'header "initial" must be an integer, not {_show(init)}')
        h.initial = init
    h.meta = {k: v for k, v in obj.items() if k not in _RESERVED}
