#include "quant.h"

#include <math.h>
#include <string.h>

/* -------------------------------------------------------- half precision */

static uint32_t
f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float
f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float
hk_fp16_to_f32(hk_fp16 h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp  = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;

    if (exp == 0) {
        /* zero or subnormal: mant units of 2^-24, exact in a float */
        float v = (float)mant * 0x1p-24f;
        return sign ? -v : v;
    }
    if (exp == 0x1f)
        return f32_from_bits(sign | 0x7f800000 | mant << 13);
    return f32_from_bits(sign | (exp + 112) << 23 | mant << 13);
}

hk_fp16
hk_f32_to_fp16(float f)
{
    uint32_t x = f32_bits(f);
    uint16_t sign = (x >> 16) & 0x8000;
    uint32_t ax = x & 0x7fffffff;

    if (ax > 0x7f800000)                /* NaN: keep it quiet and signed */
        return sign | 0x7e00 | ((ax >> 13) & 0x3ff);
    if (ax >= 0x477ff000)               /* 65520 and up rounds past 65504 */
        return sign | 0x7c00;
    if (ax < 0x38800000) {
        /* Below the smallest normal half: adding 0.5 makes the float's
         * ulp 2^-24, the half's subnormal step, so the FPU rounds to
         * nearest even for us. */
        float sub = f32_from_bits(ax) + 0.5f;
        return sign | (uint16_t)(f32_bits(sub) - 0x3f000000);
    }
    ax += 0xfff + ((ax >> 13) & 1);
    return sign | (uint16_t)((ax - 0x38000000) >> 13);
}

float
hk_bf16_to_f32(hk_bf16 h)
{
    return f32_from_bits((uint32_t)h << 16);
}

hk_bf16
hk_f32_to_bf16(float f)
{
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffff) > 0x7f800000)
        return (hk_bf16)((x >> 16) | 0x40);
    x += 0x7fff + ((x >> 16) & 1);
    return (hk_bf16)(x >> 16);
}

/* ------------------------------------------------------------- helpers */

/* To nearest, ties to even, as ggml's reference quantizers round; by
 * adding 1.5 * 2^23, which leaves the integer in the low mantissa bits,
 * since lrintf is a library call and this is the activations' hot loop.
 * Exact for |f| < 2^22; beyond, every caller clamps to far less. */
static int
nearest_int(float f)
{
    f = f > 4194303.0f ? 4194303.0f : f < -4194303.0f ? -4194303.0f : f;
    return (int)(f32_bits(f + 12582912.0f) & 0x007fffff) - 0x00400000;
}

static int
clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The element of largest magnitude, with its sign. */
static float
signed_absmax(const float *x, int n)
{
    float amax = 0, max = 0;
    for (int i = 0; i < n; i++) {
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    }
    return max;
}

void
hk_q4_K_scale_min(const uint8_t q[HK_K_SCALE_BYTES], int j,
                  uint8_t *ret_scale, uint8_t *ret_min)
{
    /* Bytes 0..7 hold the low 6 bits of scales 0..3 and mins 0..3 with
     * the top 2 bits of scales/mins 4..7; bytes 8..11 hold their low 4. */
    if (j < 4) {
        *ret_scale = q[j] & 63;
        *ret_min = q[j + 4] & 63;
    } else {
        *ret_scale = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
        *ret_min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

static void
q4_K_put_scale_min(uint8_t q[HK_K_SCALE_BYTES], int j, int scale, int min)
{
    if (j < 4) {
        q[j] = (uint8_t)scale;
        q[j + 4] = (uint8_t)min;
    } else {
        q[j + 4] = (uint8_t)((scale & 0xf) | ((min & 0xf) << 4));
        q[j - 4] |= (uint8_t)((scale >> 4) << 6);
        q[j] |= (uint8_t)((min >> 4) << 6);
    }
}

/* ------------------------------------------------------ dequantization */

static void
dequantize_q4_0(const hk_block_q4_0 *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, y += HK_QK32) {
        float d = hk_fp16_to_f32(b[i].d);
        for (int j = 0; j < 16; j++) {
            y[j]      = d * ((b[i].qs[j] & 0xf) - 8);
            y[j + 16] = d * ((b[i].qs[j] >> 4) - 8);
        }
    }
}

static void
dequantize_q5_0(const hk_block_q5_0 *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, y += HK_QK32) {
        float d = hk_fp16_to_f32(b[i].d);
        uint32_t qh;
        memcpy(&qh, b[i].qh, sizeof qh);
        for (int j = 0; j < 16; j++) {
            int lo = (b[i].qs[j] & 0xf) | ((qh >> j) & 1) << 4;
            int hi = (b[i].qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4;
            y[j]      = d * (lo - 16);
            y[j + 16] = d * (hi - 16);
        }
    }
}

static void
dequantize_q8_0(const hk_block_q8_0 *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, y += HK_QK32) {
        float d = hk_fp16_to_f32(b[i].d);
        for (int j = 0; j < HK_QK32; j++)
            y[j] = d * b[i].qs[j];
    }
}

