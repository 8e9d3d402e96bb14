/*
 * model_runtime.c -- the C executor of semharness's model checker: a deterministic scheduler
 * over simulated threads, and its CPython binding.
 *
 * Compiled together with ONE implementation file (unmodified, written to semharness.h) with
 * -DSEMH_BACKEND_MODEL -DSEMH_MODULE=<name> into an extension module.  The header's model
 * backend (semharness_model.h) turns every atomic, futex, clock, mutex and condition call into
 * a call of the semh__model_* functions below; each first yields to the scheduler (a
 * *scheduling point*) and, once the scheduler picks the thread again, performs the operation
 * as one *visible step* in virtual time.  The executor contract (programs, options, schedule
 * specs, outcomes, history, trace, signature) is the one harness/model/core.py describes.
 *
 * Design, and why:
 * - Simulated threads run on their own stacks (mmap'd once, a guard page below each, reused by
 *   every run and every runner of the module), switched by a few instructions of assembly on
 *   x86-64 and aarch64 (callee-saved registers and the stack pointer), by ucontext elsewhere.
 *   The scheduler loop runs on the caller's stack; a visible step costs two switches.
 * - Only one thread runs at a time, so shared words are plain memory and every operation is
 *   sequentially consistent; memory orders are kept for the trace.
 * - Nothing is allocated per run once the buffers (trail, trace, findings) have grown to the
 *   sizes the runs need: a run is a few thousand instructions, and the model checker makes
 *   tens of thousands of runs a second.
 * - A crash of the code under test (SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL) cannot be
 *   survived in-process: the handler (in place only while a run is in progress) writes the
 *   trace so far (when tracing) and the trail so far to the crash fd with write(2) and _exits
 *   with status 86; the harness runs executors in a worker process and reads the lines back
 *   (harness/model/cexec.py, parse_crash).
 *
 * Where the contract leaves room, this executor does as follows:
 * - A thread parks at a scheduling point before each visible step, and before each sleep (a
 *   step of its own, one tick).  What it does between two of them -- the return of a call,
 *   the invoke of its next call -- happens with the step before; so the first RUN of a thread
 *   records its first invoke and takes it to the scheduling point before its first visible
 *   step.  The step limit counts visible steps and sleeps.
 * - A wake (futex wake, notify, unlock) makes the woken thread runnable; it leaves its wait
 *   when a RUN option picks it.  A TIMEOUT or SPURIOUS option resumes the thread at once: it
 *   leaves its wait and runs to its next scheduling point (it is then `current`).
 * - A condition waiter re-takes its mutex as the visible step that follows its wake-up; an
 *   unlock makes every thread blocked on the mutex runnable, and they try again (barging).
 * - PCT counts its change points in recorded step choice points (width >= 2).
 * - The timeout-accuracy deadline of a timed try_acquire is fixed at its first futex or
 *   condition wait: the clock value the call last read before it (from which a correct
 *   implementation computes its deadline: every step takes virtual time, so I + timeout would
 *   flag them all) plus the timeout, or the invoke time plus the timeout when it read none.
 *   Only waits that block are checked; mutex waits are not (the C mutex has no timed lock).
 *
 * With -DSEMH_MODEL_NO_PYTHON the Python binding is left out: a C program can #include this
 * file and drive runner_setup / runner_run itself (sanitizer and cross-architecture checks).
 */
#ifndef SEMH_MODEL_NO_PYTHON /* without: the C interface only (C drivers, cross checks) */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#endif

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "semharness.h"

#ifndef SEMH_BACKEND_MODEL
#error "compile model_runtime.c with -DSEMH_BACKEND_MODEL"
#endif
#if !defined(SEMH_MODULE) && !defined(SEMH_MODEL_NO_PYTHON)
#error "compile with -DSEMH_MODULE=<extension module name>"
#endif

#define SEMH_CAT2(a, b) a##b
#define SEMH_CAT(a, b) SEMH_CAT2(a, b)
#define SEMH_STR2(a) #a
#define SEMH_STR(a) SEMH_STR2(a)

#if !defined(SEMH_MODEL_UCONTEXT) && defined(__ELF__) &&                                       \
    (defined(__x86_64__) || defined(__aarch64__))
#define SEMH_ASM_SWITCH 1
#else
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SEMH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEMH_ASAN 1
#endif
#endif
#ifdef SEMH_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

/* ==== constants of the contract ========================================================== */

#define TICK INT64_C(1000)            /* virtual ns per visible step, invoke and return */
#define MAX_THREADS 256               /* program threads; the observer is one more */
#define STACK_SIZE ((size_t)256 << 10) /* per simulated thread, plus a guard page */
#define MAX_FINDINGS 32
#define FINDING_LEN 200
#define CRASH_EXIT 86

enum { ACT_ACQUIRE, ACT_TRY, ACT_RELEASE, ACT_AVAILABLE, ACT_SLEEP };
enum { OPT_RUN, OPT_TIMEOUT, OPT_SPURIOUS };
enum { KIND_PREEMPTIBLE, KIND_FREE, KIND_WAKE };
enum { MODE_PREFIX, MODE_RANDOM, MODE_PCT };
enum { OUT_NONE, OUT_DONE, OUT_DEADLOCK, OUT_STEP_LIMIT, OUT_MISMATCH, OUT_COUNT };
static const char *const OUTCOME_NAMES[OUT_COUNT] = {"", "done", "deadlock", "step-limit",
                                                     "mismatch"};

enum { TS_RUNNABLE, TS_RUNNING, TS_BLOCKED, TS_FINISHED };
enum { W_NONE, W_FUTEX, W_COND, W_MUTEX, W_SLEEP };

enum {
    TK_INVOKE, TK_RETURN, TK_LOAD, TK_STORE, TK_EXCHANGE, TK_CAS, TK_CAS_FAIL, TK_FETCH_ADD,
    TK_FETCH_SUB, TK_FETCH_OR, TK_FETCH_AND, TK_FUTEX_WAIT, TK_FUTEX_WAKE, TK_WAKE, TK_TIMEOUT,
    TK_SPURIOUS, TK_LOCK, TK_UNLOCK, TK_COND_WAIT, TK_NOTIFY, TK_NOTIFY_ALL, TK_CLOCK, TK_SLEEP,
    TK_COUNT
};
static const char *const TRACE_KINDS[TK_COUNT] = {
    "invoke", "return", "load", "store", "exchange", "cas", "cas-fail", "fetch_add",
    "fetch_sub", "fetch_or", "fetch_and", "futex_wait", "futex_wake", "wake", "timeout",
    "spurious", "lock", "unlock", "cond_wait", "notify", "notify_all", "clock", "sleep"};
static const char *const OP_CALL_NAMES[] = {"acquire", "try_acquire", "release", "available"};
static const char *const ORDER_NAMES[] = {"relaxed", "acquire", "release", "acq_rel",
                                          "seq_cst"};

/* How a trace target is named: no target, a word ("+8"), or a half of a 64-bit word. */
enum { TG_NONE, TG_WORD, TG_LO, TG_HI };
/* Whether a trace value is absent, unsigned (a word) or signed (a time, a count). */
enum { VF_NONE, VF_U, VF_S };

/* ==== data ================================================================================ */

struct action {
    int32_t code;
    int32_t n;
    int64_t timeout; /* try_acquire: < 0 is -1 (forever); sleep: the duration */
};

#ifdef SEMH_ASM_SWITCH
typedef struct {
    void *sp;
} ctx_t;
#else
typedef struct {
    ucontext_t uc;
} ctx_t;
#endif

struct sthread {
    ctx_t ctx;
    char *stack; /* STACK_SIZE usable bytes */
    int id;
    int state;
    /* what a blocked thread waits on */
    int wait_kind;
    const void *wait_obj;
    int wait_half;    /* TG_* of the futex word, for the trace */
    int64_t deadline; /* absolute, < 0 none */
    uint64_t wait_seq; /* FIFO order among waiters */
    int wake_result;  /* what the wait returns once resumed: 0 or -ETIMEDOUT */
    /* the program */
    const struct action *actions;
    int nactions;
    int op; /* index of the action being run */
    /* the contract call in progress, for the timeout-accuracy check */
    int64_t call_timeout;  /* > 0 inside a timed try_acquire */
    int64_t call_deadline; /* fixed at its first wait: -1 until then */
    int64_t last_read;     /* the clock value last read inside the call, -1 none */
    int call_found;        /* the call has had its timeout-accuracy finding */
    int64_t invoke_ns;
    int64_t prio; /* PCT priority */
    /* random mode: the step point at which the timed wait ending at `timeout_for` times out */
    int64_t timeout_for;
    int64_t timeout_at;
};

struct hrow {
    int32_t thread, code, n, result;
    int64_t timeout, invoke, ret; /* ret -1: pending */
};

struct tstep {
    int32_t thread, op;
    uint8_t kind, oldf, newf;
    uint64_t old, new_;
    char target[24];
    char note[80];
};

