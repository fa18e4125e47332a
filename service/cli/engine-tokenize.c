/* engine-tokenize.c — `hearken-engine tokenize -m MODEL.gguf [--bos]
 * [--special] [--bench]`: all of standard input, byte for byte, as one
 * text, and its token ids space-separated on one line. */
#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-commands.h"
#include "gguf.h"
#include "tokenizer.h"

#define BENCH_RUNS 5

static void
usage(FILE *out)
{
    fputs("usage: hearken-engine tokenize -m MODEL.gguf [--bos] [--special] [--bench] < TEXT\n"
          "\n"
          "Read all of standard input as one text and print its token ids,\n"
          "space-separated, on one line.\n"
          "\n"
          "  -m, --model PATH   the GGUF file whose tokenizer to use\n"
          "  --bos              put the model's BOS token first\n"
          "  --special          read control tokens written in the text (<|im_start|>, </s>…)\n"
          "  --bench            print the tokenizer's speed instead (best of 5 runs)\n", out);
}

static GString *
read_all(FILE *in)
{
    GString *text = g_string_new(NULL);
    char buf[1 << 16];
    size_t n;

    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        g_string_append_len(text, buf, (gssize) n);
    if (ferror(in)) {
        g_string_free(text, TRUE);
        return NULL;
    }
    return text;
}

static int
print_ids(const int32_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf(i ? " %d" : "%d", ids[i]);
    putchar('\n');
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

static int
bench(const hk_tokenizer *t, const GString *text, bool bos, bool special, hk_error *err)
{
    double best = G_MAXDOUBLE;
    size_t n = 0;

    for (int run = 0; run < BENCH_RUNS; run++) {
        int32_t *ids;
        gint64 start = g_get_monotonic_time();
        int r = hk_tokenizer_encode(t, text->str, text->len, bos, special, &ids, &n, err);
        if (r < 0)
            return r;
        best = MIN(best, (double) (g_get_monotonic_time() - start) / G_USEC_PER_SEC);
        free(ids);
    }
    best = MAX(best, 1e-6);
    printf("%zu bytes, %zu tokens in %.4f s: %.1f MB/s\n", text->len, n, best, text->len / best / 1e6);
    return 0;
}

static int
tokenize(const char *path, bool bos, bool special, bool speed)
{
    GString *text = read_all(stdin);
    if (!text) {
        fputs("hearken-engine: cannot read standard input\n", stderr);
        return ENGINE_EXIT_ERROR;
    }

    hk_error err = { 0 };
    hk_gguf *g = NULL;
    hk_tokenizer *t = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    int r = hk_gguf_open(path, &g, &err);
    if (r == 0 && (r = hk_tokenizer_load(g, &t, &err)) < 0)
        hk_error_prefix(&err, "%s: ", path);
    if (r == 0 && speed)
        r = bench(t, text, bos, special, &err);
    else if (r == 0 && (r = hk_tokenizer_encode(t, text->str, text->len, bos, special, &ids, &n, &err)) == 0 &&
             print_ids(ids, n) < 0)
        r = hk_error_set(&err, -EIO, "cannot write the ids");
    if (r < 0)
        fprintf(stderr, "hearken-engine: %s\n", err.message);

    free(ids);
    hk_tokenizer_free(t);
    hk_gguf_close(g);
    g_string_free(text, TRUE);
    return r < 0 ? ENGINE_EXIT_ERROR : ENGINE_EXIT_OK;
}

int
engine_tokenize(int argc, char **argv)
{
    const char *path = NULL;
    bool bos = false, special = false, speed = false;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return ENGINE_EXIT_OK;
        } else if (strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "--model") == 0) {
            if (i + 1 == argc) {
                fprintf(stderr, "hearken-engine: tokenize: %s needs a model file\n", argv[i]);
                usage(stderr);
                return ENGINE_EXIT_USAGE;
            }
            path = argv[++i];
        } else if (strcmp(argv[i], "--bos") == 0) {
            bos = true;
        } else if (strcmp(argv[i], "--special") == 0) {
            special = true;
        } else if (strcmp(argv[i], "--bench") == 0) {
            speed = true;
        } else {
            fprintf(stderr, "hearken-engine: tokenize: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return ENGINE_EXIT_USAGE;
        }
    }
    if (!path) {
        fputs("hearken-engine: tokenize: no model given (-m MODEL.gguf)\n", stderr);
        usage(stderr);
        return ENGINE_EXIT_USAGE;
    }
    return tokenize(path, bos, special, speed);
}
