/* session.c — prompt processing in batches and the generation loop. */
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hk_session {
    const hk_model     *model;
    const hk_tokenizer *tok;
    hk_kv_cache        *cache;
    hk_run_state       *state;
    uint32_t            n_batch;
    uint32_t            n_vocab;
    bool                all_logits;
    float              *logits;    /* (n_vocab) after the last token fed */
};

static double
now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void
hk_session_params_init(hk_session_params *p)
{
    *p = (hk_session_params){ 0 };
}

void
hk_generate_params_init(hk_generate_params *p)
{
    *p = (hk_generate_params){ .max_tokens = 128 };
    hk_sampler_params_init(&p->sampler);
}

int
hk_session_new(const hk_model *m, const hk_tokenizer *tok, const hk_session_params *p,
               hk_session **ret, hk_error *err)
{
    const hk_hparams *hp = hk_model_hparams(m);
    uint32_t n_ctx = p->n_ctx, n_batch = p->n_batch;
    if (n_ctx == 0)
        n_ctx = hp->n_ctx_train < HK_SESSION_DEFAULT_CTX ? hp->n_ctx_train : HK_SESSION_DEFAULT_CTX;
    if (n_batch == 0)
        n_batch = HK_SESSION_DEFAULT_BATCH;
    if (n_batch > n_ctx)
        n_batch = n_ctx;
    if (n_ctx > INT32_MAX / 2)
        return hk_error_set(err, -EINVAL, "context of %u tokens is too large", n_ctx);
    if (tok && hk_tokenizer_n_vocab(tok) > hp->n_vocab)
        return hk_error_set(err, -EINVAL, "the tokenizer has %u tokens, the model only %u",
                            hk_tokenizer_n_vocab(tok), hp->n_vocab);

    hk_session *s = calloc(1, sizeof *s);
    if (!s)
        return hk_error_set(err, -ENOMEM, "out of memory for a session");
    s->model = m;
    s->tok = tok;
    s->n_batch = n_batch;
    s->n_vocab = hp->n_vocab;
    s->all_logits = p->all_logits;
    s->logits = calloc(hp->n_vocab, sizeof *s->logits);
    int rc = s->logits ? 0 : hk_error_set(err, -ENOMEM, "out of memory for the logits");
    if (rc == 0)
        rc = hk_model_new_kv_cache(m, n_ctx, &s->cache, err);
    if (rc == 0)
        rc = hk_run_state_new(m, n_batch, p->all_logits, &s->state, err);
    if (rc < 0) {
        hk_session_free(s);
        return rc;
    }
    *ret = s;
    return 0;
}

void
hk_session_free(hk_session *s)
{
    if (!s)
        return;
    hk_run_state_free(s->state);
    hk_kv_cache_free(s->cache);
    free(s->logits);
    free(s);
}

uint32_t
hk_session_n_ctx(const hk_session *s)
{
    return s->cache->n_ctx;
}

uint32_t
hk_session_n_past(const hk_session *s)
{
    return s->cache->n_past;
}

void
hk_session_clear(hk_session *s)
{
    hk_kv_cache_clear(s->cache);
}

void
hk_session_truncate(hk_session *s, uint32_t n)
{
    /* attention reads positions below n_past only; the rest is overwritten */
    if (n < s->cache->n_past)
        s->cache->n_past = n;
}

const float *
hk_session_logits(const hk_session *s)
{
    return s->logits;
}

int
hk_session_eval(hk_session *s, const int32_t *tokens, size_t n, float *all_logits,
                hk_error *err)
{
    if (n == 0)
        return hk_error_set(err, -EINVAL, "nothing to evaluate");
    if (all_logits && !s->all_logits)
        return hk_error_set(err, -EINVAL, "this session keeps only the last logits");
    if (n > UINT32_MAX)
        return hk_error_set(err, -ENOSPC, "context full: %u tokens", s->cache->n_ctx);
    int rc = hk_kv_cache_check_room(s->cache, (uint32_t)n, err);
    if (rc < 0)
        return rc;

    for (size_t i = 0; i < n; i += s->n_batch) {
        uint32_t nb = n - i < s->n_batch ? (uint32_t)(n - i) : s->n_batch;
        float *dst = all_logits ? all_logits + i * s->n_vocab : s->logits;
        rc = hk_model_forward(s->model, s->state, s->cache, tokens + i, nb, all_logits != NULL,
                              dst, err);
        if (rc < 0)
            return rc;
    }
    if (all_logits)
        memcpy(s->logits, all_logits + (n - 1) * s->n_vocab, s->n_vocab * sizeof *s->logits);
    return 0;
}

/* ---------------------------------------------------------------- generation */

typedef struct generation {
    hk_sampler      *sampler;
    hk_detokenizer  *detok;
    hk_stop_matcher *stops;
} generation;

