/* backend-cpu.c — the backend table for the CPU: each op cut into pieces
 * for the thread pool and run before it returns. */
#include "cpu/backend-cpu.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/attention.h"
#include "cpu/elementwise.h"
#include "cpu/matmul.h"
#include "cpu/threadpool.h"
#include "quant.h"

/* Below this many elements an elementwise op runs in the caller: waking
 * the workers would cost more than the op. */
#define PARALLEL_MIN_ELEMS 16384
/* Matmul rows are handed out in chunks, about this many per thread, so a
 * thread slowed by another process on its core does not hold up the rest. */
#define CHUNKS_PER_THREAD 8

typedef struct cpu_backend {
    hk_threadpool *pool;
    int            n_threads;
    char           description[128];
    hk_error       error;          /* first failure since the last sync */

    /* The activations of the last matmul, converted to the weights' vec
     * dot type: q, k and v (and gate and up) share one input, converted
     * once.  Forgotten when an op writes over the input. */
    uint8_t       *xq;
    size_t         xq_capacity;
    const uint8_t *xq_src;         /* NULL: nothing kept */
    size_t         xq_src_bytes;
    hk_type        xq_type;

    /* Attention scratch, one slice per thread. */
    uint8_t       *scratch;
    size_t         scratch_capacity;
} cpu_backend;

static cpu_backend *
cpu_of(hk_backend *be)
{
    return be->context;
}

static void *
data_of(const hk_tensor *t)
{
    return (uint8_t *)t->buffer + t->offset;
}

static size_t
tensor_bytes(const hk_tensor *t)
{
    return hk_tensor_row_bytes(t) * (size_t)t->ne[1];
}

static void
fail(cpu_backend *cpu, int code, const char *what)
{
    if (cpu->error.code == 0)
        hk_error_set(&cpu->error, code, "cpu backend: %s", what);
}

/* An op is about to write t: drop converted activations it overlaps. */
static void
note_write(cpu_backend *cpu, const hk_tensor *t)
{
    const uint8_t *start = data_of(t), *end = start + tensor_bytes(t);
    if (cpu->xq_src && start < cpu->xq_src + cpu->xq_src_bytes && cpu->xq_src < end)
        cpu->xq_src = NULL;
}

static bool
grow(cpu_backend *cpu, uint8_t **buf, size_t *capacity, size_t need)
{
    if (need <= *capacity)
        return true;
    size_t size = (need + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, size);
    if (!p) {
        fail(cpu, -ENOMEM, "out of memory for scratch buffers");
        return false;
    }
    free(*buf);
    *buf = p;
    *capacity = size;
    return true;
}

/* Rows [*r0, *r1) of n for thread ith of nth. */
static void
split(int64_t n, int ith, int nth, int64_t *r0, int64_t *r1)
{
    *r0 = n * ith / nth;
    *r1 = n * (ith + 1) / nth;
}

static int
threads_for(const cpu_backend *cpu, int64_t n_elems)
{
    return n_elems >= PARALLEL_MIN_ELEMS ? cpu->n_threads : 1;
}

/* ------------------------------------------------------------ tensors */

static int
cpu_tensor_alloc(hk_backend *be, hk_type type, int64_t ne0, int64_t ne1,
                 hk_tensor *ret, hk_error *err)
{
    if (type != HK_TYPE_F32 && type != HK_TYPE_F16)
        return hk_error_set(err, -EINVAL, "cpu backend: cannot allocate a %s tensor",
                            hk_type_name(type));
    size_t row = ne0 > 0 ? hk_type_row_bytes(type, (uint64_t)ne0) : 0;
    if (row == 0 || ne1 <= 0 || (uint64_t)ne1 > (SIZE_MAX - 63) / row)
        return hk_error_set(err, -EINVAL, "cpu backend: bad tensor shape (%lld, %lld)",
                            (long long)ne0, (long long)ne1);
    size_t size = (row * (size_t)ne1 + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, size);
    if (!p)
        return hk_error_set(err, -ENOMEM, "cpu backend: out of memory for a tensor of %zu bytes",
                            size);
    memset(p, 0, size);
    *ret = (hk_tensor){ .type = type, .ne = { ne0, ne1 }, .buffer = p, .owned = true };
    /* it may sit where a freed input of the last matmul was */
    note_write(cpu_of(be), ret);
    return 0;
}

