/* cpu/kernels-x86.h — the x86 matmul kernels, compiled once per ISA.
 *
 * kernels-avx2.c and kernels-avx512.c include this file, each built with
 * its own -m flags, after defining:
 *
 *   KERNELS_TABLE   the table to define (hk_cpu_kernels_avx2, …)
 *   USE_VNNI        1: vpdpbusd forms the u8·s8 dot products; 2: the same
 *                   emulated with AVX2, so that a CPU without AVX-512 can
 *                   test the VNNI kernels' logic (tests/matmul-wide-on-avx2.c)
 *   WIDE_TILES      defined with 32 vector registers (AVX-512VL): larger tiles
 *   KERNEL_TARGET   optionally, a target attribute for every function, for a
 *                   file built without the -m flags
 *
 * Every kernel computes a tile of R rows × C columns over the whole of k
 * in one pass, R and C constants after inlining so the accumulators live
 * in registers.  With one column (generation) a tile is GEN_ROWS rows:
 * that many weight streams in flight, one accumulator each.  With several
 * (prompts) it is TILE_ROWS × TILE_COLS: each weight block decoded is used
 * for TILE_COLS tokens, each activation block for TILE_ROWS rows.  _Q for
 * quantized weights, _F for float.  The driver at the bottom walks the tiles.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels.h"
#include "quant.h"

#ifndef KERNEL_TARGET
#define KERNEL_TARGET
#endif
#define ALWAYS_INLINE static inline __attribute__((always_inline)) KERNEL_TARGET
#define UNROLL _Pragma("GCC unroll 16")

#if defined(WIDE_TILES)
#define GEN_ROWS_Q  8
#define TILE_ROWS_Q 4
#define TILE_COLS_Q 4
#define GEN_ROWS_F  8
#define TILE_ROWS_F 4
#define TILE_COLS_F 4
#else
/* 16 registers: 8 accumulators, the activations of 4 columns and a
 * decoded weight block */
#define GEN_ROWS_Q  4
#define TILE_ROWS_Q 2
#define TILE_COLS_Q 4
#define GEN_ROWS_F  4
#define TILE_ROWS_F 2
#define TILE_COLS_F 4
#endif

#define MAX_ROWS 8
#define MAX_COLS 4
#define MAX_PAIRS 16      /* R * C of the largest tile */

/* ---------------------------------------------------------- primitives */

ALWAYS_INLINE float
fp16_to_f32(hk_fp16 h)
{
    return _cvtsh_ss(h);
}

/* acc + the sums of each 4 adjacent u8 × s8 products (8 int32 lanes). */
ALWAYS_INLINE __m256i
dot_u8s8(__m256i acc, __m256i u, __m256i s)
{
#if USE_VNNI == 1
    return _mm256_dpbusd_epi32(acc, u, s);
#elif USE_VNNI == 2
    /* exact: bytes widened to int16, pairs summed by madd, then pairs of
     * pairs by hadd, lane i being bytes 4i..4i+3 as in vpdpbusd */
    const __m256i zero = _mm256_setzero_si256();
    __m256i lo = _mm256_madd_epi16(_mm256_unpacklo_epi8(u, zero),
                                   _mm256_srai_epi16(_mm256_unpacklo_epi8(zero, s), 8));
    __m256i hi = _mm256_madd_epi16(_mm256_unpackhi_epi8(u, zero),
                                   _mm256_srai_epi16(_mm256_unpackhi_epi8(zero, s), 8));
    return _mm256_add_epi32(acc, _mm256_hadd_epi32(lo, hi));
#else
    /* no int16 saturation: |u|, |s| <= 128, 127 in every caller */
    __m256i pairs = _mm256_maddubs_epi16(u, s);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
#endif
}

/* acc + u8 × s8 products summed in pairs, times int16 scale16, summed in
 * pairs again: the k-quants' sub-block scales applied for free. */
ALWAYS_INLINE __m256i
dot_u8s8_scaled(__m256i acc, __m256i u, __m256i s, __m256i scale16)
{
    __m256i pairs = _mm256_maddubs_epi16(u, s);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, scale16));
}