typedef struct {
#ifndef SEMH_MODEL_NO_PYTHON
    PyObject_HEAD
#endif
    /* the program and the config (fixed at construction) */
    int nthreads;
    struct action *actions; /* every thread's actions, then the observer's */
    int *first_action;      /* per thread, index into actions; [nthreads + 1] entries */
    int ncalls;             /* contract calls of the program, observer included */
    int32_t initial;
    int adversarial;
    int32_t spurious_budget;
    int64_t max_steps;
    int crash_fd;
    struct sthread *threads; /* nthreads + 1 (the observer) */
    void *state;
    size_t state_alloc;
    uint32_t *options;
    struct hrow *hist;
    unsigned char *sig;
    size_t sig_cap;
    /* the schedule spec of the run */
    int mode;
    uint32_t *prefix;
    size_t nprefix, prefix_cap;
    int64_t depth, horizon;
    uint64_t rng[4];
    int64_t *change_points;
    size_t nchange, change_cap, next_change;
    int64_t step_points;
    /* the run */
    int tracing;
    int nlive; /* threads taking part: nthreads, or nthreads + 1 once the observer runs */
    int current;
    int observer_started;
    int pre_outcome;
    int stop;
    int outcome;
    int ran; /* a run has been made: trail/history/... are meaningful */
    int64_t clock;
    int64_t steps;
    int32_t spurious_left;
    uint64_t seq;
    int nhist;
    size_t nsig;
    uint32_t *t_chosen, *t_width, *t_kind;
    size_t ntrail, trail_cap;
    struct tstep *trace;
    size_t ntrace, trace_cap;
    char (*findings)[FINDING_LEN];
    int nfindings;
} Runner;

/* The run in progress (one at a time: the GIL is held throughout a run) and its thread. */
static Runner *g_rt;
static struct sthread *g_cur;
static ctx_t g_main_ctx;
static _Thread_local volatile sig_atomic_t tl_in_run;

/* ==== context switching ================================================================== */

#ifdef SEMH_ASM_SWITCH
/* semh__ctx_swap(save, load): pushes the callee-saved state, stores sp in *save, loads sp from
 * load and pops that context's state: returns into the other context. */
__attribute__((visibility("hidden"))) void semh__ctx_swap(void **save, void *load);
__attribute__((visibility("hidden"))) extern char semh__ctx_start[];
#if defined(__x86_64__)
__asm__(".text\n"
        ".p2align 4\n"
        ".type semh__ctx_swap,@function\n"
        "semh__ctx_swap:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size semh__ctx_swap, .-semh__ctx_swap\n"
        /* a fresh context 'returns' here: r12 = argument, r13 = function */
        ".p2align 4\n"
        ".type semh__ctx_start,@function\n"
        "semh__ctx_start:\n"
        "    movq %r12, %rdi\n"
        "    callq *%r13\n"
        "    ud2\n"
        ".size semh__ctx_start, .-semh__ctx_start\n");
#else /* aarch64 */
__asm__(".text\n"
        ".p2align 4\n"
        ".type semh__ctx_swap,%function\n"
        "semh__ctx_swap:\n"
        "    sub sp, sp, #160\n"
        "    stp x19, x20, [sp, #0]\n"
        "    stp x21, x22, [sp, #16]\n"
        "    stp x23, x24, [sp, #32]\n"
        "    stp x25, x26, [sp, #48]\n"
        "    stp x27, x28, [sp, #64]\n"
        "    stp x29, x30, [sp, #80]\n"
        "    stp d8, d9, [sp, #96]\n"
        "    stp d10, d11, [sp, #112]\n"
        "    stp d12, d13, [sp, #128]\n"
        "    stp d14, d15, [sp, #144]\n"
        "    mov x9, sp\n"
        "    str x9, [x0]\n"
        "    mov sp, x1\n"
        "    ldp x19, x20, [sp, #0]\n"
        "    ldp x21, x22, [sp, #16]\n"
        "    ldp x23, x24, [sp, #32]\n"
        "    ldp x25, x26, [sp, #48]\n"
        "    ldp x27, x28, [sp, #64]\n"
        "    ldp x29, x30, [sp, #80]\n"
        "    ldp d8, d9, [sp, #96]\n"
        "    ldp d10, d11, [sp, #112]\n"
        "    ldp d12, d13, [sp, #128]\n"
        "    ldp d14, d15, [sp, #144]\n"
        "    add sp, sp, #160\n"
        "    ret\n"
        ".size semh__ctx_swap, .-semh__ctx_swap\n"
        /* a fresh context 'returns' here: x19 = argument, x20 = function */
        ".p2align 4\n"
        ".type semh__ctx_start,%function\n"
        "semh__ctx_start:\n"
        "    mov x0, x19\n"
        "    blr x20\n"
        "    brk #0\n"
        ".size semh__ctx_start, .-semh__ctx_start\n");
#endif

/* Prepares a context that starts fn(arg) on [stack, stack + size). */
static void ctx_make(ctx_t *ctx, char *stack, size_t size, void (*fn)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
#if defined(__x86_64__)
    /* 8 bytes of mxcsr + x87 control word, r15 r14 r13 r12 rbx rbp, then the return address;
     * after the ret the stack is 16-aligned, as a call site needs. */
    uint64_t *sp = (uint64_t *)(top - 128);
    memset(sp, 0, 128);
    uint32_t mxcsr = 0x1f80;
    uint16_t fpucw = 0x037f;
    memcpy(sp, &mxcsr, 4);
    memcpy((char *)sp + 4, &fpucw, 2);
    sp[3] = (uint64_t)(uintptr_t)fn;
    sp[4] = (uint64_t)(uintptr_t)arg;
    sp[7] = (uint64_t)(uintptr_t)semh__ctx_start;
#else
    /* x19..x30 then d8..d15; x30 (the return address) is the start stub. */
    uint64_t *sp = (uint64_t *)(top - 160);
    memset(sp, 0, 160);
    sp[0] = (uint64_t)(uintptr_t)arg;
    sp[1] = (uint64_t)(uintptr_t)fn;
    sp[11] = (uint64_t)(uintptr_t)semh__ctx_start;
#endif
    ctx->sp = sp;
}

static inline void ctx_swap(ctx_t *from, ctx_t *to) { semh__ctx_swap(&from->sp, to->sp); }

#else /* ucontext */

struct ucstart {
    void (*fn)(void *);
    void *arg;
};

/* makecontext passes int arguments only: the pointer travels as two halves. */
static void ctx_trampoline(unsigned hi, unsigned lo)
{
    uintptr_t fa = ((uintptr_t)hi << 16 << 16) | (uintptr_t)lo;
    struct ucstart *start = (struct ucstart *)fa;
    start->fn(start->arg);
}

static void ctx_make(ctx_t *ctx, char *stack, size_t size, void (*fn)(void *), void *arg)
{
    /* fn and arg are kept at the top of the stack, where the trampoline finds them */
    struct ucstart *start = (struct ucstart *)(((uintptr_t)stack + size - 64) & ~(uintptr_t)15);
    start->fn = fn;
    start->arg = arg;
    uintptr_t fa = (uintptr_t)start;
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = stack;
    ctx->uc.uc_stack.ss_size = size - 64;
    ctx->uc.uc_link = NULL;
    makecontext(&ctx->uc, (void (*)(void))ctx_trampoline, 2, (unsigned)(fa >> 16 >> 16),
                (unsigned)(fa & 0xffffffffu));
}

static inline void ctx_swap(ctx_t *from, ctx_t *to) { swapcontext(&from->uc, &to->uc); }
#endif

#ifdef SEMH_ASAN
static const void *g_main_bottom;
static size_t g_main_size;
#endif

