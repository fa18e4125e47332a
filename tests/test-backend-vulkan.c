/* The Vulkan backend's ops against the CPU backend's, op by op and weight
 * type by weight type, as ggml's test-backend-ops does: the same random
 * inputs go to both, outputs are checked for NaN and then by normalized
 * mean squared error against a threshold per op, and a sentinel row after
 * each output catches writes out of bounds.  Sizes are awkward on purpose:
 * rows that fill no workgroup or tile evenly, batches of 1, 7 and 33
 * tokens (generation's matrix × vector kernel and the tiled one).
 *
 * CI runs it on Mesa's lavapipe; without a Vulkan device (or a build
 * without the backend) it is skipped, visibly. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "backend.h"
#include "cpu/backend-cpu.h"
#include "hk-check.h"
#include "hk-nmse.h"
#include "hk-tmpdir.h"
#include "quant.h"
#include "vulkan/vk-config.h"

#if HK_HAVE_VULKAN
#include "vulkan/backend-vulkan.h"

#define SENTINEL 1234.5f

/* One backend of each for the whole program: building the pipelines is
 * the slow part on lavapipe, and is done once per shader. */
static hk_backend *vk_be, *cpu_be;
static char *cache_dir;

static const int64_t token_counts[] = { 1, 7, 33 };
#define N_TOKEN_COUNTS 3

/* A tensor on both backends, uploaded from the same floats.  Each backend
 * has its own copy: the CPU computes in the memory it borrows, and the
 * host data of an upload stays valid while the tensor lives (backend.h). */
typedef struct pair {
    hk_tensor vk, cpu;
    void     *vk_data, *cpu_data;
    int64_t   ne0, ne1;
} pair;

static pair
pair_upload(hk_type type, int64_t ne0, int64_t ne1, const void *data)
{
    pair p = { .ne0 = ne0, .ne1 = ne1 };
    size_t bytes = hk_type_row_bytes(type, ne0) * (size_t)ne1;
    hk_error err = { 0 };
    p.vk_data = g_memdup2(data, bytes);
    p.cpu_data = g_memdup2(data, bytes);
    ck_assert_msg(hk_backend_tensor_upload(vk_be, type, ne0, ne1, p.vk_data, &p.vk, &err) == 0,
                  "%s", err.message);
    ck_assert_int_eq(hk_backend_tensor_upload(cpu_be, type, ne0, ne1, p.cpu_data, &p.cpu, &err), 0);
    return p;
}

static void
fill_random(float *x, size_t n, GRand *r, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)g_rand_double_range(r, lo, hi);
}

/* F32 (ne0, ne1) of values in [lo, hi). */
static pair
pair_random(int64_t ne0, int64_t ne1, GRand *r, double lo, double hi)
{
    float *x = g_new(float, ne0 * ne1);
    fill_random(x, (size_t)(ne0 * ne1), r, lo, hi);
    pair p = pair_upload(HK_TYPE_F32, ne0, ne1, x);
    g_free(x);
    return p;
}

/* An output of rows rows and a sentinel row after them; *view_vk and
 * *view_cpu are the rows the op may write. */
static pair
pair_guarded(int64_t ne0, int64_t rows, hk_tensor *view_vk, hk_tensor *view_cpu)
{
    float *x = g_new(float, ne0 * (rows + 1));
    for (int64_t i = 0; i < ne0 * (rows + 1); i++)
        x[i] = SENTINEL;
    pair p = pair_upload(HK_TYPE_F32, ne0, rows + 1, x);
    g_free(x);
    *view_vk = hk_tensor_rows(&p.vk, 0, rows);
    *view_cpu = hk_tensor_rows(&p.cpu, 0, rows);
    return p;
}

static void
pair_free(pair *p)
{
    hk_backend_tensor_free(vk_be, &p->vk);
    hk_backend_tensor_free(cpu_be, &p->cpu);
    g_free(p->vk_data);
    g_free(p->cpu_data);
}

static void
sync_both(void)
{
    hk_error err = { 0 };
    ck_assert_msg(hk_backend_sync(vk_be, &err) == 0, "vulkan: %s", err.message);
    ck_assert_msg(hk_backend_sync(cpu_be, &err) == 0, "cpu: %s", err.message);
}

