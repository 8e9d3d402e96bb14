/*
 * test_native.c -- native tests of ONE C semaphore implementation through the contract functions
 * of semharness.h only (semh_init / destroy / acquire / try_acquire / release / available).
 *
 * Build it together with exactly one implementation file, e.g.
 *
 *   gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g -Iharness/csrc \
 *       tests/c/test_native.c implementations/c/futex64.c -lpthread -o test_futex64
 *
 * (tests/c/run.sh does this for every built-in implementation, plain and under ASan/UBSan and
 * TSan).  Usage: test_native [-v] [TEST...]   -- no TEST names: run them all; -v adds timings.
 *
 * Scenarios an implementation declares it cannot do (semh_info.capabilities: multi-token
 * acquire, atomic release(n), timeouts) are skipped, not failed.  Every blocking test runs under
 * a watchdog: a test still running after SEMH_TEST_WATCHDOG_S seconds (default 30) is reported
 * as hung and the program exits non-zero.  Output: one line per test ("ok NAME", "skip NAME:
 * REASON", "FAIL NAME: DETAIL"), then "N passed, M failed[, K skipped]"; the exit status is 0
 * only if nothing failed.
 *
 * Environment: SEMH_TEST_SEED (random seed for the stress tests), SEMH_TEST_WATCHDOG_S.
 */
#include "semharness.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#else
#define UNDER_TSAN 0
#endif
#if defined(__SANITIZE_ADDRESS__) || UNDER_TSAN
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

/*
 * GCC 12's TSan runtime intercepts sem_wait / sem_timedwait / sem_trywait / sem_post but not
 * sem_clockwait (glibc 2.30+), which posix_sem.c uses for timed waits: a token obtained there
 * would carry no happens-before edge from the sem_post that provided it, and TSan would report
 * false races on the data the semaphore protects.  Under TSan only, this wrapper gives
 * sem_clockwait the same semantics the runtime gives sem_timedwait (acquire on success).  It
 * overrides the C library's symbol for this executable; implementations that do not call
 * sem_clockwait are unaffected.
 */
#if UNDER_TSAN
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>
#include <semaphore.h>

int sem_clockwait(sem_t *sem, clockid_t clock, const struct timespec *abstime)
{
    typedef int (*real_fn)(sem_t *, clockid_t, const struct timespec *);
    static _Atomic(real_fn) real;
    real_fn f = atomic_load(&real);
    if (f == NULL) {
        f = (real_fn)dlsym(RTLD_NEXT, "sem_clockwait");
        if (f == NULL) {
            fprintf(stderr, "test_native: dlsym(RTLD_NEXT, sem_clockwait) failed\n");
            abort();
        }
        atomic_store(&real, f);
    }
    int r = f(sem, clock, abstime);
    if (r == 0)
        __tsan_acquire(sem);
    return r;
}
#endif

/* Work sizes: sanitized builds run several times slower, so they do less of the same thing. */
#define SCALE(plain, tsan, asan) (UNDER_TSAN ? (tsan) : SANITIZED ? (asan) : (plain))

#define MS INT64_C(1000000)
#define US INT64_C(1000)

/* How much later than its deadline a failed timed try may return (scheduling noise). */
#define TIMEOUT_SLACK_NS (SANITIZED ? 1000 * MS : 300 * MS)

/* ---- failure recording ---------------------------------------------------------------- */

static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int test_failed;
static char fail_msg[512];

static void failf(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(int line, const char *fmt, ...)
{
    pthread_mutex_lock(&fail_mu);
    if (!atomic_load(&test_failed)) {
        int k = snprintf(fail_msg, sizeof fail_msg, "line %d: ", line);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(fail_msg + k, sizeof fail_msg - (size_t)k, fmt, ap);
        va_end(ap);
        atomic_store(&test_failed, 1);
    }
    pthread_mutex_unlock(&fail_mu);
}

static bool failing(void) { return atomic_load_explicit(&test_failed, memory_order_relaxed); }

#define CHECK_(onfail, cond, ...)                                                             \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            failf(__LINE__, __VA_ARGS__);                                                     \
            onfail;                                                                           \
        }                                                                                     \
    } while (0)
#define CHECK_EQ_(onfail, expr, want)                                                         \
    do {                                                                                      \
        long long got_ = (long long)(expr), want_ = (long long)(want);                        \
        if (got_ != want_) {                                                                  \
            failf(__LINE__, "%s returned %lld, expected %lld", #expr, got_, want_);           \
            onfail;                                                                           \
        }                                                                                     \
    } while (0)

/* In test functions (return void) ... */
#define CHECK(cond, ...) CHECK_(return, cond, __VA_ARGS__)
#define CHECK_EQ(expr, want) CHECK_EQ_(return, expr, want)
/* ... and in thread functions (return void *). */
#define TCHECK(cond, ...) CHECK_(return NULL, cond, __VA_ARGS__)
#define TCHECK_EQ(expr, want) CHECK_EQ_(return NULL, expr, want)
/* ... and where a cleanup label `out` must run first. */
#define GCHECK(cond, ...) CHECK_(goto out, cond, __VA_ARGS__)
#define GCHECK_EQ(expr, want) CHECK_EQ_(goto out, expr, want)

/* ---- time, threads, storage ----------------------------------------------------------- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
    int r = pthread_create(t, NULL, fn, arg);
    if (r != 0) {
        fprintf(stderr, "pthread_create failed: %s\n", strerror(r));
        exit(2);
    }
}

static void join(pthread_t t) { pthread_join(t, NULL); }

/* Waits (polling) until *v >= target; false after timeout_ns. */
static bool wait_for_at_least(atomic_int *v, int target, int64_t timeout_ns)
{
    int64_t end = now_ns() + timeout_ns;
    while (atomic_load(v) < target) {
        if (now_ns() > end)
            return false;
        sleep_ns(100 * US);
    }
    return true;
}

/* Zeroed storage of semh_info.state_size bytes, aligned to 64, as the contract promises. */
static void *sem_alloc(void)
{
    size_t size = (semh_info.state_size + 63) & ~(size_t)63;
    if (size == 0)
        size = 64;
    void *p = aligned_alloc(64, size);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memset(p, 0, size);
    return p;
}

/* A new initialized semaphore, or NULL (failure recorded). */
static void *sem_new_(int line, int32_t initial)
{
    void *s = sem_alloc();
    int r = semh_init(s, initial);
    if (r != 0) {
        failf(line, "semh_init(%" PRId32 ") returned %d", initial, r);
        free(s);
        return NULL;
    }
    return s;
}
#define sem_new(initial) sem_new_(__LINE__, (initial))

static void sem_free(void *s)
{
    if (s != NULL) {
        semh_destroy(s);
        free(s);
    }
}

static bool has(uint32_t caps) { return (semh_info.capabilities & caps) == caps; }

/* xorshift64*: a small per-thread generator. */
static uint64_t rnd_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(2685821657736338717);
}

