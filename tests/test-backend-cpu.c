/* The CPU backend's ops against naive float references, op by op, over
 * several shapes and thread counts (as ggml's test-backend-ops does):
 * outputs are checked for NaN, then by normalized mean squared error, and
 * a sentinel row after each output catches writes out of bounds. */
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cpu/backend-cpu.h"
#include "cpu/threadpool.h"
#include "hk-check.h"
#include "hk-nmse.h"
#include "quant.h"

#define SENTINEL 1234.5f

/* Thread counts each op runs with: alone, the usual, more than cores. */
static const int thread_counts[] = { 1, 2, 3 };
#define N_THREAD_COUNTS ((int)(sizeof thread_counts / sizeof thread_counts[0]))

static hk_backend *
cpu_backend(int n_threads)
{
    hk_backend *be;
    hk_error err = { 0 };
    ck_assert_msg(hk_backend_cpu_new(n_threads, &be, &err) == 0, "%s", err.message);
    return be;
}

static float *
host(const hk_tensor *t)
{
    return (float *)((uint8_t *)t->buffer + t->offset);
}

static void
fill_random(float *x, size_t n, GRand *r, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)g_rand_double_range(r, lo, hi);
}

/* An F32 tensor of rows + 1 rows, the last one a sentinel; *view is the
 * first rows. */
static hk_tensor
guarded(hk_backend *be, int64_t ne0, int64_t rows, hk_tensor *view)
{
    hk_tensor t;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_backend_tensor_alloc(be, HK_TYPE_F32, ne0, rows + 1, &t, &err), 0);
    for (int64_t i = 0; i < ne0; i++)
        host(&t)[rows * ne0 + i] = SENTINEL;
    *view = hk_tensor_rows(&t, 0, rows);
    return t;
}

/* Assertions are counted outside the loops: each one costs Check a write. */
static void
check_sentinel(const hk_tensor *t)
{
    int64_t rows = t->ne[1] - 1, changed = 0;
    for (int64_t i = 0; i < t->ne[0]; i++)
        changed += host(t)[rows * t->ne[0] + i] != SENTINEL;
    ck_assert_msg(changed == 0, "%lld writes past the output", (long long)changed);
}

static hk_tensor
random_tensor(hk_backend *be, int64_t ne0, int64_t ne1, GRand *r)
{
    hk_tensor t;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_backend_tensor_alloc(be, HK_TYPE_F32, ne0, ne1, &t, &err), 0);
    fill_random(host(&t), (size_t)(ne0 * ne1), r, -1.0, 1.0);
    return t;
}


/* ----------------------------------------------------------------------------
 * get_rows */

static const hk_type table_types[] = { HK_TYPE_F32, HK_TYPE_F16, HK_TYPE_Q8_0, HK_TYPE_Q4_K };
#define N_TABLE_TYPES ((int)(sizeof table_types / sizeof table_types[0]))

START_TEST(test_get_rows)
{
    hk_type type = table_types[_i % N_TABLE_TYPES];
    int n_threads = thread_counts[_i / N_TABLE_TYPES];
    hk_backend *be = cpu_backend(n_threads);
    GRand *r = g_rand_new_with_seed(1);
    const int64_t ne0 = 512, n_rows = 37;
    size_t row_bytes = hk_type_row_bytes(type, ne0);
    uint8_t *table_data = g_malloc(row_bytes * n_rows);
    float *src = g_new(float, ne0 * n_rows);
    fill_random(src, (size_t)(ne0 * n_rows), r, -2.0, 2.0);
    for (int64_t i = 0; i < n_rows; i++)
        hk_quantize_row(type, src + i * ne0, table_data + i * row_bytes, ne0);

    hk_tensor table, view;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_backend_tensor_upload(be, type, ne0, n_rows, table_data, &table, &err), 0);
    ck_assert_ptr_eq(table.buffer, table_data);   /* borrowed, not copied */

    for (int64_t n = 1; n <= 40; n += 39) {
        int32_t ids[40];
        for (int64_t i = 0; i < n; i++)
            ids[i] = (int32_t)((i * 7 + 36) % n_rows);
        hk_tensor out = guarded(be, ne0, n, &view);
        hk_backend_get_rows(be, &table, ids, &view);
        ck_assert_int_eq(hk_backend_sync(be, &err), 0);

        double *want = g_new(double, ne0 * n);
        float *row = g_new(float, ne0);
        for (int64_t i = 0; i < n; i++) {
            hk_dequantize_row(type, table_data + ids[i] * row_bytes, row, ne0);
            for (int64_t j = 0; j < ne0; j++)
                want[i * ne0 + j] = row[j];
        }
        ck_assert_double_lt(hk_nmse_f64(host(&view), want, (size_t)(ne0 * n)), 1e-12);
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < ne0; j++)
                want[i * ne0 + j] = src[ids[i] * ne0 + j];
        ck_assert_double_lt(hk_nmse_f64(host(&view), want, (size_t)(ne0 * n)), 1e-2);
        check_sentinel(&out);
        hk_backend_tensor_free(be, &out);
        g_free(want);
        g_free(row);
    }
    hk_backend_tensor_free(be, &table);
    g_free(table_data);
    g_free(src);
    g_rand_free(r);
    hk_backend_free(be);
}
END_TEST

