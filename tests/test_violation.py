"""Showing linearizability verdicts: the text report and the PNG of the failing window."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from semharness.history import History
from semharness.linearizability import Verdict, check_history
from semharness.violation import render_png, render_text

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def small_violation() -> History:
    """sem(2): t0's acquire(2) overlaps a successful try_acquire(1) and an available() that
    read 2; whichever goes first, acquire(2) finds too few tokens or the try finds none."""
    h = History(initial=2)
    h.append(0, "acquire", 2, None, 1000, 5000)
    h.append(1, "try_acquire", 1, 0.0, 2000, 3000, result=True)
    h.append(2, "available", 0, None, 2500, 3500, result=2)
    return h


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_text_shows_the_culprit_the_counts_and_each_thread() -> None:
    h = small_violation()
    verdict = check_history(h)
    assert verdict.status == "violation"
    assert verdict.culprit == 0 and verdict.order == [2, 1] and verdict.counts == [2, 1]
    text = render_text(h, verdict)
    lines = text.splitlines()
    assert lines[0] == f"linearizability violation: {verdict.reason}"
    header = next(line for line in lines if line.strip().startswith("time"))
    assert header.split() == ["time", "t0", "t1", "t2"]
    # times relative to the window's first invocation, events in time order
    assert "   0 ns  invoke acquire(2) X" in text
    assert "1500 ns" in text and "4000 ns" in text
    assert text.index("invoke try_acquire(1) [2]") < text.index("invoke available() [1]")
    assert text.index("return -> True") < text.index("return -> 2")
    # the partial linearization with the count after each step, then the culprit
    assert "1. t2 available() -> 2" in text and "count 2" in text
    assert "2. t1 try_acquire(1) -> True" in text and "count 1" in text
    culprit = lines[-1]
    assert culprit.startswith("X") and "t0 acquire(2) -> ok" in culprit
    assert "cannot take effect at count 1 (needs count >= 2)" in culprit
    assert len(lines) < 20


def test_text_for_an_impossible_read() -> None:
    h = History(initial=2)
    h.append(1, "available", 0, None, 10_000, 25_500, result=5)
    text = render_text(h, check_history(h))
    assert "15.5 us long" in text and "  15.5 us  return -> 5" in text
    assert text.splitlines()[-1].split() == [
        "X",
        "t1",
        "available()",
        "->",
        "5",
        "cannot",
        "take",
        "effect",
        "at",
        "count",
        "2",
        "(it",
        "read",
        "5)",
    ]


def test_text_starts_the_window_count_after_earlier_segments() -> None:
    h = History(initial=3)
    h.append(0, "acquire", 1, None, 0, 10)  # its own segment: count 2 after it
    h.append(0, "acquire", 2, None, 100, 200)
    h.append(1, "acquire", 1, None, 110, 150)
    verdict = check_history(h)
    assert verdict.status == "violation" and verdict.order[0] == 0
    text = render_text(h, verdict)
    assert "count 2 at its start (initial 3)" in text
    assert "after 1 linearized before it" in text
    assert "invoke acquire(1)" in text and "#0" not in text.split("\n")[1]  # window is #1..#2


def test_pending_calls_are_listed_last() -> None:
    h = small_violation()
    h.append(3, "acquire", 5, None, 2200, None)  # never returns, never could have taken effect
    verdict = check_history(h)
    assert verdict.status == "violation" and 3 in verdict.window
    text = render_text(h, verdict)
    rows = [line for line in text.splitlines() if "pending (never returned)" in line]
    assert len(rows) == 1 and rows[0].split()[0] == "-"


def test_ok_and_unknown_render_one_line() -> None:
    h = History(initial=2)
    h.append(0, "acquire", 1, None, 0, 10)
    h.append(1, "acquire", 1, None, 5, 15)
    h.append(0, "release", 1, None, 20, 30)
    ok = check_history(h)
    assert ok.ok
    text = render_text(h, ok)
    assert "\n" not in text and text.startswith("ok") and "3 operations" in text
    unknown = check_history(h, budget=0)
    assert unknown.status == "unknown"
    text = render_text(h, unknown)
    assert "\n" not in text and text.startswith("unknown") and unknown.reason in text
    text = render_text(h, Verdict("unknown", 2))
    assert "\n" not in text and text.startswith("unknown")
    with pytest.raises(ValueError, match="nothing to draw"):
        render_png(h, ok, Path("unused.png"))


def test_a_verdict_of_another_history_is_refused() -> None:
    verdict = check_history(small_violation())
    with pytest.raises(ValueError, match="history"):
        render_text(History(initial=2), verdict)


def test_png_of_a_violation(tmp_path: Path) -> None:
    h = small_violation()
    verdict = check_history(h)
    out = render_png(h, verdict, tmp_path / "v.png")
    assert out == tmp_path / "v.png"
    width, height = png_size(out)
    assert width >= 800 and height >= 300
    assert out.stat().st_size > 10_000
    again = render_png(h, verdict, tmp_path / "again.png", title="two acquires, one token")
    assert png_size(again) == (width, height)
    # deterministic: the same verdict draws the same bytes
    assert render_png(h, verdict, tmp_path / "w.png").read_bytes() == out.read_bytes()


def test_png_with_a_pending_call(tmp_path: Path) -> None:
    h = small_violation()
    h.append(3, "acquire", 5, None, 2200, None)
    h.append(4, "available", 0, None, 2600, 2600, result=2)  # zero length, still a bar
    verdict = check_history(h)
    assert verdict.status == "violation" and 3 in verdict.window
    out = render_png(h, verdict, str(tmp_path / "pending.png"))
    assert png_size(out)[1] >= 400
    assert out.stat().st_size > 10_000


def long_violation(calls_per_thread: int = 60) -> History:
    """Four threads overlapping acquire(1)/release(1) pairs on sem(4), all in one segment (a
    pending acquire(9) from the start leaves no quiescent point), then an impossible read --
    of 3, within the bounds prefilter's range, so that the search itself has to refute it."""
    h = History(initial=4)
    h.append(9, "acquire", 9, None, 0, None)
    rows = []
    for thread in range(4):
        t = 10 + 7 * thread
        for k in range(calls_per_thread):
            op = "acquire" if k % 2 == 0 else "release"
            rows.append((t, thread, op, t + 20))
            t += 25
    for t, thread, op, ret in sorted(rows):
        h.append(thread, op, 1, None, t, ret)
    end = max(ret for *_, ret in rows)
    h.append(5, "available", 0, None, end + 5, end + 9, result=3)
    return h


