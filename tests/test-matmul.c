/* The CPU matmul kernels, in the manner of ggml's test-backend-ops: per
 * weight type, a loop over shapes; each instruction set this CPU has runs
 * against the scalar kernel on the same quantized data and against a
 * float64 product of the dequantized weights with the float activations.
 * Outputs are checked for NaN, then NMSE against per-type thresholds;
 * sentinels around y catch writes outside the rows and columns asked for.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "hk-check.h"
#include "hk-rng.h"
#include "cpu/kernels.h"
#include "cpu/matmul.h"
#include "quant.h"

#if defined(__x86_64__)
/* matmul-wide-on-avx2.c: the AVX-512 kernels' code runnable on AVX2 */
extern const hk_cpu_kernels hk_test_kernels_wide_on_avx2;
#endif

static const hk_type all_types[] = {
    HK_TYPE_F32, HK_TYPE_F16, HK_TYPE_BF16,
    HK_TYPE_Q8_0, HK_TYPE_Q4_0, HK_TYPE_Q5_0,
    HK_TYPE_Q4_K, HK_TYPE_Q5_K, HK_TYPE_Q6_K,
};
#define N_TYPES ((int)(sizeof all_types / sizeof all_types[0]))

static const int64_t ks[] = { 37, 32, 256, 288, 512, 4096 };
static const int64_t row_counts[] = { 1, 3, 17, 64 };
static const int64_t col_counts[] = { 1, 2, 5, 8, 33 };

static const hk_cpu_isa simd_isas[] = { HK_CPU_ISA_AVX2, HK_CPU_ISA_AVX512 };

#define SENTINEL 12345.0f
/* rows of W before r0 and after r1 that must not be computed */
#define ROWS_BEFORE 2
#define ROWS_AFTER 3

/* ------------------------------------------------------------- helpers */

/* Weights like a trained layer's: normal, a few outliers, rows of
 * different scales, and some all-zero blocks. */
static void
fill_weights(float *w, int64_t m, int64_t k)
{
    for (int64_t r = 0; r < m; r++) {
        float scale = 0.02f * (float)(0.5 + hk_rng_uniform());
        for (int64_t i = 0; i < k; i++) {
            float v = hk_rng_normal() * scale;
            if (hk_rng_uniform() < 0.002)
                v *= 8;
            w[r * k + i] = v;
        }
        if (k >= 64 && r % 5 == 4)
            memset(w + r * k + 32, 0, 32 * sizeof(float));
    }
}

static bool
k_fits(hk_type type, int64_t k)
{
    return hk_type_row_bytes(type, (uint64_t)k) != 0;
}

typedef struct problem {
    hk_type  type;
    int64_t  k, rows, cols, m, y_stride;
    uint8_t *w;        /* (m, row bytes) */
    float   *x;        /* (cols, k) */
    uint8_t *xq;       /* (cols, activation row bytes) */
    double  *ref;      /* (cols, rows) float64, dequantized W · dequantized X */
    double  *ref_x;    /* (cols, rows) float64, dequantized W · float X */
} problem;

