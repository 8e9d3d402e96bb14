/*
 * overflow_unchecked.c -- Qt's single-flag 32-bit semaphore (futex32.c) with one change: the
 * release's overflow check can never fire, as glibc's sem_post in its 32-bit-atomics variant
 * (BZ18434, BUGS.md 9).  There the word holds the value shifted left by SEM_VALUE_SHIFT (1),
 * above a waiters bit, and the check shifted the wrong way:
 *
 *     if ((v << SEM_VALUE_SHIFT) == SEM_VALUE_MAX) { errno = EOVERFLOW; return -1; }
 *
 * -- an even number compared with an odd one, never equal (fixed to `v >> SEM_VALUE_SHIFT`).
 * The same expression with this file's names, (cur << 1) == 2^31 - 1, is never true either.
 * So a release at the maximum goes ahead: sem(2^31 - 1); release(1) returns success, the count
 * wraps into bit 31 (the contended flag) and reads 0 -- 2^31 - 1 tokens lost instead of an
 * OverflowError with the state unchanged.
 */
#define DESCRIPTION "known bug: the release's overflow check never fires (glibc BZ18434)"
#define RELEASE_OVERFLOWS(cur, n) (((cur) << 1) == TOKEN_MASK)
#include "../c/futex32.c"