ALWAYS_INLINE float
hsum_ps(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Lane i of the result is the sum of the 8 lanes of v[i]: eight pairs'
 * integer accumulators reduced in 9 instructions instead of 8 × 5. */
ALWAYS_INLINE __m256i
sum_lanes8(const __m256i v[8])
{
    __m256i t0 = _mm256_hadd_epi32(v[0], v[1]);
    __m256i t1 = _mm256_hadd_epi32(v[2], v[3]);
    __m256i t2 = _mm256_hadd_epi32(v[4], v[5]);
    __m256i t3 = _mm256_hadd_epi32(v[6], v[7]);
    __m256i u0 = _mm256_hadd_epi32(t0, t1);
    __m256i u1 = _mm256_hadd_epi32(t2, t3);
    return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20),
                            _mm256_permute2x128_si256(u0, u1, 0x31));
}

/* Byte j is 0xff where bit j of bits is set. */
ALWAYS_INLINE __m256i
bits_to_bytes(uint32_t bits)
{
    const __m256i byte_of_bit = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                                   0x0202020202020202, 0x0303030303030303);
    const __m256i bit_in_byte = _mm256_set1_epi64x(0x8040201008040201);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), byte_of_bit);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit_in_byte), bit_in_byte);
}

/* Writes tile sums, pair p = r * C + c, to y (c, r). */
ALWAYS_INLINE void
store_pairs(const hk_matmul_job *job, int64_t r0, int64_t c0, int R, int C, const float *sums)
{
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++)
            job->y[(c0 + c) * job->y_stride + r0 + r] = sums[r * C + c];
}

/* Rows are short (a few KiB) and a tile reads R of them side by side:
 * too many short streams for the hardware prefetcher, so generation
 * would wait on memory.  Instead, each step of a tile prefetches its
 * share of the next tile's rows, which lie right after this tile's. */
ALWAYS_INLINE void
prefetch_next_tile(const hk_matmul_job *job, int64_t r0, int R, int64_t step, size_t step_bytes)
{
    const uint8_t *next = job->w + (r0 + R) * job->w_row_bytes + step * step_bytes;
    UNROLL for (size_t off = 0; off < step_bytes; off += 64)
        _mm_prefetch((const char *)next + off, _MM_HINT_T0);
}

/* -------------------------------------------- float weights · F32 x
 *
 * W (n_rows, k) f32/f16/bf16 @ X (n_cols, k) f32: plain FMAs, weights
 * widened to f32 as loaded. */

enum { FLOAT_F32, FLOAT_F16, FLOAT_BF16 };

ALWAYS_INLINE __m256
load_w8(int kind, const uint8_t *row, int64_t i)
{
    switch (kind) {
    case FLOAT_F16:
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * i)));
    case FLOAT_BF16: {
        __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(row + 2 * i)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
    }
    default:
        return _mm256_loadu_ps((const float *)row + i);
    }
}

ALWAYS_INLINE float
load_w1(int kind, const uint8_t *row, int64_t i)
{
    switch (kind) {
    case FLOAT_F16:
        return fp16_to_f32(((const hk_fp16 *)row)[i]);
    case FLOAT_BF16:
        return hk_bf16_to_f32(((const hk_bf16 *)row)[i]);
    default:
        return ((const float *)row)[i];
    }
}

ALWAYS_INLINE void
tile_float(const hk_matmul_job *job, int kind, int64_t r0, int64_t c0, const int R, const int C)
{
    const uint8_t *w[MAX_ROWS];
    const float *x[MAX_COLS];
    __m256 acc[MAX_ROWS][MAX_COLS];

    UNROLL for (int r = 0; r < R; r++)
        w[r] = job->w + (r0 + r) * job->w_row_bytes;
    UNROLL for (int c = 0; c < C; c++)
        x[c] = (const float *)(job->xq + (c0 + c) * job->x_row_bytes);
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++)
            acc[r][c] = _mm256_setzero_ps();

    const size_t elem_bytes = kind == FLOAT_F32 ? 4 : 2;
    int64_t i = 0;
    for (; i + 8 <= job->k; i += 8) {
        prefetch_next_tile(job, r0, R, i / 8, (size_t)R * 8 * elem_bytes);
        __m256 wv[MAX_ROWS];
        UNROLL for (int r = 0; r < R; r++)
            wv[r] = load_w8(kind, w[r], i);
        UNROLL for (int c = 0; c < C; c++) {
            __m256 xv = _mm256_loadu_ps(x[c] + i);
            UNROLL for (int r = 0; r < R; r++)
                acc[r][c] = _mm256_fmadd_ps(wv[r], xv, acc[r][c]);
        }
    }

    float sums[MAX_ROWS * MAX_COLS];
    UNROLL for (int r = 0; r < R; r++) {
        UNROLL for (int c = 0; c < C; c++) {
            float s = hsum_ps(acc[r][c]);
            for (int64_t t = i; t < job->k; t++)
                s += load_w1(kind, w[r], t) * x[c][t];
            sums[r * C + c] = s;
        }
    }
    store_pairs(job, r0, c0, R, C, sums);
}

