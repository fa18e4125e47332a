/* model.c — hyper-parameters and weights from GGUF, and the forward pass. */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sanity bounds on what a file may ask for, far above any real model. */
#define MAX_LAYERS   1024
#define MAX_EMBD     (1u << 16)
#define MAX_FF       (1u << 20)
#define MAX_HEADS    1024
#define MAX_HEAD_DIM 1024

/* ----------------------------------------------------------------------------
 * The model */

typedef struct hk_layer {
    hk_tensor attn_norm;   /* (dim,) F32 */
    hk_tensor wq;          /* (q_dim, dim): q_dim = n_head * head_dim */
    hk_tensor wk;          /* (kv_dim, dim): kv_dim = n_head_kv * head_dim */
    hk_tensor wv;          /* (kv_dim, dim) */
    hk_tensor bq;          /* (q_dim,) F32, qwen2 */
    hk_tensor bk;          /* (kv_dim,) F32, qwen2 */
    hk_tensor bv;          /* (kv_dim,) F32, qwen2 */
    hk_tensor wo;          /* (dim, q_dim) */
    hk_tensor ffn_norm;    /* (dim,) F32 */
    hk_tensor w_gate;      /* (ff, dim) */
    hk_tensor w_up;        /* (ff, dim) */
    hk_tensor w_down;      /* (dim, ff) */
} hk_layer;

struct hk_model {
    hk_hparams  hp;
    hk_backend *be;
    hk_tensor   tok_embd;      /* (vocab, dim) */
    hk_tensor   output_norm;   /* (dim,) F32 */
    hk_tensor   output;        /* (vocab, dim); unused when tied */
    hk_tensor   rope_freqs;    /* (n_rot / 2,) F32 */
    hk_layer   *layers;        /* (n_layer) */
};

struct hk_run_state {
    hk_backend *be;
    uint32_t    n_batch;
    bool        all_logits;
    hk_tensor   x;        /* (n_batch, dim) the residual stream */
    hk_tensor   xb;       /* (n_batch, dim) normed input, then a block's output */
    hk_tensor   q;        /* (n_batch, q_dim) */
    hk_tensor   k;        /* (n_batch, kv_dim) */
    hk_tensor   v;        /* (n_batch, kv_dim) */
    hk_tensor   att;      /* (n_batch, q_dim) attention output */
    hk_tensor   hb;       /* (n_batch, ff) gate, then swiglu */
    hk_tensor   hb2;      /* (n_batch, ff) up */
    hk_tensor   logits;   /* (n_batch or 1, vocab) */
};

const char *
hk_arch_name(hk_arch arch)
{
    return arch == HK_ARCH_QWEN2 ? "qwen2" : "llama";
}

/* ----------------------------------------------------------------------------
 * Hyper-parameters */

static bool
get_u32(const hk_gguf *g, const char *arch, const char *key, uint32_t *out)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", arch, key);
    return hk_gguf_get_u32(g, name, out);
}

static bool
get_f32(const hk_gguf *g, const char *arch, const char *key, float *out)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", arch, key);
    return hk_gguf_get_f32(g, name, out);
}

static int
require_u32(const hk_gguf *g, const char *arch, const char *key, uint32_t min, uint32_t max,
            uint32_t *out, hk_error *err)
{
    if (!get_u32(g, arch, key, out))
        return hk_error_set(err, -EINVAL, "missing or invalid %s.%s", arch, key);
    if (*out < min || *out > max)
        return hk_error_set(err, -EINVAL, "%s.%s = %u is out of range (%u…%u)",
                            arch, key, *out, min, max);
    return 0;
}

