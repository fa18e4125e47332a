/* engine-bench.c — `hearken-engine bench`: prompt processing and
 * generation speed, as llama-bench measures them.
 *
 * pp: one batch of p tokens from an empty cache; tg: n tokens one at a
 * time from an empty cache.  Each is repeated r times after a warm-up
 * (which also faults the mapped weights in); the figures are the mean and
 * the sample standard deviation of the tokens per second.
 */
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/backend-cpu.h"
#include "engine-commands.h"
#include "engine-options.h"
#include "session.h"

enum { OPT_JSON = 256 };

typedef struct bench_options {
    engine_options common;
    uint32_t       n_prompt;
    uint32_t       n_gen;
    uint32_t       reps;
    bool           json;
} bench_options;

typedef struct bench_result {
    double mean, stddev;   /* tokens per second */
} bench_result;

static void
usage(FILE *out)
{
    fputs("usage: hearken-engine bench -m MODEL [-p 128] [-n 64] [-t N] [-r 3] [--json]\n"
          "\n"
          "Measure prompt processing (pp) and generation (tg) in tokens per second.\n"
          "\n"
          ENGINE_SHARED_HELP
          "  -p, --n-prompt N      prompt tokens, read as one batch (default 128; 0: skip)\n"
          "  -n, --n-gen N         tokens generated one at a time (default 64; 0: skip)\n"
          "  -r, --repetitions N   runs of each test (default 3)\n"
          "  -c, --ctx-size N      context in tokens (default: what the tests need)\n"
          "      --json            one JSON object instead of a table\n", out);
}

static int
parse(int argc, char **argv, bench_options *o)
{
    static const struct option longs[] = {
        ENGINE_SHARED_LONG_OPTIONS,
        { "n-prompt",    required_argument, NULL, 'p' },
        { "n-gen",       required_argument, NULL, 'n' },
        { "repetitions", required_argument, NULL, 'r' },
        { "json",        no_argument,       NULL, OPT_JSON },
        { NULL, 0, NULL, 0 },
    };
    engine_options *c = &o->common;
    int opt;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ENGINE_SHARED_SHORT_OPTIONS "p:n:r:", longs, NULL)) != -1) {
        int shared = engine_options_parse(c, opt, optarg);
        if (shared < 0)
            return ENGINE_EXIT_USAGE;
        if (shared > 0)
            continue;
        bool ok = true;
        switch (opt) {
        case 'h':
            usage(stdout);
            exit(ENGINE_EXIT_OK);
        case 'p':
            ok = engine_parse_u32(c, "-p", optarg, 0, 1u << 16, &o->n_prompt);
            break;
        case 'n':
            ok = engine_parse_u32(c, "-n", optarg, 0, 1u << 16, &o->n_gen);
            break;
        case 'r':
            ok = engine_parse_u32(c, "-r", optarg, 1, 1000, &o->reps);
            break;
        case OPT_JSON:
            o->json = true;
            break;
        default:
            engine_options_unknown(c, argv);
            usage(stderr);
            return ENGINE_EXIT_USAGE;
        }
        if (!ok)
            return ENGINE_EXIT_USAGE;
    }
    if (engine_options_finish(c, argc, argv) < 0)
        return ENGINE_EXIT_USAGE;
    if (o->n_prompt == 0 && o->n_gen == 0) {
        engine_error("bench: nothing to measure (-p 0 and -n 0)");
        return ENGINE_EXIT_USAGE;
    }
    return ENGINE_EXIT_OK;
}

/* Fixed pseudo-random ids: the same tokens on every run and machine. */
static int32_t *
bench_tokens(uint32_t n, uint32_t n_vocab)
{
    int32_t *ids = g_new(int32_t, n > 0 ? n : 1);
    uint32_t x = 12345;
    for (uint32_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        ids[i] = (int32_t)((x >> 8) % n_vocab);
    }
    return ids;
}

/* Seconds to read n tokens as one batch, from an empty cache. */
static int
time_prompt(hk_session *s, const int32_t *ids, uint32_t n, double *ret, hk_error *err)
{
    hk_session_clear(s);
    double t0 = engine_now();
    int rc = hk_session_eval(s, ids, n, NULL, err);
    *ret = engine_now() - t0;
    return rc;
}

/* Seconds to feed n tokens one at a time, from an empty cache. */
static int
time_generation(hk_session *s, const int32_t *ids, uint32_t n, double *ret, hk_error *err)
{
    hk_session_clear(s);
    double t0 = engine_now();
    for (uint32_t i = 0; i < n; i++) {
        int rc = hk_session_eval(s, &ids[i], 1, NULL, err);
        if (rc < 0)
            return rc;
    }
    *ret = engine_now() - t0;
    return 0;
}

typedef int (*bench_fn)(hk_session *s, const int32_t *ids, uint32_t n, double *ret, hk_error *err);

static int
measure(hk_session *s, bench_fn fn, const int32_t *ids, uint32_t n, uint32_t reps,
        bench_result *ret, hk_error *err)
{
    double sum = 0.0, sum_sq = 0.0;
    for (uint32_t r = 0; r < reps; r++) {
        double seconds;
        int rc = fn(s, ids, n, &seconds, err);
        if (rc < 0)
            return rc;
        double rate = n / seconds;
        sum += rate;
        sum_sq += rate * rate;
    }
    ret->mean = sum / reps;
    double var = reps > 1 ? (sum_sq - sum * sum / reps) / (reps - 1) : 0.0;
    ret->stddev = var > 0.0 ? sqrt(var) : 0.0;
    return 0;
}

