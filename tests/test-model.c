/* The forward pass against a naive float reference, batching, threads,
 * kernels, the architectures' variants and malformed files. */
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/backend-cpu.h"
#include "cpu/matmul.h"
#include "hk-check.h"
#include "hk-nmse.h"
#include "hk-synth-model.h"
#include "model.h"

/* ----------------------------------------------------------------------------
 * A loaded synthetic model */

typedef struct loaded {
    void       *file;
    hk_gguf    *gguf;
    hk_backend *be;
    hk_model   *model;
} loaded;

static int
try_load(const synth_model *s, int n_threads, loaded *l, hk_error *err)
{
    size_t size;
    *l = (loaded){ 0 };
    synth_model_write(s, &l->file, &size);
    ck_assert_int_eq(hk_gguf_open_memory(l->file, size, &l->gguf, err), 0);
    ck_assert_int_eq(hk_backend_cpu_new(n_threads, &l->be, err), 0);
    return hk_model_load(l->gguf, l->be, &l->model, err);
}

static void
load(const synth_model *s, int n_threads, loaded *l)
{
    hk_error err = { 0 };
    int rc = try_load(s, n_threads, l, &err);
    ck_assert_msg(rc == 0, "load: %s", err.message);
}

static void
unload(loaded *l)
{
    hk_model_free(l->model);
    hk_backend_free(l->be);
    hk_gguf_close(l->gguf);
    g_free(l->file);
}

/* Logits of every token of a sequence from position 0, in batches of
 * n_batch. */
static float *
engine_logits(const loaded *l, const int32_t *tokens, uint32_t n, uint32_t n_batch)
{
    uint32_t n_vocab = hk_model_hparams(l->model)->n_vocab;
    float *logits = g_new(float, (size_t)n * n_vocab);
    hk_kv_cache *c;
    hk_run_state *s;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_model_new_kv_cache(l->model, 64, &c, &err), 0);
    ck_assert_int_eq(hk_run_state_new(l->model, n_batch, true, &s, &err), 0);
    for (uint32_t i = 0; i < n; i += n_batch) {
        uint32_t nb = n - i < n_batch ? n - i : n_batch;
        int rc = hk_model_forward(l->model, s, c, tokens + i, nb, true, logits + (size_t)i * n_vocab, &err);
        ck_assert_msg(rc == 0, "forward: %s", err.message);
    }
    ck_assert_uint_eq(c->n_past, n);
    hk_run_state_free(s);
    hk_kv_cache_free(c);
    return logits;
}


static const int32_t prompt[] = { 1, 298, 72, 105, 33, 270, 281, 10, 297, 150, 3, 260, 77 };
#define N_PROMPT ((uint32_t)(sizeof prompt / sizeof prompt[0]))

/* ----------------------------------------------------------------------------
 * The reference: the same transformer, naively, in float, from the file's
 * weights through the reference dequantizer. */

static float *
ref_tensor(const hk_gguf *g, const char *name)
{
    const hk_gguf_tensor *t = hk_gguf_find_tensor(g, name);
    if (!t)
        return NULL;
    size_t row_bytes = hk_type_row_bytes(t->type, t->ne[0]);
    float *out = g_new(float, t->ne[0] * t->ne[1]);
    for (uint64_t r = 0; r < t->ne[1]; r++)
        hk_dequantize_row(t->type, (const uint8_t *)t->data + r * row_bytes,
                          out + r * t->ne[0], (int64_t)t->ne[0]);
    return out;
}

static float *
ref_layer_tensor(const hk_gguf *g, uint32_t l, const char *what)
{
    char name[64];
    snprintf(name, sizeof name, "blk.%u.%s", l, what);
    return ref_tensor(g, name);
}

/* y (m) = W (m, k) x (k) + b */
static void
ref_matvec(const float *w, const float *b, const float *x, float *y, int m, int k)
{
    for (int r = 0; r < m; r++) {
        double s = b ? b[r] : 0.0;
        for (int i = 0; i < k; i++)
            s += (double)w[(size_t)r * k + i] * x[i];
        y[r] = (float)s;
    }
}

static void
ref_rmsnorm(const float *x, const float *w, float *out, int d)
{
    double ss = 0.0;
    for (int i = 0; i < d; i++)
        ss += (double)x[i] * x[i];
    double scale = 1.0 / sqrt(ss / d + 1e-5);
    for (int i = 0; i < d; i++)
        out[i] = (float)(x[i] * scale * w[i]);
}

