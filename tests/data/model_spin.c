/* A deliberately buggy semaphore for the model checker's tests: acquire() spins on the count
 * without ever sleeping, so with no tokens coming it never ends (the model reports
 * 'step-limit', a livelock candidate). */
#include "semharness.h"

typedef struct {
    semh_atomic32 count;
} spin_sem;

SEMH_IMPLEMENTATION(spin_sem, "BUGGY: acquire spins for ever",
                    SEMH_CAP_MODEL | SEMH_CAP_MULTI_ACQUIRE);

int semh_init(void *self, int32_t initial)
{
    spin_sem *s = self;
    if (initial < 0)
        return -EINVAL;
    semh_init32(&s->count, (uint32_t)initial);
    return 0;
}

void semh_destroy(void *self) { (void)self; }

int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns)
{
    spin_sem *s = self;
    if (n < 0)
        return -EINVAL;
    for (;;) {
        uint32_t c = semh_load32(&s->count, SEMH_ACQUIRE);
        if (c >= (uint32_t)n && semh_cas32(&s->count, &c, c - (uint32_t)n, SEMH_ACQUIRE))
            return 1;
        if (timeout_ns == 0)
            return 0;
    }
}

int semh_acquire(void *self, int32_t n)
{
    return semh_try_acquire(self, n, -1) ? 0 : -EINTR;
}

int semh_release(void *self, int32_t n)
{
    spin_sem *s = self;
    if (n < 0)
        return -EINVAL;
    semh_fetch_add32(&s->count, (uint32_t)n, SEMH_RELEASE);
    return 0;
}

int32_t semh_available(void *self)
{
    spin_sem *s = self;
    return (int32_t)semh_load32(&s->count, SEMH_RELAXED);
}