static uint64_t g_seed = 0x5eed5eedULL;

/* ---- watchdog ------------------------------------------------------------------------- */

static _Atomic int64_t wd_deadline; /* 0: disarmed */
static _Atomic(const char *) wd_test;
static atomic_int n_passed, n_failed, n_skipped;
static int64_t wd_limit_ns = 30 * INT64_C(1000000000);

static void print_summary(void)
{
    int s = atomic_load(&n_skipped);
    if (s)
        printf("%d passed, %d failed, %d skipped\n", atomic_load(&n_passed),
               atomic_load(&n_failed), s);
    else
        printf("%d passed, %d failed\n", atomic_load(&n_passed), atomic_load(&n_failed));
    fflush(stdout);
}

static void *watchdog(void *arg)
{
    (void)arg;
    for (;;) {
        sleep_ns(20 * MS);
        int64_t d = atomic_load(&wd_deadline);
        if (d != 0 && now_ns() > d) {
            pthread_mutex_lock(&fail_mu);
            printf("FAIL %s: watchdog: still running after %lld s (hung: lost wake-up or "
                   "deadlock?)%s%s\n",
                   atomic_load(&wd_test), (long long)(wd_limit_ns / 1000000000),
                   atomic_load(&test_failed) ? "; earlier failure: " : "",
                   atomic_load(&test_failed) ? fail_msg : "");
            pthread_mutex_unlock(&fail_mu);
            atomic_fetch_add(&n_failed, 1);
            print_summary();
            _exit(3);
        }
    }
    return NULL;
}

/* ==== contract and bad input ============================================================ */

static void test_init_available(void)
{
    const int32_t values[] = {0, 1, 5, 1000, INT32_MAX - 1, INT32_MAX};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        void *s = sem_new(values[i]);
        CHECK(s != NULL, "init failed");
        int32_t a = semh_available(s);
        sem_free(s);
        CHECK(a == values[i], "semh_init(%" PRId32 ") then available() = %" PRId32, values[i], a);
    }
}

static void test_init_negative(void)
{
    const int32_t bad[] = {-1, -2, INT32_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *s = sem_alloc();
        int r = semh_init(s, bad[i]);
        free(s); /* not initialized: nothing to destroy */
        CHECK(r == -EINVAL, "semh_init(%" PRId32 ") returned %d, expected -EINVAL", bad[i], r);
    }
}

static void test_negative_n(void)
{
    const int32_t bad[] = {-1, -7, INT32_MIN};
    const int32_t initial[] = {0, 3};
    for (size_t k = 0; k < 2; k++) {
        void *s = sem_new(initial[k]);
        CHECK(s != NULL, "init failed");
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            int32_t n = bad[i];
            struct {
                const char *what;
                int r;
            } calls[] = {
                {"acquire(n)", semh_acquire(s, n)},
                {"try_acquire(n, 0)", semh_try_acquire(s, n, 0)},
                {"try_acquire(n, -1)", semh_try_acquire(s, n, -1)},
                {"try_acquire(n, 50 ms)", semh_try_acquire(s, n, 50 * MS)},
                {"release(n)", semh_release(s, n)},
            };
            for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
                int32_t a = semh_available(s);
                if (calls[c].r != -EINVAL || a != initial[k]) {
                    failf(__LINE__,
                          "sem(%" PRId32 "): %s with n=%" PRId32
                          " returned %d (expected -EINVAL), available now %" PRId32,
                          initial[k], calls[c].what, n, calls[c].r, a);
                    sem_free(s);
                    return;
                }
            }
        }
        /* Still fully usable after the rejected calls. */
        CHECK_EQ(semh_release(s, 1), 0);
        CHECK_EQ(semh_available(s), initial[k] + 1);
        CHECK_EQ(semh_try_acquire(s, 1, 0), 1);
        CHECK_EQ(semh_available(s), initial[k]);
        sem_free(s);
    }
}

static void test_zero_n(void)
{
    void *s = sem_new(0);
    CHECK(s != NULL, "init failed");
    int64_t t0 = now_ns();
    CHECK_EQ(semh_acquire(s, 0), 0);
    CHECK_EQ(semh_try_acquire(s, 0, 0), 1);
    CHECK_EQ(semh_try_acquire(s, 0, -1), 1);
    CHECK_EQ(semh_try_acquire(s, 0, 1000 * MS), 1);
    CHECK_EQ(semh_release(s, 0), 0);
    int64_t took = now_ns() - t0;
    CHECK(took < 250 * MS, "n == 0 operations on sem(0) took %lld ms (must not wait)",
          (long long)(took / MS));
    CHECK_EQ(semh_available(s), 0);
    sem_free(s);

    s = sem_new(INT32_MAX);
    CHECK(s != NULL, "init failed");
    CHECK_EQ(semh_release(s, 0), 0);
    CHECK_EQ(semh_available(s), INT32_MAX);
    CHECK_EQ(semh_acquire(s, 0), 0);
    CHECK_EQ(semh_available(s), INT32_MAX);
    sem_free(s);
}

static void test_overflow(void)
{
    void *s = sem_new(INT32_MAX);
    CHECK(s != NULL, "init failed");
    CHECK_EQ(semh_release(s, 1), -EOVERFLOW);
    CHECK_EQ(semh_available(s), INT32_MAX);
    CHECK_EQ(semh_release(s, INT32_MAX), -EOVERFLOW);
    CHECK_EQ(semh_available(s), INT32_MAX);
    /* Still usable. */
    CHECK_EQ(semh_acquire(s, 1), 0);
    CHECK_EQ(semh_available(s), INT32_MAX - 1);
    CHECK_EQ(semh_release(s, 2), -EOVERFLOW);
    CHECK_EQ(semh_available(s), INT32_MAX - 1);
    CHECK_EQ(semh_release(s, 1), 0);
    CHECK_EQ(semh_available(s), INT32_MAX);
    sem_free(s);

    s = sem_new(INT32_MAX - 5);
    CHECK(s != NULL, "init failed");
    CHECK_EQ(semh_release(s, 6), -EOVERFLOW);
    CHECK_EQ(semh_available(s), INT32_MAX - 5);
    CHECK_EQ(semh_release(s, 5), 0);
    CHECK_EQ(semh_available(s), INT32_MAX);
    CHECK_EQ(semh_release(s, 1), -EOVERFLOW);
    CHECK_EQ(semh_available(s), INT32_MAX);
    sem_free(s);

    /* A single release of the whole range (posix_sem would post 2^31 times: atomic only). */
    if (has(SEMH_CAP_ATOMIC_RELEASE)) {
        s = sem_new(0);
        CHECK(s != NULL, "init failed");
        CHECK_EQ(semh_release(s, INT32_MAX), 0);
        CHECK_EQ(semh_available(s), INT32_MAX);
        CHECK_EQ(semh_release(s, 1), -EOVERFLOW);
        CHECK_EQ(semh_available(s), INT32_MAX);
        sem_free(s);
        s = sem_new(1);
        CHECK(s != NULL, "init failed");
        CHECK_EQ(semh_release(s, INT32_MAX), -EOVERFLOW);
        CHECK_EQ(semh_available(s), 1);
        sem_free(s);
    }
}

