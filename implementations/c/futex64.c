/*
 * futex64.c -- the reference futex/atomic semaphore: the design of Qt's QSemaphore (64-bit
 * futex mode), written from scratch and made stricter.
 *
 * One 64-bit word holds everything:
 *   bits  0-30  available tokens ("low half")
 *   bits 32-62  tokens + registered waiters, modulo 2^31 ("high half"); the token count is
 *               mirrored here so that every release changes the word multi-token waiters
 *               sleep on.  The waiter count is the difference of the halves (mod 2^31), so a
 *               count near 2^31 - 1 with waiters registered never overflows into bit 63.
 *   bit  63     "wake all": set only by a waiter for more than one token before it sleeps
 *
 * Single-token waiters sleep on the low half; it only changes when tokens move, and a waiter
 * sleeps only when it saw 0 tokens, so every release that could satisfy it changes the word.
 * Multi-token waiters sleep on the high half with bit 63 set; a release always changes the
 * high half (adds n and clears bit 63), so a waiter can never sleep through a release.
 *
 * Stricter than Qt: negative n and overflow are errors in every build, waits use an absolute
 * CLOCK_MONOTONIC deadline computed once, and a timed-out waiter still takes tokens that are
 * there when it deregisters (a timed wait never fails while it could succeed).
 *
 * SEAMS: the known-bug corpus (implementations/buggy/) re-creates real bugs as small changes of
 * this file.  Each spot it may change is a macro defined here under #ifndef, with the correct
 * code as its default; the reference core never defines them, so it compiles to the same code
 * as without them.  They are marked "Seam for the known-bug corpus" where they are defined.
 */
#include "semharness.h"

#define LOW_MASK UINT64_C(0x7fffffff)
#define TOKEN_MAX INT32_MAX
/* A release's sum carried out of a half: out of the tokens (bit 31) or the mirror (bit 63). */
#define LOW_CARRY (LOW_MASK + 1)
#define HIGH_CARRY (UINT64_C(1) << 63)

/* Seam for the known-bug corpus: where the "wake all" flag lives.  Bit 63 is the top bit of the
 * high half, the very word multi-token waiters sleep on, so a release that clears the flag
 * always changes the value they compare (QTBUG-92148 had it outside that word). */
#ifndef WAKE_ALL_BIT
#define WAKE_ALL_BIT (UINT64_C(1) << 63)
#endif

/* Seam for the known-bug corpus: how many of n tokens the high half counts -- all of them, so
 * that every release changes the high half (QTBUG-67214 counted only waiters there). */
#ifndef MIRROR
#define MIRROR(n) (n)
#endif

typedef struct {
    semh_atomic64 word;
} futex64_sem;

#ifndef DESCRIPTION /* (the known-bug corpus names its variants) */
#define DESCRIPTION "reference futex core: 64-bit word, mirrored token count"
#endif
SEMH_IMPLEMENTATION(futex64_sem, DESCRIPTION, SEMH_CAP_ALL);

static inline uint64_t tokens(uint64_t w) { return w & LOW_MASK; }
static inline uint64_t high_count(uint64_t w) { return (w >> 32) & LOW_MASK; }
static inline uint64_t waiters(uint64_t w)
{
    return (high_count(w) - MIRROR(tokens(w))) & LOW_MASK;
}

/* A word from its parts; the high half wraps modulo 2^31 and never touches bit 63. */
static inline uint64_t make_word(uint64_t flag, uint64_t high, uint64_t low)
{
    return flag | ((high & LOW_MASK) << 32) | (low & LOW_MASK);
}

/* Seam for the known-bug corpus: what the constructor stores in the high half for `initial`
 * tokens and no waiters -- their mirror (QTBUG-67481 stored nothing there). */
#ifndef INIT_MIRROR
#define INIT_MIRROR(initial) MIRROR(initial)
#endif