static int
cpu_tensor_upload(hk_backend *be, hk_type type, int64_t ne0, int64_t ne1,
                  const void *data, hk_tensor *ret, hk_error *err)
{
    /* Borrowed, not copied: the mapping is the weights' home. */
    *ret = (hk_tensor){ .type = type, .ne = { ne0, ne1 }, .buffer = (void *)data };
    return 0;
}

static void
cpu_tensor_free(hk_backend *be, hk_tensor *t)
{
    free(t->buffer);
    t->buffer = NULL;
    t->owned = false;
}

/* ------------------------------------------------------------ get_rows */

typedef struct get_rows_task {
    const hk_tensor *table;
    const int32_t   *ids;
    float           *out;     /* (n, ne0) */
    int64_t          n;
} get_rows_task;

static void
get_rows_fn(void *ctx, int ith, int nth)
{
    const get_rows_task *t = ctx;
    int64_t ne0 = t->table->ne[0], r0, r1;
    size_t row = hk_tensor_row_bytes(t->table);
    const uint8_t *base = data_of(t->table);
    split(t->n, ith, nth, &r0, &r1);
    for (int64_t i = r0; i < r1; i++)
        hk_cpu_dequantize_row(t->table->type, base + (size_t)t->ids[i] * row,
                              t->out + i * ne0, ne0);
}

static void
cpu_get_rows(hk_backend *be, const hk_tensor *table, const int32_t *ids, hk_tensor *out)
{
    cpu_backend *cpu = cpu_of(be);
    note_write(cpu, out);
    get_rows_task t = { table, ids, data_of(out), out->ne[1] };
    int nth = out->ne[1] > 1 ? threads_for(cpu, out->ne[0] * out->ne[1]) : 1;
    hk_threadpool_run(cpu->pool, nth, get_rows_fn, &t);
}

/* ------------------------------------------------------------ matmul */

typedef struct matmul_task {
    hk_threadpool *pool;
    hk_type        type;
    const void    *w;         /* (m, k) */
    int64_t        k, m;
    const float   *x;         /* (n, k); NULL when xq is ready */
    uint8_t       *xq;        /* (n, activation row) */
    size_t         xq_row;
    int64_t        n;
    float         *y;         /* (n, m) */
    int64_t        chunk;
    atomic_llong   next;      /* first row not yet handed out */
} matmul_task;

/* This thread's share of converting x: whole rows when there are enough
 * to go round, else blocks of each row (a generation step has one row). */
static void
convert_share(const matmul_task *t, int ith, int nth)
{
    if (t->n >= nth) {
        for (int64_t c = ith; c < t->n; c += nth)
            hk_cpu_quantize_activation(t->type, t->x + c * t->k, t->xq + (size_t)c * t->xq_row, t->k);
        return;
    }
    hk_type vdt = hk_cpu_vec_dot_type(t->type);
    int64_t block = (int64_t)hk_type_block_elems(vdt), b0, b1;
    size_t block_bytes = hk_type_block_bytes(vdt);
    split(t->k / block, ith, nth, &b0, &b1);
    for (int64_t c = 0; c < t->n && b1 > b0; c++)
        hk_cpu_quantize_activation(t->type, t->x + c * t->k + b0 * block,
                                   t->xq + (size_t)c * t->xq_row + (size_t)b0 * block_bytes,
                                   (b1 - b0) * block);
}

static void
matmul_fn(void *ctx, int ith, int nth)
{
    matmul_task *t = ctx;
    if (t->x) {
        convert_share(t, ith, nth);
        hk_threadpool_barrier(t->pool, nth);
    }
    for (;;) {
        int64_t r0 = atomic_fetch_add_explicit(&t->next, t->chunk, memory_order_relaxed);
        if (r0 >= t->m)
            break;
        int64_t r1 = r0 + t->chunk < t->m ? r0 + t->chunk : t->m;
        hk_cpu_matmul_rows(t->type, t->w, t->k, r0, r1, t->xq, t->n, t->y, t->m);
    }
}

