/*
 * sleep_on_stale_value.c -- Qt's single-flag 32-bit semaphore (futex32.c) with one change: a
 * waiter decides to sleep on the word it read, then sleeps on a value it reads again, not on
 * the one it decided on (BUGS.md 7, "decide-then-sleep without the decided value", the
 * classic naive futex mistake `if (load(w) == 0) futex_wait(w, load(w))`).
 *
 * A futex wait is safe only because the kernel compares the word with the value the waiter
 * DECIDED on: any release in between changes the word and the wait returns at once.  With a
 * fresh read that protection is gone: the waiter reads 0 tokens and sets the contended bit; a
 * release lands, adds a token, clears the bit and wakes all sleepers -- none yet; the waiter
 * re-reads the word (1 token, no bit) and sleeps on it.  Nothing will wake it: the bit is
 * clear, so the next release wakes nobody.  sem(1); t0 acquire(); t1 acquire() (reads 0, sets
 * the bit); t0 release() (wakes no one); t1 sleeps on 1: a waiter blocked while a token is
 * there.  (The other mistake BUGS.md names, sleeping on a constant, is not one here: a waiter
 * for one token only ever sleeps on "0 tokens, contended", so the constant would be the value
 * it decided on; the re-read is the faithful form.)
 */
#define DESCRIPTION "known bug: a waiter sleeps on a value it re-read, not the one it decided on"
#define WAIT_EXPECTED(s, cur) semh_load32(&(s)->word, SEMH_RELAXED)
#include "../c/futex32.c"
