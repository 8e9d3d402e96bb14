"""The columnar history and its JSON Lines files (DESIGN.md, "History file format")."""

from __future__ import annotations

import gzip
import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from semharness.errors import UsageError
from semharness.history import (
    ACQUIRE,
    AVAILABLE,
    NO_RESULT,
    OP_NAMES,
    PENDING,
    RELEASE,
    TRY_ACQUIRE,
    History,
    HistoryFormatError,
    Operation,
    read_jsonl,
    write_jsonl,
)
from semharness.realtime import Record

HEADER = '{"format": "semharness-history", "version": 1, "initial": 3}'


def sample() -> History:
    """Every kind of row: each op, pending, errors, None/inf/negative timeouts, odd n."""
    h = History(initial=3, meta={"implementation": "qsem", "seed": 7})
    h.append(0, "acquire", 2, None, 1000, 1450)
    h.append(1, "try_acquire", 1, 0.5, 1100, 501300, False)
    h.append(2, "available", 0, None, 1200, 1300, 1)
    h.append(2, "release", -1, None, 1400, 1500, None, "ValueError")
    h.append(2, RELEASE, 2**31, None, 1600, 1700, None, "OverflowError")
    h.append(0, "try_acquire", 1, 0.1 + 0.2, 2000, 2100, True)
    h.append(0, "try_acquire", 2**62, math.inf, 2200, None)  # pending
    h.append(1, "try_acquire", -(2**63), -1.0, 501300, 501400, None, "ValueError")
    h.append(1, AVAILABLE, 1, None, 501500, 501600, 2**40)
    h.append(3, "acquire", 5, None, 300, None)  # pending, from the start
    return h


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def op_line(**fields: object) -> str:
    line = {
        "thread": 0,
        "op": "acquire",
        "n": 1,
        "timeout": None,
        "invoke": 1000,
        "return": 1100,
        "result": None,
        "error": None,
    }
    line.update(fields)
    return json.dumps(line)


# ---- the in-memory history ---------------------------------------------------------------------


def test_columns_and_encoding() -> None:
    h = sample()
    assert len(h) == 10
    assert h.thread.dtype == np.int32 and h.op.dtype == np.int8 and h.error.dtype == np.int16
    assert h.op.tolist()[:5] == [ACQUIRE, TRY_ACQUIRE, AVAILABLE, RELEASE, RELEASE]
    assert h.ret[6] == PENDING and h.ret[9] == PENDING
    assert h.pending_mask().tolist() == [False] * 6 + [True, False, False, True]
    assert math.isnan(h.timeout[0]) and h.timeout[1] == 0.5 and h.timeout[6] == math.inf
    assert h.result.tolist()[:3] == [0, 0, 1]  # acquire 0, failed try 0, available 1
    assert h.result[3] == NO_RESULT and h.result[6] == NO_RESULT  # error, pending
    assert h.error_names == (None, "ValueError", "OverflowError")
    assert h.error.tolist() == [0, 0, 0, 1, 2, 0, 0, 1, 0, 0]
    assert h.n[7] == -(2**63) and h.n[4] == 2**31
    assert set(h.columns()) == {"thread", "op", "n", "timeout", "invoke", "ret", "result", "error"}


def test_operations_decode() -> None:
    h = sample()
    assert h.op_at(0) == Operation(0, 0, "acquire", 2, None, 1000, 1450, None, None)
    assert h.op_at(1).result is False and h.op_at(5).result is True
    assert h.op_at(2).result == 1 and h.op_at(8).result == 2**40
    assert h.op_at(3).error == "ValueError" and h.op_at(3).result is None
    last = h.op_at(-1)
    assert last.index == 9 and last.pending and last.ret is None and last.result is None
    assert [o.index for o in h] == list(range(10))
    assert list(h)[6] == h.op_at(6)
    with pytest.raises(IndexError):
        h.op_at(10)
    with pytest.raises(Exception):  # noqa: B017 (frozen dataclass)
        last.n = 3  # type: ignore[misc]


