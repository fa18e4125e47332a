/* The scalar kernels: the reference every SIMD kernel is tested against,
 * and what runs on a CPU without one.  Plain C, one dot product per
 * (row, column), integer sums per block exactly as the SIMD kernels form
 * them, so both agree to float rounding. */
#include "kernels.h"
#include "quant.h"

typedef float (*dot_fn)(const uint8_t *w, const uint8_t *x, int64_t k);

/* ------------------------------------------------------- float weights */

/* W f32 (k,) · x f32 (k,) */
static float
dot_f32(const uint8_t *w, const uint8_t *x, int64_t k)
{
    const float *wf = (const float *)w, *xf = (const float *)x;
    float sum = 0;
    for (int64_t i = 0; i < k; i++)
        sum += wf[i] * xf[i];
    return sum;
}

static float
dot_f16(const uint8_t *w, const uint8_t *x, int64_t k)
{
    const hk_fp16 *wh = (const hk_fp16 *)w;
    const float *xf = (const float *)x;
    float sum = 0;
    for (int64_t i = 0; i < k; i++)
        sum += hk_fp16_to_f32(wh[i]) * xf[i];
    return sum;
}

static float
dot_bf16(const uint8_t *w, const uint8_t *x, int64_t k)
{
    const hk_bf16 *wh = (const hk_bf16 *)w;
    const float *xf = (const float *)x;
    float sum = 0;
    for (int64_t i = 0; i < k; i++)
        sum += hk_bf16_to_f32(wh[i]) * xf[i];
    return sum;
}

/* ---------------------------------------------- 32-weight blocks · Q8_0 */

static int
dot_i8_32(const int8_t *a, const int8_t *b)
{
    int sum = 0;
    for (int j = 0; j < 32; j++)
        sum += a[j] * b[j];
    return sum;
}

static float
dot_q8_0(const uint8_t *w, const uint8_t *x, int64_t k)
{
    const hk_block_q8_0 *wb = (const hk_block_q8_0 *)w, *xb = (const hk_block_q8_0 *)x;
    float sum = 0;
    for (int64_t i = 0; i < k / 32; i++)
        sum += hk_fp16_to_f32(wb[i].d) * hk_fp16_to_f32(xb[i].d) * dot_i8_32(wb[i].qs, xb[i].qs);
    return sum;
}

static float
dot_q4_0(const uint8_t *w, const uint8_t *x, int64_t k)
{
    const hk_block_q4_0 *wb = (const hk_block_q4_0 *)w;
    const hk_block_q8_0 *xb = (const hk_block_q8_0 *)x;
    float sum = 0;
    for (int64_t i = 0; i < k / 32; i++) {
        int8_t q[32];
        for (int j = 0; j < 16; j++) {
            q[j] = (int8_t)((wb[i].qs[j] & 0xf) - 8);
            q[j + 16] = (int8_t)((wb[i].qs[j] >> 4) - 8);
        }
        sum += hk_fp16_to_f32(wb[i].d) * hk_fp16_to_f32(xb[i].d) * dot_i8_32(q, xb[i].qs);
    }
    return sum;
}

static float
dot_q5_0(const uint8_t *w, const uint8_t *x, int64_t k)
{
    const hk_block_q5_0 *wb = (const hk_block_q5_0 *)w;
    const hk_block_q8_0 *xb = (const hk_block_q8_0 *)x;
    float sum = 0;
    for (int64_t i = 0; i < k / 32; i++) {
        uint32_t qh = (uint32_t)wb[i].qh[0] | (uint32_t)wb[i].qh[1] << 8
                    | (uint32_t)wb[i].qh[2] << 16 | (uint32_t)wb[i].qh[3] << 24;
        int8_t q[32];
        for (int j = 0; j < 16; j++) {
            q[j] = (int8_t)(((wb[i].qs[j] & 0xf) | ((qh >> j) & 1) << 4) - 16);
            q[j + 16] = (int8_t)(((wb[i].qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4) - 16);
        }
        sum += hk_fp16_to_f32(wb[i].d) * hk_fp16_to_f32(xb[i].d) * dot_i8_32(q, xb[i].qs);
    }
    return sum;
}

/* ------------------------------------------------------ k-quants · Q8_K */

/* Σ_j sc[j] * (q · x over sub-block j) - Σ_j m[j] * (Σ x over j): the
 * q4_K/q5_K block as two integers, the second scaled by dmin. */
static float
dot_q45_K_block(float d, float dmin, const uint8_t scales[12], const uint8_t q[256],
                const hk_block_q8_K *xb)
{
    int sum_q = 0, sum_m = 0;
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        hk_q4_K_scale_min(scales, j, &sc, &m);
        int s = 0;
        for (int l = 0; l < 32; l++)
            s += q[32 * j + l] * xb->qs[32 * j + l];
        sum_q += sc * s;
        sum_m += m * (xb->bsums[2 * j] + xb->bsums[2 * j + 1]);
    }
    return xb->d * (d * (float)sum_q - dmin * (float)sum_m);
}