static int
read_arch(const hk_gguf *g, hk_arch *ret, hk_error *err)
{
    hk_gguf_str name;
    if (!hk_gguf_get_str(g, "general.architecture", &name))
        return hk_error_set(err, -EINVAL, "missing general.architecture");
    if (hk_gguf_str_eq(name, "llama")) {
        *ret = HK_ARCH_LLAMA;
        return 0;
    }
    if (hk_gguf_str_eq(name, "qwen2")) {
        *ret = HK_ARCH_QWEN2;
        return 0;
    }
    char *s = hk_gguf_str_dup(name);
    hk_error_set(err, -ENOTSUP, "architecture '%s' is not supported (supported: llama, qwen2)",
                 s ? s : "?");
    free(s);
    return -ENOTSUP;
}

static int
read_rope_scaling(const hk_gguf *g, const char *arch, hk_hparams *hp, hk_error *err)
{
    char key[128];
    hk_gguf_str type;
    float factor = 1.0f;

    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    if (hk_gguf_get_str(g, key, &type) && !hk_gguf_str_eq(type, "none")) {
        if (!hk_gguf_str_eq(type, "linear")) {
            char *s = hk_gguf_str_dup(type);
            hk_error_set(err, -ENOTSUP, "rope scaling '%s' is not supported (supported: linear)",
                         s ? s : "?");
            free(s);
            return -ENOTSUP;
        }
        get_f32(g, arch, "rope.scaling.factor", &factor);
    } else {
        get_f32(g, arch, "rope.scale_linear", &factor);   /* older files */
    }
    if (!(factor > 0.0f) || !isfinite(factor))
        return hk_error_set(err, -EINVAL, "rope scaling factor %g is not positive", factor);
    hp->rope_freq_scale = 1.0f / factor;
    return 0;
}

static int
read_hparams(const hk_gguf *g, hk_hparams *hp, hk_error *err)
{
    int rc = read_arch(g, &hp->arch, err);
    if (rc < 0)
        return rc;
    const char *arch = hk_arch_name(hp->arch);

    if ((rc = require_u32(g, arch, "embedding_length", 1, MAX_EMBD, &hp->n_embd, err)) < 0 ||
        (rc = require_u32(g, arch, "block_count", 1, MAX_LAYERS, &hp->n_layer, err)) < 0 ||
        (rc = require_u32(g, arch, "feed_forward_length", 1, MAX_FF, &hp->n_ff, err)) < 0 ||
        (rc = require_u32(g, arch, "attention.head_count", 1, MAX_HEADS, &hp->n_head, err)) < 0 ||
        (rc = require_u32(g, arch, "context_length", 1, UINT32_MAX, &hp->n_ctx_train, err)) < 0)
        return rc;

    hp->n_head_kv = hp->n_head;
    get_u32(g, arch, "attention.head_count_kv", &hp->n_head_kv);
    if (hp->n_head_kv == 0 || hp->n_head % hp->n_head_kv != 0)
        return hk_error_set(err, -EINVAL, "%u kv heads do not divide %u heads",
                            hp->n_head_kv, hp->n_head);

    hp->head_dim = hp->n_embd / hp->n_head;
    get_u32(g, arch, "attention.key_length", &hp->head_dim);
    uint32_t value_dim = hp->head_dim;
    get_u32(g, arch, "attention.value_length", &value_dim);
    if (hp->head_dim == 0 || hp->head_dim > MAX_HEAD_DIM || value_dim != hp->head_dim)
        return hk_error_set(err, -EINVAL, "head size %u (values %u) is not supported",
                            hp->head_dim, value_dim);

    hp->n_rot = hp->head_dim;
    get_u32(g, arch, "rope.dimension_count", &hp->n_rot);
    if (hp->n_rot == 0 || hp->n_rot % 2 != 0 || hp->n_rot > hp->head_dim)
        return hk_error_set(err, -EINVAL, "rope over %u dims of heads of %u", hp->n_rot,
                            hp->head_dim);

    if (!get_f32(g, arch, "attention.layer_norm_rms_epsilon", &hp->norm_eps))
        return hk_error_set(err, -EINVAL, "missing or invalid %s.attention.layer_norm_rms_epsilon",
                            arch);
    if (!(hp->norm_eps > 0.0f) || !(hp->norm_eps < 1.0f))
        return hk_error_set(err, -EINVAL, "rms norm epsilon %g is out of range", hp->norm_eps);

    hp->rope_freq_base = 10000.0f;
    get_f32(g, arch, "rope.freq_base", &hp->rope_freq_base);
    if (!(hp->rope_freq_base > 1.0f) || !isfinite(hp->rope_freq_base))
        return hk_error_set(err, -EINVAL, "rope frequency base %g is out of range",
                            hp->rope_freq_base);
    hp->rope_neox = hp->arch == HK_ARCH_QWEN2;
    return read_rope_scaling(g, arch, hp, err);
}