static void
ref_rope(float *head, int hd, int pos, bool neox, float scale, const float *factors)
{
    for (int i = 0; i < hd / 2; i++) {
        double theta = pos * scale * pow(10000.0, -2.0 * i / hd) / (factors ? factors[i] : 1.0);
        int a = neox ? i : 2 * i, b = neox ? i + hd / 2 : 2 * i + 1;
        double x0 = head[a], x1 = head[b];
        head[a] = (float)(x0 * cos(theta) - x1 * sin(theta));
        head[b] = (float)(x0 * sin(theta) + x1 * cos(theta));
    }
}

static float *
ref_logits(const synth_model *s, const hk_gguf *g, const int32_t *tokens, int n)
{
    int dim = (int)s->dim, ff = (int)s->ff, nh = (int)s->n_head, nkv = (int)s->n_head_kv;
    int hd = dim / nh, kv_dim = hd * nkv, V = (int)SYNTH_N_VOCAB;
    bool neox = strcmp(s->arch, "qwen2") == 0;
    float scale = s->rope_linear > 0 ? 1.0f / s->rope_linear : 1.0f;
    float *embd = ref_tensor(g, "token_embd.weight");
    float *factors = ref_tensor(g, "rope_freqs.weight");
    float *x = g_new(float, n * dim), *xb = g_new(float, dim), *q = g_new(float, n * dim);
    float *K = g_new(float, n * kv_dim), *Vc = g_new(float, n * kv_dim);
    float *att = g_new(float, dim), *o = g_new(float, dim), *p = g_new(float, n);
    float *h1 = g_new(float, ff), *h2 = g_new(float, ff), *f = g_new(float, dim);

    for (int t = 0; t < n; t++)
        memcpy(x + t * dim, embd + (size_t)tokens[t] * dim, dim * sizeof(float));
    for (uint32_t l = 0; l < s->n_layer; l++) {
        float *an = ref_layer_tensor(g, l, "attn_norm.weight");
        float *wq = ref_layer_tensor(g, l, "attn_q.weight"), *bq = ref_layer_tensor(g, l, "attn_q.bias");
        float *wk = ref_layer_tensor(g, l, "attn_k.weight"), *bk = ref_layer_tensor(g, l, "attn_k.bias");
        float *wv = ref_layer_tensor(g, l, "attn_v.weight"), *bv = ref_layer_tensor(g, l, "attn_v.bias");
        float *wo = ref_layer_tensor(g, l, "attn_output.weight");
        float *fn = ref_layer_tensor(g, l, "ffn_norm.weight");
        float *wg = ref_layer_tensor(g, l, "ffn_gate.weight"), *wu = ref_layer_tensor(g, l, "ffn_up.weight");
        float *wd = ref_layer_tensor(g, l, "ffn_down.weight");

        for (int t = 0; t < n; t++) {
            ref_rmsnorm(x + t * dim, an, xb, dim);
            ref_matvec(wq, bq, xb, q + t * dim, dim, dim);
            ref_matvec(wk, bk, xb, K + t * kv_dim, kv_dim, dim);
            ref_matvec(wv, bv, xb, Vc + t * kv_dim, kv_dim, dim);
            for (int h = 0; h < nh; h++)
                ref_rope(q + t * dim + h * hd, hd, t, neox, scale, factors);
            for (int h = 0; h < nkv; h++)
                ref_rope(K + t * kv_dim + h * hd, hd, t, neox, scale, factors);
        }
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < nh; h++) {
                int g_ = h / (nh / nkv);
                double mx = -INFINITY, sum = 0.0;
                for (int j = 0; j <= t; j++) {
                    double d = 0.0;
                    for (int i = 0; i < hd; i++)
                        d += (double)q[t * dim + h * hd + i] * K[j * kv_dim + g_ * hd + i];
                    p[j] = (float)(d / sqrt(hd));
                    mx = fmax(mx, p[j]);
                }
                for (int j = 0; j <= t; j++)
                    sum += exp(p[j] - mx);
                for (int i = 0; i < hd; i++) {
                    double acc = 0.0;
                    for (int j = 0; j <= t; j++)
                        acc += exp(p[j] - mx) / sum * Vc[j * kv_dim + g_ * hd + i];
                    att[h * hd + i] = (float)acc;
                }
            }
            ref_matvec(wo, NULL, att, o, dim, dim);
            for (int i = 0; i < dim; i++)
                x[t * dim + i] += o[i];
            ref_rmsnorm(x + t * dim, fn, xb, dim);
            ref_matvec(wg, NULL, xb, h1, ff, dim);
            ref_matvec(wu, NULL, xb, h2, ff, dim);
            for (int i = 0; i < ff; i++)
                h1[i] = h1[i] / (1.0f + expf(-h1[i])) * h2[i];
            ref_matvec(wd, NULL, h1, f, dim, ff);
            for (int i = 0; i < dim; i++)
                x[t * dim + i] += f[i];
        }
        float *all[] = { an, wq, bq, wk, bk, wv, bv, wo, fn, wg, wu, wd };
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            g_free(all[i]);
    }

    float *on = ref_tensor(g, "output_norm.weight");
    float *out = ref_tensor(g, "output.weight");
    float *logits = g_new(float, (size_t)n * V);
    for (int t = 0; t < n; t++) {
        ref_rmsnorm(x + t * dim, on, xb, dim);
        ref_matvec(out ? out : embd, NULL, xb, logits + (size_t)t * V, V, dim);
    }
    float *all[] = { embd, factors, x, xb, q, K, Vc, att, o, p, h1, h2, f, on, out };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        g_free(all[i]);
    return logits;
}

