/* sampler.h — choosing the next token from the logits. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hk_sampler_params {
    float    temperature;        /* 0: greedy */
    int32_t  top_k;              /* 0: off */
    float    top_p;              /* 1: off */
    float    min_p;              /* 0: off */
    float    repeat_penalty;     /* 1: off; over the last repeat_last_n tokens */
    int32_t  repeat_last_n;
    float    frequency_penalty;  /* 0: off */
    float    presence_penalty;   /* 0: off */
    uint64_t seed;
} hk_sampler_params;

/* temperature 0.8, top_k 40, top_p 0.95, min_p 0.05, penalties off,
 * repeat_last_n 64, seed 0. */
void hk_sampler_params_init(hk_sampler_params *p);

typedef struct hk_sampler hk_sampler;

/* p NULL: the defaults.  NULL when n_vocab is 0 or memory runs out. */
hk_sampler *hk_sampler_new(const hk_sampler_params *p, uint32_t n_vocab);
void        hk_sampler_free(hk_sampler *s);   /* accepts NULL */
/* Forget the tokens seen and reseed. */
void        hk_sampler_reset(hk_sampler *s);

/* Pick a token from n_vocab logits (not modified).  Penalties use the
 * tokens given to hk_sampler_accept. */
int32_t     hk_sampler_sample(hk_sampler *s, const float *logits);
/* Record a token of the context (prompt or generated) for the penalties. */
void        hk_sampler_accept(hk_sampler *s, int32_t token);

/* Stop strings over streamed text: feed each new piece; the matcher says
 * how much of the text so far may be shown (what cannot be the start of a
 * stop string) and whether a stop string has appeared. */
typedef struct hk_stop_matcher hk_stop_matcher;

hk_stop_matcher *hk_stop_matcher_new(const char *const *stops, size_t n_stops);
void             hk_stop_matcher_free(hk_stop_matcher *m);  /* accepts NULL */
/* Append piece; returns true when a stop string is complete.  *ret_emit
 * (owned by m, valid until the next call) is the text now safe to show,
 * excluding the stop string and anything after it. */
bool             hk_stop_matcher_feed(hk_stop_matcher *m, const char *piece, const char **ret_emit);
/* Text held back at the end of generation. */
const char      *hk_stop_matcher_flush(hk_stop_matcher *m);