/* ----------------------------------------------------------------------------
 * Weights */

/* The ne1 of a vector: a tensor of one dimension, always F32. */
#define VECTOR 0

/* Find name, check it is a vector (ne0,) of F32 (ne1 VECTOR) or a matrix
 * (ne1, ne0) of a type the backend computes with, and hand it to the
 * backend.  A missing optional tensor leaves *ret empty (buffer NULL). */
static int
load_tensor(hk_model *m, const hk_gguf *g, const char *name, uint64_t ne0, uint64_t ne1,
            bool required, hk_tensor *ret, hk_error *err)
{
    const hk_gguf_tensor *t = hk_gguf_find_tensor(g, name);
    if (!t) {
        if (required)
            return hk_error_set(err, -EINVAL, "tensor '%s' is missing", name);
        return 0;
    }
    bool vector = ne1 == VECTOR;
    if (vector)
        ne1 = 1;
    if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1)
        return hk_error_set(err, -EINVAL,
                            "tensor '%s' has shape (%llu, %llu, %llu, %llu), expected (%llu, %llu)",
                            name, (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
                            (unsigned long long)t->ne[2], (unsigned long long)t->ne[3],
                            (unsigned long long)ne0, (unsigned long long)ne1);
    if (vector && t->type != HK_TYPE_F32)
        return hk_error_set(err, -EINVAL, "tensor '%s' has type %s, expected f32",
                            name, hk_type_name(t->type));
    if (!vector && (!hk_type_is_supported(t->type) || !hk_backend_supports_type(m->be, t->type)))
        return hk_error_set(err, -ENOTSUP, "tensor '%s' has type %s, which the %s backend "
                            "does not support", name, hk_type_name(t->type),
                            hk_backend_name(m->be));
    if (hk_type_row_bytes(t->type, ne0) == 0)
        return hk_error_set(err, -EINVAL, "tensor '%s': a row of %llu is not whole %s blocks",
                            name, (unsigned long long)ne0, hk_type_name(t->type));
    int rc = hk_backend_tensor_upload(m->be, t->type, (int64_t)ne0, (int64_t)ne1, t->data, ret, err);
    if (rc < 0)
        hk_error_prefix(err, "tensor '%s': ", name);
    return rc;
}