/* Main (the scheduler) -> simulated thread t. */
static void switch_to_thread(struct sthread *t)
{
#ifdef SEMH_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, t->stack, STACK_SIZE);
#endif
    g_cur = t;
    ctx_swap(&g_main_ctx, &t->ctx);
#ifdef SEMH_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

/* Simulated thread t -> main; `dies`: t is never resumed (it finished). */
static void switch_to_main(struct sthread *t, int dies)
{
#ifdef SEMH_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(dies ? NULL : &fake, g_main_bottom, g_main_size);
#else
    (void)dies;
#endif
    ctx_swap(&t->ctx, &g_main_ctx);
#ifdef SEMH_ASAN
    __sanitizer_finish_switch_fiber(fake, &g_main_bottom, &g_main_size);
#endif
}

/* ==== stacks ============================================================================== */

static char **g_stacks;
static int g_nstacks;

/* The i-th simulated stack, mapped on first use with a PROT_NONE guard page below it. */
static char *stack_get(int i)
{
    if (i < g_nstacks)
        return g_stacks[i];
    char **grown = realloc(g_stacks, sizeof *g_stacks * (size_t)(i + 1));
    if (grown == NULL)
        return NULL;
    g_stacks = grown;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    while (g_nstacks <= i) {
        char *base = mmap(NULL, STACK_SIZE + page, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED)
            return NULL;
        if (mprotect(base, page, PROT_NONE) != 0) {
            munmap(base, STACK_SIZE + page);
            return NULL;
        }
        g_stacks[g_nstacks++] = base + page;
    }
    return g_stacks[i];
}

/* ==== crash handling ===================================================================== */

static const int CRASH_SIGNALS[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
#define NCRASH ((int)(sizeof CRASH_SIGNALS / sizeof CRASH_SIGNALS[0]))
static struct sigaction g_old_actions[NCRASH];
static volatile sig_atomic_t g_installed[NCRASH];
static _Thread_local int tl_altstack_checked;

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static char *put_str(char *p, char *end, const char *s)
{
    while (*s && p < end)
        *p++ = *s++;
    return p;
}

static char *put_u64(char *p, char *end, uint64_t v)
{
    char tmp[24];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k > 0 && p < end)
        *p++ = tmp[--k];
    return p;
}

static char *put_i64(char *p, char *end, int64_t v)
{
    if (v < 0) {
        if (p < end)
            *p++ = '-';
        return put_u64(p, end, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(p, end, (uint64_t)v);
}

static char *put_value(char *p, char *end, int flag, uint64_t v)
{
    if (flag == VF_U)
        return put_u64(p, end, v);
    if (flag == VF_S)
        return put_i64(p, end, (int64_t)v);
    return put_str(p, end, "-");
}

/* Async-signal-safe: the trace so far (when tracing), then the trail, then _exit. */
static void crash_handler(int sig, siginfo_t *info, void *uctx)
{
    (void)info;
    (void)uctx;
    Runner *rt = g_rt;
    if (!tl_in_run || rt == NULL) {
        /* Another OS thread's signal during a run: hand it to whoever had it before. */
        for (int k = 0; k < NCRASH; k++) {
            if (CRASH_SIGNALS[k] == sig && g_installed[k]) {
                sigaction(sig, &g_old_actions[k], NULL);
                g_installed[k] = 0;
            }
        }
        raise(sig);
        return;
    }
    char buf[512];
    char *end = buf + sizeof buf - 1;
    if (rt->tracing) {
        for (size_t i = 0; i < rt->ntrace; i++) {
            const struct tstep *s = &rt->trace[i];
            char *p = put_str(buf, end, "SEMH-TRACE\t");
            p = put_i64(p, end, s->thread);
            p = put_str(p, end, "\t");
            p = put_i64(p, end, s->op);
            p = put_str(p, end, "\t");
            p = put_str(p, end, TRACE_KINDS[s->kind]);
            p = put_str(p, end, "\t");
            p = put_str(p, end, s->target);
            p = put_str(p, end, "\t");
            p = put_value(p, end, s->oldf, s->old);
            p = put_str(p, end, "\t");
            p = put_value(p, end, s->newf, s->new_);
            p = put_str(p, end, "\t");
            p = put_str(p, end, s->note);
            *p++ = '\n';
            write_all(rt->crash_fd, buf, (size_t)(p - buf));
        }
    }
    char *p = put_str(buf, end, "SEMH-CRASH ");
    p = put_i64(p, end, sig);
    p = put_str(p, end, " ");
    for (size_t i = 0; i < rt->ntrail; i++) {
        if (end - p < 24) {
            write_all(rt->crash_fd, buf, (size_t)(p - buf));
            p = buf;
        }
        if (i > 0)
            *p++ = ',';
        p = put_u64(p, end, rt->t_chosen[i]);
    }
    *p++ = '\n';
    write_all(rt->crash_fd, buf, (size_t)(p - buf));
    _exit(CRASH_EXIT);
}

/* The handlers are in place only while a run is in progress (installed by runner_run, the
 * previous dispositions put back when it returns), so nothing of ours is left in the way of
 * other handlers (faulthandler, signal.signal) between runs.  The alternate signal stack, which
 * a stack overflow of a simulated thread needs, is set up once per OS thread that has none. */
static void install_crash_handlers(void)
{
    if (!tl_altstack_checked) {
        stack_t cur;
        if (sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE)) {
            size_t size = 1 << 16;
            void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                             -1, 0);
            if (mem != MAP_FAILED) {
                stack_t ss = {.ss_sp = mem, .ss_size = size, .ss_flags = 0};
                sigaltstack(&ss, NULL); /* kept for the life of the OS thread */
            }
        }
        tl_altstack_checked = 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = crash_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (int k = 0; k < NCRASH; k++)
        g_installed[k] = sigaction(CRASH_SIGNALS[k], &sa, &g_old_actions[k]) == 0;
}

static void restore_crash_handlers(void)
{
    for (int k = 0; k < NCRASH; k++) {
        if (g_installed[k])
            sigaction(CRASH_SIGNALS[k], &g_old_actions[k], NULL);
        g_installed[k] = 0;
    }
}

/* ==== recording: trail, trace, history, signature, findings =============================== */

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need)
        cap2 *= 2;
    void *p = realloc(*buf, cap2 * elem);
    if (p == NULL)
        return -1;
    *buf = p;
    *cap = cap2;
    return 0;
}

static int trail_push(Runner *rt, uint32_t chosen, uint32_t width, uint32_t kind)
{
    if (rt->ntrail == rt->trail_cap) {
        size_t cap = rt->trail_cap ? rt->trail_cap * 2 : 256;
        uint32_t *a = realloc(rt->t_chosen, cap * sizeof *a);
        if (a)
            rt->t_chosen = a;
        uint32_t *b = realloc(rt->t_width, cap * sizeof *b);
        if (b)
            rt->t_width = b;
        uint32_t *c = realloc(rt->t_kind, cap * sizeof *c);
        if (c)
            rt->t_kind = c;
        if (!a || !b || !c)
            return -1;
        rt->trail_cap = cap;
    }
    rt->t_chosen[rt->ntrail] = chosen;
    rt->t_width[rt->ntrail] = width;
    rt->t_kind[rt->ntrail] = kind;
    rt->ntrail++;
    return 0;
}