/* ------------------------------------- 32-weight blocks · Q8_0 x
 *
 * W (n_rows, k/32 blocks) q4_0/q5_0/q8_0 @ X (n_cols, k/32) q8_0: each
 * weight block decoded once to 32 bytes, its integer dot product with
 * each column scaled by d_w · d_x into a float accumulator per
 * (row, column). */

enum { B32_Q4_0, B32_Q5_0, B32_Q8_0 };

ALWAYS_INLINE size_t
b32_block_bytes(int kind)
{
    return kind == B32_Q4_0 ? sizeof(hk_block_q4_0)
         : kind == B32_Q5_0 ? sizeof(hk_block_q5_0) : sizeof(hk_block_q8_0);
}

/* The 32 signed levels of one block, in order. */
ALWAYS_INLINE __m256i
decode_b32(int kind, const uint8_t *block, float *ret_d)
{
    hk_fp16 d;
    memcpy(&d, block, sizeof d);        /* d leads every 32-block */
    *ret_d = fp16_to_f32(d);

    if (kind == B32_Q8_0)
        return _mm256_loadu_si256((const __m256i *)((const hk_block_q8_0 *)block)->qs);

    const uint8_t *qs = kind == B32_Q4_0 ? ((const hk_block_q4_0 *)block)->qs
                                         : ((const hk_block_q5_0 *)block)->qs;
    __m128i packed = _mm_loadu_si128((const __m128i *)qs);
    __m256i nibbles = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed),
                                       _mm256_set1_epi8(0x0f));
    if (kind == B32_Q4_0)
        return _mm256_sub_epi8(nibbles, _mm256_set1_epi8(8));

    /* q5_0: q - 16 is the nibble where bit 4 is set, nibble | 0xf0
     * (nibble - 16 in two's complement) where it is not */
    uint32_t qh;
    memcpy(&qh, ((const hk_block_q5_0 *)block)->qh, sizeof qh);
    __m256i high = _mm256_andnot_si256(bits_to_bytes(qh), _mm256_set1_epi8((char)0xf0));
    return _mm256_or_si256(nibbles, high);
}

/* The 32 levels of one block as unsigned bytes, the level plus b32_offset:
 * q4_0 and q5_0 as stored, q8_0 with its sign bit flipped. */
ALWAYS_INLINE int
b32_offset(int kind)
{
    return kind == B32_Q4_0 ? 8 : kind == B32_Q5_0 ? 16 : 128;
}

ALWAYS_INLINE __m256i
decode_b32_unsigned(int kind, const uint8_t *block, float *ret_d)
{
    hk_fp16 d;
    memcpy(&d, block, sizeof d);
    *ret_d = fp16_to_f32(d);

    if (kind == B32_Q8_0) {
        __m256i q = _mm256_loadu_si256((const __m256i *)((const hk_block_q8_0 *)block)->qs);
        return _mm256_xor_si256(q, _mm256_set1_epi8((char)0x80));
    }
    const uint8_t *qs = kind == B32_Q4_0 ? ((const hk_block_q4_0 *)block)->qs
                                         : ((const hk_block_q5_0 *)block)->qs;
    __m128i packed = _mm_loadu_si128((const __m128i *)qs);
    __m256i nibbles = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed),
                                       _mm256_set1_epi8(0x0f));
    if (kind == B32_Q4_0)
        return nibbles;
    uint32_t qh;
    memcpy(&qh, ((const hk_block_q5_0 *)block)->qh, sizeof qh);
    return _mm256_or_si256(nibbles, _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10)));
}

