/*
 * stress_driver.c -- the native stress driver: N pthreads hammer ONE C semaphore implementation
 * with a random operation mix and record every call.  Compiled together with exactly one
 * implementation file (semharness.cbuild.build_program; no link-time optimisation, so the
 * contract calls stay real calls), and run by semharness.stress.native in a child process:
 *
 *   gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -Iharness/csrc \
 *       harness/csrc/stress_driver.c implementations/c/futex64.c -lpthread -o stress
 *   ./stress threads=2 seconds=2 out=run.rec
 *
 * Arguments, each KEY=VALUE (defaults in brackets):
 *   threads=N        worker threads, 1..4096 (required)
 *   ops=N | seconds=S  run length, exactly one: operations per thread, or wall-clock seconds
 *   seed=N           [0] the run's random seed (thread i draws from its own stream of it)
 *   acquire=W try=W timed=W available=W   [4 2 1 1] integer weights of the four drawn calls
 *   n_max=K          [1] n drawn uniformly from 1..K ...
 *   n_values=a,b,c   ... or uniformly from this list (repeat a value to weight it; 0 allowed)
 *   timeout_ns=T     [1000000] the timed try's timeout; -1: wait for ever
 *   initial=C        [the largest n] the semaphore's initial count
 * A mix that needs what the implementation's capabilities deny -- n > 1 from several threads
 * without SEMH_CAP_MULTI_ACQUIRE and SEMH_CAP_ATOMIC_RELEASE, timed tries without
 * SEMH_CAP_TIMEOUTS -- is refused as a bad argument (Mix.needs() says the same in Python).
 *   pin=0|1          [0] pin thread i to the (i mod k)-th of the k CPUs this process may use
 *   record=0|1       [1] record every call (0: only count them, for the recording cost)
 *   out=PATH         where the records go (required when record=1)
 *   watchdog_s=S     [5] report a hang when no thread completes a call for this long (more
 *                    than the timed tries' timeout, which they may spend waiting)
 *   record_mb=M      [1024] memory the records may take; a duration run that reaches it stops
 *                    early ("truncated"), an ops run that would need more is refused
 *   clock=auto|tsc|monotonic   [auto] what the recorded loop reads per call (Timestamps below):
 *                    tsc: the hardware counter (the TSC, or CNTVCT_EL0 on aarch64), refused as
 *                    a bad argument where there is none; monotonic: clock_gettime; auto: the
 *                    counter where there is one, else clock_gettime
 *   progress=0|1     [0] print a progress line about every 0.25 s while the workers run
 *
 * The mix keeps a correct semaphore live: each round a thread draws a call by weight --
 * acquire(n), try_acquire(n, 0), try_acquire(n, timeout) or available() -- and when a call
 * took n tokens, its NEXT call is release(n).  A thread therefore holds at most one draw's
 * tokens and never blocks while holding any, so with initial >= the largest n some blocked
 * thread can always proceed.  A thread stops after `ops` calls (or at the deadline, checked
 * every 64 calls; with recording, after every call), but never while holding tokens: it
 * releases them first, so a thread makes at most ops + 1 calls.
 *
 * Timestamps: one clock reading between consecutive calls of a thread serves as the return of
 * the one and the invocation of the next.  The reading lies after the first call returned and
 * before the second was made, so every recorded interval contains the call's real one (a
 * little wider: the loop's own work) -- sound for the checkers -- at one reading per call
 * instead of two.  The reading, by clock= (auto: the first that applies):
 *   - x86-64 with an invariant TSC (CPUID 0x80000007 EDX bit 8: a constant rate in every P-
 *     and C-state) and rdtscp: `rdtscp; lfence` -- the counter clock_gettime itself reads when
 *     the kernel's clocksource is the TSC, without the scaling and the retry loop around it;
 *   - aarch64: the generic timer's virtual count, `isb; mrs cntvct_el0; isb` (a constant rate
 *     and one count for all cores, by the architecture);
 *   - otherwise, or with clock=monotonic: CLOCK_MONOTONIC through clock_gettime.
 * Counter readings ("ticks") are turned into CLOCK_MONOTONIC nanoseconds only when the records
 * are written, by the line through two (clock_gettime, counter) pairs: one taken just before
 * the start barrier and one after every worker was joined (or, for a hang report, at the
 * report).  The line is increasing, so the order of all readings across threads is exactly
 * the counter's order (two readings a fraction of a nanosecond apart may round to the same
 * ns, which the checkers take as overlap: the weaker claim), and the observer's final read,
 * made after the second pair, is invoked after every worker's last return.  The file always
 * holds CLOCK_MONOTONIC nanoseconds, whichever clock was read.  (What the counter saves
 * depends on the machine: on a 2-core KVM Xeon the ordered read cost as much as clock_gettime,
 * recording adding about 25 ns a call either way.)
 *
 * Output file (record=1), little-endian, no padding: a 32-byte header
 *     0  char[8]  magic "SEMHSTRS"
 *     8  u32      version (1)
 *    12  u32      record size (40)
 *    16  u64      number of records
 *    24  u32      threads
 *    28  i32      initial count
 * then the records, 40 bytes each, thread 0's calls in program order, then thread 1's, ...:
 *     0  i64  invoke (CLOCK_MONOTONIC ns)
 *     8  i64  return (ns); INT64_MIN for a call that never returned (hang reports only)
 *    16  i64  timeout_ns: -1 none (acquire, release, available, a try that waits for ever),
 *             0 no wait, else the timed try's timeout
 *    24  i32  n (0 for available)
 *    28  i32  result: what try_acquire returned when not negative (1 taken, 0 not), what
 *             available returned, otherwise 0
 *    32  i32  err: a try_acquire's negative return value, acquire's or release's non-zero
 *             one (a negative errno, by the contract), or 0
 *    36  u16  thread
 *    38  u8   op: 0 acquire, 1 try_acquire, 2 release, 3 available
 *    39  u8   zero
 * and last, one available() by an observer, thread id = threads, made after every worker
 * finished (or, in a hang report, stopped making progress): the final count, against which the
 * checkers verify conservation and lost wake-ups.
 *
 * Stdout: with progress=1, while the workers run, about every 0.25 s
 *   {"progress": CALLS, "ns": NS}   calls completed by all workers, ns since the start
 * and last, always, one JSON line -- the report.  Success (exit 0):
 *   {"status": "ok", "threads": 2, "ops": [..per thread..], "total_ops": N, "seconds": S,
 *    "ops_per_s": R, "cpus": k, "online_cpus": m, "pinned": false, "cpu_of_thread": [..],
 *    "record": true, "records": N+1, "truncated": false, "clock": "tsc", "initial": C,
 *    "final_count": C, "description": "..."}
 *   clock: what the recorded loop read, "tsc", "cntvct" or "monotonic" (with record=0, what
 *   it would have read; the unrecorded loop reads a clock only for the deadline).
 * Hang (exit 3; the records made so far, the calls in flight as never-returned records, and
 * the observer's read are written to `out` first):
 *   {"hang": true, "watchdog_s": 5, "count": C, "threads": [{"thread": 0,
 *    "state": "blocked", "ops": 12, "op": "acquire", "n": 1, "timeout_ns": -1,
 *    "since_ns": 5000123456}, ...], "ops": [...], "records": true, "clock": "tsc"}
 *   count: null when available() itself did not return within a second; records: whether
 *   the file was written.  An available() that blocks after a run that finished is reported
 *   the same way, every thread "finished" and count null.
 *   state: "blocked" (inside a call: op, n and timeout_ns say which), "finished",
 *   "starting", or "running" (it completed a call while the report was made); since_ns: how
 *   long it has been in that state -- exact with record=1 for a blocked thread, else as the
 *   watchdog saw it (to within its tick).
 * A crash (SIGSEGV, ...) simply ends the process; the parent reports the signal.
 * Exit status: 0 ok, 2 bad arguments, 3 hang, 4 setup failure (memory, semh_init, the file).
 */