/* Whether the converted activations kept from the last matmul are x's. */
static bool
xq_holds(const cpu_backend *cpu, const hk_tensor *x, hk_type vec_dot_type)
{
    return cpu->xq_src == data_of(x) && cpu->xq_src_bytes == tensor_bytes(x) &&
           cpu->xq_type == vec_dot_type;
}

static void
cpu_matmul(hk_backend *be, const hk_tensor *x, const hk_tensor *w, hk_tensor *y)
{
    cpu_backend *cpu = cpu_of(be);
    int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1];
    size_t xq_row = hk_cpu_activation_row_bytes(w->type, k);
    hk_type vdt = hk_cpu_vec_dot_type(w->type);
    bool convert = !xq_holds(cpu, x, vdt);

    note_write(cpu, y);
    if (convert) {
        cpu->xq_src = NULL;
        if (!grow(cpu, &cpu->xq, &cpu->xq_capacity, xq_row * (size_t)n))
            return;
    }

    int nth = cpu->n_threads;
    int64_t chunk = (m + nth * CHUNKS_PER_THREAD - 1) / (nth * CHUNKS_PER_THREAD);
    chunk = (chunk + 15) / 16 * 16;
    matmul_task t = {
        .pool = cpu->pool, .type = w->type, .w = data_of(w), .k = k, .m = m,
        .x = convert ? data_of(x) : NULL, .xq = cpu->xq, .xq_row = xq_row, .n = n,
        .y = data_of(y), .chunk = chunk,
    };
    atomic_init(&t.next, 0);
    if (m <= chunk)
        nth = 1;
    hk_threadpool_run(cpu->pool, nth, matmul_fn, &t);

    cpu->xq_src = data_of(x);
    cpu->xq_src_bytes = tensor_bytes(x);
    cpu->xq_type = vdt;
}

/* ------------------------------------------------ add, add_bias, swiglu */

typedef enum elementwise_kind { EW_ADD, EW_SWIGLU } elementwise_kind;

typedef struct elementwise_task {
    elementwise_kind kind;
    const float     *a, *b;
    float           *out;
    int64_t          n;       /* elements */
} elementwise_task;

static void
elementwise_fn(void *ctx, int ith, int nth)
{
    const elementwise_task *t = ctx;
    int64_t i0, i1;
    split(t->n, ith, nth, &i0, &i1);
    if (t->kind == EW_ADD)
        hk_cpu_add_row(t->a + i0, t->b + i0, t->out + i0, i1 - i0);
    else
        hk_cpu_swiglu_row(t->a + i0, t->b + i0, t->out + i0, i1 - i0);
}

static void
run_elementwise(cpu_backend *cpu, elementwise_kind kind, const hk_tensor *a,
                const hk_tensor *b, hk_tensor *out)
{
    note_write(cpu, out);
    elementwise_task t = { kind, data_of(a), data_of(b), data_of(out), a->ne[0] * a->ne[1] };
    hk_threadpool_run(cpu->pool, threads_for(cpu, t.n), elementwise_fn, &t);
}

static void
cpu_add(hk_backend *be, const hk_tensor *a, const hk_tensor *b, hk_tensor *out)
{
    run_elementwise(cpu_of(be), EW_ADD, a, b, out);
}

static void
cpu_swiglu(hk_backend *be, const hk_tensor *gate, const hk_tensor *up, hk_tensor *out)
{
    run_elementwise(cpu_of(be), EW_SWIGLU, gate, up, out);
}

static void
cpu_add_bias(hk_backend *be, hk_tensor *y, const hk_tensor *b)
{
    cpu_backend *cpu = cpu_of(be);
    note_write(cpu, y);
    float *rows = data_of(y);
    const float *bias = data_of(b);
    for (int64_t t = 0; t < y->ne[1]; t++)
        hk_cpu_add_row(rows + t * y->ne[0], bias, rows + t * y->ne[0], y->ne[0]);
}

/* ------------------------------------------------------------ rms_norm */

typedef struct rms_norm_task {
    const float *x, *w;
    float       *out;
    float        eps;
    int64_t      d, n;
} rms_norm_task;

