/* hk-synth-model.h — tiny random-weight models written with the engine's
 * GGUF writer, for the model and session tests.
 *
 * The weights are deterministic for a seed, scaled so that activations stay
 * near 1, and stored in the requested type; a test's reference forward pass
 * reads them back through the reference dequantizer.  The vocabulary is a
 * small SentencePiece-style one: <unk>, <s>, </s>, the 256 byte tokens and
 * a few words.
 */
#pragma once

#include <glib.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gguf.h"
#include "quant.h"

#define SYNTH_BOS 1
#define SYNTH_EOS 2
#define SYNTH_BYTE0 3            /* <0x00>; byte b is SYNTH_BYTE0 + b */

static const char *const synth_words[] = {
    "▁", "▁the", "▁a", "▁and", "▁of", "▁to", "▁in", "▁is", "▁it", "▁that",
    "▁was", "▁he", "▁for", "▁on", "▁are", "▁with", "▁as", "▁I", "▁his", "▁they",
    "▁be", "▁at", "▁one", "▁have", "▁this", "▁from", "▁or", "▁had", "▁by", "▁hot",
    "he", "ll", "lo", "or", "ld", "▁hello", "▁world", "ing", "ed", "er",
};

#define SYNTH_N_VOCAB (SYNTH_BYTE0 + 256 + (uint32_t)(sizeof synth_words / sizeof synth_words[0]))

typedef struct synth_model {
    const char *arch;            /* "llama" or "qwen2" */
    uint32_t    dim, n_layer, n_head, n_head_kv, ff, ctx;
    hk_type     type;            /* of the matrices */
    bool        tied;            /* no output.weight */
    bool        rope_freqs;      /* rope_freqs.weight (Llama 3) */
    float       rope_linear;     /* rope.scaling.factor; 0: no scaling */
    float       output_scale;    /* on output.weight: far-apart logits keep greedy stable */
    uint64_t    seed;
    /* Set one tensor's values (after the random ones); may be NULL. */
    float     (*fill)(const char *name, uint64_t row, uint64_t col, float value, void *user);
    void       *user;
    /* Faults for the malformed-file tests; NULL for none. */
    const char *omit;            /* leave this tensor out */
    const char *misshape;        /* give this tensor one row too many */
    const char *mistype;         /* write this tensor as q4_1, which no kernel computes */
} synth_model;

/* dim 64, 2 layers, 4 heads, 2 kv heads, ff 128, f32. */
static inline synth_model
synth_model_default(void)
{
    return (synth_model){
        .arch = "llama", .dim = 64, .n_layer = 2, .n_head = 4, .n_head_kv = 2, .ff = 128,
        .ctx = 256, .type = HK_TYPE_F32, .output_scale = 1.0f, .seed = 1,
    };
}

/* xorshift64*: uniform in [-1, 1). */
static inline float
synth_random(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    uint64_t r = *state * 0x2545F4914F6CDD1DULL;
    return (float)((double)(r >> 11) * 0x1p-52 - 1.0);
}

static inline void
synth_add(hk_gguf_writer *w, const synth_model *s, uint64_t *rng, const char *name,
          hk_type type, uint64_t ne0, uint64_t ne1, float scale, float offset)
{
    if (s->omit && strcmp(name, s->omit) == 0)
        return;
    if (s->misshape && strcmp(name, s->misshape) == 0)
        ne1 += 1;
    if (s->mistype && strcmp(name, s->mistype) == 0)
        type = HK_TYPE_Q4_1;

    size_t row_bytes = hk_type_row_bytes(type, ne0);
    uint8_t *data = g_malloc0(row_bytes * ne1);
    float *row = g_new(float, ne0);
    for (uint64_t r = 0; r < ne1; r++) {
        for (uint64_t c = 0; c < ne0; c++) {
            row[c] = offset + scale * synth_random(rng);
            if (s->fill)
                row[c] = s->fill(name, r, c, row[c], s->user);
        }
        if (hk_can_quantize(type))
            hk_quantize_row(type, row, data + r * row_bytes, (int64_t)ne0);
    }
    uint64_t ne[2] = { ne0, ne1 };
    hk_error err = { 0 };
    int rc = hk_gguf_writer_add_tensor(w, name, type, ne1 == 1 ? 1 : 2, ne, data, &err);
    g_assert(rc == 0);
    g_free(row);
    g_free(data);
}

static inline void
synth_vocab(hk_gguf_writer *w)
{
    const char *tokens[SYNTH_N_VOCAB];
    float scores[SYNTH_N_VOCAB];
    int32_t types[SYNTH_N_VOCAB];
    char bytes[256][8];

    tokens[0] = "<unk>", types[0] = 2;
    tokens[1] = "<s>", types[1] = 3;
    tokens[2] = "</s>", types[2] = 3;
    for (int b = 0; b < 256; b++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        tokens[SYNTH_BYTE0 + b] = bytes[b];
        types[SYNTH_BYTE0 + b] = 6;
    }
    for (uint32_t i = SYNTH_BYTE0 + 256; i < SYNTH_N_VOCAB; i++) {
        tokens[i] = synth_words[i - SYNTH_BYTE0 - 256];
        types[i] = 1;
    }
    for (uint32_t i = 0; i < SYNTH_N_VOCAB; i++)
        scores[i] = types[i] == 1 ? -(float)i : 0.0f;
    hk_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    hk_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", tokens, SYNTH_N_VOCAB);
    hk_gguf_writer_set_array(w, "tokenizer.ggml.scores", HK_GGUF_FLOAT32, scores, SYNTH_N_VOCAB);
    hk_gguf_writer_set_array(w, "tokenizer.ggml.token_type", HK_GGUF_INT32, types, SYNTH_N_VOCAB);
    hk_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", SYNTH_BOS);
    hk_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", SYNTH_EOS);
    hk_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0);
}