#include "semharness.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "stress_driver.c writes its records in host order, which must be little-endian"
#endif

/* ---- records -------------------------------------------------------------------------- */

enum { OP_ACQUIRE = 0, OP_TRY_ACQUIRE = 1, OP_RELEASE = 2, OP_AVAILABLE = 3 };

struct record {
    int64_t invoke;
    int64_t ret;
    int64_t timeout_ns;
    int32_t n;
    int32_t result;
    int32_t err;
    uint16_t thread;
    uint8_t op;
    uint8_t zero;
};
_Static_assert(sizeof(struct record) == 40, "the record layout is part of the file format");
_Static_assert(offsetof(struct record, n) == 24 && offsetof(struct record, err) == 32 &&
                   offsetof(struct record, thread) == 36 && offsetof(struct record, op) == 38,
               "the record layout is part of the file format");

struct file_header {
    char magic[8];
    uint32_t version;
    uint32_t record_size;
    uint64_t records;
    uint32_t threads;
    int32_t initial;
};
_Static_assert(sizeof(struct file_header) == 32, "the header layout is part of the file format");

#define PENDING_RET INT64_MIN
#define MAX_THREADS 4096
#define CHUNK_RECORDS ((size_t)1 << 18) /* 10 MiB: growth step of a duration run's buffer */
#define DEADLINE_EVERY 64               /* unrecorded duration runs read the clock this often */

/* A block of one thread's records.  Chunks are linked, never moved: growing costs one malloc
 * in the hot loop every CHUNK_RECORDS calls, and no copying.  `used` and `next` are set once,
 * when the worker leaves the chunk for a new one (a round needs two free slots, so up to one
 * slot may stay unused); they are atomics because the watchdog may walk the list while the
 * worker still runs. */
struct chunk {
    _Atomic(struct chunk *) next;
    _Atomic size_t used;
    size_t cap;
    struct record rec[];
};

/* ---- configuration (written by main before any thread starts, read-only after) ---------- */

/* The calls a round draws; a release is never drawn, it follows every successful take. */
enum { DRAW_ACQUIRE, DRAW_TRY, DRAW_TIMED, DRAW_AVAILABLE, DRAW_RELEASE };
static const char *const DRAW_OP_NAME[] = {"acquire", "try_acquire", "try_acquire", "available",
                                           "release"};

static struct {
    long threads;
    int64_t ops;      /* > 0: an ops run */
    double seconds;   /* > 0: a duration run */
    uint64_t seed;
    uint32_t weight[4]; /* DRAW_ACQUIRE .. DRAW_AVAILABLE */
    uint32_t cut[3];    /* cumulative weights: the draw's thresholds */
    uint32_t weight_sum;
    int32_t n_max;      /* uniform 1..n_max, unless n_values */
    int32_t *n_values;
    uint32_t n_count;
    int64_t timeout_ns;
    int32_t initial;
    int pin;
    int record;
    const char *out;
    double watchdog_s;
    int64_t record_bytes;
    int clock;    /* CLOCK_ARG_* */
    int progress; /* print progress lines */
} cfg;

/* clock=: what the recorded loop reads (see "Timestamps" at the top). */
enum { CLOCK_ARG_AUTO, CLOCK_ARG_COUNTER, CLOCK_ARG_MONOTONIC };

static void *g_sem;                      /* the semaphore under test */
static int64_t g_deadline;               /* duration runs: when threads stop (ns) */
static int64_t g_deadline_stamp;         /* the same, as the recorded loop's readings */
static _Atomic int64_t g_budget;         /* record bytes still allowed (duration runs) */
static pthread_barrier_t g_ready, g_go;  /* everyone set up / everyone starts */
static _Atomic int g_abort;              /* set between the barriers when setup failed */

/* ---- per-thread state ------------------------------------------------------------------- */

enum { STATE_STARTING, STATE_RUNNING, STATE_FINISHED };

/* One worker.  The atomics are what the watchdog (main) reads while the worker runs; the
 * rest belongs to the worker until it is joined.  Aligned so that workers do not share cache
 * lines: the counters are written on every call. */
struct worker {
    _Alignas(64) _Atomic uint64_t done; /* calls completed; release: their records are written */
    _Atomic uint64_t current;           /* the call in progress: draw << 32 | (uint32_t)n */
    _Atomic int64_t loop_start;         /* when its loop began (record=1 only; a reading) */
    _Atomic int state;
    _Atomic int64_t end_ns;
    int index;
    int cpu; /* pinned to, or -1 */
    int failed;
    int truncated;
    pthread_t tid;
    uint64_t rng;
    struct chunk *head, *tail;
    struct record *next_rec, *rec_end;
};

static struct worker *g_workers;

/* ---- small helpers ---------------------------------------------------------------------- */

static int64_t now_ns(void) { return semh_now_ns(); }