static void finding(Runner *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finding(Runner *rt, const char *fmt, ...)
{
    if (rt->nfindings >= MAX_FINDINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rt->findings[rt->nfindings++], FINDING_LEN, fmt, ap);
    va_end(ap);
}

static void fmt_target(Runner *rt, char *buf, size_t size, const void *obj, int tg)
{
    static const char *const suffix[] = {"", "", ".lo", ".hi"};
    if (tg == TG_NONE || obj == NULL) {
        buf[0] = 0;
        return;
    }
    uintptr_t a = (uintptr_t)obj, base = (uintptr_t)rt->state;
    if (a >= base && a < base + rt->state_alloc)
        snprintf(buf, size, "+%zu%s", (size_t)(a - base), suffix[tg]);
    else
        snprintf(buf, size, "%#zx%s", (size_t)a, suffix[tg]);
}

/* A new trace step of thread t, or NULL when the run is not traced. */
static struct tstep *trace_add(Runner *rt, const struct sthread *t, int kind, const void *obj,
                               int tg)
{
    if (!rt->tracing)
        return NULL;
    if (grow((void **)&rt->trace, &rt->trace_cap, rt->ntrace + 1, sizeof *rt->trace) < 0)
        return NULL;
    struct tstep *s = &rt->trace[rt->ntrace++];
    s->thread = t->id;
    s->op = t->op;
    s->kind = (uint8_t)kind;
    s->oldf = s->newf = VF_NONE;
    s->old = s->new_ = 0;
    s->note[0] = 0;
    fmt_target(rt, s->target, sizeof s->target, obj, tg);
    return s;
}

static inline void sig_put(Runner *rt, const void *p, size_t n)
{
    memcpy(rt->sig + rt->nsig, p, n);
    rt->nsig += n;
}

static const char *errno_name(int e)
{
    switch (e) {
    case EINTR: return "EINTR";
    case EAGAIN: return "EAGAIN";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ENOTSUP: return "ENOTSUP";
    case EPERM: return "EPERM";
    case EBUSY: return "EBUSY";
    case EDEADLK: return "EDEADLK";
    case ENOMEM: return "ENOMEM";
    case ENOSYS: return "ENOSYS";
    case ERANGE: return "ERANGE";
    default: return NULL;
    }
}

/* "-> True", "-> OverflowError", ...: the return note of a call. */
static void fmt_result(char *buf, size_t size, int code, int r)
{
    if (code != ACT_AVAILABLE && r < 0) {
        const char *name = r == -EINVAL      ? "ValueError"
                           : r == -EOVERFLOW ? "OverflowError"
                                             : errno_name(-r);
        if (name)
            snprintf(buf, size, "-> %s", name);
        else
            snprintf(buf, size, "-> errno %d", -r);
    } else if (code == ACT_TRY) {
        snprintf(buf, size, "-> %s", r ? "True" : "False");
    } else if (code == ACT_AVAILABLE) {
        snprintf(buf, size, "-> %d", r);
    } else {
        snprintf(buf, size, "-> None");
    }
}

/* ==== the scheduler ====================================================================== */

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** (Blackman & Vigna), seeded by splitmix64. */
static uint64_t rng_next(Runner *rt)
{
    uint64_t *s = rt->rng;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static void rng_seed(Runner *rt, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        rt->rng[i] = z ^ (z >> 31);
    }
}

/* Uniform in [0, n), n >= 1: Lemire's multiply-and-reject (no modulo bias). */
static uint32_t rng_below(Runner *rt, uint32_t n)
{
    uint64_t m = (rng_next(rt) >> 32) * (uint64_t)n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (rng_next(rt) >> 32) * (uint64_t)n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* Records a choice point; -1 when a prefix entry does not fit (mismatch). */
static int record(Runner *rt, uint32_t idx, uint32_t width, uint32_t kind)
{
    if (idx >= width)
        return -1;
    if (trail_push(rt, idx, width, kind) < 0)
        return -1;
    return (int)idx;
}

/* A wake choice among `width` (>= 2) waiters: the index, or -1 for a mismatch. */
static int choose_wake(Runner *rt, uint32_t width)
{
    uint32_t idx;
    if (rt->mode == MODE_PREFIX)
        idx = rt->ntrail < rt->nprefix ? rt->prefix[rt->ntrail] : 0;
    else
        idx = rng_below(rt, width);
    return record(rt, idx, width, KIND_WAKE);
}

/* Random mode: how many more step points a timed wait lasts while others can run, drawn when it
 * can first end: none in 1 of LIFESPAN_DRAWS, otherwise 2^k + j for k uniform in 0..2 and j in
 * [0, 2^k) (core.py's draw_lifespan, which says why). */
#define LIFESPAN_DRAWS 13
static int64_t draw_lifespan(Runner *rt)
{
    uint32_t x = rng_below(rt, LIFESPAN_DRAWS);
    if (x == 0)
        return 0;
    uint32_t k = (x - 1) * 3 / (LIFESPAN_DRAWS - 1);
    return ((int64_t)1 << k) + rng_below(rt, (uint32_t)1 << k);
}

/* The k-th (from 0) of the options whose TIMEOUT-ness is `timeout` (and, for timeouts, due). */
static uint32_t nth_option(const Runner *rt, const uint32_t *opts, uint32_t n, int timeout,
                           uint32_t k)
{
    for (uint32_t i = 0; i < n; i++) {
        int is_timeout = (opts[i] & 3) == OPT_TIMEOUT;
        if (is_timeout != timeout)
            continue;
        if (is_timeout && rt->threads[opts[i] >> 2].timeout_at > rt->step_points)
            continue;
        if (k-- == 0)
            return i;
    }
    return 0; /* not reached: k is below the count */
}

/* Random mode: each timed wait ends at a step point drawn when it can first end (draw_lifespan):
 * then its TIMEOUT option is taken (uniformly among those due); before that the choice is
 * uniform among the other options, and when only TIMEOUT options remain the soonest ends. */
static uint32_t choose_random(Runner *rt, const uint32_t *opts, uint32_t n)
{
    int64_t now = ++rt->step_points;
    uint32_t due = 0, others = 0, soonest = 0;
    int64_t soonest_at = INT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        if ((opts[i] & 3) != OPT_TIMEOUT) {
            others++;
            continue;
        }
        struct sthread *t = &rt->threads[opts[i] >> 2];
        if (t->timeout_for != t->deadline) {
            t->timeout_for = t->deadline;
            t->timeout_at = now + draw_lifespan(rt);
        }
        if (t->timeout_at <= now)
            due++;
        else if (t->timeout_at < soonest_at) {
            soonest_at = t->timeout_at;
            soonest = i;
        }
    }
    if (due > 0)
        return nth_option(rt, opts, n, 1, rng_below(rt, due));
    if (others > 0)
        return nth_option(rt, opts, n, 0, rng_below(rt, others));
    return soonest;
}

/* A step choice among the n (>= 2) options; -1 for a mismatch. */
static int choose_step(Runner *rt, const uint32_t *opts, uint32_t n, uint32_t kind)
{
    uint32_t idx = 0;
    if (rt->mode == MODE_PREFIX) {
        idx = rt->ntrail < rt->nprefix ? rt->prefix[rt->ntrail] : 0;
    } else if (rt->mode == MODE_RANDOM) {
        idx = choose_random(rt, opts, n);
    } else {
        /* PCT: at the i-th change point the current thread's priority drops to i - 1. */
        rt->step_points++;
        while (rt->next_change < rt->nchange &&
               rt->change_points[rt->next_change] == rt->step_points) {
            rt->next_change++;
            if (rt->current >= 0)
                rt->threads[rt->current].prio = (int64_t)rt->next_change - 1;
        }
        uint32_t nspur = 0;
        for (uint32_t i = 0; i < n; i++)
            nspur += (opts[i] & 3) == OPT_SPURIOUS;
        if (nspur > 0 && rng_below(rt, 16) == 0) {
            uint32_t k = rng_below(rt, nspur);
            for (uint32_t i = 0; i < n; i++) {
                if ((opts[i] & 3) == OPT_SPURIOUS && k-- == 0) {
                    idx = i;
                    break;
                }
            }
        } else {
            int64_t best = INT64_MIN;
            for (uint32_t i = 0; i < n; i++) {
                if ((opts[i] & 3) != OPT_RUN)
                    continue;
                int64_t p = rt->threads[opts[i] >> 2].prio;
                if (p > best) {
                    best = p;
                    idx = i;
                }
            }
        }
    }
    return record(rt, idx, n, kind);
}

/* Leaves the run from a simulated thread: it is abandoned, never resumed. */
__attribute__((noreturn)) static void abandon(Runner *rt, struct sthread *t, int outcome)
{
    rt->stop = outcome;
    switch_to_main(t, 0);
    abort(); /* unreachable: an abandoned thread is never resumed */
}

/* The scheduling point before a visible step: wait until the scheduler picks t. */
static inline void sched_point(struct sthread *t)
{
    t->state = TS_RUNNABLE;
    switch_to_main(t, 0);
}

/* The start of a visible step: the step limit, then one tick of virtual time. */
static inline void step_begin(Runner *rt, struct sthread *t)
{
    if (rt->steps >= rt->max_steps)
        abandon(rt, t, OUT_STEP_LIMIT);
    rt->steps++;
    rt->clock += TICK;
}

/* Blocks t on what its wait fields say; returns once resumed. */
static void block(Runner *rt, struct sthread *t, int kind, const void *obj, int half,
                  int64_t deadline)
{
    t->wait_kind = kind;
    t->wait_obj = obj;
    t->wait_half = half;
    t->deadline = deadline < 0 ? -1 : deadline;
    t->wait_seq = ++rt->seq;
    t->wake_result = 0;
    t->state = TS_BLOCKED;
    switch_to_main(t, 0);
}

/* Ends t's wait (woken or spurious: 0; timed out: -ETIMEDOUT); the scheduler resumes it. */
static void unblock(struct sthread *t, int result)
{
    t->wait_kind = W_NONE;
    t->wake_result = result;
    t->state = TS_RUNNABLE;
}

/* Waiters of one kind on one object, in FIFO order; returns how many. */
static int waiters_of(Runner *rt, int kind, const void *obj, struct sthread **out)
{
    int n = 0;
    for (int i = 0; i < rt->nlive; i++) {
        struct sthread *t = &rt->threads[i];
        if (t->state != TS_BLOCKED || t->wait_kind != kind || t->wait_obj != obj)
            continue;
        int j = n++;
        while (j > 0 && out[j - 1]->wait_seq > t->wait_seq) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = t;
    }
    return n;
}

/* Wakes up to `count` of the waiters on obj (a wake choice per woken thread when there are
 * more waiters than that); returns how many woke. */
static int wake_some(Runner *rt, struct sthread *waker, int kind, const void *obj, int half,
                     int64_t count)
{
    struct sthread *w[MAX_THREADS + 1];
    int nw = waiters_of(rt, kind, obj, w);
    if (count <= 0 || nw == 0)
        return 0;
    int woke = 0;
    while (woke < count && nw > 0) {
        int idx = 0;
        if (nw > count - woke) {
            idx = choose_wake(rt, (uint32_t)nw);
            if (idx < 0)
                abandon(rt, waker, OUT_MISMATCH);
        }
        struct sthread *t = w[idx];
        memmove(&w[idx], &w[idx + 1], sizeof w[0] * (size_t)(nw - idx - 1));
        nw--;
        unblock(t, 0);
        woke++;
        struct tstep *s = trace_add(rt, t, TK_WAKE, obj, half);
        if (s)
            snprintf(s->note, sizeof s->note, "woken by t%d", waker->id);
    }
    return woke;
}

/* The deadline a timed try_acquire must not wait past: fixed at its first wait, from the last
 * clock reading before it (the one a correct implementation computes its deadline from) or,
 * with none, from the invoke time. */
static void fix_call_deadline(struct sthread *t)
{
    if (t->call_timeout <= 0 || t->call_deadline >= 0)
        return;
    int64_t start = t->last_read >= 0 ? t->last_read : t->invoke_ns;
    t->call_deadline =
        t->call_timeout > INT64_MAX - start ? INT64_MAX : start + t->call_timeout;
}

/* One finding per call at most: the first wait that reaches past the call's deadline. */
static void check_wait_deadline(Runner *rt, struct sthread *t, int64_t deadline)
{
    if (t->call_timeout <= 0 || t->call_found)
        return;
    if (deadline < 0 && t->call_deadline < INT64_MAX) { /* (a deadline past INT64_MAX is none) */
        finding(rt, "t%d op %d: waits for ever, beyond its deadline %lld", t->id, t->op,
                (long long)t->call_deadline);
        t->call_found = 1;
    } else if (deadline > t->call_deadline) {
        finding(rt, "t%d op %d: waits until %lld, beyond its deadline %lld", t->id, t->op,
                (long long)deadline, (long long)t->call_deadline);
        t->call_found = 1;
    }
}

static void note_deadline(char *note, size_t size, const char *what, int64_t deadline)
{
    if (deadline < 0)
        snprintf(note, size, "%sno deadline", what);
    else
        snprintf(note, size, "%sdeadline %lld", what, (long long)deadline);
}

/* ==== the model backend's entry points ==================================================== */

static inline uint64_t rmw_apply(int op, uint64_t old, uint64_t v)
{
    switch (op) {
    case SEMH__OP_STORE:
    case SEMH__OP_EXCHANGE: return v;
    case SEMH__OP_FETCH_ADD: return old + v;
    case SEMH__OP_FETCH_SUB: return old - v;
    case SEMH__OP_FETCH_OR: return old | v;
    case SEMH__OP_FETCH_AND: return old & v;
    default: return old;
    }
}

static const uint8_t RMW_KINDS[] = {TK_LOAD,      TK_STORE,     TK_EXCHANGE, TK_FETCH_ADD,
                                    TK_FETCH_SUB, TK_FETCH_OR, TK_FETCH_AND};

static void trace_rmw(Runner *rt, struct sthread *t, const void *p, int op, uint64_t old,
                      uint64_t now, semh_order o)
{
    struct tstep *s = trace_add(rt, t, RMW_KINDS[op], p, TG_WORD);
    if (s == NULL)
        return;
    s->oldf = VF_U;
    s->old = old;
    if (op != SEMH__OP_LOAD) {
        s->newf = VF_U;
        s->new_ = now;
    }
    snprintf(s->note, sizeof s->note, "%s", ORDER_NAMES[(unsigned)o % 5]);
}

/* A read-modify-write (or load, or store) of a 32- or 64-bit word: one visible step. */
#define DEFINE_RMW(bits, T)                                                                    \
    T semh__model_rmw##bits(T *p, int op, T v, semh_order o)                                   \
    {                                                                                          \
        struct sthread *t = g_cur;                                                             \
        T old = *p;                                                                            \
        if (t == NULL) { /* outside a simulated thread (semh_init): no step */                 \
            *p = (T)rmw_apply(op, old, v);                                                     \
            return old;                                                                        \
        }                                                                                      \
        Runner *rt = g_rt;                                                                     \
        sched_point(t);                                                                        \
        step_begin(rt, t);                                                                     \
        old = *p;                                                                              \
        T now = (T)rmw_apply(op, old, v);                                                      \
        *p = now;                                                                              \
        if (rt->tracing)                                                                       \
            trace_rmw(rt, t, p, op, old, now, o);                                              \
        return old;                                                                            \
    }
DEFINE_RMW(32, uint32_t)
DEFINE_RMW(64, uint64_t)

static void trace_cas(Runner *rt, struct sthread *t, const void *p, int ok, uint64_t old,
                      uint64_t expected, uint64_t desired, semh_order o)
{
    struct tstep *s = trace_add(rt, t, ok ? TK_CAS : TK_CAS_FAIL, p, TG_WORD);
    if (s == NULL)
        return;
    s->oldf = VF_U;
    s->old = old;
    if (ok) {
        s->newf = VF_U;
        s->new_ = desired;
        snprintf(s->note, sizeof s->note, "%s", ORDER_NAMES[(unsigned)o % 5]);
    } else {
        snprintf(s->note, sizeof s->note, "expected %llu, %s", (unsigned long long)expected,
                 ORDER_NAMES[(unsigned)o % 5]);
    }
}

/* A strong compare-and-swap of a 32- or 64-bit word: one visible step. */
#define DEFINE_CAS(bits, T)                                                                    \
    bool semh__model_cas##bits(T *p, T *expected, T desired, semh_order o)                    \
    {                                                                                          \
        struct sthread *t = g_cur;                                                             \
        Runner *rt = g_rt;                                                                     \
        if (t != NULL) {                                                                       \
            sched_point(t);                                                                    \
            step_begin(rt, t);                                                                 \
        }                                                                                      \
        T old = *p, exp = *expected;                                                           \
        bool ok = old == exp;                                                                  \
        if (ok)                                                                                \
            *p = desired;                                                                      \
        else                                                                                   \
            *expected = old;                                                                   \
        if (t != NULL && rt->tracing)                                                          \
            trace_cas(rt, t, p, ok, old, exp, desired, o);                                     \
        return ok;                                                                             \
    }
DEFINE_CAS(32, uint32_t)
DEFINE_CAS(64, uint64_t)

int semh__model_futex_wait(uint32_t *addr, int half, uint32_t expected, int64_t deadline)
{
    struct sthread *t = g_cur;
    if (t == NULL) /* nothing can wake a wait outside the threads: report a spurious wake */
        return *addr == expected ? 0 : -EAGAIN;
    Runner *rt = g_rt;
    sched_point(t);
    step_begin(rt, t);
    int tg = half == 1 ? TG_LO : half == 2 ? TG_HI : TG_WORD;
    fix_call_deadline(t);
    struct tstep *s = trace_add(rt, t, TK_FUTEX_WAIT, addr, tg);
    if (s) {
        s->oldf = VF_U;
        s->old = expected;
    }
    if (*addr != expected) {
        if (s)
            snprintf(s->note, sizeof s->note, "EAGAIN (word %u)", *addr);
        return -EAGAIN;
    }
    if (deadline >= 0 && deadline <= rt->clock) {
        if (s)
            snprintf(s->note, sizeof s->note, "ETIMEDOUT (deadline %lld)", (long long)deadline);
        return -ETIMEDOUT;
    }
    if (s)
        note_deadline(s->note, sizeof s->note, "blocks, ", deadline);
    check_wait_deadline(rt, t, deadline);
    block(rt, t, W_FUTEX, addr, tg, deadline);
    return t->wake_result;
}

int semh__model_futex_wake(uint32_t *addr, int half, int32_t count)
{
    struct sthread *t = g_cur;
    if (t == NULL)
        return 0;
    Runner *rt = g_rt;
    sched_point(t);
    step_begin(rt, t);
    int tg = half == 1 ? TG_LO : half == 2 ? TG_HI : TG_WORD;
    size_t at = rt->ntrace;
    struct tstep *s = trace_add(rt, t, TK_FUTEX_WAKE, addr, tg);
    if (s) {
        if (count == SEMH_WAKE_ALL)
            snprintf(s->note, sizeof s->note, "count all");
        else
            snprintf(s->note, sizeof s->note, "count %d", count);
    }
    int woke = wake_some(rt, t, W_FUTEX, addr, tg, count);
    if (s) { /* the trace may have moved while the wake steps were added */
        rt->trace[at].newf = VF_S;
        rt->trace[at].new_ = (uint64_t)(int64_t)woke;
    }
    return woke;
}

int64_t semh__model_clock(int64_t timeout_ns, bool deadline)
{
    struct sthread *t = g_cur;
    Runner *rt = g_rt;
    if (t != NULL) {
        sched_point(t);
        step_begin(rt, t);
    }
    int64_t now = rt ? rt->clock : 0;
    int64_t r = now;
    if (deadline)
        r = timeout_ns < 0 || timeout_ns > INT64_MAX - now ? SEMH_NO_DEADLINE : now + timeout_ns;
    if (t != NULL) {
        t->last_read = now;
        struct tstep *s = trace_add(rt, t, TK_CLOCK, NULL, TG_NONE);
        if (s) {
            s->newf = VF_S;
            s->new_ = (uint64_t)now;
            if (deadline)
                note_deadline(s->note, sizeof s->note, "", r);
        }
    }
    return r;
}

/* Takes m for t, blocking while another thread holds it; each attempt is a visible step
 * (the first one is the step the caller has begun). */
static void mutex_take(Runner *rt, struct sthread *t, semh_mutex *m)
{
    for (;;) {
        struct tstep *s = trace_add(rt, t, TK_LOCK, m, TG_WORD);
        if (m->owner == 0) {
            m->owner = t->id + 1;
            return;
        }
        if (m->owner == t->id + 1)
            finding(rt, "t%d op %d: locks a mutex it already holds (self-deadlock)", t->id,
                    t->op);
        if (s)
            snprintf(s->note, sizeof s->note, "blocked, held by t%d", m->owner - 1);
        block(rt, t, W_MUTEX, m, TG_WORD, -1);
        step_begin(rt, t);
    }
}

void semh__model_mutex_lock(semh_mutex *m)
{
    struct sthread *t = g_cur;
    if (t == NULL)
        return; /* semh_init runs alone */
    Runner *rt = g_rt;
    sched_point(t);
    step_begin(rt, t);
    mutex_take(rt, t, m);
}

/* Frees m and makes every thread blocked on it runnable (they try again: barging). */
static void mutex_release(Runner *rt, struct sthread *t, semh_mutex *m)
{
    if (m->owner != t->id + 1)
        finding(rt, "t%d op %d: unlocks a mutex it does not hold", t->id, t->op);
    m->owner = 0;
    for (int i = 0; i < rt->nlive; i++) {
        struct sthread *w = &rt->threads[i];
        if (w->state == TS_BLOCKED && w->wait_kind == W_MUTEX && w->wait_obj == m)
            unblock(w, 0);
    }
}

void semh__model_mutex_unlock(semh_mutex *m)
{
    struct sthread *t = g_cur;
    if (t == NULL)
        return;
    Runner *rt = g_rt;
    sched_point(t);
    step_begin(rt, t);
    trace_add(rt, t, TK_UNLOCK, m, TG_WORD);
    mutex_release(rt, t, m);
}

int semh__model_cond_wait(semh_cond *c, semh_mutex *m, int64_t deadline)
{
    struct sthread *t = g_cur;
    if (t == NULL)
        return 0; /* a spurious wake-up: nothing else runs during semh_init */
    Runner *rt = g_rt;
    sched_point(t);
    step_begin(rt, t);
    fix_call_deadline(t);
    struct tstep *s = trace_add(rt, t, TK_COND_WAIT, c, TG_WORD);
    if (deadline >= 0 && deadline <= rt->clock) {
        if (s)
            snprintf(s->note, sizeof s->note, "ETIMEDOUT (deadline %lld)", (long long)deadline);
        return -ETIMEDOUT;
    }
    if (s)
        note_deadline(s->note, sizeof s->note, "blocks, ", deadline);
    check_wait_deadline(rt, t, deadline);
    mutex_release(rt, t, m);
    block(rt, t, W_COND, c, TG_WORD, deadline);
    int r = t->wake_result;
    step_begin(rt, t); /* re-taking the mutex is the step that follows the wake-up */
    mutex_take(rt, t, m);
    return r;
}

void semh__model_cond_notify(semh_cond *c, bool all)
{
    struct sthread *t = g_cur;
    if (t == NULL)
        return;
    Runner *rt = g_rt;
    sched_point(t);
    step_begin(rt, t);
    size_t at = rt->ntrace;
    struct tstep *s = trace_add(rt, t, all ? TK_NOTIFY_ALL : TK_NOTIFY, c, TG_WORD);
    int woke = wake_some(rt, t, W_COND, c, TG_WORD, all ? INT64_MAX : 1);
    if (s) {
        rt->trace[at].newf = VF_S;
        rt->trace[at].new_ = (uint64_t)(int64_t)woke;
    }
}

/* ==== simulated threads ================================================================== */

static int32_t call_impl(Runner *rt, const struct action *a)
{
    switch (a->code) {
    case ACT_ACQUIRE: return semh_acquire(rt->state, a->n);
    case ACT_TRY: return semh_try_acquire(rt->state, a->n, a->timeout);
    case ACT_RELEASE: return semh_release(rt->state, a->n);
    default: return semh_available(rt->state);
    }
}

/* One contract call: invoke (a tick), the implementation's steps, return (a tick). */
static void run_call(Runner *rt, struct sthread *t, const struct action *a)
{
    int64_t timeout = a->timeout; /* -1 forever, 0 for calls without one */
    rt->clock += TICK;
    struct hrow *h = &rt->hist[rt->nhist++];
    h->thread = t->id;
    h->code = a->code;
    h->n = a->n;
    h->timeout = timeout;
    h->invoke = rt->clock;
    h->ret = -1;
    h->result = 0;
    unsigned char ev[4] = {'I', (unsigned char)(t->id & 0xff), (unsigned char)(t->id >> 8),
                           (unsigned char)a->code};
    sig_put(rt, ev, sizeof ev);
    t->invoke_ns = rt->clock;
    t->call_timeout = a->code == ACT_TRY && a->timeout > 0 ? a->timeout : 0;
    t->call_deadline = -1;
    t->last_read = -1;
    t->call_found = 0;
    struct tstep *s = trace_add(rt, t, TK_INVOKE, NULL, TG_NONE);
    if (s) {
        if (a->code == ACT_TRY)
            snprintf(s->note, sizeof s->note, "try_acquire(%d, %lld)", a->n,
                     (long long)timeout);
        else if (a->code == ACT_AVAILABLE)
            snprintf(s->note, sizeof s->note, "available()");
        else
            snprintf(s->note, sizeof s->note, "%s(%d)", OP_CALL_NAMES[a->code], a->n);
    }

    int32_t r = call_impl(rt, a);

    rt->clock += TICK;
    h->ret = rt->clock;
    h->result = r;
    t->call_timeout = 0;
    unsigned char rv[20] = {'R', (unsigned char)(t->id & 0xff), (unsigned char)(t->id >> 8),
                            (unsigned char)a->code};
    memcpy(rv + 4, &a->n, 4);
    memcpy(rv + 8, &timeout, 8);
    memcpy(rv + 16, &r, 4);
    sig_put(rt, rv, sizeof rv);
    s = trace_add(rt, t, TK_RETURN, NULL, TG_NONE);
    if (s)
        fmt_result(s->note, sizeof s->note, a->code, r);
    if ((a->code == ACT_TRY && r > 1) ||
        ((a->code == ACT_ACQUIRE || a->code == ACT_RELEASE) && r > 0))
        finding(rt, "t%d op %d: %s returned %d, not a contract result", t->id, t->op,
                OP_CALL_NAMES[a->code], r);
}

/* A sleep is a visible step of its own (a scheduling point, a tick), then a timed block that
 * only its TIMEOUT option ends. */
static void run_sleep(Runner *rt, struct sthread *t, const struct action *a)
{
    sched_point(t);
    step_begin(rt, t);
    int64_t until = a->timeout > INT64_MAX - rt->clock ? INT64_MAX : rt->clock + a->timeout;
    struct tstep *s = trace_add(rt, t, TK_SLEEP, NULL, TG_NONE);
    if (s)
        snprintf(s->note, sizeof s->note, "until %lld", (long long)until);
    block(rt, t, W_SLEEP, NULL, TG_NONE, until);
}

__attribute__((noreturn)) static void thread_main(void *arg)
{
    struct sthread *t = arg;
    Runner *rt = g_rt;
#ifdef SEMH_ASAN
    __sanitizer_finish_switch_fiber(NULL, &g_main_bottom, &g_main_size);
#endif
    for (int k = 0; k < t->nactions; k++) {
        const struct action *a = &t->actions[k];
        /* op_index: the action's index in the program; a sleep is outside any call */
        t->op = a->code == ACT_SLEEP ? -1 : k;
        if (a->code == ACT_SLEEP)
            run_sleep(rt, t, a);
        else
            run_call(rt, t, a);
    }
    t->state = TS_FINISHED;
    switch_to_main(t, 1);
    abort(); /* a finished thread is never resumed */
}

static void thread_reset(Runner *rt, struct sthread *t)
{
    t->state = TS_RUNNABLE;
    t->wait_kind = W_NONE;
    t->wait_obj = NULL;
    t->deadline = -1;
    t->op = 0;
    t->call_timeout = 0;
    t->call_deadline = -1;
    t->last_read = -1;
    t->timeout_for = -1;
#ifdef SEMH_ASAN
    ASAN_UNPOISON_MEMORY_REGION(t->stack, STACK_SIZE); /* frames left by an abandoned run */
#endif
    ctx_make(&t->ctx, t->stack, STACK_SIZE, thread_main, t);
    (void)rt;
}

/* ==== the run loop ======================================================================== */

/* The options at this scheduling point, in contract order; *kind is the choice point's kind. */
static uint32_t build_options(Runner *rt, uint32_t *opts, uint32_t *kind)
{
    uint32_t n = 0;
    int any_runnable = 0;
    int64_t earliest = INT64_MAX;
    for (int i = 0; i < rt->nlive; i++) {
        const struct sthread *t = &rt->threads[i];
        if (t->state == TS_RUNNABLE)
            any_runnable = 1;
        else if (t->state == TS_BLOCKED && t->deadline >= 0 && t->deadline < earliest)
            earliest = t->deadline;
    }
    int cur = rt->current;
    *kind = KIND_FREE;
    if (cur >= 0 && rt->threads[cur].state == TS_RUNNABLE) {
        opts[n++] = (uint32_t)cur << 2 | OPT_RUN;
        *kind = KIND_PREEMPTIBLE;
    }
    int timeouts_now = rt->adversarial || !any_runnable;
    for (int i = 0; i < rt->nlive; i++) {
        const struct sthread *t = &rt->threads[i];
        if (t->state == TS_RUNNABLE) {
            if (i != cur)
                opts[n++] = (uint32_t)i << 2 | OPT_RUN;
        } else if (t->state == TS_BLOCKED) {
            if (t->deadline >= 0 && timeouts_now && (rt->adversarial || t->deadline == earliest))
                opts[n++] = (uint32_t)i << 2 | OPT_TIMEOUT;
            if (rt->spurious_left > 0 && (t->wait_kind == W_FUTEX || t->wait_kind == W_COND))
                opts[n++] = (uint32_t)i << 2 | OPT_SPURIOUS;
        }
    }
    return n;
}

static void start_observer(Runner *rt)
{
    int any_blocked = 0;
    for (int i = 0; i < rt->nthreads; i++)
        any_blocked |= rt->threads[i].state != TS_FINISHED;
    rt->pre_outcome = any_blocked ? OUT_DEADLOCK : OUT_DONE;
    rt->observer_started = 1;
    rt->nlive = rt->nthreads + 1;
    thread_reset(rt, &rt->threads[rt->nthreads]);
}

static const void *wait_target(const struct sthread *t) { return t->wait_obj; }

static void resume_thread(Runner *rt, struct sthread *t)
{
    t->state = TS_RUNNING;
    rt->current = t->id;
    switch_to_thread(t);
    g_cur = NULL;
}

static int run_loop(Runner *rt)
{
    uint32_t *opts = rt->options;
    for (;;) {
        uint32_t kind;
        uint32_t n = build_options(rt, opts, &kind);
        if (n == 0) {
            if (!rt->observer_started) {
                start_observer(rt);
                continue;
            }
            return rt->pre_outcome;
        }
        int idx = 0;
        if (n > 1) {
            idx = choose_step(rt, opts, n, kind);
            if (idx < 0)
                return OUT_MISMATCH;
        }
        uint32_t opt = opts[idx];
        struct sthread *t = &rt->threads[opt >> 2];
        if ((opt & 3) == OPT_TIMEOUT) {
            if (t->deadline > rt->clock)
                rt->clock = t->deadline;
            struct tstep *s = trace_add(rt, t, TK_TIMEOUT, wait_target(t), t->wait_half);
            if (s)
                snprintf(s->note, sizeof s->note, "deadline %lld", (long long)t->deadline);
            unblock(t, -ETIMEDOUT);
        } else if ((opt & 3) == OPT_SPURIOUS) {
            rt->spurious_left--;
            trace_add(rt, t, TK_SPURIOUS, wait_target(t), t->wait_half);
            unblock(t, 0);
        }
        resume_thread(rt, t);
        if (rt->stop)
            return rt->stop;
    }
}

/* Everything a run starts from: fresh state, fresh threads, the spec's generator. */
static int run_setup(Runner *rt, uint64_t seed)
{
    rt->clock = 0;
    rt->steps = 0;
    rt->seq = 0;
    rt->spurious_left = rt->spurious_budget;
    rt->current = -1;
    rt->observer_started = 0;
    rt->pre_outcome = OUT_NONE;
    rt->stop = OUT_NONE;
    rt->nlive = rt->nthreads;
    rt->nhist = 0;
    rt->nsig = 0;
    rt->ntrail = 0;
    rt->ntrace = 0;
    rt->nfindings = 0;
    rt->step_points = 0;
    rt->next_change = 0;
    rng_seed(rt, seed);
    for (int i = 0; i < rt->nthreads; i++)
        thread_reset(rt, &rt->threads[i]);
    if (rt->mode == MODE_PCT) {
        /* distinct initial priorities depth .. depth + T - 1, in random order */
        for (int i = 0; i < rt->nthreads; i++)
            rt->threads[i].prio = rt->depth + i;
        for (int i = rt->nthreads - 1; i > 0; i--) {
            int j = (int)rng_below(rt, (uint32_t)i + 1);
            int64_t tmp = rt->threads[i].prio;
            rt->threads[i].prio = rt->threads[j].prio;
            rt->threads[j].prio = tmp;
        }
        rt->threads[rt->nthreads].prio = -1; /* the observer runs last */
        /* depth - 1 change points in 1 .. horizon, distinct while the horizon allows */
        size_t want = (size_t)(rt->depth - 1);
        if (grow((void **)&rt->change_points, &rt->change_cap, want, sizeof(int64_t)) < 0)
            return -1;
        rt->nchange = 0;
        while (rt->nchange < want) {
            int64_t c = 1 + (int64_t)(rng_next(rt) % (uint64_t)rt->horizon);
            int dup = 0;
            for (size_t k = 0; k < rt->nchange && (uint64_t)want <= (uint64_t)rt->horizon; k++)
                dup |= rt->change_points[k] == c;
            if (dup)
                continue;
            size_t k = rt->nchange++;
            while (k > 0 && rt->change_points[k - 1] > c) {
                rt->change_points[k] = rt->change_points[k - 1];
                k--;
            }
            rt->change_points[k] = c;
        }
    }
    memset(rt->state, 0, rt->state_alloc);
    g_cur = NULL;
    return semh_init(rt->state, rt->initial);
}

/* ==== the C interface of a runner (the Python type below wraps it) ======================= */

static void runner_free(Runner *self)
{
    free(self->actions);
    free(self->first_action);
    free(self->threads);
    free(self->state);
    free(self->options);
    free(self->hist);
    free(self->sig);
    free(self->prefix);
    free(self->change_points);
    free(self->t_chosen);
    free(self->t_width);
    free(self->t_kind);
    free(self->trace);
    free(self->findings);
    self->threads = NULL;
}

/* Takes a program (nactions[i] actions of thread i, one after the other in acts; validated by
 * the caller) and a config; allocates everything runs need.  0 or -ENOMEM. */
static int runner_setup(Runner *self, int nthreads, const int *nactions,
                        const struct action *acts, int32_t initial, int adversarial,
                        int32_t spurious, int64_t max_steps, int crash_fd)
{
    size_t total = 0;
    for (int i = 0; i < nthreads; i++)
        total += (size_t)nactions[i];
    self->nthreads = nthreads;
    self->first_action = calloc((size_t)nthreads + 2, sizeof(int));
    self->threads = calloc((size_t)nthreads + 1, sizeof(struct sthread));
    self->actions = malloc((total + 1) * sizeof(struct action));
    if (!self->first_action || !self->threads || !self->actions)
        goto nomem;
    int calls = 0;
    size_t k = 0;
    for (int i = 0; i < nthreads; i++) {
        self->first_action[i] = (int)k;
        for (int j = 0; j < nactions[i]; j++, k++) {
            struct action a = acts[k];
            if (a.code == ACT_TRY && a.timeout < 0)
                a.timeout = -1; /* forever */
            else if (a.code != ACT_TRY && a.code != ACT_SLEEP)
                a.timeout = 0; /* ignored */
            self->actions[k] = a;
            calls += a.code != ACT_SLEEP;
        }
    }
    self->first_action[nthreads] = (int)k;
    self->actions[k++] = (struct action){ACT_AVAILABLE, 0, 0}; /* the observer's call */
    self->first_action[nthreads + 1] = (int)k;
    self->ncalls = calls + 1;

    self->initial = initial;
    self->adversarial = adversarial;
    self->spurious_budget = spurious;
    self->max_steps = max_steps;
    self->crash_fd = crash_fd;
    self->state_alloc = (semh_info.state_size + 63) / 64 * 64;
    if (self->state_alloc == 0)
        self->state_alloc = 64;
    self->state = aligned_alloc(64, self->state_alloc);
    self->options = malloc(sizeof(uint32_t) * 3 * ((size_t)nthreads + 1));
    self->hist = calloc((size_t)self->ncalls, sizeof(struct hrow));
    self->sig_cap = (size_t)self->ncalls * 24 + 1;
    self->sig = malloc(self->sig_cap);
    self->findings = malloc((size_t)MAX_FINDINGS * FINDING_LEN);
    if (!self->state || !self->options || !self->hist || !self->sig || !self->findings)
        goto nomem;
    for (int i = 0; i <= nthreads; i++) {
        struct sthread *t = &self->threads[i];
        t->id = i;
        t->actions = &self->actions[self->first_action[i]];
        t->nactions = self->first_action[i + 1] - self->first_action[i];
        t->stack = stack_get(i);
        if (t->stack == NULL)
            goto nomem;
    }
    return 0;
nomem:
    runner_free(self);
    return -ENOMEM;
}

/* Makes one run (the prefix, for MODE_PREFIX, is in self->prefix): its OUT_* outcome, or the
 * negative errno semh_init returned. */
static int runner_run(Runner *self, int mode, uint64_t seed, int64_t depth, int64_t horizon,
                      int trace)
{
    self->mode = mode;
    self->depth = depth;
    self->horizon = horizon;
    self->tracing = trace;
    install_crash_handlers();
    g_rt = self;
    tl_in_run = 1;
    int r = run_setup(self, seed);
    int outcome = OUT_NONE;
    if (r == 0) {
        outcome = run_loop(self);
        if (outcome == OUT_DONE && self->threads[self->nthreads].state == TS_FINISHED)
            semh_destroy(self->state); /* every thread finished: nothing left to touch it */
    }
    tl_in_run = 0;
    restore_crash_handlers();
    g_rt = NULL;
    g_cur = NULL;
    self->ran = r == 0;
    if (r != 0)
        return r < 0 ? r : -EINVAL;
    self->outcome = outcome;
    self->sig[self->nsig++] = (unsigned char)outcome;
    return outcome;
}

#ifndef SEMH_MODEL_NO_PYTHON
/* ==== the Python type ===================================================================== */

static PyObject *g_outcome_str[OUT_COUNT];

static void Runner_dealloc(Runner *self)
{
    runner_free(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int as_i64(PyObject *obj, int64_t lo, int64_t hi, const char *what, int64_t *out)
{
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow || v < lo || v > hi) {
        PyErr_Format(PyExc_ValueError, "%s out of range", what);
        return -1;
    }
    *out = v;
    return 0;
}

/* Runner(initial, threads, adversarial, spurious, max_steps, crash_fd) */
static int Runner_init(Runner *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"initial", "threads", "adversarial", "spurious", "max_steps",
                             "crash_fd", NULL};
    long long initial, spurious, max_steps;
    int adversarial, crash_fd;
    PyObject *threads;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "LOpLLi:Runner", kwlist, &initial, &threads,
                                     &adversarial, &spurious, &max_steps, &crash_fd))
        return -1;
    if (self->threads) {
        PyErr_SetString(PyExc_RuntimeError, "Runner is already initialised");
        return -1;
    }
    if (initial < 0 || initial > INT32_MAX || spurious < 0 || spurious > INT32_MAX ||
        max_steps < 1) {
        PyErr_SetString(PyExc_ValueError, "initial, spurious or max_steps out of range");
        return -1;
    }
    PyObject *seq = PySequence_Fast(threads, "threads must be a sequence");
    if (seq == NULL)
        return -1;
    Py_ssize_t nt = PySequence_Fast_GET_SIZE(seq);
    if (nt < 1 || nt > MAX_THREADS) {
        Py_DECREF(seq);
        PyErr_Format(PyExc_ValueError, "a program has 1 to %d threads", MAX_THREADS);
        return -1;
    }
    int *counts = calloc((size_t)nt, sizeof(int));
    size_t nact = 0, cap = 16;
    struct action *acts = malloc(cap * sizeof(struct action));
    int r = -1;
    if (!counts || !acts) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < nt; i++) {
        PyObject *list = PySequence_Fast(PySequence_Fast_GET_ITEM(seq, i),
                                         "a thread's actions must be a sequence");
        if (list == NULL)
            goto done;
        Py_ssize_t na = PySequence_Fast_GET_SIZE(list);
        for (Py_ssize_t k = 0; k < na; k++) {
            PyObject *a = PySequence_Fast_GET_ITEM(list, k);
            int64_t code, n, timeout;
            if (!PyTuple_Check(a) || PyTuple_GET_SIZE(a) != 3) {
                PyErr_SetString(PyExc_TypeError, "an action is a tuple (code, n, timeout_ns)");
                Py_DECREF(list);
                goto done;
            }
            if (as_i64(PyTuple_GET_ITEM(a, 0), 0, ACT_SLEEP, "action code", &code) < 0 ||
                as_i64(PyTuple_GET_ITEM(a, 1), INT32_MIN, INT32_MAX, "n", &n) < 0 ||
                as_i64(PyTuple_GET_ITEM(a, 2), INT64_MIN, INT64_MAX, "timeout_ns", &timeout) <
                    0) {
                Py_DECREF(list);
                goto done;
            }
            if (code == ACT_SLEEP && timeout <= 0) {
                PyErr_SetString(PyExc_ValueError, "a sleep needs a duration > 0");
                Py_DECREF(list);
                goto done;
            }
            if (grow((void **)&acts, &cap, nact + 1, sizeof *acts) < 0) {
                PyErr_NoMemory();
                Py_DECREF(list);
                goto done;
            }
            acts[nact++] = (struct action){(int32_t)code, (int32_t)n, timeout};
        }
        counts[i] = (int)na;
        Py_DECREF(list);
    }
    if (runner_setup(self, (int)nt, counts, acts, (int32_t)initial, adversarial,
                     (int32_t)spurious, max_steps, crash_fd) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    r = 0;
done:
    free(counts);
    free(acts);
    Py_DECREF(seq);
    return r;
}