static void
check_against_reference(const synth_model *s, double threshold)
{
    loaded l;
    load(s, 2, &l);
    float *got = engine_logits(&l, prompt, N_PROMPT, N_PROMPT);
    float *want = ref_logits(s, l.gguf, prompt, N_PROMPT);
    double e = hk_nmse(got, want, (size_t)N_PROMPT * SYNTH_N_VOCAB);
    ck_assert_msg(e < threshold, "%s %s: logits nmse %g >= %g", s->arch, hk_type_name(s->type),
                  e, threshold);
    g_free(got);
    g_free(want);
    unload(&l);
}

/* ----------------------------------------------------------------------------
 * Against the reference */

static const struct {
    hk_type type;
    double  threshold;   /* F16 KV cache; 8-bit activations for the quantized */
} ref_cases[] = {
    { HK_TYPE_F32,  1e-6 },
    { HK_TYPE_F16,  1e-6 },
    { HK_TYPE_Q8_0, 5e-4 },
    { HK_TYPE_Q4_0, 5e-4 },
};

START_TEST(test_llama_matches_reference)
{
    synth_model s = synth_model_default();
    s.type = ref_cases[_i].type;
    check_against_reference(&s, ref_cases[_i].threshold);
}
END_TEST

START_TEST(test_k_quant_matches_reference)
{
    /* the k-quants need rows of 256 */
    synth_model s = synth_model_default();
    s.dim = 256;
    s.ff = 512;
    s.type = HK_TYPE_Q4_K;
    check_against_reference(&s, 5e-4);
}
END_TEST

START_TEST(test_qwen2_matches_reference)
{
    synth_model s = synth_model_default();
    s.arch = "qwen2";
    loaded l;
    load(&s, 1, &l);
    const hk_hparams *hp = hk_model_hparams(l.model);
    ck_assert(hp->arch == HK_ARCH_QWEN2);
    ck_assert(hp->rope_neox);
    ck_assert(hp->qkv_bias);
    unload(&l);
    check_against_reference(&s, 1e-6);
}
END_TEST

START_TEST(test_tied_embeddings)
{
    synth_model s = synth_model_default();
    s.tied = true;
    loaded l;
    load(&s, 1, &l);
    ck_assert(hk_model_hparams(l.model)->tied_embeddings);
    unload(&l);
    check_against_reference(&s, 1e-6);
}
END_TEST

START_TEST(test_rope_freq_factors_and_linear_scaling)
{
    synth_model s = synth_model_default();
    s.rope_freqs = true;
    s.rope_linear = 4.0f;
    loaded l;
    load(&s, 1, &l);
    const hk_hparams *hp = hk_model_hparams(l.model);
    ck_assert(hp->rope_freq_factors);
    ck_assert_float_eq_tol(hp->rope_freq_scale, 0.25f, 1e-7f);
    unload(&l);
    check_against_reference(&s, 1e-6);
}
END_TEST

/* ----------------------------------------------------------------------------
 * Batching, threads, kernels */