/* A bad argument: one line on stderr, exit status 2. */
static _Noreturn __attribute__((format(printf, 1, 2))) void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("stress_driver: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* splitmix64: one multiply chain per draw, and streams from nearby seeds are unrelated. */
static inline uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A uniform integer in [0, bound) from 32 random bits, by multiply-shift (no division). */
static inline uint32_t below(uint32_t random32, uint32_t bound)
{
    return (uint32_t)(((uint64_t)random32 * bound) >> 32);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* ---- timestamps ------------------------------------------------------------------------- */

/*
 * read_counter(): the hardware counter, ordered like a clock reading between two calls.
 *
 * Why this keeps every recorded interval around the real call (what the linearizability
 * checker relies on): the reading between call k and call k+1 must come after every
 * instruction of call k and before any of call k+1.  A bare rdtsc may execute early (before
 * call k's last instructions) or late (after call k+1's first ones), as out-of-order execution
 * sees fit.  rdtscp waits until all earlier instructions have executed and earlier loads are
 * globally visible before it reads the counter; the lfence after it keeps later instructions
 * (call k+1's loads and read-modify-writes) from starting before rdtscp has finished.  So the
 * reading lies after call k returned and before call k+1 began, on a count every core shares:
 * every recorded interval contains its call, and an interval that ends before another begins
 * (in counter order, which the conversion to ns keeps) belongs to a call that really ended
 * first.  The kernel's vDSO clock_gettime orders its own TSC read on the earlier side only
 * (rdtsc_ordered: lfence; rdtsc, or rdtscp), so this is at least what clock_gettime gave.
 * What neither waits for: call k's plain stores leaving the store buffer.  A call whose last
 * effect is a plain store (not a locked read-modify-write, which drains the buffer) may become
 * visible to other cores a few ns after its recorded return, with either clock.
 * On aarch64 the isb before mrs waits for earlier instructions to complete and the isb after
 * it keeps later ones from starting before the read.  The "memory" clobber keeps the compiler
 * from moving memory accesses across the reading (the contract calls are opaque anyway).
 */
#if defined(__x86_64__)
#define COUNTER_NAME "tsc"

static inline uint64_t read_counter(void)
{
    uint32_t lo, hi, aux;
    __asm__ __volatile__("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
    (void)aux; /* the CPU's id, which a synchronized TSC does not need */
    return (uint64_t)hi << 32 | lo;
}

/* An invariant TSC (constant rate in every P- and C-state) and rdtscp (CPUID 0x80000001 EDX
 * bit 27) to read it with.  That all cores count alike is the platform's part: Linux checks it
 * at boot and stops using the TSC as its clock where they do not (not checked here). */
static int counter_usable(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
        return 0;
    if (!__get_cpuid(0x80000001u, &a, &b, &c, &d) || !(d & (1u << 27)))
        return 0;
    return __get_cpuid(0x80000007u, &a, &b, &c, &d) && (d & (1u << 8));
}
#elif defined(__aarch64__)
#define COUNTER_NAME "cntvct"

static inline uint64_t read_counter(void)
{
    uint64_t v;
    __asm__ __volatile__("isb\n\tmrs %0, cntvct_el0\n\tisb" : "=r"(v) : : "memory");
    return v;
}

/* The generic timer is part of the architecture: constant rate, one count for all cores,
 * readable at EL0 under Linux. */
static int counter_usable(void) { return 1; }
#else
#define COUNTER_NAME "monotonic" /* never used: there is no counter */

static inline uint64_t read_counter(void) { return 0; }

static int counter_usable(void) { return 0; }
#endif

/* A (CLOCK_MONOTONIC ns, counter tick) pair taken at one moment. */
struct clock_pair {
    int64_t ns;
    int64_t tick;
};

/* ns = ns0 + (tick - tick0) * ns_per_tick: the line through two pairs. */
struct calibration {
    int64_t ns0;
    int64_t tick0;
    double ns_per_tick;
};

static int g_counter;                  /* 1: records hold counter ticks, not ns */
static const char *g_clock_name;       /* the summary's "clock" */
static struct calibration g_estimate;  /* the first, rough line: the deadline's */
static struct clock_pair g_start_pair; /* taken just before the start barrier */

/* A pair: the midpoint of two counter readings around one clock_gettime.  Of four tries, the
 * one whose readings lie closest together, so that a preemption in between does not skew it
 * (the midpoint is then within half that width, a few ns, of the clock's reading). */
static struct clock_pair take_pair(void)
{
    struct clock_pair best = {0, 0};
    int64_t best_width = INT64_MAX;
    for (int k = 0; k < 4; k++) {
        int64_t before = (int64_t)read_counter();
        int64_t ns = now_ns();
        int64_t after = (int64_t)read_counter();
        if (after - before < best_width) {
            best_width = after - before;
            best = (struct clock_pair){ns, before + (after - before) / 2};
        }
    }
    return best;
}

/* The line through a and b (a earlier), anchored at a; 0, or -1 when the two do not give a
 * plausible rate (a counter that does not advance, or runs at under 1 MHz or over 100 GHz). */
static int fit(struct clock_pair a, struct clock_pair b, struct calibration *out)
{
    if (b.tick <= a.tick || b.ns <= a.ns)
        return -1;
    double rate = (double)(b.ns - a.ns) / (double)(b.tick - a.tick);
    if (!(rate >= 0.01 && rate <= 1000.0))
        return -1;
    *out = (struct calibration){a.ns, a.tick, rate};
    return 0;
}

/* The line through the start pair and `now`, for the records written at `now`; the first
 * estimate's rate from the start pair when the two are too close to give one. */
static struct calibration calibrate_to(struct clock_pair now)
{
    struct calibration c;
    if (fit(g_start_pair, now, &c) != 0)
        c = (struct calibration){g_start_pair.ns, g_start_pair.tick, g_estimate.ns_per_tick};
    return c;
}

/* A recorded time in CLOCK_MONOTONIC ns.  Increasing in `stamp` (a product with a positive
 * rate, truncated toward zero, which is monotone too), so it keeps the counter's order. */
static inline int64_t stamp_ns(const struct calibration *c, int64_t stamp)
{
    if (!g_counter)
        return stamp;
    return c->ns0 + (int64_t)((double)(stamp - c->tick0) * c->ns_per_tick);
}

/* The counter tick of a CLOCK_MONOTONIC time, by the first estimate: the deadline of a
 * recorded duration run, which needs no more than approximate precision.  Saturates. */
static int64_t estimate_tick(int64_t ns)
{
    double tick = (double)g_estimate.tick0 + (double)(ns - g_estimate.ns0) / g_estimate.ns_per_tick;
    return tick >= 9.0e18 ? INT64_MAX : tick <= 0 ? 0 : (int64_t)tick;
}

/* Chooses the clock (clock=, the counter's availability) and, when the records will hold
 * counter ticks, makes the first estimate of its rate from two pairs 5 ms apart. */
static void select_clock(void)
{
    int counter = cfg.clock != CLOCK_ARG_MONOTONIC && counter_usable();
    if (cfg.clock == CLOCK_ARG_COUNTER && !counter)
        die_usage("clock=tsc: this machine has no usable hardware counter (an invariant TSC "
                  "with rdtscp, or aarch64's generic timer); use clock=monotonic or auto");
    g_clock_name = counter ? COUNTER_NAME : "monotonic";
    if (!counter || !cfg.record)
        return;
    struct clock_pair first = take_pair();
    struct timespec pause = {0, 5000000};
    nanosleep(&pause, NULL);
    if (fit(first, take_pair(), &g_estimate) != 0) {
        if (cfg.clock == CLOCK_ARG_COUNTER) {
            fprintf(stderr, "stress_driver: the hardware counter does not advance steadily\n");
            exit(4);
        }
        g_clock_name = "monotonic";
        return;
    }
    g_counter = 1;
}

/* ---- argument parsing ------------------------------------------------------------------- */

static int64_t parse_int(const char *key, const char *text, int64_t lo, int64_t hi)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi)
        die_usage("%s must be an integer in %" PRId64 "..%" PRId64 ", got '%s'", key, lo, hi,
                  text);
    return (int64_t)v;
}

static double parse_positive_double(const char *key, const char *text)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v > 0) || v > 1e9)
        die_usage("%s must be a positive number of seconds, got '%s'", key, text);
    return v;
}

