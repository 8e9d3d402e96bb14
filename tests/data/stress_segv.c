/* A test implementation that crashes with SIGSEGV on its first release: a stress run must
 * report the crash and its signal, and the harness must stay up. */
#include "semharness.h"

typedef struct {
    semh_atomic32 count;
} segv_sem;

SEMH_IMPLEMENTATION(segv_sem, "test: release dereferences NULL", SEMH_CAP_ALL);

int semh_init(void *self, int32_t initial)
{
    if (initial < 0)
        return -EINVAL;
    semh_init32(&((segv_sem *)self)->count, (uint32_t)initial);
    return 0;
}

void semh_destroy(void *self) { (void)self; }

int32_t semh_available(void *self)
{
    return (int32_t)semh_load32(&((segv_sem *)self)->count, SEMH_SEQ_CST);
}

int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns)
{
    segv_sem *s = self;
    (void)timeout_ns;
    if (n < 0)
        return -EINVAL;
    uint32_t cur = semh_load32(&s->count, SEMH_SEQ_CST);
    while (cur >= (uint32_t)n)
        if (semh_cas32(&s->count, &cur, cur - (uint32_t)n, SEMH_SEQ_CST))
            return 1;
    return 0;
}

int semh_acquire(void *self, int32_t n)
{
    while (semh_try_acquire(self, n, 0) != 1) {
    }
    return 0;
}

int semh_release(void *self, int32_t n)
{
    (void)self;
    (void)n;
    /* The bug.  Both the pointer and the store are volatile: the compiler can neither see
     * that the pointer is NULL (and put a trap instruction, SIGILL, in its place) nor drop
     * the store, so it must fault (SIGSEGV). */
    volatile int *volatile nowhere = NULL;
    *nowhere = 1;
    return 0;
}