int semh_init(void *self, int32_t initial)
{
    futex64_sem *s = self;
    if (initial < 0)
        return -EINVAL;
    semh_init64(&s->word, make_word(0, INIT_MIRROR((uint64_t)initial), (uint64_t)initial));
    return 0;
}

void semh_destroy(void *self) { (void)self; }

int32_t semh_available(void *self)
{
    futex64_sem *s = self;
    return (int32_t)tokens(semh_load64(&s->word, SEMH_RELAXED));
}

/* The word after taking n tokens (tokens(w) >= n), `leaving` (0 or 1) also deregistering. */
static inline uint64_t after_take(uint64_t w, uint64_t n, uint64_t leaving)
{
    if (high_count(w) >= MIRROR(n) + leaving) /* the usual case: no wrap, one subtraction */
        return w - (n | ((MIRROR(n) + leaving) << 32));
    return make_word(w & WAKE_ALL_BIT, high_count(w) - MIRROR(n) - leaving, tokens(w) - n);
}

/* Takes n tokens if there are enough: one CAS subtracting n from both halves, and `leaving`
 * (0 or 1) more from the high half when the taker also deregisters as a waiter. */
static inline bool take_if_enough(futex64_sem *s, uint64_t *cur, int32_t n, uint64_t leaving)
{
    while (tokens(*cur) >= (uint64_t)n) {
        if (semh_cas64(&s->word, cur, after_take(*cur, (uint64_t)n, leaving), SEMH_ACQUIRE))
            return true;
    }
    return false;
}

/* Leaves the waiter count: takes the tokens instead if they are there now.  1 or 0. */
static int deregister(futex64_sem *s, int32_t n)
{
    uint64_t cur = semh_load64(&s->word, SEMH_RELAXED);
    for (;;) {
        if (take_if_enough(s, &cur, n, 1))
            return 1;
        uint64_t next = make_word(cur & WAKE_ALL_BIT, high_count(cur) - 1, tokens(cur));
        if (semh_cas64(&s->word, &cur, next, SEMH_RELAXED))
            return 0;
    }
}

/* Seam for the known-bug corpus: whether registering one more waiter on the word `cur` would
 * overflow the waiter count (the difference of the halves). */
#ifndef REGISTER_OVERFLOWS
#define REGISTER_OVERFLOWS(cur) (waiters(cur) == LOW_MASK)
#endif

/* Seam for the known-bug corpus: how a multi-token waiter sets the flag on the word `cur` it
 * decided on -- a CAS, so that it decides again (false, `cur` reloaded) if the word moved. */
#ifndef SET_WAKE_ALL
#define SET_WAKE_ALL(s, cur) semh_cas64(&(s)->word, &(cur), (cur) | WAKE_ALL_BIT, SEMH_RELAXED)
#endif

/* The slow path: register as a waiter, then sleep until n tokens can be taken or the deadline
 * (SEMH_NO_DEADLINE: none) passes.  `cur` is the last value seen. */
static int wait_for(futex64_sem *s, int32_t n, uint64_t cur, int64_t deadline)
{
    /* Register: the high half counts us until we take tokens or leave. */
    uint64_t next;
    do {
        if (REGISTER_OVERFLOWS(cur))
            return -EOVERFLOW;
        next = make_word(cur & WAKE_ALL_BIT, high_count(cur) + 1, tokens(cur));
    } while (!semh_cas64(&s->word, &cur, next, SEMH_RELAXED));
    cur = next;

    for (;;) {
        /* A successful take also deregisters us. */
        if (take_if_enough(s, &cur, n, 1))
            return 1;
        int r;
        if (n == 1) {
            r = semh_futex_wait(semh_futex_low(&s->word), (uint32_t)cur, deadline);
        } else {
            if (!(cur & WAKE_ALL_BIT)) {
                if (!SET_WAKE_ALL(s, cur))
                    continue; /* the word moved: decide again on the value we now hold */
                cur |= WAKE_ALL_BIT;
            }
            r = semh_futex_wait(semh_futex_high(&s->word), (uint32_t)(cur >> 32), deadline);
        }
        /* Woken, spurious, EAGAIN or EINTR: re-check.  Only the deadline ends the wait -- and
         * it is read from the clock too, because while other threads keep changing the word
         * every wait returns EAGAIN before the kernel ever looks at the deadline. */
        if (r == -ETIMEDOUT || (deadline >= 0 && semh_now_ns() >= deadline))
            return deregister(s, n);
        cur = semh_load64(&s->word, SEMH_RELAXED);
    }
}

