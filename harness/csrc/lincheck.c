/*
 * lincheck.c -- the linearizability checker's search in C (semharness._lincheck).
 *
 * This is _Search.run of harness/linearizability.py, step for step: the same greedy
 * linearization of satisfied minimal read-only calls (pass by pass, lanes in order), the same
 * children (minimal calls that apply, earliest return first, ties in lane order), the same
 * symmetry rule (a call is skipped when an earlier child with the same (kind, n, pending)
 * returns strictly earlier), the same memo (the vector of per-lane positions after the greedy
 * steps), the same node count and budget, and the same "best" (the first node of greatest
 * depth).  Python is the reference; tests/test_lincheck_c.py holds the two to identical answers.
 *
 * Representation, for speed and memory:
 *
 * - a lane is a thread's calls: a run of row numbers in one lane-major array (4 bytes a call);
 *   the calls' fields are read from the caller's int64 columns;
 * - a memo node is a record in an arena: count, path, hash, then the configuration as a
 *   compact key (see "the compact key" below): an anchor call and a few bits a lane -- 16 + 4 +
 *   lanes / 8 bytes, rounded up to 8, for the usual one bit; where a lane is not sequential the
 *   key is the positions themselves, 16 or 32 bits each;
 * - the memo is an open-addressing table (linear probing, at most half full) of node numbers,
 *   found by a 32-bit hash of the positions and confirmed on the whole position vector, so it
 *   is exact: a collision costs a comparison, never a configuration;
 * - the hash is additive, sum over lanes of mix(lane, position) mod 2**32, so advancing a lane
 *   updates it in O(1); so are the depth, the number of lanes not done, and each lane's next
 *   call's invoke and return (dense arrays, which is all that finding the minimal calls reads);
 * - a stack entry is (parent node, lane): the child is the parent advanced in that lane; it is
 *   rebuilt from the parent's record when popped, except for the common case of the first
 *   child of the node just expanded, whose parent state is still the working state;
 * - the path is a parent-pointer tree of (call, parent) records; the records made for a popped
 *   configuration that turns out to be in the memo are dropped again at once.
 *
 * For a valid history that is about 0.8 to 1.7 nodes a call, each some 24 bytes of record (8
 * threads; 32 for 64), 8 to 16 of table, 8 of path.  The search runs without the GIL, on memory from
 * PyMem_Raw* (which tracemalloc sees).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#define INF_RET ((int64_t)1 << 62) /* a pending call's return time (INFINITY) */
#define MAX_COUNT ((int64_t)2147483647)
/* |initial| plus every |n| of an acquire or release stays below this: no count overflows */
#define COUNT_LIMIT ((uint64_t)1 << 61)
#define NIL UINT32_MAX

enum { K_ACQ = 0, K_REL = 1, K_FAIL = 2, K_OVER = 3, K_READ = 4 };
enum { ST_OK = 0, ST_VIOLATION = 1, ST_UNKNOWN = 2, ST_NOT_RUN = 3, ST_NOMEM = -1 };

typedef struct {
    uint32_t call, parent; /* call: a lane-major position */
} PathNode;

typedef struct {
    uint32_t node, lane; /* node NIL: the root */
} Entry;

typedef struct {
    int64_t kind, n, ret;
    int pending;
} Chosen;

typedef struct {
    int64_t count;
    uint32_t path, hash;
    /* then the positions, uint16 or uint32 each */
} NodeHead;

/* The caller's columns (rows index them). */
typedef struct {
    const int64_t *kinds, *ns, *invokes, *rets, *threads;
} Columns;

/* Buffers kept from one segment to the next; each with its capacity in elements. */
typedef struct {
    /* the segment's lanes */
    uint32_t *rows; /* lane-major: the row of each call */
    size_t rows_cap;
    uint32_t *lane_of; /* per call, in the order given: its lane */
    size_t lane_of_cap;
    uint32_t *lane_off, *lane_len, *needed, *cursor, *pos, *minimal, *cand;
    uint32_t *target; /* positions decoded from a record */
    int64_t *lane_thread, *nret, *ninv, *nkind, *nn; /* n...: each lane's next call */
    int64_t *pret;                                   /* each lane's last linearized call's ret */
    Chosen *chosen;
    size_t lanes_cap; /* of each per-lane array */
    int64_t *tkeys;   /* thread -> lane, open addressing */
    uint32_t *tvals;
    size_t tmap_cap;
    int wide;           /* positions stored as uint32 (else uint16) ... */
    uint32_t off_bits;  /* ... or, when not 0, the compact key: this many bits a lane */
    uint32_t off_max;   /* the most calls of one lane that share a point in time */
    size_t key_used;    /* bytes of offsets in a compact key */
    /* the search */
    uint8_t *arena; /* node records */
    size_t arena_len, arena_cap, stride;
    uint32_t *table; /* node + 1; 0: empty */
    size_t table_cap, table_alloc, nodes;
    uint8_t *key; /* the working positions, packed as in a record */
    size_t key_cap;
    PathNode *path;
    size_t path_len, path_cap;
    Entry *stack;
    size_t stack_len, stack_cap;
} Work;

typedef struct {
    int status;
    int64_t nodes;
    uint32_t final_path; /* ok: the linearization */
    uint32_t best;       /* the node of the longest partial linearization, NIL if none */
} Result;

static int reserve(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elem)
            return -1;
        nc += nc / 2 + 16;
    }
    void *q = PyMem_RawRealloc(*p, nc * elem);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

#define RESERVE(w, buf, cap, need) reserve((void **)&(w)->buf, &(w)->cap, (need), sizeof *(w)->buf)

static void work_free(Work *w)
{
    void *bufs[] = {w->rows,  w->lane_of, w->lane_off, w->lane_len, w->needed, w->cursor,
                    w->pos,   w->minimal, w->cand,     w->lane_thread, w->nret, w->ninv,
                    w->nkind, w->nn,      w->target, w->pret,
                    w->chosen, w->tkeys,  w->tvals,    w->arena,    w->table,  w->key,
                    w->path,  w->stack};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        PyMem_RawFree(bufs[i]);
    memset(w, 0, sizeof *w);
}

static inline uint32_t mix(uint32_t lane, uint32_t pos)
{
    uint64_t x = (((uint64_t)lane << 32) | pos) * UINT64_C(0x9E3779B97F4A7C15);
    x ^= x >> 29;
    x *= UINT64_C(0xBF58476D1CE4E5B9);
    x ^= x >> 32;
    return (uint32_t)x;
}

static inline int applies(int64_t kind, int64_t n, int64_t count)
{
    switch (kind) {
    case K_ACQ:
        return count >= n;
    case K_REL:
        return count <= MAX_COUNT - n;
    case K_FAIL:
        return count < n;
    case K_OVER:
        return n > MAX_COUNT - count;
    default:
        return count == n;
    }
}

static inline int64_t effect(int64_t kind, int64_t n)
{
    return kind == K_ACQ ? -n : kind == K_REL ? n : 0;
}

/* ---- a segment's lanes ---- */

