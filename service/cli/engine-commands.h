/* The subcommands of hearken-engine, one file each. */
#pragma once

enum {
    ENGINE_EXIT_OK    = 0,
    ENGINE_EXIT_ERROR = 1,
    ENGINE_EXIT_USAGE = 2,
};

typedef struct engine_command {
    const char *name;
    const char *summary;
    /* argv[0] is the command's own name */
    int (*run)(int argc, char **argv);
} engine_command;

int engine_info(int argc, char **argv);
int engine_tokenize(int argc, char **argv);
int engine_run(int argc, char **argv);
int engine_bench(int argc, char **argv);
int engine_perplexity(int argc, char **argv);
int engine_quantize(int argc, char **argv);
int engine_train_intents(int argc, char **argv);
int engine_classify(int argc, char **argv);