/* ----------------------------------------------------------------------------
 * matmul */

static const struct {
    hk_type type;
    int64_t k;
    double  threshold;   /* 8-bit activations for the quantized types */
} matmul_cases[] = {
    { HK_TYPE_F32,  96,  1e-10 },
    { HK_TYPE_F16,  96,  1e-10 },
    { HK_TYPE_BF16, 96,  1e-10 },
    { HK_TYPE_Q8_0, 96,  1e-3 },
    { HK_TYPE_Q4_0, 96,  1e-3 },
    { HK_TYPE_Q5_0, 96,  1e-3 },
    { HK_TYPE_Q4_K, 256, 1e-3 },
    { HK_TYPE_Q5_K, 256, 1e-3 },
    { HK_TYPE_Q6_K, 256, 1e-3 },
};
#define N_MATMUL_CASES ((int)(sizeof matmul_cases / sizeof matmul_cases[0]))

/* y (n, m) = x (n, k) @ w (m, k)^T, from w's dequantized rows. */
static double *
ref_matmul(hk_type type, const uint8_t *w, int64_t m, int64_t k, const float *x, int64_t n)
{
    double *y = g_new(double, n * m);
    float *row = g_new(float, k);
    size_t row_bytes = hk_type_row_bytes(type, k);
    for (int64_t r = 0; r < m; r++) {
        hk_dequantize_row(type, w + r * row_bytes, row, k);
        for (int64_t c = 0; c < n; c++) {
            double s = 0.0;
            for (int64_t i = 0; i < k; i++)
                s += (double)row[i] * x[c * k + i];
            y[c * m + r] = s;
        }
    }
    g_free(row);
    return y;
}

START_TEST(test_matmul)
{
    hk_type type = matmul_cases[_i % N_MATMUL_CASES].type;
    int64_t k = matmul_cases[_i % N_MATMUL_CASES].k;
    double threshold = matmul_cases[_i % N_MATMUL_CASES].threshold;
    hk_backend *be = cpu_backend(thread_counts[_i / N_MATMUL_CASES]);
    GRand *r = g_rand_new_with_seed(2);
    const int64_t m = 67;    /* not a multiple of any chunk */
    size_t row_bytes = hk_type_row_bytes(type, k);
    uint8_t *w_data = g_malloc(row_bytes * m);
    float *wf = g_new(float, k);
    for (int64_t i = 0; i < m; i++) {
        fill_random(wf, (size_t)k, r, -1.0, 1.0);
        hk_quantize_row(type, wf, w_data + i * row_bytes, k);
    }
    hk_tensor w, view;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_backend_tensor_upload(be, type, k, m, w_data, &w, &err), 0);

    static const int64_t token_counts[] = { 1, 7, 33 };
    for (size_t t = 0; t < 3; t++) {
        int64_t n = token_counts[t];
        hk_tensor x = random_tensor(be, k, n, r);
        hk_tensor y = guarded(be, m, n, &view);
        hk_backend_matmul(be, &x, &w, &view);
        ck_assert_int_eq(hk_backend_sync(be, &err), 0);
        double *want = ref_matmul(type, w_data, m, k, host(&x), n);
        double e = hk_nmse_f64(host(&view), want, (size_t)(n * m));
        ck_assert_msg(e < threshold, "%s, %lld tokens: nmse %g", hk_type_name(type),
                      (long long)n, e);
        check_sentinel(&y);
        g_free(want);
        hk_backend_tensor_free(be, &x);
        hk_backend_tensor_free(be, &y);
    }
    g_free(wf);
    g_free(w_data);
    g_rand_free(r);
    hk_backend_free(be);
}
END_TEST