START_TEST(test_batched_prefill_equals_single_steps)
{
    synth_model s = synth_model_default();
    s.type = HK_TYPE_Q8_0;
    loaded l;
    load(&s, 2, &l);
    float *batched = engine_logits(&l, prompt, N_PROMPT, N_PROMPT);
    float *single = engine_logits(&l, prompt, N_PROMPT, 1);
    float *chunked = engine_logits(&l, prompt, N_PROMPT, 5);
    size_t last = (size_t)(N_PROMPT - 1) * SYNTH_N_VOCAB;
    ck_assert_double_lt(hk_nmse(batched + last, single + last, SYNTH_N_VOCAB), 1e-9);
    ck_assert_double_lt(hk_nmse(chunked, single, (size_t)N_PROMPT * SYNTH_N_VOCAB), 1e-9);
    g_free(batched);
    g_free(single);
    g_free(chunked);
    unload(&l);
}
END_TEST

static int32_t
argmax(const float *x, uint32_t n)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return (int32_t)best;
}

/* Greedy continuation of the prompt, n tokens. */
static void
greedy(const synth_model *s, int n_threads, int32_t *out, int n)
{
    loaded l;
    load(s, n_threads, &l);
    hk_kv_cache *c;
    hk_run_state *st;
    hk_error err = { 0 };
    float *logits = g_new(float, SYNTH_N_VOCAB);
    ck_assert_int_eq(hk_model_new_kv_cache(l.model, 64, &c, &err), 0);
    ck_assert_int_eq(hk_run_state_new(l.model, 16, false, &st, &err), 0);
    ck_assert_int_eq(hk_model_forward(l.model, st, c, prompt, N_PROMPT, false, logits, &err), 0);
    for (int i = 0; i < n; i++) {
        out[i] = argmax(logits, SYNTH_N_VOCAB);
        ck_assert_int_eq(hk_model_forward(l.model, st, c, &out[i], 1, false, logits, &err), 0);
    }
    g_free(logits);
    hk_run_state_free(st);
    hk_kv_cache_free(c);
    unload(&l);
}

#define N_GREEDY 24

START_TEST(test_greedy_same_with_one_and_two_threads)
{
    synth_model s = synth_model_default();
    s.type = HK_TYPE_Q8_0;
    s.output_scale = 10.0f;
    int32_t one[N_GREEDY], two[N_GREEDY];
    greedy(&s, 1, one, N_GREEDY);
    greedy(&s, 2, two, N_GREEDY);
    for (int i = 0; i < N_GREEDY; i++)
        ck_assert_int_eq(one[i], two[i]);
}
END_TEST

START_TEST(test_greedy_same_with_scalar_and_simd_kernels)
{
    hk_cpu_isa best = hk_cpu_isa_detect();
    if (best == HK_CPU_ISA_SCALAR) {
        puts("SKIP: this CPU has no SIMD kernels to compare");
        return;
    }
    synth_model s = synth_model_default();
    s.type = HK_TYPE_Q4_0;
    s.output_scale = 10.0f;
    int32_t scalar[N_GREEDY], simd[N_GREEDY];
    ck_assert(hk_cpu_isa_set(HK_CPU_ISA_SCALAR));
    greedy(&s, 2, scalar, N_GREEDY);
    ck_assert(hk_cpu_isa_set(best));
    greedy(&s, 2, simd, N_GREEDY);
    for (int i = 0; i < N_GREEDY; i++)
        ck_assert_int_eq(scalar[i], simd[i]);
}
END_TEST

/* ----------------------------------------------------------------------------
 * Limits and malformed files */

START_TEST(test_context_full)
{
    synth_model s = synth_model_default();
    loaded l;
    load(&s, 1, &l);
    hk_kv_cache *c;
    hk_run_state *st;
    hk_error err = { 0 };
    float *logits = g_new(float, SYNTH_N_VOCAB);
    ck_assert_int_eq(hk_model_new_kv_cache(l.model, 8, &c, &err), 0);
    ck_assert_int_eq(hk_run_state_new(l.model, 8, false, &st, &err), 0);
    ck_assert_int_eq(hk_model_forward(l.model, st, c, prompt, 6, false, logits, &err), 0);
    ck_assert_int_eq(hk_model_forward(l.model, st, c, prompt, 3, false, logits, &err), -ENOSPC);
    ck_assert_str_eq(err.message, "context full: 8 tokens");
    ck_assert_uint_eq(c->n_past, 6);
    ck_assert_int_eq(hk_model_forward(l.model, st, c, prompt, 2, false, logits, &err), 0);
    ck_assert_int_eq(hk_model_forward(l.model, st, c, prompt, 1, false, logits, &err), -ENOSPC);
    g_free(logits);
    hk_run_state_free(st);
    hk_kv_cache_free(c);
    unload(&l);
}
END_TEST

