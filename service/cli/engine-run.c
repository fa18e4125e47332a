/* engine-run.c — `hearken-engine run`: generate a continuation of a
 * prompt, streamed to stdout as it comes; timings on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat-template.h"
#include "engine-commands.h"
#include "engine-options.h"
#include "session.h"

enum { OPT_TEMP = 256, OPT_TOP_K, OPT_TOP_P, OPT_SEED, OPT_CHAT, OPT_IDS };

typedef struct run_options {
    engine_options     common;
    const char        *prompt;
    hk_generate_params gen;
    bool               seeded;
    bool               chat;
    bool               ids;
    uint32_t           n_printed;   /* ids printed so far */
} run_options;

static void
usage(FILE *out)
{
    fputs("usage: hearken-engine run -m MODEL -p PROMPT [OPTIONS]\n"
          "\n"
          "Generate a continuation of the prompt and print it as it comes.\n"
          "\n"
          ENGINE_SHARED_HELP
          "  -p, --prompt TEXT     the prompt\n"
          "  -n, --n-predict N     tokens to generate at most (default 128)\n"
          "      --temp T          temperature (default 0.8; 0: greedy)\n"
          "      --top-k K         keep the K likeliest tokens (default 40; 0: all)\n"
          "      --top-p P         keep the likeliest tokens up to P (default 0.95; 1: all)\n"
          "      --seed S          sampling seed (default: random)\n"
          "  -c, --ctx-size N      context in tokens (default: the model's, at most 4096)\n"
          "      --chat            wrap the prompt in the model's chat template\n"
          "      --ids             print the token ids instead of the text\n", out);
}

static int
parse(int argc, char **argv, run_options *o)
{
    static const struct option longs[] = {
        ENGINE_SHARED_LONG_OPTIONS,
        { "prompt",    required_argument, NULL, 'p' },
        { "n-predict", required_argument, NULL, 'n' },
        { "temp",      required_argument, NULL, OPT_TEMP },
        { "top-k",     required_argument, NULL, OPT_TOP_K },
        { "top-p",     required_argument, NULL, OPT_TOP_P },
        { "seed",      required_argument, NULL, OPT_SEED },
        { "chat",      no_argument,       NULL, OPT_CHAT },
        { "ids",       no_argument,       NULL, OPT_IDS },
        { NULL, 0, NULL, 0 },
    };
    engine_options *c = &o->common;
    uint32_t top_k;
    int opt;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ENGINE_SHARED_SHORT_OPTIONS "p:n:", longs, NULL)) != -1) {
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
            o->prompt = optarg;
            break;
        case 'n':
            ok = engine_parse_u32(c, "-n", optarg, 0, 1u << 24, &o->gen.max_tokens);
            break;
        case OPT_TEMP:
            ok = engine_parse_float(c, "--temp", optarg, 0.0f, 100.0f, &o->gen.sampler.temperature);
            break;
        case OPT_TOP_K:
            ok = engine_parse_u32(c, "--top-k", optarg, 0, INT32_MAX, &top_k);
            o->gen.sampler.top_k = (int32_t)top_k;
            break;
        case OPT_TOP_P:
            ok = engine_parse_float(c, "--top-p", optarg, 0.0f, 1.0f, &o->gen.sampler.top_p);
            break;
        case OPT_SEED:
            ok = engine_parse_u64(c, "--seed", optarg, &o->gen.sampler.seed);
            o->seeded = true;
            break;
        case OPT_CHAT:
            o->chat = true;
            break;
        case OPT_IDS:
            o->ids = true;
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
    if (!o->prompt) {
        engine_error("run: no prompt given (-p PROMPT)");
        return ENGINE_EXIT_USAGE;
    }
    return ENGINE_EXIT_OK;
}

static bool
print_piece(const char *text, int32_t token, void *user)
{
    run_options *o = user;
    if (o->ids) {
        if (token >= 0)
            printf(o->n_printed++ ? " %d" : "%d", token);
    } else {
        fputs(text, stdout);
    }
    fflush(stdout);
    return true;
}

/* The prompt as the model's chat template wants it, malloc'd. */
static char *
chat_prompt(const engine_model *em, const char *prompt)
{
    hk_gguf_str tmpl;
    char *text = hk_gguf_get_str(em->gguf, "tokenizer.chat_template", &tmpl)
                 ? hk_gguf_str_dup(tmpl) : NULL;
    hk_chat_format format = hk_chat_detect(text, NULL);
    /* what the template itself writes when a conversation has no system
     * prompt (Qwen's) */
    char *system = hk_chat_default_system(text);
    free(text);
    hk_chat_message messages[] = { { "system", system }, { "user", prompt } };
    char *rendered = system ? hk_chat_render(format, messages, 2, true)
                            : hk_chat_render(format, messages + 1, 1, true);
    free(system);
    return rendered;
}

static void
print_timings(const engine_model *em, const hk_generate_stats *st)
{
    engine_print_backend(em);
    fprintf(stderr, "load:       %.1f ms\n", em->load_seconds * 1e3);
    fprintf(stderr, "prompt:     %u tokens in %.1f ms, %.2f tokens/s\n", st->n_prompt,
            st->prompt_seconds * 1e3,
            st->prompt_seconds > 0 ? st->n_prompt / st->prompt_seconds : 0.0);
    fprintf(stderr, "generation: %u tokens in %.1f ms, %.2f tokens/s\n", st->n_generated,
            st->gen_seconds * 1e3,
            st->gen_seconds > 0 ? st->n_generated / st->gen_seconds : 0.0);
}

int
engine_run(int argc, char **argv)
{
    run_options o = { .common = { .command = "run" } };
    hk_generate_params_init(&o.gen);
    int rc = parse(argc, argv, &o);
    if (rc != ENGINE_EXIT_OK)
        return rc;
    if (!o.seeded)
        o.gen.sampler.seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);

    engine_model em;
    if (!engine_model_load(&o.common, true, &em))
        return ENGINE_EXIT_ERROR;

    hk_session_params sp;
    hk_session_params_init(&sp);
    sp.n_ctx = o.common.n_ctx;
    hk_session *s = NULL;
    hk_error err = { 0 };
    char *prompt = o.chat ? chat_prompt(&em, o.prompt) : NULL;
    o.gen.parse_special = o.chat;

    hk_generate_stats st;
    rc = hk_session_new(em.model, em.tok, &sp, &s, &err);
    if (rc == 0)
        rc = hk_session_generate(s, prompt ? prompt : o.prompt, &o.gen, print_piece, &o, &st, &err);
    if (s) {
        /* the continuation ends the line, also when an error cut it short */
        putchar('\n');
        fflush(stdout);
    }
    if (rc == 0)
        print_timings(&em, &st);
    else
        engine_error("%s", err.message);
    hk_session_free(s);
    free(prompt);
    engine_model_free(&em);
    return rc == 0 ? ENGINE_EXIT_OK : ENGINE_EXIT_ERROR;
}