/* The backend converts an input once for several matmuls; an op that
 * writes over the input must make the next matmul convert it again. */
START_TEST(test_matmul_sees_changed_input)
{
    hk_backend *be = cpu_backend(2);
    GRand *r = g_rand_new_with_seed(3);
    const int64_t k = 64, m = 32, n = 3;
    uint8_t *w_data = g_malloc(hk_type_row_bytes(HK_TYPE_Q8_0, k) * m);
    float *wf = g_new(float, k * m);
    fill_random(wf, (size_t)(k * m), r, -1.0, 1.0);
    for (int64_t i = 0; i < m; i++)
        hk_quantize_row(HK_TYPE_Q8_0, wf + i * k, w_data + i * hk_type_row_bytes(HK_TYPE_Q8_0, k), k);
    hk_tensor w, x = random_tensor(be, k, n, r);
    hk_tensor y1 = random_tensor(be, m, n, r), y2 = random_tensor(be, m, n, r);
    hk_error err = { 0 };
    ck_assert_int_eq(hk_backend_tensor_upload(be, HK_TYPE_Q8_0, k, m, w_data, &w, &err), 0);

    hk_backend_matmul(be, &x, &w, &y1);
    hk_backend_add(be, &x, &x, &x);          /* x = 2x */
    hk_backend_matmul(be, &x, &w, &y2);
    ck_assert_int_eq(hk_backend_sync(be, &err), 0);
    double *want = g_new(double, m * n);
    for (int64_t i = 0; i < m * n; i++)
        want[i] = 2.0 * host(&y1)[i];
    ck_assert_double_lt(hk_nmse_f64(host(&y2), want, (size_t)(m * n)), 1e-3);

    g_free(want);
    hk_backend_tensor_free(be, &x);
    hk_backend_tensor_free(be, &y1);
    hk_backend_tensor_free(be, &y2);
    g_free(w_data);
    g_free(wf);
    g_rand_free(r);
    hk_backend_free(be);
}
END_TEST

/* ----------------------------------------------------------------------------
 * rms_norm, add, add_bias, swiglu */

/* Row counts: one (the caller runs it alone) and many (split). */
static const int64_t row_counts[] = { 1, 5, 300 };

START_TEST(test_rms_norm)
{
    hk_backend *be = cpu_backend(thread_counts[_i]);
    GRand *r = g_rand_new_with_seed(4);
    const int64_t d = 67;
    for (size_t c = 0; c < 3; c++) {
        int64_t n = row_counts[c];
        hk_tensor view, x = random_tensor(be, d, n, r), w = random_tensor(be, d, 1, r);
        hk_tensor out = guarded(be, d, n, &view);
        hk_backend_rms_norm(be, &x, &w, 1e-5f, &view);
        double *want = g_new(double, d * n);
        for (int64_t t = 0; t < n; t++) {
            const float *xr = host(&x) + t * d;
            double ss = 0.0;
            for (int64_t i = 0; i < d; i++)
                ss += (double)xr[i] * xr[i];
            for (int64_t i = 0; i < d; i++)
                want[t * d + i] = xr[i] / sqrt(ss / d + 1e-5) * host(&w)[i];
        }
        ck_assert_double_lt(hk_nmse_f64(host(&view), want, (size_t)(d * n)), 1e-12);
        check_sentinel(&out);
        g_free(want);
        hk_backend_tensor_free(be, &x);
        hk_backend_tensor_free(be, &w);
        hk_backend_tensor_free(be, &out);
    }
    g_rand_free(r);
    hk_backend_free(be);
}
END_TEST