/* Both backends' floats of a whole pair, after their ops. */
static void
read_both(const pair *p, float **ret_vk, float **ret_cpu)
{
    *ret_vk = g_new(float, p->ne0 * p->ne1);
    *ret_cpu = g_new(float, p->ne0 * p->ne1);
    hk_backend_read(vk_be, &p->vk, *ret_vk);
    hk_backend_read(cpu_be, &p->cpu, *ret_cpu);
    sync_both();
}


/* Compare the first rows of a guarded output, and check its sentinel row
 * on the Vulkan side. */
static void
check_output(const pair *out, int64_t rows, double threshold, const char *what)
{
    float *got, *want;
    read_both(out, &got, &want);
    double e = hk_nmse(got, want, (size_t)(out->ne0 * rows));
    ck_assert_msg(e < threshold, "%s: nmse %g (threshold %g)", what, e, threshold);
    int64_t changed = 0;
    for (int64_t i = rows * out->ne0; i < out->ne0 * out->ne1; i++)
        changed += got[i] != SENTINEL;
    ck_assert_msg(changed == 0, "%s: %lld writes past the output", what, (long long)changed);
    g_free(got);
    g_free(want);
}

/* ----------------------------------------------------------------------------
 * get_rows and matmul, for every weight type */

static const struct {
    hk_type type;
    int64_t k;             /* a row: whole blocks */
    double  matmul_nmse;   /* the CPU rounds activations to 8 bits for the quantized
                              types (about 1.5e-5), the shaders keep floats */
} weight_cases[] = {
    { HK_TYPE_F32,  70,  1e-10 },   /* k % 4 != 0: the kernels' scalar tails */
    { HK_TYPE_F32,  96,  1e-10 },
    { HK_TYPE_F16,  96,  1e-10 },
    { HK_TYPE_BF16, 96,  1e-10 },
    { HK_TYPE_Q8_0, 96,  1e-4 },
    { HK_TYPE_Q4_0, 96,  1e-4 },
    { HK_TYPE_Q5_0, 96,  1e-4 },
    { HK_TYPE_Q4_K, 256, 1e-4 },
    { HK_TYPE_Q5_K, 256, 1e-4 },
    { HK_TYPE_Q6_K, 512, 1e-4 },
};
#define N_WEIGHT_CASES ((int)(sizeof weight_cases / sizeof weight_cases[0]))

/* m rows of k random weights in type; (quantized bytes) */
static uint8_t *
random_weights(hk_type type, int64_t k, int64_t m, GRand *r)
{
    size_t row_bytes = hk_type_row_bytes(type, k);
    uint8_t *data = g_malloc(row_bytes * (size_t)m);
    float *row = g_new(float, k);
    for (int64_t i = 0; i < m; i++) {
        fill_random(row, (size_t)k, r, -1.0, 1.0);
        hk_quantize_row(type, row, data + (size_t)i * row_bytes, k);
    }
    g_free(row);
    return data;
}

START_TEST(test_get_rows)
{
    hk_type type = weight_cases[_i].type;
    int64_t ne0 = weight_cases[_i].k, n_rows = 37;
    GRand *r = g_rand_new_with_seed(1);
    uint8_t *data = random_weights(type, ne0, n_rows, r);
    pair table = pair_upload(type, ne0, n_rows, data);

    for (int c = 0; c < N_TOKEN_COUNTS; c++) {
        int64_t n = token_counts[c];
        int32_t ids[33];
        for (int64_t i = 0; i < n; i++)
            ids[i] = (int32_t)((i * 7 + 36) % n_rows);
        hk_tensor vk_out, cpu_out;
        pair out = pair_guarded(ne0, n, &vk_out, &cpu_out);
        hk_backend_get_rows(vk_be, &table.vk, ids, &vk_out);
        hk_backend_get_rows(cpu_be, &table.cpu, ids, &cpu_out);
        char what[64];
        snprintf(what, sizeof what, "get_rows %s, %lld tokens", hk_type_name(type), (long long)n);
        check_output(&out, n, 1e-12, what);
        pair_free(&out);
    }
    pair_free(&table);
    g_free(data);
    g_rand_free(r);
}
END_TEST