static int load_prefix(Runner *self, PyObject *obj)
{
    PyObject *seq = PySequence_Fast(obj, "prefix must be a sequence of ints");
    if (seq == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (grow((void **)&self->prefix, &self->prefix_cap, (size_t)n, sizeof(uint32_t)) < 0) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(PySequence_Fast_GET_ITEM(seq, i), &overflow);
        if (v == -1 && PyErr_Occurred()) {
            Py_DECREF(seq);
            return -1;
        }
        /* negative or huge entries can never fit a width: they mismatch where they are used */
        self->prefix[i] = overflow || v < 0 || v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    }
    self->nprefix = (size_t)n;
    Py_DECREF(seq);
    return 0;
}

/* run(mode, seed, prefix, depth, horizon, trace) -> (outcome, signature) */
static PyObject *Runner_run(Runner *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "run(mode, seed, prefix, depth, horizon, trace)");
        return NULL;
    }
    if (self->threads == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Runner.__init__ was not called");
        return NULL;
    }
    if (g_rt != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a model run is already in progress");
        return NULL;
    }
    long mode = PyLong_AsLong(args[0]);
    if (mode == -1 && PyErr_Occurred())
        return NULL;
    if (mode < MODE_PREFIX || mode > MODE_PCT) {
        PyErr_Format(PyExc_ValueError, "unknown schedule mode %ld", mode);
        return NULL;
    }
    uint64_t seed = PyLong_AsUnsignedLongLongMask(args[1]);
    if (seed == (uint64_t)-1 && PyErr_Occurred())
        return NULL;
    int64_t depth = 1, horizon = 1;
    if (mode == MODE_PREFIX) {
        if (load_prefix(self, args[2]) < 0)
            return NULL;
    } else {
        self->nprefix = 0;
    }
    if (mode == MODE_PCT) {
        if (as_i64(args[3], INT64_MIN, INT64_MAX, "depth", &depth) < 0 ||
            as_i64(args[4], INT64_MIN, INT64_MAX, "horizon", &horizon) < 0)
            return NULL;
        if (depth < 1 || depth > 1024 || horizon < 1) {
            PyErr_SetString(PyExc_ValueError, "pct needs 1 <= depth <= 1024 and horizon >= 1");
            return NULL;
        }
    }
    int trace = PyObject_IsTrue(args[5]);
    if (trace < 0)
        return NULL;
    int outcome = runner_run(self, (int)mode, seed, depth, horizon, trace);
    if (outcome < 0) {
        PyErr_Format(PyExc_RuntimeError, "semh_init(state, %d) returned %d", (int)self->initial,
                     outcome);
        return NULL;
    }
    PyObject *sig = PyBytes_FromStringAndSize((const char *)self->sig, (Py_ssize_t)self->nsig);
    if (sig == NULL)
        return NULL;
    PyObject *out = PyTuple_New(2);
    if (out == NULL) {
        Py_DECREF(sig);
        return NULL;
    }
    Py_INCREF(g_outcome_str[outcome]);
    PyTuple_SET_ITEM(out, 0, g_outcome_str[outcome]);
    PyTuple_SET_ITEM(out, 1, sig);
    return out;
}