static void parse_n_values(const char *text)
{
    size_t count = 1;
    for (const char *p = text; *p; p++)
        count += *p == ',';
    if (count > 65536)
        die_usage("n_values: at most 65536 values, got '%s'", text);
    free(cfg.n_values); /* given twice: the last one counts */
    cfg.n_values = malloc(count * sizeof *cfg.n_values);
    char *copy = strdup(text);
    if (cfg.n_values == NULL || copy == NULL) {
        fprintf(stderr, "stress_driver: out of memory\n");
        exit(4);
    }
    cfg.n_count = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        cfg.n_values[cfg.n_count++] = (int32_t)parse_int("n_values", tok, 0, INT32_MAX);
    free(copy);
    if (cfg.n_count != count)
        die_usage("n_values: empty value in '%s'", text);
}

static int parse_clock(const char *text)
{
    if (strcmp(text, "auto") == 0)
        return CLOCK_ARG_AUTO;
    if (strcmp(text, "tsc") == 0)
        return CLOCK_ARG_COUNTER;
    if (strcmp(text, "monotonic") == 0)
        return CLOCK_ARG_MONOTONIC;
    die_usage("clock must be auto, tsc or monotonic, got '%s'", text);
}

static void parse_args(int argc, char **argv)
{
    cfg.weight[DRAW_ACQUIRE] = 4;
    cfg.weight[DRAW_TRY] = 2;
    cfg.weight[DRAW_TIMED] = 1;
    cfg.weight[DRAW_AVAILABLE] = 1;
    cfg.n_max = 1;
    cfg.timeout_ns = 1000000;
    cfg.initial = -1; /* the largest n, below */
    cfg.record = 1;
    cfg.watchdog_s = 5.0;
    cfg.record_bytes = (int64_t)1024 << 20;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        if (eq == NULL)
            die_usage("arguments are KEY=VALUE, got '%s'", arg);
        size_t klen = (size_t)(eq - arg);
        const char *v = eq + 1;
#define KEY(name) (klen == strlen(name) && strncmp(arg, name, klen) == 0)
        if (KEY("threads"))
            cfg.threads = (long)parse_int("threads", v, 1, MAX_THREADS);
        else if (KEY("ops"))
            cfg.ops = parse_int("ops", v, 1, INT64_MAX / 2);
        else if (KEY("seconds"))
            cfg.seconds = parse_positive_double("seconds", v);
        else if (KEY("seed"))
            cfg.seed = (uint64_t)parse_int("seed", v, 0, INT64_MAX);
        else if (KEY("acquire"))
            cfg.weight[DRAW_ACQUIRE] = (uint32_t)parse_int("acquire", v, 0, 1000000);
        else if (KEY("try"))
            cfg.weight[DRAW_TRY] = (uint32_t)parse_int("try", v, 0, 1000000);
        else if (KEY("timed"))
            cfg.weight[DRAW_TIMED] = (uint32_t)parse_int("timed", v, 0, 1000000);
        else if (KEY("available"))
            cfg.weight[DRAW_AVAILABLE] = (uint32_t)parse_int("available", v, 0, 1000000);
        else if (KEY("n_max"))
            cfg.n_max = (int32_t)parse_int("n_max", v, 1, INT32_MAX);
        else if (KEY("n_values"))
            parse_n_values(v);
        else if (KEY("timeout_ns"))
            cfg.timeout_ns = parse_int("timeout_ns", v, -1, INT64_MAX);
        else if (KEY("initial"))
            cfg.initial = (int32_t)parse_int("initial", v, 0, INT32_MAX);
        else if (KEY("pin"))
            cfg.pin = (int)parse_int("pin", v, 0, 1);
        else if (KEY("record"))
            cfg.record = (int)parse_int("record", v, 0, 1);
        else if (KEY("out"))
            cfg.out = v;
        else if (KEY("watchdog_s"))
            cfg.watchdog_s = parse_positive_double("watchdog_s", v);
        else if (KEY("record_mb"))
            cfg.record_bytes = parse_int("record_mb", v, 1, INT64_C(1) << 30) << 20;
        else if (KEY("clock"))
            cfg.clock = parse_clock(v);
        else if (KEY("progress"))
            cfg.progress = (int)parse_int("progress", v, 0, 1);
        else
            die_usage("unknown argument '%s'", arg);
#undef KEY
    }
    if (cfg.threads == 0)
        die_usage("threads=N is required");
    if ((cfg.ops > 0) == (cfg.seconds > 0))
        die_usage("give exactly one of ops=N and seconds=S");
    if (cfg.record && (cfg.out == NULL || *cfg.out == '\0'))
        die_usage("record=1 needs out=PATH");
    uint32_t sum = 0;
    for (int k = 0; k < 4; k++) {
        sum += cfg.weight[k];
        if (k < 3)
            cfg.cut[k] = sum;
    }
    if (sum == 0)
        die_usage("the mix's weights are all 0");
    /* A timed try may legitimately wait its whole timeout: with every thread doing so, a
     * watchdog no longer than that would report a hang that is not one. */
    if (cfg.weight[DRAW_TIMED] > 0 && cfg.timeout_ns >= 0 &&
        (double)cfg.timeout_ns >= cfg.watchdog_s * 1e9)
        die_usage("watchdog_s must be longer than the timed tries' timeout_ns");
    cfg.weight_sum = sum;
    int32_t largest = cfg.n_max;
    if (cfg.n_values != NULL) {
        largest = 0;
        for (uint32_t k = 0; k < cfg.n_count; k++)
            largest = cfg.n_values[k] > largest ? cfg.n_values[k] : largest;
    }
    if (cfg.initial < 0)
        cfg.initial = largest;
    /* What the mix needs of the implementation (its declared capabilities): shared by other
     * threads, an n > 1 taken or given back in several steps shows counts no single call
     * explains, and the checkers would blame the implementation for what it declared. */
    uint32_t caps = semh_info.capabilities;
    int takes = cfg.weight[DRAW_ACQUIRE] + cfg.weight[DRAW_TRY] + cfg.weight[DRAW_TIMED] > 0;
    if (cfg.threads > 1 && takes && largest > 1 && !(caps & SEMH_CAP_MULTI_ACQUIRE))
        die_usage("the mix takes up to %" PRId32 " tokens at once from several threads, but "
                  "the implementation declares no atomic multi-token acquire",
                  largest);
    if (cfg.threads > 1 && takes && largest > 1 && !(caps & SEMH_CAP_ATOMIC_RELEASE))
        die_usage("the mix gives back up to %" PRId32 " tokens at once from several threads, "
                  "but the implementation declares no atomic release(n)",
                  largest);
    if (cfg.weight[DRAW_TIMED] > 0 && cfg.timeout_ns > 0 && !(caps & SEMH_CAP_TIMEOUTS))
        die_usage("the mix has timed tries, but the implementation declares no timeouts");
    if (cfg.record && cfg.ops > 0) {
        /* ops + 1 records a thread (the closing release) in one chunk, checked without
         * overflow. */
        int64_t share = cfg.record_bytes / cfg.threads - (int64_t)sizeof(struct chunk);
        int64_t per_thread = share > 0 ? share / (int64_t)sizeof(struct record) : 0;
        if (cfg.ops >= per_thread)
            die_usage("ops too large: the records would pass record_mb");
    }
}

