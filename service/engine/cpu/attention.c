/* attention.c — the KV cache store and the attention units. */
#include "attention.h"

#include <math.h>

#include "cpu/elementwise.h"
#include "cpu/matmul.h"

/* Tokens per unit: more share the cache reads, fewer give more units to
 * share between threads. */
#define UNIT_TOKENS 16
/* Positions scored at a time: one block of the value cache. */
#define CHUNK HK_KV_BLOCK

typedef struct unit_scratch {
    uint8_t *q;        /* (n_cols, activation row of head_dim) */
    float   *probs;    /* (n_cols, CHUNK) scores, then probabilities */
    uint8_t *p;        /* (n_cols, activation row of CHUNK) the probabilities */
    float   *pv;       /* (n_cols, head_dim) a chunk's weighted values */
    float   *acc;      /* (n_cols, head_dim) the weighted values so far */
    float   *max;      /* (n_cols,) running maximum of the scaled scores */
    float   *sum;      /* (n_cols,) running sum of e^(score - max) */
} unit_scratch;

static size_t
align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

/* The scratch's parts from base (NULL: only count); returns the bytes. */
static size_t
scratch_layout(const hk_attn_params *p, uint8_t *base, unit_scratch *s)
{
    size_t n_cols = (size_t)(p->n_head / p->n_head_kv) * UNIT_TOKENS, hd = (size_t)p->head_dim;
    size_t sizes[] = {
        n_cols * hk_cpu_activation_row_bytes(HK_TYPE_F16, p->head_dim),
        n_cols * CHUNK * sizeof(float),
        n_cols * hk_cpu_activation_row_bytes(HK_TYPE_F16, CHUNK),
        n_cols * hd * sizeof(float),
        n_cols * hd * sizeof(float),
        n_cols * sizeof(float),
        n_cols * sizeof(float),
    };
    void **parts[] = {
        (void **)&s->q, (void **)&s->probs, (void **)&s->p, (void **)&s->pv,
        (void **)&s->acc, (void **)&s->max, (void **)&s->sum,
    };
    size_t at = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (base)
            *parts[i] = base + at;
        at += align64(sizes[i]);
    }
    return at;
}

size_t
hk_cpu_attention_scratch_bytes(const hk_attn_params *p)
{
    unit_scratch s;
    return scratch_layout(p, NULL, &s);
}

int64_t
hk_cpu_attention_n_units(const hk_cpu_attention *a)
{
    int64_t blocks = (a->n_tokens + UNIT_TOKENS - 1) / UNIT_TOKENS;
    return blocks * a->p.n_head_kv;
}

/* y (n,) += x (n,); in blocks of 16, which the compiler vectorizes. */
static void
add_to(float *restrict y, const float *restrict x, int64_t n)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++)
            y[i + j] += x[i + j];
    for (; i < n; i++)
        y[i] += x[i];
}

/* s (CHUNK,) = e^(s * scale - m): the softmax's hot loop, vectorized. */
static void
exp_chunk(float *s, float scale, float m)
{
    for (int j = 0; j < CHUNK; j++)
        s[j] = hk_cpu_exp(s[j] * scale - m);
}

/* One query's scores s (CHUNK,) of which the first `seen` are visible:
 * fold their maximum into the running one (rescaling acc (hd,) and sum to
 * it), add their weights to sum, and leave the weights in s, zeros past
 * the visible ones. */
static void
softmax_chunk(float *s, int64_t seen, float scale, float *max, float *sum, float *acc, int64_t hd)
{
    if (seen == 0) {
        for (int64_t j = 0; j < CHUNK; j++)
            s[j] = 0.0f;
        return;
    }
    /* four running maxima: one chain of compares would wait on itself */
    float m4[4] = { s[0], s[0], s[0], s[0] };
    int64_t j = 0;
    for (; j + 4 <= seen; j += 4)
        for (int k = 0; k < 4; k++)
            m4[k] = s[j + k] > m4[k] ? s[j + k] : m4[k];
    for (; j < seen; j++)
        m4[0] = s[j] > m4[0] ? s[j] : m4[0];
    float m = fmaxf(fmaxf(m4[0], m4[1]), fmaxf(m4[2], m4[3])) * scale;   /* scale > 0 */
    if (m > *max) {
        /* e^(old max - new max) is 0 the first time: acc and sum are 0 */
        float c = expf(*max - m);
        *sum *= c;
        for (int64_t i = 0; i < hd; i++)
            acc[i] *= c;
        *max = m;
    }
    exp_chunk(s, scale, *max);
    float total = 0.0f;
    for (j = 0; j < seen; j++)
        total += s[j];
    for (; j < CHUNK; j++)
        s[j] = 0.0f;
    *sum += total;
}

