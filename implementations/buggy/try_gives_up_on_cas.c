/*
 * try_gives_up_on_cas.c -- Qt's single-flag 32-bit semaphore (futex32.c) with one change: the
 * first attempt of a call makes ONE compare-and-swap and gives up if it fails, as musl's
 * sem_trywait did until 07e62953 ("retry on cas failures in sem_trywait", BUGS.md 8):
 *
 *     if (val > 0 && a_cas(sem->__val, val, val-1) == val) return 0;
 *     errno = EAGAIN; return -1;
 *
 * A failed CAS means only that the word moved since it was read -- another thread took or gave
 * tokens -- not that the semaphore is busy.  A timed or blocking call goes on to the wait loop,
 * which retries, so only try_acquire with timeout 0 is wrong: sem(5) (or sem(2)); two threads
 * try_acquire(1) at once; both read the count, one CAS wins, the other fails and returns false
 * although tokens remain -- a failed try that never saw the count short of n.
 */
#define DESCRIPTION "known bug: try_acquire gives up when its CAS fails (musl 07e62953)"
#define FIRST_TAKE(s, cur, n)                                                                  \
    ((*(cur) & TOKEN_MASK) >= (uint32_t)(n) &&                                                 \
     semh_cas32(&(s)->word, (cur), *(cur) - (uint32_t)(n), SEMH_ACQUIRE))
#include "../c/futex32.c"