/* ---- record buffers --------------------------------------------------------------------- */

/* A new chunk of `cap` records at the end of w's list, its pages touched when `touch` (so
 * that setup, not the timed loop, takes the page faults).  0, or -1 when memory or the record
 * budget is exhausted. */
static int add_chunk(struct worker *w, size_t cap, int touch)
{
    int64_t bytes = (int64_t)(sizeof(struct chunk) + cap * sizeof(struct record));
    if (atomic_fetch_sub_explicit(&g_budget, bytes, memory_order_relaxed) < bytes) {
        atomic_fetch_add_explicit(&g_budget, bytes, memory_order_relaxed);
        return -1;
    }
    struct chunk *c = malloc((size_t)bytes);
    if (c == NULL) {
        atomic_fetch_add_explicit(&g_budget, bytes, memory_order_relaxed);
        return -1;
    }
    if (touch)
        memset(c->rec, 0, cap * sizeof(struct record));
    atomic_init(&c->next, NULL);
    atomic_init(&c->used, 0);
    c->cap = cap;
    if (w->tail != NULL) {
        /* Closed and linked before any record in the new chunk is published by w->done
         * (release), so a reader that sees such a record also sees `used` and the link. */
        atomic_store_explicit(&w->tail->used, (size_t)(w->next_rec - w->tail->rec),
                              memory_order_relaxed);
        atomic_store_explicit(&w->tail->next, c, memory_order_release);
    } else {
        w->head = c;
    }
    w->tail = c;
    w->next_rec = c->rec;
    w->rec_end = c->rec + cap;
    return 0;
}

static void free_chunks(struct worker *w)
{
    struct chunk *c = w->head;
    while (c != NULL) {
        struct chunk *next = atomic_load_explicit(&c->next, memory_order_relaxed);
        free(c);
        c = next;
    }
    w->head = w->tail = NULL;
}

/* ---- the worker's loop ------------------------------------------------------------------ */

#define NO_CALL UINT64_MAX /* w->current before the first call */

/* The call a round draws, and its n, from one 64-bit random number. */
static inline int draw_call(uint64_t r, int32_t *n)
{
    uint32_t x = below((uint32_t)(r >> 32), cfg.weight_sum);
    int draw = x < cfg.cut[0]   ? DRAW_ACQUIRE
               : x < cfg.cut[1] ? DRAW_TRY
               : x < cfg.cut[2] ? DRAW_TIMED
                                : DRAW_AVAILABLE;
    if (draw == DRAW_AVAILABLE)
        *n = 0;
    else if (cfg.n_values != NULL)
        *n = cfg.n_values[below((uint32_t)r, cfg.n_count)];
    else
        *n = 1 + (int32_t)below((uint32_t)r, (uint32_t)cfg.n_max);
    return draw;
}

/* The recorded loop's reading: a counter tick, or CLOCK_MONOTONIC ns (`counter` a constant). */
static inline __attribute__((always_inline)) int64_t read_stamp(const int counter)
{
    return counter ? (int64_t)read_counter() : now_ns();
}

/*
 * The loop, instantiated three times through `record` and `counter` (always inlined with
 * constants): without recording, and recording with either clock.  With and without recording
 * the calls, the draws and the watchdog's counters are the same, so the difference of the two
 * is the cost of recording (one clock reading, one 40-byte store and the room check per call).
 */
static inline __attribute__((always_inline)) void run_loop(struct worker *w, const int record,
                                                           const int counter)
{
    void *const sem = g_sem;
    const uint64_t limit = cfg.ops > 0 ? (uint64_t)cfg.ops : UINT64_MAX;
    const int timed_run = cfg.seconds > 0;
    const int64_t deadline = record ? g_deadline_stamp : g_deadline;
    const int64_t deadline_ns = g_deadline;
    const int64_t timed_ns = cfg.timeout_ns;
    const uint16_t thread = (uint16_t)w->index;
    uint64_t rng = w->rng;
    uint64_t done = 0;
    uint64_t next_check = 0;
    int32_t held = 0; /* tokens the last call took: the next call releases them */
    /* The write position lives in locals: the contract calls are opaque, so through `w` the
     * compiler would reload and store it around every call. */
    struct record *rec = w->next_rec, *rec_end = w->rec_end;
    int64_t t = record ? read_stamp(counter) : 0;
    if (record)
        atomic_store_explicit(&w->loop_start, t, memory_order_relaxed);

    for (;;) {
        int draw;
        int32_t n;
        if (held == 0) {
            if (done >= limit)
                break;
            if (timed_run) {
                if (record) {
                    /* A counter's deadline is an estimate: past it, the clock has the last
                     * word, so that a run never ends before its seconds (at most a few us
                     * of calls read both). */
                    if (t >= deadline && (!counter || now_ns() >= deadline_ns))
                        break;
                } else if (done >= next_check) {
                    next_check = done + DEADLINE_EVERY;
                    if (now_ns() >= deadline)
                        break;
                }
            }
            /* room for a take and its release (two records); a chunk's last slot may be
             * left unused */
            if (record && __builtin_expect(rec_end - rec < 2, 0)) {
                w->next_rec = rec;
                if (add_chunk(w, CHUNK_RECORDS, 0) != 0) {
                    w->truncated = 1;
                    break;
                }
                rec = w->next_rec;
                rec_end = w->rec_end;
            }
            draw = draw_call(next_random(&rng), &n);
        } else {
            draw = DRAW_RELEASE;
            n = held;
        }
        atomic_store_explicit(&w->current, (uint64_t)draw << 32 | (uint32_t)n,
                              memory_order_relaxed);

        int r;
        int32_t result = 0, err = 0;
        int64_t timeout = -1;
        uint8_t op;
        switch (draw) {
        case DRAW_ACQUIRE:
            op = OP_ACQUIRE;
            r = semh_acquire(sem, n);
            if (r == 0)
                held = n;
            else
                err = r;
            break;
        case DRAW_TRY:
        case DRAW_TIMED:
            op = OP_TRY_ACQUIRE;
            timeout = draw == DRAW_TRY ? 0 : timed_ns;
            r = semh_try_acquire(sem, n, timeout);
            if (r < 0)
                err = r;
            else
                result = r;
            if (r == 1)
                held = n;
            break;
        case DRAW_RELEASE:
            op = OP_RELEASE;
            r = semh_release(sem, n);
            if (r != 0)
                err = r;
            held = 0; /* a failed release is recorded, not retried: a bug must not spin here */
            break;
        default:
            op = OP_AVAILABLE;
            result = semh_available(sem);
            break;
        }

        if (record) {
            int64_t t2 = read_stamp(counter);
            *rec++ = (struct record){
                .invoke = t,
                .ret = t2,
                .timeout_ns = timeout,
                .n = n,
                .result = result,
                .err = err,
                .thread = thread,
                .op = op,
            };
            t = t2;
        } else {
            (void)op;
            (void)result;
            (void)err;
            (void)timeout;
        }
        atomic_store_explicit(&w->done, ++done, memory_order_release);
    }
    w->rng = rng;
    w->next_rec = rec;
}