START_TEST(test_matmul)
{
    hk_type type = weight_cases[_i].type;
    int64_t k = weight_cases[_i].k;
    const int64_t m = 67;   /* fills no row group nor tile evenly */
    GRand *r = g_rand_new_with_seed(2);
    uint8_t *data = random_weights(type, k, m, r);
    pair w = pair_upload(type, k, m, data);

    for (int c = 0; c < N_TOKEN_COUNTS; c++) {
        int64_t n = token_counts[c];
        pair x = pair_random(k, n, r, -1.0, 1.0);
        hk_tensor vk_y, cpu_y;
        pair y = pair_guarded(m, n, &vk_y, &cpu_y);
        hk_backend_matmul(vk_be, &x.vk, &w.vk, &vk_y);
        hk_backend_matmul(cpu_be, &x.cpu, &w.cpu, &cpu_y);
        char what[64];
        snprintf(what, sizeof what, "matmul %s (k %lld), %lld tokens", hk_type_name(type),
                 (long long)k, (long long)n);
        check_output(&y, n, weight_cases[_i].matmul_nmse, what);
        pair_free(&x);
        pair_free(&y);
    }
    pair_free(&w);
    g_free(data);
    g_rand_free(r);
}
END_TEST

/* A batch's rows taken from the middle of tensors (views at an offset),
 * as the forward pass takes the last token's row for the logits. */
START_TEST(test_matmul_views)
{
    const int64_t k = 64, m = 45, n = 9;
    GRand *r = g_rand_new_with_seed(3);
    uint8_t *data = random_weights(HK_TYPE_Q8_0, k, m, r);
    pair w = pair_upload(HK_TYPE_Q8_0, k, m, data);
    pair x = pair_random(k, n, r, -1.0, 1.0);
    hk_tensor vk_y, cpu_y;
    pair y = pair_guarded(m, n, &vk_y, &cpu_y);
    for (int64_t first = 0; first < n; first += 4) {
        hk_tensor vx = hk_tensor_rows(&x.vk, first, n - first), cx = hk_tensor_rows(&x.cpu, first, n - first);
        hk_tensor vy = hk_tensor_rows(&vk_y, first, n - first), cy = hk_tensor_rows(&cpu_y, first, n - first);
        hk_backend_matmul(vk_be, &vx, &w.vk, &vy);
        hk_backend_matmul(cpu_be, &cx, &w.cpu, &cy);
    }
    check_output(&y, n, 1e-4, "matmul on views");
    pair_free(&x);
    pair_free(&y);
    pair_free(&w);
    g_free(data);
    g_rand_free(r);
}
END_TEST

/* A weight past 128 MiB, the most lavapipe (and some GPUs) bind as a
 * storage buffer, as the token table of a model with a large vocabulary
 * is: its last rows are read as well as its first. */
START_TEST(test_weight_past_storage_range)
{
    const int64_t k = 1024, m = (129 << 20) / (2 * k), n = 9;
    GRand *r = g_rand_new_with_seed(4);
    uint8_t *data = random_weights(HK_TYPE_F16, k, m, r);
    pair w = pair_upload(HK_TYPE_F16, k, m, data);
    g_free(data);

    int32_t ids[] = { 0, (int32_t)(m - 1), (int32_t)(m / 2), (int32_t)(m - 2) };
    hk_tensor vk_rows, cpu_rows;
    pair rows = pair_guarded(k, 4, &vk_rows, &cpu_rows);
    hk_backend_get_rows(vk_be, &w.vk, ids, &vk_rows);
    hk_backend_get_rows(cpu_be, &w.cpu, ids, &cpu_rows);
    check_output(&rows, 4, 1e-12, "get_rows of a 129 MiB table");
    pair_free(&rows);

    for (int64_t tokens = 1; tokens <= n; tokens += n - 1) {
        pair x = pair_random(k, tokens, r, -1.0, 1.0);
        hk_tensor vk_y, cpu_y;
        pair y = pair_guarded(m, tokens, &vk_y, &cpu_y);
        hk_backend_matmul(vk_be, &x.vk, &w.vk, &vk_y);
        hk_backend_matmul(cpu_be, &x.cpu, &w.cpu, &cpu_y);
        check_output(&y, tokens, 1e-10, tokens == 1 ? "matvec, 129 MiB weight"
                                                    : "matmul, 129 MiB weight");
        pair_free(&x);
        pair_free(&y);
    }
    pair_free(&w);
    g_rand_free(r);
}
END_TEST

