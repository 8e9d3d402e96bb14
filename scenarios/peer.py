"""The peer suite: Qt's QSemaphore tests (qtbase tests/auto/corelib/thread/qsemaphore,
tst_qsemaphore.cpp) as scenarios, case by case as PEER-SUITE.md (shared/) states them.

Every correct implementation must pass them all (or skip those it declares it cannot run), under
real threads and under the model checker.  Where the Qt test sleeps to let threads block, the
scenario has a :class:`~semharness.scenario.Pause`: in virtual time that makes "the other threads
are blocked" a fact.  Thread 0 is "main".
"""

from __future__ import annotations

from ..scenario import ANY, Get, Loop, Op, Pause, Put, Releaser, Scenario, Step

INT_MIN = -(2**31)
#: producerConsumer (tst_qsemaphore.cpp): BufferSize, ProducerChunkSize, ConsumerChunkSize,
#: Multiplier; DataSize = 3 * 7 * 4096 * 10 = 860,160 items.
BUFFER_SIZE = 4096
PRODUCER_CHUNK = 3
CONSUMER_CHUNK = 7
MULTIPLIER = 10
DATA_SIZE = PRODUCER_CHUNK * CONSUMER_CHUNK * BUFFER_SIZE * MULTIPLIER
PRODUCER_TIMEOUT = 60.0  # Qt's Timeout: 60 * 1000 ms
FREE, USED = 0, 1


def acquire(n: int = 1, sem: int = 0, **kw: object) -> Op:
    return Op("acquire", n, sem=sem, **kw)  # type: ignore[arg-type]


def release(n: int = 1, sem: int = 0, **kw: object) -> Op:
    return Op("release", n, sem=sem, **kw)  # type: ignore[arg-type]


def try_(
    n: int = 1, timeout: float | None = 0.0, expect: object = ANY, sem: int = 0, **kw: object
) -> Op:
    return Op("try_acquire", n, timeout, sem=sem, expect=expect, **kw)  # type: ignore[arg-type]


def available(expect: int, sem: int = 0) -> Op:
    return Op("available", 0, sem=sem, expect=expect)


def _source(function: str) -> str:
    return f"Qt tst_QSemaphore::{function} (tests/auto/corelib/thread/qsemaphore)"


# ---- 1. acquire ---------------------------------------------------------------------------------


def acquire_a() -> Scenario:
    loop = (Loop((acquire(), release()), times=100),)
    return Scenario(
        name="acquire-a",
        description="sem(1); two threads each loop 100 x (acquire(); release()); both finish",
        initial=(1,),
        threads=(loop, loop),
        final=(1,),
        source=_source("acquire") + ", first block (ThreadOne)",
        time_limit=10.0,
    )


def acquire_b() -> Scenario:
    return Scenario(
        name="acquire-b",
        description="sem(4); 100 x (acquire(2); release(2)) against 100 x (acquire(3); "
        "release(3)): they never hold tokens together, so one waits for several tokens",
        initial=(4,),
        threads=(
            (Loop((acquire(2), release(2)), times=100),),
            (Loop((acquire(3), release(3)), times=100),),
        ),
        final=(4,),
        source=_source("acquire") + ", second block (ThreadN)",
        time_limit=10.0,
    )


def acquire_c() -> Scenario:
    steps: list[Step] = [available(0)]
    for n, after in ((1, 1), (1, 2), (10, 12), (10, 22)):
        steps += [release(n), available(after)]
    for n, after in ((1, 21), (1, 20), (10, 10), (10, 0)):
        steps += [acquire(n), available(after)]
    return Scenario(
        name="acquire-c",
        description="one thread: release 1, 1, 10, 10 (available 1, 2, 12, 22), then acquire "
        "1, 1, 10, 10 (available 21, 20, 10, 0)",
        initial=(0,),
        threads=(tuple(steps),),
        final=(0,),
        source=_source("acquire") + ", single-thread part",
        time_limit=10.0,
    )


# ---- 2, 3. multiRelease, multiAcquireRelease ----------------------------------------------------

#: Qt sleeps 1 ms (QTest::qSleep(1)) for the 4 threads to reach acquire(); real Python threads
#: need longer to be likely blocked, and in virtual time any pause makes it certain.
SETTLE = 0.01