static PyObject *u32_tuple(const uint32_t *a, size_t n)
{
    PyObject *t = PyTuple_New((Py_ssize_t)n);
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        PyObject *v = PyLong_FromUnsignedLong(a[i]);
        if (v == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, (Py_ssize_t)i, v);
    }
    return t;
}

/* trail() -> (chosen, widths, kinds) of the last run */
static PyObject *Runner_trail(Runner *self, PyObject *Py_UNUSED(ignored))
{
    size_t n = self->ran ? self->ntrail : 0;
    PyObject *a = u32_tuple(self->t_chosen, n), *b = u32_tuple(self->t_width, n),
             *c = u32_tuple(self->t_kind, n);
    if (!a || !b || !c) {
        Py_XDECREF(a);
        Py_XDECREF(b);
        Py_XDECREF(c);
        return NULL;
    }
    return Py_BuildValue("(NNN)", a, b, c);
}

/* history() -> [(thread, code, n, timeout_ns, invoke_ns, return_ns or -1, raw result or
 * None when pending)] in invoke order */
static PyObject *Runner_history(Runner *self, PyObject *Py_UNUSED(ignored))
{
    int n = self->ran ? self->nhist : 0;
    PyObject *list = PyList_New(n);
    if (list == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        const struct hrow *h = &self->hist[i];
        PyObject *row;
        if (h->ret < 0)
            row = Py_BuildValue("(iiiLLLO)", h->thread, h->code, h->n, (long long)h->timeout,
                                (long long)h->invoke, -1LL, Py_None);
        else
            row = Py_BuildValue("(iiiLLLi)", h->thread, h->code, h->n, (long long)h->timeout,
                                (long long)h->invoke, (long long)h->ret, h->result);
        if (row == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, row);
    }
    return list;
}

