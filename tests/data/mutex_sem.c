/* A user's semaphore as the README shows it: a count under a mutex and condition variable. */
#include "semharness.h"

typedef struct {
    semh_mutex lock;
    semh_cond changed;
    int32_t count;
} mutex_sem;

SEMH_IMPLEMENTATION(mutex_sem, "count under a mutex and condition variable", SEMH_CAP_ALL);

int semh_init(void *self, int32_t initial)
{
    mutex_sem *s = self;
    if (initial < 0)
        return -EINVAL;
    s->count = initial;
    int r = semh_mutex_init(&s->lock);
    return r ? r : semh_cond_init(&s->changed);
}

void semh_destroy(void *self)
{
    mutex_sem *s = self;
    semh_cond_destroy(&s->changed);
    semh_mutex_destroy(&s->lock);
}

int semh_try_acquire(void *self, int32_t n, int64_t timeout_ns)
{
    mutex_sem *s = self;
    if (n < 0)
        return -EINVAL;
    int64_t deadline = semh_deadline_after(timeout_ns);
    int got = 1;
    semh_mutex_lock(&s->lock);
    while (s->count < n) {
        if (timeout_ns == 0 || semh_cond_wait(&s->changed, &s->lock, deadline) == -ETIMEDOUT) {
            got = s->count >= n;
            break;
        }
    }
    if (got)
        s->count -= n;
    semh_mutex_unlock(&s->lock);
    return got;
}

int semh_acquire(void *self, int32_t n)
{
    int r = semh_try_acquire(self, n, -1);
    return r == 1 ? 0 : r == 0 ? -EINTR : r;
}

int semh_release(void *self, int32_t n)
{
    mutex_sem *s = self;
    if (n < 0)
        return -EINVAL;
    semh_mutex_lock(&s->lock);
    if (n > INT32_MAX - s->count) {
        semh_mutex_unlock(&s->lock);
        return -EOVERFLOW;
    }
    s->count += n;
    semh_cond_broadcast(&s->changed);
    semh_mutex_unlock(&s->lock);
    return 0;
}

int32_t semh_available(void *self)
{
    mutex_sem *s = self;
    semh_mutex_lock(&s->lock);
    int32_t count = s->count;
    semh_mutex_unlock(&s->lock);
    return count;
}
