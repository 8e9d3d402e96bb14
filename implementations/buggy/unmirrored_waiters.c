/*
 * unmirrored_waiters.c -- the reference core (futex64.c) with a high half that counts only the
 * waiters, not the tokens, as Qt's first 64-bit QSemaphore did (QTBUG-67214, BUGS.md 2; Qt
 * fixed it by mirroring the token count into the high half).
 *
 * Multi-token waiters sleep on the high half with the "wake all" flag (bit 63) set, and a
 * release clears the flag and wakes them.  With the tokens mirrored there every release also
 * changes the high half; without them a release changes only the low half and the flag.  A
 * waiter that decided to sleep before a release then sleeps through it:
 *
 *   sem(1); a waiter for 2 registers (high half: 1 waiter) and sees 1 token, not enough;
 *   release(1): 2 tokens, the flag cleared (it is not set yet), nobody asleep to wake;
 *   the waiter sets the flag and sleeps on the high half "1 waiter | flag" -- unchanged by the
 *   release, so the kernel lets it sleep, with its 2 tokens there; no release follows.
 *
 * The mapping: two seams.  MIRROR(n) = 0 is the bug: the high half mirrors no tokens (waiters()
 * and the release's wake test, written as high half minus the mirror, become "high half != 0").
 * SET_WAKE_ALL is how Qt set the flag, a blind fetch-or keeping the value it had decided on;
 * futex64 sets it with a CAS that decides again when the low half moved, which hides the case
 * above (the missing mirror still loses wake-ups then, but only when a second multi-token waiter
 * sets the flag again -- an ABA the default checks rarely reach).  The fetch-or alone, with the
 * mirror, is correct: it is what Qt still does, and futex64 with only that seam passes.
 */
#define DESCRIPTION "known bug: high half counts only waiters, not tokens (QTBUG-67214)"
#define MIRROR(n) ((void)(n), UINT64_C(0))
#define SET_WAKE_ALL(s, cur) (semh_fetch_or64(&(s)->word, WAKE_ALL_BIT, SEMH_RELAXED), true)
#include "../c/futex64.c"