/* ----------------------------------------------------------------------------
 * rms_norm, add, add_bias, swiglu */

START_TEST(test_rms_norm)
{
    const int64_t d = 300;   /* not a multiple of the workgroup */
    GRand *r = g_rand_new_with_seed(4);
    pair w = pair_random(d, 1, r, 0.5, 1.5);
    for (int c = 0; c < N_TOKEN_COUNTS; c++) {
        int64_t n = token_counts[c];
        pair x = pair_random(d, n, r, -2.0, 2.0);
        hk_tensor vk_out, cpu_out;
        pair out = pair_guarded(d, n, &vk_out, &cpu_out);
        hk_backend_rms_norm(vk_be, &x.vk, &w.vk, 1e-5f, &vk_out);
        hk_backend_rms_norm(cpu_be, &x.cpu, &w.cpu, 1e-5f, &cpu_out);
        check_output(&out, n, 1e-10, "rms_norm");

        /* in place, as the forward pass does for the logits */
        hk_backend_rms_norm(vk_be, &x.vk, &w.vk, 1e-6f, &x.vk);
        hk_backend_rms_norm(cpu_be, &x.cpu, &w.cpu, 1e-6f, &x.cpu);
        float *got, *want;
        read_both(&x, &got, &want);
        ck_assert_double_lt(hk_nmse(got, want, (size_t)(d * n)), 1e-10);
        g_free(got);
        g_free(want);
        pair_free(&x);
        pair_free(&out);
    }
    pair_free(&w);
    g_rand_free(r);
}
END_TEST

START_TEST(test_add_swiglu_bias)
{
    const int64_t d = 131;
    GRand *r = g_rand_new_with_seed(5);
    pair bias = pair_random(d, 1, r, -1.0, 1.0);
    for (int c = 0; c < N_TOKEN_COUNTS; c++) {
        int64_t n = token_counts[c];
        pair a = pair_random(d, n, r, -4.0, 4.0), b = pair_random(d, n, r, -1.0, 1.0);
        hk_tensor vk_out, cpu_out;
        pair out = pair_guarded(d, n, &vk_out, &cpu_out);

        hk_backend_add(vk_be, &a.vk, &b.vk, &vk_out);
        hk_backend_add(cpu_be, &a.cpu, &b.cpu, &cpu_out);
        check_output(&out, n, 1e-14, "add");

        hk_backend_swiglu(vk_be, &a.vk, &b.vk, &vk_out);
        hk_backend_swiglu(cpu_be, &a.cpu, &b.cpu, &cpu_out);
        check_output(&out, n, 1e-10, "swiglu");

        hk_backend_add_bias(vk_be, &vk_out, &bias.vk);
        hk_backend_add_bias(cpu_be, &cpu_out, &bias.cpu);
        check_output(&out, n, 1e-10, "add_bias");

        /* out may be an input: x = x + y, the residual */
        hk_backend_add(vk_be, &a.vk, &b.vk, &a.vk);
        hk_backend_add(cpu_be, &a.cpu, &b.cpu, &a.cpu);
        float *got, *want;
        read_both(&a, &got, &want);
        ck_assert_double_lt(hk_nmse(got, want, (size_t)(d * n)), 1e-14);
        g_free(got);
        g_free(want);
        pair_free(&a);
        pair_free(&b);
        pair_free(&out);
    }
    pair_free(&bias);
    g_rand_free(r);
}
END_TEST

/* ----------------------------------------------------------------------------
 * rope */

