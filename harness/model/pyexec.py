"""The Python executor: a Python semaphore run under the model checker's scheduler.

Each run builds a fresh semaphore with the factory, runs every simulated thread of the program
as a greenlet, and makes every nondeterministic choice -- who takes the next visible step, when
a timed wait gives up, which waiter a notify wakes, whether a condition wait wakes spuriously --
from the schedule spec (see the executor contract, and :mod:`.core` for the vocabulary).  The
visible steps are the operations on the stand-ins of :mod:`.primitives`, which the run swaps in
for ``threading``'s Lock, RLock, Condition, Event and the monotonic clock while it lasts, and
always puts back.

Control passes directly from one simulated thread to the next: the thread that reaches a
scheduling point computes the options and the choice itself, and switches only when another
thread is chosen (index 0, "no preemption", costs no switch at all).  The greenlet that called
:meth:`PyExecutor.run` only starts the threads, starts the observer, and hears how the run
ended.  Threads left blocked when a run ends (step limit, deadlock, error) are unwound with
``GreenletExit`` before the originals are restored, so nothing of one run survives into the
next.

Virtual time: the clock starts at 0 and every visible step, invoke and return adds
:data:`~.core.TICK_NS`; a TIMEOUT choice sets it to ``max(now, deadline)`` before its step.
``time.monotonic()`` reads it in seconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import sys
import traceback
from collections.abc import Callable
from typing import Any

from greenlet import GreenletExit, getcurrent, greenlet

from . import primitives as prim
from .core import (
    ACQUIRE,
    AVAILABLE,
    FREE,
    OP_NAMES,
    PCT,
    PREEMPTIBLE,
    PREFIX,
    RANDOM,
    RELEASE,
    RUN,
    SLEEP,
    SPURIOUS,
    TICK_NS,
    TIMEOUT,
    TRY_ACQUIRE,
    WAKE,
    HistoryRow,
    Program,
    RunConfig,
    ScheduleSpec,
    TraceStep,
    Trail,
    draw_lifespan,
)
from .primitives import FINISHED, LOCKWAIT, PARKED, READY, SimThread

#: Errors that are a contract call's result, not a failure of the run.
CONTRACT_ERRORS = (ValueError, OverflowError, TypeError)

#: How far past a timed try's deadline a wait may reach: float seconds <-> integer ns.
SLACK_NS = 100

# what a simulated thread's greenlet hands back to the run's own greenlet
_STARTED = "started"  # stopped at its first scheduling point (start-up)
_FIN = "fin"  # finished its actions
_END = "end"  # the run is over (outcome set, or None: nothing can move)
_ERROR = "error"  # the code under test raised; outcome 'error'

# one prepared action: (code, n, timeout argument, timeout_ns for the history, invoke note)
_Plan = tuple[tuple[int, int, Any, int, str], ...]


def _prepare(actions: tuple[tuple[int, int, int], ...]) -> _Plan:
    """Per action what a run needs, computed once: the try_acquire timeout in seconds (None for
    ever), the history's timeout_ns (-1 for ever, 0 for calls without one), the trace note."""
    plan = []
    for code, n, timeout_ns in actions:
        targ: Any = None
        hist = 0
        if code == TRY_ACQUIRE:
            targ = None if timeout_ns < 0 else timeout_ns / 1e9
            hist = -1 if timeout_ns < 0 else timeout_ns
            note = f"try_acquire({n}, {targ})"
        elif code == SLEEP:
            hist = timeout_ns
            note = f"sleep({timeout_ns})"
        elif code == AVAILABLE:
            note = "available()"
        else:
            note = f"{OP_NAMES[code]}({n})"
        plan.append((code, n, targ, hist, note))
    return tuple(plan)


def _factory_modules(factory: Callable[[int], object]) -> list[Any]:
    """Modules whose own bindings of the real primitives the run should swap as well: those
    of the factory, of the class it is (its bases included), or of what it wraps."""
    seen: list[Any] = []
    cands: list[Any] = [factory]
    owner = getattr(factory, "__self__", None)  # e.g. Implementation.create
    if owner is not None:
        cands += [owner, getattr(owner, "factory", None)]
    cands.append(getattr(factory, "func", None))  # functools.partial
    for c in cands:
        if c is None:
            continue
        classes = c.__mro__ if isinstance(c, type) else (type(c), c)
        for k in classes:
            mod = sys.modules.get(getattr(k, "__module__", None) or "")
            if mod is not None and mod.__name__ != "builtins" and mod not in seen:
                seen.append(mod)
    return seen