def test_columns_are_read_only_snapshots() -> None:
    h = History()
    h.append(0, "acquire", 1, None, 10, 20)
    view = h.invoke
    with pytest.raises(ValueError):
        view[0] = 5
    h.append(0, "release", 1, None, 30, 40)
    assert view.tolist() == [10] and h.invoke.tolist() == [10, 30]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0, "wait", 1, None, 1, 2), "unknown op"),
        ((0, 7, 1, None, 1, 2), "unknown op"),
        ((0, True, 1, None, 1, 2), "unknown op"),
        ((0, "acquire", 1, None, 1, None, None, "ValueError"), "pending"),
        ((0, "acquire", 1, None, 1, PENDING), "reserved"),
        ((0, "try_acquire", 1, 0.0, 1, 2, None), "bool"),
        ((0, "available", 0, None, 1, 2, True), "int"),
        ((0, "available", 0, None, 1, 2, None), "int"),
        ((0, "acquire", 1.5, None, 1, 2), "bad operation field"),
        ((2**31, "acquire", 1, None, 1, 2), "bad operation field"),
        ((0, "acquire", 2**63, None, 1, 2), "bad operation field"),
        ((0, "acquire", 1, "forever", 1, 2), "bad operation field"),
        ((0, "acquire", 1, None, 1, 2, None, ""), "non-empty"),
    ],
)
def test_append_refuses_bad_rows_and_stays_aligned(args: tuple, match: str) -> None:
    h = History()
    h.append(0, "acquire", 1, None, 0, 1)
    with pytest.raises(ValueError, match=match):
        h.append(*args)
    assert len(h) == 1
    h.append(1, "release", 1, None, 5, 6)
    assert h.thread.tolist() == [0, 1] and h.invoke.tolist() == [0, 5]
    assert len({len(c) for c in h.columns().values()}) == 1


def test_meta_and_initial_checks() -> None:
    with pytest.raises(ValueError, match="header field"):
        History(meta={"initial": 2})
    with pytest.raises(TypeError):
        History(initial=1.5)  # type: ignore[arg-type]


def test_sorted_by_invoke_is_stable_and_new() -> None:
    h = History()
    h.append(0, "acquire", 1, None, 30, 40)
    h.append(1, "acquire", 1, None, 10, 50)
    h.append(2, "release", 1, None, 30, 35)
    h.append(3, "available", 0, None, 10, 12, 0)
    s = h.sorted_by_invoke()
    assert s.thread.tolist() == [1, 3, 0, 2]
    assert h.invoke_order().tolist() == [1, 3, 0, 2]
    assert h.thread.tolist() == [0, 1, 2, 3]  # unchanged
    assert s.op_at(1).result == 0 and s.op_at(1).op == "available"
    assert h.take(h.pending_mask()) == History()


def test_validate() -> None:
    sample().validate()
    h = History()
    h.append(0, "acquire", 1, None, 10, 20)
    h.append(0, "acquire", 1, None, 15, 30)
    with pytest.raises(ValueError, match="thread 0: operation 1"):
        h.validate()
    h = History()
    h.append(0, "acquire", 1, None, 10, None)
    h.append(1, "acquire", 1, None, 10, 11)
    h.append(0, "acquire", 1, None, 50, 60)
    with pytest.raises(ValueError, match="pending"):
        h.validate()
    bad = History.from_arrays(thread=[0], op=[0], n=[1], invoke=[10], ret=[5])
    with pytest.raises(ValueError, match="before its invoke"):
        bad.validate()


def test_equality() -> None:
    assert sample() == sample()
    other = sample()
    other.append(0, "release", 1, None, 9000, 9001)
    assert sample() != other
    assert History(initial=1) != History(initial=2)
    assert History(meta={"a": 1}) != History()
    # the same error names under different codes are equal
    a = History.from_arrays(
        thread=[0, 1], op=[2, 2], n=[-1, -2], invoke=[0, 0], ret=[1, 1],
        error=[1, 2], error_names=["A", "B"],
    )  # fmt: skip
    b = History.from_arrays(
        thread=[0, 1], op=[2, 2], n=[-1, -2], invoke=[0, 0], ret=[1, 1],
        error=[2, 1], error_names=[None, "B", "A"],
    )  # fmt: skip
    assert a == b