static void
rms_norm_fn(void *ctx, int ith, int nth)
{
    const rms_norm_task *t = ctx;
    int64_t r0, r1;
    split(t->n, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++)
        hk_cpu_rms_norm_row(t->x + r * t->d, t->w, t->eps, t->out + r * t->d, t->d);
}

static void
cpu_rms_norm(hk_backend *be, const hk_tensor *x, const hk_tensor *w, float eps, hk_tensor *out)
{
    cpu_backend *cpu = cpu_of(be);
    note_write(cpu, out);
    rms_norm_task t = { data_of(x), data_of(w), data_of(out), eps, x->ne[0], x->ne[1] };
    int nth = t.n > 1 ? threads_for(cpu, t.d * t.n) : 1;
    hk_threadpool_run(cpu->pool, nth, rms_norm_fn, &t);
}

/* ------------------------------------------------------------ rope */

typedef struct rope_task {
    float      *x;
    int64_t     d, n, pos0;
    hk_cpu_rope r;
} rope_task;

static void
rope_fn(void *ctx, int ith, int nth)
{
    const rope_task *t = ctx;
    int64_t r0, r1;
    split(t->n, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++)
        hk_cpu_rope_row(t->x + r * t->d, t->pos0 + r, &t->r);
}

static void
cpu_rope(hk_backend *be, hk_tensor *x, const hk_rope_params *p)
{
    cpu_backend *cpu = cpu_of(be);
    note_write(cpu, x);
    rope_task t = {
        .x = data_of(x), .d = x->ne[0], .n = x->ne[1], .pos0 = p->pos0,
        .r = {
            .n_heads = (int32_t)(x->ne[0] / p->head_dim), .head_dim = p->head_dim,
            .n_rot = p->n_rot, .freq_base = p->freq_base, .freq_scale = p->freq_scale,
            .neox = p->neox,
            .freq_factors = p->freq_factors ? data_of(p->freq_factors) : NULL,
        },
    };
    int nth = t.n > 1 ? threads_for(cpu, t.d * t.n) : 1;
    hk_threadpool_run(cpu->pool, nth, rope_fn, &t);
}

/* ------------------------------------------------------ kv cache, attention */

typedef struct kv_store_task {
    const float          *k, *v;       /* (n, kv_dim) */
    hk_fp16              *k_cache, *v_cache;
    int64_t               n, kv_dim;
    const hk_attn_params *p;
} kv_store_task;

static void
kv_store_fn(void *ctx, int ith, int nth)
{
    const kv_store_task *t = ctx;
    int64_t r0, r1;
    split(t->n, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++)
        hk_cpu_kv_store_row(t->k + r * t->kv_dim, t->v + r * t->kv_dim, t->k_cache,
                            t->v_cache, t->p->pos0 + r, t->p);
}

static void
cpu_kv_store(hk_backend *be, const hk_tensor *k, const hk_tensor *v, hk_tensor *k_cache,
             hk_tensor *v_cache, const hk_attn_params *p)
{
    cpu_backend *cpu = cpu_of(be);
    kv_store_task t = {
        data_of(k), data_of(v), data_of(k_cache), data_of(v_cache), k->ne[1], k->ne[0], p,
    };
    int nth = t.n > 1 ? threads_for(cpu, t.kv_dim * t.n) : 1;
    hk_threadpool_run(cpu->pool, nth, kv_store_fn, &t);
}

typedef struct attention_task {
    hk_cpu_attention a;
    int64_t          n_units;
    uint8_t         *scratch;
    size_t           scratch_per_thread;
    atomic_llong     next;
} attention_task;

static void
attention_fn(void *ctx, int ith, int nth)
{
    attention_task *t = ctx;
    void *scratch = t->scratch + (size_t)ith * t->scratch_per_thread;
    for (;;) {
        int64_t u = atomic_fetch_add_explicit(&t->next, 1, memory_order_relaxed);
        if (u >= t->n_units)
            break;
        hk_cpu_attention_unit(&t->a, u, scratch);
    }
}

