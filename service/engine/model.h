/* model.h — a transformer language model from a GGUF file, and its
 * forward pass.
 *
 * Architectures: `llama` (Llama 1-3, TinyLlama, SmolLM, Mistral: rope on
 * adjacent pairs, Llama 3 frequency factors, linear rope scaling, output
 * tied to the embeddings when output.weight is absent) and `qwen2`
 * (biases on q, k and v, rope on split halves).  Every tensor's presence,
 * type and shape is checked against the hyper-parameters when the model
 * loads, so a malformed file is an error, never a crash.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "error.h"
#include "gguf.h"
#include "kv-cache.h"

typedef enum hk_arch {
    HK_ARCH_LLAMA,
    HK_ARCH_QWEN2,
} hk_arch;

const char *hk_arch_name(hk_arch arch);

typedef struct hk_hparams {
    hk_arch  arch;
    uint32_t n_vocab;
    uint32_t n_ctx_train;      /* the context it was trained for */
    uint32_t n_embd;
    uint32_t n_layer;
    uint32_t n_ff;
    uint32_t n_head;
    uint32_t n_head_kv;
    uint32_t head_dim;
    uint32_t n_rot;            /* dims of each head rope turns */
    float    norm_eps;
    float    rope_freq_base;
    float    rope_freq_scale;  /* 1 / linear scaling factor */
    bool     rope_neox;
    bool     rope_freq_factors;  /* rope_freqs.weight (Llama 3) */
    bool     qkv_bias;
    bool     tied_embeddings;  /* no output.weight: logits from token_embd */
} hk_hparams;

typedef struct hk_model hk_model;

/* Reads the hyper-parameters, checks every tensor and hands the weights to
 * the backend.  g must stay open while the model lives (the CPU backend
 * computes straight from its mapping). */
int  hk_model_load(const hk_gguf *g, hk_backend *be, hk_model **ret, hk_error *err);
void hk_model_free(hk_model *m);   /* accepts NULL */

/* Memory a model of g takes with a context of n_ctx tokens (at most the
 * context it was trained for, as sessions take it) and prompt batches of
 * n_batch: its weights, its KV cache and its activations, in
 * bytes, known before anything is allocated, so that a file this machine
 * cannot hold is refused instead of running it out of memory.  Fails
 * like hk_model_load on bad hyper-parameters. */
int hk_model_memory_needed(const hk_gguf *g, uint32_t n_ctx, uint32_t n_batch, uint64_t *ret,
                           hk_error *err);

const hk_hparams *hk_model_hparams(const hk_model *m);
hk_backend       *hk_model_backend(const hk_model *m);
/* The type of most weights (that of blk.0.ffn_up.weight): "q4_K"… */
hk_type           hk_model_weight_type(const hk_model *m);

/* A KV cache of n_ctx positions for this model. */
int hk_model_new_kv_cache(const hk_model *m, uint32_t n_ctx, hk_kv_cache **ret, hk_error *err);

/* The activations of a forward call of up to n_batch tokens; with
 * all_logits, room for the logits of every token of a batch, else of one. */
typedef struct hk_run_state hk_run_state;

int  hk_run_state_new(const hk_model *m, uint32_t n_batch, bool all_logits,
                      hk_run_state **ret, hk_error *err);
void hk_run_state_free(hk_run_state *s);   /* accepts NULL */

/* Run n tokens (1 ≤ n ≤ n_batch) at the next positions of cache c.
 * logits (n_vocab floats, or n × n_vocab with all_logits) receives the
 * logits of the last token, or of every token.  A batch that does not fit
 * in the cache is refused ("context full: N tokens") and changes nothing. */
int hk_model_forward(const hk_model *m, hk_run_state *s, hk_kv_cache *c,
                     const int32_t *tokens, uint32_t n, bool all_logits,
                     float *logits, hk_error *err);
