/*
 * semharness.h -- the one header a C semaphore implementation is written against.
 *
 * An implementation file includes this header first and uses ONLY what it offers for shared
 * memory, blocking and time: atomics with explicit memory orders, futex wait/wake, a monotonic
 * clock, and a mutex + condition variable.  That is what lets the same source be compiled
 * twice: against the native backend below (C11 atomics, the futex syscall, CLOCK_MONOTONIC),
 * used for stress runs and benchmarks, and against the model backend (selected with
 * -DSEMH_BACKEND_MODEL), where every call is a step the model checker's scheduler controls.
 *
 * What an implementation file must define (see README, "Plugging in a C semaphore"):
 *
 *   SEMH_IMPLEMENTATION(state_type, "one-line description", capability flags);
 *   int     semh_init(void *self, int32_t initial);          0 or -EINVAL / -EOVERFLOW
 *   void    semh_destroy(void *self);
 *   int     semh_acquire(void *self, int32_t n);             0, -EINVAL, or -EINTR (interrupted)
 *   int     semh_try_acquire(void *self, int32_t n, int64_t timeout_ns);
 *                                     1 acquired, 0 not; timeout < 0 forever, 0 no wait
 *   int     semh_release(void *self, int32_t n);             0, -EINVAL, -EOVERFLOW
 *   int32_t semh_available(void *self);
 *
 * `self` points to zeroed storage of sizeof(state_type) bytes, aligned to 64.  Errors are
 * negative errno values and must leave the state unchanged.
 *
 * Waits: semh_futex_wait() returns 0 (woken, possibly spuriously), -EAGAIN (the word did not
 * hold the expected value), -EINTR, or -ETIMEDOUT.  -ETIMEDOUT also comes back, with no deadline
 * set, when the caller is being interrupted (Ctrl-C in a Python caller): handle it exactly like a
 * timeout -- undo any registration and return "not acquired" (acquire returns -EINTR).
 */
#ifndef SEMHARNESS_H
#define SEMHARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the implementation contract ------------------------------------------------------ */

/* Capability flags an implementation declares; the harness skips scenarios needing others. */
#define SEMH_CAP_MULTI_ACQUIRE 0x01u  /* acquire / try_acquire with n > 1, atomically */
#define SEMH_CAP_ATOMIC_RELEASE 0x02u /* release(n > 1) is one atomic step */
#define SEMH_CAP_TIMEOUTS 0x04u       /* try_acquire with a timeout > 0 */
#define SEMH_CAP_MODEL 0x08u          /* uses only this header: runs under the model backend */
#define SEMH_CAP_ALL 0x0fu

struct semh_info {
    size_t state_size;
    const char *description;
    uint32_t capabilities;
};

#define SEMH_IMPLEMENTATION(state_type, description, capabilities) \
    const struct semh_info semh_info = {sizeof(state_type), (description), (capabilities)}

extern const struct semh_info semh_info;
int semh_init(void *self, int32_t initial);
void semh_destroy(void *self);
int semh_acquire(void *self, int32_t n);
int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns);
int semh_release(void *self, int32_t n);
int32_t semh_available(void *self);

/* ---- shared vocabulary of both backends ------------------------------------------------ */

typedef enum {
    SEMH_RELAXED,
    SEMH_ACQUIRE,
    SEMH_RELEASE,
    SEMH_ACQ_REL,
    SEMH_SEQ_CST
} semh_order;

#define SEMH_NO_DEADLINE ((int64_t)-1)
#define SEMH_WAKE_ALL INT32_MAX
#define SEMH_NS_PER_S INT64_C(1000000000)

/* Which 32-bit half of a 64-bit word sits at the lower address. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SEMH__LOW_HALF_INDEX 1
#else
#define SEMH__LOW_HALF_INDEX 0
#endif

#if defined(SEMH_BACKEND_MODEL)
#include "semharness_model.h"
#else

/* ==== native backend ==================================================================== */

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef struct { _Atomic uint32_t v; } semh_atomic32;
typedef struct { _Atomic uint64_t v; } semh_atomic64;

/* A 32-bit word futex calls wait on: a whole semh_atomic32 or one half of a semh_atomic64. */
typedef struct { uint32_t *addr; } semh_futex;

static inline memory_order semh__mo(semh_order o)
{
    switch (o) {
    case SEMH_RELAXED: return memory_order_relaxed;
    case SEMH_ACQUIRE: return memory_order_acquire;
    case SEMH_RELEASE: return memory_order_release;
    case SEMH_ACQ_REL: return memory_order_acq_rel;
    default: return memory_order_seq_cst;
    }
}