# ---- bulk construction -------------------------------------------------------------------------


def test_from_arrays() -> None:
    h = History.from_arrays(
        thread=np.array([0, 1, 1, 2]),
        op=["acquire", "try_acquire", "available", "release"],
        n=[1, 2, 0, -1],
        invoke=[0, 10, 30, 5],
        ret=[5, 20, None, 8],
        result=[99, 1, 7, 99],  # acquire/release normalised to 0, pending to NO_RESULT
        timeout=[None, 0.25, None, None],
        error=[0, 0, 0, 1],
        error_names=("ValueError",),
        initial=4,
        meta={"generator": "bench"},
    )
    assert h.result.tolist() == [0, 1, NO_RESULT, NO_RESULT]
    assert h.ret[2] == PENDING
    assert h.op_at(3).error == "ValueError" and h.op_at(1).timeout == 0.25
    assert h.nbytes == 47 * 4
    h.validate()
    h.append(2, "acquire", 1, None, 100, 200)  # grows after a bulk start
    assert len(h) == 5 and h.op_at(4).invoke == 100


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"n": [1.5]}, TypeError, "integers"),
        ({"thread": [2**31]}, ValueError, "outside int32"),
        ({"op": [4]}, ValueError, "op codes"),
        ({"op": ["wait"]}, ValueError, "unknown op"),
        ({"op": [1], "result": [2]}, ValueError, "0 or 1"),
        ({"op": [1]}, ValueError, "result is needed"),
        ({"error": [1]}, ValueError, "error codes"),
        ({"invoke": [1, 2]}, ValueError, "rows"),
        ({"ret": [None], "error": [1], "error_names": ["E"]}, ValueError, "pending"),
        ({"error_names": ["E", "E"]}, ValueError, "repeats"),
    ],
)
def test_from_arrays_refuses(changes: dict, error: type, match: str) -> None:
    args: dict = {"thread": [0], "op": [0], "n": [1], "invoke": [0], "ret": [1]}
    args.update(changes)
    with pytest.raises(error, match=match):
        History.from_arrays(**args)


def test_memory_under_100_bytes_per_op() -> None:
    count = 1_000_000
    h = History()
    append = h.append
    for i in range(count):
        append(i & 7, "acquire", 1, None, i * 10, i * 10 + 5)
    assert len(h) == count
    assert h.nbytes / len(h) < 100
    h.trim()
    assert h.nbytes == 47 * count
    idx = np.arange(count)
    bulk = History.from_arrays(
        thread=idx % 8, op=idx % 4, n=np.ones(count, np.int64), invoke=idx * 10,
        ret=idx * 10 + 5, result=idx % 2, timeout=np.full(count, 0.5),
    )  # fmt: skip
    assert len(bulk) == count and bulk.nbytes / len(bulk) < 100


# ---- realtime records ------------------------------------------------------------------------


def records() -> list[Record]:
    return [
        Record(0, 0, "acquire", 1, None, 100, 200, None, None),
        Record(1, 1, "release", 1, None, 110, 120, None, None),
        Record(1, 0, "try_acquire", 2, 0.5, 150, 250, False, None),
        Record(2, 0, "available", 1, None, 160, 170, 3, None),
        Record(2, 0, "release", -1, None, 180, 190, None, "ValueError"),
        Record(0, 0, "try_acquire", 1, None, 300, None, None, None),
    ]


def test_extend_records() -> None:
    h = History(initial=1)
    h.extend_records(records(), sem=0)
    assert len(h) == 5
    ops = list(h)
    assert [o.op for o in ops] == ["acquire", "try_acquire", "available", "release", "try_acquire"]
    assert ops[1].result is False and ops[1].timeout == 0.5
    assert ops[2].result == 3 and ops[3].error == "ValueError" and ops[4].pending
    h.validate()
    one = History()
    one.extend_records(records(), sem=1)
    assert one.op_at(0) == Operation(0, 1, "release", 1, None, 110, 120, None, None)


