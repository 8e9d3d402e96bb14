/*
 * wake_only_n.c -- Qt's single-flag 32-bit semaphore (futex32.c) with one change: a release
 * clears the shared "contended" bit but wakes only n sleepers, not all of them (QTBUG-66875,
 * BUGS.md 1).
 *
 * The contended bit says only "someone sleeps", not how many.  The release that clears it is
 * the last one that will wake anybody until a sleeper sets it again; the sleepers it leaves
 * asleep never do, so they sleep for ever.  sem(0); four threads acquire() then release();
 * main release(1): the one woken thread takes the token and gives it back, but the bit is
 * clear, so its release wakes nobody and three threads hang with a token available.  The
 * model checker's "standard" scenario (sem(1); three threads acquire then release) is the
 * same thing with two sleepers.
 */
#define DESCRIPTION "known bug: release clears the contended bit but wakes only n (QTBUG-66875)"
#define RELEASE_WAKE_COUNT(n) (n)
#include "../c/futex32.c"