/* One q4_K or q5_K block: 8 sub-blocks of 32 with 6-bit scales and
 * mins; qh holds q5_K's fifth bits and is NULL for q4_K. */
static void
dequantize_q45_K_block(hk_fp16 d16, hk_fp16 dmin16, const uint8_t *scales, const uint8_t *qs,
                       const uint8_t *qh, float *y)
{
    float d = hk_fp16_to_f32(d16);
    float dmin = hk_fp16_to_f32(dmin16);
    for (int j = 0; j < 8; j++, y += 32) {
        uint8_t sc, m;
        hk_q4_K_scale_min(scales, j, &sc, &m);
        const uint8_t *q = qs + 32 * (j / 2);
        int shift = 4 * (j % 2);
        for (int l = 0; l < 32; l++) {
            int v = (q[l] >> shift) & 0xf;
            if (qh)
                v |= ((qh[l] >> j) & 1) << 4;
            y[l] = d * sc * v - dmin * m;
        }
    }
}

static void
dequantize_q4_K(const hk_block_q4_K *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, y += HK_QK_K)
        dequantize_q45_K_block(b[i].d, b[i].dmin, b[i].scales, b[i].qs, NULL, y);
}

static void
dequantize_q5_K(const hk_block_q5_K *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, y += HK_QK_K)
        dequantize_q45_K_block(b[i].d, b[i].dmin, b[i].scales, b[i].qs, b[i].qh, y);
}

/* Weight l (0..127) of a q6_K half: its low nibble sits in ql[l % 64],
 * low or high by l / 64; its two high bits in qh[l % 32], pair l / 32. */
static int
q6_K_value(const uint8_t *ql, const uint8_t *qh, int l)
{
    int lo = (ql[l % 64] >> (4 * (l / 64))) & 0xf;
    int hi = (qh[l % 32] >> (2 * (l / 32))) & 3;
    return (lo | hi << 4) - 32;
}

static void
dequantize_q6_K(const hk_block_q6_K *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        float d = hk_fp16_to_f32(b[i].d);
        for (int half = 0; half < 2; half++, y += 128) {
            const uint8_t *ql = b[i].ql + 64 * half;
            const uint8_t *qh = b[i].qh + 32 * half;
            const int8_t *sc = b[i].scales + 8 * half;
            for (int l = 0; l < 128; l++)
                y[l] = d * sc[l / 16] * q6_K_value(ql, qh, l);
        }
    }
}

static void
dequantize_q8_K(const hk_block_q8_K *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, y += HK_QK_K)
        for (int j = 0; j < HK_QK_K; j++)
            y[j] = b[i].d * b[i].qs[j];
}

bool
hk_can_dequantize(hk_type type)
{
    switch (type) {
    case HK_TYPE_F32: case HK_TYPE_F16: case HK_TYPE_BF16:
    case HK_TYPE_Q8_0: case HK_TYPE_Q4_0: case HK_TYPE_Q5_0:
    case HK_TYPE_Q4_K: case HK_TYPE_Q5_K: case HK_TYPE_Q6_K: case HK_TYPE_Q8_K:
        return true;
    default:
        return false;
    }
}

void
hk_dequantize_row(hk_type type, const void *src, float *dst, int64_t n)
{
    int64_t nb = n / (int64_t)hk_type_block_elems(type);

    switch (type) {
    case HK_TYPE_F32:
        memcpy(dst, src, (size_t)n * sizeof(float));
        break;
    case HK_TYPE_F16:
        for (int64_t i = 0; i < n; i++)
            dst[i] = hk_fp16_to_f32(((const hk_fp16 *)src)[i]);
        break;
    case HK_TYPE_BF16:
        for (int64_t i = 0; i < n; i++)
            dst[i] = hk_bf16_to_f32(((const hk_bf16 *)src)[i]);
        break;
    case HK_TYPE_Q4_0: dequantize_q4_0(src, dst, nb); break;
    case HK_TYPE_Q5_0: dequantize_q5_0(src, dst, nb); break;
    case HK_TYPE_Q8_0: dequantize_q8_0(src, dst, nb); break;
    case HK_TYPE_Q4_K: dequantize_q4_K(src, dst, nb); break;
    case HK_TYPE_Q5_K: dequantize_q5_K(src, dst, nb); break;
    case HK_TYPE_Q6_K: dequantize_q6_K(src, dst, nb); break;
    case HK_TYPE_Q8_K: dequantize_q8_K(src, dst, nb); break;
    default:
        break;
    }
}