static PyObject *trace_value(int flag, uint64_t v)
{
    if (flag == VF_U)
        return PyLong_FromUnsignedLongLong(v);
    if (flag == VF_S)
        return PyLong_FromLongLong((long long)v);
    Py_RETURN_NONE;
}

/* trace() -> [(thread, op_index, kind, target, old, new, note)] of the last run */
static PyObject *Runner_trace(Runner *self, PyObject *Py_UNUSED(ignored))
{
    size_t n = self->ran ? self->ntrace : 0;
    PyObject *list = PyList_New((Py_ssize_t)n);
    if (list == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const struct tstep *s = &self->trace[i];
        PyObject *row = Py_BuildValue("(iisNNNs)", s->thread, s->op, TRACE_KINDS[s->kind],
                                      PyUnicode_FromString(s->target),
                                      trace_value(s->oldf, s->old),
                                      trace_value(s->newf, s->new_), s->note);
        if (row == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, row);
    }
    return list;
}

static PyObject *Runner_findings(Runner *self, PyObject *Py_UNUSED(ignored))
{
    int n = self->ran ? self->nfindings : 0;
    PyObject *list = PyList_New(n);
    if (list == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        PyObject *s = PyUnicode_FromString(self->findings[i]);
        if (s == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, s);
    }
    return list;
}

