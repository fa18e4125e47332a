/* hearken-engine — the inference engine without the service.
 *
 * Each subcommand lives in its own engine-<name>.c and is listed in the
 * table below.  Exit status: 0 success, 1 error (one line on stderr),
 * 2 usage.
 */
#include <stdio.h>
#include <string.h>

#include "engine-commands.h"

static const engine_command commands[] = {
    { "info", "what a GGUF model file holds", engine_info },
    { "tokenize", "text on standard input to token ids", engine_tokenize },
    { "run", "generate a continuation of a prompt", engine_run },
    { "bench", "prompt and generation speed in tokens per second", engine_bench },
    { "perplexity", "how well a model predicts a text", engine_perplexity },
    { "quantize", "rewrite a model with quantized weights", engine_quantize },
    { "train-intents", "train the intent model on a dataset", engine_train_intents },
    { "classify", "the intents an intent model sees in a text", engine_classify },
    { NULL, NULL, NULL },
};

static void
print_usage(FILE *out)
{
    fputs("usage: hearken-engine COMMAND [ARGS…]\n\ncommands:\n", out);
    for (const engine_command *c = commands; c->name; c++)
        fprintf(out, "  %-14s %s\n", c->name, c->summary);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return ENGINE_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_usage(stdout);
        return ENGINE_EXIT_OK;
    }
    for (const engine_command *c = commands; c->name; c++)
        if (strcmp(argv[1], c->name) == 0)
            return c->run(argc - 1, argv + 1);

    fprintf(stderr, "hearken-engine: unknown command '%s'\n", argv[1]);
    print_usage(stderr);
    return ENGINE_EXIT_USAGE;
}