static const struct {
    bool  neox;
    bool  factors;
    float freq_scale;
    int   n_rot;       /* of head_dim 64 */
} rope_cases[] = {
    { false, false, 1.0f,  64 },
    { true,  false, 1.0f,  64 },
    { false, true,  1.0f,  64 },
    { true,  true,  0.5f,  64 },
    { false, false, 0.25f, 32 },
    { true,  false, 1.0f,  32 },
};
#define N_ROPE_CASES ((int)(sizeof rope_cases / sizeof rope_cases[0]))

START_TEST(test_rope)
{
    const int hd = 64, n_heads = 3;
    const int64_t d = hd * n_heads;
    GRand *r = g_rand_new_with_seed(6);
    pair factors = pair_random(hd / 2, 1, r, 1.0, 8.0);
    hk_rope_params p = {
        .head_dim = hd, .n_rot = rope_cases[_i].n_rot, .freq_base = 10000.0f,
        .freq_scale = rope_cases[_i].freq_scale, .neox = rope_cases[_i].neox,
    };
    for (int c = 0; c < N_TOKEN_COUNTS; c++) {
        int64_t n = token_counts[c];
        p.pos0 = 1000 * c + 5;   /* far positions: large angles */
        pair x = pair_random(d, n, r, -1.0, 1.0);
        p.freq_factors = rope_cases[_i].factors ? &factors.vk : NULL;
        hk_backend_rope(vk_be, &x.vk, &p);
        /* the same angles twice in a step, as q and k use them */
        hk_backend_rope(vk_be, &x.vk, &p);
        p.freq_factors = rope_cases[_i].factors ? &factors.cpu : NULL;
        hk_backend_rope(cpu_be, &x.cpu, &p);
        hk_backend_rope(cpu_be, &x.cpu, &p);
        float *got, *want;
        read_both(&x, &got, &want);
        double e = hk_nmse(got, want, (size_t)(d * n));
        ck_assert_msg(e < 1e-10, "rope case %d, %lld tokens: nmse %g", _i, (long long)n, e);
        g_free(got);
        g_free(want);
        pair_free(&x);
    }
    pair_free(&factors);
    g_rand_free(r);
}
END_TEST

/* ----------------------------------------------------------------------------
 * kv_store and attention: batches that fill the cache across a block of
 * positions, each attending to all before it */

static const struct {
    int n_head, n_head_kv, head_dim;
} attn_cases[] = {
    { 4, 4, 64 },     /* one query head per kv head */
    { 6, 2, 64 },     /* grouped-query attention */
    { 4, 1, 128 },
    { 2, 2, 40 },     /* a head not a multiple of the workgroup */
};
#define N_ATTN_CASES ((int)(sizeof attn_cases / sizeof attn_cases[0]))