static void test_try_nowait(void)
{
    void *s = sem_new(0);
    CHECK(s != NULL, "init failed");
    int64_t t0 = now_ns();
    CHECK_EQ(semh_try_acquire(s, 1, 0), 0);
    int64_t took = now_ns() - t0;
    CHECK(took < 250 * MS, "try_acquire(1, 0) on sem(0) took %lld ms (must not wait)",
          (long long)(took / MS));
    CHECK_EQ(semh_available(s), 0);
    sem_free(s);

    s = sem_new(2);
    CHECK(s != NULL, "init failed");
    CHECK_EQ(semh_try_acquire(s, 1, 0), 1);
    CHECK_EQ(semh_available(s), 1);
    CHECK_EQ(semh_try_acquire(s, 1, 0), 1);
    CHECK_EQ(semh_available(s), 0);
    CHECK_EQ(semh_try_acquire(s, 1, 0), 0);
    CHECK_EQ(semh_available(s), 0);
    sem_free(s);

    if (has(SEMH_CAP_MULTI_ACQUIRE)) {
        s = sem_new(2);
        CHECK(s != NULL, "init failed");
        t0 = now_ns();
        CHECK_EQ(semh_try_acquire(s, 3, 0), 0);
        CHECK(now_ns() - t0 < 250 * MS, "try_acquire(3, 0) on sem(2) waited");
        CHECK_EQ(semh_available(s), 2);
        CHECK_EQ(semh_try_acquire(s, INT32_MAX, 0), 0);
        CHECK_EQ(semh_available(s), 2);
        CHECK_EQ(semh_try_acquire(s, 2, 0), 1);
        CHECK_EQ(semh_available(s), 0);
        sem_free(s);
    }
}

/* A timed try that must fail: returns 0, not before its timeout, at most `slack` later. */
static bool timed_try_fails_within(void *s, int32_t n, int64_t timeout, int64_t slack)
{
    int64_t t0 = now_ns();
    int r = semh_try_acquire(s, n, timeout);
    int64_t took = now_ns() - t0;
    if (r != 0) {
        failf(__LINE__, "try_acquire(%" PRId32 ", %lld ms) returned %d, expected 0", n,
              (long long)(timeout / MS), r);
        return false;
    }
    if (took < timeout) {
        failf(__LINE__,
              "try_acquire(%" PRId32 ", %lld ms) failed after only %.3f ms (before its deadline)",
              n, (long long)(timeout / MS), (double)took / 1e6);
        return false;
    }
    if (took > timeout + slack) {
        failf(__LINE__,
              "try_acquire(%" PRId32 ", %lld ms) returned after %.3f ms (overshoot beyond "
              "%lld ms)",
              n, (long long)(timeout / MS), (double)took / 1e6, (long long)(slack / MS));
        return false;
    }
    return true;
}

static bool timed_try_fails(void *s, int32_t n, int64_t timeout)
{
    return timed_try_fails_within(s, n, timeout, TIMEOUT_SLACK_NS);
}

static void test_timed_try_fails(void)
{
    void *s = sem_new(0);
    CHECK(s != NULL, "init failed");
    if (!timed_try_fails(s, 1, 50 * MS))
        return;
    CHECK_EQ(semh_available(s), 0);
    if (!timed_try_fails(s, 1, 1 * MS))
        return;
    /* A timed-out waiter has left: the next token goes to the next taker. */
    CHECK_EQ(semh_release(s, 1), 0);
    CHECK_EQ(semh_available(s), 1);
    CHECK_EQ(semh_try_acquire(s, 1, 0), 1);
    CHECK_EQ(semh_available(s), 0);
    sem_free(s);

    if (has(SEMH_CAP_MULTI_ACQUIRE)) {
        s = sem_new(1);
        CHECK(s != NULL, "init failed");
        if (!timed_try_fails(s, 2, 50 * MS))
            return;
        CHECK_EQ(semh_available(s), 1);
        CHECK_EQ(semh_release(s, 1), 0);
        CHECK_EQ(semh_available(s), 2);
        CHECK_EQ(semh_try_acquire(s, 2, 0), 1);
        CHECK_EQ(semh_available(s), 0);
        sem_free(s);
    }
}

struct delayed_release {
    void *s;
    int64_t delay;
    int32_t n;
    int times;
    int rc;
};

static void *delayed_release_thread(void *p)
{
    struct delayed_release *d = p;
    for (int i = 0; i < d->times; i++) {
        sleep_ns(d->delay);
        int r = semh_release(d->s, d->n);
        if (r != 0)
            d->rc = r;
    }
    return NULL;
}

/* A timed try (timeout `timeout`) that another thread satisfies while it waits. */
static bool timed_try_succeeds(int32_t initial, int32_t n, int64_t timeout, int32_t rel_n,
                               int rel_times)
{
    void *s = sem_new(initial);
    if (s == NULL)
        return false;
    struct delayed_release d = {s, 20 * MS, rel_n, rel_times, 0};
    pthread_t t;
    int64_t t0 = now_ns();
    spawn(&t, delayed_release_thread, &d);
    int r = semh_try_acquire(s, n, timeout);
    int64_t took = now_ns() - t0;
    join(t);
    int32_t left = semh_available(s);
    int32_t want_left = initial + rel_n * rel_times - n;
    sem_free(s);
    if (r != 1 || d.rc != 0 || left != want_left) {
        failf(__LINE__,
              "sem(%" PRId32 "), try_acquire(%" PRId32 ", %lld ns) while another thread "
              "releases %" PRId32 " x%d: returned %d (release rc %d), available %" PRId32
              " (expected 1 and %" PRId32 ")",
              initial, n, (long long)timeout, rel_n, rel_times, r, d.rc, left, want_left);
        return false;
    }
    if (took > 20 * MS * rel_times + 2000 * MS) {
        failf(__LINE__, "timed try took %.1f ms to notice the release", (double)took / 1e6);
        return false;
    }
    return true;
}

static void test_timed_try_succeeds(void)
{
    if (!timed_try_succeeds(0, 1, 5000 * MS, 1, 1))
        return;
    if (!timed_try_succeeds(0, 1, INT64_MAX, 1, 1)) /* deadline overflows: no deadline */
        return;
    if (!timed_try_succeeds(0, 1, -1, 1, 1)) /* forever */
        return;
    if (has(SEMH_CAP_MULTI_ACQUIRE)) {
        if (!timed_try_succeeds(1, 3, 5000 * MS, 1, 2))
            return;
        if (!timed_try_succeeds(0, 2, -1, 2, 1))
            return;
    }
}

