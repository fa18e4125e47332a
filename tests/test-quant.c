/* Quantization formats: the bit layouts against hand-computed values, the
 * reference quantizers' error, and half-precision conversion edge cases. */
#include <math.h>
#include <string.h>

#include "hk-check.h"
#include "hk-rng.h"
#include "quant.h"

/* ------------------------------------------------------------- helpers */

static float
f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static double
round_trip_nmse(hk_type type, const float *x, int64_t n)
{
    uint8_t *q = malloc(hk_type_row_bytes(type, (uint64_t)n));
    float *y = malloc((size_t)n * sizeof(float));
    hk_quantize_row(type, x, q, n);
    hk_dequantize_row(type, q, y, n);
    double err = 0, norm = 0;
    for (int64_t i = 0; i < n; i++) {
        err += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
        norm += (double)x[i] * x[i];
    }
    free(q);
    free(y);
    return err / norm;
}

/* ------------------------------------------------------ half precision */

START_TEST(test_fp16_to_f32)
{
    ck_assert_float_eq(hk_fp16_to_f32(0x3c00), 1.0f);
    ck_assert_float_eq(hk_fp16_to_f32(0xc000), -2.0f);
    ck_assert_float_eq(hk_fp16_to_f32(0x7bff), 65504.0f);
    ck_assert_float_eq(hk_fp16_to_f32(0x0400), 0x1p-14f);     /* smallest normal */
    ck_assert_float_eq(hk_fp16_to_f32(0x0001), 0x1p-24f);     /* smallest subnormal */
    ck_assert_float_eq(hk_fp16_to_f32(0x03ff), 1023 * 0x1p-24f);
    ck_assert(signbit(hk_fp16_to_f32(0x8000)) && hk_fp16_to_f32(0x8000) == 0);
    ck_assert(isinf(hk_fp16_to_f32(0x7c00)) && hk_fp16_to_f32(0x7c00) > 0);
    ck_assert(isinf(hk_fp16_to_f32(0xfc00)) && hk_fp16_to_f32(0xfc00) < 0);
    ck_assert(isnan(hk_fp16_to_f32(0x7e00)));
    ck_assert(isnan(hk_fp16_to_f32(0x7c01)));                 /* signalling NaN */
}
END_TEST

START_TEST(test_f32_to_fp16)
{
    ck_assert_uint_eq(hk_f32_to_fp16(1.0f), 0x3c00);
    ck_assert_uint_eq(hk_f32_to_fp16(-0.0f), 0x8000);
    ck_assert_uint_eq(hk_f32_to_fp16(65504.0f), 0x7bff);
    ck_assert_uint_eq(hk_f32_to_fp16(65519.0f), 0x7bff);      /* below the midpoint */
    ck_assert_uint_eq(hk_f32_to_fp16(65520.0f), 0x7c00);      /* the midpoint: to even, inf */
    ck_assert_uint_eq(hk_f32_to_fp16(1e10f), 0x7c00);
    ck_assert_uint_eq(hk_f32_to_fp16(-INFINITY), 0xfc00);
    /* ties to even among normals: 1 + 2^-11 lies between 1 and 1 + 2^-10 */
    ck_assert_uint_eq(hk_f32_to_fp16(1.0f + 0x1p-11f), 0x3c00);
    ck_assert_uint_eq(hk_f32_to_fp16(1.0f + 3 * 0x1p-11f), 0x3c02);
    ck_assert_uint_eq(hk_f32_to_fp16(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);
    /* subnormals, in steps of 2^-24 */
    ck_assert_uint_eq(hk_f32_to_fp16(0x1p-24f), 0x0001);
    ck_assert_uint_eq(hk_f32_to_fp16(0x1p-25f), 0x0000);      /* tie to even: 0 */
    ck_assert_uint_eq(hk_f32_to_fp16(1.5f * 0x1p-25f), 0x0001);
    ck_assert_uint_eq(hk_f32_to_fp16(3 * 0x1p-25f), 0x0002);  /* 1.5 steps: to even, 2 */
    ck_assert_uint_eq(hk_f32_to_fp16(-5 * 0x1p-24f), 0x8005);
    ck_assert_uint_eq(hk_f32_to_fp16(1e-30f), 0x0000);
    /* the largest subnormal rounding up into the smallest normal */
    ck_assert_uint_eq(hk_f32_to_fp16(0x1p-14f - 0x1p-25f), 0x0400);
    /* NaN stays NaN, also one whose payload sits in the low bits only */
    ck_assert(isnan(hk_fp16_to_f32(hk_f32_to_fp16(NAN))));
    ck_assert(isnan(hk_fp16_to_f32(hk_f32_to_fp16(f32_from_bits(0x7f800001)))));
    /* every half survives the round trip */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
            continue;
        ck_assert_uint_eq(hk_f32_to_fp16(hk_fp16_to_f32((hk_fp16)h)), h);
    }
}
END_TEST