START_TEST(test_attention)
{
    const int n_head = attn_cases[_i].n_head, n_head_kv = attn_cases[_i].n_head_kv;
    const int hd = attn_cases[_i].head_dim, n_slots = 128;
    /* ends at position 69; the 7 tokens at 60 straddle a KV block, and
     * on a GPU the last three batches cut the cache into chunks */
    const int64_t batches[] = { 33, 27, 7, 1, 1 };
    GRand *r = g_rand_new_with_seed(7);
    hk_tensor vk_kc, vk_vc, cpu_kc, cpu_vc;
    hk_error err = { 0 };
    int64_t v_rows = (int64_t)n_head_kv * n_slots / HK_KV_BLOCK * hd;
    ck_assert_int_eq(hk_backend_tensor_alloc(vk_be, HK_TYPE_F16, hd, (int64_t)n_head_kv * n_slots, &vk_kc, &err), 0);
    ck_assert_int_eq(hk_backend_tensor_alloc(vk_be, HK_TYPE_F16, HK_KV_BLOCK, v_rows, &vk_vc, &err), 0);
    ck_assert_int_eq(hk_backend_tensor_alloc(cpu_be, HK_TYPE_F16, hd, (int64_t)n_head_kv * n_slots, &cpu_kc, &err), 0);
    ck_assert_int_eq(hk_backend_tensor_alloc(cpu_be, HK_TYPE_F16, HK_KV_BLOCK, v_rows, &cpu_vc, &err), 0);

    int32_t pos0 = 0;
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        int64_t n = batches[b];
        hk_attn_params p = {
            .n_head = n_head, .n_head_kv = n_head_kv, .head_dim = hd, .n_slots = n_slots,
            .pos0 = pos0, .scale = 1.0f / sqrtf((float)hd),
        };
        /* large scores, so a wrong mask or softmax shows */
        pair q = pair_random((int64_t)n_head * hd, n, r, -3.0, 3.0);
        pair k = pair_random((int64_t)n_head_kv * hd, n, r, -3.0, 3.0);
        pair v = pair_random((int64_t)n_head_kv * hd, n, r, -1.0, 1.0);
        hk_tensor vk_out, cpu_out;
        pair out = pair_guarded((int64_t)n_head * hd, n, &vk_out, &cpu_out);
        hk_backend_kv_store(vk_be, &k.vk, &v.vk, &vk_kc, &vk_vc, &p);
        hk_backend_attention(vk_be, &q.vk, &vk_kc, &vk_vc, &p, &vk_out);
        hk_backend_kv_store(cpu_be, &k.cpu, &v.cpu, &cpu_kc, &cpu_vc, &p);
        hk_backend_attention(cpu_be, &q.cpu, &cpu_kc, &cpu_vc, &p, &cpu_out);
        char what[96];
        snprintf(what, sizeof what, "attention %d/%d heads of %d, %lld tokens at %d", n_head,
                 n_head_kv, hd, (long long)n, pos0);
        check_output(&out, n, 1e-9, what);
        pair_free(&q);
        pair_free(&k);
        pair_free(&v);
        pair_free(&out);
        pos0 += (int32_t)n;
    }
    hk_backend_tensor_free(vk_be, &vk_kc);
    hk_backend_tensor_free(vk_be, &vk_vc);
    hk_backend_tensor_free(cpu_be, &cpu_kc);
    hk_backend_tensor_free(cpu_be, &cpu_vc);
    g_rand_free(r);
}
END_TEST

/* ----------------------------------------------------------------------------
 * the backend as a whole */

/* Ops chained without a sync between them see each other's results: the
 * recorded barriers are enough. */
START_TEST(test_chain)
{
    const int64_t d = 128, ff = 96, n = 7;
    GRand *r = g_rand_new_with_seed(8);
    uint8_t *up_data = random_weights(HK_TYPE_Q4_0, d, ff, r);
    uint8_t *down_data = random_weights(HK_TYPE_Q4_0, ff, d, r);
    pair up = pair_upload(HK_TYPE_Q4_0, d, ff, up_data);
    pair down = pair_upload(HK_TYPE_Q4_0, ff, d, down_data);
    pair norm = pair_random(d, 1, r, 0.5, 1.5);
    pair x = pair_random(d, n, r, -1.0, 1.0);
    pair h = pair_random(ff, n, r, 0.0, 0.0), y = pair_random(d, n, r, 0.0, 0.0);
    for (int layer = 0; layer < 3; layer++) {
        pair *all[] = { &x, &h, &y, &up, &down, &norm };
        for (int side = 0; side < 2; side++) {
            hk_backend *be = side ? cpu_be : vk_be;
            hk_tensor *t[6];
            for (int i = 0; i < 6; i++)
                t[i] = side ? &all[i]->cpu : &all[i]->vk;
            hk_backend_rms_norm(be, t[0], t[5], 1e-5f, t[2]);
            hk_backend_matmul(be, t[2], t[3], t[1]);
            hk_backend_swiglu(be, t[1], t[1], t[1]);
            hk_backend_matmul(be, t[1], t[4], t[2]);
            hk_backend_add(be, t[0], t[2], t[0]);
        }
    }
    float *got, *want;
    read_both(&x, &got, &want);
    /* the CPU's 8-bit activations, compounded over three layers */
    ck_assert_double_lt(hk_nmse(got, want, (size_t)(d * n)), 1e-3);
    g_free(got);
    g_free(want);
    pair *all[] = { &x, &h, &y, &up, &down, &norm };
    for (int i = 0; i < 6; i++)
        pair_free(all[i]);
    g_free(up_data);
    g_free(down_data);
    g_rand_free(r);
}
END_TEST