def multi_release() -> Scenario:
    waiter = (acquire(),)
    return Scenario(
        name="multiRelease",
        description="sem(0); 4 threads each acquire(); main releases 4 at once; all finish",
        initial=(0,),
        threads=((Pause(SETTLE), release(4)),) + (waiter,) * 4,
        final=(0,),
        source=_source("multiRelease"),
        time_limit=10.0,
    )


def multi_acquire_release() -> Scenario:
    worker = (acquire(), release())
    return Scenario(
        name="multiAcquireRelease",
        description="sem(0); 4 threads each acquire() then release(); main releases 1 once: "
        "the single token must pass through all 4 (a lost-wake-up reproducer)",
        initial=(0,),
        threads=((Pause(SETTLE), release(1)),) + (worker,) * 4,
        final=(1,),
        source=_source("multiAcquireRelease"),
        time_limit=10.0,
    )


# ---- 4. tryAcquire ------------------------------------------------------------------------------


def try_acquire() -> Scenario:
    # Qt calls tryAcquire(n) and tryAcquire(n, 0); in Python both are try_acquire(n, 0.0).
    steps: list[Step] = [available(0)]
    count = 0
    for released, n in ((1, 2), (1, 3), (10, 100), (10, 100)):
        count += released
        steps += [release(released), available(count)]
        steps += [try_(n, expect=False), try_(n, 0, expect=False), available(count)]
    steps += [try_(1, expect=True), available(21), try_(1, expect=True), available(20)]
    steps += [release(2), try_(1, 0, expect=True), available(21)]
    steps += [try_(1, 0, expect=True), available(20)]
    steps += [try_(10, expect=True), available(10)]
    steps += [release(10), try_(10, 0, expect=True), available(10)]
    steps += [try_(10, expect=True), available(0)]
    for n, timeout in ((1, 0.0), (1, 0), (10, 0.0), (10, 0)):
        steps += [try_(n, timeout, expect=False), available(0)]
    return Scenario(
        name="tryAcquire",
        description="one thread: failing tries (2 at 1, 3 at 2, 100 at 12 and 22) leave the "
        "count unchanged; tries of 1, 1, 1, 1, 10, 10, 10 succeed; at 0 every try fails",
        initial=(0,),
        threads=(tuple(steps),),
        final=(0,),
        source=_source("tryAcquire"),
        time_limit=10.0,
    )


# ---- 5. tryAcquireWithTimeout -------------------------------------------------------------------


def try_acquire_with_timeout(timeout: float, label: str) -> Scenario:
    def fails(n: int) -> Op:
        return try_(n, timeout, expect=False, takes=timeout)

    def succeeds(n: int) -> Op:
        return try_(n, timeout, expect=True, takes=0.0)

    steps: list[Step] = [available(0)]
    count = 0
    for released, n in ((1, 2), (1, 3), (10, 100), (10, 100)):
        count += released
        steps += [release(released), available(count), fails(n), available(count)]
    for n, after in ((1, 21), (1, 20), (10, 10), (10, 0)):
        steps += [succeeds(n), available(after)]
    for n in (1, 1, 10, 10):
        steps += [fails(n), available(0)]
    return Scenario(
        name=f"tryAcquireWithTimeout-{label}",
        description=f"tryAcquire's sequence with try(n, {timeout:g} s): a failing call takes "
        f"{timeout:g} s, a succeeding one no time (tolerance 50 ms + T/20)",
        initial=(0,),
        threads=(tuple(steps),),
        final=(0,),
        source=_source("tryAcquireWithTimeout") + f" (data row {label})",
        time_limit=8 * timeout + 10.0,
    )


# ---- 6. tryAcquireWithTimeoutStarvation ---------------------------------------------------------


def try_acquire_with_timeout_starvation() -> Scenario:
    consumer = (Loop((try_(1, 1.0, exit_loop_on=False), release(1))),)
    main = (try_(2, 2.0, expect=False, takes=2.0), acquire())
    return Scenario(
        name="tryAcquireWithTimeoutStarvation",
        description="sem(1); a consumer cycles try(1, 1 s) / release(1) until a try fails; "
        "main's try(2, 2 s) must fail after 2 s (catches timed waits that restart their "
        "timeout on every wake-up); then main acquire()s and holds the token, the consumer "
        "times out and exits",
        initial=(1,),
        threads=(main, consumer),
        final=(0,),
        source=_source("tryAcquireWithTimeoutStarvation"),
        time_limit=13.0,
    )


