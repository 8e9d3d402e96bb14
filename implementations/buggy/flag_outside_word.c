/*
 * flag_outside_word.c -- the reference core (futex64.c) with its "wake all" flag outside the
 * 32-bit word that the multi-token waiters compare, as Qt's QSemaphore had it on 64-bit
 * platforms without the waiter count (QTBUG-92148, BUGS.md 4): the flag was bit 63 of the
 * 64-bit word, and the waiters slept on its low 32 bits.
 *
 * futex64's multi-token waiters sleep on the high half, and the flag, bit 63, is inside it.
 * Here it is bit 31, the low half's spare bit: outside the word they compare -- the mirror image
 * of Qt's layout, the same bug.  Such a waiter sets the flag and sleeps on the high half with
 * the value it decided on; a release clears the flag and wakes the high half only if the flag
 * was set.  Once the kernel no longer compares the flag, an ABA on the high half loses it:
 *
 *   sem(1); a waiter for 2 sees 1 token and the flag set; before it sleeps, other threads move
 *   the word and put it back -- one takes the token and releases it again (or a release(1)
 *   and a take) -- and the release clears the flag.  The high half is what the waiter decided
 *   on, so it sleeps, with the flag clear; the next release(1) makes 2 tokens, finds no flag
 *   and does not wake the high half: the waiter sleeps for ever with its tokens there.
 *
 * With the flag inside the word the waiter compares, the cleared flag makes its wait fail, and
 * it decides again.
 */
#define DESCRIPTION "known bug: wake-all flag outside the word its waiters compare (QTBUG-92148)"
#define WAKE_ALL_BIT (UINT64_C(1) << 31)
#include "../c/futex64.c"
