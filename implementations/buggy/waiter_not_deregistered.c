/*
 * waiter_not_deregistered.c -- the direct hand-off semaphore (twins/handoff.c) with one change:
 * a waiter whose wait ends without a token (its deadline passed, or it was interrupted) leaves
 * without undoing its registration, as in musl bdd89337 and Qt's waiter-count overflow path
 * (BUGS.md 5): a path out of the wait that skips the waiter-count decrement leaves the count
 * inflated for good.
 *
 * The mapping: in a futex design such as futex64.c the waiter count only decides whether a
 * release calls futex wake, so an inflated count costs spare wake-ups and nothing else.  In a
 * hand-off design the count decides where tokens go: a release hands its tokens to the
 * registered waiters that have none yet (waiters - handed of them), and only the rest reach
 * the count.  A waiter that is gone but still counted is handed tokens nobody will take:
 *
 *   sem(0); t0: try_acquire(1, 1 ms) registers (waiters 1), times out, returns false but
 *   stays counted; t0: acquire() registers again (waiters 2); t1: release(2) finds 2 waiters
 *   with nothing handed and hands both tokens to them (handed 2, count 0); t0 takes one and
 *   returns.  The other token stays "handed" to the ghost for ever: available() reads 0 where
 *   0 + 2 - 1 = 1 (conservation), a later try fails with a token in the semaphore
 *   (linearizability), and a later waiter sleeps through it (lost wake-up).
 *
 * The default check's scenario repro-timeout-then-wait is this program.
 */
#define DESCRIPTION "known bug: a timed-out waiter is not deregistered (musl bdd89337)"
#define DEREGISTER_ON_TIMEOUT(s) ((void)(s))
#include "twins/handoff.c"