START_TEST(test_bf16)
{
    ck_assert_float_eq(hk_bf16_to_f32(0x3f80), 1.0f);
    ck_assert_float_eq(hk_bf16_to_f32(0xc040), -3.0f);
    ck_assert_uint_eq(hk_f32_to_bf16(1.0f), 0x3f80);
    ck_assert_uint_eq(hk_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);        /* tie to even */
    ck_assert_uint_eq(hk_f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);    /* tie to even */
    ck_assert_uint_eq(hk_f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);
    ck_assert_uint_eq(hk_f32_to_bf16(INFINITY), 0x7f80);
    ck_assert_uint_eq(hk_f32_to_bf16(3.4028235e38f), 0x7f80);         /* rounds past the max */
    ck_assert_uint_eq(hk_f32_to_bf16(f32_from_bits(0x00010000)), 0x0001);  /* subnormal */
    ck_assert(isnan(hk_bf16_to_f32(hk_f32_to_bf16(NAN))));
    /* a NaN whose payload is in the dropped half must not become inf */
    ck_assert(isnan(hk_bf16_to_f32(hk_f32_to_bf16(f32_from_bits(0x7f800001)))));
}
END_TEST

/* ------------------------------------------------ hand-built blocks */

START_TEST(test_q4_0_layout)
{
    hk_block_q4_0 b = { .d = 0x3800 };      /* 0.5 */
    b.qs[0] = 0xf1;                         /* weight 0: 1, weight 16: 15 */
    b.qs[3] = 0x08;
    float y[32];
    hk_dequantize_row(HK_TYPE_Q4_0, &b, y, 32);
    ck_assert_float_eq(y[0], -3.5f);
    ck_assert_float_eq(y[16], 3.5f);
    ck_assert_float_eq(y[3], 0.0f);
    ck_assert_float_eq(y[19], -4.0f);
}
END_TEST

START_TEST(test_q5_0_layout)
{
    hk_block_q5_0 b = { .d = 0x3c00 };      /* 1.0 */
    b.qs[2] = 0x3f;                         /* weight 2: 15, weight 18: 3 */
    b.qh[0] = 0x04;                         /* bit 2: weight 2 gets 16 */
    b.qh[2] = 0x00;                         /* bit 18 clear */
    b.qh[3] = 0x80;                         /* bit 31: weight 31 */
    float y[32];
    hk_dequantize_row(HK_TYPE_Q5_0, &b, y, 32);
    ck_assert_float_eq(y[2], 15.0f);        /* 31 - 16 */
    ck_assert_float_eq(y[18], -13.0f);      /* 3 - 16 */
    ck_assert_float_eq(y[31], 0.0f);        /* 0 + 16 - 16 */
    ck_assert_float_eq(y[0], -16.0f);
}
END_TEST

START_TEST(test_q8_0_layout)
{
    hk_block_q8_0 b = { .d = 0x3400 };      /* 0.25 */
    b.qs[5] = -128;
    b.qs[31] = 127;
    float y[32];
    hk_dequantize_row(HK_TYPE_Q8_0, &b, y, 32);
    ck_assert_float_eq(y[5], -32.0f);
    ck_assert_float_eq(y[31], 31.75f);
}
END_TEST

/* scales and mins packed by hand: sub-block 0 (1, 2), 1 (0, 0), 5 (33, 40) */
START_TEST(test_q4_K_layout)
{
    hk_block_q4_K b = { .d = 0x3c00, .dmin = 0x3800 };   /* 1.0, 0.5 */
    b.scales[0] = 1;                        /* scale 0 */
    b.scales[4] = 2;                        /* min 0 */
    b.scales[1] = 2 << 6;                   /* scale 1 = 0, top bits of scale 5 = 2 */
    b.scales[5] = 2 << 6;                   /* min 1 = 0, top bits of min 5 = 2 */
    b.scales[9] = 0x81;                     /* low bits: scale 5 = 1, min 5 = 8 */
    b.qs[0] = 0x3a;                         /* sub-block 0 weight 0: 10; sub-block 1 weight 0: 3 */
    b.qs[64 + 7] = 0x70;                    /* sub-block 5 weight 7: 7 */

    uint8_t sc, m;
    hk_q4_K_scale_min(b.scales, 5, &sc, &m);
    ck_assert_uint_eq(sc, 33);
    ck_assert_uint_eq(m, 40);

    float y[256];
    hk_dequantize_row(HK_TYPE_Q4_K, &b, y, 256);
    ck_assert_float_eq(y[0], 9.0f);         /* 1 * 1 * 10 - 0.5 * 2 */
    ck_assert_float_eq(y[1], -1.0f);        /* level 0 */
    ck_assert_float_eq(y[32], 0.0f);        /* scale 0, min 0 */
    ck_assert_float_eq(y[5 * 32 + 7], 211.0f);  /* 33 * 7 - 0.5 * 40 */
    ck_assert_float_eq(y[5 * 32 + 8], -20.0f);
}
END_TEST