# ---- 7. tryAcquireWithTimeoutForever ------------------------------------------------------------


def try_acquire_with_timeout_forever(timeout: float | None, label: str) -> Scenario:
    main = (
        release(11),
        try_(1, timeout, expect=True, takes=0.0),
        try_(10, timeout, expect=True, takes=0.0),
        try_(1, timeout, expect=True, takes=1.0),
    )
    return Scenario(
        name=f"tryAcquireWithTimeoutForever-{label}",
        description=f"timeout {timeout} means forever: release 11; try(1) and try(10) succeed "
        "at once; another thread sleeps 1 s then releases 2; main's try(1) succeeds after 1 s; "
        "available() == 1 at the end",
        initial=(0,),
        threads=(main, (Pause(1.0), release(2))),
        final=(1,),
        source=_source("tryAcquireWithTimeoutForever") + f" (timeout {label})",
        time_limit=11.0,
    )


# ---- 8. producerConsumer ------------------------------------------------------------------------


def producer_consumer_phase1() -> Scenario:
    producer = (
        Loop(
            (
                try_(1, PRODUCER_TIMEOUT, expect=True, sem=FREE),
                Put(1),
                release(1, sem=USED),
            ),
            times=DATA_SIZE,
        ),
    )
    consumer = (Loop((acquire(1, sem=USED), Get(1), release(1, sem=FREE)), times=DATA_SIZE),)
    return Scenario(
        name="producerConsumer-phase1",
        description=f"ring of {BUFFER_SIZE}, {DATA_SIZE:,} items over 'ACGTH'; the producer "
        "takes free with try(free, 1, 60 s) (must succeed), writes, releases used; the consumer "
        "acquires used, checks the item, releases free",
        initial=(BUFFER_SIZE, 0),
        threads=(producer, consumer),
        final=(BUFFER_SIZE, 0),
        rings=(BUFFER_SIZE,),
        source=_source("producerConsumer") + ", first loops",
        time_limit=60.0,
    )


def producer_consumer_phase2() -> Scenario:
    # DATA_SIZE = 40,960 x 7 x 3: the producer's 7 chunks of 3 and the consumer's 3 chunks of 7
    # per outer pass; only the outer count (>= 1000) is scaled, so both sides stay paired.
    rounds = DATA_SIZE // (PRODUCER_CHUNK * CONSUMER_CHUNK)
    produce = (
        try_(PRODUCER_CHUNK, PRODUCER_TIMEOUT, expect=True, sem=FREE),
        Put(PRODUCER_CHUNK),
        release(PRODUCER_CHUNK, sem=USED),
    )
    consume = (
        acquire(CONSUMER_CHUNK, sem=USED),
        Get(CONSUMER_CHUNK),
        release(CONSUMER_CHUNK, sem=FREE),
    )
    producer = (Loop((Loop(produce, times=CONSUMER_CHUNK),), times=rounds),)
    consumer = (Loop((Loop(consume, times=PRODUCER_CHUNK),), times=rounds),)
    return Scenario(
        name="producerConsumer-phase2",
        description=f"ring of {BUFFER_SIZE}, {DATA_SIZE:,} items; the producer takes free 3 "
        "at a time (try(free, 3, 60 s), must succeed) and releases used 3 at a time; the "
        "consumer takes used 7 at a time and releases free 7 at a time; data must arrive intact",
        initial=(BUFFER_SIZE, 0),
        threads=(producer, consumer),
        final=(BUFFER_SIZE, 0),
        rings=(BUFFER_SIZE,),
        source=_source("producerConsumer") + ", second loops (chunks)",
        time_limit=60.0,
    )


# ---- 9. RAII releaser and std-style timed tries -------------------------------------------------


def raii() -> Scenario:
    main = (
        available(0),
        Releaser((Releaser((), n=2),), n=1),  # both release on leaving their blocks
        available(3),
        Releaser((Releaser((), n=2, cancel=True),), n=1),  # the cancelled one releases nothing
        available(4),
        Releaser((available(4),), n=0),  # n == 0: a no-op release
        available(4),
        acquire(2),
        Releaser((available(2),), n=2),  # the intended use: take, then let it give back
        available(4),
    )
    return Scenario(
        name="raii",
        description="QSemaphoreReleaser as a context manager: nested releasers of 1 and 2 "
        "release 3 on exit; a cancelled one releases nothing; acquire(2) then a releaser of 2 "
        "gives them back",
        initial=(0,),
        threads=(main,),
        final=(4,),
        source=_source("raii") + " (QSemaphoreReleaser; move-assignment has no Python analogue)",
        time_limit=10.0,
    )