/* A timed try racing a release: the token is either taken or left, never lost. */
struct race_arg {
    void *s;
    int32_t n;
    int64_t timeout;
    int result;
};

static void *race_try_thread(void *p)
{
    struct race_arg *a = p;
    a->result = semh_try_acquire(a->s, a->n, a->timeout);
    return NULL;
}

static void test_timeout_race(void)
{
    uint64_t rs = g_seed ^ 0x7a7a;
    const int rounds = SCALE(300, 300, 300);
    int got = 0;
    for (int i = 0; i < rounds; i++) {
        bool multi = has(SEMH_CAP_MULTI_ACQUIRE) && (i & 1);
        int32_t initial = multi ? 1 : 0, n = multi ? 2 : 1;
        void *s = sem_new(initial);
        CHECK(s != NULL, "init failed");
        struct race_arg a = {s, n, (int64_t)(100 + rnd_next(&rs) % 300) * US, -99};
        pthread_t t;
        spawn(&t, race_try_thread, &a);
        sleep_ns((int64_t)(rnd_next(&rs) % 400) * US);
        int rr = semh_release(s, 1);
        join(t);
        int32_t left = semh_available(s);
        sem_free(s);
        CHECK(rr == 0, "release returned %d", rr);
        CHECK(a.result == 0 || a.result == 1, "try_acquire returned %d", a.result);
        int32_t want = initial + 1 - (a.result ? n : 0);
        CHECK(left == want,
              "round %d: sem(%" PRId32 "), try_acquire(%" PRId32 ", %lld us) racing release(1) "
              "returned %d but available is %" PRId32 " (expected %" PRId32 ")",
              i, initial, n, (long long)(a.timeout / US), a.result, left, want);
        got += a.result;
    }
    (void)got;
}

/* ==== Qt peer-suite shapes ============================================================= */

struct loop_arg {
    void *s;
    int32_t n;
    int iterations;
    atomic_int *in_cs; /* mutual exclusion check: the two loopers never hold tokens together */
};

static void *acquire_release_loop(void *p)
{
    struct loop_arg *a = p;
    for (int i = 0; i < a->iterations && !failing(); i++) {
        TCHECK_EQ(semh_acquire(a->s, a->n), 0);
        int inside = 0;
        if (a->in_cs != NULL) {
            inside = atomic_fetch_add(a->in_cs, 1);
            sched_yield();
            atomic_fetch_sub(a->in_cs, 1);
        }
        int32_t avail = semh_available(a->s);
        /* Release before checking, so that a failure cannot leave the other thread stuck. */
        TCHECK_EQ(semh_release(a->s, a->n), 0);
        TCHECK(inside == 0, "both threads hold tokens at once");
        TCHECK(avail >= 0, "available() = %" PRId32 " is negative", avail);
    }
    return NULL;
}

/* Two threads loop acquire(n1) / acquire(n2) and release on sem(initial), where n1 + n2 >
 * initial: they never hold tokens together, and the count ends where it began. */
static void two_loopers(int32_t initial, int32_t n1, int32_t n2)
{
    void *s = sem_new(initial);
    CHECK(s != NULL, "init failed");
    atomic_int in_cs = 0;
    struct loop_arg a1 = {s, n1, 100, &in_cs}, a2 = {s, n2, 100, &in_cs};
    pthread_t t1, t2;
    spawn(&t1, acquire_release_loop, &a1);
    spawn(&t2, acquire_release_loop, &a2);
    join(t1);
    join(t2);
    int32_t left = semh_available(s);
    sem_free(s);
    CHECK(left == initial, "available() = %" PRId32 " at the end, expected %" PRId32, left,
          initial);
}

/* tst_QSemaphore::acquire(a): sem(1), two threads 100x acquire() / release(), one at a time. */
static void test_acquire_a(void) { two_loopers(1, 1, 1); }

/* tst_QSemaphore::acquire(b): sem(4), threads 100x acquire(2)/release(2) and (3)/(3). */
static void test_acquire_b(void) { two_loopers(4, 2, 3); }

/* tst_QSemaphore::acquire(c): one thread, release 1,1,10,10 then acquire 1,1,10,10. */
static void test_acquire_c(void)
{
    void *s = sem_new(0);
    CHECK(s != NULL, "init failed");
    const int32_t steps[] = {1, 1, 10, 10};
    int32_t want = 0;
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(semh_release(s, steps[i]), 0);
        want += steps[i];
        CHECK_EQ(semh_available(s), want);
    }
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(semh_acquire(s, steps[i]), 0);
        want -= steps[i];
        CHECK_EQ(semh_available(s), want);
    }
    CHECK_EQ(semh_try_acquire(s, 1, 0), 0);
    sem_free(s);
}

struct waiter_arg {
    void *s;
    int32_t n;
    bool release_after; /* multiAcquireRelease: release what was taken */
    atomic_int *started, *done;
};

static void *waiter_thread(void *p)
{
    struct waiter_arg *a = p;
    atomic_fetch_add(a->started, 1);
    TCHECK_EQ(semh_acquire(a->s, a->n), 0);
    if (a->release_after)
        TCHECK_EQ(semh_release(a->s, a->n), 0);
    atomic_fetch_add(a->done, 1);
    return NULL;
}

/* Starts k waiters for n tokens each; returns once they have all started (and likely block). */
static void start_waiters(pthread_t *t, struct waiter_arg *args, int k, void *s, int32_t n,
                          bool release_after, atomic_int *started, atomic_int *done)
{
    for (int i = 0; i < k; i++) {
        args[i] = (struct waiter_arg){s, n, release_after, started, done};
        spawn(&t[i], waiter_thread, &args[i]);
    }
    wait_for_at_least(started, k, 10 * INT64_C(1000000000));
    sleep_ns(10 * MS); /* give them time to actually go to sleep */
}

/* sem(0), 4 threads acquire() (and release() again if pass_on); main releases `release_n`
 * once: every thread must finish, leaving `left` tokens. */
static void four_waiters_then_release(bool pass_on, int32_t release_n, int32_t left)
{
    for (int round = 0; round < 5; round++) {
        void *s = sem_new(0);
        CHECK(s != NULL, "init failed");
        atomic_int started = 0, done = 0;
        pthread_t t[4];
        struct waiter_arg args[4];
        start_waiters(t, args, 4, s, 1, pass_on, &started, &done);
        if (!pass_on)
            CHECK_EQ(atomic_load(&done), 0);
        CHECK_EQ(semh_release(s, release_n), 0);
        for (int i = 0; i < 4; i++)
            join(t[i]);
        CHECK_EQ(atomic_load(&done), 4);
        CHECK_EQ(semh_available(s), left);
        sem_free(s);
    }
}

/* tst_QSemaphore::multiRelease: sem(0), 4 threads acquire(), main release(4). */
static void test_multi_release(void) { four_waiters_then_release(false, 4, 0); }

/* tst_QSemaphore::multiAcquireRelease: sem(0), 4 threads acquire()+release(), main release():
 * the single token must pass through all four. */