void
hk_cpu_attention_unit(const hk_cpu_attention *a, int64_t unit, void *scratch)
{
    const hk_attn_params *p = &a->p;
    int64_t hd = p->head_dim;
    int64_t group = p->n_head / p->n_head_kv;
    int64_t q_dim = (int64_t)p->n_head * hd;
    int64_t g = unit % p->n_head_kv;
    int64_t t0 = unit / p->n_head_kv * UNIT_TOKENS;
    int64_t t1 = t0 + UNIT_TOKENS < a->n_tokens ? t0 + UNIT_TOKENS : a->n_tokens;
    int64_t n_cols = (t1 - t0) * group;
    size_t q_row = hk_cpu_activation_row_bytes(HK_TYPE_F16, hd);
    size_t p_row = hk_cpu_activation_row_bytes(HK_TYPE_F16, CHUNK);

    unit_scratch s;
    scratch_layout(p, scratch, &s);

    /* column c is token t0 + c / group, query head g * group + c % group */
    for (int64_t c = 0; c < n_cols; c++) {
        int64_t t = t0 + c / group, h = g * group + c % group;
        hk_cpu_quantize_activation(HK_TYPE_F16, a->q + t * q_dim + h * hd, s.q + c * q_row, hd);
        s.max[c] = -INFINITY;
        s.sum[c] = 0.0f;
        for (int64_t i = 0; i < hd; i++)
            s.acc[c * hd + i] = 0.0f;
    }

    const hk_fp16 *k_head = a->k_cache + g * p->n_slots * hd;
    const hk_fp16 *v_head = a->v_cache + g * p->n_slots * hd;
    int64_t n_pos = p->pos0 + t1;   /* the last token sees positions 0…n_pos-1 */
    for (int64_t p0 = 0; p0 < n_pos; p0 += CHUNK) {
        int64_t n = n_pos - p0 < CHUNK ? n_pos - p0 : CHUNK;
        /* probs (n_cols, n) = q (n_cols, hd) @ k[p0…p0+n) (n, hd)^T */
        hk_cpu_matmul_rows(HK_TYPE_F16, k_head + p0 * hd, hd, 0, n, s.q, n_cols, s.probs, CHUNK);
        for (int64_t c = 0; c < n_cols; c++) {
            int64_t seen = p->pos0 + t0 + c / group + 1 - p0;   /* causal mask */
            seen = seen < 0 ? 0 : seen > n ? n : seen;
            softmax_chunk(s.probs + c * CHUNK, seen, p->scale, &s.max[c], &s.sum[c],
                          s.acc + c * hd, hd);
            hk_cpu_quantize_activation(HK_TYPE_F16, s.probs + c * CHUNK, s.p + c * p_row, CHUNK);
        }
        /* pv (n_cols, hd) = probs (n_cols, CHUNK) @ the block's v^T (hd, CHUNK)^T */
        hk_cpu_matmul_rows(HK_TYPE_F16, v_head + p0 * hd, CHUNK, 0, hd, s.p, n_cols, s.pv, hd);
        add_to(s.acc, s.pv, n_cols * hd);
    }

    for (int64_t c = 0; c < n_cols; c++) {
        int64_t t = t0 + c / group, h = g * group + c % group;
        float *o = a->out + t * q_dim + h * hd;
        float inv = 1.0f / s.sum[c];
        for (int64_t i = 0; i < hd; i++)
            o[i] = s.acc[c * hd + i] * inv;
    }
}

/* Out-of-range values become F16's largest, not infinities: a zero weight
 * on a stale slot past the context must stay zero. */
static hk_fp16
to_f16(float x)
{
    x = x < -65504.0f ? -65504.0f : x;
    return hk_f32_to_fp16(x > 65504.0f ? 65504.0f : x);
}

void
hk_cpu_kv_store_row(const float *k, const float *v, hk_fp16 *k_cache, hk_fp16 *v_cache,
                    int64_t pos, const hk_attn_params *p)
{
    int64_t hd = p->head_dim, block = pos / HK_KV_BLOCK, in_block = pos % HK_KV_BLOCK;
    for (int64_t g = 0; g < p->n_head_kv; g++) {
        hk_fp16 *kr = k_cache + (g * p->n_slots + pos) * hd;
        hk_fp16 *vb = v_cache + (g * p->n_slots / HK_KV_BLOCK + block) * hd * HK_KV_BLOCK + in_block;
        for (int64_t i = 0; i < hd; i++) {
            kr[i] = to_f16(k[g * hd + i]);
            vb[i * HK_KV_BLOCK] = to_f16(v[g * hd + i]);
        }
    }
}