static int
load_layer(hk_model *m, const hk_gguf *g, uint32_t l, hk_error *err)
{
    const hk_hparams *hp = &m->hp;
    hk_layer *L = &m->layers[l];
    uint64_t dim = hp->n_embd, ff = hp->n_ff;
    uint64_t q_dim = (uint64_t)hp->n_head * hp->head_dim;
    uint64_t kv_dim = (uint64_t)hp->n_head_kv * hp->head_dim;
    bool bias = hp->arch == HK_ARCH_QWEN2;
    const struct {
        const char *name;
        uint64_t    ne0, ne1;
        bool        required;
        hk_tensor  *t;
    } tensors[] = {
        { "attn_norm.weight",   dim,   VECTOR, true, &L->attn_norm },
        { "attn_q.weight",      dim,   q_dim,  true, &L->wq },
        { "attn_k.weight",      dim,   kv_dim, true, &L->wk },
        { "attn_v.weight",      dim,   kv_dim, true, &L->wv },
        { "attn_q.bias",        q_dim, VECTOR, bias, &L->bq },
        { "attn_k.bias",        kv_dim, VECTOR, bias, &L->bk },
        { "attn_v.bias",        kv_dim, VECTOR, bias, &L->bv },
        { "attn_output.weight", q_dim, dim,    true, &L->wo },
        { "ffn_norm.weight",    dim,   VECTOR, true, &L->ffn_norm },
        { "ffn_gate.weight",    dim,   ff,     true, &L->w_gate },
        { "ffn_up.weight",      dim,   ff,     true, &L->w_up },
        { "ffn_down.weight",    ff,    dim,    true, &L->w_down },
    };
    for (size_t i = 0; i < sizeof tensors / sizeof tensors[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "blk.%u.%s", l, tensors[i].name);
        int rc = load_tensor(m, g, name, tensors[i].ne0, tensors[i].ne1, tensors[i].required,
                             tensors[i].t, err);
        if (rc < 0)
            return rc;
    }
    bool has_bias = L->bq.buffer || L->bk.buffer || L->bv.buffer;
    if (has_bias && !(L->bq.buffer && L->bk.buffer && L->bv.buffer))
        return hk_error_set(err, -EINVAL, "layer %u has biases on some of q, k, v only", l);
    if (l > 0 && has_bias != m->hp.qkv_bias)
        return hk_error_set(err, -EINVAL, "layer %u has %s q, k, v biases than layer 0", l,
                            has_bias ? "more" : "fewer");
    m->hp.qkv_bias = has_bias;
    return 0;
}

static int
load_weights(hk_model *m, const hk_gguf *g, hk_error *err)
{
    hk_hparams *hp = &m->hp;
    const hk_gguf_tensor *embd = hk_gguf_find_tensor(g, "token_embd.weight");
    if (!embd)
        return hk_error_set(err, -EINVAL, "tensor 'token_embd.weight' is missing");
    if (embd->ne[1] == 0 || embd->ne[1] > INT32_MAX)
        return hk_error_set(err, -EINVAL, "token_embd.weight has %llu rows",
                            (unsigned long long)embd->ne[1]);
    hp->n_vocab = (uint32_t)embd->ne[1];
    uint32_t n_vocab = hp->n_vocab;
    char key[128];
    snprintf(key, sizeof key, "%s.vocab_size", hk_arch_name(hp->arch));
    if (hk_gguf_get_u32(g, key, &n_vocab) && n_vocab != hp->n_vocab)
        return hk_error_set(err, -EINVAL, "%s is %u but token_embd.weight has %u rows",
                            key, n_vocab, hp->n_vocab);

    int rc;
    if ((rc = load_tensor(m, g, "token_embd.weight", hp->n_embd, hp->n_vocab, true,
                          &m->tok_embd, err)) < 0 ||
        (rc = load_tensor(m, g, "output_norm.weight", hp->n_embd, VECTOR, true,
                          &m->output_norm, err)) < 0 ||
        (rc = load_tensor(m, g, "output.weight", hp->n_embd, hp->n_vocab, false,
                          &m->output, err)) < 0 ||
        (rc = load_tensor(m, g, "rope_freqs.weight", hp->n_rot / 2, VECTOR, false,
                          &m->rope_freqs, err)) < 0)
        return rc;
    hp->tied_embeddings = m->output.buffer == NULL;
    hp->rope_freq_factors = m->rope_freqs.buffer != NULL;

    m->layers = calloc(hp->n_layer, sizeof *m->layers);
    if (!m->layers)
        return hk_error_set(err, -ENOMEM, "out of memory for %u layers", hp->n_layer);
    for (uint32_t l = 0; l < hp->n_layer; l++)
        if ((rc = load_layer(m, g, l, err)) < 0)
            return rc;
    return 0;
}

