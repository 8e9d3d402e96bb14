/* A test implementation whose acquire never returns: it sleeps on a word no release ever
 * changes, whatever the count (a lost wake-up in its purest form).  The tries, release and
 * available work, so a stress run goes on until every thread has drawn an acquire -- and then
 * the driver's watchdog must report the hang, with each thread blocked in acquire and the
 * count. */
#include "semharness.h"

typedef struct {
    semh_atomic32 count;
    semh_atomic32 never_changes;
} deadlock_sem;

SEMH_IMPLEMENTATION(deadlock_sem, "test: acquire never wakes up", SEMH_CAP_ALL);

int semh_init(void *self, int32_t initial)
{
    deadlock_sem *s = self;
    if (initial < 0)
        return -EINVAL;
    semh_init32(&s->count, (uint32_t)initial);
    semh_init32(&s->never_changes, 0);
    return 0;
}

void semh_destroy(void *self) { (void)self; }

int32_t semh_available(void *self)
{
    return (int32_t)semh_load32(&((deadlock_sem *)self)->count, SEMH_SEQ_CST);
}

int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns)
{
    deadlock_sem *s = self;
    (void)timeout_ns; /* never waits: a timed try fails at once when the tokens are not there */
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
    deadlock_sem *s = self;
    if (n < 0)
        return -EINVAL;
    for (;;) /* the bug: nothing ever wakes this wait, and no token is ever looked at */
        semh_futex_wait(semh_futex32(&s->never_changes), 0, SEMH_NO_DEADLINE);
}

int semh_release(void *self, int32_t n)
{
    deadlock_sem *s = self;
    if (n < 0)
        return -EINVAL;
    semh_fetch_add32(&s->count, (uint32_t)n, SEMH_SEQ_CST);
    return 0;
}