/* A failed CAS may not use a release order: map it to what C11 allows. */
static inline memory_order semh__fail_mo(semh_order o)
{
    switch (o) {
    case SEMH_RELEASE: return memory_order_relaxed;
    case SEMH_ACQ_REL: return memory_order_acquire;
    default: return semh__mo(o);
    }
}

#define SEMH__DEFINE_ATOMICS(bits, T)                                                          \
    static inline void semh_init##bits(semh_atomic##bits *a, T v)                              \
    {                                                                                          \
        atomic_init(&a->v, v);                                                                 \
    }                                                                                          \
    static inline T semh_load##bits(semh_atomic##bits *a, semh_order o)                        \
    {                                                                                          \
        return atomic_load_explicit(&a->v, semh__mo(o));                                       \
    }                                                                                          \
    static inline void semh_store##bits(semh_atomic##bits *a, T v, semh_order o)               \
    {                                                                                          \
        atomic_store_explicit(&a->v, v, semh__mo(o));                                          \
    }                                                                                          \
    static inline T semh_exchange##bits(semh_atomic##bits *a, T v, semh_order o)               \
    {                                                                                          \
        return atomic_exchange_explicit(&a->v, v, semh__mo(o));                                \
    }                                                                                          \
    /* Strong CAS; on failure *expected receives the current value. */                        \
    static inline bool semh_cas##bits(semh_atomic##bits *a, T *expected, T desired,            \
                                      semh_order o)                                            \
    {                                                                                          \
        return atomic_compare_exchange_strong_explicit(&a->v, expected, desired, semh__mo(o),  \
                                                       semh__fail_mo(o));                      \
    }                                                                                          \
    static inline T semh_fetch_add##bits(semh_atomic##bits *a, T v, semh_order o)              \
    {                                                                                          \
        return atomic_fetch_add_explicit(&a->v, v, semh__mo(o));                              \
    }                                                                                          \
    static inline T semh_fetch_sub##bits(semh_atomic##bits *a, T v, semh_order o)              \
    {                                                                                          \
        return atomic_fetch_sub_explicit(&a->v, v, semh__mo(o));                               \
    }                                                                                          \
    static inline T semh_fetch_or##bits(semh_atomic##bits *a, T v, semh_order o)               \
    {                                                                                          \
        return atomic_fetch_or_explicit(&a->v, v, semh__mo(o));                                \
    }                                                                                          \
    static inline T semh_fetch_and##bits(semh_atomic##bits *a, T v, semh_order o)              \
    {                                                                                          \
        return atomic_fetch_and_explicit(&a->v, v, semh__mo(o));                               \
    }

SEMH__DEFINE_ATOMICS(32, uint32_t)
SEMH__DEFINE_ATOMICS(64, uint64_t)

static inline semh_futex semh_futex32(semh_atomic32 *a)
{
    return (semh_futex){(uint32_t *)(void *)&a->v};
}

/* The half holding bits 0-31 of the 64-bit value, wherever the byte order puts it. */
static inline semh_futex semh_futex_low(semh_atomic64 *a)
{
    return (semh_futex){(uint32_t *)(void *)&a->v + SEMH__LOW_HALF_INDEX};
}

/* The half holding bits 32-63. */
static inline semh_futex semh_futex_high(semh_atomic64 *a)
{
    return (semh_futex){(uint32_t *)(void *)&a->v + (1 - SEMH__LOW_HALF_INDEX)};
}

static inline int64_t semh_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * SEMH_NS_PER_S + ts.tv_nsec;
}

/* Absolute deadline for a relative timeout: < 0 means none, and so does one that overflows. */
static inline int64_t semh_deadline_after(int64_t timeout_ns)
{
    if (timeout_ns < 0)
        return SEMH_NO_DEADLINE;
    int64_t now = semh_now_ns();
    return timeout_ns > INT64_MAX - now ? SEMH_NO_DEADLINE : now + timeout_ns;
}

static inline struct timespec semh__timespec(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / SEMH_NS_PER_S), (long)(ns % SEMH_NS_PER_S)};
    return ts;
}

/*
 * Interruptible waits.  A frontend that must stay responsive while blocked (the Python
 * extension) compiles with -DSEMH_INTERRUPT_HOOK=fn, where `int fn(void)` returns non-zero once
 * the caller must give up.  Waits are then cut into slices of SEMH_INTERRUPT_SLICE_NS; between
 * slices the hook runs and the wait resumes with the same expected value and deadline, so the
 * waiter keeps its registration -- its place -- and its timeout.
 */
#define SEMH_INTERRUPT_SLICE_NS INT64_C(20000000)
#ifdef SEMH_INTERRUPT_HOOK
int SEMH_INTERRUPT_HOOK(void);
static inline int semh_poll_interrupt(void) { return SEMH_INTERRUPT_HOOK(); }
#else
static inline int semh_poll_interrupt(void) { return 0; }
#endif