static int
check_backend(hk_backend *be, hk_error *err)
{
    for (hk_op op = 0; op < HK_OP_COUNT; op++)
        if (!hk_backend_supports_op(be, op))
            return hk_error_set(err, -ENOTSUP, "the %s backend lacks the %s op",
                                hk_backend_name(be), hk_op_name(op));
    return 0;
}

int
hk_model_load(const hk_gguf *g, hk_backend *be, hk_model **ret, hk_error *err)
{
    int rc = check_backend(be, err);
    if (rc < 0)
        return rc;
    hk_model *m = calloc(1, sizeof *m);
    if (!m)
        return hk_error_set(err, -ENOMEM, "out of memory for a model");
    m->be = be;
    rc = read_hparams(g, &m->hp, err);
    if (rc == 0)
        rc = load_weights(m, g, err);
    if (rc < 0) {
        hk_model_free(m);
        return rc;
    }
    *ret = m;
    return 0;
}

void
hk_model_free(hk_model *m)
{
    if (!m)
        return;
    if (m->layers) {
        for (uint32_t l = 0; l < m->hp.n_layer; l++) {
            hk_layer *L = &m->layers[l];
            hk_tensor *all[] = { &L->attn_norm, &L->wq, &L->wk, &L->wv, &L->bq, &L->bk,
                                 &L->bv, &L->wo, &L->ffn_norm, &L->w_gate, &L->w_up,
                                 &L->w_down };
            for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
                hk_backend_tensor_free(m->be, all[i]);
        }
        free(m->layers);
    }
    hk_backend_tensor_free(m->be, &m->tok_embd);
    hk_backend_tensor_free(m->be, &m->output_norm);
    hk_backend_tensor_free(m->be, &m->output);
    hk_backend_tensor_free(m->be, &m->rope_freqs);
    free(m);
}

int
hk_model_memory_needed(const hk_gguf *g, uint32_t n_ctx, uint32_t n_batch, uint64_t *ret,
                       hk_error *err)
{
    hk_hparams hp;
    int rc = read_hparams(g, &hp, err);
    if (rc < 0)
        return rc;
    const hk_gguf_tensor *embd = hk_gguf_find_tensor(g, "token_embd.weight");
    uint64_t n_vocab = embd ? embd->ne[1] : 0;
    if (n_ctx > hp.n_ctx_train)
        n_ctx = hp.n_ctx_train;
    uint64_t q_dim = (uint64_t)hp.n_head * hp.head_dim;
    uint64_t kv_dim = (uint64_t)hp.n_head_kv * hp.head_dim;
    /* the limits on the hyper-parameters keep every product below 2^62 */
    uint64_t size = hk_gguf_file_size(g), data = hk_gguf_data_offset(g);
    uint64_t weights = size > data ? size - data : 0;
    /* keys and values, F16 */
    uint64_t kv = 2 * (uint64_t)hp.n_layer * n_ctx * kv_dim * 2;
    /* as hk_run_state_new allocates them */
    uint64_t acts = (uint64_t)n_batch * (2 * hp.n_embd + 2 * q_dim + 2 * kv_dim + 2 * (uint64_t)hp.n_ff)
                        * sizeof(float)
                  + n_vocab * sizeof(float);
    *ret = weights + kv + acts;
    return 0;
}

const hk_hparams *
hk_model_hparams(const hk_model *m)
{
    return &m->hp;
}

hk_backend *
hk_model_backend(const hk_model *m)
{
    return m->be;
}

hk_type
hk_model_weight_type(const hk_model *m)
{
    return m->layers[0].w_up.type;
}

int
hk_model_new_kv_cache(const hk_model *m, uint32_t n_ctx, hk_kv_cache **ret, hk_error *err)
{
    return hk_kv_cache_new(m->be, m->hp.n_layer, n_ctx, m->hp.n_head_kv, m->hp.head_dim,
                           ret, err);
}

/* ----------------------------------------------------------------------------
 * Run state */