START_TEST(test_add_swiglu_bias)
{
    hk_backend *be = cpu_backend(thread_counts[_i]);
    GRand *r = g_rand_new_with_seed(5);
    const int64_t d = 131;
    for (size_t c = 0; c < 3; c++) {
        int64_t n = row_counts[c];
        size_t count = (size_t)(d * n);
        hk_tensor a = random_tensor(be, d, n, r), b = random_tensor(be, d, n, r);
        hk_tensor bias = random_tensor(be, d, 1, r), view;
        hk_tensor out = guarded(be, d, n, &view);
        double *want = g_new(double, count);

        hk_backend_add(be, &a, &b, &view);
        for (size_t i = 0; i < count; i++)
            want[i] = (double)host(&a)[i] + host(&b)[i];
        ck_assert_double_lt(hk_nmse_f64(host(&view), want, count), 1e-14);

        hk_backend_swiglu(be, &a, &b, &view);
        for (size_t i = 0; i < count; i++)
            want[i] = host(&a)[i] / (1.0 + exp(-host(&a)[i])) * host(&b)[i];   /* e^x to 1e-5 */
        ck_assert_double_lt(hk_nmse_f64(host(&view), want, count), 1e-10);

        for (size_t i = 0; i < count; i++)
            want[i] = (double)host(&view)[i] + host(&bias)[i % d];
        hk_backend_add_bias(be, &view, &bias);
        ck_assert_double_lt(hk_nmse_f64(host(&view), want, count), 1e-14);

        check_sentinel(&out);
        g_free(want);
        hk_tensor *all[] = { &a, &b, &bias, &out };
        for (size_t i = 0; i < 4; i++)
            hk_backend_tensor_free(be, all[i]);
    }
    g_rand_free(r);
    hk_backend_free(be);
}
END_TEST

/* ----------------------------------------------------------------------------
 * rope */

static const struct {
    bool  neox;
    bool  factors;
    float freq_scale;
    int   n_rot;       /* of head_dim 16 */
} rope_cases[] = {
    { false, false, 1.0f,  16 },
    { true,  false, 1.0f,  16 },
    { false, true,  1.0f,  16 },
    { true,  true,  1.0f,  16 },
    { false, false, 0.25f, 16 },
    { true,  true,  0.5f,  8 },
    { false, false, 1.0f,  8 },
};
#define N_ROPE_CASES ((int)(sizeof rope_cases / sizeof rope_cases[0]))

START_TEST(test_rope)
{
    const int hd = 16, n_heads = 4, pos0 = 5;
    const int64_t d = hd * n_heads;
    int c = _i % N_ROPE_CASES;
    hk_backend *be = cpu_backend(thread_counts[_i / N_ROPE_CASES]);
    GRand *r = g_rand_new_with_seed(6);
    hk_tensor factors;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_backend_tensor_alloc(be, HK_TYPE_F32, hd / 2, 1, &factors, &err), 0);
    fill_random(host(&factors), hd / 2, r, 1.0, 8.0);
    hk_rope_params p = {
        .head_dim = hd, .n_rot = rope_cases[c].n_rot, .pos0 = pos0, .freq_base = 10000.0f,
        .freq_scale = rope_cases[c].freq_scale, .neox = rope_cases[c].neox,
        .freq_factors = rope_cases[c].factors ? &factors : NULL,
    };
    for (size_t rc = 0; rc < 3; rc++) {
        int64_t n = row_counts[rc];
        hk_tensor x = random_tensor(be, d, n, r);
        double *want = g_new(double, d * n);
        for (int64_t i = 0; i < d * n; i++)
            want[i] = host(&x)[i];
        for (int64_t t = 0; t < n; t++) {
            for (int h = 0; h < n_heads; h++) {
                double *v = want + t * d + h * hd;
                for (int i = 0; i < p.n_rot / 2; i++) {
                    double theta = (double)(pos0 + t) * p.freq_scale *
                                   pow(10000.0, -2.0 * i / p.n_rot);
                    if (p.freq_factors)
                        theta /= host(&factors)[i];
                    int a = p.neox ? i : 2 * i, b = p.neox ? i + p.n_rot / 2 : 2 * i + 1;
                    double x0 = v[a], x1 = v[b];
                    v[a] = x0 * cos(theta) - x1 * sin(theta);
                    v[b] = x0 * sin(theta) + x1 * cos(theta);
                }
            }
        }
        hk_backend_rope(be, &x, &p);
        ck_assert_double_lt(hk_nmse_f64(host(&x), want, (size_t)(d * n)), 1e-10);
        g_free(want);
        hk_backend_tensor_free(be, &x);
    }
    hk_backend_tensor_free(be, &factors);
    g_rand_free(r);
    hk_backend_free(be);
}
END_TEST