class PyExecutor:
    """One Python implementation and one program, run again and again (see :class:`~.core.
    Executor`).  ``factory(initial)`` builds the semaphore under test, inside each run, so that
    it is made of model primitives."""

    def __init__(
        self, factory: Callable[[int], object], program: Program, config: RunConfig
    ) -> None:
        self.factory = factory
        self.program = program
        self.config = config
        self._plans = tuple(_prepare(actions) for actions in program.threads)
        self._observer_plan = _prepare(((AVAILABLE, 0, 0),))
        extra = prim.module_substitutions(_factory_modules(factory))
        self._swaps = list(prim.SUBSTITUTIONS) + extra
        self._last: _Run | None = None
        self._trail: Trail | None = None

    def run(self, spec: ScheduleSpec, trace: bool = False) -> tuple[str, bytes]:
        """Makes one run under ``spec``: its outcome and its signature."""
        r = _Run(self, spec, trace)
        self._last = None
        self._trail = None
        r.execute()
        self._last = r
        return r.outcome, r.signature()  # type: ignore[return-value]

    def trail(self) -> Trail:
        """The last run's choices."""
        r = self._require()
        if self._trail is None:
            self._trail = Trail(tuple(r.chosen), tuple(r.widths), tuple(r.kinds))
        return self._trail

    def history(self) -> list[HistoryRow]:
        """The last run's contract calls in invoke order, the observer's last."""
        return [tuple(row) for row in self._require().rows]  # type: ignore[misc]

    def trace(self) -> list[TraceStep]:
        """The last run's steps (empty unless made with trace=True)."""
        tr = self._require().tr
        return list(tr) if tr is not None else []

    def findings(self) -> list[str]:
        """Waits past a timed try's deadline, and for outcome 'error' what was raised."""
        return list(self._require().findings)

    def _require(self) -> _Run:
        if self._last is None:
            raise RuntimeError("no run has been made yet")
        return self._last