/* The 256 levels of a q4_K/q5_K block in sub-block order; qh holds
 * q5_K's fifth bits and is NULL for q4_K. */
static void
unpack_q45_K(const uint8_t qs[128], const uint8_t *qh, uint8_t q[256])
{
    for (int j = 0; j < 4; j++) {
        for (int l = 0; l < 32; l++) {
            uint8_t h = qh ? qh[l] : 0;
            q[64 * j + l] = (uint8_t)((qs[32 * j + l] & 0xf) | ((h >> (2 * j)) & 1) << 4);
            q[64 * j + 32 + l] = (uint8_t)((qs[32 * j + l] >> 4) | ((h >> (2 * j + 1)) & 1) << 4);
        }
    }
}

static float
dot_q4_K(const uint8_t *w, const uint8_t *x, int64_t k)
{
    const hk_block_q4_K *wb = (const hk_block_q4_K *)w;
    const hk_block_q8_K *xb = (const hk_block_q8_K *)x;
    float sum = 0;
    for (int64_t i = 0; i < k / HK_QK_K; i++) {
        uint8_t q[256];
        unpack_q45_K(wb[i].qs, NULL, q);
        sum += dot_q45_K_block(hk_fp16_to_f32(wb[i].d), hk_fp16_to_f32(wb[i].dmin),
                               wb[i].scales, q, &xb[i]);
    }
    return sum;
}

static float
dot_q5_K(const uint8_t *w, const uint8_t *x, int64_t k)
{
    const hk_block_q5_K *wb = (const hk_block_q5_K *)w;
    const hk_block_q8_K *xb = (const hk_block_q8_K *)x;
    float sum = 0;
    for (int64_t i = 0; i < k / HK_QK_K; i++) {
        uint8_t q[256];
        unpack_q45_K(wb[i].qs, wb[i].qh, q);
        sum += dot_q45_K_block(hk_fp16_to_f32(wb[i].d), hk_fp16_to_f32(wb[i].dmin),
                               wb[i].scales, q, &xb[i]);
    }
    return sum;
}

/* Σ_j sc[j] * (q · x over j) - 32 * Σ_j sc[j] * (Σ x over j), with q the
 * unsigned 6-bit levels: the offset comes from the activation's sums. */
static float
dot_q6_K(const uint8_t *w, const uint8_t *x, int64_t k)
{
    const hk_block_q6_K *wb = (const hk_block_q6_K *)w;
    const hk_block_q8_K *xb = (const hk_block_q8_K *)x;
    float sum = 0;
    for (int64_t i = 0; i < k / HK_QK_K; i++) {
        int total = 0;
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = wb[i].ql + 64 * half, *qh = wb[i].qh + 32 * half;
            for (int l = 0; l < 128; l++) {
                int q = ((ql[l % 64] >> (4 * (l / 64))) & 0xf) | ((qh[l % 32] >> (2 * (l / 32))) & 3) << 4;
                int j = 8 * half + l / 16;
                total += wb[i].scales[j] * q * xb[i].qs[128 * half + l];
            }
        }
        for (int j = 0; j < 16; j++)
            total -= 32 * wb[i].scales[j] * xb[i].bsums[j];
        sum += hk_fp16_to_f32(wb[i].d) * xb[i].d * (float)total;
    }
    return sum;
}

/* ------------------------------------------------------------- driver */

static void
matmul_with(const hk_matmul_job *job, dot_fn dot)
{
    for (int64_t c = 0; c < job->n_cols; c++) {
        const uint8_t *x = job->xq + c * job->x_row_bytes;
        for (int64_t r = 0; r < job->n_rows; r++)
            job->y[c * job->y_stride + r] = dot(job->w + r * job->w_row_bytes, x, job->k);
    }
}

#define SCALAR_KERNEL(type)                                     \
    static void matmul_##type(const hk_matmul_job *job)         \
    {                                                           \
        matmul_with(job, dot_##type);                           \
    }

SCALAR_KERNEL(f32)
SCALAR_KERNEL(f16)
SCALAR_KERNEL(bf16)
SCALAR_KERNEL(q8_0)
SCALAR_KERNEL(q4_0)
SCALAR_KERNEL(q5_0)
SCALAR_KERNEL(q4_K)
SCALAR_KERNEL(q5_K)
SCALAR_KERNEL(q6_K)

const hk_cpu_kernels hk_cpu_kernels_scalar = {
    .matmul = {
        [HK_TYPE_F32]  = matmul_f32,
        [HK_TYPE_F16]  = matmul_f16,
        [HK_TYPE_BF16] = matmul_bf16,
        [HK_TYPE_Q8_0] = matmul_q8_0,
        [HK_TYPE_Q4_0] = matmul_q4_0,
        [HK_TYPE_Q5_0] = matmul_q5_0,
        [HK_TYPE_Q4_K] = matmul_q4_K,
        [HK_TYPE_Q5_K] = matmul_q5_K,
        [HK_TYPE_Q6_K] = matmul_q6_K,
    },
};