static void
cpu_attention(hk_backend *be, const hk_tensor *q, const hk_tensor *k_cache,
              const hk_tensor *v_cache, const hk_attn_params *p, hk_tensor *out)
{
    cpu_backend *cpu = cpu_of(be);
    note_write(cpu, out);
    attention_task t = {
        .a = { data_of(q), data_of(k_cache), data_of(v_cache), data_of(out), q->ne[1], *p },
        .scratch_per_thread = (hk_cpu_attention_scratch_bytes(p) + 63) & ~(size_t)63,
    };
    if (!grow(cpu, &cpu->scratch, &cpu->scratch_capacity,
              t.scratch_per_thread * (size_t)cpu->n_threads))
        return;
    t.scratch = cpu->scratch;
    t.n_units = hk_cpu_attention_n_units(&t.a);
    atomic_init(&t.next, 0);
    int nth = t.n_units < cpu->n_threads ? (int)t.n_units : cpu->n_threads;
    hk_threadpool_run(cpu->pool, nth, attention_fn, &t);
}

/* ------------------------------------------------------------ host */

static void
cpu_read(hk_backend *be, const hk_tensor *t, float *dst)
{
    memcpy(dst, data_of(t), tensor_bytes(t));
}

static int
cpu_sync(hk_backend *be, hk_error *err)
{
    cpu_backend *cpu = cpu_of(be);
    int code = cpu->error.code;
    if (code != 0) {
        hk_error_set(err, code, "%s", cpu->error.message);
        hk_error_clear(&cpu->error);
    }
    return code;
}

/* ------------------------------------------------------------ the table */

static const char *
cpu_name(hk_backend *be)
{
    return "cpu";
}

static const char *
cpu_description(hk_backend *be)
{
    cpu_backend *cpu = cpu_of(be);
    snprintf(cpu->description, sizeof cpu->description, "CPU, %d thread%s, %s",
             cpu->n_threads, cpu->n_threads == 1 ? "" : "s", hk_cpu_isa_name(hk_cpu_isa_get()));
    return cpu->description;
}

static bool
cpu_supports_type(hk_backend *be, hk_type type)
{
    return hk_type_is_supported(type);
}

static bool
cpu_supports_op(hk_backend *be, hk_op op)
{
    return op < HK_OP_COUNT;
}

static void
cpu_free(hk_backend *be)
{
    cpu_backend *cpu = cpu_of(be);
    if (!cpu)
        return;
    hk_threadpool_free(cpu->pool);
    free(cpu->xq);
    free(cpu->scratch);
    free(cpu);
}

static const hk_backend_iface cpu_iface = {
    .version       = HK_BACKEND_INTERFACE_VERSION,
    .name          = cpu_name,
    .description   = cpu_description,
    .free          = cpu_free,
    .supports_type = cpu_supports_type,
    .supports_op   = cpu_supports_op,
    .tensor_alloc  = cpu_tensor_alloc,
    .tensor_upload = cpu_tensor_upload,
    .tensor_free   = cpu_tensor_free,
    .get_rows      = cpu_get_rows,
    .matmul        = cpu_matmul,
    .add_bias      = cpu_add_bias,
    .rms_norm      = cpu_rms_norm,
    .rope          = cpu_rope,
    .kv_store      = cpu_kv_store,
    .attention     = cpu_attention,
    .swiglu        = cpu_swiglu,
    .add           = cpu_add,
    .read          = cpu_read,
    .sync          = cpu_sync,
};

int
hk_backend_cpu_default_threads(void)
{
    /* the cores this process may run on (a container's share), not all
     * the machine has */
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int
hk_backend_cpu_new(int n_threads, hk_backend **ret, hk_error *err)
{
    if (n_threads == 0)
        n_threads = hk_backend_cpu_default_threads();
    cpu_backend *cpu = calloc(1, sizeof *cpu);
    if (!cpu)
        return hk_error_set(err, -ENOMEM, "out of memory for the cpu backend");
    cpu->n_threads = n_threads;
    int rc = hk_threadpool_new(n_threads, &cpu->pool, err);
    if (rc == 0)
        rc = hk_backend_new(&cpu_iface, cpu, ret, err);
    if (rc < 0) {
        hk_threadpool_free(cpu->pool);
        free(cpu);
    }
    return rc;
}