static inline size_t thread_slot(int64_t thread, size_t cap)
{
    return (size_t)(((uint64_t)thread * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (cap - 1);
}

static int tmap_grow(Work *w, uint32_t lanes)
{
    size_t cap = w->tmap_cap ? w->tmap_cap * 2 : 64;
    PyMem_RawFree(w->tkeys);
    PyMem_RawFree(w->tvals);
    w->tkeys = PyMem_RawMalloc(cap * sizeof(int64_t));
    w->tvals = PyMem_RawMalloc(cap * sizeof(uint32_t));
    w->tmap_cap = 0;
    if (w->tkeys == NULL || w->tvals == NULL)
        return -1;
    w->tmap_cap = cap;
    memset(w->tvals, 0xff, cap * sizeof(uint32_t));
    for (uint32_t l = 0; l < lanes; l++) {
        size_t h = thread_slot(w->lane_thread[l], cap);
        while (w->tvals[h] != NIL)
            h = (h + 1) & (cap - 1);
        w->tkeys[h] = w->lane_thread[l];
        w->tvals[h] = l;
    }
    return 0;
}

/* Per-lane arrays for `lanes` lanes (each at least lanes_cap long). */
static int lanes_reserve(Work *w, size_t lanes)
{
    if (lanes <= w->lanes_cap)
        return 0;
    size_t cap = lanes + lanes / 2 + 8, c;
    uint32_t **u32s[] = {&w->lane_off, &w->lane_len, &w->needed, &w->cursor,
                         &w->pos,      &w->minimal,  &w->cand,     &w->target};
    for (size_t k = 0; k < sizeof u32s / sizeof u32s[0]; k++)
        if ((c = w->lanes_cap, reserve((void **)u32s[k], &c, cap, sizeof(uint32_t))) < 0)
            return -1;
    int64_t **i64s[] = {&w->lane_thread, &w->nret, &w->ninv, &w->nkind, &w->nn, &w->pret};
    for (size_t k = 0; k < sizeof i64s / sizeof i64s[0]; k++)
        if ((c = w->lanes_cap, reserve((void **)i64s[k], &c, cap, sizeof(int64_t))) < 0)
            return -1;
    if ((c = w->lanes_cap, reserve((void **)&w->chosen, &c, cap, sizeof(Chosen))) < 0)
        return -1;
    w->lanes_cap = cap;
    return 0;
}

/*
 * The compact key.  Let R be the least return time of the lanes' next calls in a configuration
 * the search memoizes (every linearized call was minimal when it was linearized, so invoked no
 * later than the least return time then, which is at most R: the unlinearized calls only
 * become fewer).  In a sequential lane (each call invoked no earlier than the one before it
 * returned) the return times do not decrease, so:
 *   - every call that returns before R is linearized (the lane's next call returns at R or
 *     later, and so do the calls after it): the position is at least lo(R), the number of the
 *     lane's calls returning before R;
 *   - the linearized calls from lo(R) on were invoked by R and return at R or later: they all
 *     contain the instant R, and at most off_max calls of the lane share an instant.
 * So position = lo(R) + an offset in 0..off_max, and (the anchor -- the lane-major position of
 * the first lane's next call returning at R -- and the offsets) determines the configuration
 * and is determined by it: an exact key, usually one bit a lane, as no two calls of a lane
 * usually share an instant.  Decoding finds lo(R) by a galloping search from a nearby position.
 */
static inline int64_t ret_at(const Work *w, const Columns *c, uint32_t l, uint32_t p)
{
    return c->rets[w->rows[w->lane_off[l] + p]];
}

/* Chooses the compact key when every lane is sequential and its offsets fit in 8 bits. */
static void choose_key(Work *w, const Columns *c, uint32_t lanes)
{
    uint32_t most = 1;
    w->off_bits = 0;
    for (uint32_t l = 0; l < lanes; l++) {
        const uint32_t *r = w->rows + w->lane_off[l];
        uint32_t len = w->lane_len[l];
        for (uint32_t k = 0; k < len; k++)
            if (c->invokes[r[k]] > c->rets[r[k]] ||
                (k + 1 < len && c->rets[r[k]] > c->invokes[r[k + 1]]))
                return;
        /* the calls sharing the instant x = ret_k: those invoked by x less those returned
         * before x; both counts only grow with k */
        uint32_t invoked = 0, returned = 0;
        for (uint32_t k = 0; k < len; k++) {
            int64_t x = c->rets[r[k]];
            while (invoked < len && c->invokes[r[invoked]] <= x)
                invoked++;
            while (returned < len && c->rets[r[returned]] < x)
                returned++;
            if (invoked - returned > most)
                most = invoked - returned;
        }
    }
    uint32_t bits = 1;
    while (bits < 8 && (UINT32_C(1) << bits) <= most)
        bits++;
    if ((UINT32_C(1) << bits) <= most)
        return;
    w->off_bits = bits;
    w->off_max = most;
}

/* Lane l's lo(R): the first position at or after which calls return at R or later, galloping
 * from position `near`. */
static uint32_t lane_lo(const Work *w, const Columns *c, uint32_t l, int64_t R, uint32_t near)
{
    uint32_t len = w->lane_len[l], lo, hi, step = 1;
    if (near > len)
        near = len;
    if (near > 0 && ret_at(w, c, l, near - 1) >= R) { /* the answer is below near */
        hi = near - 1;
        while (hi >= step && ret_at(w, c, l, hi - step) >= R) {
            hi -= step;
            step *= 2;
        }
        lo = hi >= step ? hi - step + 1 : 0;
    } else { /* at or above near */
        lo = near;
        while ((uint64_t)lo + step <= len && ret_at(w, c, l, lo + step - 1) < R) {
            lo += step;
            step *= 2;
        }
        hi = (uint64_t)lo + step - 1 < len ? lo + step - 1 : len;
    }
    /* now ret < R below lo, ret >= R from hi on */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ret_at(w, c, l, mid) < R)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Lays out the m calls at seg[0..m) (rows of the columns, in index order) as lanes, in order
 * of each thread's first call.  Returns the number of lanes, -1 out of memory.
 */
static int64_t build(Work *w, const Columns *c, uint32_t m, const int64_t *seg)
{
    if (w->tmap_cap == 0 && tmap_grow(w, 0) < 0) /* the map is empty between builds */
        return -1;
    if (RESERVE(w, lane_of, lane_of_cap, m) < 0 || RESERVE(w, rows, rows_cap, m) < 0)
        return -1;
    uint32_t lanes = 0;
    for (uint32_t i = 0; i < m; i++) {
        int64_t th = c->threads[seg[i]];
        size_t mask = w->tmap_cap - 1, h = thread_slot(th, w->tmap_cap);
        while (w->tvals[h] != NIL && w->tkeys[h] != th)
            h = (h + 1) & mask;
        uint32_t lane = w->tvals[h];
        if (lane == NIL) {
            if (lanes_reserve(w, (size_t)lanes + 2) < 0)
                return -1;
            lane = lanes++;
            w->lane_thread[lane] = th;
            w->tkeys[h] = th;
            w->tvals[h] = lane;
            if (2 * (size_t)lanes > w->tmap_cap && tmap_grow(w, lanes) < 0)
                return -1;
        }
        w->lane_of[i] = lane;
    }
    /* Empty the map again, last entry first: each entry's probe run then is still intact. */
    for (uint32_t l = lanes; l-- > 0;) {
        size_t h = thread_slot(w->lane_thread[l], w->tmap_cap);
        while (w->tvals[h] != l)
            h = (h + 1) & (w->tmap_cap - 1);
        w->tvals[h] = NIL;
    }
    memset(w->lane_len, 0, lanes * sizeof(uint32_t));
    memset(w->needed, 0, lanes * sizeof(uint32_t));
    for (uint32_t i = 0; i < m; i++)
        w->lane_len[w->lane_of[i]]++;
    uint32_t off = 0, longest = 0;
    for (uint32_t l = 0; l < lanes; l++) {
        w->lane_off[l] = w->cursor[l] = off;
        off += w->lane_len[l];
        if (w->lane_len[l] > longest)
            longest = w->lane_len[l];
    }
    w->lane_off[lanes] = off;
    for (uint32_t i = 0; i < m; i++) {
        uint32_t l = w->lane_of[i];
        int64_t r = seg[i];
        w->rows[w->cursor[l]++] = (uint32_t)r;
        if (c->rets[r] < INF_RET)
            w->needed[l]++;
    }
    w->wide = longest >= UINT16_MAX;
    choose_key(w, c, lanes);
    return lanes;
}

/* ---- the memo ---- */

static inline NodeHead *node_at(const Work *w, uint32_t node)
{
    return (NodeHead *)(w->arena + (size_t)node * w->stride);
}

/* The positions of node rec's configuration into w->target, galloping from `near` (NULL: 0). */
static void decode(Work *w, const Columns *c, uint32_t L, const NodeHead *rec,
                   const uint32_t *near)
{
    const uint8_t *key = (const uint8_t *)(rec + 1);
    if (w->off_bits == 0) {
        for (uint32_t l = 0; l < L; l++)
            w->target[l] = w->wide ? ((const uint32_t *)key)[l] : ((const uint16_t *)key)[l];
        return;
    }
    uint32_t anchor;
    memcpy(&anchor, key, sizeof anchor);
    int64_t R = anchor == NIL ? INT64_MAX : c->rets[w->rows[anchor]];
    const uint8_t *bits = key + sizeof anchor;
    uint32_t mask = (UINT32_C(1) << w->off_bits) - 1;
    for (uint32_t l = 0; l < L; l++) {
        size_t at = (size_t)l * w->off_bits;
        uint32_t two = bits[at / 8];
        if (at / 8 + 1 < w->key_used)
            two |= (uint32_t)bits[at / 8 + 1] << 8;
        uint32_t off = (two >> (at % 8)) & mask;
        w->target[l] = lane_lo(w, c, l, R, near ? near[l] : 0) + off;
    }
}

static inline size_t slot_of(uint32_t h, size_t cap)
{
    /* Fibonacci hashing: the top bits of h * the golden ratio, scaled to cap (a power of 2) */
    return (size_t)(((uint64_t)(h * UINT32_C(0x9E3779B1)) * cap) >> 32);
}

static int table_reset(Work *w)
{
    size_t cap = 64;
    if (w->table_alloc < cap) {
        PyMem_RawFree(w->table);
        w->table = PyMem_RawMalloc(cap * sizeof(uint32_t));
        w->table_alloc = w->table ? cap : 0;
        if (w->table == NULL)
            return -1;
    }
    memset(w->table, 0, cap * sizeof(uint32_t));
    w->table_cap = cap;
    w->nodes = 0;
    w->arena_len = 0;
    return 0;
}

static int table_grow(Work *w)
{
    size_t cap = w->table_cap * 2;
    if (cap > ((size_t)1 << 32))
        return -1;
    uint32_t *t = PyMem_RawCalloc(cap, sizeof(uint32_t));
    if (t == NULL)
        return -1;
    for (size_t node = 0; node < w->nodes; node++) {
        size_t s = slot_of(node_at(w, (uint32_t)node)->hash, cap);
        while (t[s])
            s = (s + 1) & (cap - 1);
        t[s] = (uint32_t)node + 1;
    }
    PyMem_RawFree(w->table);
    w->table = t;
    w->table_cap = w->table_alloc = cap;
    return 0;
}

/*
 * Looks up the configuration w->key (packed positions) with hash h: 1 if it is in the memo, 0
 * if it has been added as node w->nodes - 1 (with count and path), -1 out of memory.
 */
static int memo_add(Work *w, uint32_t h, int64_t count, uint32_t path)
{
    size_t mask = w->table_cap - 1, s = slot_of(h, w->table_cap);
    size_t bytes = w->stride - sizeof(NodeHead);
    for (uint32_t v; (v = w->table[s]) != 0; s = (s + 1) & mask) {
        const NodeHead *rec = node_at(w, v - 1);
        if (rec->hash == h && memcmp(rec + 1, w->key, bytes) == 0)
            return 1;
    }
    if (w->nodes >= NIL - 1 || RESERVE(w, arena, arena_cap, w->arena_len + w->stride) < 0)
        return -1;
    NodeHead *rec = (NodeHead *)(w->arena + w->arena_len);
    w->arena_len += w->stride;
    rec->count = count;
    rec->path = path;
    rec->hash = h;
    memcpy(rec + 1, w->key, bytes);
    w->table[s] = (uint32_t)++w->nodes;
    if (w->nodes * 2 > w->table_cap && table_grow(w) < 0)
        return -1;
    return 0;
}

/* ---- the search ---- */

/* The working configuration. */
typedef struct {
    int64_t count, depth;
    uint32_t hash, path, undone, live; /* lanes not done; lanes with calls left */
} State;

static inline int push_path(Work *w, uint32_t call, uint32_t *path)
{
    if (w->path_len >= NIL - 1 || RESERVE(w, path, path_cap, w->path_len + 1) < 0)
        return -1;
    w->path[w->path_len] = (PathNode){call, *path};
    *path = (uint32_t)w->path_len++;
    return 0;
}

/* Lane l's next call (at position p), into the dense next-call arrays. */
static inline void load_next(Work *w, const Columns *c, uint32_t l, uint32_t p)
{
    w->pret[l] = p > 0 ? ret_at(w, c, l, p - 1) : INT64_MIN;
    if (p < w->lane_len[l]) {
        uint32_t r = w->rows[w->lane_off[l] + p];
        w->nret[l] = c->rets[r];
        w->ninv[l] = c->invokes[r];
        w->nkind[l] = c->kinds[r];
        w->nn[l] = c->ns[r];
    } else {
        w->nret[l] = w->ninv[l] = INT64_MAX;
        w->nkind[l] = K_READ;
        w->nn[l] = 0;
    }
}

/* Linearizes lane l's next call. */
static inline int advance(Work *w, const Columns *c, State *st, uint32_t l)
{
    uint32_t p = w->pos[l];
    st->hash += mix(l, p + 1) - mix(l, p);
    w->pos[l] = ++p;
    st->depth++;
    if (p == w->needed[l])
        st->undone--;
    if (p == w->lane_len[l])
        st->live--;
    load_next(w, c, l, p);
    return push_path(w, w->lane_off[l] + p - 1, &st->path);
}

/* Sets the working state to all positions zero. */
static void load_root(Work *w, const Columns *c, uint32_t L, State *st)
{
    st->depth = 0;
    st->undone = st->live = 0;
    for (uint32_t l = 0; l < L; l++) {
        w->pos[l] = 0;
        st->undone += 0 < w->needed[l];
        st->live += 0 < w->lane_len[l];
        load_next(w, c, l, 0);
    }
}

/* Sets the working state to node rec's, reloading only the lanes where the two differ. */
static void load(Work *w, const Columns *c, uint32_t L, const NodeHead *rec, State *st)
{
    decode(w, c, L, rec, w->pos);
    for (uint32_t l = 0; l < L; l++) {
        uint32_t p = w->target[l], q = w->pos[l];
        if (p == q)
            continue;
        st->depth += (int64_t)p - (int64_t)q;
        st->undone += (uint32_t)(p < w->needed[l]) - (uint32_t)(q < w->needed[l]);
        st->live += (uint32_t)(p < w->lane_len[l]) - (uint32_t)(q < w->lane_len[l]);
        w->pos[l] = p;
        load_next(w, c, l, p);
    }
    st->count = rec->count;
    st->hash = rec->hash;
    st->path = rec->path;
}

/* The lanes whose next call is minimal, in lane order; returns how many. */
static inline uint32_t minimal_lanes(const Work *w, uint32_t L, const State *st)
{
    if (st->live == 0)
        return 0;
    const int64_t *nret = w->nret, *ninv = w->ninv;
    int64_t limit = INT64_MAX; /* the exhausted lanes' nret: the min is over the live ones */
    for (uint32_t l = 0; l < L; l++)
        limit = nret[l] < limit ? nret[l] : limit;
    uint32_t k = 0;
    for (uint32_t l = 0; l < L; l++)
        if (ninv[l] <= limit && w->pos[l] < w->lane_len[l])
            w->minimal[k++] = l;
    return k;
}

static inline void pack_key(Work *w, const Columns *c, uint32_t L)
{
    if (w->off_bits) {
        int64_t R = INT64_MAX; /* the exhausted lanes' nret */
        uint32_t anchor = NIL;
        for (uint32_t l = 0; l < L; l++)
            if (w->nret[l] < R) {
                R = w->nret[l];
                anchor = w->lane_off[l] + w->pos[l];
            }
        memcpy(w->key, &anchor, sizeof anchor);
        uint8_t *bits = w->key + sizeof anchor;
        memset(bits, 0, w->key_used);
        for (uint32_t l = 0; l < L; l++) {
            if (w->pret[l] < R)
                continue;
            uint32_t off = 1, p = w->pos[l] - 1;
            while (off < w->off_max && p > 0 && ret_at(w, c, l, p - 1) >= R) {
                off++;
                p--;
            }
            size_t at = (size_t)l * w->off_bits;
            bits[at / 8] |= (uint8_t)(off << (at % 8));
            if (at % 8 + w->off_bits > 8)
                bits[at / 8 + 1] |= (uint8_t)(off >> (8 - at % 8));
        }
    } else if (w->wide) {
        memcpy(w->key, w->pos, L * sizeof(uint32_t));
    } else {
        uint16_t *k = (uint16_t *)w->key;
        for (uint32_t l = 0; l < L; l++)
            k[l] = (uint16_t)w->pos[l];
    }
}

static void search(Work *w, const Columns *c, uint32_t L, int64_t initial, int64_t budget,
                   Result *res)
{
    const int64_t *nkind = w->nkind, *nn = w->nn, *nret = w->nret;
    uint32_t *M = w->minimal, *cand = w->cand;
    Chosen *chosen = w->chosen;
    res->status = ST_NOMEM;
    res->nodes = 0;
    res->best = NIL;
    res->final_path = NIL;
    w->path_len = 0;
    w->stack_len = 0;
    w->key_used = ((size_t)L * w->off_bits + 7) / 8;
    size_t key_bytes = w->off_bits ? sizeof(uint32_t) + w->key_used : (size_t)L * (w->wide ? 4 : 2);
    w->stride = sizeof(NodeHead) + ((key_bytes + 7) & ~(size_t)7);
    if (table_reset(w) < 0 || RESERVE(w, stack, stack_cap, 1) < 0 ||
        RESERVE(w, key, key_cap, key_bytes + 8) < 0)
        return;
    uint32_t h0 = 0;
    for (uint32_t l = 0; l < L; l++)
        h0 += mix(l, 0);
    memset(w->key, 0, w->stride - sizeof(NodeHead)); /* the padding compares equal */
    int64_t best_depth = -1;
    uint32_t current = NIL; /* the node whose state the working state still is, if any */
    State st;
    w->stack[w->stack_len++] = (Entry){NIL, 0};
    while (w->stack_len) {
        Entry e = w->stack[--w->stack_len];
        size_t mark = w->path_len;
        if (e.node == NIL) {
            load_root(w, c, L, &st);
            st.count = initial;
            st.hash = h0;
            st.path = NIL;
        } else {
            if (e.node != current)
                load(w, c, L, node_at(w, e.node), &st);
            st.count += effect(nkind[e.lane], nn[e.lane]);
            if (advance(w, c, &st, e.lane) < 0)
                return;
        }
        current = NIL;
        /* Greedy: minimal read-only calls the count satisfies, pass by pass. */
        uint32_t k;
        int progressed;
        do {
            progressed = 0;
            k = minimal_lanes(w, L, &st);
            for (uint32_t i = 0; i < k; i++) {
                uint32_t l = M[i];
                if (nkind[l] >= K_FAIL && applies(nkind[l], nn[l], st.count)) {
                    if (advance(w, c, &st, l) < 0)
                        return;
                    progressed = 1;
                }
            }
        } while (progressed);
        /* M[0..k): the minimal lanes here (the last pass changed nothing) */
        if (st.undone == 0) {
            res->status = ST_OK;
            res->final_path = st.path;
            return;
        }
        pack_key(w, c, L);
        int seen = memo_add(w, st.hash, st.count, st.path);
        if (seen < 0)
            return;
        if (seen) {
            w->path_len = mark; /* nothing else refers to the records made since the pop */
            continue;
        }
        uint32_t node = (uint32_t)(w->nodes - 1);
        current = node;
        res->nodes++;
        if (st.depth > best_depth) {
            best_depth = st.depth;
            res->best = node;
        }
        if (res->nodes > budget) {
            res->status = ST_UNKNOWN;
            return;
        }
        /*
         * Children: minimal calls with an effect that apply, earliest return first (ties in
         * lane order).  Symmetry: a call is skipped when a tried one of the same effect returns
         * strictly earlier -- in that order, when another of its effect returns earlier.  So
         * the children are the calls that return first among those of their effect: found with
         * each effect's earliest return, then put in order (few: one per effect, but for ties).
         */
        uint32_t nchosen = 0, kept = 0;
        for (uint32_t i = 0; i < k; i++) {
            uint32_t l = M[i];
            int64_t kind = nkind[l], n = nn[l], ret = nret[l];
            if (kind >= K_FAIL || !applies(kind, n, st.count))
                continue;
            int pending = ret >= INF_RET;
            uint32_t j = 0;
            while (j < nchosen &&
                   (chosen[j].kind != kind || chosen[j].n != n || chosen[j].pending != pending))
                j++;
            if (j == nchosen)
                chosen[nchosen++] = (Chosen){kind, n, ret, pending};
            else if (ret < chosen[j].ret)
                chosen[j].ret = ret;
            else if (ret > chosen[j].ret)
                continue;
            cand[kept++] = l;
        }
        uint32_t nc = kept;
        kept = 0;
        for (uint32_t i = 0; i < nc; i++) {
            uint32_t l = cand[i], j = 0;
            int64_t kind = nkind[l], n = nn[l], ret = nret[l];
            int pending = ret >= INF_RET;
            while (chosen[j].kind != kind || chosen[j].n != n || chosen[j].pending != pending)
                j++;
            if (ret != chosen[j].ret)
                continue;
            for (j = kept++; j > 0 && nret[cand[j - 1]] > ret; j--) /* stable insertion */
                cand[j] = cand[j - 1];
            cand[j] = l;
        }
        if (RESERVE(w, stack, stack_cap, w->stack_len + kept) < 0)
            return;
        for (uint32_t i = kept; i-- > 0;) /* the first child is popped first */
            w->stack[w->stack_len++] = (Entry){node, cand[i]};
    }
    res->status = ST_VIOLATION;
}

/* The path's calls, oldest first, as rows; returns how many. */
static size_t path_rows(const Work *w, uint32_t path, int64_t *out)
{
    size_t depth = 0;
    for (uint32_t p = path; p != NIL; p = w->path[p].parent)
        depth++;
    if (out != NULL)
        for (size_t i = depth; path != NIL; path = w->path[path].parent)
            out[--i] = w->rows[w->path[path].call];
    return depth;
}

/* ---- arguments ---- */

static int get_i64(PyObject *obj, Py_buffer *view, const char *name)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    const char *f = view->format ? view->format : "B";
    if (*f == '<' || *f == '=' || *f == '@')
        f++;
    if (view->itemsize != 8 || (strcmp(f, "q") != 0 && strcmp(f, "l") != 0) || view->ndim > 1) {
        PyErr_Format(PyExc_TypeError, "%s must be a 1-d int64 buffer, not format %s", name,
                     view->format ? view->format : "B");
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static uint64_t abs_u64(int64_t v)
{
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

/* Kinds in 0..4, and no count can overflow: |initial| + sum |n| of acquires and releases. */
static int validate(const Columns *c, size_t m, const int64_t *rows, uint64_t initial_abs)
{
    uint64_t total = initial_abs;
    for (size_t i = 0; i < m; i++) {
        int64_t r = rows[i], kind = c->kinds[r];
        if (kind < K_ACQ || kind > K_READ) {
            PyErr_Format(PyExc_ValueError, "row %lld: kind %lld is not 0..4", (long long)r,
                         (long long)kind);
            return -1;
        }
        if (kind <= K_REL) {
            uint64_t a = abs_u64(c->ns[r]);
            if (a >= COUNT_LIMIT || (total += a) >= COUNT_LIMIT) {
                total = COUNT_LIMIT;
                break;
            }
        }
    }
    if (total < COUNT_LIMIT)
        return 0;
    PyErr_SetString(PyExc_OverflowError,
                    "counts could leave the range the C search handles (2**61)");
    return -1;
}

/* The five columns (kinds, ns, invokes, rets, threads) are equally long, and short enough. */
static int same_length(const Py_buffer *v, const char *const *names, Py_ssize_t size)
{
    for (int i = 1; i < 5; i++)
        if (v[i].len / 8 != size) {
            PyErr_Format(PyExc_ValueError, "%s has %zd items, kinds %zd", names[i], v[i].len / 8,
                         size);
            return -1;
        }
    if (size >= (Py_ssize_t)NIL - 1) {
        PyErr_SetString(PyExc_OverflowError, "too many calls");
        return -1;
    }
    return 0;
}

/* An int64 memoryview over a new bytearray of n items (*data: its memory). */
static PyObject *int64_buffer(Py_ssize_t n, int64_t **data)
{
    PyObject *bytes = PyByteArray_FromStringAndSize(NULL, n * 8);
    if (bytes == NULL)
        return NULL;
    *data = (int64_t *)PyByteArray_AS_STRING(bytes);
    return bytes;
}

static PyObject *as_int64_view(PyObject *bytes)
{
    PyObject *mv = PyMemoryView_FromObject(bytes);
    if (mv == NULL)
        return NULL;
    PyObject *view = PyObject_CallMethod(mv, "cast", "s", "q");
    Py_DECREF(mv);
    return view;
}

static const char *STATUS[] = {"ok", "violation", "unknown", "not run"};

/* ---- search(): one segment ---- */

PyDoc_STRVAR(search_doc,
             "search(kinds, ns, invokes, rets, threads, rows, initial, budget)\n"
             "--\n\n"
             "One segment's search, as _Search.run: the calls at rows (increasing) of the\n"
             "columns (1-d int64 buffers), completed and pending (ret >= 1 << 62).\n"
             "Returns (status, order, nodes, best_positions, best_count, lane_threads): status\n"
             "'ok', 'violation' or 'unknown' (more than budget nodes); order an int64 memoryview\n"
             "of rows, the linearization when 'ok', else the longest partial one found;\n"
             "best_positions the lane positions where that one ends (() when no node was\n"
             "explored), best_count the count there; lane_threads the lanes' threads, lanes in\n"
             "order of first call.");

static PyObject *py_search(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *objs[6];
    long long initial, budget;
    if (!PyArg_ParseTuple(args, "OOOOOOLL:search", &objs[0], &objs[1], &objs[2], &objs[3],
                          &objs[4], &objs[5], &initial, &budget))
        return NULL;
    static const char *names[] = {"kinds", "ns", "invokes", "rets", "threads", "rows"};
    Py_buffer v[6];
    int got = 0;
    PyObject *result = NULL, *order = NULL, *best = NULL, *lanes = NULL;
    Work w;
    memset(&w, 0, sizeof w);
    for (; got < 6; got++)
        if (get_i64(objs[got], &v[got], names[got]) < 0)
            goto done;
    Py_ssize_t size = v[0].len / 8, m = v[5].len / 8;
    if (same_length(v, names, size) < 0)
        goto done;
    Columns c = {v[0].buf, v[1].buf, v[2].buf, v[3].buf, v[4].buf};
    const int64_t *rows = v[5].buf;
    for (Py_ssize_t i = 0; i < m; i++)
        if (rows[i] < 0 || rows[i] >= size || (i > 0 && rows[i] <= rows[i - 1])) {
            PyErr_SetString(PyExc_ValueError, "rows must increase, within the columns");
            goto done;
        }
    if (validate(&c, (size_t)m, rows, abs_u64(initial)) < 0)
        goto done;
    Result res;
    uint32_t L = 0;
    int failed;
    Py_BEGIN_ALLOW_THREADS
    int64_t built = build(&w, &c, (uint32_t)m, rows);
    failed = built < 0;
    if (!failed) {
        L = (uint32_t)built;
        search(&w, &c, L, initial, budget, &res);
        failed = res.status == ST_NOMEM;
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    const NodeHead *rec = res.best != NIL ? node_at(&w, res.best) : NULL;
    uint32_t path = res.status == ST_OK ? res.final_path : rec ? rec->path : NIL;
    int64_t *out = NULL;
    PyObject *bytes = int64_buffer((Py_ssize_t)path_rows(&w, path, NULL), &out);
    if (bytes == NULL)
        goto done;
    path_rows(&w, path, out);
    order = as_int64_view(bytes);
    Py_DECREF(bytes);
    if (order == NULL)
        goto done;
    if (rec)
        decode(&w, &c, L, rec, NULL);
    best = PyTuple_New(rec ? L : 0);
    for (uint32_t l = 0; best && rec && l < L; l++) {
        PyObject *p = PyLong_FromUnsignedLong(w.target[l]);
        if (p == NULL)
            Py_CLEAR(best);
        else
            PyTuple_SET_ITEM(best, l, p);
    }
    lanes = PyTuple_New(L);
    for (uint32_t l = 0; lanes && l < L; l++) {
        PyObject *t = PyLong_FromLongLong(w.lane_thread[l]);
        if (t == NULL)
            Py_CLEAR(lanes);
        else
            PyTuple_SET_ITEM(lanes, l, t);
    }
    if (best == NULL || lanes == NULL)
        goto done;
    result = Py_BuildValue("sOLOLO", STATUS[res.status], order, (long long)res.nodes, best,
                           (long long)(rec ? rec->count : initial), lanes);
done:
    Py_XDECREF(order);
    Py_XDECREF(best);
    Py_XDECREF(lanes);
    for (int i = 0; i < got; i++)
        PyBuffer_Release(&v[i]);
    work_free(&w);
    return result;
}

/* ---- search_segments(): many segments, one call ---- */

PyDoc_STRVAR(search_segments_doc,
             "search_segments(kinds, ns, invokes, rets, threads, rows, starts, initials, budget)\n"
             "--\n\n"
             "Searches segment s -- the calls at rows[starts[s]:starts[s+1]] of the columns, in\n"
             "increasing index order, from count initials[s] -- for each segment in turn, and\n"
             "stops after the first violation.  Returns (statuses, nodes, order): statuses bytes,\n"
             "per segment 0 ok, 1 violation, 2 unknown, 3 not run; nodes an int64 memoryview,\n"
             "per segment; order an int64 memoryview of rows, the linearizations of the segments\n"
             "found ok, one after another.");

static PyObject *py_search_segments(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *objs[8];
    long long budget;
    if (!PyArg_ParseTuple(args, "OOOOOOOOL:search_segments", &objs[0], &objs[1], &objs[2],
                          &objs[3], &objs[4], &objs[5], &objs[6], &objs[7], &budget))
        return NULL;
    static const char *names[] = {"kinds",   "ns",   "invokes", "rets",
                                  "threads", "rows", "starts",  "initials"};
    Py_buffer v[8];
    int got = 0;
    PyObject *result = NULL, *statuses = NULL, *nodes_buf = NULL, *order_buf = NULL;
    PyObject *nodes = NULL, *order = NULL;
    Work w;
    memset(&w, 0, sizeof w);
    for (; got < 8; got++)
        if (get_i64(objs[got], &v[got], names[got]) < 0)
            goto done;
    Py_ssize_t size = v[0].len / 8, nrows = v[5].len / 8, nseg = v[7].len / 8;
    if (same_length(v, names, size) < 0)
        goto done;
    if (v[6].len / 8 != nseg + 1) {
        PyErr_SetString(PyExc_ValueError, "starts must have one more item than initials");
        goto done;
    }
    Columns c = {v[0].buf, v[1].buf, v[2].buf, v[3].buf, v[4].buf};
    const int64_t *rows = v[5].buf, *starts = v[6].buf, *inits = v[7].buf;
    if (starts[0] != 0 || starts[nseg] != nrows) {
        PyErr_SetString(PyExc_ValueError, "starts must run from 0 to len(rows)");
        goto done;
    }
    uint64_t init_abs = 0;
    for (Py_ssize_t s = 0; s < nseg; s++) {
        if (starts[s + 1] < starts[s]) {
            PyErr_SetString(PyExc_ValueError, "starts must not decrease");
            goto done;
        }
        for (int64_t i = starts[s]; i < starts[s + 1]; i++)
            if (rows[i] < 0 || rows[i] >= size || (i > starts[s] && rows[i] <= rows[i - 1])) {
                PyErr_SetString(PyExc_ValueError,
                                "each segment's rows must increase, within the columns");
                goto done;
            }
        if (abs_u64(inits[s]) > init_abs)
            init_abs = abs_u64(inits[s]);
    }
    if (validate(&c, (size_t)nrows, rows, init_abs) < 0)
        goto done;
    int64_t *nd = NULL, *out = NULL;
    statuses = PyBytes_FromStringAndSize(NULL, nseg);
    nodes_buf = int64_buffer(nseg, &nd);
    order_buf = int64_buffer(nrows, &out);
    if (statuses == NULL || nodes_buf == NULL || order_buf == NULL)
        goto done;
    char *st = PyBytes_AS_STRING(statuses);
    memset(st, ST_NOT_RUN, nseg);
    memset(nd, 0, nseg * 8);
    size_t written = 0;
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t s = 0; s < nseg; s++) {
        const int64_t *seg = rows + starts[s];
        int64_t built = build(&w, &c, (uint32_t)(starts[s + 1] - starts[s]), seg);
        Result res;
        if (built >= 0)
            search(&w, &c, (uint32_t)built, inits[s], budget, &res);
        if (built < 0 || res.status == ST_NOMEM) {
            failed = 1;
            break;
        }
        st[s] = (char)res.status;
        nd[s] = res.nodes;
        if (res.status == ST_OK)
            written += path_rows(&w, res.final_path, out + written);
        else if (res.status == ST_VIOLATION)
            break;
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    work_free(&w); /* before the order is trimmed */
    if (PyByteArray_Resize(order_buf, (Py_ssize_t)(written * 8)) < 0)
        goto done;
    nodes = as_int64_view(nodes_buf);
    order = as_int64_view(order_buf);
    if (nodes == NULL || order == NULL)
        goto done;
    result = PyTuple_Pack(3, statuses, nodes, order);
done:
    Py_XDECREF(statuses);
    Py_XDECREF(nodes_buf);
    Py_XDECREF(order_buf);
    Py_XDECREF(nodes);
    Py_XDECREF(order);
    for (int i = 0; i < got; i++)
        PyBuffer_Release(&v[i]);
    work_free(&w);
    return result;
}

/* ---- sweep(): a whole history, breadth first ---- */

/*
 * The search above is depth first with a memo of every configuration: right for short or
 * hard histories, but a long stress history (tens of millions of calls, two to a few threads)
 * costs it a memo record a call.  The same state space -- configurations are per-lane
 * positions, the count is implied, a lane's next call may be linearized when it applies and
 * was invoked no later than every lane's next call returns, accepted when every completed
 * call is linearized -- can instead be swept layer by layer: layer d holds every configuration
 * with d calls linearized that is reachable at all.  Only two layers live at a time, and with
 * few threads a layer holds a handful of configurations (those the calls in flight around one
 * instant allow), so the sweep is linear in the history and needs a few bytes a call.  It
 * keeps no linearization (a caller that needs one uses the search) and gives up, "unknown",
 * when a layer outgrows `max_width`.  The transitions are the search's without its reductions
 * (greedy reads, symmetry), which the search applies because they do not change its answer;
 * tests/test_lincheck_c.py holds the two to the same verdicts.
 *
 * It reads the History's own columns (no StepArrays to build: that alone costs more than the
 * sweep) and gives each row its kind exactly as StepArrays.from_history does.
 */

#define SWEEP_MAX_LANES 64
#define OP_ACQUIRE 0
#define OP_TRY_ACQUIRE 1
#define OP_RELEASE 2
#define OP_AVAILABLE 3
#define PENDING_RET INT64_MIN /* history.PENDING */
#define NO_RESULT INT64_MIN   /* history.NO_RESULT */

typedef struct {
    const int8_t *op;
    const int64_t *n, *result, *invoke, *ret;
    const int16_t *error;
    const int32_t *thread;
    const double *timeout; /* seconds; NaN: none */
    int64_t overflow;      /* the error code of OverflowError, or -1 */
} HistoryColumns;

/* Where row i's interval starts for the specification: a failed timed try at its deadline,
 * as linearizability.fail_start() says (the same arithmetic: double ns, truncated). */
static inline int64_t start_of(const HistoryColumns *h, size_t i, int kind)
{
    int64_t inv = h->invoke[i];
    if (kind != K_FAIL || !(h->timeout[i] > 0))
        return inv;
    double span = h->timeout[i] * 1e9;
    int64_t ret = h->ret[i];
    return span >= (double)(ret - inv) ? ret : inv + (int64_t)span;
}

/* Row i's kind as StepArrays.from_history gives it, or -1 when it constrains nothing; *value:
 * the n it needs, or the value an available() returned. */
static inline int row_kind(const HistoryColumns *h, size_t i, int64_t *value)
{
    int64_t n = h->n[i], err = h->error[i], res = h->result[i];
    int op = h->op[i], pending = h->ret[i] == PENDING_RET;
    *value = n;
    if (err != 0)
        return op == OP_RELEASE && err == h->overflow && n > 0 && n <= MAX_COUNT ? K_OVER : -1;
    if (op == OP_AVAILABLE) {
        *value = res;
        return pending || res == NO_RESULT ? -1 : K_READ;
    }
    if (n < 0 || n > MAX_COUNT)
        return -1;
    int said_false = !pending && res != NO_RESULT && res != 1;
    switch (op) {
    case OP_ACQUIRE:
        return n != 0 ? K_ACQ : -1;
    case OP_TRY_ACQUIRE:
        return said_false ? K_FAIL : n != 0 ? K_ACQ : -1;
    case OP_RELEASE:
        return n != 0 ? K_REL : -1;
    default:
        return -1;
    }
}

/* A configuration: the count, the hash of the positions, the lanes still short of their last
 * completed call, then one position a lane. */
typedef struct {
    int64_t count;
    uint32_t hash, todo;
    uint32_t pos[];
} Config;

typedef struct {
    uint32_t lanes;
    uint32_t *rows;    /* lane-major: the row of each call */
    uint32_t *off;     /* lanes + 1: where each lane's calls start in rows */
    uint32_t *needed;  /* per lane: its completed calls (done: that many linearized) */
    int8_t *kind;      /* per row */
    uint8_t *layer[2]; /* configurations, `stride` bytes each */
    size_t stride, width[2];
    uint32_t *slot, *stamp; /* the dedupe table of the layer being built: a configuration's
                             * index in that layer, and the layer id that wrote the slot
                             * (any other id: the slot is empty) */
    size_t table_cap;
} Sweep;

static void sweep_free(Sweep *s)
{
    void *bufs[] = {s->rows, s->off, s->needed, s->kind, s->layer[0], s->layer[1], s->slot,
                    s->stamp};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        PyMem_RawFree(bufs[i]);
    memset(s, 0, sizeof *s);
}

static inline Config *config_at(const Sweep *s, int which, size_t i)
{
    return (Config *)(s->layer[which] + i * s->stride);
}

/* The lanes (threads in order of first row) and their calls; -1 out of memory, -2 when the
 * sweep does not apply: more than SWEEP_MAX_LANES threads, or a thread whose calls, in row
 * order, are not sequential (each invoked no earlier than the one before returned) -- where
 * the search splits such a history at quiescent points, the pieces of a thread would no
 * longer be one lane, so the two could differ on such malformed histories. */
static int sweep_lanes(Sweep *s, const HistoryColumns *h, size_t size)
{
    int32_t thread_of[SWEEP_MAX_LANES];
    uint32_t count[SWEEP_MAX_LANES] = {0}, L = 0, last = 0;
    s->kind = PyMem_RawMalloc(size ? size : 1);
    uint32_t *lane_of = PyMem_RawMalloc((size ? size : 1) * sizeof(uint32_t));
    if (s->kind == NULL || lane_of == NULL) {
        PyMem_RawFree(lane_of);
        return -1;
    }
    size_t calls = 0;
    for (size_t i = 0; i < size; i++) {
        int64_t value;
        int k = row_kind(h, i, &value);
        s->kind[i] = (int8_t)k;
        if (k < 0)
            continue;
        int32_t t = h->thread[i];
        if (L == 0 || thread_of[last] != t) {
            uint32_t l = 0;
            while (l < L && thread_of[l] != t)
                l++;
            if (l == L) {
                if (L == SWEEP_MAX_LANES) {
                    PyMem_RawFree(lane_of);
                    return -2;
                }
                thread_of[L++] = t;
            }
            last = l;
        }
        lane_of[i] = last;
        count[last]++;
        calls++;
    }
    s->lanes = L;
    s->rows = PyMem_RawMalloc((calls ? calls : 1) * sizeof(uint32_t));
    s->off = PyMem_RawMalloc((L + 1) * sizeof(uint32_t));
    s->needed = PyMem_RawMalloc((L ? L : 1) * sizeof(uint32_t));
    if (s->rows == NULL || s->off == NULL || s->needed == NULL) {
        PyMem_RawFree(lane_of);
        return -1;
    }
    uint32_t fill[SWEEP_MAX_LANES];
    int64_t free_from[SWEEP_MAX_LANES]; /* when the lane's last call so far returned */
    s->off[0] = 0;
    for (uint32_t l = 0; l < L; l++) {
        s->off[l + 1] = s->off[l] + count[l];
        fill[l] = s->off[l];
        s->needed[l] = 0;
        free_from[l] = INT64_MIN;
    }
    int sequential = 1;
    for (size_t i = 0; i < size && sequential; i++)
        if (s->kind[i] >= 0) {
            uint32_t l = lane_of[i];
            int64_t inv = start_of(h, i, s->kind[i]), ret = h->ret[i];
            ret = ret == PENDING_RET ? INF_RET : ret;
            sequential = free_from[l] <= inv && inv <= ret;
            free_from[l] = ret;
            s->needed[l] += ret != INF_RET;
            s->rows[fill[l]++] = (uint32_t)i;
        }
    PyMem_RawFree(lane_of);
    return sequential ? 0 : -2;
}

/* Room for `width` configurations in both layers and the table. */
static int sweep_reserve(Sweep *s, size_t width)
{
    for (int k = 0; k < 2; k++) {
        s->layer[k] = PyMem_RawMalloc(width * s->stride);
        if (s->layer[k] == NULL)
            return -1;
    }
    size_t cap = 16;
    while (cap < 4 * width)
        cap *= 2;
    s->slot = PyMem_RawMalloc(cap * sizeof(uint32_t));
    s->stamp = PyMem_RawCalloc(cap, sizeof(uint32_t));
    s->table_cap = cap;
    return s->slot != NULL && s->stamp != NULL ? 0 : -1;
}

/* Sweeps from `initial`: ST_OK, ST_VIOLATION, or ST_UNKNOWN when a layer passed max_width;
 * *visited counts the configurations expanded. */
static int sweep_run(Sweep *s, const HistoryColumns *h, int64_t initial, size_t max_width,
                     int64_t *visited)
{
    const uint32_t L = s->lanes;
    Config *root = config_at(s, 0, 0);
    root->count = initial;
    root->hash = 0;
    root->todo = 0;
    for (uint32_t l = 0; l < L; l++) {
        root->pos[l] = 0;
        root->hash += mix(l, 0);
        root->todo += s->needed[l] > 0;
    }
    int cur = 0;
    s->width[0] = 1;
    uint32_t layer_id = 0;
    *visited = 0;
    for (;;) {
        int nxt = 1 - cur;
        size_t made = 0;
        if (++layer_id == 0) { /* the stamps wrapped: forget them all */
            memset(s->stamp, 0, s->table_cap * sizeof(uint32_t));
            layer_id = 1;
        }
        for (size_t i = 0; i < s->width[cur]; i++) {
            const Config *c = config_at(s, cur, i);
            if (c->todo == 0)
                return ST_OK;
            ++*visited;
            /* the least return time among the lanes' next calls */
            int64_t limit = INT64_MAX;
            for (uint32_t l = 0; l < L; l++)
                if (c->pos[l] < s->off[l + 1] - s->off[l]) {
                    int64_t r = h->ret[s->rows[s->off[l] + c->pos[l]]];
                    r = r == PENDING_RET ? INF_RET : r;
                    limit = r < limit ? r : limit;
                }
            for (uint32_t l = 0; l < L; l++) {
                uint32_t p = c->pos[l];
                if (p >= s->off[l + 1] - s->off[l])
                    continue;
                uint32_t row = s->rows[s->off[l] + p];
                int kind = s->kind[row];
                if (start_of(h, row, kind) > limit)
                    continue;
                /* row_kind's *value for a row of this kind: a read's result, else its n */
                int64_t value = kind == K_READ ? h->result[row] : h->n[row];
                if (!applies(kind, value, c->count))
                    continue;
                int64_t count = c->count + effect(kind, value);
                uint32_t hash = c->hash - mix(l, p) + mix(l, p + 1);
                /* already made from another configuration of this layer? */
                size_t t = slot_of(hash, s->table_cap);
                int seen = 0;
                for (; s->stamp[t] == layer_id; t = (t + 1) & (s->table_cap - 1)) {
                    const Config *o = config_at(s, nxt, s->slot[t]);
                    if (o->hash != hash || o->pos[l] != p + 1)
                        continue;
                    uint32_t k = 0;
                    while (k < L && (k == l ? o->pos[k] == p + 1 : o->pos[k] == c->pos[k]))
                        k++;
                    if (k == L) {
                        seen = 1;
                        break;
                    }
                }
                if (seen)
                    continue;
                if (made == max_width)
                    return ST_UNKNOWN;
                Config *d = config_at(s, nxt, made);
                memcpy(d, c, s->stride);
                d->pos[l] = p + 1;
                d->count = count;
                d->hash = hash;
                d->todo -= p + 1 == s->needed[l];
                s->stamp[t] = layer_id;
                s->slot[t] = (uint32_t)made++;
            }
        }
        if (made == 0)
            return ST_VIOLATION;
        s->width[nxt] = made;
        cur = nxt;
    }
}

/* A 1-d buffer of `itemsize`-byte items whose format letter is one of `formats`. */
static int get_column(PyObject *obj, Py_buffer *view, const char *name, Py_ssize_t itemsize,
                    const char *formats)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    const char *f = view->format ? view->format : "B";
    if (*f == '<' || *f == '=' || *f == '@')
        f++;
    if (view->itemsize != itemsize || strlen(f) != 1 || strchr(formats, *f) == NULL ||
        view->ndim > 1) {
        PyErr_Format(PyExc_TypeError, "%s must be a 1-d buffer of %zd-byte items, not %s",
                     name, itemsize, view->format ? view->format : "B");
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(sweep_doc,
             "sweep(op, n, result, error, invoke, ret, thread, timeout, overflow, initial,\n"
             "      max_width)\n"
             "--\n\n"
             "Decides a whole history breadth first, from its own columns (op int8; n, result,\n"
             "invoke, ret int64; error int16; thread int32; timeout float64 seconds, NaN for\n"
             "none): overflow is OverflowError's error code (-1 none).  Returns (status,\n"
             "configurations): 'ok', 'violation', or\n"
             "'unknown' when a layer held more than max_width configurations, the history\n"
             "has more than 64 threads, or a thread's calls (in row order) are not\n"
             "sequential.  No linearization is kept.");

static PyObject *py_sweep(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *objs[8];
    long long overflow, initial;
    Py_ssize_t max_width;
    if (!PyArg_ParseTuple(args, "OOOOOOOOLLn:sweep", &objs[0], &objs[1], &objs[2], &objs[3],
                          &objs[4], &objs[5], &objs[6], &objs[7], &overflow, &initial,
                          &max_width))
        return NULL;
    static const char *names[] = {"op",  "n",      "result", "error",
                                  "invoke", "ret", "thread", "timeout"};
    static const Py_ssize_t sizes[] = {1, 8, 8, 2, 8, 8, 4, 8};
    static const char *formats[] = {"bc", "ql", "ql", "h", "ql", "ql", "i", "d"};
    Py_buffer v[8];
    int got = 0;
    PyObject *result = NULL;
    Sweep s;
    memset(&s, 0, sizeof s);
    for (; got < 8; got++)
        if (get_column(objs[got], &v[got], names[got], sizes[got], formats[got]) < 0)
            goto done;
    Py_ssize_t size = v[0].len;
    for (int i = 1; i < 8; i++)
        if (v[i].len / sizes[i] != size) {
            PyErr_Format(PyExc_ValueError, "%s has %zd items, op %zd", names[i],
                         v[i].len / sizes[i], size);
            goto done;
        }
    if (size >= (Py_ssize_t)NIL - 1 || max_width < 1 || max_width > (1 << 24)) {
        PyErr_SetString(PyExc_ValueError, "too many calls, or max_width not in 1..2**24");
        goto done;
    }
    if (initial <= -(long long)COUNT_LIMIT || initial >= (long long)COUNT_LIMIT) {
        PyErr_SetString(PyExc_OverflowError, "initial count out of the sweep's range");
        goto done;
    }
    HistoryColumns h = {v[0].buf, v[1].buf, v[2].buf, v[4].buf, v[5].buf,
                        v[3].buf, v[6].buf, v[7].buf, overflow};
    int status;
    int64_t visited = 0;
    Py_BEGIN_ALLOW_THREADS
    status = sweep_lanes(&s, &h, (size_t)size);
    if (status == 0) {
        s.stride = (sizeof(Config) + s.lanes * sizeof(uint32_t) + 7) & ~(size_t)7;
        status = sweep_reserve(&s, (size_t)max_width) == 0
                     ? sweep_run(&s, &h, initial, (size_t)max_width, &visited)
                     : -1;
    } else if (status == -2) {
        status = ST_UNKNOWN;
    }
    Py_END_ALLOW_THREADS
    if (status == ST_NOMEM) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_BuildValue("sL", STATUS[status], (long long)visited);
done:
    for (int i = 0; i < got; i++)
        PyBuffer_Release(&v[i]);
    sweep_free(&s);
    return result;
}

static PyMethodDef methods[] = {
    {"search", py_search, METH_VARARGS, search_doc},
    {"search_segments", py_search_segments, METH_VARARGS, search_segments_doc},
    {"sweep", py_sweep, METH_VARARGS, sweep_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "semharness._lincheck",
    .m_doc = "The linearizability checker's search (harness/linearizability.py) in C.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__lincheck(void);
PyMODINIT_FUNC PyInit__lincheck(void)
{
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL)
        return NULL;
    PyObject *inf = PyLong_FromLongLong(INF_RET);
    if (inf == NULL || PyModule_AddObject(m, "INFINITY", inf) < 0) {
        Py_XDECREF(inf);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