static PyMethodDef Runner_methods[] = {
    {"run", (PyCFunction)(void (*)(void))Runner_run, METH_FASTCALL,
     "run(mode, seed, prefix, depth, horizon, trace) -> (outcome, signature)"},
    {"trail", (PyCFunction)Runner_trail, METH_NOARGS,
     "trail() -> (chosen, widths, kinds) of the last run"},
    {"history", (PyCFunction)Runner_history, METH_NOARGS,
     "history() -> [(thread, code, n, timeout_ns, invoke_ns, return_ns, raw result)]"},
    {"trace", (PyCFunction)Runner_trace, METH_NOARGS,
     "trace() -> [(thread, op_index, kind, target, old, new, note)]"},
    {"findings", (PyCFunction)Runner_findings, METH_NOARGS, "findings() -> [str]"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject RunnerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = SEMH_STR(SEMH_MODULE) ".Runner",
    .tp_basicsize = sizeof(Runner),
    .tp_dealloc = (destructor)Runner_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One C implementation and one program, run under the model scheduler.\n\n"
              "Runner(initial, threads, adversarial, spurious, max_steps, crash_fd)",
    .tp_methods = Runner_methods,
    .tp_init = (initproc)Runner_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = SEMH_STR(SEMH_MODULE),
    .m_doc = "A C semaphore implementation compiled for semharness's model checker.",
    .m_size = -1,
};

PyMODINIT_FUNC SEMH_CAT(PyInit_, SEMH_MODULE)(void);
PyMODINIT_FUNC SEMH_CAT(PyInit_, SEMH_MODULE)(void)
{
    if (PyType_Ready(&RunnerType) < 0)
        return NULL;
    for (int i = 0; i < OUT_COUNT; i++) {
        if (g_outcome_str[i] == NULL) {
            g_outcome_str[i] = PyUnicode_InternFromString(OUTCOME_NAMES[i]);
            if (g_outcome_str[i] == NULL)
                return NULL;
        }
    }
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL)
        return NULL;
    Py_INCREF(&RunnerType);
    if (PyModule_AddObject(m, "Runner", (PyObject *)&RunnerType) < 0 ||
        PyModule_AddStringConstant(m, "description", semh_info.description) < 0 ||
        PyModule_AddIntConstant(m, "capabilities", (long)semh_info.capabilities) < 0 ||
        PyModule_AddIntConstant(m, "state_size", (long)semh_info.state_size) < 0 ||
        PyModule_AddIntConstant(m, "max_threads", MAX_THREADS) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
#endif /* SEMH_MODEL_NO_PYTHON */