static void
problem_init(problem *p, hk_type type, int64_t k, int64_t rows, int64_t cols)
{
    p->type = type;
    p->k = k;
    p->rows = rows;
    p->cols = cols;
    p->m = ROWS_BEFORE + rows + ROWS_AFTER;
    p->y_stride = p->m + 7;

    size_t wrb = hk_type_row_bytes(type, (uint64_t)k);
    size_t xrb = hk_cpu_activation_row_bytes(type, k);
    float *wf = malloc((size_t)(p->m * k) * sizeof(float));
    p->w = malloc((size_t)p->m * wrb);
    p->x = malloc((size_t)(cols * k) * sizeof(float));
    p->xq = malloc((size_t)cols * xrb);
    p->ref = malloc((size_t)(cols * rows) * sizeof(double));
    p->ref_x = malloc((size_t)(cols * rows) * sizeof(double));

    fill_weights(wf, p->m, k);
    for (int64_t r = 0; r < p->m; r++)
        hk_quantize_row(type, wf + r * k, p->w + r * wrb, k);
    for (int64_t i = 0; i < cols * k; i++)
        p->x[i] = hk_rng_normal();
    for (int64_t c = 0; c < cols; c++)
        hk_cpu_quantize_activation(type, p->x + c * k, p->xq + c * xrb, k);

    float *row = malloc((size_t)k * sizeof(float));
    float *xd = malloc((size_t)(cols * k) * sizeof(float));
    for (int64_t c = 0; c < cols; c++)
        hk_dequantize_row(hk_cpu_vec_dot_type(type), p->xq + c * xrb, xd + c * k, k);
    for (int64_t r = 0; r < rows; r++) {
        hk_dequantize_row(type, p->w + (ROWS_BEFORE + r) * wrb, row, k);
        for (int64_t c = 0; c < cols; c++) {
            double s = 0, s_x = 0;
            for (int64_t i = 0; i < k; i++) {
                s += (double)row[i] * xd[c * k + i];
                s_x += (double)row[i] * p->x[c * k + i];
            }
            p->ref[c * rows + r] = s;
            p->ref_x[c * rows + r] = s_x;
        }
    }
    free(xd);
    free(row);
    free(wf);
}

static void
problem_free(problem *p)
{
    free(p->w);
    free(p->x);
    free(p->xq);
    free(p->ref);
    free(p->ref_x);
}

static float *
new_y(const problem *p)
{
    size_t n = (size_t)((p->cols + 1) * p->y_stride);
    float *y = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        y[i] = SENTINEL;
    return y;
}

/* y (cols, y_stride) with rows r0..r1 computed and sentinels elsewhere. */
static float *
run_isa(const problem *p, hk_cpu_isa isa)
{
    float *y = new_y(p);
    ck_assert(hk_cpu_isa_set(isa));
    hk_cpu_matmul_rows(p->type, p->w, p->k, ROWS_BEFORE, ROWS_BEFORE + p->rows,
                       p->xq, p->cols, y, p->y_stride);
    return y;
}

/* The same through a kernel table directly, as cpu/matmul.c calls it. */
static float *
run_table(const problem *p, const hk_cpu_kernels *table)
{
    float *y = new_y(p);
    size_t wrb = hk_type_row_bytes(p->type, (uint64_t)p->k);
    hk_matmul_job job = {
        .w = p->w + ROWS_BEFORE * wrb, .w_row_bytes = wrb, .k = p->k, .n_rows = p->rows,
        .xq = p->xq, .x_row_bytes = hk_cpu_activation_row_bytes(p->type, p->k),
        .n_cols = p->cols, .y = y + ROWS_BEFORE, .y_stride = p->y_stride,
    };
    table->matmul[p->type](&job);
    return y;
}

static void
check_sentinels(const problem *p, const float *y, const char *what)
{
    for (int64_t c = 0; c <= p->cols; c++) {
        for (int64_t r = 0; r < p->y_stride; r++) {
            bool inside = c < p->cols && r >= ROWS_BEFORE && r < ROWS_BEFORE + p->rows;
            if (!inside)
                ck_assert_msg(y[c * p->y_stride + r] == SENTINEL,
                              "%s: wrote y outside the tile at col %lld row %lld",
                              what, (long long)c, (long long)r);
        }
    }
}

/* Adds Σ (y - ref)² and Σ ref² to sums[0], sums[1]; y's rows sit at
 * ROWS_BEFORE in y_stride, ref is dense (cols, rows). */
static void
add_errors(const problem *p, const float *y, const double *ref, double sums[2], const char *what)
{
    for (int64_t c = 0; c < p->cols; c++) {
        for (int64_t r = 0; r < p->rows; r++) {
            float v = y[c * p->y_stride + ROWS_BEFORE + r];
            ck_assert_msg(isfinite(v), "%s: not finite at col %lld row %lld",
                          what, (long long)c, (long long)r);
            double d = v - ref[c * p->rows + r];
            sums[0] += d * d;
            sums[1] += ref[c * p->rows + r] * ref[c * p->rows + r];
        }
    }
}