static void test_multi_acquire_release(void) { four_waiters_then_release(true, 1, 1); }

/* Many waiters, released one token at a time: each release must wake exactly one of them. */
static void test_many_waiters_one_at_a_time(void)
{
    enum { K = 8 };
    for (int round = 0; round < 3; round++) {
        void *s = sem_new(0);
        CHECK(s != NULL, "init failed");
        atomic_int started = 0, done = 0;
        pthread_t t[K];
        struct waiter_arg args[K];
        start_waiters(t, args, K, s, 1, false, &started, &done);
        CHECK_EQ(atomic_load(&done), 0);
        for (int i = 1; i <= K; i++) {
            CHECK_EQ(semh_release(s, 1), 0);
            CHECK(wait_for_at_least(&done, i, 5 * INT64_C(1000000000)),
                  "lost wake-up: after %d single releases only %d of %d waiters returned", i,
                  atomic_load(&done), K);
            CHECK(atomic_load(&done) == i, "%d waiters returned after %d tokens",
                  atomic_load(&done), i);
            CHECK_EQ(semh_available(s), 0);
        }
        for (int i = 0; i < K; i++)
            join(t[i]);
        sem_free(s);
    }
}

/* Waiters for 2 tokens each, released one token at a time. */
static void test_multi_waiters_one_at_a_time(void)
{
    enum { K = 4 };
    void *s = sem_new(0);
    CHECK(s != NULL, "init failed");
    atomic_int started = 0, done = 0;
    pthread_t t[K];
    struct waiter_arg args[K];
    start_waiters(t, args, K, s, 2, false, &started, &done);
    for (int i = 1; i <= K; i++) {
        CHECK_EQ(semh_release(s, 1), 0);
        /* One token: nobody can take it (each needs two), atomically. */
        CHECK_EQ(semh_available(s), 1);
        CHECK_EQ(semh_release(s, 1), 0);
        CHECK(wait_for_at_least(&done, i, 5 * INT64_C(1000000000)),
              "lost wake-up: after %d tokens only %d waiters for 2 returned", 2 * i,
              atomic_load(&done));
        CHECK(atomic_load(&done) == i, "%d waiters for 2 returned after %d tokens",
              atomic_load(&done), 2 * i);
        CHECK_EQ(semh_available(s), 0);
    }
    for (int i = 0; i < K; i++)
        join(t[i]);
    sem_free(s);
}

/* Mixed single- and multi-token waiters released by one release(n) (QTBUG-66875 shape:
 * waking only n sleepers strands a multi-token waiter). */
static void test_wake_mixed(void)
{
    static const int32_t shapes[][4] = {
        /* waiters' n ..., 0 terminates */
        {1, 2, 0, 0},
        {2, 1, 0, 0},
        {1, 1, 3, 0},
        {3, 1, 2, 1},
        {2, 2, 2, 0},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        void *s = sem_new(0);
        CHECK(s != NULL, "init failed");
        atomic_int started = 0, done = 0;
        pthread_t t[4];
        struct waiter_arg args[4];
        int count = 0;
        int32_t total = 0;
        for (; count < 4 && shapes[k][count] != 0; count++) {
            args[count] = (struct waiter_arg){s, shapes[k][count], false, &started, &done};
            total += shapes[k][count];
            spawn(&t[count], waiter_thread, &args[count]);
            /* Let each one block before the next arrives, so the order is as listed. */
            wait_for_at_least(&started, count + 1, 10 * INT64_C(1000000000));
            sleep_ns(5 * MS);
        }
        CHECK_EQ(semh_release(s, total), 0);
        CHECK(wait_for_at_least(&done, count, 5 * INT64_C(1000000000)),
              "shape %zu: release(%" PRId32 ") woke only %d of %d waiters", k, total,
              atomic_load(&done), count);
        for (int i = 0; i < count; i++)
            join(t[i]);
        CHECK_EQ(semh_available(s), 0);
        sem_free(s);
    }
}

/* tst_QSemaphore::tryAcquireWithTimeoutStarvation, scaled down: a big timed try must time out
 * while a small consumer keeps cycling one token, and the consumer must not starve. */
struct starve_arg {
    void *s;
    atomic_int started;
    int loops;
};

static void *starve_consumer(void *p)
{
    struct starve_arg *a = p;
    atomic_store(&a->started, 1);
    for (;;) {
        int r = semh_try_acquire(a->s, 1, 100 * MS);
        if (r != 1)
            break;
        a->loops++;
        TCHECK_EQ(semh_release(a->s, 1), 0);
    }
    return NULL;
}

static void test_timeout_starvation(void)
{
    void *s = sem_new(1);
    CHECK(s != NULL, "init failed");
    struct starve_arg a = {.s = s, .loops = 0};
    atomic_init(&a.started, 0);
    pthread_t t;
    spawn(&t, starve_consumer, &a);
    wait_for_at_least(&a.started, 1, 10 * INT64_C(1000000000));
    /* Like Qt, only the outcome is checked here, with a loose bound on the time it took: how
     * far a timed waiter may overshoot while the word keeps changing is the job of
     * timed_try_deadline_under_churn. */
    bool ok = timed_try_fails_within(s, 2, 200 * MS, 5000 * MS);
    /* Take the token away: the consumer times out and finishes. */
    int r = semh_acquire(s, 1);
    join(t);
    sem_free(s);
    CHECK(ok, "big timed try did not fail as expected");
    CHECK(r == 0, "acquire returned %d", r);
    CHECK(a.loops > 0, "the one-token consumer never got the token");
}

/* release(n) is one atomic step: an observer never sees a partial count. */
struct observer_arg {
    void *s;
    atomic_int stop;
    int32_t n;
    atomic_long observations;
    _Atomic int32_t bad;
};

static void *observer_thread(void *p)
{
    struct observer_arg *a = p;
    while (!atomic_load(&a->stop)) {
        int32_t v = semh_available(a->s);
        atomic_fetch_add_explicit(&a->observations, 1, memory_order_relaxed);
        if (v != 0 && v != a->n) {
            atomic_store(&a->bad, v);
            break;
        }
    }
    return NULL;
}

static void test_atomic_release_observed(void)
{
    void *s = sem_new(0);
    CHECK(s != NULL, "init failed");
    struct observer_arg a = {.s = s, .n = 5};
    atomic_init(&a.stop, 0);
    atomic_init(&a.observations, 0);
    atomic_init(&a.bad, 0);
    pthread_t t;
    spawn(&t, observer_thread, &a);
    /* Cycle until the observer has looked often enough (bounded in time). */
    const long want_obs = SCALE(200000, 20000, 50000);
    int64_t end = now_ns() + 100 * MS;
    int rc = 0;
    long rounds = 0;
    while (rc == 0 && atomic_load(&a.bad) == 0 &&
           (atomic_load(&a.observations) < want_obs || rounds < 10000) &&
           (now_ns() < end || rounds < 1000)) {
        for (int k = 0; k < 100 && rc == 0; k++, rounds++) {
            rc = semh_release(s, 5);
            if (rc == 0)
                rc = semh_acquire(s, 5);
        }
    }
    atomic_store(&a.stop, 1);
    join(t);
    sem_free(s);
    CHECK(rc == 0, "release(5)/acquire(5) returned %d", rc);
    int32_t bad = atomic_load(&a.bad);
    CHECK(bad == 0, "an observer saw available() = %" PRId32 " between 0 and 5 tokens", bad);
}

