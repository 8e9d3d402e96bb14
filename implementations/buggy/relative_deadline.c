/*
 * relative_deadline.c -- Qt's single-flag 32-bit semaphore (futex32.c) with one change: the
 * relative timeout is passed where the futex wait expects an absolute CLOCK_MONOTONIC deadline
 * (BUGS.md 10).  libdispatch's Linux port mixed up the two timebases at both of its wait
 * calls: sem_timedwait wants an absolute time and was given a relative one (fixed in
 * swift-corelibs-libdispatch PR #16 / #20), and its futex wait wants a relative one and was
 * given an absolute one (PR #57, the mirror image: an infinite wait).  This header's futex
 * wait takes an absolute deadline, so the relative-for-absolute form is the one-spot change.
 *
 * The monotonic clock counts from boot, so "deadline = 0.1 s" is long past: the wait times
 * out at once and try_acquire(1, 0.1) on an empty semaphore fails at once instead of after
 * 0.1 s -- a timed try that gives up before its deadline.  In the model checker the virtual
 * clock starts at 0, so the deadline is early by the virtual time at the call: a try made
 * after others have run (or a second timed try) gives up early.
 *
 * BUGS.md 10's other form, a negative timeout treated as "try once" (QTBUG-64413: Qt 5.10
 * took only -1 as "forever"), has no faithful twin here: both frontends turn every negative
 * timeout into -1 before the C code sees it, so a C file that mishandles -2 is never called
 * with one; the bug belongs to the layer that reads the caller's timeout.
 */
#define DESCRIPTION "known bug: the relative timeout is used as the absolute deadline (BUGS.md 10)"
#define WAIT_DEADLINE(timeout_ns) (timeout_ns)
#include "../c/futex32.c"
