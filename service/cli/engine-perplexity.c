/* engine-perplexity.c — `hearken-engine perplexity`: how well a model
 * predicts a text, as exp of the mean negative log-likelihood per token.
 *
 * The text is cut into non-overlapping windows of c tokens, each read from
 * an empty cache.  Within a window every token but the first is scored by
 * the logits of the token before it; the first is not scored, as nothing
 * in the window comes before it.  A tail shorter than c is left out.
 */
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-commands.h"
#include "engine-options.h"
#include "session.h"

#define DEFAULT_WINDOW 128

typedef struct perplexity_options {
    engine_options common;
    const char    *text_path;
} perplexity_options;

static void
usage(FILE *out)
{
    fputs("usage: hearken-engine perplexity -m MODEL -f TEXT [-c 128] [-t N]\n"
          "\n"
          "Perplexity of the model over a text file, in windows of c tokens.\n"
          "\n"
          ENGINE_SHARED_HELP
          "  -f, --file TEXT       the text, UTF-8\n"
          "  -c, --ctx-size N      tokens per window (default 128)\n", out);
}

static int
parse(int argc, char **argv, perplexity_options *o)
{
    static const struct option longs[] = {
        ENGINE_SHARED_LONG_OPTIONS,
        { "file", required_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    engine_options *c = &o->common;
    int opt;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ENGINE_SHARED_SHORT_OPTIONS "f:", longs, NULL)) != -1) {
        int shared = engine_options_parse(c, opt, optarg);
        if (shared < 0)
            return ENGINE_EXIT_USAGE;
        if (shared > 0)
            continue;
        switch (opt) {
        case 'h':
            usage(stdout);
            exit(ENGINE_EXIT_OK);
        case 'f':
            o->text_path = optarg;
            break;
        default:
            engine_options_unknown(c, argv);
            usage(stderr);
            return ENGINE_EXIT_USAGE;
        }
    }
    if (engine_options_finish(c, argc, argv) < 0)
        return ENGINE_EXIT_USAGE;
    if (!o->text_path) {
        engine_error("perplexity: no text given (-f TEXT)");
        return ENGINE_EXIT_USAGE;
    }
    if (c->n_ctx == 0)
        c->n_ctx = DEFAULT_WINDOW;
    if (c->n_ctx < 2) {
        engine_error("perplexity: a window of %u token scores nothing", c->n_ctx);
        return ENGINE_EXIT_USAGE;
    }
    return ENGINE_EXIT_OK;
}

/* -log softmax(logits)[target], in double: the sum runs over the vocabulary. */
static double
neg_log_likelihood(const float *logits, uint32_t n_vocab, int32_t target)
{
    float max = logits[0];
    for (uint32_t i = 1; i < n_vocab; i++)
        max = logits[i] > max ? logits[i] : max;
    double sum = 0.0;
    for (uint32_t i = 0; i < n_vocab; i++)
        sum += exp((double)logits[i] - max);
    return log(sum) - ((double)logits[target] - max);
}

static int
encode_file(const engine_model *em, const char *path, int32_t **ret_ids, size_t *ret_n,
            hk_error *err)
{
    char *text;
    gsize len;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, &len, &gerr)) {
        hk_error_set(err, -EIO, "%s", gerr->message);
        g_error_free(gerr);
        return -EIO;
    }
    int rc = hk_tokenizer_encode(em->tok, text, len, false, false, ret_ids, ret_n, err);
    g_free(text);
    return rc;
}

static int
score_windows(const engine_model *em, hk_session *s, const int32_t *ids, size_t n_windows,
              uint32_t window, double *ret_ppl, hk_error *err)
{
    uint32_t n_vocab = hk_model_hparams(em->model)->n_vocab;
    float *logits = g_try_malloc((size_t)window * n_vocab * sizeof *logits);
    if (!logits)
        return hk_error_set(err, -ENOMEM, "out of memory for the logits of %u tokens", window);

    double nll = 0.0;
    size_t scored = 0;
    int rc = 0;
    for (size_t w = 0; w < n_windows && rc == 0; w++) {
        const int32_t *win = ids + w * window;
        hk_session_clear(s);
        rc = hk_session_eval(s, win, window, logits, err);
        for (uint32_t i = 0; rc == 0 && i + 1 < window; i++)
            nll += neg_log_likelihood(logits + (size_t)i * n_vocab, n_vocab, win[i + 1]);
        scored += window - 1;
        if (rc == 0) {
            printf("[%zu/%zu] %.4f\n", w + 1, n_windows, exp(nll / (double)scored));
            fflush(stdout);
        }
    }
    g_free(logits);
    *ret_ppl = exp(nll / (double)scored);
    return rc;
}

int
engine_perplexity(int argc, char **argv)
{
    perplexity_options o = { .common = { .command = "perplexity" } };
    int rc = parse(argc, argv, &o);
    if (rc != ENGINE_EXIT_OK)
        return rc;

    engine_model em;
    if (!engine_model_load(&o.common, true, &em))
        return ENGINE_EXIT_ERROR;

    uint32_t window = o.common.n_ctx;
    hk_session_params sp;
    hk_session_params_init(&sp);
    sp.n_ctx = window;
    sp.n_batch = window;
    sp.all_logits = true;
    hk_session *s = NULL;
    hk_error err = { 0 };
    int32_t *ids = NULL;
    size_t n = 0;
    double ppl = 0.0;

    rc = encode_file(&em, o.text_path, &ids, &n, &err);
    if (rc == 0 && n < window)
        rc = hk_error_set(&err, -EINVAL, "%s has %zu tokens, fewer than a window of %u",
                          o.text_path, n, window);
    if (rc == 0)
        rc = hk_session_new(em.model, em.tok, &sp, &s, &err);
    if (rc == 0) {
        printf("%zu tokens, %zu windows of %u\n", n, n / window, window);
        rc = score_windows(&em, s, ids, n / window, window, &ppl, &err);
    }
    if (rc == 0)
        printf("perplexity: %.4f\n", ppl);
    else
        engine_error("perplexity: %s", err.message);
    free(ids);
    hk_session_free(s);
    engine_model_free(&em);
    return rc == 0 ? ENGINE_EXIT_OK : ENGINE_EXIT_ERROR;
}