/* An input changed in place between two products is read anew (the byte
 * kernels keep the last input they rounded to bytes). */
START_TEST(test_matmul_after_input_changes)
{
    const int64_t k = 64, m = 40;
    GRand *r = g_rand_new_with_seed(9);
    uint8_t *data = random_weights(HK_TYPE_Q8_0, k, m, r);
    pair w = pair_upload(HK_TYPE_Q8_0, k, m, data);
    pair bias = pair_random(k, 1, r, 2.0, 3.0);
    for (int64_t n = 1; n <= 9; n += 8) {
        pair x = pair_random(k, n, r, -1.0, 1.0);
        hk_tensor vk_y, cpu_y;
        pair y = pair_guarded(m, n, &vk_y, &cpu_y);
        hk_backend_matmul(vk_be, &x.vk, &w.vk, &vk_y);
        hk_backend_add_bias(vk_be, &x.vk, &bias.vk);
        hk_backend_matmul(vk_be, &x.vk, &w.vk, &vk_y);
        hk_backend_add_bias(cpu_be, &x.cpu, &bias.cpu);
        hk_backend_matmul(cpu_be, &x.cpu, &w.cpu, &cpu_y);
        check_output(&y, n, 1e-4, n == 1 ? "matvec after its input changed"
                                          : "matmul after its input changed");
        pair_free(&x);
        pair_free(&y);
    }
    pair_free(&bias);
    pair_free(&w);
    g_free(data);
    g_rand_free(r);
}
END_TEST

START_TEST(test_describes_device)
{
    ck_assert_str_eq(hk_backend_name(vk_be), "vulkan");
    const char *d = hk_backend_description(vk_be);
    ck_assert_msg(strstr(d, "Vulkan 1.") && strstr(d, "subgroup"), "description: %s", d);
    /* the kernels' forms, as the pass asked for them */
    const char *kernels = g_getenv("HEARKEN_VULKAN_KERNELS");
    bool gpu = g_strcmp0(kernels, "gpu") == 0;
    ck_assert_msg(strstr(d, gpu ? "kernels for a GPU" : "kernels for a CPU implementation"),
                  "description: %s", d);
    ck_assert_msg(!strstr(d, "multiplying bytes") == (g_strcmp0(g_getenv("HEARKEN_VULKAN_INT8"), "1") != 0),
                  "description: %s", d);
    for (hk_type t = 0; t < HK_TYPE_COUNT; t++)
        ck_assert_int_eq(hk_backend_supports_type(vk_be, t), hk_type_is_supported(t));
    for (hk_op op = 0; op < HK_OP_COUNT; op++)
        ck_assert(hk_backend_supports_op(vk_be, op));
}
END_TEST

/* The pipelines are kept on disk, so the next start need not build them. */
START_TEST(test_pipeline_cache_written)
{
    hk_backend *be;
    hk_error err = { 0 };
    hk_backend_vulkan_params p = { .device = -1, .allow_cpu = true };
    ck_assert_int_eq(hk_backend_vulkan_new(&p, &be, &err), 0);
    hk_tensor a;
    float one[4] = { 1, 2, 3, 4 }, got[4];
    ck_assert_int_eq(hk_backend_tensor_upload(be, HK_TYPE_F32, 4, 1, one, &a, &err), 0);
    hk_backend_add(be, &a, &a, &a);
    hk_backend_read(be, &a, got);
    ck_assert_int_eq(hk_backend_sync(be, &err), 0);
    ck_assert(got[3] == 8.0f);
    hk_backend_tensor_free(be, &a);
    hk_backend_free(be);

    char *dir = g_build_filename(cache_dir, "hearken", NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    ck_assert_msg(d, "no %s", dir);
    const char *name = g_dir_read_name(d);
    ck_assert_msg(name && g_str_has_prefix(name, "vulkan-") && g_str_has_suffix(name, ".cache"),
                  "cache file: %s", name ? name : "none");
    g_dir_close(d);
    g_free(dir);
}
END_TEST

/* A bad tensor is refused as such, not taken for a device failure. */
START_TEST(test_refuses_bad_tensors)
{
    hk_tensor t;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_backend_tensor_alloc(vk_be, HK_TYPE_Q4_0, 32, 2, &t, &err), -EINVAL);
    ck_assert_int_eq(hk_backend_tensor_alloc(vk_be, HK_TYPE_F32, 0, 2, &t, &err), -EINVAL);
    ck_assert_int_eq(hk_backend_sync(vk_be, &err), 0);
}
END_TEST

