"""Stress-run metrics (semharness.stress.metrics): every figure on small histories built by hand,
where the answer is worked out in the comments, then one large generated history for
consistency between the figures."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from semharness.histgen import generate, to_history
from semharness.history import History
from semharness.stress.metrics import (
    KINDS,
    MAX_LISTED,
    QUANTILES,
    WAKE_FLOOR_NS,
    compute_metrics,
    format_metrics,
    machine_context,
    summarize,
)

US = 1_000
MS = 1_000_000


def history(*rows: tuple[Any, ...], initial: int = 0) -> History:
    """A history from ``(thread, op, n, timeout, invoke, ret[, result[, error]])`` rows."""
    h = History(initial)
    for row in rows:
        h.append(*row)
    return h


def roundtrips(m: dict[str, Any]) -> None:
    """The figures are strict JSON: no NaN or numpy scalars."""
    assert json.loads(json.dumps(m, allow_nan=False)) == m


# ---- percentiles ---------------------------------------------------------------------------


def test_summarize_is_nearest_rank() -> None:
    # 1..1000: the p-th percentile is the ceil(p/100 * 1000)-th smallest, itself
    assert summarize(np.arange(1000, 0, -1)) == {
        "count": 1000,
        "p50": 500,
        "p90": 900,
        "p99": 990,
        "p99.9": 999,
        "max": 1000,
    }
    # ten values: ranks 5, 9, ceil(9.9) = 10, ceil(9.99) = 10
    assert summarize([100, 10, 90, 20, 80, 30, 70, 40, 60, 50]) == {
        "count": 10,
        "p50": 50,
        "p90": 90,
        "p99": 100,
        "p99.9": 100,
        "max": 100,
    }
    assert summarize([-5]) == {"count": 1, "p50": -5, "p90": -5, "p99": -5, "p99.9": -5, "max": -5}
    assert summarize([]) == {
        "count": 0,
        "p50": None,
        "p90": None,
        "p99": None,
        "p99.9": None,
        "max": None,
    }


# ---- latency by kind, counts, throughput ---------------------------------------------------


def kinds_history() -> History:
    """Thread 0 makes one call of each kind after another, with known durations; thread 1
    has a release that raised and an acquire that never returned."""
    rows = []
    t = 0
    for op, timeout, dur, result in [
        ("acquire", None, 100, None),
        ("acquire", None, 400, None),
        ("acquire", None, 300, None),
        ("acquire", None, 200, None),
        ("try_acquire", 0.0, 50, True),
        ("try_acquire", 0.0, 60, False),
        ("try_acquire", 0.0, 70, False),
        ("try_acquire", 0.001, 80, True),
        ("try_acquire", 1e-6, 1500, False),  # timed: 1 us, failed 500 ns late
        ("try_acquire", None, 90, True),  # forever
        ("try_acquire", -1.0, 95, True),  # negative: forever too
        ("release", None, 10, None),
        ("available", None, 20, 1),
    ]:
        rows.append((0, op, 1, timeout, t, t + dur, result))
        t += 1000
    rows.append((1, "release", -1, None, 500, 600, None, "ValueError"))
    rows.append((1, "acquire", 1, None, 700, None))
    return history(*rows)


def test_latency_by_kind() -> None:
    lat = compute_metrics(kinds_history())["latency"]
    assert list(lat) == list(KINDS)
    # acquire: 100, 200, 300, 400 -> p50 is the 2nd smallest, p90 the ceil(3.6) = 4th
    assert lat["acquire"] == {
        "count": 4,
        "p50": 200,
        "p90": 400,
        "p99": 400,
        "p99.9": 400,
        "max": 400,
    }
    assert (lat["try_ok"]["count"], lat["try_ok"]["max"]) == (1, 50)
    assert (lat["try_failed"]["count"], lat["try_failed"]["p50"]) == (2, 60)
    assert (lat["timed_ok"]["count"], lat["timed_ok"]["max"]) == (1, 80)
    assert (lat["timed_failed"]["count"], lat["timed_failed"]["max"]) == (1, 1500)
    assert (lat["forever_ok"]["count"], lat["forever_ok"]["p50"]) == (2, 90)
    assert lat["forever_failed"]["count"] == 0
    # the release that raised is not a release's latency
    assert (lat["release"]["count"], lat["release"]["max"]) == (1, 10)
    assert (lat["available"]["count"], lat["available"]["max"]) == (1, 20)


def test_counts_and_throughput() -> None:
    h = kinds_history()
    m = compute_metrics(h, seconds=2.0)
    assert m["counts"] == {
        "operations": 15,
        "completed": 14,
        "pending": 1,
        "errors": {"ValueError": 1},
    }
    tp = m["throughput"]
    assert tp["seconds"] == 2.0
    assert tp["ops_per_s"] == 14 / 2.0  # the release that raised did return
    assert tp["per_thread"] == {"0": 13 / 2.0, "1": 1 / 2.0}
    # without seconds: first invoke 0, last return 12_000 + 20
    tp = compute_metrics(h)["throughput"]
    assert tp["seconds"] == 12_020 / 1e9
    assert tp["ops_per_s"] == pytest.approx(14 / (12_020 / 1e9))
    roundtrips(m)


def test_seconds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        compute_metrics(kinds_history(), seconds=0)


def test_empty_history() -> None:
    m = compute_metrics(History())
    assert m["counts"] == {"operations": 0, "completed": 0, "pending": 0, "errors": {}}
    assert m["throughput"] == {"seconds": 0.0, "ops_per_s": None, "per_thread": {}}
    assert m["wakeup"]["blocked"] == 0
    assert m["fairness"]["jain_index"] is None
    assert m["fairness"]["owner_change_fraction"] is None
    assert m["fairness"]["longest_wait"] is None
    roundtrips(m)
    assert "throughput" in format_metrics(m)


# ---- wake-up latency ---------------------------------------------------------------------


def test_wakeup_from_the_latest_release_in_the_wait() -> None:
    h = history(
        (0, "acquire", 1, None, 0, 100),  # fast: not blocked
        (2, "release", 1, None, 500, 600),  # invoked before the waiter: not its waker
        (1, "acquire", 1, None, 1_000, 50_000),  # blocked 49 us
        (2, "release", 1, None, 10_000, 10_200),  # in the wait, but not the latest
        (0, "release", 1, None, 30_000, 30_500),  # the latest invoked in the wait
        (2, "release", 1, None, 60_000, 60_100),  # after the waiter returned
        (3, "try_acquire", 1, 1.0, 70_000, 80_000, True),  # blocked, no release in its wait
        (0, "acquire", 1, None, 90_000, 91_000),  # 1 us: under the 2 us floor
        (2, "release", 1, None, 100_000, 100_100, None, "OverflowError"),  # raised: no effect
        (1, "acquire", 1, None, 95_000, 110_000),  # blocked; the only release in it raised
    )
    w = compute_metrics(h)["wakeup"]
    # fewer than 10 solo calls anywhere: the floor alone decides who blocked
    assert w["thresholds_ns"] == {"acquire": 2_000, "timed": 2_000, "forever": 2_000}
    assert set(w["threshold_basis"].values()) == {"floor"}
    assert w["blocked"] == 3
    assert w["without_release"] == 2
    # 50_000 (waiter's return) - 30_000 (latest release's invoke)
    assert w["latency_ns"] == {
        "count": 1,
        "p50": 20_000,
        "p90": 20_000,
        "p99": 20_000,
        "p99.9": 20_000,
        "max": 20_000,
    }


def test_wakeup_threshold_from_solo_calls() -> None:
    rows: list[tuple[Any, ...]] = []
    # twelve solo acquires of 1 us each, then their releases (each alone in time)
    for k in range(12):
        rows.append((0, "acquire", 1, None, k * 10 * US, k * 10 * US + US))
        rows.append((0, "release", 1, None, k * 10 * US + 5 * US, k * 10 * US + 5 * US + 100))
    t = 200 * US
    rows += [
        (1, "acquire", 1, None, t, t + 3 * US),  # 3 us < 4 x 1 us: not blocked
        (2, "release", 1, None, t + 1 * US, t + 1 * US + 100),
        (1, "acquire", 1, None, t + 10 * US, t + 15 * US),  # 5 us > 4 us: blocked
        (2, "release", 1, None, t + 12 * US, t + 12 * US + 100),
        (3, "try_acquire", 1, 0.5, t + 10 * US, t + 14 * US, True),  # timed, 4 us: not > 4 us
    ]
    w = compute_metrics(history(*rows))["wakeup"]
    assert w["thresholds_ns"]["acquire"] == 4 * US
    assert w["threshold_basis"]["acquire"] == "solo acquire"
    # no solo timed or forever tries: the median of all solo acquisitions (1 us) stands in
    assert w["thresholds_ns"]["timed"] == 4 * US
    assert w["threshold_basis"]["timed"] == "solo acquisitions"
    assert w["threshold_basis"]["forever"] == "solo acquisitions"
    assert w["blocked"] == 1
    assert w["without_release"] == 0
    assert w["latency_ns"]["max"] == 3 * US  # return at t + 15 us, release invoked at t + 12 us


def test_wakeup_threshold_never_below_the_floor() -> None:
    rows = [(0, "acquire", 1, None, k * 1000, k * 1000 + 10) for k in range(20)]
    w = compute_metrics(history(*rows))["wakeup"]
    assert w["threshold_basis"]["acquire"] == "solo acquire"
    assert w["thresholds_ns"]["acquire"] == WAKE_FLOOR_NS  # not 4 x 10 ns


# ---- timeouts ------------------------------------------------------------------------------


def test_timeout_overshoot_early_and_late() -> None:
    h = history(
        (0, "try_acquire", 1, 0.001, 0, 999 * US, False),  # 1 us early: a violation
        (0, "try_acquire", 1, 0.001, 1 * MS, 2 * MS, False),  # on the dot
        (0, "try_acquire", 1, 0.001, 3 * MS, 4 * MS + 2 * US, False),  # 2 us late
        (0, "try_acquire", 1, 1.0, 5 * MS, 5 * MS + 1060 * MS, False),  # 60 ms < 50 + 50
        (0, "try_acquire", 1, 0.1, 2000 * MS, 2156 * MS, False),  # 56 ms > 50 + 5: late
        (0, "try_acquire", 1, 0.5, 3000 * MS, 3001 * MS, True),  # succeeded: no overshoot
        (0, "try_acquire", 1, 0.0, 4000 * MS, 4000 * MS, False),  # no wait: not timed
    )
    tmo = compute_metrics(h)["timeouts"]
    assert tmo["failed"] == 5
    # sorted: -1 us, 0, 2 us, 56 ms, 60 ms; p50 is the 3rd, p90 the 5th
    assert tmo["overshoot_ns"] == {
        "count": 5,
        "p50": 2 * US,
        "p90": 60 * MS,
        "p99": 60 * MS,
        "p99.9": 60 * MS,
        "max": 60 * MS,
    }
    assert (tmo["early"], tmo["early_indices"]) == (1, [0])
    assert (tmo["late"], tmo["late_indices"]) == (1, [4])


def test_early_failures_listed_at_most_twenty() -> None:
    rows = [(0, "try_acquire", 1, 0.001, k * MS, k * MS + 500 * US, False) for k in range(25)]
    tmo = compute_metrics(history(*rows))["timeouts"]
    assert tmo["early"] == 25
    assert tmo["early_indices"] == list(range(MAX_LISTED))
    assert tmo["overshoot_ns"]["max"] == -500 * US


# ---- fairness ------------------------------------------------------------------------------


def fairness_history() -> History:
    """Successful acquisitions, recorded in an order other than their returns.

    By return: t0 (10), t0 (20), t1 (30), t2 (40), t2 (50), t0 (60): owner changes at the
    3rd, 4th and 6th, so 3 of the 5 after the first.  Counts t0 3, t1 1, t2 2, and t4 asked
    but never got any.
    """
    return history(
        (2, "acquire", 1, None, 35, 40),
        (0, "acquire", 1, None, 0, 10),
        (1, "try_acquire", 1, 0.0, 25, 30, True),
        (0, "try_acquire", 1, 1.0, 15, 20, True),
        (2, "try_acquire", 1, None, 45, 50, True),
        (0, "acquire", 1, None, 22, 60),  # the longest wait: 38 ns
        (1, "acquire", 0, None, 33, 34),  # n == 0: takes nothing, not counted
        (1, "try_acquire", 1, 0.0, 41, 42, False),  # failed: not counted
        (3, "release", 2, None, 1, 70),  # only releases: not among the asking threads
        (4, "try_acquire", 1, 0.0, 5, 6, False),  # asked, got nothing
        (1, "acquire", -1, None, 61, 62, None, "ValueError"),  # raised: not an acquisition
    )


def test_fairness() -> None:
    fair = compute_metrics(fairness_history())["fairness"]
    assert fair["acquisitions"] == {"0": 3, "1": 1, "2": 2, "4": 0}
    assert fair["owner_changes"] == 3
    assert fair["owner_change_fraction"] == 3 / 5
    # (3 + 1 + 2 + 0)^2 / (4 * (9 + 1 + 4 + 0)) = 36 / 56
    assert fair["jain_index"] == pytest.approx(9 / 14)
    assert fair["longest_wait"] == {"ns": 38, "thread": 0, "index": 5}


def test_jain_index_of_equal_and_unequal_counts() -> None:
    equal = history(
        (0, "acquire", 1, None, 0, 10),
        (1, "acquire", 1, None, 20, 30),
        (0, "acquire", 1, None, 40, 50),
        (1, "acquire", 1, None, 60, 70),
    )
    fair = compute_metrics(equal)["fairness"]
    assert fair["jain_index"] == 1.0
    assert fair["owner_change_fraction"] == 1.0  # strict alternation
    # one thread takes everything, the other only waits (pending): 1/k with k = 2
    hog = history(
        (0, "acquire", 1, None, 0, 10),
        (0, "acquire", 1, None, 20, 30),
        (0, "acquire", 1, None, 40, 50),
        (1, "acquire", 1, None, 5, None),
    )
    fair = compute_metrics(hog)["fairness"]
    assert fair["acquisitions"] == {"0": 3, "1": 0}
    assert fair["jain_index"] == 0.5
    assert fair["owner_change_fraction"] == 0.0


def test_owner_ties_keep_recorded_order() -> None:
    h = history(
        (1, "acquire", 1, None, 0, 10),
        (0, "acquire", 1, None, 0, 10),
        (0, "acquire", 1, None, 20, 30),
    )
    # by return, ties in recorded order: t1, t0, t0 -> one change of two
    assert compute_metrics(h)["fairness"]["owner_change_fraction"] == 0.5


# ---- text and machine ----------------------------------------------------------------------


def test_format_metrics() -> None:
    m = compute_metrics(fairness_history(), seconds=1.0)
    text = format_metrics(m)
    lines = text.splitlines()
    (tp,) = [line for line in lines if line.startswith("throughput")]
    assert "11 ops/s" in tp
    assert "owner changes 60.0%" in tp  # printed together with throughput
    assert "Jain 0.643" in text
    assert any(line.strip().startswith("acquire ") for line in lines)
    assert not any("forever try failed" in line for line in lines)  # kinds that never ran
    # the percentile table is aligned: its rows are as long as its header
    (header,) = [line for line in lines if line.strip().startswith("latency")]
    rows = [line for line in lines if line.startswith("  ") and "per thread" not in line]
    assert {len(line) for line in rows} == {len(header)}


def test_format_many_threads_gives_the_spread() -> None:
    rows = [(t, "acquire", 1, None, t * 100, t * 100 + 10) for t in range(12)]
    text = format_metrics(compute_metrics(history(*rows), seconds=1.0))
    assert "12 threads: min 1  median 1  max 1" in text


def test_machine_context() -> None:
    ctx = machine_context(pinned=True)
    assert ctx["pinned"] is True
    assert ctx["gil"] in ("enabled", "disabled")
    assert ctx["cpus"] >= 1
    assert len(ctx["loadavg"]) == 3
    assert ctx["kernel"] and ctx["python"]
    assert machine_context(pinned=False)["pinned"] is False
    json.dumps(ctx)


# ---- a large generated history -------------------------------------------------------------


def test_large_generated_history_is_consistent() -> None:
    steps, initial = generate(200_000, 4, seed=1)
    g = to_history(steps, initial)
    # histgen's clock ticks 1-3 per step: scale to microseconds so that waits pass the floor
    h = History.from_arrays(
        thread=g.thread,
        op=g.op,
        n=g.n,
        timeout=g.timeout,
        invoke=g.invoke * US,
        ret=np.where(g.pending_mask(), g.ret, g.ret * US),
        result=g.result,
        initial=initial,
    )
    m = compute_metrics(h)
    roundtrips(m)
    counts, lat, fair, wake = m["counts"], m["latency"], m["fairness"], m["wakeup"]
    assert counts["operations"] == len(h) >= 200_000
    assert counts["completed"] + counts["pending"] == counts["operations"]
    assert counts["errors"] == {}
    # every completed operation falls in exactly one latency kind
    assert sum(s["count"] for s in lat.values()) == counts["completed"]
    per_thread = m["throughput"]["per_thread"]
    assert sum(per_thread.values()) == pytest.approx(m["throughput"]["ops_per_s"])
    assert len(per_thread) == 5  # four threads and histgen's helper, which only releases
    # successful acquisitions: every acquire and successful try (histgen's n is >= 1)
    got = sum(lat[k]["count"] for k in ("acquire", "try_ok", "timed_ok", "forever_ok"))
    assert sum(fair["acquisitions"].values()) == got
    assert set(fair["acquisitions"]) == {"0", "1", "2", "3"}
    assert 0 < fair["jain_index"] <= 1
    assert 0 <= fair["owner_change_fraction"] <= 1
    assert fair["longest_wait"]["ns"] == lat["acquire"]["max"]
    assert wake["blocked"] > 0
    assert wake["latency_ns"]["count"] + wake["without_release"] == wake["blocked"]
    assert 0 <= wake["latency_ns"]["p50"] <= wake["latency_ns"]["max"] <= lat["acquire"]["max"]
    for s in lat.values():
        if s["count"]:
            assert s["p50"] <= s["p90"] <= s["p99"] <= s["p99.9"] <= s["max"]
    assert "owner changes" in format_metrics(m)


def test_the_curve_samples_the_distribution_by_nearest_rank() -> None:
    from semharness.stress.metrics import curve

    assert curve([]) == []
    points = curve(np.arange(1000, 0, -1))
    assert points[0] == [0.05, 50] and points[-1] == [1.0, 1000]
    assert [0.999, 999] in points and [0.5, 500] in points
    probabilities = [p for p, _ in points]
    assert probabilities == sorted(set(probabilities))
    assert curve([7]) == [[1.0, 7]]  # one sample: every probability is that sample
    m = compute_metrics(kinds_history())
    assert m["curves"]["latency"]["acquire"][-1][1] == m["latency"]["acquire"]["max"]
    # the 55th percentile of 1..100 is 55 (a float rank, ceil(0.55 * 100) = 56, said 56)
    assert [0.55, 55] in curve(np.arange(1, 101))


def test_the_curve_and_the_summary_rank_alike() -> None:
    from semharness.stress.metrics import curve

    for count in range(1, 400):
        values = np.arange(count, 0, -1)
        at = {round(p, 6): v for p, v in curve(values)}
        summary = summarize(values)
        for name, per_mille in QUANTILES:
            below = [p for p in at if p >= per_mille / 1000]
            assert at[min(below)] == summary[name], (count, name)