static inline void
synth_hparams(hk_gguf_writer *w, const synth_model *s)
{
    char key[128];
#define SYNTH_KEY(k) (snprintf(key, sizeof key, "%s.%s", s->arch, k), key)
    hk_gguf_writer_set_str(w, "general.architecture", s->arch);
    hk_gguf_writer_set_u32(w, SYNTH_KEY("context_length"), s->ctx);
    hk_gguf_writer_set_u32(w, SYNTH_KEY("embedding_length"), s->dim);
    hk_gguf_writer_set_u32(w, SYNTH_KEY("block_count"), s->n_layer);
    hk_gguf_writer_set_u32(w, SYNTH_KEY("feed_forward_length"), s->ff);
    hk_gguf_writer_set_u32(w, SYNTH_KEY("attention.head_count"), s->n_head);
    hk_gguf_writer_set_u32(w, SYNTH_KEY("attention.head_count_kv"), s->n_head_kv);
    hk_gguf_writer_set_f32(w, SYNTH_KEY("attention.layer_norm_rms_epsilon"), 1e-5f);
    hk_gguf_writer_set_f32(w, SYNTH_KEY("rope.freq_base"), 10000.0f);
    if (s->rope_linear > 0.0f) {
        hk_gguf_writer_set_str(w, SYNTH_KEY("rope.scaling.type"), "linear");
        hk_gguf_writer_set_f32(w, SYNTH_KEY("rope.scaling.factor"), s->rope_linear);
    }
#undef SYNTH_KEY
}

static inline void
synth_tensors(hk_gguf_writer *w, const synth_model *s)
{
    uint64_t rng = s->seed * 0x9E3779B97F4A7C15ULL + 1;
    uint32_t hd = s->dim / s->n_head;
    uint64_t q_dim = s->dim, kv_dim = (uint64_t)hd * s->n_head_kv;
    float in = 1.0f / sqrtf((float)s->dim), in_ff = 1.0f / sqrtf((float)s->ff);
    bool bias = strcmp(s->arch, "qwen2") == 0;
    char name[64];

    synth_add(w, s, &rng, "token_embd.weight", s->type, s->dim, SYNTH_N_VOCAB, 1.0f, 0.0f);
    for (uint32_t l = 0; l < s->n_layer; l++) {
#define SYNTH_NAME(t) (snprintf(name, sizeof name, "blk.%u.%s", l, t), name)
        synth_add(w, s, &rng, SYNTH_NAME("attn_norm.weight"), HK_TYPE_F32, s->dim, 1, 0.2f, 1.0f);
        synth_add(w, s, &rng, SYNTH_NAME("attn_q.weight"), s->type, s->dim, q_dim, in, 0.0f);
        synth_add(w, s, &rng, SYNTH_NAME("attn_k.weight"), s->type, s->dim, kv_dim, in, 0.0f);
        synth_add(w, s, &rng, SYNTH_NAME("attn_v.weight"), s->type, s->dim, kv_dim, in, 0.0f);
        if (bias) {
            synth_add(w, s, &rng, SYNTH_NAME("attn_q.bias"), HK_TYPE_F32, q_dim, 1, 0.5f, 0.0f);
            synth_add(w, s, &rng, SYNTH_NAME("attn_k.bias"), HK_TYPE_F32, kv_dim, 1, 0.5f, 0.0f);
            synth_add(w, s, &rng, SYNTH_NAME("attn_v.bias"), HK_TYPE_F32, kv_dim, 1, 0.5f, 0.0f);
        }
        synth_add(w, s, &rng, SYNTH_NAME("attn_output.weight"), s->type, q_dim, s->dim, in, 0.0f);
        synth_add(w, s, &rng, SYNTH_NAME("ffn_norm.weight"), HK_TYPE_F32, s->dim, 1, 0.2f, 1.0f);
        synth_add(w, s, &rng, SYNTH_NAME("ffn_gate.weight"), s->type, s->dim, s->ff, in, 0.0f);
        synth_add(w, s, &rng, SYNTH_NAME("ffn_up.weight"), s->type, s->dim, s->ff, in, 0.0f);
        synth_add(w, s, &rng, SYNTH_NAME("ffn_down.weight"), s->type, s->ff, s->dim, in_ff, 0.0f);
#undef SYNTH_NAME
    }
    synth_add(w, s, &rng, "output_norm.weight", HK_TYPE_F32, s->dim, 1, 0.2f, 1.0f);
    if (!s->tied)
        synth_add(w, s, &rng, "output.weight", s->type, s->dim, SYNTH_N_VOCAB,
                  in * s->output_scale, 0.0f);
    if (s->rope_freqs)
        synth_add(w, s, &rng, "rope_freqs.weight", HK_TYPE_F32, hd / 2, 1, 3.0f, 4.0f);
}

/* The file in memory (g_free), for hk_gguf_open_memory. */
static inline void
synth_model_write(const synth_model *s, void **ret_data, size_t *ret_size)
{
    hk_gguf_writer *w = hk_gguf_writer_new();
    hk_error err = { 0 };
    synth_hparams(w, s);
    synth_vocab(w);
    synth_tensors(w, s);
    int rc = hk_gguf_writer_write_memory(w, ret_data, ret_size, &err);
    g_assert(rc == 0);
    hk_gguf_writer_free(w);
}
