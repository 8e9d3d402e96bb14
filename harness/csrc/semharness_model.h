/*
 * semharness_model.h -- the model backend of semharness.h, selected with -DSEMH_BACKEND_MODEL.
 *
 * Same API as the native backend, but every call that touches shared memory, blocks or reads
 * the clock is a *visible step* of the model checker: the inline functions below call into the
 * scheduler runtime (harness/csrc/model_runtime.c, linked into the same extension module),
 * which first yields to the deterministic scheduler and then performs the operation.  The
 * scheduler runs one simulated thread at a time, so values live in plain memory and every
 * operation is sequentially consistent; memory orders are passed along for the trace only.
 *
 * Futex waiters, mutex owners and condition waiters are tracked by the scheduler; time is
 * virtual (see the executor contract).  Calls made outside a simulated thread (semh_init runs
 * on the executor's own stack) are performed directly, without a step.
 *
 * Not meant to be included directly: semharness.h includes it when SEMH_BACKEND_MODEL is set.
 */
#ifndef SEMHARNESS_MODEL_H
#define SEMHARNESS_MODEL_H

#ifndef SEMHARNESS_H
#error "include semharness.h (with -DSEMH_BACKEND_MODEL), not semharness_model.h"
#endif

#include <limits.h>
#include <time.h> /* struct timespec for implementations that convert deadlines */

/* Runtime entry points: hidden, so calls from the implementation are direct within the module. */
#if defined(__GNUC__)
#define SEMH__MODEL_API __attribute__((visibility("hidden")))
#else
#define SEMH__MODEL_API
#endif

/* Plain words: the scheduler serialises every access. */
typedef struct { uint32_t v; } semh_atomic32;
typedef struct { uint64_t v; } semh_atomic64;

/* A 32-bit futex word; `half` says how the trace names it (0 whole word, 1 low, 2 high half). */
typedef struct {
    uint32_t *addr;
    int half;
} semh_futex;

/* Owner is the simulated thread id + 1 (0: free); waiters are tracked by the scheduler. */
typedef struct {
    int32_t owner;
    uint32_t magic;
} semh_mutex;
typedef struct {
    uint32_t magic;
} semh_cond;

/* Read-modify-write operation codes of the runtime's semh__model_rmw32/64. */
enum {
    SEMH__OP_LOAD,
    SEMH__OP_STORE,
    SEMH__OP_EXCHANGE,
    SEMH__OP_FETCH_ADD,
    SEMH__OP_FETCH_SUB,
    SEMH__OP_FETCH_OR,
    SEMH__OP_FETCH_AND
};

SEMH__MODEL_API uint32_t semh__model_rmw32(uint32_t *p, int op, uint32_t v, semh_order o);
SEMH__MODEL_API uint64_t semh__model_rmw64(uint64_t *p, int op, uint64_t v, semh_order o);
SEMH__MODEL_API bool semh__model_cas32(uint32_t *p, uint32_t *expected, uint32_t desired,
                                       semh_order o);
SEMH__MODEL_API bool semh__model_cas64(uint64_t *p, uint64_t *expected, uint64_t desired,
                                       semh_order o);
SEMH__MODEL_API int semh__model_futex_wait(uint32_t *addr, int half, uint32_t expected,
                                           int64_t deadline_ns);
SEMH__MODEL_API int semh__model_futex_wake(uint32_t *addr, int half, int32_t count);
SEMH__MODEL_API int64_t semh__model_clock(int64_t timeout_ns, bool deadline);
SEMH__MODEL_API void semh__model_mutex_lock(semh_mutex *m);
SEMH__MODEL_API void semh__model_mutex_unlock(semh_mutex *m);
SEMH__MODEL_API int semh__model_cond_wait(semh_cond *c, semh_mutex *m, int64_t deadline_ns);
SEMH__MODEL_API void semh__model_cond_notify(semh_cond *c, bool all);

#define SEMH__MODEL_MAGIC UINT32_C(0x5e3a0c1d)