/* ==== stress ============================================================================ */

/* Producer/consumer over a ring of 64 slots, with a free-slot and a used-slot semaphore. */
enum { RING = 64 };
struct ring {
    void *free_slots, *used_slots;
    long items;
    long data[RING]; /* plain memory: the semaphores alone must order it (TSan checks) */
    long consumed;
};

static void *producer(void *p)
{
    struct ring *r = p;
    for (long i = 0; i < r->items; i++) {
        TCHECK_EQ(semh_acquire(r->free_slots, 1), 0);
        r->data[i % RING] = i * 7 + 1;
        TCHECK_EQ(semh_release(r->used_slots, 1), 0);
    }
    return NULL;
}

static void *consumer(void *p)
{
    struct ring *r = p;
    for (long i = 0; i < r->items; i++) {
        TCHECK_EQ(semh_acquire(r->used_slots, 1), 0);
        long v = r->data[i % RING];
        r->data[i % RING] = -1;
        TCHECK(v == i * 7 + 1, "item %ld: read %ld from the ring, expected %ld", i, v, i * 7 + 1);
        TCHECK_EQ(semh_release(r->free_slots, 1), 0);
        r->consumed++;
    }
    return NULL;
}

static void test_producer_consumer(void)
{
    struct ring *r = calloc(1, sizeof *r);
    CHECK(r != NULL, "out of memory");
    r->free_slots = sem_new(RING);
    r->used_slots = sem_new(0);
    r->items = SCALE(200000, 200000, 200000);
    if (r->free_slots == NULL || r->used_slots == NULL) {
        sem_free(r->free_slots);
        sem_free(r->used_slots);
        free(r);
        return;
    }
    pthread_t tp, tc;
    spawn(&tp, producer, r);
    spawn(&tc, consumer, r);
    join(tp);
    join(tc);
    int32_t f = semh_available(r->free_slots), u = semh_available(r->used_slots);
    long consumed = r->consumed, items = r->items;
    sem_free(r->free_slots);
    sem_free(r->used_slots);
    free(r);
    if (failing())
        return;
    CHECK(consumed == items, "consumed %ld of %ld items", consumed, items);
    CHECK(f == RING && u == 0, "at the end free=%" PRId32 " used=%" PRId32 " (expected %d, 0)",
          f, u, RING);
}

/* Destroy after the last acquire: the waiter acquires, then at once destroys and frees the
 * state while the releasing thread may still be inside semh_release (ASan/TSan check that
 * release touches nothing after handing the token over). */
struct handoff {
    _Atomic(void *) slot;
    atomic_int stop;
    long releases;
    int rc;
};

static void *handoff_releaser(void *p)
{
    struct handoff *h = p;
    uint64_t rs = g_seed ^ 0xd35;
    for (;;) {
        void *s = atomic_exchange_explicit(&h->slot, NULL, memory_order_acquire);
        if (s == NULL) {
            if (atomic_load(&h->stop))
                break;
            sched_yield();
            continue;
        }
        /* Sometimes let the waiter go to sleep first, sometimes race it. */
        if (rnd_next(&rs) % 8 == 0)
            sleep_ns(50 * US);
        int r = semh_release(s, 1);
        if (r != 0)
            h->rc = r;
        h->releases++;
    }
    return NULL;
}

static void test_destroy_after_last_acquire(void)
{
    struct handoff h = {.releases = 0, .rc = 0};
    atomic_init(&h.slot, NULL);
    atomic_init(&h.stop, 0);
    pthread_t t;
    spawn(&t, handoff_releaser, &h);
    const int rounds = SCALE(20000, 10000, 20000);
    int bad = 0, i;
    for (i = 0; i < rounds && bad == 0; i++) {
        void *s = sem_new(0);
        if (s == NULL)
            break;
        atomic_store_explicit(&h.slot, s, memory_order_release);
        bad = semh_acquire(s, 1);
        if (bad == 0 && semh_available(s) != 0)
            bad = -1000;
        sem_free(s); /* at once: the releaser may still be returning from release */
    }
    atomic_store(&h.stop, 1);
    join(t);
    CHECK(bad == 0, "round %d: acquire returned %d (-1000: available() not 0 after it)", i, bad);
    CHECK(h.rc == 0, "release returned %d", h.rc);
    CHECK(h.releases == rounds, "%ld releases for %d rounds", h.releases, rounds);
}

/* Mixed random stress on sem(1): acquire / try / timed try, mutual exclusion in between. */
struct stress_shared {
    void *s;
    atomic_int in_cs;
    long counter; /* plain: protected by the semaphore */
    int ops;
};

struct stress_thread {
    struct stress_shared *sh;
    uint64_t seed;
    long entries;
};

static void *mutex_stress_thread(void *p)
{
    struct stress_thread *me = p;
    struct stress_shared *sh = me->sh;
    bool timeouts = has(SEMH_CAP_TIMEOUTS);
    for (int i = 0; i < sh->ops && !failing(); i++) {
        uint64_t x = rnd_next(&me->seed);
        int r;
        switch (x % (timeouts ? 4 : 3)) {
        case 0:
            r = semh_acquire(sh->s, 1);
            TCHECK(r == 0, "acquire(1) returned %d", r);
            r = 1;
            break;
        case 1:
        case 2:
            r = semh_try_acquire(sh->s, 1, 0);
            break;
        default:
            r = semh_try_acquire(sh->s, 1, (int64_t)(1 + (x >> 8) % 50) * US);
            break;
        }
        TCHECK(r == 0 || r == 1, "try_acquire returned %d", r);
        if (r == 0) {
            int32_t a = semh_available(sh->s);
            TCHECK(a == 0 || a == 1, "available() = %" PRId32 " on sem(1)", a);
            continue;
        }
        /* The plain counter is touched BEFORE the in_cs check, whose RMWs are relaxed: the
         * only happens-before edge between two holders is the semaphore's own acquire/release,
         * which is what TSan is to check. */
        sh->counter++;
        me->entries++;
        int inside = atomic_fetch_add_explicit(&sh->in_cs, 1, memory_order_relaxed);
        int32_t a = semh_available(sh->s);
        atomic_fetch_sub_explicit(&sh->in_cs, 1, memory_order_relaxed);
        /* Release before checking, so that a failure cannot leave the others stuck. */
        TCHECK_EQ(semh_release(sh->s, 1), 0);
        TCHECK(inside == 0, "mutual exclusion broken: %d other holders of sem(1)'s token",
               inside);
        TCHECK(a == 0, "available() = %" PRId32 " while holding sem(1)'s only token", a);
    }
    return NULL;
}

