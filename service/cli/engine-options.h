/* engine-options.h — what run, bench and perplexity share: the options
 * that choose and place the model, and loading it. */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend-select.h"
#include "backend.h"
#include "error.h"
#include "gguf.h"
#include "model.h"
#include "tokenizer.h"

typedef struct engine_options {
    const char *command;      /* for messages: "run" */
    const char *model_path;   /* -m */
    int         n_threads;    /* -t; 0: one per core */
    uint32_t    n_ctx;        /* -c; 0: the command's default */
    const char *backend;      /* --backend; NULL: $HEARKEN_BACKEND, else auto */
} engine_options;

/* getopt's value for --backend, clear of the commands' own. */
#define ENGINE_OPT_BACKEND 0x1000

/* The shared options, to put first in each command's getopt_long tables. */
#define ENGINE_SHARED_SHORT_OPTIONS "m:t:c:h"
#define ENGINE_SHARED_LONG_OPTIONS                      \
    { "model",    required_argument, NULL, 'm' },       \
    { "threads",  required_argument, NULL, 't' },       \
    { "ctx-size", required_argument, NULL, 'c' },       \
    { "backend",  required_argument, NULL, ENGINE_OPT_BACKEND }, \
    { "help",     no_argument,       NULL, 'h' }
#define ENGINE_SHARED_HELP                                                  \
    "  -m, --model FILE      the GGUF model\n"                              \
    "  -t, --threads N       threads (default: one per core)\n"              \
    "      --backend NAME    auto, vulkan or cpu (default: $HEARKEN_BACKEND, else auto)\n"

/* Returns 1 when opt is a shared option and its value is good, 0 when it
 * is not shared, -1 after printing why its value is bad. */
int  engine_options_parse(engine_options *o, int opt, const char *arg);
/* After getopt: -1 and a message when there is a stray argument or no -m. */
int  engine_options_finish(engine_options *o, int argc, char **argv);
/* The message for an option getopt refused. */
void engine_options_unknown(const engine_options *o, char **argv);

/* Values of options; false after printing "hearken-engine: run: …". */
bool engine_parse_u32(const engine_options *o, const char *name, const char *arg,
                      uint32_t min, uint32_t max, uint32_t *ret);
bool engine_parse_u64(const engine_options *o, const char *name, const char *arg, uint64_t *ret);
bool engine_parse_float(const engine_options *o, const char *name, const char *arg,
                        float min, float max, float *ret);

/* "hearken-engine: " + message, on stderr. */
void engine_error(const char *fmt, ...) HK_PRINTF(1, 2);

typedef struct engine_model {
    hk_gguf      *gguf;
    hk_tokenizer *tok;        /* NULL unless asked for */
    hk_backend   *backend;
    char          backend_reason[HK_BACKEND_REASON_MAX];   /* why that backend */
    hk_model     *model;
    double        load_seconds;
} engine_model;

/* Open the file, its tokenizer (when want_tokenizer), the backend and the
 * model.  False after printing the error. */
bool engine_model_load(const engine_options *o, bool want_tokenizer, engine_model *ret);
void engine_model_free(engine_model *em);

/* "backend:    vulkan (device)" and the reason for it (or for leaving
 * the device during the run), on stderr. */
void engine_print_backend(const engine_model *em);

double engine_now(void);