def test_long_windows_are_cut_to_the_culprits_neighbourhood(tmp_path: Path) -> None:
    h = long_violation()
    verdict = check_history(h)
    assert verdict.status == "violation" and len(verdict.window) > 200
    assert verdict.culprit == len(h) - 1
    text = render_text(h, verdict)
    lines = text.splitlines()
    assert len(lines) < 80
    assert "rows elided" in text and "steps elided" in text
    assert "showing the" in lines[2]
    assert "cannot take effect at count 4 (it read 3)" in lines[-1]
    assert "pending (never returned)" in text  # the pending call is in flight at the culprit
    wider = render_text(h, verdict, context=5)
    assert len(wider.splitlines()) > len(lines)
    out = render_png(h, verdict, tmp_path / "long.png")
    assert png_size(out)[0] <= 2000
    assert out.stat().st_size > 10_000


def test_png_of_a_fifty_call_window_is_deterministic(tmp_path: Path) -> None:
    h = long_violation(calls_per_thread=12)  # 50 calls in the window
    verdict = check_history(h)
    assert verdict.status == "violation" and 45 <= len(verdict.window) <= 60
    first = render_png(h, verdict, tmp_path / "a.png").read_bytes()
    assert render_png(h, verdict, tmp_path / "b.png").read_bytes() == first