static cpu_set_t g_allowed; /* the CPUs this process may run on */
static int g_ncpu;

/* Pins the calling worker i to the (i mod k)-th allowed CPU; on failure it runs unpinned
 * (cpu stays -1, and the summary says so). */
static void pin_self(struct worker *w)
{
    int want = w->index % g_ncpu, seen = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &g_allowed))
            continue;
        if (seen++ == want) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0)
                w->cpu = cpu;
            return;
        }
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    if (cfg.pin)
        pin_self(w);
    /* The buffer is allocated and touched by its own thread, before the start: the page
     * faults and first-touch placement happen here, not in the loop. */
    if (cfg.record) {
        size_t cap = cfg.ops > 0 ? (size_t)cfg.ops + 1 : CHUNK_RECORDS;
        if (add_chunk(w, cap, 1) != 0)
            w->failed = 1;
    }
    pthread_barrier_wait(&g_ready);
    pthread_barrier_wait(&g_go);
    if (!atomic_load(&g_abort)) {
        atomic_store_explicit(&w->state, STATE_RUNNING, memory_order_relaxed);
        if (!cfg.record)
            run_loop(w, 0, 0);
        else if (g_counter)
            run_loop(w, 1, 1);
        else
            run_loop(w, 1, 0);
    }
    atomic_store_explicit(&w->end_ns, now_ns(), memory_order_relaxed);
    atomic_store_explicit(&w->state, STATE_FINISHED, memory_order_release);
    return NULL;
}

/* ---- the observer's read ---------------------------------------------------------------- */

/* available() made by a helper thread, so that an implementation whose available() blocks
 * (on a lock a stuck thread holds) cannot stop the driver from reporting. */
static struct {
    struct record rec;
    _Atomic int finished;
} g_observer;

static void *observe(void *arg)
{
    (void)arg;
    g_observer.rec.invoke = now_ns();
    g_observer.rec.result = semh_available(g_sem);
    g_observer.rec.ret = now_ns();
    atomic_store_explicit(&g_observer.finished, 1, memory_order_release);
    return NULL;
}

/* Reads the count within `wait_ns`: a pointer to the observer's record, or NULL. */
static const struct record *read_count(int64_t wait_ns)
{
    g_observer.rec = (struct record){.timeout_ns = -1,
                                     .thread = (uint16_t)cfg.threads,
                                     .op = OP_AVAILABLE};
    pthread_t tid;
    if (pthread_create(&tid, NULL, observe, NULL) != 0)
        return NULL;
    int64_t until = now_ns() + wait_ns;
    struct timespec pause = {0, 1000000};
    while (!atomic_load_explicit(&g_observer.finished, memory_order_acquire)) {
        if (now_ns() >= until) {
            pthread_detach(tid);
            return NULL;
        }
        nanosleep(&pause, NULL);
    }
    pthread_join(tid, NULL);
    return &g_observer.rec;
}

/* ---- writing the records ---------------------------------------------------------------- */

/* Calls `visit(arg, records, k)` for worker w's first `count` records, block by block, and
 * returns the last one (NULL when count is 0).  Safe while w still runs: it reads only records
 * that `count` (loaded with acquire from w->done) covers, and the chunk fields published with
 * them. */
static const struct record *walk_records(const struct worker *w, uint64_t count,
                                         int (*visit)(void *, const struct record *, size_t),
                                         void *arg)
{
    const struct record *last = NULL;
    for (const struct chunk *c = w->head; count > 0 && c != NULL;) {
        const struct chunk *next = atomic_load_explicit(&c->next, memory_order_acquire);
        size_t k = next != NULL ? atomic_load_explicit(&c->used, memory_order_relaxed) : c->cap;
        if ((uint64_t)k > count)
            k = (size_t)count;
        if (k > 0) {
            if (visit != NULL && visit(arg, c->rec, k) != 0)
                return NULL;
            last = &c->rec[k - 1];
        }
        count -= k;
        c = next;
    }
    return count == 0 ? last : NULL;
}

struct block_writer {
    FILE *file;
    const struct calibration *cal;
};

#define CONVERT_RECORDS 4096 /* 160 KiB: few enough write calls that they cost nothing */

/* Writes k of a worker's records, their counter readings turned into ns on the way, through a
 * buffer: the workers' chunks stay as they are (a hang report may write while a worker still
 * runs).  The buffer is static -- only the main thread writes records, once -- rather than
 * 160 KiB of stack. */
static int write_block(void *arg, const struct record *rec, size_t k)
{
    static struct record buf[CONVERT_RECORDS];
    const struct block_writer *to = arg;
    if (!g_counter)
        return fwrite(rec, sizeof *rec, k, to->file) == k ? 0 : -1;
    while (k > 0) {
        size_t m = k < CONVERT_RECORDS ? k : CONVERT_RECORDS;
        for (size_t j = 0; j < m; j++) {
            buf[j] = rec[j];
            buf[j].invoke = stamp_ns(to->cal, rec[j].invoke);
            buf[j].ret = stamp_ns(to->cal, rec[j].ret); /* a worker's records all returned */
        }
        if (fwrite(buf, sizeof *buf, m, to->file) != m)
            return -1;
        rec += m;
        k -= m;
    }
    return 0;
}

/*
 * Writes the file: the header; worker i's first done[i] records (their readings converted by
 * `cal`), then -- when pending is not NULL and pending[i].op is not 0xff -- the call it is
 * blocked in, as a record that never returned; the observer's read last (when not NULL).
 * pending and observer hold ns already.  0, or -1 (message on stderr).
 */