/* -------------------------------------------- 32-weight block quantizers */

static void
quantize_q4_0(const float *x, hk_block_q4_0 *b, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += HK_QK32) {
        /* The extreme maps to -8, the end with the extra level. */
        float d = signed_absmax(x, HK_QK32) / -8;
        float id = d != 0 ? 1 / d : 0;
        b[i].d = hk_f32_to_fp16(d);
        for (int j = 0; j < 16; j++) {
            int lo = clamp_int((int)(x[j] * id + 8.5f), 0, 15);
            int hi = clamp_int((int)(x[j + 16] * id + 8.5f), 0, 15);
            b[i].qs[j] = (uint8_t)(lo | hi << 4);
        }
    }
}

static void
quantize_q5_0(const float *x, hk_block_q5_0 *b, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += HK_QK32) {
        float d = signed_absmax(x, HK_QK32) / -16;
        float id = d != 0 ? 1 / d : 0;
        uint32_t qh = 0;
        b[i].d = hk_f32_to_fp16(d);
        for (int j = 0; j < 16; j++) {
            int lo = clamp_int((int)(x[j] * id + 16.5f), 0, 31);
            int hi = clamp_int((int)(x[j + 16] * id + 16.5f), 0, 31);
            b[i].qs[j] = (uint8_t)((lo & 0xf) | (hi & 0xf) << 4);
            qh |= (uint32_t)(lo >> 4) << j | (uint32_t)(hi >> 4) << (j + 16);
        }
        memcpy(b[i].qh, &qh, sizeof qh);
    }
}

static void
quantize_q8_0(const float *x, hk_block_q8_0 *b, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += HK_QK32) {
        float d = fabsf(signed_absmax(x, HK_QK32)) / 127;
        float id = d != 0 ? 1 / d : 0;
        b[i].d = hk_f32_to_fp16(d);
        for (int j = 0; j < HK_QK32; j++)
            b[i].qs[j] = (int8_t)nearest_int(x[j] * id);
    }
}

static void
quantize_q8_K(const float *x, hk_block_q8_K *b, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += HK_QK_K) {
        float amax = fabsf(signed_absmax(x, HK_QK_K));
        float id = amax != 0 ? 127 / amax : 0;
        b[i].d = amax != 0 ? amax / 127 : 0;
        for (int j = 0; j < HK_QK_K; j++)
            b[i].qs[j] = (int8_t)clamp_int(nearest_int(x[j] * id), -127, 127);
        for (int g = 0; g < HK_QK_K / 16; g++) {
            int sum = 0;
            for (int l = 0; l < 16; l++)
                sum += b[i].qs[16 * g + l];
            b[i].bsums[g] = (int16_t)sum;
        }
    }
}

/* ------------------------------------------------- k-quant scale search */

/* Levels L[i] in 0..nmax and (scale, min) with x ~ scale * L - min that
 * minimise the weighted squared error: start from the plain min/max
 * mapping, then try nstep + 1 stretched mappings, each refined by a
 * least-squares fit of scale and min.  Returns the scale; *ret_min >= 0. */
static float
search_scale_min(const float *x, const float *w, int n, int nmax,
                 float rmin, float rdelta, int nstep,
                 uint8_t *L, float *ret_min)
{
    float min = x[0], max = x[0], sum_w = 0, sum_x = 0;
    for (int i = 0; i < n; i++) {
        min = x[i] < min ? x[i] : min;
        max = x[i] > max ? x[i] : max;
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0)
        min = 0;
    if (max == min) {
        memset(L, 0, (size_t)n);
        *ret_min = -min;
        return 0;
    }

    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_err = 0;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax);
        float diff = scale * L[i] + min - x[i];
        best_err += w[i] * diff * diff;
    }

    uint8_t trial[32];
    for (int step = 0; step <= nstep; step++) {
        iscale = (rmin + rdelta * step + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax);
            trial[i] = (uint8_t)l;
            sum_l += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        float det = sum_w * sum_l2 - sum_l * sum_l;
        if (det <= 0)
            continue;
        float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
        float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
        if (this_min > 0) {
            this_min = 0;
            this_scale = sum_xl / sum_l2;
        }
        float err = 0;
        for (int i = 0; i < n; i++) {
            float diff = this_scale * trial[i] + this_min - x[i];
            err += w[i] * diff * diff;
        }
        if (err < best_err) {
            memcpy(L, trial, (size_t)n);
            best_err = err;
            scale = this_scale;
            min = this_min;
        }
    }
    *ret_min = -min;
    return scale;
}