def test_extend_records_refuses_mixed_semaphores_and_bad_results() -> None:
    with pytest.raises(ValueError, match="sem="):
        History().extend_records(records())
    same = [r for r in records() if r.sem == 0]
    History().extend_records(same)  # one semaphore: no filter needed
    bad = [Record(0, 0, "try_acquire", 1, 0.0, 1, 2, None, None)]
    with pytest.raises(ValueError, match="record 0"):
        History().extend_records(bad)


# ---- files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["h.jsonl", "h.jsonl.gz"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    h = sample()
    path = tmp_path / name
    write_jsonl(h, path)
    back = read_jsonl(path)
    assert back == h
    assert back.initial == 3 and back.meta == {"implementation": "qsem", "seed": 7}
    assert back.error_names == h.error_names
    for a, b in zip(back, h, strict=True):
        assert a == b
    if name.endswith(".gz"):
        with gzip.open(path, "rt") as f:
            assert json.loads(f.readline())["format"] == "semharness-history"


def test_file_lines_follow_the_design(tmp_path: Path) -> None:
    h = History(initial=3)
    h.append(0, "acquire", 2, None, 1000, 1450)
    h.append(1, "try_acquire", 1, 0.5, 1100, 501300, False)
    h.append(2, "available", 0, None, 1200, 1300, 1)
    h.append(3, "release", 1, None, 1250, None)
    path = tmp_path / "h.jsonl"
    write_jsonl(h, str(path))
    assert path.read_text().splitlines() == [
        HEADER,
        '{"thread": 0, "op": "acquire", "n": 2, "timeout": null, "invoke": 1000, '
        '"return": 1450, "result": null, "error": null}',
        '{"thread": 1, "op": "try_acquire", "n": 1, "timeout": 0.5, "invoke": 1100, '
        '"return": 501300, "result": false, "error": null}',
        '{"thread": 2, "op": "available", "n": 0, "timeout": null, "invoke": 1200, '
        '"return": 1300, "result": 1, "error": null}',
        '{"thread": 3, "op": "release", "n": 1, "timeout": null, "invoke": 1250, '
        '"return": null, "result": null, "error": null}',
    ]


def test_empty_history_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    write_jsonl(History(initial=5), path)
    back = read_jsonl(path)
    assert len(back) == 0 and back.initial == 5 and back == History(initial=5)


def test_foreign_history(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "other.jsonl",
        '{"thread": 0, "op": "acquire", "n": 1, "invoke": 1000.0, "return": 2000, "tool": "x"}',
        "",
        '{"thread": 1, "op": "try_acquire", "n": 1, "invoke": 1500, "return": 1600, '
        '"result": true, "timeout": 2, "process": ":nemesis"}',
        '{"thread": 0, "op": "release", "n": 1, "invoke": 2000, "result": true}',
        "   ",
        '{"thread": 1, "op": "available", "n": 0, "invoke": 1700, "return": 1800, "result": 0}',
    )
    h = read_jsonl(path, initial=1)
    assert h.initial == 1 and h.meta == {} and len(h) == 4
    ops = list(h)
    assert ops[0].invoke == 1000 and ops[0].timeout is None and ops[0].error is None
    assert ops[1].result is True and ops[1].timeout == 2.0
    assert ops[2].pending and ops[2].result is None  # no return: pending, result ignored
    assert ops[3].result == 0
    assert read_jsonl(path).initial == 0


def test_header_initial_wins_and_crlf_bom_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "win.jsonl"
    text = "\ufeff" + HEADER + "\r\n" + op_line() + "\r\n"
    path.write_bytes(text.encode("utf-8"))
    h = read_jsonl(path, initial=9)
    assert h.initial == 3 and len(h) == 1 and h.op_at(0).ret == 1100


