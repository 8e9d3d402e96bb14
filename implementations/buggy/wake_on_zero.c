/*
 * wake_on_zero.c -- the reference core (futex64.c) with one change: a release wakes only when
 * the count was zero before it (the low half was zero), as libc++'s counting_semaphore did
 * (llvm#46357, BUGS.md 6).
 *
 * sem(0); two waiters; release(); release() back to back: the first release wakes one waiter,
 * the second finds the count at 1 (the woken waiter has not taken its token yet), skips the
 * wake, and the other waiter sleeps with a token available -- a lost wake-up.
 */
#define DESCRIPTION "known bug: release wakes only when the count was 0 (llvm#46357)"
#define RELEASE_MUST_WAKE(cur) ((((cur) ^ ((cur) >> 32)) & LOW_MASK) && ((cur) & LOW_MASK) == 0)
#include "../c/futex64.c"