/* Symmetric levels L[i] - nmax in -nmax..nmax-1 and a signed scale, the
 * error weighted by x^2 (the large weights matter most): the scale mapping
 * the extreme to -nmax, then 18 more stretched by -0.9..0.9 levels. */
static float
search_scale_symmetric(const float *x, int n, int nmax, uint8_t *L)
{
    float max = signed_absmax(x, n);
    if (fabsf(max) < 1e-15f) {
        memset(L, 0, (size_t)n);
        return 0;
    }
    float best_scale = 0, best = 0;
    bool found = false;
    for (int step = 0; step <= 18; step++) {
        /* step 0 is the plain mapping, then -9..9 tenths of a level */
        float stretch = step == 0 ? 0 : 0.1f * (step <= 9 ? step - 10 : step - 9);
        float iscale = -(nmax + stretch) / max;
        float sum_lx = 0, sum_l2 = 0;
        for (int i = 0; i < n; i++) {
            int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sum_lx += w * x[i] * l;
            sum_l2 += w * l * l;
        }
        if (sum_l2 <= 0 || (found && sum_lx * sum_lx <= best * sum_l2))
            continue;
        for (int i = 0; i < n; i++)
            L[i] = (uint8_t)(nmax + clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1));
        best_scale = sum_lx / sum_l2;
        best = best_scale * sum_lx;
        found = true;
    }
    return best_scale;
}

/* ---------------------------------------------------- k-quant quantizers */

/* Sub-block scales and mins for q4_K and q5_K: searched in float, then
 * themselves quantized to 6 bits against the block's d and dmin.  Fills
 * L[256] with the levels requantized against the final scales. */
static void
quantize_scales_mins(const float *x, int nmax, float rmin, int nstep,
                     hk_fp16 *ret_d, hk_fp16 *ret_dmin,
                     uint8_t scales[HK_K_SCALE_BYTES], uint8_t L[HK_QK_K])
{
    float sub_scale[8], sub_min[8], w[32];
    float max_scale = 0, max_min = 0;

    for (int j = 0; j < 8; j++) {
        const float *xs = x + 32 * j;
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++)
            sum_x2 += xs[l] * xs[l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++)
            w[l] = av_x + fabsf(xs[l]);
        sub_scale[j] = search_scale_min(xs, w, 32, nmax, rmin, 0.1f, nstep,
                                        L + 32 * j, &sub_min[j]);
        max_scale = sub_scale[j] > max_scale ? sub_scale[j] : max_scale;
        max_min = sub_min[j] > max_min ? sub_min[j] : max_min;
    }

    float inv_scale = max_scale > 0 ? 63 / max_scale : 0;
    float inv_min = max_min > 0 ? 63 / max_min : 0;
    memset(scales, 0, HK_K_SCALE_BYTES);
    for (int j = 0; j < 8; j++)
        q4_K_put_scale_min(scales, j,
                           clamp_int(nearest_int(inv_scale * sub_scale[j]), 0, 63),
                           clamp_int(nearest_int(inv_min * sub_min[j]), 0, 63));
    *ret_d = hk_f32_to_fp16(max_scale / 63);
    *ret_dmin = hk_f32_to_fp16(max_min / 63);

    float d = hk_fp16_to_f32(*ret_d), dmin = hk_fp16_to_f32(*ret_dmin);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        hk_q4_K_scale_min(scales, j, &sc, &m);
        float ds = d * sc;
        if (ds == 0)
            continue;
        for (int l = 0; l < 32; l++)
            L[32 * j + l] = (uint8_t)clamp_int(nearest_int((x[32 * j + l] + dmin * m) / ds), 0, nmax);
    }
}