int
hk_run_state_new(const hk_model *m, uint32_t n_batch, bool all_logits, hk_run_state **ret,
                 hk_error *err)
{
    const hk_hparams *hp = &m->hp;
    if (n_batch == 0)
        return hk_error_set(err, -EINVAL, "a batch of 0 tokens");
    hk_run_state *s = calloc(1, sizeof *s);
    if (!s)
        return hk_error_set(err, -ENOMEM, "out of memory for the run state");
    s->be = m->be;
    s->n_batch = n_batch;
    s->all_logits = all_logits;

    int64_t q_dim = (int64_t)hp->n_head * hp->head_dim;
    int64_t kv_dim = (int64_t)hp->n_head_kv * hp->head_dim;
    const struct { hk_tensor *t; int64_t ne0, ne1; } acts[] = {
        { &s->x,      hp->n_embd,  n_batch },
        { &s->xb,     hp->n_embd,  n_batch },
        { &s->q,      q_dim,       n_batch },
        { &s->k,      kv_dim,      n_batch },
        { &s->v,      kv_dim,      n_batch },
        { &s->att,    q_dim,       n_batch },
        { &s->hb,     hp->n_ff,    n_batch },
        { &s->hb2,    hp->n_ff,    n_batch },
        { &s->logits, hp->n_vocab, all_logits ? n_batch : 1 },
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        int rc = hk_backend_tensor_alloc(m->be, HK_TYPE_F32, acts[i].ne0, acts[i].ne1,
                                         acts[i].t, err);
        if (rc < 0) {
            hk_run_state_free(s);
            hk_error_prefix(err, "activations for %u tokens: ", n_batch);
            return rc;
        }
    }
    *ret = s;
    return 0;
}

void
hk_run_state_free(hk_run_state *s)
{
    if (!s)
        return;
    hk_tensor *all[] = { &s->x, &s->xb, &s->q, &s->k, &s->v, &s->att, &s->hb, &s->hb2,
                         &s->logits };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        hk_backend_tensor_free(s->be, all[i]);
    free(s);
}

/* ----------------------------------------------------------------------------
 * The forward pass */

static int
check_batch(const hk_model *m, const hk_run_state *s, const hk_kv_cache *c,
            const int32_t *tokens, uint32_t n, bool all_logits, hk_error *err)
{
    if (n == 0 || n > s->n_batch)
        return hk_error_set(err, -EINVAL, "a batch of %u tokens (1…%u)", n, s->n_batch);
    if (all_logits && !s->all_logits)
        return hk_error_set(err, -EINVAL, "this run state keeps only the last logits");
    if (c->n_layer != m->hp.n_layer || c->n_head_kv != m->hp.n_head_kv ||
        c->head_dim != m->hp.head_dim)
        return hk_error_set(err, -EINVAL, "the kv cache was made for another model");
    for (uint32_t i = 0; i < n; i++)
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= m->hp.n_vocab)
            return hk_error_set(err, -EINVAL, "token id %d is out of range (vocabulary of %u)",
                                tokens[i], m->hp.n_vocab);
    return hk_kv_cache_check_room(c, n, err);
}