/* The memory a model needs: its weights, the KV cache in F16 and the
 * activations, from the hyper-parameters alone. */
START_TEST(test_memory_needed)
{
    synth_model s = synth_model_default();
    loaded l;
    load(&s, 1, &l);
    hk_error err = { 0 };
    uint64_t need, weights = hk_gguf_file_size(l.gguf) - hk_gguf_data_offset(l.gguf);
    /* dim 64, 2 layers, 2 kv heads of 16, ff 128 */
    uint64_t kv = 2 * 2 * 100 * 32 * 2;
    uint64_t acts = 10 * (2 * 64 + 2 * 64 + 2 * 32 + 2 * 128) * 4 + SYNTH_N_VOCAB * 4;
    ck_assert_int_eq(hk_model_memory_needed(l.gguf, 100, 10, &need, &err), 0);
    ck_assert_uint_eq(need, weights + kv + acts);
    unload(&l);

    /* hyper-parameters a file may claim: no overflow, an honest answer */
    hk_gguf_writer *w = hk_gguf_writer_new();
    void *data;
    size_t size;
    hk_gguf *g;
    hk_gguf_writer_set_str(w, "general.architecture", "llama");
    hk_gguf_writer_set_u32(w, "llama.embedding_length", 1u << 16);
    hk_gguf_writer_set_u32(w, "llama.block_count", 1024);
    hk_gguf_writer_set_u32(w, "llama.feed_forward_length", 1u << 20);
    hk_gguf_writer_set_u32(w, "llama.attention.head_count", 64);
    hk_gguf_writer_set_u32(w, "llama.context_length", UINT32_MAX);
    hk_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    ck_assert_int_eq(hk_gguf_writer_write_memory(w, &data, &size, &err), 0);
    ck_assert_int_eq(hk_gguf_open_memory(data, size, &g, &err), 0);
    ck_assert_int_eq(hk_model_memory_needed(g, UINT32_MAX, 512, &need, &err), 0);
    ck_assert_uint_eq(need, 2ull * 1024 * UINT32_MAX * (1ull << 16) * 2
                            + 512ull * (4 * (1ull << 16) + 2 * (1ull << 16) + 2 * (1ull << 20)) * 4);
    hk_gguf_close(g);
    g_free(data);
    hk_gguf_writer_free(w);
}
END_TEST

START_TEST(test_token_out_of_range)
{
    synth_model s = synth_model_default();
    loaded l;
    load(&s, 1, &l);
    hk_kv_cache *c;
    hk_run_state *st;
    hk_error err = { 0 };
    float *logits = g_new(float, SYNTH_N_VOCAB);
    int32_t bad[] = { 5, (int32_t)SYNTH_N_VOCAB };
    ck_assert_int_eq(hk_model_new_kv_cache(l.model, 8, &c, &err), 0);
    ck_assert_int_eq(hk_run_state_new(l.model, 8, false, &st, &err), 0);
    ck_assert_int_eq(hk_model_forward(l.model, st, c, bad, 2, false, logits, &err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "out of range"));
    ck_assert_uint_eq(c->n_past, 0);
    g_free(logits);
    hk_run_state_free(st);
    hk_kv_cache_free(c);
    unload(&l);
}
END_TEST

static void
expect_load_error(const synth_model *s, const char *message)
{
    loaded l;
    hk_error err = { 0 };
    int rc = try_load(s, 1, &l, &err);
    ck_assert_int_lt(rc, 0);
    ck_assert_ptr_null(l.model);
    ck_assert_msg(strstr(err.message, message), "error '%s' lacks '%s'", err.message, message);
    unload(&l);
}

/* Each case breaks one thing in an otherwise good model. */
static const struct malformed_case {
    const char *arch;       /* NULL: llama */
    const char *omit, *misshape, *mistype;
    uint32_t    n_head, n_head_kv;  /* 0: the default */
    const char *message;
} malformed_cases[] = {
    { .omit = "blk.1.ffn_up.weight",
      .message = "tensor 'blk.1.ffn_up.weight' is missing" },
    { .arch = "qwen2", .omit = "blk.0.attn_k.bias",
      .message = "tensor 'blk.0.attn_k.bias' is missing" },
    { .misshape = "blk.0.attn_k.weight",
      .message = "tensor 'blk.0.attn_k.weight' has shape (64, 33, 1, 1), expected (64, 32)" },
    { .misshape = "output_norm.weight",
      .message = "tensor 'output_norm.weight' has shape (64, 2, 1, 1), expected (64, 1)" },
    { .mistype = "blk.1.attn_v.weight",
      .message = "tensor 'blk.1.attn_v.weight' has type q4_1, which the cpu backend does not support" },
    { .mistype = "blk.0.ffn_norm.weight",
      .message = "tensor 'blk.0.ffn_norm.weight' has type q4_1, expected f32" },
    { .arch = "gpt2",
      .message = "architecture 'gpt2' is not supported (supported: llama, qwen2)" },
    /* the writer still writes kv tensors for 3 heads of 16 */
    { .n_head = 4, .n_head_kv = 3,
      .message = "3 kv heads do not divide 4 heads" },
};