START_TEST(test_q5_K_layout)
{
    hk_block_q5_K b = { .d = 0x3c00, .dmin = 0x0000 };
    for (int j = 0; j < 4; j++)
        b.scales[j] = (uint8_t)(j + 1);     /* scales 0..3 = 1..4 */
    b.qs[32 + 4] = 0x90;                    /* sub-block 3 weight 4: low 4 bits 9 */
    b.qh[4] = 1 << 3;                       /* … and bit 4 from qh bit 3 */
    b.qh[5] = 1 << 2;                       /* sub-block 2 weight 5: just 16 */
    float y[256];
    hk_dequantize_row(HK_TYPE_Q5_K, &b, y, 256);
    ck_assert_float_eq(y[3 * 32 + 4], 4 * 25.0f);
    ck_assert_float_eq(y[2 * 32 + 5], 3 * 16.0f);
    ck_assert_float_eq(y[2 * 32 + 4], 0.0f);
}
END_TEST

START_TEST(test_q6_K_layout)
{
    hk_block_q6_K b;
    memset(&b, 0, sizeof b);
    b.d = 0x3400;                           /* 0.25 */
    b.scales[0] = -3;
    b.scales[12] = -128;
    b.ql[0] = 0x05;                         /* weight 0: low 4 bits 5 */
    b.qh[0] = 0x02;                         /* … high 2 bits 2: level 37 */
    b.ql[64 + 3] = 0xf0;                    /* weight 128 + 67: high nibble 15 */
    b.qh[32 + 3] = 0x30;                    /* … bits 4-5 of qh: 3, level 63 */
    float y[256];
    hk_dequantize_row(HK_TYPE_Q6_K, &b, y, 256);
    ck_assert_float_eq(y[0], -3.75f);       /* 0.25 * -3 * (37 - 32) */
    ck_assert_float_eq(y[1], 24.0f);        /* 0.25 * -3 * (0 - 32) */
    ck_assert_float_eq(y[195], -992.0f);    /* 0.25 * -128 * (63 - 32) */
}
END_TEST

START_TEST(test_q8_K_bsums)
{
    float x[256];
    hk_block_q8_K b;
    hk_rng_state = 5;
    for (int i = 0; i < 256; i++)
        x[i] = hk_rng_normal();
    hk_quantize_row(HK_TYPE_Q8_K, x, &b, 256);
    int amax = 0;
    for (int g = 0; g < 16; g++) {
        int sum = 0;
        for (int l = 0; l < 16; l++) {
            sum += b.qs[16 * g + l];
            amax = abs(b.qs[16 * g + l]) > amax ? abs(b.qs[16 * g + l]) : amax;
        }
        ck_assert_int_eq(b.bsums[g], sum);
    }
    /* the largest magnitude uses the full range, symmetric */
    ck_assert_int_eq(amax, 127);
}
END_TEST

/* ---------------------------------------------------- quantizer error */

typedef struct nmse_bound {
    hk_type type;
    double  max_nmse;       /* for normally distributed weights */
} nmse_bound;

/* Measured on 64k normal samples (q8_0 2.8e-5, q8_K 4.7e-5, q6_K 3.1e-4,
 * q5_0 1.8e-3, q5_K 1.3e-3, q4_0 7.3e-3, q4_K 5.1e-3), with headroom. */
static const nmse_bound bounds[] = {
    { HK_TYPE_F16,  1e-7 },
    { HK_TYPE_BF16, 5e-6 },
    { HK_TYPE_Q8_0, 4e-5 },
    { HK_TYPE_Q8_K, 7e-5 },
    { HK_TYPE_Q6_K, 4.5e-4 },
    { HK_TYPE_Q5_0, 2.5e-3 },
    { HK_TYPE_Q5_K, 1.8e-3 },
    { HK_TYPE_Q4_0, 1e-2 },
    { HK_TYPE_Q4_K, 7e-3 },
};

START_TEST(test_round_trip_error)
{
    const nmse_bound *bound = &bounds[_i];
    const int64_t n = 65536;
    float *x = malloc(n * sizeof(float));
    hk_rng_state = 42;
    for (int64_t i = 0; i < n; i++)
        x[i] = hk_rng_normal() * 0.03f;

    double e = round_trip_nmse(bound->type, x, n);
    ck_assert_msg(e < bound->max_nmse, "%s: NMSE %g over %g", hk_type_name(bound->type),
                  e, bound->max_nmse);
    free(x);
}
END_TEST

/* More bits, less error; and the k-quants' scale search beats the plain
 * 32-blocks of the same width. */