/* Unsigned weights meet signed activations directly:
 * w · x = (w + o) · x - o · Σx, and o · Σx, once per column and block,
 * is where each pair's integer sum starts, so a pair costs one dot
 * product, a conversion and a multiply-add.  q8_0's levels + 128
 * overflow maddubs' int16 pairs: without VNNI it keeps the sign trick. */
ALWAYS_INLINE void
tile_b32(const hk_matmul_job *job, int kind, int64_t r0, int64_t c0, const int R, const int C)
{
    const bool offset = kind != B32_Q8_0 || USE_VNNI;
    const size_t wbytes = b32_block_bytes(kind);
    const uint8_t *w[MAX_ROWS];
    const hk_block_q8_0 *x[MAX_COLS];
    __m256 acc[MAX_ROWS][MAX_COLS];

    UNROLL for (int r = 0; r < R; r++)
        w[r] = job->w + (r0 + r) * job->w_row_bytes;
    UNROLL for (int c = 0; c < C; c++)
        x[c] = (const hk_block_q8_0 *)(job->xq + (c0 + c) * job->x_row_bytes);
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++)
            acc[r][c] = _mm256_setzero_ps();

    for (int64_t b = 0; b < job->k / 32; b++) {
        prefetch_next_tile(job, r0, R, b, (size_t)R * wbytes);
        __m256i wv[MAX_ROWS];
        __m256 dwv[MAX_ROWS];

        UNROLL for (int r = 0; r < R; r++) {
            float dw;
            wv[r] = offset ? decode_b32_unsigned(kind, w[r] + b * wbytes, &dw)
                           : decode_b32(kind, w[r] + b * wbytes, &dw);
            dwv[r] = _mm256_set1_ps(dw);
        }
        UNROLL for (int c = 0; c < C; c++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)x[c][b].qs);
            __m256 dxv = _mm256_set1_ps(fp16_to_f32(x[c][b].d));
            __m256i start = _mm256_setzero_si256();
            if (offset)
                start = _mm256_sub_epi32(start, dot_u8s8(_mm256_setzero_si256(),
                                         _mm256_set1_epi8((char)b32_offset(kind)), xv));
            UNROLL for (int r = 0; r < R; r++) {
                __m256i dot = offset
                    ? dot_u8s8(start, wv[r], xv)
                    : dot_u8s8(start, _mm256_sign_epi8(wv[r], wv[r]), _mm256_sign_epi8(xv, wv[r]));
                acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(dwv[r], dxv),
                                            acc[r][c]);
            }
        }
    }

    float sums[MAX_ROWS * MAX_COLS];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++)
            sums[r * C + c] = hsum_ps(acc[r][c]);
    store_pairs(job, r0, c0, R, C, sums);
}

/* ------------------------------------------------- k-quants · Q8_K x
 *
 * W (n_rows, k/256 super-blocks) q4_K/q5_K/q6_K @ X (n_cols, k/256) q8_K.
 * Inside a super-block everything is integer: unsigned levels · x by
 * maddubs, the sub-block scales applied by madd, mins and offsets from
 * the activation's bsums.  One integer accumulator per (row, column) per
 * super-block, reduced eight at a time and scaled into float. */

/* Shuffles that broadcast int16 lane j (of 8) to all lanes, per 128 bits. */
static const uint8_t broadcast_i16[8][32] = {
#define B(j) { 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, \
               2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, \
               2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1 }
    B(0), B(1), B(2), B(3), B(4), B(5), B(6), B(7),
#undef B
};

/* Shuffles that make 16 bytes [s[j] × 8, s[j+1] × 8] for j = 2t. */
static const uint8_t pair_of_scales[8][16] = {
#define P(j) { j, j, j, j, j, j, j, j, j+1, j+1, j+1, j+1, j+1, j+1, j+1, j+1 }
    P(0), P(2), P(4), P(6), P(8), P(10), P(12), P(14),
#undef P
};

/* The float scale of each pair, lane p = r * C + c of group g. */
ALWAYS_INLINE __m256
pair_scales(int g, const int C, int P, const float *dw, const float *dx)
{
    float s[8];
    UNROLL for (int l = 0; l < 8; l++) {
        int p = 8 * g + l;
        s[l] = p < P ? dw[p / C] * dx[p % C] : 0.0f;
    }
    return _mm256_loadu_ps(s);
}

