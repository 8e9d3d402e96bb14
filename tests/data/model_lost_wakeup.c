/* A deliberately buggy semaphore for the model checker's tests: a lost wake-up.
 *
 * A waiter that saw too few tokens announces itself in `sleeping` and sleeps on that flag --
 * but it never re-checks the count after announcing, so a release that added tokens and found
 * no sleeper in between leaves it asleep for ever (the model reports 'deadlock'). */
#include "semharness.h"

typedef struct {
    semh_atomic32 count;
    semh_atomic32 sleeping;
} lost_wakeup_sem;

SEMH_IMPLEMENTATION(lost_wakeup_sem, "BUGGY: waiter never re-checks after announcing itself",
                    SEMH_CAP_MODEL | SEMH_CAP_MULTI_ACQUIRE);

int semh_init(void *self, int32_t initial)
{
    lost_wakeup_sem *s = self;
    if (initial < 0)
        return -EINVAL;
    semh_init32(&s->count, (uint32_t)initial);
    semh_init32(&s->sleeping, 0);
    return 0;
}

void semh_destroy(void *self) { (void)self; }

int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns)
{
    lost_wakeup_sem *s = self;
    if (n < 0)
        return -EINVAL;
    int64_t deadline = semh_deadline_after(timeout_ns);
    for (;;) {
        uint32_t c = semh_load32(&s->count, SEMH_SEQ_CST);
        if (c >= (uint32_t)n) {
            if (semh_cas32(&s->count, &c, c - (uint32_t)n, SEMH_SEQ_CST))
                return 1;
            continue;
        }
        if (timeout_ns == 0)
            return 0;
        semh_store32(&s->sleeping, 1, SEMH_SEQ_CST);
        /* BUG: the count is not looked at again before sleeping */
        if (semh_futex_wait(semh_futex32(&s->sleeping), 1, deadline) == -ETIMEDOUT)
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
    lost_wakeup_sem *s = self;
    if (n < 0)
        return -EINVAL;
    semh_fetch_add32(&s->count, (uint32_t)n, SEMH_SEQ_CST);
    if (semh_exchange32(&s->sleeping, 0, SEMH_SEQ_CST))
        semh_futex_wake(semh_futex32(&s->sleeping), SEMH_WAKE_ALL);
    return 0;
}

int32_t semh_available(void *self)
{
    lost_wakeup_sem *s = self;
    return (int32_t)semh_load32(&s->count, SEMH_SEQ_CST);
}
