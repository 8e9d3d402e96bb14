/* A test implementation that crashes (a NULL store) as soon as a caller would have to wait:
 * the model checker must report the crash with its schedule and stay up. */
#include "semharness.h"

typedef struct {
    semh_atomic32 count;
} crash_sem;

SEMH_IMPLEMENTATION(crash_sem, "test: crashes when a caller would have to wait", SEMH_CAP_MODEL);

int semh_init(void *self, int32_t initial)
{
    semh_init32(&((crash_sem *)self)->count, (uint32_t)initial);
    return 0;
}

void semh_destroy(void *self) { (void)self; }

int32_t semh_available(void *self)
{
    return (int32_t)semh_load32(&((crash_sem *)self)->count, SEMH_SEQ_CST);
}

int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns)
{
    crash_sem *s = self;
    uint32_t cur = semh_load32(&s->count, SEMH_SEQ_CST);
    while (cur >= (uint32_t)n)
        if (semh_cas32(&s->count, &cur, cur - (uint32_t)n, SEMH_SEQ_CST))
            return 1;
    if (timeout_ns == 0)
        return 0;
    volatile int *nowhere = NULL;
    *nowhere = 1; /* the bug */
    return 0;
}

int semh_acquire(void *self, int32_t n) { return semh_try_acquire(self, n, -1) == 1 ? 0 : -EINTR; }

int semh_release(void *self, int32_t n)
{
    semh_fetch_add32(&((crash_sem *)self)->count, (uint32_t)n, SEMH_SEQ_CST);
    return 0;
}