ALWAYS_INLINE void
store_groups(const hk_matmul_job *job, int64_t r0, int64_t c0, int R, int C, const __m256 *acc)
{
    float sums[MAX_PAIRS];
    UNROLL for (int g = 0; g < (R * C + 7) / 8; g++) {
        float lanes[8];
        _mm256_storeu_ps(lanes, acc[g]);
        UNROLL for (int l = 0; l < 8; l++)
            if (8 * g + l < R * C)
                sums[8 * g + l] = lanes[l];
    }
    store_pairs(job, r0, c0, R, C, sums);
}

/* The 6-bit scales and mins of a q4_K/q5_K block as 16 bytes: scales 0..7
 * then mins 0..7.  Words a, b, c are bytes 0-3, 4-7, 8-11 of the packing
 * described in hk_q4_K_scale_min. */
ALWAYS_INLINE __m128i
unpack_scales_mins(const uint8_t packed[12])
{
    uint32_t a, b, c;
    memcpy(&a, packed, 4);
    memcpy(&b, packed + 4, 4);
    memcpy(&c, packed + 8, 4);
    uint32_t sc_lo = a & 0x3f3f3f3f;
    uint32_t sc_hi = (c & 0x0f0f0f0f) | ((a >> 6) & 0x03030303) << 4;
    uint32_t m_lo = b & 0x3f3f3f3f;
    uint32_t m_hi = ((c >> 4) & 0x0f0f0f0f) | ((b >> 6) & 0x03030303) << 4;
    return _mm_setr_epi32((int)sc_lo, (int)sc_hi, (int)m_lo, (int)m_hi);
}

