/*
 * posix_sem.c -- glibc's sem_t behind the harness's C contract, so that the C library's own
 * semaphore is measured and checked through exactly the same path as ours.
 *
 * sem_t moves one token per call.  Taking or giving n tokens is a loop of n calls -- correct
 * for one thread, but other threads can see (or deadlock on) the half-done state -- so this
 * adapter declares that it has no atomic multi-token acquire and no atomic release(n), and the
 * harness runs such calls only where no other thread shares the semaphore.  It blocks inside
 * glibc, not in this header's futex calls, so it cannot run under the model checker.  Timed waits use sem_clockwait with an absolute CLOCK_MONOTONIC deadline.
 */
#include "semharness.h"

#include <semaphore.h>

typedef struct {
    sem_t sem;
} posix_sem;

SEMH_IMPLEMENTATION(posix_sem, "glibc sem_t (n tokens = n calls)", SEMH_CAP_TIMEOUTS);

int semh_init(void *self, int32_t initial)
{
    posix_sem *s = self;
    if (initial < 0)
        return -EINVAL;
    return sem_init(&s->sem, 0, (unsigned)initial) == 0 ? 0 : -errno;
}

void semh_destroy(void *self)
{
    posix_sem *s = self;
    sem_destroy(&s->sem);
}

int32_t semh_available(void *self)
{
    posix_sem *s = self;
    int value = 0;
    sem_getvalue(&s->sem, &value);
    return value < 0 ? 0 : value;
}

static int clockwait_until(void *arg, int64_t deadline_ns)
{
    sem_t *sem = arg;
    int r;
    if (deadline_ns < 0) {
        r = sem_wait(sem);
    } else {
        struct timespec ts = {(time_t)(deadline_ns / SEMH_NS_PER_S),
                              (long)(deadline_ns % SEMH_NS_PER_S)};
        r = sem_clockwait(sem, CLOCK_MONOTONIC, &ts);
    }
    return r == 0 ? 0 : -errno;
}

/* One token, waiting until the deadline: 1 taken, 0 not. */
static int take_one(sem_t *sem, int64_t deadline)
{
    if (sem_trywait(sem) == 0)
        return 1;
    if (deadline == 0) /* no wait */
        return 0;
    for (;;) {
        int r = semh_block_sliced(clockwait_until, sem, deadline);
        if (r == 0)
            return 1;
        if (r == -ETIMEDOUT)
            return sem_trywait(sem) == 0 ? 1 : 0;
        /* EINTR: wait again until the same deadline. */
    }
}

int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns)
{
    posix_sem *s = self;
    if (n < 0)
        return -EINVAL;
    int64_t deadline = timeout_ns == 0 ? 0 : semh_deadline_after(timeout_ns);
    for (int32_t taken = 0; taken < n; taken++) {
        if (!take_one(&s->sem, deadline)) {
            while (taken-- > 0) /* give back what this call took */
                sem_post(&s->sem);
            return 0;
        }
    }
    return 1;
}

int semh_acquire(void *self, int32_t n)
{
    int r = semh_try_acquire(self, n, -1);
    return r == 1 ? 0 : r == 0 ? -EINTR : r;
}

int semh_release(void *self, int32_t n)
{
    posix_sem *s = self;
    if (n < 0)
        return -EINVAL;
    if (n > INT32_MAX - semh_available(self))
        return -EOVERFLOW;
    for (int32_t i = 0; i < n; i++) {
        if (sem_post(&s->sem) != 0)
            return -errno;
    }
    return 0;
}