static void
quantize_q4_K(const float *x, hk_block_q4_K *b, int64_t nb)
{
    uint8_t L[HK_QK_K];
    for (int64_t i = 0; i < nb; i++, x += HK_QK_K) {
        quantize_scales_mins(x, 15, -1.0f, 20, &b[i].d, &b[i].dmin, b[i].scales, L);
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++)
                b[i].qs[32 * j + l] = (uint8_t)(L[64 * j + l] | L[64 * j + 32 + l] << 4);
    }
}

static void
quantize_q5_K(const float *x, hk_block_q5_K *b, int64_t nb)
{
    uint8_t L[HK_QK_K];
    for (int64_t i = 0; i < nb; i++, x += HK_QK_K) {
        quantize_scales_mins(x, 31, -0.5f, 15, &b[i].d, &b[i].dmin, b[i].scales, L);
        memset(b[i].qh, 0, sizeof b[i].qh);
        for (int j = 0; j < 4; j++) {
            for (int l = 0; l < 32; l++) {
                int lo = L[64 * j + l], hi = L[64 * j + 32 + l];
                b[i].qs[32 * j + l] = (uint8_t)((lo & 0xf) | (hi & 0xf) << 4);
                b[i].qh[l] |= (uint8_t)((lo >> 4) << (2 * j) | (hi >> 4) << (2 * j + 1));
            }
        }
    }
}

static void
quantize_q6_K(const float *x, hk_block_q6_K *b, int64_t nb)
{
    uint8_t L[HK_QK_K];
    float sub_scale[16];

    for (int64_t i = 0; i < nb; i++, x += HK_QK_K) {
        float max_scale = 0;
        for (int j = 0; j < 16; j++) {
            sub_scale[j] = search_scale_symmetric(x + 16 * j, 16, 32, L + 16 * j);
            if (fabsf(sub_scale[j]) > fabsf(max_scale))
                max_scale = sub_scale[j];
        }
        memset(&b[i], 0, sizeof b[i]);
        if (max_scale == 0) {
            /* all zero: every level is the offset */
            memset(L, 32, sizeof L);
        } else {
            float iscale = -128 / max_scale;
            b[i].d = hk_f32_to_fp16(1 / iscale);
            for (int j = 0; j < 16; j++)
                b[i].scales[j] = (int8_t)clamp_int(nearest_int(iscale * sub_scale[j]), -128, 127);
            float d = hk_fp16_to_f32(b[i].d);
            for (int j = 0; j < 16; j++) {
                float ds = d * b[i].scales[j];
                for (int l = 0; l < 16; l++)
                    L[16 * j + l] = ds == 0 ? 32
                        : (uint8_t)(32 + clamp_int(nearest_int(x[16 * j + l] / ds), -32, 31));
            }
        }
        for (int half = 0; half < 2; half++) {
            uint8_t *ql = b[i].ql + 64 * half, *qh = b[i].qh + 32 * half;
            const uint8_t *Lh = L + 128 * half;
            for (int l = 0; l < 128; l++) {
                ql[l % 64] |= (uint8_t)((Lh[l] & 0xf) << (4 * (l / 64)));
                qh[l % 32] |= (uint8_t)((Lh[l] >> 4) << (2 * (l / 32)));
            }
        }
    }
}

bool
hk_can_quantize(hk_type type)
{
    return hk_can_dequantize(type);
}

void
hk_quantize_row(hk_type type, const float *src, void *dst, int64_t n)
{
    int64_t nb = n / (int64_t)hk_type_block_elems(type);

    switch (type) {
    case HK_TYPE_F32:
        memcpy(dst, src, (size_t)n * sizeof(float));
        break;
    case HK_TYPE_F16:
        for (int64_t i = 0; i < n; i++)
            ((hk_fp16 *)dst)[i] = hk_f32_to_fp16(src[i]);
        break;
    case HK_TYPE_BF16:
        for (int64_t i = 0; i < n; i++)
            ((hk_bf16 *)dst)[i] = hk_f32_to_bf16(src[i]);
        break;
    case HK_TYPE_Q4_0: quantize_q4_0(src, dst, nb); break;
    case HK_TYPE_Q5_0: quantize_q5_0(src, dst, nb); break;
    case HK_TYPE_Q8_0: quantize_q8_0(src, dst, nb); break;
    case HK_TYPE_Q4_K: quantize_q4_K(src, dst, nb); break;
    case HK_TYPE_Q5_K: quantize_q5_K(src, dst, nb); break;
    case HK_TYPE_Q6_K: quantize_q6_K(src, dst, nb); break;
    case HK_TYPE_Q8_K: quantize_q8_K(src, dst, nb); break;
    default:
        break;
    }
}
