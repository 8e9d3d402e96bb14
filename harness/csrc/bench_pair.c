/*
 * bench_pair.c -- the uncontended acquire+release pair cost of ONE C semaphore implementation,
 * natively.  Compiled together with exactly one implementation file, with optimisation and
 * WITHOUT link-time optimisation (the contract calls live in the other translation unit, so
 * the compiler cannot drop or merge them):
 *
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -Iharness/csrc harness/csrc/bench_pair.c \
 *       implementations/c/futex64.c -lpthread -o bench_pair
 *   ./bench_pair [ITERATIONS [REPEATS]]          defaults: 5000000 7
 *
 * semh_init(state, 1), then REPEATS timed runs of ITERATIONS x { acquire(1); release(1); }
 * (after one untimed warm-up run), CLOCK_MONOTONIC; the best run counts.  Prints exactly one
 * JSON line:
 *   {"description": "...", "ns_per_pair": 12.345, "iterations": 5000000, "repeats": 7}
 * The baseline is simply another implementation (posix_sem.c) built with this same driver.
 * Exit status: 0, 1 if an operation failed, 2 on bad arguments.
 */
#include "semharness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long parse_positive(const char *arg, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v <= 0) {
        fprintf(stderr, "bench_pair: %s must be a positive integer, got '%s'\n", what, arg);
        exit(2);
    }
    return v;
}

/* One run of k pairs; returns its duration in ns, or -1 if an operation failed. */
static int64_t run(void *state, long k)
{
    int64_t t0 = now_ns();
    for (long i = 0; i < k; i++) {
        if (semh_acquire(state, 1) != 0 || semh_release(state, 1) != 0)
            return -1;
    }
    return now_ns() - t0;
}

/* Writes s as the inside of a JSON string. */
static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    if (argc > 3 || (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))) {
        fprintf(stderr, "usage: %s [ITERATIONS [REPEATS]]   (defaults 5000000 7)\n", argv[0]);
        return 2;
    }
    long iterations = argc > 1 ? parse_positive(argv[1], "ITERATIONS") : 5000000;
    long repeats = argc > 2 ? parse_positive(argv[2], "REPEATS") : 7;

    size_t size = (semh_info.state_size + 63) & ~(size_t)63;
    void *state = aligned_alloc(64, size ? size : 64);
    if (state == NULL) {
        fprintf(stderr, "bench_pair: out of memory\n");
        return 1;
    }
    memset(state, 0, size ? size : 64);
    int r = semh_init(state, 1);
    if (r != 0) {
        fprintf(stderr, "bench_pair: semh_init(1) returned %d\n", r);
        return 1;
    }

    /* Warm-up: caches, branch predictors, CPU frequency. */
    if (run(state, iterations < 1000000 ? iterations : 1000000) < 0) {
        fprintf(stderr, "bench_pair: acquire/release failed\n");
        return 1;
    }
    int64_t best = -1;
    for (long rep = 0; rep < repeats; rep++) {
        int64_t t = run(state, iterations);
        if (t < 0) {
            fprintf(stderr, "bench_pair: acquire/release failed\n");
            return 1;
        }
        if (best < 0 || t < best)
            best = t;
    }
    if (semh_available(state) != 1) {
        fprintf(stderr, "bench_pair: available() = %d after the runs, expected 1\n",
                (int)semh_available(state));
        return 1;
    }
    semh_destroy(state);
    free(state);

    printf("{\"description\": ");
    json_string(semh_info.description);
    printf(", \"ns_per_pair\": %.3f, \"iterations\": %ld, \"repeats\": %ld}\n",
           (double)best / (double)iterations, iterations, repeats);
    return 0;
}