static int write_records(const uint64_t *done, const struct record *pending,
                         const struct record *observer, const struct calibration *cal)
{
    FILE *f = fopen(cfg.out, "wb");
    if (f == NULL) {
        fprintf(stderr, "stress_driver: cannot open %s: %s\n", cfg.out, strerror(errno));
        return -1;
    }
    uint64_t total = observer != NULL;
    for (long i = 0; i < cfg.threads; i++)
        total += done[i] + (pending != NULL && pending[i].op != 0xff);
    struct file_header h = {{'S', 'E', 'M', 'H', 'S', 'T', 'R', 'S'}, 1,
                            (uint32_t)sizeof(struct record), total, (uint32_t)cfg.threads,
                            cfg.initial};
    int ok = fwrite(&h, sizeof h, 1, f) == 1;
    struct block_writer to = {f, cal};
    for (long i = 0; ok && i < cfg.threads; i++) {
        if (done[i] > 0 && walk_records(&g_workers[i], done[i], write_block, &to) == NULL)
            ok = 0;
        if (ok && pending != NULL && pending[i].op != 0xff)
            ok = fwrite(&pending[i], sizeof *pending, 1, f) == 1;
    }
    if (ok && observer != NULL)
        ok = fwrite(observer, sizeof *observer, 1, f) == 1;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "stress_driver: cannot write %s\n", cfg.out);
    return ok ? 0 : -1;
}

/* ---- the watchdog ----------------------------------------------------------------------- */

static const char *state_name(int state)
{
    return state == STATE_RUNNING ? "blocked" : state == STATE_FINISHED ? "finished" : "starting";
}

/* Prints the hang report (and writes what was recorded), then ends the process: the workers
 * are stuck, so nothing may wait for them.  `changed[i]`: when the watchdog last saw worker i
 * move; `observer`: the count read, or NULL when it could not be read. */
static _Noreturn void report_hang(const int64_t *changed, const struct record *observer)
{
    long nt = cfg.threads;
    uint64_t *done = calloc((size_t)nt, sizeof *done);
    struct record *pending = calloc((size_t)nt, sizeof *pending);
    if (done == NULL || pending == NULL) {
        printf("{\"hang\": true, \"watchdog_s\": %g, \"count\": null, \"threads\": null}\n",
               cfg.watchdog_s);
        fflush(stdout);
        _exit(3);
    }
    /* now, and with a counter the line from the start to now for the records */
    struct calibration cal = {0, 0, 1.0};
    int64_t t;
    if (g_counter) {
        struct clock_pair now = take_pair();
        cal = calibrate_to(now);
        t = now.ns;
    } else {
        t = now_ns();
    }
    printf("{\"hang\": true, \"watchdog_s\": %g, \"count\": ", cfg.watchdog_s);
    if (observer != NULL)
        printf("%" PRId32, observer->result);
    else
        printf("null");
    printf(", \"threads\": [");
    for (long i = 0; i < nt; i++) {
        struct worker *w = &g_workers[i];
        int state = atomic_load_explicit(&w->state, memory_order_acquire);
        done[i] = atomic_load_explicit(&w->done, memory_order_acquire);
        uint64_t cur = atomic_load_explicit(&w->current, memory_order_relaxed);
        /* A worker that completes a call while we look was not stuck after all (a very slow
         * call): its `current` may already name the next call, so it gets no pending record;
         * its records stop at the count first read, a consistent prefix. */
        int moved = atomic_load_explicit(&w->done, memory_order_acquire) != done[i];
        pending[i].op = 0xff; /* none */
        printf("%s{\"thread\": %ld, \"state\": \"%s\", \"ops\": %" PRIu64, i ? ", " : "", i,
               moved ? "running" : state_name(state), done[i]);
        if (state == STATE_RUNNING && cur != NO_CALL && !moved) {
            int draw = (int)(cur >> 32);
            int32_t n = (int32_t)(uint32_t)cur;
            int64_t timeout = draw == DRAW_TRY ? 0 : draw == DRAW_TIMED ? cfg.timeout_ns : -1;
            /* Invoked when its previous call returned (one clock reading serves both), or
             * when the loop began; without records, when the watchdog last saw it move. */
            int64_t since = changed[i];
            if (cfg.record) {
                const struct record *prev = walk_records(w, done[i], NULL, NULL);
                int64_t invoked = prev != NULL ? prev->ret
                                               : atomic_load_explicit(&w->loop_start,
                                                                      memory_order_relaxed);
                since = stamp_ns(&cal, invoked);
            }
            printf(", \"op\": \"%s\", \"n\": %" PRId32 ", \"timeout_ns\": %" PRId64
                   ", \"since_ns\": %" PRId64 "}",
                   DRAW_OP_NAME[draw], n, timeout, t - since);
            static const uint8_t op_of_draw[] = {OP_ACQUIRE, OP_TRY_ACQUIRE, OP_TRY_ACQUIRE,
                                                 OP_AVAILABLE, OP_RELEASE};
            pending[i] = (struct record){.invoke = since,
                                         .ret = PENDING_RET,
                                         .timeout_ns = timeout,
                                         .n = n,
                                         .thread = (uint16_t)i,
                                         .op = op_of_draw[draw]};
        } else {
            int64_t since = state == STATE_FINISHED
                                ? atomic_load_explicit(&w->end_ns, memory_order_relaxed)
                                : changed[i];
            printf(", \"op\": null, \"n\": null, \"timeout_ns\": null, \"since_ns\": %" PRId64 "}",
                   t - since);
        }
    }
    int written = cfg.record && write_records(done, pending, observer, &cal) == 0;
    printf("], \"ops\": [");
    for (long i = 0; i < nt; i++)
        printf("%s%" PRIu64, i ? ", " : "", done[i]);
    printf("], \"records\": %s, \"clock\": \"%s\"}\n", written ? "true" : "false",
           g_clock_name);
    fflush(stdout);
    _exit(3);
}

#define PROGRESS_EVERY_NS 250000000 /* progress=1: a line about this often */

/* Watches the workers until all have finished; reports a hang (and ends the process) when
 * none completes a call for watchdog_s.  With progress=1 it also prints the calls completed so
 * far, every PROGRESS_EVERY_NS or the first tick after (it reads every counter anyway). */
static void watch(int64_t t0)
{
    const long nt = cfg.threads;
    const int64_t limit = (int64_t)(cfg.watchdog_s * 1e9);
    int64_t tick = limit / 20;
    tick = tick < 1000000 ? 1000000 : tick > 50000000 ? 50000000 : tick;
    struct timespec pause = {0, (long)tick};
    uint64_t *seen = calloc((size_t)nt, sizeof *seen);
    int *seen_state = calloc((size_t)nt, sizeof *seen_state);
    int64_t *changed = calloc((size_t)nt, sizeof *changed);
    if (seen == NULL || seen_state == NULL || changed == NULL) {
        fprintf(stderr, "stress_driver: out of memory\n");
        exit(4);
    }
    for (long i = 0; i < nt; i++)
        changed[i] = t0;
    int64_t moved = t0; /* when any worker last moved */
    int64_t next_line = t0 + PROGRESS_EVERY_NS;
    for (;;) {
        nanosleep(&pause, NULL);
        int64_t t = now_ns();
        long finished = 0;
        uint64_t total = 0;
        for (long i = 0; i < nt; i++) {
            uint64_t d = atomic_load_explicit(&g_workers[i].done, memory_order_relaxed);
            int s = atomic_load_explicit(&g_workers[i].state, memory_order_relaxed);
            if (d != seen[i] || s != seen_state[i]) {
                seen[i] = d;
                seen_state[i] = s;
                changed[i] = moved = t;
            }
            finished += s == STATE_FINISHED;
            total += d;
        }
        if (finished == nt)
            break;
        if (t - moved >= limit)
            report_hang(changed, read_count(SEMH_NS_PER_S));
        if (cfg.progress && t >= next_line) {
            printf("{\"progress\": %" PRIu64 ", \"ns\": %" PRId64 "}\n", total, t - t0);
            fflush(stdout);
            next_line = t + PROGRESS_EVERY_NS;
        }
    }
    free(seen);
    free(seen_state);
    free(changed);
}