/* ----------------------------------------------------------------------------
 * kv_store and attention */

static const struct {
    int n_head, n_head_kv, head_dim, n_ctx, pos0, n;
} attn_cases[] = {
    { 4,  4, 16, 64,  0,   1 },    /* one head per kv head, first token */
    { 8,  2, 24, 200, 37,  45 },   /* grouped heads, several units and chunks */
    { 6,  3, 20, 300, 150, 1 },    /* a generation step far in */
    { 12, 4, 64, 512, 0,   128 },  /* a prompt from an empty cache */
    { 2,  1, 40, 100, 99,  1 },    /* the last position */
};
#define N_ATTN_CASES ((int)(sizeof attn_cases / sizeof attn_cases[0]))

static float
f16_round(float x)
{
    return hk_fp16_to_f32(hk_f32_to_fp16(x));
}

START_TEST(test_attention)
{
    int c = _i % N_ATTN_CASES;
    const int nh = attn_cases[c].n_head, nkv = attn_cases[c].n_head_kv;
    const int hd = attn_cases[c].head_dim, n_ctx = attn_cases[c].n_ctx;
    const int pos0 = attn_cases[c].pos0, n = attn_cases[c].n, n_pos = pos0 + n;
    const int q_dim = nh * hd, kv_dim = nkv * hd;
    hk_backend *be = cpu_backend(thread_counts[_i / N_ATTN_CASES]);
    GRand *r = g_rand_new_with_seed(7);
    hk_error err = { 0 };
    hk_tensor kc, vc, view;
    const int n_slots = (n_ctx + HK_KV_BLOCK - 1) / HK_KV_BLOCK * HK_KV_BLOCK;
    ck_assert_int_eq(hk_backend_tensor_alloc(be, HK_TYPE_F16, hd, (int64_t)nkv * n_slots, &kc, &err), 0);
    ck_assert_int_eq(hk_backend_tensor_alloc(be, HK_TYPE_F16, HK_KV_BLOCK,
                                             (int64_t)nkv * n_slots / HK_KV_BLOCK * hd, &vc, &err), 0);

    /* keys and values of every position; the earlier ones stored first */
    hk_tensor k = random_tensor(be, kv_dim, n_pos, r), v = random_tensor(be, kv_dim, n_pos, r);
    hk_attn_params p = { nh, nkv, hd, n_slots, 0, 1.0f / sqrtf((float)hd) };
    if (pos0 > 0) {
        hk_tensor k0 = hk_tensor_rows(&k, 0, pos0), v0 = hk_tensor_rows(&v, 0, pos0);
        hk_backend_kv_store(be, &k0, &v0, &kc, &vc, &p);
    }
    p.pos0 = pos0;
    hk_tensor k1 = hk_tensor_rows(&k, pos0, n), v1 = hk_tensor_rows(&v, pos0, n);
    hk_backend_kv_store(be, &k1, &v1, &kc, &vc, &p);

    /* the cache's layout is the contract (backend.h) */
    const hk_fp16 *kh = kc.buffer, *vh = vc.buffer;
    int misplaced = 0;
    for (int g = 0; g < nkv; g++)
        for (int t = 0; t < n_pos; t++)
            for (int i = 0; i < hd; i++) {
                size_t k_at = ((size_t)g * n_slots + t) * hd + i;
                size_t v_at = (((size_t)g * n_slots / HK_KV_BLOCK + t / HK_KV_BLOCK) * hd + i)
                              * HK_KV_BLOCK + t % HK_KV_BLOCK;
                misplaced += kh[k_at] != hk_f32_to_fp16(host(&k)[t * kv_dim + g * hd + i]);
                misplaced += vh[v_at] != hk_f32_to_fp16(host(&v)[t * kv_dim + g * hd + i]);
            }
    ck_assert_int_eq(misplaced, 0);

    hk_tensor q = random_tensor(be, q_dim, n, r);
    for (int i = 0; i < q_dim * n; i++)
        host(&q)[i] *= 3.0f;     /* peakier softmax */
    hk_tensor out = guarded(be, q_dim, n, &view);
    hk_backend_attention(be, &q, &kc, &vc, &p, &view);
    ck_assert_int_eq(hk_backend_sync(be, &err), 0);

    /* naive: every query against every visible key, in double */
    double *want = g_new(double, (size_t)q_dim * n), *s = g_new(double, n_pos);
    for (int t = 0; t < n; t++) {
        for (int h = 0; h < nh; h++) {
            int g = h / (nh / nkv), seen = pos0 + t + 1;
            double mx = -INFINITY, sum = 0.0;
            for (int j = 0; j < seen; j++) {
                s[j] = 0.0;
                for (int i = 0; i < hd; i++)
                    s[j] += (double)host(&q)[t * q_dim + h * hd + i] *
                            f16_round(host(&k)[j * kv_dim + g * hd + i]);
                s[j] *= p.scale;
                mx = fmax(mx, s[j]);
            }
            for (int j = 0; j < seen; j++)
                sum += exp(s[j] - mx);
            for (int i = 0; i < hd; i++) {
                double acc = 0.0;
                for (int j = 0; j < seen; j++)
                    acc += exp(s[j] - mx) / sum * f16_round(host(&v)[j * kv_dim + g * hd + i]);
                want[(size_t)t * q_dim + h * hd + i] = acc;
            }
        }
    }
    double e = hk_nmse_f64(host(&view), want, (size_t)q_dim * n);
    ck_assert_msg(e < 1e-9, "attention case %d: nmse %g", c, e);
    check_sentinel(&out);

    g_free(want);
    g_free(s);
    hk_tensor *all[] = { &kc, &vc, &k, &v, &q, &out };
    for (size_t i = 0; i < 6; i++)
        hk_backend_tensor_free(be, all[i]);
    g_rand_free(r);
    hk_backend_free(be);
}
END_TEST