class _Run:
    """One run: the scheduler the primitives talk to (see :class:`.primitives.Scheduler`)."""

    def __init__(self, ex: PyExecutor, spec: ScheduleSpec, trace: bool) -> None:
        cfg = ex.config
        self.ex = ex
        self.adv = cfg.timeouts == "adversarial"
        self.spur_left = cfg.spurious
        self.max_steps = cfg.max_steps
        self.mode = spec.mode
        if self.mode not in (PREFIX, RANDOM, PCT):
            raise ValueError(f"unknown schedule mode {spec.mode}")
        self.prefix = spec.prefix
        self.pi = 0
        self.now = 0
        self.steps = 0
        self.points = 0  # step choice points made in random mode
        self.cur: SimThread | None = None
        self.last: SimThread | None = None
        self.tr: list | None = [] if trace else None
        self.tearing = False
        self.starting = False
        self.names: dict[str, int] = {}
        self.ident = prim._get_ident()
        self.rows: list[list[Any]] = []
        self.events: list[tuple] = []
        self.findings: list[str] = []
        self.chosen: list[int] = []
        self.widths: list[int] = []
        self.kinds: list[int] = []
        self.outcome: str | None = None
        nthreads = len(ex._plans)
        self.threads = [SimThread(t) for t in range(nthreads)]
        self.live = list(self.threads)
        self.observer: SimThread | None = None
        self.rng = random.Random(spec.seed) if self.mode != PREFIX else None
        if self.mode == PCT:
            rng = self.rng
            prio = list(range(spec.depth, spec.depth + nthreads))
            rng.shuffle(prio)  # type: ignore[union-attr]
            self.prio = [*prio, spec.depth + nthreads]  # the observer's, should it ever compete
            k = min(max(spec.depth - 1, 0), max(spec.horizon, 0))
            self.changes = sorted(rng.sample(range(1, spec.horizon + 1), k))  # type: ignore[union-attr]
            self.pct_points = 0
            self.change_i = 0

    # ---- the run ------------------------------------------------------------------------------

    def execute(self) -> None:
        """Runs the program once; sets ``outcome``.  The stand-ins are in place only for this
        call, and abandoned threads are unwound before they are taken out."""
        saved = prim.install(self, self.ex._swaps)
        try:
            self._main = getcurrent()
            try:
                self.sem = self.ex.factory(self.ex.program.initial)
            except Exception as exc:
                self.outcome = "error"
                self.findings.append(f"factory: {_describe(exc)}")
                return
            try:
                self._drive()
            finally:
                self._teardown()
        finally:
            prim.restore(saved)

    def _drive(self) -> None:
        self.starting = True
        for th, plan in zip(self.threads, self.ex._plans, strict=True):
            self.cur = th
            th.glet = greenlet(self._body)
            if th.glet.switch(th, plan) is _ERROR:
                return
        self.starting = False
        nxt = self._pick()
        while True:
            if nxt is None:
                if self.outcome is not None:
                    return
                if self.observer is not None:
                    break
                if self._start_observer() is _ERROR:
                    return
                nxt = self._pick()
                continue
            self.cur = nxt
            v = nxt.glet.switch()
            if v is _END:
                nxt = None
                continue
            if v is _ERROR:
                return
            nxt = self._pick()
        # nothing can move any more: every program thread finished, or blocked for ever
        done = all(th.status == FINISHED for th in self.threads)
        self.outcome = "done" if done else "deadlock"

    def _start_observer(self) -> Any:
        """The final available() call, as one more thread, once nothing else can move."""
        obs = SimThread(len(self.threads))
        self.observer = obs
        self.threads.append(obs)
        self.live.append(obs)
        self.starting = True
        self.cur = obs
        obs.glet = greenlet(self._body)
        v = obs.glet.switch(obs, self.ex._observer_plan)
        self.starting = False
        return v

    def _teardown(self) -> None:
        """Unwinds every thread left suspended: model operations refuse to run (they raise
        GreenletExit), so only the threads' own clean-up code runs, and nothing leaks."""
        self.tearing = True
        self.cur = None
        for th in self.threads:
            g = th.glet
            if g is not None and g:  # started and not finished
                # whatever the thread's own clean-up code raises is of no interest
                with contextlib.suppress(Exception):
                    g.throw(GreenletExit)
            th.glet = None

    def _body(self, th: SimThread, plan: _Plan) -> str:
        """A simulated thread: its actions in order, each contract call recorded."""
        sem = self.sem
        rows = self.rows
        events = self.events
        tid = th.id
        for k, (code, n, targ, hist, note) in enumerate(plan):
            if code == SLEEP:
                th.op = -1
                self.point(th)
                th.status = PARKED
                th.on = prim.SLEEP
                th.spur = False
                th.deadline = self.now + hist
                if self.tr is not None:
                    self.tr.append(
                        (tid, -1, "sleep", "sleep", None, None, f"deadline {th.deadline}")
                    )
                self.block(th)
                continue
            th.op = k
            self.now += TICK_NS
            invoke = self.now
            row = [tid, code, n, hist, invoke, -1, None, None]
            rows.append(row)
            events.append((tid, code))
            tr = self.tr
            if tr is not None:
                tr.append((tid, k, "invoke", "", None, None, note))
            if hist > 0 and code == TRY_ACQUIRE:
                th.tcall = k
                th.ttimeout = hist
                th.tdeadline = invoke + hist
                th.parked0 = th.parked
                th.tfound = False
            err = None
            try:
                if code == ACQUIRE:
                    sem.acquire(n)  # type: ignore[attr-defined]
                    res = None
                elif code == TRY_ACQUIRE:
                    res = sem.try_acquire(n, targ)  # type: ignore[attr-defined]
                elif code == RELEASE:
                    sem.release(n)  # type: ignore[attr-defined]
                    res = None
                else:
                    res = sem.available()  # type: ignore[attr-defined]
            except CONTRACT_ERRORS as exc:
                res = None
                err = type(exc).__name__
            except Exception as exc:
                self.outcome = "error"
                self.findings.append(f"t{tid} op {k}: {_describe(exc)}")
                return _ERROR
            th.tcall = -1
            self.now += TICK_NS
            row[5] = self.now
            row[6] = res
            row[7] = err
            events.append((tid, code, n, hist, res, err))
            if tr is not None:
                tr.append((tid, k, "return", "", None, None, f"-> {err or res!r}"))
        th.op = -1
        th.status = FINISHED
        self.live.remove(th)
        return _FIN

    # ---- the scheduler ------------------------------------------------------------------------

    def point(self, t: SimThread) -> None:
        """A scheduling point before ``t``'s next visible step."""
        if self.starting:
            self._main.switch(_STARTED)  # resumed by the RUN choice that lets it go on
            return
        nxt = self._pick()
        if nxt is not t:
            self._go(nxt)

    def block(self, t: SimThread) -> None:
        """``t`` is blocked (its state says on what); returns once it is resumed."""
        nxt = self._pick()
        if nxt is not t:
            self._go(nxt)

    def _go(self, nxt: SimThread | None) -> None:
        if nxt is None:
            self._main.switch(_END)  # never resumed, only unwound
            raise GreenletExit
        self.cur = nxt
        nxt.glet.switch()

    def _pick(self) -> SimThread | None:
        """Takes the next step: computes the options, makes the choice, applies it.  Returns
        the thread to run next, or None when the run ends (``outcome`` set) or nothing can
        move (``outcome`` None)."""
        adv = self.adv
        live = self.live
        while True:
            last = self.last
            opts = []
            front = -1
            anyrun = False
            spur = self.spur_left
            for th in live:
                st = th.status
                tid4 = th.id << 2
                if st == READY or (st == LOCKWAIT and th.lock._owner is None):
                    anyrun = True
                    if th is last:
                        front = tid4
                    else:
                        opts.append(tid4)
                    if adv and th.deadline is not None:
                        opts.append(tid4 | TIMEOUT)
                else:
                    if adv and th.deadline is not None:
                        opts.append(tid4 | TIMEOUT)
                    if spur and th.spur:
                        opts.append(tid4 | SPURIOUS)
            if not anyrun and not adv:
                first = None
                for th in live:
                    d = th.deadline
                    if d is not None and (first is None or d < first):
                        first = d
                if first is not None:
                    opts += [th.id << 2 | TIMEOUT for th in live if th.deadline == first]
                    opts.sort()
            if front >= 0:
                opts.insert(0, front)
            width = len(opts)
            if width == 0:
                return None
            if width == 1:
                o = opts[0]
            else:
                i = self._choose(opts, width, PREEMPTIBLE if front >= 0 else FREE)
                if i < 0:
                    self.outcome = "mismatch"
                    return None
                o = opts[i]
            self.steps += 1
            if self.steps > self.max_steps:
                self.outcome = "step-limit"
                return None
            th = self.threads[o >> 2]
            self.last = th
            act = o & 3
            if act == RUN:
                self.now += TICK_NS
                th.status = READY
                return th
            if act == TIMEOUT:
                now = self.now
                d = th.deadline
                self.now = (d if d > now else now) + TICK_NS  # type: ignore[operator]
                result = False
                kind = "timeout"
            else:
                self.spur_left -= 1
                self.now += TICK_NS
                result = True
                kind = "spurious"
            if self.tr is not None:
                target = (th.on if th.status == PARKED else th.lock)._tname()
                self.tr.append((th.id, th.op, kind, target, None, None, f"deadline {th.deadline}"))
            if th.status == PARKED:
                th.on._unpark(self, th, result)
            else:  # a timed Lock.acquire gives up
                th.status = READY
                th.result = False
            if th.status == READY or th.lock._owner is None:
                th.status = READY
                return th
            # woken, but the lock it needs back is held: it waits for it, and others move

    def _choose(self, opts: list[int], width: int, kind: int) -> int:
        """The index chosen at a step point with ``width`` > 1 options (-1: prefix mismatch)."""
        mode = self.mode
        if mode == RANDOM:
            i = self._random(opts)
        elif mode == PREFIX:
            pi = self.pi
            if pi < len(self.prefix):
                i = self.prefix[pi]
                self.pi = pi + 1
                if not 0 <= i < width:
                    return -1
            else:
                i = 0
        else:
            i = self._pct(opts, width)
        self.chosen.append(i)
        self.widths.append(width)
        self.kinds.append(kind)
        return i

    def _random(self, opts: list[int]) -> int:
        """Random mode: each timed wait ends at a step point drawn when it can first end
        (:func:`.core.draw_lifespan`) -- then its TIMEOUT option is taken (uniformly among those
        due); until then the choice is uniform among the other options, and when only TIMEOUT
        options remain the soonest ends.  model_runtime.c's choose_random is the same."""
        rng = self.rng
        self.points += 1
        now = self.points
        due: list[int] = []
        others: list[int] = []
        soonest, soonest_at = 0, None
        for j, o in enumerate(opts):
            if o & 3 != TIMEOUT:
                others.append(j)
                continue
            th = self.threads[o >> 2]
            if th.timeout_for != th.deadline:
                th.timeout_for = th.deadline
                th.timeout_at = now + draw_lifespan(rng.random(), rng.random())  # type: ignore[union-attr]
            if th.timeout_at <= now:
                due.append(j)
            elif soonest_at is None or th.timeout_at < soonest_at:
                soonest, soonest_at = j, th.timeout_at
        pool = due or others
        if not pool:
            return soonest
        return pool[int(rng.random() * len(pool))]  # type: ignore[union-attr]

    def _pct(self, opts: list[int], width: int) -> int:
        """PCT: the runnable thread of highest priority; at the i-th change point the current
        thread's priority drops to i - 1 first; SPURIOUS options with probability 1/16."""
        rng = self.rng
        self.pct_points += 1
        changes = self.changes
        if self.change_i < len(changes) and changes[self.change_i] == self.pct_points:
            self.change_i += 1
            if self.last is not None:
                self.prio[self.last.id] = self.change_i - 1
        spurious = [j for j, o in enumerate(opts) if o & 3 == SPURIOUS]
        if spurious and rng.random() < 1 / 16:  # type: ignore[union-attr]
            return spurious[int(rng.random() * len(spurious))]  # type: ignore[union-attr]
        prio = self.prio
        best = -1
        top = -1
        for j, o in enumerate(opts):
            if o & 3 == RUN and prio[o >> 2] > top:
                top = prio[o >> 2]
                best = j
        return best if best >= 0 else 0

    def wake_choice(self, width: int) -> int:
        """Which waiter (index in FIFO order) a notify wakes: a WAKE choice point."""
        if self.mode == PREFIX:
            pi = self.pi
            if pi < len(self.prefix):
                i = self.prefix[pi]
                self.pi = pi + 1
                if not 0 <= i < width:
                    self.outcome = "mismatch"
                    self._main.switch(_END)
                    raise GreenletExit
            else:
                i = 0
        else:
            i = int(self.rng.random() * width)  # type: ignore[union-attr]
        self.chosen.append(i)
        self.widths.append(width)
        self.kinds.append(WAKE)
        return i

    def wait_started(self, t: SimThread, rel: int | None) -> None:
        """The timeout accuracy check: inside a timed try (timeout T, invoked at I, deadline
        D = I + T), a wait may last at most T minus the time the call has already spent parked
        in waits, plus :data:`SLACK_NS`.  Time spent running or taking locks is not counted
        against the wait: a relative timeout recomputed from an absolute deadline cannot see
        the ticks between its clock read and its wait.  One finding per call at most."""
        if t.tcall < 0 or t.tfound:
            return
        if rel is not None and rel <= t.ttimeout - (t.parked - t.parked0) + SLACK_NS:
            return
        t.tfound = True
        where = "for ever" if rel is None else f"until {self.now + rel}"
        waited = t.parked - t.parked0
        text = f"t{t.id} op {t.tcall}: waits {where}, beyond its deadline {t.tdeadline}"
        if waited:
            text += f" (having waited {waited} ns of its {t.ttimeout} ns already)"
        self.findings.append(text)

    # ---- results ------------------------------------------------------------------------------

    def signature(self) -> bytes:
        """The outcome and the invoke/return events in time order, without the times."""
        data = repr((self.outcome, self.events)).encode()
        return hashlib.blake2b(data, digest_size=16).digest()


def _describe(exc: BaseException) -> str:
    """``Name: message (at file:line in function)`` for a finding."""
    text = f"{type(exc).__name__}: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        fr = frames[-1]
        text += f" (at {os.path.basename(fr.filename)}:{fr.lineno} in {fr.name})"
    return text