def test_same_thread_may_start_when_the_last_call_returns(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "touch.jsonl",
        op_line(invoke=10, **{"return": 20}),
        op_line(invoke=20, **{"return": 20}),
    )
    assert len(read_jsonl(path)) == 2


BAD_CASES = [
    ("bad json", [HEADER, op_line(), '{"thread": 0,'], 3, "bad JSON"),
    ("not an object", [op_line(), "[1, 2]"], 2, "expected a JSON object, got list"),
    ("a number", ["17"], 1, "expected a JSON object, got int"),
    ("no thread", ['{"op": "acquire", "n": 1, "invoke": 5}'], 1, "missing required field 'thread'"),
    ("no op", ['{"thread": 0, "n": 1, "invoke": 5}'], 1, "missing required field 'op'"),
    ("no n", ['{"thread": 0, "op": "release", "invoke": 5}'], 1, "missing required field 'n'"),
    ("no invoke", ['{"thread": 0, "op": "release", "n": 1}'], 1, "missing required field 'invoke'"),
    ("unknown op", [HEADER, op_line(op="wait")], 2, 'unknown op "wait"'),
    ("op not a string", [op_line(op=1)], 1, "unknown op 1"),
    ("n a string", [op_line(n="2")], 1, '"n" must be an integer, not "2"'),
    ("n a float", [op_line(n=2.0)], 1, '"n" must be an integer'),
    ("n too big", [op_line(n=2**64)], 1, '"n" 18446744073709551616 is outside'),
    ("thread a bool", [op_line(thread=False)], 1, '"thread" must be an integer, not false'),
    ("thread too big", [op_line(thread=2**31)], 1, '"thread" 2147483648 is outside'),
    ("invoke a bool", [op_line(invoke=True)], 1, '"invoke" must be an integer of nanoseconds'),
    ("invoke fractional", [op_line(invoke=10.5)], 1, '"invoke" must be an integer'),
    ("return a string", [op_line(**{"return": "1100"})], 1, '"return" must be an integer'),
    ("return out of range", [op_line(**{"return": -(2**63)})], 1, "outside the int64 range"),
    (
        "return before invoke",
        [op_line(), op_line(thread=1, invoke=1200)],
        2,
        "returns at 1100, before it was invoked at 1200",
    ),
    (
        "thread overlaps itself",
        [HEADER, op_line(), op_line(thread=1), op_line(invoke=1050, **{"return": 1200})],
        4,
        "thread 0 is invoked at 1050, before its previous operation (line 2) returned at 1100",
    ),
    (
        "after a pending op",
        [op_line(**{"return": None}), op_line(thread=1), op_line(invoke=5000, **{"return": 6000})],
        3,
        "thread 0 already has an operation that never returned (line 1)",
    ),
    ("try result int", [op_line(op="try_acquire", result=1)], 1, "true or false, not 1"),
    ("try result absent", [op_line(op="try_acquire", result=None)], 1, "true or false, not null"),
    ("available bool", [op_line(op="available", result=True)], 1, "integer, not true"),
    ("available float", [op_line(op="available", result=1.0)], 1, "integer, not 1.0"),
    ("available absent", [op_line(op="available")], 1, "integer, not null"),
    ("timeout string", [op_line(timeout="1s")], 1, '"timeout" must be a number or null'),
    ("timeout NaN", [op_line().replace('"timeout": null', '"timeout": NaN')], 1, "not NaN"),
    ("error not a string", [op_line(error=22)], 1, '"error" must be a non-empty string'),
    ("pending with error", [op_line(error="E", **{"return": None})], 1, "cannot have an error"),
    ("other format", ['{"format": "porcupine", "version": 1}'], 1, 'format "porcupine"'),
    ("version 2", ['{"format": "semharness-history", "version": 2}'], 1, "unsupported version 2"),
    ("no version", ['{"format": "semharness-history"}'], 1, "unsupported version null"),
    (
        "bad initial",
        ['{"format": "semharness-history", "version": 1, "initial": "3"}'],
        1,
        "initial",
    ),
    ("header later", [op_line(), HEADER], 2, "header line must be the first line"),
    ("two headers", [HEADER, HEADER], 2, "header line must be the first line"),
]


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [case[1:] for case in BAD_CASES],
    ids=[case[0] for case in BAD_CASES],
)
def test_rejects(tmp_path: Path, lines: list[str], line: int, message: str) -> None:
    path = write_lines(tmp_path / "bad.jsonl", *lines)
    with pytest.raises(HistoryFormatError) as info:
        read_jsonl(path)
    exc = info.value
    assert isinstance(exc, UsageError)
    assert exc.line == line
    text = str(exc)
    assert text.startswith(f"{path}:{line}: "), text
    assert message in text
    assert "\n" not in text