static void test_stress_mutex(void)
{
    enum { T = 4 };
    struct stress_shared sh = {.s = sem_new(1), .counter = 0, .ops = SCALE(60000, 40000, 60000)};
    CHECK(sh.s != NULL, "init failed");
    atomic_init(&sh.in_cs, 0);
    struct stress_thread th[T];
    pthread_t t[T];
    for (int i = 0; i < T; i++) {
        th[i] = (struct stress_thread){&sh, g_seed * 31 + (uint64_t)i * 0x9e3779b97f4a7c15ULL + 1,
                                       0};
        spawn(&t[i], mutex_stress_thread, &th[i]);
    }
    long entries = 0;
    for (int i = 0; i < T; i++) {
        join(t[i]);
        entries += th[i].entries;
    }
    int32_t left = semh_available(sh.s);
    sem_free(sh.s);
    if (failing())
        return;
    CHECK(sh.counter == entries, "shared counter %ld, but %ld critical sections (lost updates)",
          sh.counter, entries);
    CHECK(entries > 0, "no thread ever got the token");
    CHECK(left == 1, "available() = %" PRId32 " at the end, expected 1", left);
}

/* Mixed random stress on sem(K) with n-token operations: tokens are conserved. */
enum { CONS_K = 8, CONS_MAX_HELD = 6 };

struct cons_thread {
    void *s;
    int ops;
    uint64_t seed;
    int32_t held;
    long acquired, released;
};

static void *conservation_thread(void *p)
{
    struct cons_thread *me = p;
    bool multi = has(SEMH_CAP_MULTI_ACQUIRE), timeouts = has(SEMH_CAP_TIMEOUTS);
    for (int i = 0; i < me->ops && !failing(); i++) {
        uint64_t x = rnd_next(&me->seed);
        int32_t n = multi ? (int32_t)(1 + (x >> 4) % 3) : 1;
        int op = (int)(x % 5);
        int r = 0;
        if (op == 4 || me->held + n > CONS_MAX_HELD) {
            if (me->held == 0)
                continue;
            int32_t k = 1 + (int32_t)((x >> 8) % (uint64_t)me->held);
            me->held -= k;
            me->released += k;
            GCHECK_EQ(semh_release(me->s, k), 0);
            continue;
        }
        if (op == 0 && me->held == 0) {
            /* Blocking only while holding nothing: with K >= 3 someone can always proceed. */
            GCHECK_EQ(semh_acquire(me->s, n), 0);
            r = 1;
        } else if (op == 1 && timeouts) {
            r = semh_try_acquire(me->s, n, (int64_t)(1 + (x >> 12) % 50) * US);
        } else {
            r = semh_try_acquire(me->s, n, 0);
        }
        GCHECK(r == 0 || r == 1, "try_acquire(%" PRId32 ") returned %d", n, r);
        if (r) {
            me->held += n;
            me->acquired += n;
        }
        int32_t a = semh_available(me->s);
        GCHECK(a >= 0 && a <= CONS_K - me->held,
               "available() = %" PRId32 " while this thread holds %" PRId32 " of %d tokens", a,
               me->held, CONS_K);
    }
out:
    /* Give back what is held (also after a failure, so the other threads can finish). */
    if (me->held > 0) {
        int r = semh_release(me->s, me->held);
        if (r != 0)
            failf(__LINE__, "final release(%" PRId32 ") returned %d", me->held, r);
        me->released += me->held;
        me->held = 0;
    }
    return NULL;
}

static void test_stress_conservation(void)
{
    enum { T = 4 };
    void *s = sem_new(CONS_K);
    CHECK(s != NULL, "init failed");
    struct cons_thread th[T];
    pthread_t t[T];
    for (int i = 0; i < T; i++) {
        th[i] = (struct cons_thread){s, SCALE(60000, 40000, 60000),
                                     g_seed * 17 + (uint64_t)i * 0x2545f4914f6cdd1dULL + 3, 0, 0,
                                     0};
        spawn(&t[i], conservation_thread, &th[i]);
    }
    long acquired = 0, released = 0;
    for (int i = 0; i < T; i++) {
        join(t[i]);
        acquired += th[i].acquired;
        released += th[i].released;
    }
    int32_t left = semh_available(s);
    sem_free(s);
    if (failing())
        return;
    CHECK(acquired == released, "test bookkeeping: acquired %ld, released %ld", acquired,
          released);
    CHECK(acquired > 0, "no tokens were ever acquired");
    CHECK(left == CONS_K,
          "conservation: available() = %" PRId32 " at the end, expected %d (initial %d + "
          "released %ld - acquired %ld)",
          left, CONS_K, CONS_K, released, acquired);
}

/* ==== contract edge cases ================================================================ */

/*
 * A release that brings the count to exactly INT32_MAX is legal (EOVERFLOW is for going PAST
 * it), also while a waiter is registered.  A core that mirrors tokens plus waiters into a
 * 31-bit high half and refuses any release that would overflow THAT (as futex64.c once did)
 * refuses release(INT32_MAX) on sem(0) with one waiter for 1 token, and the waiter is never
 * served.
 */
static void test_release_to_max_with_waiter(void)
{
    void *s = sem_new(0);
    CHECK(s != NULL, "init failed");
    struct race_arg a = {s, 1, 5000 * MS, -99};
    pthread_t t;
    spawn(&t, race_try_thread, &a);
    sleep_ns(50 * MS); /* let it register and sleep */
    int r = semh_release(s, INT32_MAX);
    if (r != 0)
        semh_release(s, 1); /* unblock the waiter anyway */
    join(t);
    int32_t left = semh_available(s);
    sem_free(s);
    CHECK(r == 0,
          "sem(0) with a waiter for 1 token: release(INT32_MAX) returned %d (count would be "
          "INT32_MAX, which is legal)",
          r);
    CHECK(a.result == 1, "the waiter's try_acquire(1, 5 s) returned %d", a.result);
    CHECK_EQ(left, INT32_MAX - 1);
}

/*
 * A timed try must end at its deadline even while the semaphore's word keeps changing.  The
 * futex value check comes before the timeout check in the kernel, so a waiter that only stops
 * on -ETIMEDOUT -- and goes back to futex_wait after every -EAGAIN or wake-up without looking
 * at the clock -- overshoots its deadline for as long as another thread keeps acquiring and
 * releasing (both futex cores once did: try_acquire(2, 50 ms) took 60-300 ms).  Tolerance:
 * the peer suite's 50 ms + T/20 (DESIGN.md, "Timeouts"), plus slack for sanitizers.
 */
struct churn_arg {
    void *s;
    atomic_int stop;
    long cycles;
};