/*
 * Runs one blocking call in interruptible slices: `wait_until(arg, d)` blocks until absolute
 * deadline d (< 0: none) and returns 0 or -errno.  Returns what the call returned, or -ETIMEDOUT
 * when the caller is being interrupted or the real deadline passed.  Futex and condition waits
 * use it already; an implementation that blocks in a foreign primitive (sem_t) uses it too.
 */
static inline int semh_block_sliced(int (*wait_until)(void *arg, int64_t deadline), void *arg,
                               int64_t deadline_ns)
{
#ifdef SEMH_INTERRUPT_HOOK
    for (;;) {
        if (semh_poll_interrupt())
            return -ETIMEDOUT;
        int64_t slice_end = semh_now_ns() + SEMH_INTERRUPT_SLICE_NS;
        bool final = deadline_ns >= 0 && deadline_ns <= slice_end;
        int r = wait_until(arg, final ? deadline_ns : slice_end);
        if (r != -ETIMEDOUT || final)
            return r;
    }
#else
    return wait_until(arg, deadline_ns);
#endif
}

struct semh__futex_wait_args {
    uint32_t *addr;
    uint32_t expected;
};

static inline int semh__futex_wait_until(void *argp, int64_t deadline_ns)
{
    struct semh__futex_wait_args *arg = argp;
    struct timespec ts, *tsp = NULL;
    if (deadline_ns >= 0) {
        ts = semh__timespec(deadline_ns);
        tsp = &ts;
    }
    /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline (no FUTEX_CLOCK_REALTIME). */
    long r = syscall(SYS_futex, arg->addr, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, arg->expected,
                     tsp, NULL, FUTEX_BITSET_MATCH_ANY);
    return r == 0 ? 0 : -errno;
}

/* Sleeps while *f == expected, until woken or the absolute deadline (SEMH_NO_DEADLINE: none). */
static inline int semh_futex_wait(semh_futex f, uint32_t expected, int64_t deadline_ns)
{
    struct semh__futex_wait_args arg = {f.addr, expected};
    return semh_block_sliced(semh__futex_wait_until, &arg, deadline_ns);
}

/* Wakes up to `count` waiters on f (SEMH_WAKE_ALL for all); returns how many woke. */
static inline int semh_futex_wake(semh_futex f, int32_t count)
{
    long r = syscall(SYS_futex, f.addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count, NULL, NULL, 0);
    return r < 0 ? -errno : (int)r;
}

/* ---- mutex and condition variable (CLOCK_MONOTONIC deadlines) ---- */

typedef struct { pthread_mutex_t m; } semh_mutex;
typedef struct { pthread_cond_t c; } semh_cond;

static inline int semh_mutex_init(semh_mutex *m) { return -pthread_mutex_init(&m->m, NULL); }
static inline void semh_mutex_destroy(semh_mutex *m) { pthread_mutex_destroy(&m->m); }
static inline void semh_mutex_lock(semh_mutex *m) { pthread_mutex_lock(&m->m); }
static inline void semh_mutex_unlock(semh_mutex *m) { pthread_mutex_unlock(&m->m); }

static inline int semh_cond_init(semh_cond *c)
{
    pthread_condattr_t attr;
    int r = pthread_condattr_init(&attr);
    if (r == 0)
        r = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (r == 0)
        r = pthread_cond_init(&c->c, &attr);
    pthread_condattr_destroy(&attr);
    return -r;
}
static inline void semh_cond_destroy(semh_cond *c) { pthread_cond_destroy(&c->c); }
static inline void semh_cond_signal(semh_cond *c) { pthread_cond_signal(&c->c); }
static inline void semh_cond_broadcast(semh_cond *c) { pthread_cond_broadcast(&c->c); }

struct semh__cond_wait_args {
    semh_cond *c;
    semh_mutex *m;
};

static inline int semh__cond_wait_until(void *argp, int64_t deadline_ns)
{
    struct semh__cond_wait_args *arg = argp;
    if (deadline_ns < 0)
        return -pthread_cond_wait(&arg->c->c, &arg->m->m);
    struct timespec ts = semh__timespec(deadline_ns);
    return -pthread_cond_timedwait(&arg->c->c, &arg->m->m, &ts);
}

/* Waits with m held until signalled (or spuriously), or the deadline: 0 or -ETIMEDOUT. */
static inline int semh_cond_wait(semh_cond *c, semh_mutex *m, int64_t deadline_ns)
{
    struct semh__cond_wait_args arg = {c, m};
    return semh_block_sliced(semh__cond_wait_until, &arg, deadline_ns);
}

#endif /* native backend */
#endif /* SEMHARNESS_H */