def test_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "gaps.jsonl", "", HEADER, "", op_line(), "", op_line(n="x"))
    with pytest.raises(HistoryFormatError, match=r"gaps\.jsonl:6: "):
        read_jsonl(path)


def test_rejects_in_gzip_too(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.write(HEADER + "\n" + op_line() + "\n" + op_line(op="nap") + "\n")
    with pytest.raises(HistoryFormatError, match=r"bad\.jsonl\.gz:3: unknown op"):
        read_jsonl(path)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    with pytest.raises(HistoryFormatError) as info:
        read_jsonl(path)
    assert str(info.value) == f"{path}: empty file" and info.value.line is None


def test_unreadable_files(tmp_path: Path) -> None:
    not_gz = write_lines(tmp_path / "plain.jsonl.gz", op_line())
    with pytest.raises(HistoryFormatError, match=r"plain\.jsonl\.gz:1: cannot read"):
        read_jsonl(not_gz)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(op_line(error="cafe").replace("cafe", "caf\xe9").encode("latin-1"))
    with pytest.raises(HistoryFormatError, match="not UTF-8"):
        read_jsonl(latin)
    with pytest.raises(UsageError, match="cannot read"):
        read_jsonl(tmp_path / "missing.jsonl")


# ---- round trip, property ----------------------------------------------------------------------

INT64 = st.integers(-(2**63) + 1, 2**63 - 1)


@st.composite
def histories(draw: st.DrawFn) -> History:
    h = History(
        initial=draw(st.integers(-5, 2**40)),
        meta=draw(st.dictionaries(st.sampled_from(["a", "impl", "é"]), st.integers() | st.text())),
    )
    clocks: dict[int, int] = {}
    finished: set[int] = set()
    for _ in range(draw(st.integers(0, 30))):
        thread = draw(st.integers(-3, 5) | st.sampled_from([-(2**31), 2**31 - 1]))
        if thread in finished:
            continue
        op = draw(st.sampled_from(OP_NAMES))
        n = draw(st.integers(-3, 5) | INT64)
        timeout = draw(
            st.none() | st.floats(allow_nan=False) | st.sampled_from([0.0, -1.0, math.inf])
        )
        invoke = clocks.get(thread, draw(st.integers(-(2**62), 2**62)))
        invoke += draw(st.integers(0, 10**6))
        if draw(st.integers(0, 9)) == 0:
            h.append(thread, op, n, timeout, invoke, None)
            finished.add(thread)
            continue
        ret = invoke + draw(st.integers(0, 10**9))
        clocks[thread] = ret
        error = draw(st.none() | st.sampled_from(["ValueError", "OverflowError", 'EIN"VAL\\']))
        result = draw(st.booleans()) if op == "try_acquire" else draw(INT64)
        h.append(thread, op, n, timeout, invoke, ret, result, error)
    return h


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=histories(), gz=st.booleans())
def test_round_trip_property(h: History, gz: bool) -> None:
    h.validate()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("h.jsonl.gz" if gz else "h.jsonl")
        write_jsonl(h, path)
        back = read_jsonl(path)
    assert back == h
    for name, column in h.columns().items():
        np.testing.assert_array_equal(back.columns()[name], column, err_msg=name)
    assert list(back) == list(h)
