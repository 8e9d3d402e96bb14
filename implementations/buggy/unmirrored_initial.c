/*
 * unmirrored_initial.c -- the reference core (futex64.c) whose constructor does not mirror the
 * initial count into the high half, as Qt 5.11's QSemaphore(n) did (QTBUG-67481, BUGS.md 3).
 *
 * The high half counts tokens + waiters (modulo 2^31) and a release wakes when it differs from
 * the low half (the tokens): then waiters are registered.  sem(1) starts as high 0, low 1:
 *
 *   the first acquire takes the token from both halves and the high half borrows: 0x7fffffff
 *   (Qt's 0xffffffff -- its high word is 32 bits); a second thread waits, and its registration
 *   adds 1: the high half wraps to 0; release(1) finds high == low == 0, "no waiters", and
 *   wakes nobody: the waiter sleeps for ever with the token there.
 *
 * The mapping: two seams.  INIT_MIRROR = 0 is the bug.  REGISTER_OVERFLOWS = false stands for
 * Qt's registration check, which did not see the borrowed count: it compared the whole high
 * word with 0x7fffffff, and the borrow had run on into the flag bit, so it read 0xffffffff.
 * futex64's high half wraps modulo 2^31 and never touches bit 63, and its check (the waiter
 * count, the difference of the halves, at 2^31 - 1) does see it: with that check the second
 * acquire fails with EOVERFLOW instead of hanging -- caught too, but not the reported bug.
 * With the halves consistent the check fires only at 2^31 - 1 waiters, so dropping it alone
 * changes nothing the checks reach (futex64 with only that seam passes).
 */
#define DESCRIPTION "known bug: constructor does not mirror n into the high half (QTBUG-67481)"
#define INIT_MIRROR(initial) UINT64_C(0)
#define REGISTER_OVERFLOWS(cur) false
#include "../c/futex64.c"