START_TEST(test_error_ordering)
{
    const int64_t n = 16384;
    float *x = malloc(n * sizeof(float));
    hk_rng_state = 9;
    for (int64_t i = 0; i < n; i++)
        x[i] = hk_rng_normal();

    double q4_0 = round_trip_nmse(HK_TYPE_Q4_0, x, n), q4_K = round_trip_nmse(HK_TYPE_Q4_K, x, n);
    double q5_0 = round_trip_nmse(HK_TYPE_Q5_0, x, n), q5_K = round_trip_nmse(HK_TYPE_Q5_K, x, n);
    double q6_K = round_trip_nmse(HK_TYPE_Q6_K, x, n), q8_0 = round_trip_nmse(HK_TYPE_Q8_0, x, n);
    ck_assert(q4_K < q4_0);
    ck_assert(q5_K < q5_0);
    ck_assert(q5_K < q4_K && q6_K < q5_K && q8_0 < q6_K);
    free(x);
}
END_TEST

/* Zeros stay zeros (no NaN from a zero scale); data offset from zero is
 * what the k-quants' mins are for; an outlier keeps its value, since the
 * extreme of a block sets its scale. */
START_TEST(test_edge_data)
{
    static const hk_type types[] = {
        HK_TYPE_Q8_0, HK_TYPE_Q4_0, HK_TYPE_Q5_0, HK_TYPE_Q4_K, HK_TYPE_Q5_K, HK_TYPE_Q6_K, HK_TYPE_Q8_K,
    };
    float x[512], y[512];
    uint8_t q[2 * 292];

    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const char *name = hk_type_name(types[t]);
        memset(x, 0, sizeof x);
        hk_quantize_row(types[t], x, q, 512);
        hk_dequantize_row(types[t], q, y, 512);
        for (int i = 0; i < 512; i++)
            ck_assert_msg(y[i] == 0, "%s: zeros came back as %g", name, y[i]);

        for (int i = 0; i < 512; i++)
            x[i] = -1.0f - 0.01f * (float)(i % 7);
        double e = round_trip_nmse(types[t], x, 512);
        ck_assert_msg(e < 2e-3, "%s: offset data NMSE %g", name, e);

        hk_rng_state = 3;
        for (int i = 0; i < 512; i++)
            x[i] = 0.01f * hk_rng_normal();
        x[100] = 5.0f;
        hk_quantize_row(types[t], x, q, 512);
        hk_dequantize_row(types[t], q, y, 512);
        ck_assert_msg(fabsf(y[100] - 5.0f) < 0.05f * 5.0f, "%s: outlier 5 came back as %g", name, y[100]);
    }

    for (int i = 0; i < 512; i++)
        x[i] = -1.0f - 0.01f * (float)(i % 7);
    ck_assert(round_trip_nmse(HK_TYPE_Q4_K, x, 512) < round_trip_nmse(HK_TYPE_Q4_0, x, 512) / 10);
    ck_assert(round_trip_nmse(HK_TYPE_Q5_K, x, 512) < round_trip_nmse(HK_TYPE_Q5_0, x, 512) / 10);
}
END_TEST

START_TEST(test_capabilities)
{
    ck_assert(hk_can_quantize(HK_TYPE_Q4_K));
    ck_assert(hk_can_dequantize(HK_TYPE_Q8_K));
    ck_assert(!hk_can_quantize(HK_TYPE_Q4_1));
    ck_assert(!hk_can_dequantize(HK_TYPE_IQ4_NL));
}
END_TEST

static Suite *
quant_suite(void)
{
    Suite *s = suite_create("quant");
    TCase *half = tcase_create("half");
    tcase_add_test(half, test_fp16_to_f32);
    tcase_add_test(half, test_f32_to_fp16);
    tcase_add_test(half, test_bf16);
    suite_add_tcase(s, half);

    TCase *layout = tcase_create("layout");
    tcase_add_test(layout, test_q4_0_layout);
    tcase_add_test(layout, test_q5_0_layout);
    tcase_add_test(layout, test_q8_0_layout);
    tcase_add_test(layout, test_q4_K_layout);
    tcase_add_test(layout, test_q5_K_layout);
    tcase_add_test(layout, test_q6_K_layout);
    tcase_add_test(layout, test_q8_K_bsums);
    suite_add_tcase(s, layout);

    TCase *error = tcase_create("error");
    tcase_set_timeout(error, 600);
    tcase_add_loop_test(error, test_round_trip_error, 0, (int)(sizeof bounds / sizeof bounds[0]));
    tcase_add_test(error, test_error_ordering);
    tcase_add_test(error, test_edge_data);
    tcase_add_test(error, test_capabilities);
    suite_add_tcase(s, error);
    return s;
}

HK_CHECK_MAIN(quant_suite)