static void *churn_thread(void *p)
{
    struct churn_arg *a = p;
    while (!atomic_load_explicit(&a->stop, memory_order_relaxed)) {
        TCHECK_EQ(semh_acquire(a->s, 1), 0);
        TCHECK_EQ(semh_release(a->s, 1), 0);
        a->cycles++;
    }
    return NULL;
}

static void test_timed_try_deadline_under_churn(void)
{
    void *s = sem_new(1);
    CHECK(s != NULL, "init failed");
    struct churn_arg a = {.s = s, .cycles = 0};
    atomic_init(&a.stop, 0);
    pthread_t t;
    spawn(&t, churn_thread, &a);
    const int64_t timeout = 50 * MS;
    const int64_t tolerance = 50 * MS + timeout / 20 + (SANITIZED ? 200 * MS : 0);
    bool ok = true;
    for (int i = 0; i < 5 && ok; i++)
        ok = timed_try_fails_within(s, 2, timeout, tolerance);
    atomic_store(&a.stop, 1);
    join(t);
    int32_t left = semh_available(s);
    sem_free(s);
    CHECK(ok, "timed try overshot");
    CHECK(a.cycles > 0, "the churning thread made no progress");
    CHECK(left == 1, "available() = %" PRId32 " at the end, expected 1", left);
}

/* ==== driver ============================================================================ */

struct test_case {
    const char *name;
    void (*fn)(void);
    uint32_t needs;
};

static const struct test_case tests[] = {
    {"init_available", test_init_available, 0},
    {"init_negative", test_init_negative, 0},
    {"negative_n", test_negative_n, 0},
    {"zero_n", test_zero_n, 0},
    {"overflow", test_overflow, 0},
    {"try_nowait", test_try_nowait, 0},
    {"timed_try_fails", test_timed_try_fails, SEMH_CAP_TIMEOUTS},
    {"timed_try_succeeds", test_timed_try_succeeds, SEMH_CAP_TIMEOUTS},
    {"timeout_race", test_timeout_race, SEMH_CAP_TIMEOUTS},
    {"qt_acquire_a", test_acquire_a, 0},
    {"qt_acquire_b", test_acquire_b, SEMH_CAP_MULTI_ACQUIRE},
    {"qt_acquire_c", test_acquire_c, SEMH_CAP_MULTI_ACQUIRE},
    {"qt_multi_release", test_multi_release, 0},
    {"qt_multi_acquire_release", test_multi_acquire_release, 0},
    {"qt_timeout_starvation", test_timeout_starvation,
     SEMH_CAP_MULTI_ACQUIRE | SEMH_CAP_TIMEOUTS},
    {"many_waiters_one_at_a_time", test_many_waiters_one_at_a_time, 0},
    {"multi_waiters_one_at_a_time", test_multi_waiters_one_at_a_time, SEMH_CAP_MULTI_ACQUIRE},
    {"wake_mixed", test_wake_mixed, SEMH_CAP_MULTI_ACQUIRE},
    {"atomic_release_observed", test_atomic_release_observed,
     SEMH_CAP_MULTI_ACQUIRE | SEMH_CAP_ATOMIC_RELEASE},
    {"producer_consumer", test_producer_consumer, 0},
    {"destroy_after_last_acquire", test_destroy_after_last_acquire, 0},
    {"stress_mutex", test_stress_mutex, 0},
    {"stress_conservation", test_stress_conservation, 0},
    {"release_to_max_with_waiter", test_release_to_max_with_waiter,
     SEMH_CAP_ATOMIC_RELEASE | SEMH_CAP_TIMEOUTS},
    {"timed_try_deadline_under_churn", test_timed_try_deadline_under_churn,
     SEMH_CAP_MULTI_ACQUIRE | SEMH_CAP_TIMEOUTS},
};

static const char *cap_name(uint32_t cap)
{
    switch (cap) {
    case SEMH_CAP_MULTI_ACQUIRE: return "SEMH_CAP_MULTI_ACQUIRE";
    case SEMH_CAP_ATOMIC_RELEASE: return "SEMH_CAP_ATOMIC_RELEASE";
    case SEMH_CAP_TIMEOUTS: return "SEMH_CAP_TIMEOUTS";
    default: return "SEMH_CAP_MODEL";
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    bool verbose = false;
    int first_name = 1;
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        verbose = true;
        first_name = 2;
    }
    const char *e = getenv("SEMH_TEST_SEED");
    if (e && *e)
        g_seed = strtoull(e, NULL, 0) | 1;
    e = getenv("SEMH_TEST_WATCHDOG_S");
    if (e && *e && atoll(e) > 0)
        wd_limit_ns = atoll(e) * INT64_C(1000000000);

    printf("# %s (capabilities 0x%02x, state %zu bytes, seed 0x%llx)\n", semh_info.description,
           (unsigned)semh_info.capabilities, semh_info.state_size, (unsigned long long)g_seed);

    for (int a = first_name; a < argc; a++) {
        bool known = false;
        for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
            known |= strcmp(argv[a], tests[i].name) == 0;
        if (!known) {
            fprintf(stderr, "usage: %s [-v] [TEST...]; unknown test '%s'; tests:", argv[0],
                    argv[a]);
            for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
                fprintf(stderr, " %s", tests[i].name);
            fprintf(stderr, "\n");
            return 2;
        }
    }

    pthread_t wd;
    spawn(&wd, watchdog, NULL);
    pthread_detach(wd);

    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        const struct test_case *tc = &tests[i];
        if (argc > first_name) {
            bool wanted = false;
            for (int a = first_name; a < argc; a++)
                wanted |= strcmp(argv[a], tc->name) == 0;
            if (!wanted)
                continue;
        }
        uint32_t missing = tc->needs & ~semh_info.capabilities;
        if (missing) {
            printf("skip %s: implementation does not declare", tc->name);
            for (uint32_t bit = 1; bit <= SEMH_CAP_ALL; bit <<= 1)
                if (missing & bit)
                    printf(" %s", cap_name(bit));
            printf("\n");
            atomic_fetch_add(&n_skipped, 1);
            continue;
        }
        atomic_store(&test_failed, 0);
        atomic_store(&wd_test, tc->name);
        int64_t t0 = now_ns();
        atomic_store(&wd_deadline, t0 + wd_limit_ns);
        tc->fn();
        atomic_store(&wd_deadline, 0);
        int64_t took = now_ns() - t0;
        if (atomic_load(&test_failed)) {
            pthread_mutex_lock(&fail_mu);
            printf("FAIL %s: %s\n", tc->name, fail_msg);
            pthread_mutex_unlock(&fail_mu);
            atomic_fetch_add(&n_failed, 1);
        } else {
            if (verbose)
                printf("ok %s (%.1f ms)\n", tc->name, (double)took / 1e6);
            else
                printf("ok %s\n", tc->name);
            atomic_fetch_add(&n_passed, 1);
        }
    }
    print_summary();
    return atomic_load(&n_failed) == 0 ? 0 : 1;
}