static void
generation_clear(generation *g)
{
    hk_sampler_free(g->sampler);
    hk_detokenizer_free(g->detok);
    hk_stop_matcher_free(g->stops);
}

static int
encode_prompt(const hk_session *s, const char *prompt, bool parse_special,
              int32_t **ret_ids, size_t *ret_n, hk_error *err)
{
    bool bos = hk_tokenizer_wants_bos(s->tok) && s->cache->n_past == 0;
    int rc = hk_tokenizer_encode(s->tok, prompt, strlen(prompt), bos, parse_special,
                                 ret_ids, ret_n, err);
    if (rc < 0)
        return rc;
    if (*ret_n == 0) {
        free(*ret_ids);
        return hk_error_set(err, -EINVAL, "the prompt is empty");
    }
    return 0;
}

/* Send the text held back by the detokenizer and the stop matcher. */
static void
flush_text(generation *g, hk_piece_fn fn, void *user)
{
    const char *emit;
    bool stopped = hk_stop_matcher_feed(g->stops, hk_detokenizer_flush(g->detok), &emit);
    if (emit[0])
        fn(emit, -1, user);
    if (stopped)
        return;
    const char *held = hk_stop_matcher_flush(g->stops);
    if (held[0])
        fn(held, -1, user);
}

static int
generate_tokens(hk_session *s, generation *g, const hk_generate_params *p,
                hk_piece_fn fn, void *user, hk_generate_stats *st, hk_error *err)
{
    for (;;) {
        int32_t id = hk_sampler_sample(g->sampler, s->logits);
        hk_sampler_accept(g->sampler, id);
        if (hk_tokenizer_is_eog(s->tok, id)) {
            st->stop = HK_STOP_EOG;
            break;
        }
        st->n_generated++;
        const char *emit;
        bool stopped = hk_stop_matcher_feed(g->stops, hk_detokenizer_push(g->detok, id), &emit);
        if (!fn(emit, id, user)) {
            st->stop = HK_STOP_CALLER;
            return 0;
        }
        if (stopped) {
            st->stop = HK_STOP_STRING;
            return 0;
        }
        if (st->n_generated >= p->max_tokens) {
            st->stop = HK_STOP_LENGTH;
            break;
        }
        int rc = hk_session_eval(s, &id, 1, NULL, err);
        if (rc < 0)
            return rc;
    }
    flush_text(g, fn, user);
    return 0;
}

int
hk_session_generate(hk_session *s, const char *prompt, const hk_generate_params *p,
                    hk_piece_fn fn, void *user, hk_generate_stats *stats, hk_error *err)
{
    if (stats)
        *stats = (hk_generate_stats){ .stop = HK_STOP_LENGTH };
    if (!s->tok)
        return hk_error_set(err, -EINVAL, "this session has no tokenizer");

    int32_t *ids;
    size_t n;
    int rc = encode_prompt(s, prompt, p->parse_special, &ids, &n, err);
    if (rc < 0)
        return rc;
    rc = hk_session_generate_ids(s, ids, n, p, fn, user, stats, err);
    free(ids);
    return rc;
}

int
hk_session_generate_ids(hk_session *s, const int32_t *ids, size_t n,
                        const hk_generate_params *p, hk_piece_fn fn, void *user,
                        hk_generate_stats *stats, hk_error *err)
{
    hk_generate_stats st = { .stop = HK_STOP_LENGTH };
    if (stats)
        *stats = st;
    if (!s->tok)
        return hk_error_set(err, -EINVAL, "this session has no tokenizer");
    if (n == 0)
        return hk_error_set(err, -EINVAL, "the prompt is empty");
    st.n_prompt = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;

    double t0 = now_seconds();
    int rc = hk_session_eval(s, ids, n, NULL, err);
    double t1 = now_seconds();
    st.prompt_seconds = t1 - t0;

    generation g = {
        .sampler = hk_sampler_new(&p->sampler, hk_tokenizer_n_vocab(s->tok)),
        .detok = hk_detokenizer_new(s->tok),
        .stops = hk_stop_matcher_new(p->stops, p->n_stops),
    };
    if (rc == 0 && p->max_tokens > 0) {
        for (size_t i = 0; i < n; i++)
            hk_sampler_accept(g.sampler, ids[i]);
        /* The prompt's last token tells the detokenizer whether the first
         * piece's leading space is a word break or the encoder's prefix. */
        hk_detokenizer_push(g.detok, ids[n - 1]);
        rc = generate_tokens(s, &g, p, fn, user, &st, err);
    }
    st.gen_seconds = now_seconds() - t1;
    generation_clear(&g);
    if (stats)
        *stats = st;
    return rc;
}