static double
nmse_vs(const problem *p, const float *y, const double *ref, const char *what)
{
    double sums[2] = { 0, 0 };
    add_errors(p, y, ref, sums, what);
    return sums[1] > 0 ? sums[0] / sums[1] : sums[0];
}

static double
nmse_between(const problem *p, const float *a, const float *b)
{
    double err = 0, norm = 0;
    for (int64_t c = 0; c < p->cols; c++) {
        for (int64_t r = ROWS_BEFORE; r < ROWS_BEFORE + p->rows; r++) {
            double d = (double)a[c * p->y_stride + r] - b[c * p->y_stride + r];
            err += d * d;
            norm += (double)b[c * p->y_stride + r] * b[c * p->y_stride + r];
        }
    }
    return norm > 0 ? err / norm : err;
}

static bool
is_float_type(hk_type t)
{
    return t == HK_TYPE_F32 || t == HK_TYPE_F16 || t == HK_TYPE_BF16;
}

/* ------------------------------------------------------------- the ops */

/* Of the same quantized data: the float64 product and the scalar kernel
 * differ from a SIMD kernel by float rounding only. */
#define LIMIT_SAME_DATA 1e-8
#define LIMIT_SIMD_VS_SCALAR 1e-10

/* Runs every ISA on one shape; adds the error against the product with
 * the unquantized activations to x_err[isa]. */
static void
check_case(hk_type type, int64_t k, int64_t rows, int64_t cols, double x_err[][2])
{
    problem p;
    char what[160];
    float *scalar = NULL;
    static const hk_cpu_isa isas[] = { HK_CPU_ISA_SCALAR, HK_CPU_ISA_AVX2, HK_CPU_ISA_AVX512 };

    problem_init(&p, type, k, rows, cols);
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        hk_cpu_isa isa = isas[i];
        if (!hk_cpu_isa_set(isa))
            continue;
        snprintf(what, sizeof what, "%s k=%lld rows=%lld cols=%lld %s", hk_type_name(type),
                 (long long)k, (long long)rows, (long long)cols, hk_cpu_isa_name(isa));
        float *y = run_isa(&p, isa);
        check_sentinels(&p, y, what);
        double e = nmse_vs(&p, y, p.ref, what);
        ck_assert_msg(e < LIMIT_SAME_DATA, "%s: NMSE %g against float64 (limit %g)",
                      what, e, LIMIT_SAME_DATA);
        add_errors(&p, y, p.ref_x, x_err[isa], what);
        if (isa == HK_CPU_ISA_SCALAR) {
            scalar = y;
            continue;
        }
        e = nmse_between(&p, y, scalar);
        ck_assert_msg(e < LIMIT_SIMD_VS_SCALAR, "%s: NMSE %g against the scalar kernel", what, e);
        free(y);
    }
#if defined(__x86_64__)
    if (hk_cpu_isa_set(HK_CPU_ISA_AVX2)) {
        snprintf(what, sizeof what, "%s k=%lld rows=%lld cols=%lld avx512 code on avx2",
                 hk_type_name(type), (long long)k, (long long)rows, (long long)cols);
        float *y = run_table(&p, &hk_test_kernels_wide_on_avx2);
        check_sentinels(&p, y, what);
        double e = nmse_between(&p, y, scalar);
        ck_assert_msg(e < LIMIT_SIMD_VS_SCALAR, "%s: NMSE %g against the scalar kernel", what, e);
        free(y);
    }
#endif
    free(scalar);
    problem_free(&p);
}

/* One test per weight type, over every shape the type allows.  Against
 * the float activations the error includes their quantization to 8 bits:
 * summed over all shapes, it must stay under ggml's test-backend-ops
 * bound for a quantized matmul. */
