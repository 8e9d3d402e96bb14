/* A test implementation whose acquire spins for ever: every run exceeds its step bound. */
#include "semharness.h"

typedef struct {
    semh_atomic32 count;
} spin_sem;

SEMH_IMPLEMENTATION(spin_sem, "test: acquire never returns", SEMH_CAP_MODEL);

int semh_init(void *self, int32_t initial)
{
    semh_init32(&((spin_sem *)self)->count, (uint32_t)initial);
    return 0;
}

void semh_destroy(void *self) { (void)self; }

int32_t semh_available(void *self)
{
    return (int32_t)semh_load32(&((spin_sem *)self)->count, SEMH_SEQ_CST);
}

int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns)
{
    (void)n;
    (void)timeout_ns;
    for (;;)
        (void)semh_load32(&((spin_sem *)self)->count, SEMH_SEQ_CST); /* the bug */
}

int semh_acquire(void *self, int32_t n) { return semh_try_acquire(self, n, -1) == 1 ? 0 : -EINTR; }

int semh_release(void *self, int32_t n)
{
    semh_fetch_add32(&((spin_sem *)self)->count, (uint32_t)n, SEMH_SEQ_CST);
    return 0;
}