#define SEMH__DEFINE_MODEL_ATOMICS(bits, T)                                                    \
    static inline void semh_init##bits(semh_atomic##bits *a, T v) { a->v = v; }                \
    static inline T semh_load##bits(semh_atomic##bits *a, semh_order o)                        \
    {                                                                                          \
        return semh__model_rmw##bits(&a->v, SEMH__OP_LOAD, 0, o);                              \
    }                                                                                          \
    static inline void semh_store##bits(semh_atomic##bits *a, T v, semh_order o)               \
    {                                                                                          \
        (void)semh__model_rmw##bits(&a->v, SEMH__OP_STORE, v, o);                              \
    }                                                                                          \
    static inline T semh_exchange##bits(semh_atomic##bits *a, T v, semh_order o)               \
    {                                                                                          \
        return semh__model_rmw##bits(&a->v, SEMH__OP_EXCHANGE, v, o);                          \
    }                                                                                          \
    /* Strong CAS; on failure *expected receives the current value. */                        \
    static inline bool semh_cas##bits(semh_atomic##bits *a, T *expected, T desired,            \
                                      semh_order o)                                            \
    {                                                                                          \
        return semh__model_cas##bits(&a->v, expected, desired, o);                             \
    }                                                                                          \
    static inline T semh_fetch_add##bits(semh_atomic##bits *a, T v, semh_order o)              \
    {                                                                                          \
        return semh__model_rmw##bits(&a->v, SEMH__OP_FETCH_ADD, v, o);                         \
    }                                                                                          \
    static inline T semh_fetch_sub##bits(semh_atomic##bits *a, T v, semh_order o)              \
    {                                                                                          \
        return semh__model_rmw##bits(&a->v, SEMH__OP_FETCH_SUB, v, o);                         \
    }                                                                                          \
    static inline T semh_fetch_or##bits(semh_atomic##bits *a, T v, semh_order o)               \
    {                                                                                          \
        return semh__model_rmw##bits(&a->v, SEMH__OP_FETCH_OR, v, o);                          \
    }                                                                                          \
    static inline T semh_fetch_and##bits(semh_atomic##bits *a, T v, semh_order o)              \
    {                                                                                          \
        return semh__model_rmw##bits(&a->v, SEMH__OP_FETCH_AND, v, o);                         \
    }

SEMH__DEFINE_MODEL_ATOMICS(32, uint32_t)
SEMH__DEFINE_MODEL_ATOMICS(64, uint64_t)

static inline semh_futex semh_futex32(semh_atomic32 *a) { return (semh_futex){&a->v, 0}; }

/* The half holding bits 0-31 of the 64-bit value, wherever the byte order puts it. */
static inline semh_futex semh_futex_low(semh_atomic64 *a)
{
    return (semh_futex){(uint32_t *)(void *)&a->v + SEMH__LOW_HALF_INDEX, 1};
}

/* The half holding bits 32-63. */
static inline semh_futex semh_futex_high(semh_atomic64 *a)
{
    return (semh_futex){(uint32_t *)(void *)&a->v + (1 - SEMH__LOW_HALF_INDEX), 2};
}

/* Virtual time: a visible step that reads the scheduler's clock. */
static inline int64_t semh_now_ns(void) { return semh__model_clock(0, false); }

/* Absolute deadline for a relative timeout: < 0 means none, and so does one that overflows. */
static inline int64_t semh_deadline_after(int64_t timeout_ns)
{
    return semh__model_clock(timeout_ns, true);
}

/* Nothing interrupts a simulated thread. */
static inline int semh_poll_interrupt(void) { return 0; }

/* Foreign blocking primitives are not modelled: the call is made as it is (an implementation
 * that needs this does not declare SEMH_CAP_MODEL and is never run under the model). */
static inline int semh_block_sliced(int (*wait_until)(void *arg, int64_t deadline), void *arg,
                                    int64_t deadline_ns)
{
    return wait_until(arg, deadline_ns);
}

/* Sleeps while *f == expected, until woken or the absolute deadline (SEMH_NO_DEADLINE: none):
 * 0 (woken, possibly spuriously), -EAGAIN or -ETIMEDOUT. */
static inline int semh_futex_wait(semh_futex f, uint32_t expected, int64_t deadline_ns)
{
    return semh__model_futex_wait(f.addr, f.half, expected, deadline_ns);
}

/* Wakes up to `count` waiters on f (SEMH_WAKE_ALL for all); returns how many woke. */
static inline int semh_futex_wake(semh_futex f, int32_t count)
{
    return semh__model_futex_wake(f.addr, f.half, count);
}

/* ---- mutex and condition variable ---- */

static inline int semh_mutex_init(semh_mutex *m)
{
    m->owner = 0;
    m->magic = SEMH__MODEL_MAGIC;
    return 0;
}
static inline void semh_mutex_destroy(semh_mutex *m) { m->magic = 0; }
static inline void semh_mutex_lock(semh_mutex *m) { semh__model_mutex_lock(m); }
static inline void semh_mutex_unlock(semh_mutex *m) { semh__model_mutex_unlock(m); }

static inline int semh_cond_init(semh_cond *c)
{
    c->magic = SEMH__MODEL_MAGIC;
    return 0;
}
static inline void semh_cond_destroy(semh_cond *c) { c->magic = 0; }
static inline void semh_cond_signal(semh_cond *c) { semh__model_cond_notify(c, false); }
static inline void semh_cond_broadcast(semh_cond *c) { semh__model_cond_notify(c, true); }

/* Waits with m held until signalled (or spuriously), or the deadline: 0 or -ETIMEDOUT. */
static inline int semh_cond_wait(semh_cond *c, semh_mutex *m, int64_t deadline_ns)
{
    return semh__model_cond_wait(c, m, deadline_ns);
}

#endif /* SEMHARNESS_MODEL_H */