START_TEST(test_matmul_type)
{
    hk_type type = all_types[_i];
    double limit = is_float_type(type) ? 1e-6 : 5e-4;
    double x_err[3][2] = { { 0, 0 }, { 0, 0 }, { 0, 0 } };
    int n_cases = 0;

    hk_rng_state = 1000 + (uint64_t)_i;
    for (size_t a = 0; a < sizeof ks / sizeof ks[0]; a++) {
        if (!k_fits(type, ks[a]))
            continue;
        for (size_t b = 0; b < sizeof row_counts / sizeof row_counts[0]; b++)
            for (size_t c = 0; c < sizeof col_counts / sizeof col_counts[0]; c++, n_cases++)
                check_case(type, ks[a], row_counts[b], col_counts[c], x_err);
    }
    ck_assert_int_ge(n_cases, 60);
    for (int isa = 0; isa < 3; isa++) {
        if (x_err[isa][1] == 0)
            continue;
        double e = x_err[isa][0] / x_err[isa][1];
        ck_assert_msg(e < limit, "%s %s: NMSE %g against float activations (limit %g)",
                      hk_type_name(type), hk_cpu_isa_name(isa), e, limit);
    }
}
END_TEST

/* Blocks of random bytes (every bit pattern a file can hold: q8_0's -128,
 * q6_K's scale -128, 6-bit scales and mins at 63) with sane fp16 scales:
 * SIMD and scalar must agree to rounding. */
static void
randomize_blocks(hk_type type, uint8_t *w, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        w[i] = (uint8_t)(hk_rng_uniform() * 256);

    size_t bb = hk_type_block_bytes(type);
    hk_fp16 d = hk_f32_to_fp16(0.001f), dmin = hk_f32_to_fp16(0.0005f);
    for (size_t off = 0; off < bytes; off += bb) {
        switch (type) {
        case HK_TYPE_Q8_0: case HK_TYPE_Q4_0: case HK_TYPE_Q5_0:
            memcpy(w + off, &d, 2);
            break;
        case HK_TYPE_Q4_K: case HK_TYPE_Q5_K:
            memcpy(w + off, &d, 2);
            memcpy(w + off + 2, &dmin, 2);
            break;
        case HK_TYPE_Q6_K:
            memcpy(w + off + offsetof(hk_block_q6_K, d), &d, 2);
            break;
        default:
            break;
        }
    }
}

START_TEST(test_matmul_random_blocks)
{
    hk_type type = all_types[3 + _i];       /* the quantized types */
    const int64_t k = 512, m = 19, cols = 6;
    hk_rng_state = 77 + (uint64_t)_i;

    size_t wrb = hk_type_row_bytes(type, k), xrb = hk_cpu_activation_row_bytes(type, k);
    uint8_t *w = malloc(m * wrb), *xq = malloc(cols * xrb);
    float *x = malloc(cols * k * sizeof(float));
    float *y0 = calloc(cols * m, sizeof(float)), *y1 = calloc(cols * m, sizeof(float));
    randomize_blocks(type, w, m * wrb);
    for (int64_t i = 0; i < cols * k; i++)
        x[i] = hk_rng_normal();
    for (int64_t c = 0; c < cols; c++)
        hk_cpu_quantize_activation(type, x + c * k, xq + c * xrb, k);

    ck_assert(hk_cpu_isa_set(HK_CPU_ISA_SCALAR));
    hk_cpu_matmul_rows(type, w, k, 0, m, xq, cols, y0, m);
    for (size_t i = 0; i < sizeof simd_isas / sizeof simd_isas[0]; i++) {
        if (!hk_cpu_isa_set(simd_isas[i]))
            continue;
        for (int n = 1; n <= cols; n += cols - 1) {
            hk_cpu_matmul_rows(type, w, k, 0, m, xq, n, y1, m);
            for (int64_t j = 0; j < n * m; j++)
                ck_assert_msg(fabsf(y1[j] - y0[j]) <= 1e-5f * (1 + fabsf(y0[j])),
                              "%s %s n_cols=%d: y[%lld] = %g, scalar %g", hk_type_name(type),
                              hk_cpu_isa_name(simd_isas[i]), n, (long long)j, y1[j], y0[j]);
        }
    }
    free(w);
    free(xq);
    free(x);
    free(y0);
    free(y1);
}
END_TEST

