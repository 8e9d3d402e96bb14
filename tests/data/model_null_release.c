/* A deliberately buggy semaphore for the model checker's tests: release() writes through a
 * NULL pointer once it has added its tokens (the model run ends in a crash). */
#include "semharness.h"

typedef struct {
    semh_atomic32 count;
} null_release_sem;

SEMH_IMPLEMENTATION(null_release_sem, "BUGGY: release dereferences NULL",
                    SEMH_CAP_MODEL | SEMH_CAP_MULTI_ACQUIRE);

int semh_init(void *self, int32_t initial)
{
    null_release_sem *s = self;
    if (initial < 0)
        return -EINVAL;
    semh_init32(&s->count, (uint32_t)initial);
    return 0;
}

void semh_destroy(void *self) { (void)self; }

int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns)
{
    null_release_sem *s = self;
    (void)timeout_ns;
    if (n < 0)
        return -EINVAL;
    uint32_t c = semh_load32(&s->count, SEMH_ACQUIRE);
    while (c >= (uint32_t)n) {
        if (semh_cas32(&s->count, &c, c - (uint32_t)n, SEMH_ACQUIRE))
            return 1;
    }
    return 0;
}

int semh_acquire(void *self, int32_t n)
{
    return semh_try_acquire(self, n, 0) ? 0 : -EINTR;
}

int semh_release(void *self, int32_t n)
{
    null_release_sem *s = self;
    if (n < 0)
        return -EINVAL;
    semh_fetch_add32(&s->count, (uint32_t)n, SEMH_RELEASE);
    volatile int32_t *volatile nowhere = NULL;
    *nowhere = n; /* BUG */
    return 0;
}

int32_t semh_available(void *self)
{
    null_release_sem *s = self;
    return (int32_t)semh_load32(&s->count, SEMH_RELAXED);
}