/* Everything but the first uncontended attempt: 1 taken, 0 not, or -errno. */
static int try_acquire_slow(futex64_sem *s, int32_t n, int64_t timeout_ns, uint64_t cur)
{
    if (take_if_enough(s, &cur, n, 0))
        return 1;
    if (timeout_ns == 0)
        return 0;
    return wait_for(s, n, cur, semh_deadline_after(timeout_ns));
}

/* One load and one CAS when uncontended, inlined into both entry points; the rest is a call. */
static inline int try_acquire(futex64_sem *s, int32_t n, int64_t timeout_ns)
{
    if (n <= 0)
        return n < 0 ? -EINVAL : 1;
    uint64_t cur = semh_load64(&s->word, SEMH_RELAXED);
    if (tokens(cur) >= (uint64_t)n && high_count(cur) >= MIRROR((uint64_t)n) &&
        semh_cas64(&s->word, &cur, cur - ((uint64_t)n | (MIRROR((uint64_t)n) << 32)),
                   SEMH_ACQUIRE))
        return 1;
    return try_acquire_slow(s, n, timeout_ns, cur);
}

int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns)
{
    return try_acquire(self, n, timeout_ns);
}

int semh_acquire(void *self, int32_t n)
{
    int r = try_acquire(self, n, -1);
    return r == 1 ? 0 : r == 0 ? -EINTR : r;
}

/* Wakes the waiters a release may satisfy; out of line to keep the release path short. */
__attribute__((noinline)) static void wake_waiters(futex64_sem *s, uint64_t before, int32_t n)
{
    semh_futex_wake(semh_futex_low(&s->word), n);
    if (before & WAKE_ALL_BIT)
        semh_futex_wake(semh_futex_high(&s->word), SEMH_WAKE_ALL);
}

/* Seam for the known-bug corpus: whether a release that found the word `cur` must wake --
 * exactly when waiters are registered, i.e. when the high half is not the tokens' mirror. */
#ifndef RELEASE_MUST_WAKE
#define RELEASE_MUST_WAKE(cur) ((((cur) >> 32) ^ MIRROR(tokens(cur))) & LOW_MASK)
#endif

int semh_release(void *self, int32_t n)
{
    futex64_sem *s = self;
    if (n <= 0)
        return n < 0 ? -EINVAL : 0;
    uint64_t add = (uint64_t)n | (MIRROR((uint64_t)n) << 32);
    uint64_t cur = semh_load64(&s->word, SEMH_RELAXED);
    uint64_t next;
    do {
        /* Add to both halves at once; bit 31 or bit 63 of the sum set means that a half passed
         * 2^31 - 1: the tokens (an overflow error) or the mirror (it wraps, see after_release). */
        next = (cur & ~WAKE_ALL_BIT) + add;
        if (next & (HIGH_CARRY | LOW_CARRY)) {
            if ((uint64_t)n > TOKEN_MAX - tokens(cur))
                return -EOVERFLOW;
            next = make_word(0, high_count(cur) + MIRROR((uint64_t)n), tokens(cur) + (uint64_t)n);
        }
    } while (!semh_cas64(&s->word, &cur, next, SEMH_RELEASE));

    /* After the CAS the semaphore may already be destroyed: only the wakes may follow, and they
     * touch no memory of ours (a futex wake on a stale address finds no waiters).  The halves
     * differ exactly when waiters are registered. */
    if (RELEASE_MUST_WAKE(cur))
        wake_waiters(s, cur, n);
    return 0;
}