/* F16 has no room for 1e6: the cache keeps its largest value instead of
 * an infinity, which a zero weight would turn into NaN. */
START_TEST(test_kv_store_clamps)
{
    hk_backend *be = cpu_backend(1);
    hk_error err = { 0 };
    const int hd = 8;
    hk_tensor kc, vc, k, v;
    ck_assert_int_eq(hk_backend_tensor_alloc(be, HK_TYPE_F16, hd, HK_KV_BLOCK, &kc, &err), 0);
    ck_assert_int_eq(hk_backend_tensor_alloc(be, HK_TYPE_F16, HK_KV_BLOCK, hd, &vc, &err), 0);
    ck_assert_int_eq(hk_backend_tensor_alloc(be, HK_TYPE_F32, hd, 1, &k, &err), 0);
    ck_assert_int_eq(hk_backend_tensor_alloc(be, HK_TYPE_F32, hd, 1, &v, &err), 0);
    for (int i = 0; i < hd; i++) {
        host(&k)[i] = -1e6f;
        host(&v)[i] = 1e6f;
    }
    hk_attn_params p = { 1, 1, hd, HK_KV_BLOCK, 3, 1.0f };
    hk_backend_kv_store(be, &k, &v, &kc, &vc, &p);
    ck_assert_int_eq(hk_backend_sync(be, &err), 0);
    const hk_fp16 *kh = kc.buffer, *vh = vc.buffer;
    ck_assert_float_eq(hk_fp16_to_f32(kh[3 * hd]), -65504.0f);
    ck_assert_float_eq(hk_fp16_to_f32(vh[3]), 65504.0f);
    hk_tensor *all[] = { &kc, &vc, &k, &v };
    for (size_t i = 0; i < 4; i++)
        hk_backend_tensor_free(be, all[i]);
    hk_backend_free(be);
}
END_TEST

/* ----------------------------------------------------------------------------
 * The table and the thread pool */