/* -------------------------------------------------------- the dispatch */

START_TEST(test_isa_selection)
{
    hk_cpu_isa best = hk_cpu_isa_detect();
    ck_assert(hk_cpu_isa_set(best));
    ck_assert_int_eq(hk_cpu_isa_get(), best);
    ck_assert(hk_cpu_isa_set(HK_CPU_ISA_SCALAR));
    ck_assert_int_eq(hk_cpu_isa_get(), HK_CPU_ISA_SCALAR);
    ck_assert_str_eq(hk_cpu_isa_name(HK_CPU_ISA_AVX2), "avx2");

    /* an ISA above the best one this CPU has is refused */
    if (best != HK_CPU_ISA_AVX512) {
        ck_assert(!hk_cpu_isa_set(HK_CPU_ISA_AVX512));
        ck_assert_int_eq(hk_cpu_isa_get(), HK_CPU_ISA_SCALAR);
        printf("SKIP: avx512 kernels not run, this CPU lacks AVX-512 VNNI (best: %s)\n",
               hk_cpu_isa_name(best));
    }
}
END_TEST

START_TEST(test_vec_dot_types)
{
    ck_assert_int_eq(hk_cpu_vec_dot_type(HK_TYPE_Q4_0), HK_TYPE_Q8_0);
    ck_assert_int_eq(hk_cpu_vec_dot_type(HK_TYPE_Q5_0), HK_TYPE_Q8_0);
    ck_assert_int_eq(hk_cpu_vec_dot_type(HK_TYPE_Q4_K), HK_TYPE_Q8_K);
    ck_assert_int_eq(hk_cpu_vec_dot_type(HK_TYPE_Q6_K), HK_TYPE_Q8_K);
    ck_assert_int_eq(hk_cpu_vec_dot_type(HK_TYPE_F16), HK_TYPE_F32);
    ck_assert_uint_eq(hk_cpu_activation_row_bytes(HK_TYPE_Q4_K, 512), 2 * 292);
    ck_assert_uint_eq(hk_cpu_activation_row_bytes(HK_TYPE_Q4_0, 64), 2 * 34);
    ck_assert_uint_eq(hk_cpu_activation_row_bytes(HK_TYPE_BF16, 10), 40);
    ck_assert(hk_cpu_matmul_supports(HK_TYPE_Q5_K));
    ck_assert(!hk_cpu_matmul_supports(HK_TYPE_Q4_1));
    ck_assert(!hk_cpu_matmul_supports(HK_TYPE_IQ2_XS));
}
END_TEST

/* An unsupported type, or a k of no whole blocks, leaves y as it was
 * instead of writing garbage. */
START_TEST(test_unsupported_type_leaves_y)
{
    uint8_t w[64] = { 0 }, xq[72] = { 0 };
    float y[2] = { SENTINEL, SENTINEL };
    hk_cpu_matmul_rows(HK_TYPE_Q4_1, w, 32, 0, 1, xq, 1, y, 1);
    hk_cpu_matmul_rows(HK_TYPE_Q4_0, w, 48, 0, 1, xq, 1, y, 1);
    ck_assert(y[0] == SENTINEL && y[1] == SENTINEL);
}
END_TEST

static Suite *
matmul_suite(void)
{
    Suite *s = suite_create("matmul");
    TCase *ops = tcase_create("ops");
    tcase_set_timeout(ops, 600);
    tcase_add_loop_test(ops, test_matmul_type, 0, N_TYPES);
    tcase_add_loop_test(ops, test_matmul_random_blocks, 0, N_TYPES - 3);
    suite_add_tcase(s, ops);

    TCase *dispatch = tcase_create("dispatch");
    tcase_add_test(dispatch, test_isa_selection);
    tcase_add_test(dispatch, test_vec_dot_types);
    tcase_add_test(dispatch, test_unsupported_type_leaves_y);
    suite_add_tcase(s, dispatch);
    return s;
}

HK_CHECK_MAIN(matmul_suite)