ALWAYS_INLINE void
tile_q45_K(const hk_matmul_job *job, const bool five_bits, int64_t r0, int64_t c0,
           const int R, const int C)
{
    const int P = R * C, G = (P + 7) / 8;
    const size_t wbytes = five_bits ? sizeof(hk_block_q5_K) : sizeof(hk_block_q4_K);
    const uint8_t *w[MAX_ROWS];
    const hk_block_q8_K *x[MAX_COLS];
    __m256 acc[MAX_PAIRS / 8];

    UNROLL for (int r = 0; r < R; r++)
        w[r] = job->w + (r0 + r) * job->w_row_bytes;
    UNROLL for (int c = 0; c < C; c++)
        x[c] = (const hk_block_q8_K *)(job->xq + (c0 + c) * job->x_row_bytes);
    UNROLL for (int g = 0; g < G; g++)
        acc[g] = _mm256_setzero_ps();

    for (int64_t b = 0; b < job->k / HK_QK_K; b++) {
        prefetch_next_tile(job, r0, R, b, (size_t)R * wbytes);
        float dx[MAX_COLS], dw[MAX_ROWS], dmin[MAX_ROWS];
        __m128i scales_mins[MAX_ROWS];
        __m256i scales[MAX_ROWS], sum_q[MAX_PAIRS];

        UNROLL for (int c = 0; c < C; c++)
            dx[c] = x[c][b].d;
        UNROLL for (int r = 0; r < R; r++) {
            /* q4_K and q5_K share the head: d, dmin, scales[12] */
            const hk_block_q4_K *head = (const hk_block_q4_K *)(w[r] + b * wbytes);
            dw[r] = fp16_to_f32(head->d);
            dmin[r] = fp16_to_f32(head->dmin);
            scales_mins[r] = unpack_scales_mins(head->scales);
            scales[r] = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scales_mins[r]));
            UNROLL for (int c = 0; c < C; c++)
                sum_q[r * C + c] = _mm256_setzero_si256();
        }

        /* not unrolled, as in tile_q6_K */
        _Pragma("GCC unroll 1")
        for (int i = 0; i < 4; i++) {
            UNROLL for (int r = 0; r < R; r++) {
                const uint8_t *block = w[r] + b * wbytes;
                const uint8_t *qs = five_bits ? ((const hk_block_q5_K *)block)->qs
                                              : ((const hk_block_q4_K *)block)->qs;
                __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * i));
                __m256i lo = _mm256_and_si256(q, _mm256_set1_epi8(0x0f));
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), _mm256_set1_epi8(0x0f));
                if (five_bits) {
                    __m256i qh = _mm256_loadu_si256((const __m256i *)((const hk_block_q5_K *)block)->qh);
                    __m256i one = _mm256_set1_epi8(1);
                    lo = _mm256_or_si256(lo, _mm256_slli_epi16(
                        _mm256_and_si256(_mm256_srli_epi16(qh, 2 * i), one), 4));
                    hi = _mm256_or_si256(hi, _mm256_slli_epi16(
                        _mm256_and_si256(_mm256_srli_epi16(qh, 2 * i + 1), one), 4));
                }
                __m256i s_lo = _mm256_shuffle_epi8(scales[r],
                    _mm256_loadu_si256((const __m256i *)broadcast_i16[2 * i]));
                __m256i s_hi = _mm256_shuffle_epi8(scales[r],
                    _mm256_loadu_si256((const __m256i *)broadcast_i16[2 * i + 1]));
                UNROLL for (int c = 0; c < C; c++) {
                    const int8_t *xq = x[c][b].qs + 64 * i;
                    __m256i p = sum_q[r * C + c];
                    p = dot_u8s8_scaled(p, lo, _mm256_loadu_si256((const __m256i *)xq), s_lo);
                    p = dot_u8s8_scaled(p, hi, _mm256_loadu_si256((const __m256i *)(xq + 32)), s_hi);
                    sum_q[r * C + c] = p;
                }
            }
        }

        /* the mins meet the activation's sums: int16 [m0 m0 m1 m1 … m7 m7]
         * times the 16 bsums, both only now so they hold no registers
         * through the loop above */
        const __m128i dup = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
        UNROLL for (int g = 0; g < G; g++) {
            __m256i q8[8], m8[8];
            UNROLL for (int l = 0; l < 8; l++) {
                int p = 8 * g + l;
                if (p < P) {
                    __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(scales_mins[p / C], dup));
                    __m256i bsums = _mm256_loadu_si256((const __m256i *)x[p % C][b].bsums);
                    q8[l] = sum_q[p];
                    m8[l] = _mm256_madd_epi16(mins, bsums);
                } else {
                    q8[l] = m8[l] = _mm256_setzero_si256();
                }
            }
            acc[g] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum_lanes8(q8)),
                                     pair_scales(g, C, P, dw, dx), acc[g]);
            acc[g] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(sum_lanes8(m8)),
                                      pair_scales(g, C, P, dmin, dx), acc[g]);
        }
    }
    store_groups(job, r0, c0, R, C, acc);
}

/* Levels 0..63 of weights 32t..32t+31 of a 128-weight half: the low
 * nibbles of ql (t = 0, 1) or the high ones (t = 2, 3), bits 2t, 2t+1 of
 * qh on top. */
ALWAYS_INLINE __m256i
q6_K_levels(const uint8_t *ql, const uint8_t *qh, int t)
{
    const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(0x30);
    __m256i l = _mm256_loadu_si256((const __m256i *)(ql + 32 * (t % 2)));
    __m256i h = _mm256_loadu_si256((const __m256i *)qh);
    __m256i lo = _mm256_and_si256(_mm256_srl_epi16(l, _mm_cvtsi32_si128(4 * (t / 2))), m4);
    /* bits 2t, 2t+1 of each byte to bits 4, 5 (16-bit shifts: what
     * crosses into the other byte is masked off) */
    __m256i hi = _mm256_slli_epi16(_mm256_srl_epi16(h, _mm_cvtsi32_si128(2 * t)), 4);
    return _mm256_or_si256(lo, _mm256_and_si256(hi, m2));
}

