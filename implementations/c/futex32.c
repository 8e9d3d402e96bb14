/*
 * futex32.c -- the single-flag 32-bit variant of the reference core (Qt's QSemaphore mode for
 * platforms without 64-bit futex tricks): no waiter count, one "someone sleeps" flag.
 *
 *   bits 0-30  available tokens
 *   bit  31    contended: set by a waiter before it sleeps
 *
 * Every waiter, whatever n it needs, sleeps on the whole word with the flag set in its expected
 * value.  A release adds its tokens and clears the flag in ONE CAS, and if the flag was set it
 * wakes ALL sleepers: with no waiter count it cannot know how many need waking, and waking only
 * n is QTBUG-66875.  Woken waiters that still cannot proceed set the flag again and sleep.
 *
 * The macros marked "seam" below are for the known-bug corpus (implementations/buggy/), which
 * re-creates real bugs as one-spot changes of this file: a buggy file defines one and includes
 * this one.  Each defaults to exactly the correct code, so futex32 compiles to the same object
 * code as it did without them (native and model builds alike).
 */
#include "semharness.h"

#define TOKEN_MASK UINT32_C(0x7fffffff)
#define CONTENDED UINT32_C(0x80000000)

typedef struct {
    semh_atomic32 word;
} futex32_sem;

#ifndef DESCRIPTION /* (the known-bug corpus names its variants) */
#define DESCRIPTION "32-bit single-flag variant: contended bit, wake all"
#endif
SEMH_IMPLEMENTATION(futex32_sem, DESCRIPTION, SEMH_CAP_ALL);

int semh_init(void *self, int32_t initial)
{
    futex32_sem *s = self;
    if (initial < 0)
        return -EINVAL;
    semh_init32(&s->word, (uint32_t)initial);
    return 0;
}

void semh_destroy(void *self) { (void)self; }

int32_t semh_available(void *self)
{
    futex32_sem *s = self;
    return (int32_t)(semh_load32(&s->word, SEMH_RELAXED) & TOKEN_MASK);
}

static bool take_if_enough(futex32_sem *s, uint32_t *cur, int32_t n)
{
    while ((*cur & TOKEN_MASK) >= (uint32_t)n) {
        if (semh_cas32(&s->word, cur, *cur - (uint32_t)n, SEMH_ACQUIRE))
            return true;
    }
    return false;
}

/* Seam: the first attempt of every call, the only one of a try with timeout 0 -- it must not
 * give up while tokens remain (a failed CAS only means the word moved). */
#ifndef FIRST_TAKE
#define FIRST_TAKE(s, cur, n) take_if_enough((s), (cur), (n))
#endif

/* Seam: the absolute deadline (CLOCK_MONOTONIC) of a wait for a relative timeout_ns. */
#ifndef WAIT_DEADLINE
#define WAIT_DEADLINE(timeout_ns) semh_deadline_after(timeout_ns)
#endif

/* Seam: the value a waiter sleeps on -- the one it decided to sleep on, flag included. */
#ifndef WAIT_EXPECTED
#define WAIT_EXPECTED(s, cur) (cur)
#endif

int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns)
{
    futex32_sem *s = self;
    if (n < 0)
        return -EINVAL;
    if (n == 0)
        return 1;
    uint32_t cur = semh_load32(&s->word, SEMH_RELAXED);
    if (FIRST_TAKE(s, &cur, n))
        return 1;
    if (timeout_ns == 0)
        return 0;
    int64_t deadline = WAIT_DEADLINE(timeout_ns);
    for (;;) {
        if (take_if_enough(s, &cur, n))
            return 1;
        if (!(cur & CONTENDED)) {
            if (!semh_cas32(&s->word, &cur, cur | CONTENDED, SEMH_RELAXED))
                continue; /* the word moved: decide again */
            cur |= CONTENDED;
        }
        int r = semh_futex_wait(semh_futex32(&s->word), WAIT_EXPECTED(s, cur), deadline);
        cur = semh_load32(&s->word, SEMH_RELAXED);
        /* The clock too: under churn every wait returns EAGAIN before the deadline is seen. */
        if (r == -ETIMEDOUT || (deadline >= 0 && semh_now_ns() >= deadline))
            return take_if_enough(s, &cur, n) ? 1 : 0; /* never fail while tokens are there */
    }
}

int semh_acquire(void *self, int32_t n)
{
    int r = semh_try_acquire(self, n, -1);
    return r == 1 ? 0 : r == 0 ? -EINTR : r;
}

/* Seam: whether adding n tokens to the word cur passes the maximum (2^31 - 1). */
#ifndef RELEASE_OVERFLOWS
#define RELEASE_OVERFLOWS(cur, n) ((uint32_t)(n) > TOKEN_MASK - ((cur) & TOKEN_MASK))
#endif

/* Seam: how many sleepers a release that cleared the flag wakes.  All: the flag said only
 * "someone sleeps", and it is gone now, so a sleeper left asleep is never woken. */
#ifndef RELEASE_WAKE_COUNT
#define RELEASE_WAKE_COUNT(n) SEMH_WAKE_ALL
#endif

int semh_release(void *self, int32_t n)
{
    futex32_sem *s = self;
    if (n < 0)
        return -EINVAL;
    if (n == 0)
        return 0;
    uint32_t cur = semh_load32(&s->word, SEMH_RELAXED);
    uint32_t next;
    do {
        if (RELEASE_OVERFLOWS(cur, n))
            return -EOVERFLOW;
        next = (cur & TOKEN_MASK) + (uint32_t)n;
    } while (!semh_cas32(&s->word, &cur, next, SEMH_RELEASE));
    /* Only the wake may follow the CAS: the semaphore may be destroyed by now. */
    if (cur & CONTENDED)
        semh_futex_wake(semh_futex32(&s->word), RELEASE_WAKE_COUNT(n));
    return 0;
}