static void
print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void
print_json(const bench_options *o, const engine_model *em, const bench_result *pp,
           const bench_result *tg)
{
    char *name = g_path_get_basename(o->common.model_path);
    fputs("{\"model\": ", stdout);
    print_json_string(name);
    printf(", \"size\": %llu, \"type\": \"%s\", \"backend\": \"%s\", \"threads\": %d",
           (unsigned long long)hk_gguf_file_size(em->gguf),
           hk_type_name(hk_model_weight_type(em->model)), hk_backend_name(em->backend),
           o->common.n_threads);
    printf(", \"n_prompt\": %u, \"n_gen\": %u, \"repetitions\": %u", o->n_prompt, o->n_gen, o->reps);
    if (o->n_prompt > 0)
        printf(", \"pp_tokens_per_second\": %.3f, \"pp_tokens_per_second_stddev\": %.3f",
               pp->mean, pp->stddev);
    if (o->n_gen > 0)
        printf(", \"tg_tokens_per_second\": %.3f, \"tg_tokens_per_second_stddev\": %.3f",
               tg->mean, tg->stddev);
    puts("}");
    g_free(name);
}

static void
print_row(const bench_options *o, const engine_model *em, const char *test, uint32_t n,
          const bench_result *r)
{
    char *name = g_path_get_basename(o->common.model_path);
    char test_name[32];
    snprintf(test_name, sizeof test_name, "%s%u", test, n);
    printf("| %s | %.2f MiB | %s | %s | %d | %s | %.2f ± %.2f |\n", name,
           (double)hk_gguf_file_size(em->gguf) / (1024.0 * 1024.0),
           hk_type_name(hk_model_weight_type(em->model)), hk_backend_name(em->backend),
           o->common.n_threads, test_name, r->mean, r->stddev);
    g_free(name);
}

static void
print_table(const bench_options *o, const engine_model *em, const bench_result *pp,
            const bench_result *tg)
{
    puts("| model | size | type | backend | threads | test | t/s |");
    puts("| --- | ---: | --- | --- | ---: | ---: | ---: |");
    if (o->n_prompt > 0)
        print_row(o, em, "pp", o->n_prompt, pp);
    if (o->n_gen > 0)
        print_row(o, em, "tg", o->n_gen, tg);
}

static int
run_tests(const bench_options *o, const engine_model *em, hk_session *s,
          bench_result *pp, bench_result *tg, hk_error *err)
{
    uint32_t n_vocab = hk_model_hparams(em->model)->n_vocab;
    uint32_t n_max = o->n_prompt > o->n_gen ? o->n_prompt : o->n_gen;
    int32_t *ids = bench_tokens(n_max, n_vocab);
    double warm;
    int rc = 0;

    if (o->n_prompt > 0)
        rc = time_prompt(s, ids, o->n_prompt, &warm, err);
    if (rc == 0 && o->n_gen > 0)
        rc = time_generation(s, ids, 1, &warm, err);
    if (rc == 0 && o->n_prompt > 0)
        rc = measure(s, time_prompt, ids, o->n_prompt, o->reps, pp, err);
    if (rc == 0 && o->n_gen > 0)
        rc = measure(s, time_generation, ids, o->n_gen, o->reps, tg, err);
    g_free(ids);
    return rc;
}

int
engine_bench(int argc, char **argv)
{
    bench_options o = { .common = { .command = "bench" }, .n_prompt = 128, .n_gen = 64, .reps = 3 };
    int rc = parse(argc, argv, &o);
    if (rc != ENGINE_EXIT_OK)
        return rc;
    if (o.common.n_threads == 0)
        o.common.n_threads = hk_backend_cpu_default_threads();

    engine_model em;
    if (!engine_model_load(&o.common, false, &em))
        return ENGINE_EXIT_ERROR;

    hk_session_params sp;
    hk_session_params_init(&sp);
    uint32_t needed = o.n_prompt > o.n_gen ? o.n_prompt : o.n_gen;
    sp.n_ctx = o.common.n_ctx ? o.common.n_ctx : needed;
    sp.n_batch = o.n_prompt > 0 ? o.n_prompt : 1;
    hk_session *s = NULL;
    hk_error err = { 0 };
    bench_result pp = { 0 }, tg = { 0 };

    if (sp.n_ctx < needed)
        rc = hk_error_set(&err, -EINVAL, "-c %u is less than the %u tokens a test needs",
                          sp.n_ctx, needed);
    if (rc == 0)
        rc = hk_session_new(em.model, NULL, &sp, &s, &err);
    if (rc == 0)
        rc = run_tests(&o, &em, s, &pp, &tg, &err);
    if (rc == 0 && o.json)
        print_json(&o, &em, &pp, &tg);
    else if (rc == 0)
        print_table(&o, &em, &pp, &tg);
    else
        engine_error("bench: %s", err.message);
    hk_session_free(s);
    engine_model_free(&em);
    return rc == 0 ? ENGINE_EXIT_OK : ENGINE_EXIT_ERROR;
}