ALWAYS_INLINE void
tile_q6_K(const hk_matmul_job *job, int64_t r0, int64_t c0, const int R, const int C)
{
    const int P = R * C, G = (P + 7) / 8;
    const uint8_t *w[MAX_ROWS];
    const hk_block_q8_K *x[MAX_COLS];
    __m256 acc[MAX_PAIRS / 8];

    UNROLL for (int r = 0; r < R; r++)
        w[r] = job->w + (r0 + r) * job->w_row_bytes;
    UNROLL for (int c = 0; c < C; c++)
        x[c] = (const hk_block_q8_K *)(job->xq + (c0 + c) * job->x_row_bytes);
    UNROLL for (int g = 0; g < G; g++)
        acc[g] = _mm256_setzero_ps();

    for (int64_t b = 0; b < job->k / HK_QK_K; b++) {
        prefetch_next_tile(job, r0, R, b, (size_t)R * sizeof(hk_block_q6_K));
        float dx[MAX_COLS], dw[MAX_ROWS];
        __m256i bsums[MAX_COLS];
        __m128i scales[MAX_ROWS];
        __m256i sum[MAX_PAIRS];

        UNROLL for (int c = 0; c < C; c++) {
            dx[c] = x[c][b].d;
            bsums[c] = _mm256_loadu_si256((const __m256i *)x[c][b].bsums);
        }
        UNROLL for (int r = 0; r < R; r++) {
            const hk_block_q6_K *blk = (const hk_block_q6_K *)w[r] + b;
            dw[r] = fp16_to_f32(blk->d);
            scales[r] = _mm_loadu_si128((const __m128i *)blk->scales);
            /* the levels are stored + 32: take 32 * Σ scale * bsum back */
            __m256i sc16 = _mm256_cvtepi8_epi16(scales[r]);
            UNROLL for (int c = 0; c < C; c++)
                sum[r * C + c] = _mm256_sub_epi32(_mm256_setzero_si256(),
                    _mm256_slli_epi32(_mm256_madd_epi16(sc16, bsums[c]), 5));
        }

        /* a loop, not unrolled: unrolled, the compiler reassociates the
         * integer sums and keeps every product alive, spilling */
        _Pragma("GCC unroll 1")
        for (int j = 0; j < 8; j++) {
            int half = j / 4, t = j % 4;
            UNROLL for (int r = 0; r < R; r++) {
                const hk_block_q6_K *blk = (const hk_block_q6_K *)w[r] + b;
                __m256i q = q6_K_levels(blk->ql + 64 * half, blk->qh + 32 * half, t);
                __m128i pick = _mm_loadu_si128((const __m128i *)pair_of_scales[j]);
                __m256i s16 = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales[r], pick));
                UNROLL for (int c = 0; c < C; c++) {
                    const int8_t *xq = x[c][b].qs + 32 * j;
                    sum[r * C + c] = dot_u8s8_scaled(sum[r * C + c], q,
                        _mm256_loadu_si256((const __m256i *)xq), s16);
                }
            }
        }

        UNROLL for (int g = 0; g < G; g++) {
            __m256i s8[8];
            UNROLL for (int l = 0; l < 8; l++)
                s8[l] = 8 * g + l < P ? sum[8 * g + l] : _mm256_setzero_si256();
            acc[g] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum_lanes8(s8)),
                                     pair_scales(g, C, P, dw, dx), acc[g]);
        }
    }
    store_groups(job, r0, c0, R, C, acc);
}

/* -------------------------------------------------------------- driver */

typedef void (*tile_fn)(const hk_matmul_job *job, int64_t r0, int64_t c0, int R, int C);

/* Activations of this many bytes stay in L2 while the row tiles sweep
 * over them; the row tile itself stays in L1. */
#define ACTIVATION_BLOCK_BYTES (192 * 1024)

static KERNEL_TARGET void
drive(const hk_matmul_job *job, tile_fn tile, int gen_rows, int tile_rows, int tile_cols)
{
    if (job->n_cols == 1) {
        int64_t r = 0;
        for (; r + gen_rows <= job->n_rows; r += gen_rows)
            tile(job, r, 0, gen_rows, 1);
        for (; r < job->n_rows; r++)
            tile(job, r, 0, 1, 1);
        return;
    }

    int64_t col_block = ACTIVATION_BLOCK_BYTES / (int64_t)job->x_row_bytes;
    col_block = col_block < tile_cols ? tile_cols : col_block - col_block % tile_cols;
    for (int64_t c0 = 0; c0 < job->n_cols; c0 += col_block) {
        int64_t c1 = c0 + col_block < job->n_cols ? c0 + col_block : job->n_cols;
        for (int64_t r = 0; r < job->n_rows;) {
            int R = job->n_rows - r >= tile_rows ? tile_rows : 1;
            for (int64_t c = c0; c < c1; c += tile_cols) {
                int C = c1 - c >= tile_cols ? tile_cols : (int)(c1 - c);
                tile(job, r, c, R, C);
            }
            r += R;
        }
    }
}