/* ---- main ------------------------------------------------------------------------------- */

/* An unrelated 64-bit state per thread (splitmix64's finalizer of seed and index): seeding
 * with seed + i would hand thread i thread 0's stream shifted by i draws. */
static uint64_t thread_seed(uint64_t seed, long i)
{
    uint64_t s = seed ^ (UINT64_C(0xd1b54a32d192ed03) * (uint64_t)(i + 1));
    return next_random(&s);
}

static void print_summary(const uint64_t *done, double seconds, const struct record *observer,
                          int truncated)
{
    uint64_t total = 0;
    for (long i = 0; i < cfg.threads; i++)
        total += done[i];
    printf("{\"status\": \"ok\", \"threads\": %ld, \"ops\": [", cfg.threads);
    for (long i = 0; i < cfg.threads; i++)
        printf("%s%" PRIu64, i ? ", " : "", done[i]);
    printf("], \"total_ops\": %" PRIu64 ", \"seconds\": %.9f, \"ops_per_s\": %.1f", total,
           seconds, seconds > 0 ? (double)total / seconds : 0.0);
    printf(", \"cpus\": %d, \"online_cpus\": %ld, \"pinned\": %s, \"cpu_of_thread\": [", g_ncpu,
           sysconf(_SC_NPROCESSORS_ONLN), cfg.pin ? "true" : "false");
    for (long i = 0; i < cfg.threads; i++) {
        int cpu = g_workers[i].cpu;
        if (cpu >= 0)
            printf("%s%d", i ? ", " : "", cpu);
        else
            printf("%snull", i ? ", " : "");
    }
    printf("], \"record\": %s, \"records\": %" PRIu64 ", \"truncated\": %s, \"clock\": \"%s\"",
           cfg.record ? "true" : "false", cfg.record ? total + 1 : 0,
           truncated ? "true" : "false", g_clock_name);
    printf(", \"initial\": %" PRId32 ", \"final_count\": %" PRId32 ", \"description\": ",
           cfg.initial, observer->result);
    json_string(stdout, semh_info.description);
    printf("}\n");
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    select_clock();
    const long nt = cfg.threads;

    size_t size = (semh_info.state_size + 63) & ~(size_t)63;
    size = size ? size : 64;
    g_sem = aligned_alloc(64, size);
    g_workers = aligned_alloc(64, (size_t)nt * sizeof *g_workers);
    uint64_t *done = calloc((size_t)nt, sizeof *done);
    if (g_sem == NULL || g_workers == NULL || done == NULL) {
        fprintf(stderr, "stress_driver: out of memory\n");
        return 4;
    }
    memset(g_sem, 0, size);
    memset(g_workers, 0, (size_t)nt * sizeof *g_workers);
    int r = semh_init(g_sem, cfg.initial);
    if (r != 0) {
        fprintf(stderr, "stress_driver: semh_init(%" PRId32 ") returned %d\n", cfg.initial, r);
        return 4;
    }
    if (sched_getaffinity(0, sizeof g_allowed, &g_allowed) != 0) {
        CPU_ZERO(&g_allowed);
        CPU_SET(0, &g_allowed);
    }
    g_ncpu = CPU_COUNT(&g_allowed);
    atomic_store(&g_budget, cfg.record_bytes);

    if (pthread_barrier_init(&g_ready, NULL, (unsigned)nt + 1) != 0 ||
        pthread_barrier_init(&g_go, NULL, (unsigned)nt + 1) != 0) {
        fprintf(stderr, "stress_driver: cannot make the start barriers\n");
        return 4;
    }
    for (long i = 0; i < nt; i++) {
        struct worker *w = &g_workers[i];
        w->index = (int)i;
        w->cpu = -1;
        w->rng = thread_seed(cfg.seed, i);
        atomic_init(&w->current, NO_CALL);
        if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
            fprintf(stderr, "stress_driver: cannot start thread %ld\n", i);
            return 4; /* the started ones wait at the barrier: ending the process ends them */
        }
    }
    pthread_barrier_wait(&g_ready);
    int failed = 0;
    for (long i = 0; i < nt; i++)
        failed |= g_workers[i].failed;
    atomic_store(&g_abort, failed);
    /* The start: with a counter, the first end of the line the records are converted by. */
    int64_t t0;
    if (g_counter) {
        g_start_pair = take_pair();
        t0 = g_start_pair.ns;
    } else {
        t0 = now_ns();
    }
    if (cfg.seconds > 0) {
        g_deadline = t0 + (int64_t)(cfg.seconds * 1e9);
        g_deadline_stamp = g_counter ? estimate_tick(g_deadline) : g_deadline;
    }
    pthread_barrier_wait(&g_go); /* everyone starts now */
    if (failed) {
        for (long i = 0; i < nt; i++)
            pthread_join(g_workers[i].tid, NULL);
        fprintf(stderr, "stress_driver: cannot allocate the record buffers\n");
        return 4;
    }

    watch(t0);
    int64_t end = t0;
    int truncated = 0;
    for (long i = 0; i < nt; i++) {
        pthread_join(g_workers[i].tid, NULL);
        done[i] = atomic_load(&g_workers[i].done);
        int64_t e = atomic_load(&g_workers[i].end_ns);
        end = e > end ? e : end;
        truncated |= g_workers[i].truncated;
    }
    /* The line's other end, after every worker's last reading and before the observer's. */
    struct calibration cal = {0, 0, 1.0};
    if (g_counter)
        cal = calibrate_to(take_pair());
    /* Every worker is done: the count now is the final one. */
    const struct record *observer = read_count((int64_t)(cfg.watchdog_s * 1e9));
    if (observer == NULL) {
        int64_t *changed = malloc((size_t)nt * sizeof *changed);
        for (long i = 0; changed != NULL && i < nt; i++)
            changed[i] = end;
        if (changed == NULL)
            _exit(4);
        report_hang(changed, NULL);
    }
    if (cfg.record && write_records(done, NULL, observer, &cal) != 0)
        return 4;
    print_summary(done, (double)(end - t0) / 1e9, observer, truncated);

    semh_destroy(g_sem);
    for (long i = 0; i < nt; i++)
        free_chunks(&g_workers[i]);
    pthread_barrier_destroy(&g_ready);
    pthread_barrier_destroy(&g_go);
    free(g_workers);
    free(g_sem);
    free(done);
    free(cfg.n_values);
    return 0;
}
