/* session.h — a context over a model: its KV cache, reading prompts in
 * batches and generating text token by token.
 *
 * A session owns the cache and the activations; the model, the tokenizer
 * and the backend are shared and must outlive it.  The tokens of every
 * call follow those of the calls before, until hk_session_clear.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "model.h"
#include "sampler.h"
#include "tokenizer.h"

#define HK_SESSION_DEFAULT_CTX   4096
#define HK_SESSION_DEFAULT_BATCH 512

typedef struct hk_session_params {
    uint32_t n_ctx;        /* positions; 0: the smaller of 4096 and the model's context */
    uint32_t n_batch;      /* tokens per forward call when reading a prompt; 0: 512 */
    bool     all_logits;   /* let hk_session_eval return every token's logits */
} hk_session_params;

/* All zero: the defaults. */
void hk_session_params_init(hk_session_params *p);

typedef struct hk_session hk_session;

/* tok may be NULL for a session that only evaluates token ids. */
int  hk_session_new(const hk_model *m, const hk_tokenizer *tok, const hk_session_params *p,
                    hk_session **ret, hk_error *err);
void hk_session_free(hk_session *s);   /* accepts NULL */

uint32_t hk_session_n_ctx(const hk_session *s);
uint32_t hk_session_n_past(const hk_session *s);
/* Forget every token: the next one is at position 0. */
void     hk_session_clear(hk_session *s);
/* Keep the first n tokens and forget the rest, so a prompt that starts
 * like the last one is read from where they part (n >= n_past: no change). */
void     hk_session_truncate(hk_session *s, uint32_t n);

/* Feed n tokens, in batches of n_batch.  The last token's logits are then
 * hk_session_logits; all_logits (NULL, or n × n_vocab floats, with the
 * session's all_logits) receives every token's.  Tokens that would not fit
 * are refused before any is read ("context full: N tokens"). */
int  hk_session_eval(hk_session *s, const int32_t *tokens, size_t n, float *all_logits,
                     hk_error *err);
/* (n_vocab,) the logits after the last token fed. */
const float *hk_session_logits(const hk_session *s);

typedef enum hk_stop_reason {
    HK_STOP_LENGTH,     /* max_tokens generated */
    HK_STOP_EOG,        /* the model ended its turn */
    HK_STOP_STRING,     /* a stop string appeared */
    HK_STOP_CALLER,     /* the piece callback said stop */
} hk_stop_reason;

typedef struct hk_generate_params {
    uint32_t           max_tokens;
    hk_sampler_params  sampler;
    const char *const *stops;          /* stop strings, not shown */
    size_t             n_stops;
    bool               parse_special;  /* control tokens written in the prompt
                                          (a rendered chat template) */
} hk_generate_params;

/* max_tokens 128, the sampler's defaults, no stop strings. */
void hk_generate_params_init(hk_generate_params *p);

/* One call per generated token, EOG excluded: text is what may now be
 * shown (whole UTF-8 characters, none of a stop string; often "" while a
 * character or a possible stop string is incomplete).  At the end, text
 * held back comes with token -1.  Return false to stop. */
typedef bool (*hk_piece_fn)(const char *text, int32_t token, void *user);

typedef struct hk_generate_stats {
    uint32_t       n_prompt;        /* tokens of the prompt */
    uint32_t       n_generated;     /* tokens generated, EOG excluded */
    double         prompt_seconds;  /* reading the prompt */
    double         gen_seconds;     /* from the prompt's end to the last token */
    hk_stop_reason stop;
} hk_generate_stats;

/* Encode prompt (with BOS when the model asks for it and the session is
 * empty), read it, then sample, stream and feed back tokens until
 * max_tokens, EOG, a stop string or the callback ends it.  stats (may be
 * NULL) is filled even on failure. */
int hk_session_generate(hk_session *s, const char *prompt, const hk_generate_params *p,
                        hk_piece_fn fn, void *user, hk_generate_stats *stats,
                        hk_error *err);
/* The same for a prompt already encoded (BOS included when wanted): the
 * n tokens follow those the session holds. */
int hk_session_generate_ids(hk_session *s, const int32_t *ids, size_t n,
                            const hk_generate_params *p, hk_piece_fn fn, void *user,
                            hk_generate_stats *stats, hk_error *err);