START_TEST(test_capabilities)
{
    hk_backend *be = cpu_backend(2);
    ck_assert_str_eq(hk_backend_name(be), "cpu");
    ck_assert_ptr_nonnull(strstr(hk_backend_description(be), "2 threads"));
    for (hk_op op = 0; op < HK_OP_COUNT; op++)
        ck_assert(hk_backend_supports_op(be, op));
    ck_assert(hk_backend_supports_type(be, HK_TYPE_Q4_K));
    ck_assert(!hk_backend_supports_type(be, HK_TYPE_Q4_1));
    hk_tensor t;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_backend_tensor_alloc(be, HK_TYPE_Q8_0, 32, 2, &t, &err), -EINVAL);
    ck_assert_int_eq(hk_backend_tensor_alloc(be, HK_TYPE_F32, 0, 2, &t, &err), -EINVAL);
    hk_backend_free(be);
}
END_TEST

START_TEST(test_table_checked)
{
    hk_backend_iface iface = { .version = HK_BACKEND_INTERFACE_VERSION + 1 };
    hk_backend *be = NULL;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_backend_new(&iface, NULL, &be, &err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "version"));
    iface.version = HK_BACKEND_INTERFACE_VERSION;
    ck_assert_int_eq(hk_backend_new(&iface, NULL, &be, &err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "empty slot"));
    ck_assert_ptr_null(be);
}
END_TEST

typedef struct pool_task {
    hk_threadpool *pool;
    atomic_int     calls[8];
    int            slots[8];
    atomic_int     bad;
} pool_task;

/* Each thread writes its slot, waits for the others, then checks theirs. */
static void
pool_fn(void *ctx, int ith, int nth)
{
    pool_task *t = ctx;
    atomic_fetch_add(&t->calls[ith], 1);
    t->slots[ith] = ith + 1;
    hk_threadpool_barrier(t->pool, nth);
    for (int i = 0; i < nth; i++)
        if (t->slots[i] != i + 1)
            atomic_fetch_add(&t->bad, 1);
    hk_threadpool_barrier(t->pool, nth);
    t->slots[ith] = 0;
}

START_TEST(test_threadpool)
{
    const int n_threads = 4, runs = 3000;
    hk_threadpool *pool;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_threadpool_new(n_threads, &pool, &err), 0);
    ck_assert_int_eq(hk_threadpool_n_threads(pool), n_threads);
    pool_task t = { .pool = pool };
    for (int run = 0; run < runs; run++) {
        int nth = 1 + run % n_threads;
        hk_threadpool_run(pool, nth, pool_fn, &t);
        if (run == runs / 2)
            usleep(100 * 1000);   /* the workers fall asleep: they must wake */
    }
    ck_assert_int_eq(atomic_load(&t.bad), 0);
    for (int i = 0; i < n_threads; i++) {
        int expected = 0;
        for (int run = 0; run < runs; run++)
            expected += i < 1 + run % n_threads;
        ck_assert_int_eq(atomic_load(&t.calls[i]), expected);
    }
    hk_threadpool_free(pool);
    ck_assert_int_eq(hk_threadpool_new(0, &pool, &err), -EINVAL);
}
END_TEST

static Suite *
backend_cpu_suite(void)
{
    Suite *s = suite_create("backend-cpu");
    TCase *tc = tcase_create("ops");
    tcase_add_loop_test(tc, test_get_rows, 0, N_TABLE_TYPES * N_THREAD_COUNTS);
    tcase_add_loop_test(tc, test_matmul, 0, N_MATMUL_CASES * N_THREAD_COUNTS);
    tcase_add_test(tc, test_matmul_sees_changed_input);
    tcase_add_loop_test(tc, test_rms_norm, 0, N_THREAD_COUNTS);
    tcase_add_loop_test(tc, test_add_swiglu_bias, 0, N_THREAD_COUNTS);
    tcase_add_loop_test(tc, test_rope, 0, N_ROPE_CASES * N_THREAD_COUNTS);
    tcase_add_loop_test(tc, test_attention, 0, N_ATTN_CASES * N_THREAD_COUNTS);
    tcase_add_test(tc, test_kv_store_clamps);
    suite_add_tcase(s, tc);

    tc = tcase_create("backend");
    tcase_add_test(tc, test_capabilities);
    tcase_add_test(tc, test_table_checked);
    tcase_add_test(tc, test_threadpool);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(backend_cpu_suite)