int
hk_model_forward(const hk_model *m, hk_run_state *s, hk_kv_cache *c,
                 const int32_t *tokens, uint32_t n, bool all_logits,
                 float *logits, hk_error *err)
{
    int rc = check_batch(m, s, c, tokens, n, all_logits, err);
    if (rc < 0)
        return rc;

    const hk_hparams *hp = &m->hp;
    hk_backend *be = m->be;
    float eps = hp->norm_eps;
    hk_tensor x = hk_tensor_rows(&s->x, 0, n);
    hk_tensor xb = hk_tensor_rows(&s->xb, 0, n);
    hk_tensor q = hk_tensor_rows(&s->q, 0, n);
    hk_tensor k = hk_tensor_rows(&s->k, 0, n);
    hk_tensor v = hk_tensor_rows(&s->v, 0, n);
    hk_tensor att = hk_tensor_rows(&s->att, 0, n);
    hk_tensor hb = hk_tensor_rows(&s->hb, 0, n);
    hk_tensor hb2 = hk_tensor_rows(&s->hb2, 0, n);
    const hk_tensor *output = hp->tied_embeddings ? &m->tok_embd : &m->output;
    hk_rope_params rope = {
        .head_dim = (int32_t)hp->head_dim, .n_rot = (int32_t)hp->n_rot,
        .pos0 = (int32_t)c->n_past, .freq_base = hp->rope_freq_base,
        .freq_scale = hp->rope_freq_scale, .neox = hp->rope_neox,
        .freq_factors = hp->rope_freq_factors ? &m->rope_freqs : NULL,
    };
    hk_attn_params attn = {
        .n_head = (int32_t)hp->n_head, .n_head_kv = (int32_t)hp->n_head_kv,
        .head_dim = (int32_t)hp->head_dim, .n_slots = (int32_t)c->n_slots,
        .pos0 = (int32_t)c->n_past, .scale = 1.0f / sqrtf((float)hp->head_dim),
    };

    /* x (n, dim) = the tokens' embeddings */
    hk_backend_get_rows(be, &m->tok_embd, tokens, &x);

    for (uint32_t l = 0; l < hp->n_layer; l++) {
        const hk_layer *L = &m->layers[l];

        /* attention: xb (n, dim) = rmsnorm(x) */
        hk_backend_rms_norm(be, &x, &L->attn_norm, eps, &xb);
        /* q (n, q_dim), k and v (n, kv_dim) = xb @ W^T (+ b) */
        hk_backend_matmul(be, &xb, &L->wq, &q);
        hk_backend_matmul(be, &xb, &L->wk, &k);
        hk_backend_matmul(be, &xb, &L->wv, &v);
        if (hp->qkv_bias) {
            hk_backend_add_bias(be, &q, &L->bq);
            hk_backend_add_bias(be, &k, &L->bk);
            hk_backend_add_bias(be, &v, &L->bv);
        }
        /* positions pos0…pos0+n-1 into q and k */
        hk_backend_rope(be, &q, &rope);
        hk_backend_rope(be, &k, &rope);
        /* k, v into the cache; att (n, q_dim) = softmax(q K^T / √hd) V */
        hk_backend_kv_store(be, &k, &v, &c->k[l], &c->v[l], &attn);
        hk_backend_attention(be, &q, &c->k[l], &c->v[l], &attn, &att);
        /* xb (n, dim) = att @ Wo^T; residual */
        hk_backend_matmul(be, &att, &L->wo, &xb);
        hk_backend_add(be, &x, &xb, &x);

        /* feed-forward: xb = rmsnorm(x); hb (n, ff) = silu(xb Wg^T) * (xb Wu^T) */
        hk_backend_rms_norm(be, &x, &L->ffn_norm, eps, &xb);
        hk_backend_matmul(be, &xb, &L->w_gate, &hb);
        hk_backend_matmul(be, &xb, &L->w_up, &hb2);
        hk_backend_swiglu(be, &hb, &hb2, &hb);
        /* xb (n, dim) = hb @ Wd^T; residual */
        hk_backend_matmul(be, &hb, &L->w_down, &xb);
        hk_backend_add(be, &x, &xb, &x);
    }

    /* logits (n_out, vocab) for the last token, or all of them */
    uint32_t first = all_logits ? 0 : n - 1;
    hk_tensor x_out = hk_tensor_rows(&s->x, first, n - first);
    hk_tensor xb_out = hk_tensor_rows(&s->xb, 0, n - first);
    hk_tensor out = hk_tensor_rows(&s->logits, 0, n - first);
    hk_backend_rms_norm(be, &x_out, &m->output_norm, eps, &xb_out);
    hk_backend_matmul(be, &xb_out, output, &out);
    hk_backend_read(be, &out, logits);

    rc = hk_backend_sync(be, err);
    if (rc < 0)
        return rc;
    c->n_past += n;
    return 0;
}