def raii_acquired() -> Scenario:
    main = (
        acquire(2),
        Releaser((available(1),), n=2),
        available(3),
        acquire(1),
        Releaser((available(2),), n=1, cancel=True),  # cancelled: the token stays taken
        available(2),
        release(1),
        available(3),
    )
    return Scenario(
        name="raii-acquired",
        description="sem(3): take tokens, then a releaser gives them back on exit; a "
        "cancelled releaser keeps them taken (never rises above the initial count)",
        initial=(3,),
        threads=(main,),
        final=(3,),
        source=_source("raii"),
        time_limit=10.0,
    )


def raii_wakes() -> Scenario:
    return Scenario(
        name="raii-wakes",
        description="sem(0); a thread blocks in acquire(); main's releaser releases on exit "
        "and wakes it",
        initial=(0,),
        threads=((Releaser((Pause(SETTLE),), n=1),), (acquire(),)),
        final=(0,),
        source=_source("raii"),
        time_limit=10.0,
    )


def std_compat() -> Scenario:
    def for_(n: int, t: float, expect: bool, takes: float) -> Op:
        return try_(n, t, expect=expect, takes=takes, via="for")

    def until(n: int, t: float, expect: bool, takes: float) -> Op:
        return try_(n, t, expect=expect, takes=takes, via="until")

    main = (
        try_(1, expect=True),
        available(0),
        for_(1, 0.010, False, 0.010),
        available(0),
        until(1, 0.010, False, 0.010),
        available(0),
        release(2),
        try_(1, expect=True),
        for_(1, 0.005, True, 0.0),
        available(0),
        until(1, 0.005, False, 0.005),
        available(0),
        release(3),
        try_(1, expect=True),
        for_(1, 5.0, True, 0.0),
        until(1, 5.0, True, 0.0),
        available(0),
        # std semantics, unlike the contract's "negative = forever": no wait at all
        for_(1, -1.0, False, 0.0),
        until(1, -1.0, False, 0.0),
        for_(1, 0.0, False, 0.0),
        available(0),
    )
    return Scenario(
        name="stdCompat",
        description="std::counting_semaphore-style try_acquire_for / try_acquire_until: "
        "failures after 10 ms and 5 ms, successes at once, and a relative timeout <= 0 or a "
        "deadline in the past tries once without waiting",
        initial=(1,),
        threads=(main,),
        final=(0,),
        source=_source("stdCompat") + " (QSemaphore::try_acquire_for / try_acquire_until)",
        time_limit=10.0,
    )


def std_compat_wait() -> Scenario:
    main = (
        try_(1, 5.0, expect=True, takes=0.2, via="for"),
        try_(1, 5.0, expect=True, takes=0.2, via="until"),
    )
    other = (Pause(0.2), release(1), Pause(0.2), release(1))
    return Scenario(
        name="stdCompat-wait",
        description="try_acquire_for / try_acquire_until with 5 s succeed when another thread "
        "releases after 0.2 s, taking 0.2 s each",
        initial=(0,),
        threads=(main, other),
        final=(0,),
        source=_source("stdCompat") + " (waiting variant)",
        time_limit=11.0,
    )


def scenarios() -> list[Scenario]:
    """Every peer case, in PEER-SUITE.md's order."""
    return [
        acquire_a(),
        acquire_b(),
        acquire_c(),
        multi_release(),
        multi_acquire_release(),
        try_acquire(),
        try_acquire_with_timeout(0.2, "0.2s"),
        try_acquire_with_timeout(2.0, "2s"),
        try_acquire_with_timeout_starvation(),
        try_acquire_with_timeout_forever(None, "None"),
        try_acquire_with_timeout_forever(-1, "minus1"),
        try_acquire_with_timeout_forever(INT_MIN, "INT_MIN"),
        producer_consumer_phase1(),
        producer_consumer_phase2(),
        raii(),
        raii_acquired(),
        raii_wakes(),
        std_compat(),
        std_compat_wait(),
    ]