static Suite *
vulkan_suite(void)
{
    Suite *s = suite_create("backend-vulkan");
    TCase *tc = tcase_create("ops");
    tcase_add_test(tc, test_describes_device);
    tcase_add_loop_test(tc, test_get_rows, 0, N_WEIGHT_CASES);
    tcase_add_loop_test(tc, test_matmul, 0, N_WEIGHT_CASES);
    tcase_add_test(tc, test_matmul_views);
    tcase_add_test(tc, test_weight_past_storage_range);
    tcase_add_test(tc, test_rms_norm);
    tcase_add_test(tc, test_add_swiglu_bias);
    tcase_add_loop_test(tc, test_rope, 0, N_ROPE_CASES);
    tcase_add_loop_test(tc, test_attention, 0, N_ATTN_CASES);
    tcase_add_test(tc, test_chain);
    tcase_add_test(tc, test_matmul_after_input_changes);
    tcase_add_test(tc, test_refuses_bad_tensors);
    tcase_add_test(tc, test_pipeline_cache_written);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    /* the pipeline cache goes to a fresh folder, not the user's */
    cache_dir = g_dir_make_tmp("hearken-vulkan-XXXXXX", NULL);
    g_setenv("XDG_CACHE_HOME", cache_dir, TRUE);
    g_unsetenv("HEARKEN_VULKAN_FAULT");

    hk_error err = { 0 };
    if (hk_backend_cpu_new(2, &cpu_be, &err) < 0) {
        printf("cpu backend: %s\n", err.message);
        return EXIT_FAILURE;
    }
    /* every form of the kernels, whatever the device: CI has only
     * lavapipe, which would run only those for a CPU implementation, with
     * floats; matvec's rows added up by a subgroup with the byte kernels,
     * by a tree in shared memory with the float ones */
    static const struct {
        const char *kernels, *int8, *subgroup;
    } variants[] = { { "cpu", "0", "0" }, { "gpu", "0", "0" }, { "gpu", "1", "1" } };
    int failed = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(variants); i++) {
        g_setenv("HEARKEN_VULKAN_KERNELS", variants[i].kernels, TRUE);
        g_setenv("HEARKEN_VULKAN_INT8", variants[i].int8, TRUE);
        g_setenv("HEARKEN_VULKAN_SUBGROUP", variants[i].subgroup, TRUE);
        hk_backend_vulkan_params p = { .device = -1, .allow_cpu = true };
        if (hk_backend_vulkan_new(&p, &vk_be, &err) < 0) {
            printf("SKIP: no usable Vulkan device: %s\n", err.message);
            hk_backend_free(cpu_be);
            return HK_TEST_SKIP;
        }
        bool bytes = strcmp(variants[i].int8, "1") == 0;
        if (bytes && !strstr(hk_backend_description(vk_be), "int8 dot")) {
            printf("This device has no integer dot product: no byte kernels to test\n");
            hk_backend_free(vk_be);
            continue;
        }
        printf("Vulkan device: %s\n", hk_backend_description(vk_be));
        /* one process: the backends (and their pipelines) serve every test */
        SRunner *runner = srunner_create(vulkan_suite());
        srunner_set_fork_status(runner, CK_NOFORK);
        srunner_run_all(runner, CK_NORMAL);
        failed += srunner_ntests_failed(runner);
        srunner_free(runner);
        hk_backend_free(vk_be);
    }
    hk_backend_free(cpu_be);

    hk_tmpdir_remove(cache_dir);
    g_free(cache_dir);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#else

int
main(void)
{
    puts("SKIP: this build has no Vulkan backend (configure with -Dvulkan=enabled)");
    return HK_TEST_SKIP;
}

#endif
