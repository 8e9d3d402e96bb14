/*
 * handoff.c -- a direct hand-off semaphore: a correct twin for the known-bug corpus.
 *
 * Not a built-in and not itself in the corpus (the registry globs only implementations/buggy/
 * *.c, not this folder): it is the correct design that a buggy file here changes in one named
 * spot, for a bug that needs a design the reference cores do not have -- one where the waiter
 * count DECIDES where tokens go.  (In futex64.c an inflated waiter count only costs spare
 * wake-ups.)  Check it as a C file: `semharness check implementations/buggy/twins/handoff.c`.
 *
 * One mutex guards three counts:
 *   count    tokens in the semaphore, free for anyone
 *   waiters  registered single-token waiters, with a token handed to them or not
 *   handed   tokens a release handed to those waiters, not yet taken (handed <= waiters)
 *
 * A release first hands its tokens to the registered waiters that have none yet (waiters -
 * handed of them) and only adds the rest to the count, so a newcomer cannot barge past a
 * waiter: the waiter's acquire takes effect inside the release.  The handed tokens belong to
 * the waiters registered at that release, as a group: a registered waiter takes one whenever
 * it finds one there (before each sleep and after each wake-up) and deregisters as it takes
 * it.  A waiter registers only when no handed token is left untaken, so every token it takes
 * was handed while it waited (a waiter that came later taking it would let the count read 0
 * where the semaphore has a token); until then it waits unregistered, for the count.
 *
 * A waiter whose wait ends by its deadline or an interruption still takes a token handed to
 * it meanwhile (its acquire has taken effect: a timed try never fails while it could
 * succeed); only with none there does it deregister and fail -- the registration must be
 * undone, or a later release hands tokens to a waiter that is gone (BUGS.md 5).
 *
 * Invariant: a single-token waiter registers only when count is 0, and a release leaves tokens
 * in the count only when every registered waiter has one handed, so count > 0 implies
 * handed == waiters: nothing is owed to anyone, and a fast-path taker takes nothing owed.
 *
 * The waiter count is an atomic word, though only ever used with the mutex held (relaxed
 * order suffices), so that under the model checker every change of it is a step of the trace.
 *
 * Waiters for n > 1 tokens take no part in the hand-off (a partial hand-off would hold tokens
 * that nobody can use); they wait unregistered, textbook style, until the count covers them,
 * so single-token waiters owed tokens always come first.  A release wakes every sleeper (one
 * condition variable) while holding the mutex, so nothing touches the semaphore after the
 * unlock (destroy-after-last-acquire is safe).
 */
#include "semharness.h"

typedef struct {
    semh_mutex lock;
    semh_cond changed; /* broadcast by every release */
    int32_t count;
    semh_atomic32 waiters; /* (atomic only to show in the model's traces) */
    int32_t handed;
} handoff_sem;

#ifndef DESCRIPTION /* (the known-bug corpus names its variants) */
#define DESCRIPTION "direct hand-off: mutex, waiter count, tokens handed to waiters"
#endif
SEMH_IMPLEMENTATION(handoff_sem, DESCRIPTION, SEMH_CAP_ALL);

/* Seam for the known-bug corpus: how a single-token waiter that leaves without a token (its
 * deadline passed or it was interrupted, nothing handed to it) undoes its registration. */
#ifndef DEREGISTER_ON_TIMEOUT
#define DEREGISTER_ON_TIMEOUT(s) semh_fetch_sub32(&(s)->waiters, 1, SEMH_RELAXED)
#endif

int semh_init(void *self, int32_t initial)
{
    handoff_sem *s = self;
    if (initial < 0)
        return -EINVAL;
    int r = semh_mutex_init(&s->lock);
    if (r != 0)
        return r;
    r = semh_cond_init(&s->changed);
    if (r != 0) {
        semh_mutex_destroy(&s->lock);
        return r;
    }
    s->count = initial;
    semh_init32(&s->waiters, 0);
    s->handed = 0;
    return 0;
}

void semh_destroy(void *self)
{
    handoff_sem *s = self;
    semh_cond_destroy(&s->changed);
    semh_mutex_destroy(&s->lock);
}

int32_t semh_available(void *self)
{
    handoff_sem *s = self;
    semh_mutex_lock(&s->lock);
    int32_t count = s->count;
    semh_mutex_unlock(&s->lock);
    return count;
}

/* The mutex held, count < n: waits until n tokens are taken or the deadline passes (or the
 * caller is interrupted).  1 taken, 0 not. */
static int wait_for(handoff_sem *s, int32_t n, int64_t deadline)
{
    bool registered = false, timed_out = false;
    for (;;) {
        if (registered && s->handed > 0) { /* a release handed us a token: take it, leave */
            s->handed--;
            semh_fetch_sub32(&s->waiters, 1, SEMH_RELAXED);
            return 1;
        }
        if (!registered && s->count >= n) { /* (count > 0 only when nothing is owed) */
            s->count -= n;
            return 1;
        }
        if (timed_out) { /* still there when the wait ends: we had none */
            if (registered)
                DEREGISTER_ON_TIMEOUT(s);
            return 0;
        }
        /* Register for a hand-off only once the tokens handed before are all taken, so that
         * every token we take was handed while we waited. */
        if (!registered && n == 1 && s->handed == 0) {
            semh_fetch_add32(&s->waiters, 1, SEMH_RELAXED);
            registered = true;
        }
        /* Only the deadline (or an interruption) ends the wait; wake-ups re-check. */
        timed_out = semh_cond_wait(&s->changed, &s->lock, deadline) == -ETIMEDOUT;
    }
}

int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns)
{
    handoff_sem *s = self;
    if (n <= 0)
        return n < 0 ? -EINVAL : 1;
    int r = 1;
    semh_mutex_lock(&s->lock);
    if (s->count >= n)
        s->count -= n;
    else if (timeout_ns == 0)
        r = 0;
    else
        r = wait_for(s, n, semh_deadline_after(timeout_ns));
    semh_mutex_unlock(&s->lock);
    return r;
}

int semh_acquire(void *self, int32_t n)
{
    int r = semh_try_acquire(self, n, -1);
    return r == 1 ? 0 : r == 0 ? -EINTR : r;
}

int semh_release(void *self, int32_t n)
{
    handoff_sem *s = self;
    if (n <= 0)
        return n < 0 ? -EINVAL : 0;
    semh_mutex_lock(&s->lock);
    if (n > INT32_MAX - s->count) {
        semh_mutex_unlock(&s->lock);
        return -EOVERFLOW;
    }
    /* Hand tokens to the registered waiters that have none yet; the rest go to the count. */
    int32_t owed = (int32_t)semh_load32(&s->waiters, SEMH_RELAXED) - s->handed;
    int32_t give = n < owed ? n : owed;
    s->handed += give;
    s->count += n - give;
    semh_cond_broadcast(&s->changed);
    semh_mutex_unlock(&s->lock);
    return 0;
}