START_TEST(test_malformed_model)
{
    const struct malformed_case *mc = &malformed_cases[_i];
    synth_model s = synth_model_default();
    if (mc->arch)
        s.arch = mc->arch;
    s.omit = mc->omit;
    s.misshape = mc->misshape;
    s.mistype = mc->mistype;
    if (mc->n_head)
        s.n_head = mc->n_head;
    if (mc->n_head_kv)
        s.n_head_kv = mc->n_head_kv;
    expect_load_error(&s, mc->message);
}
END_TEST

/* ----------------------------------------------------------------------------
 * The shared tiny model */

START_TEST(test_tiny_model_from_shared)
{
    if (hk_test_skip_without_tiny_model("test-model"))
        return;
    char *path = g_build_filename(hk_test_shared_dir(), "models", "llama-2-tiny-random.gguf", NULL);
    hk_gguf *g;
    hk_backend *be;
    hk_model *m;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_gguf_open(path, &g, &err), 0);
    ck_assert_int_eq(hk_backend_cpu_new(2, &be, &err), 0);
    ck_assert_msg(hk_model_load(g, be, &m, &err) == 0, "%s", err.message);
    const hk_hparams *hp = hk_model_hparams(m);
    ck_assert_uint_eq(hp->n_embd, 8);
    ck_assert_uint_eq(hp->n_layer, 1);
    ck_assert_uint_eq(hp->n_vocab, 32000);
    ck_assert(!hp->tied_embeddings);
    ck_assert_int_eq(hk_model_weight_type(m), HK_TYPE_F16);

    hk_kv_cache *c;
    hk_run_state *st;
    float *logits = g_new(float, hp->n_vocab);
    const int32_t ids[] = { 1, 15043, 3186 };
    ck_assert_int_eq(hk_model_new_kv_cache(m, 16, &c, &err), 0);
    ck_assert_int_eq(hk_run_state_new(m, 4, false, &st, &err), 0);
    ck_assert_int_eq(hk_model_forward(m, st, c, ids, 3, false, logits, &err), 0);
    float lo = logits[0], hi = logits[0];
    uint32_t bad = 0;
    for (uint32_t i = 0; i < hp->n_vocab; i++) {
        bad += !isfinite(logits[i]);
        lo = fminf(lo, logits[i]);
        hi = fmaxf(hi, logits[i]);
    }
    ck_assert_uint_eq(bad, 0);
    ck_assert_float_lt(lo, hi);
    g_free(logits);
    hk_run_state_free(st);
    hk_kv_cache_free(c);
    hk_model_free(m);
    hk_backend_free(be);
    hk_gguf_close(g);
    g_free(path);
}
END_TEST

static Suite *
model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("reference");
    tcase_add_loop_test(tc, test_llama_matches_reference, 0,
                        (int)(sizeof ref_cases / sizeof ref_cases[0]));
    tcase_add_test(tc, test_k_quant_matches_reference);
    tcase_add_test(tc, test_qwen2_matches_reference);
    tcase_add_test(tc, test_tied_embeddings);
    tcase_add_test(tc, test_rope_freq_factors_and_linear_scaling);
    suite_add_tcase(s, tc);

    tc = tcase_create("execution");
    tcase_add_test(tc, test_batched_prefill_equals_single_steps);
    tcase_add_test(tc, test_greedy_same_with_one_and_two_threads);
    tcase_add_test(tc, test_greedy_same_with_scalar_and_simd_kernels);
    tcase_add_test(tc, test_context_full);
    tcase_add_test(tc, test_memory_needed);
    tcase_add_test(tc, test_token_out_of_range);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_loop_test(tc, test_malformed_model, 0,
                        (int)(sizeof malformed_cases / sizeof malformed_cases[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("shared");
    tcase_add_test(tc, test_tiny_model_from_shared);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(model_suite)
