/* A deliberately buggy semaphore for the model checker's tests: a timed wait that restarts its
 * full timeout after every wake-up (the model reports a timeout-accuracy finding). */
#include "semharness.h"

typedef struct {
    semh_atomic32 count;
} restart_sem;

SEMH_IMPLEMENTATION(restart_sem, "BUGGY: timed wait restarts its timeout after each wake-up",
                    SEMH_CAP_ALL);

int semh_init(void *self, int32_t initial)
{
    restart_sem *s = self;
    if (initial < 0)
        return -EINVAL;
    semh_init32(&s->count, (uint32_t)initial);
    return 0;
}

void semh_destroy(void *self) { (void)self; }

int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns)
{
    restart_sem *s = self;
    if (n < 0)
        return -EINVAL;
    for (;;) {
        uint32_t c = semh_load32(&s->count, SEMH_ACQUIRE);
        if (c >= (uint32_t)n) {
            if (semh_cas32(&s->count, &c, c - (uint32_t)n, SEMH_ACQUIRE))
                return 1;
            continue;
        }
        if (timeout_ns == 0)
            return 0;
        /* BUG: a fresh deadline for every wait */
        if (semh_futex_wait(semh_futex32(&s->count), c, semh_deadline_after(timeout_ns)) ==
            -ETIMEDOUT)
            return 0;
    }
}

int semh_acquire(void *self, int32_t n)
{
    int r = semh_try_acquire(self, n, -1);
    return r == 1 ? 0 : r == 0 ? -EINTR : r;
}

int semh_release(void *self, int32_t n)
{
    restart_sem *s = self;
    if (n < 0)
        return -EINVAL;
    uint32_t c = semh_load32(&s->count, SEMH_RELAXED);
    do {
        if ((uint32_t)n > (uint32_t)INT32_MAX - c)
            return -EOVERFLOW;
    } while (!semh_cas32(&s->count, &c, c + (uint32_t)n, SEMH_RELEASE));
    semh_futex_wake(semh_futex32(&s->count), SEMH_WAKE_ALL);
    return 0;
}

int32_t semh_available(void *self)
{
    restart_sem *s = self;
    return (int32_t)semh_load32(&s->count, SEMH_RELAXED);
}