/* A kernel per type: its tile instantiated for the shapes drive() asks
 * for, (GEN, 1), (TILE_ROWS, 1..TILE_COLS) and (1, 1..TILE_COLS). */
#define SHAPE_CASES(TILE, GEN, TR)                                      \
    if (C == 1 && R == (GEN)) { TILE(GEN, 1); return; }                 \
    if (R == (TR)) {                                                    \
        switch (C) {                                                    \
        case 1: TILE(TR, 1); return;                                    \
        case 2: TILE(TR, 2); return;                                    \
        case 3: TILE(TR, 3); return;                                    \
        default: TILE(TR, 4); return;                                   \
        }                                                               \
    }                                                                   \
    switch (C) {                                                        \
    case 1: TILE(1, 1); return;                                         \
    case 2: TILE(1, 2); return;                                         \
    case 3: TILE(1, 3); return;                                         \
    default: TILE(1, 4); return;                                        \
    }

#define DEFINE_KERNEL(name, CALL, GEN, TR, TC)                                          \
    static KERNEL_TARGET void                                                           \
    name##_tile(const hk_matmul_job *job, int64_t r0, int64_t c0, int R, int C)         \
    {                                                                                   \
        SHAPE_CASES(CALL, GEN, TR)                                                      \
    }                                                                                   \
    static KERNEL_TARGET void name(const hk_matmul_job *job)                            \
    {                                                                                   \
        drive(job, name##_tile, GEN, TR, TC);                                           \
    }

#define CALL_F32(R, C)  tile_float(job, FLOAT_F32, r0, c0, R, C)
#define CALL_F16(R, C)  tile_float(job, FLOAT_F16, r0, c0, R, C)
#define CALL_BF16(R, C) tile_float(job, FLOAT_BF16, r0, c0, R, C)
#define CALL_Q4_0(R, C) tile_b32(job, B32_Q4_0, r0, c0, R, C)
#define CALL_Q5_0(R, C) tile_b32(job, B32_Q5_0, r0, c0, R, C)
#define CALL_Q8_0(R, C) tile_b32(job, B32_Q8_0, r0, c0, R, C)
#define CALL_Q4_K(R, C) tile_q45_K(job, false, r0, c0, R, C)
#define CALL_Q5_K(R, C) tile_q45_K(job, true, r0, c0, R, C)
#define CALL_Q6_K(R, C) tile_q6_K(job, r0, c0, R, C)

DEFINE_KERNEL(matmul_f32,  CALL_F32,  GEN_ROWS_F, TILE_ROWS_F, TILE_COLS_F)
DEFINE_KERNEL(matmul_f16,  CALL_F16,  GEN_ROWS_F, TILE_ROWS_F, TILE_COLS_F)
DEFINE_KERNEL(matmul_bf16, CALL_BF16, GEN_ROWS_F, TILE_ROWS_F, TILE_COLS_F)
DEFINE_KERNEL(matmul_q4_0, CALL_Q4_0, GEN_ROWS_Q, TILE_ROWS_Q, TILE_COLS_Q)
DEFINE_KERNEL(matmul_q5_0, CALL_Q5_0, GEN_ROWS_Q, TILE_ROWS_Q, TILE_COLS_Q)
DEFINE_KERNEL(matmul_q8_0, CALL_Q8_0, GEN_ROWS_Q, TILE_ROWS_Q, TILE_COLS_Q)
DEFINE_KERNEL(matmul_q4_K, CALL_Q4_K, GEN_ROWS_Q, TILE_ROWS_Q, TILE_COLS_Q)
DEFINE_KERNEL(matmul_q5_K, CALL_Q5_K, GEN_ROWS_Q, TILE_ROWS_Q, TILE_COLS_Q)
DEFINE_KERNEL(matmul_q6_K, CALL_Q6_K, GEN_ROWS_Q, TILE_ROWS_Q, TILE_COLS_Q)

const hk_cpu_kernels KERNELS_TABLE = {
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
