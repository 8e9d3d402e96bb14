/* An example project's C semaphore, written to semharness.h: the count in one 32-bit word,
 * taken with a CAS; a waiter sleeps on the count it saw, and every release wakes all waiters
 * (each re-checks, so none is woken for the wrong number of tokens). */
#include "semharness.h"

typedef struct {
    semh_atomic32 count;
} wake_all_sem;

SEMH_IMPLEMENTATION(wake_all_sem, "one word, CAS, release wakes all", SEMH_CAP_ALL);

int semh_init(void *self, int32_t initial)
{
    wake_all_sem *s = self;
    if (initial < 0)
        return -EINVAL;
    semh_init32(&s->count, (uint32_t)initial);
    return 0;
}

void semh_destroy(void *self) { (void)self; }

/* Takes n tokens if the count has them: 1, else 0 with *seen the count that was too small. */
static int take(wake_all_sem *s, int32_t n, uint32_t *seen)
{
    uint32_t c = semh_load32(&s->count, SEMH_RELAXED);
    while ((int32_t)c >= n) {
        if (semh_cas32(&s->count, &c, c - (uint32_t)n, SEMH_ACQUIRE))
            return 1;
    }
    *seen = c;
    return 0;
}

int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns)
{
    wake_all_sem *s = self;
    if (n < 0)
        return -EINVAL;
    int64_t deadline = semh_deadline_after(timeout_ns);
    uint32_t seen;
    while (!take(s, n, &seen)) {
        if (timeout_ns == 0)
            return 0;
        if (semh_futex_wait(semh_futex32(&s->count), seen, deadline) == -ETIMEDOUT) {
            if (deadline == SEMH_NO_DEADLINE) /* the caller is being interrupted */
                return 0;
            return take(s, n, &seen); /* a last look, without waiting again */
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
    wake_all_sem *s = self;
    if (n < 0)
        return -EINVAL;
    if (n == 0)
        return 0;
    uint32_t c = semh_load32(&s->count, SEMH_RELAXED);
    do {
        if (n > INT32_MAX - (int32_t)c)
            return -EOVERFLOW;
    } while (!semh_cas32(&s->count, &c, c + (uint32_t)n, SEMH_RELEASE));
    semh_futex_wake(semh_futex32(&s->count), SEMH_WAKE_ALL);
    return 0;
}

int32_t semh_available(void *self)
{
    wake_all_sem *s = self;
    return (int32_t)semh_load32(&s->count, SEMH_RELAXED);
}
