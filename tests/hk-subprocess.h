/* hk-subprocess.h — run a program the build made and keep what it said. */
#pragma once

#include <glib.h>
#include <string.h>
#include <sys/wait.h>

#include "hk-check.h"

typedef struct hk_run_result {
    int   status;  /* the exit code */
    char *out;
    char *err;
} hk_run_result;

/* The path of service/cli/NAME in the build tree. */
static inline char *
hk_built_cli(const char *name)
{
    return g_build_filename(g_getenv("HEARKEN_BUILD_ROOT"), "service", "cli", name, NULL);
}

/* Runs argv (NULL-terminated) to its end; a death by signal fails the test. */
static inline hk_run_result
hk_run(const char *const *argv)
{
    hk_run_result r = { 0 };
    GError *error = NULL;

    ck_assert_msg(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &r.out, &r.err, &r.status, &error),
                  "%s", error ? error->message : "");
    ck_assert(WIFEXITED(r.status));
    r.status = WEXITSTATUS(r.status);
    return r;
}

static inline void
hk_run_result_clear(hk_run_result *r)
{
    g_free(r->out);
    g_free(r->err);
}

/* err is one line, "PROGRAM: …\n": how the command-line tools report a
 * failure. */
static inline void
hk_assert_one_error_line(const char *err, const char *program)
{
    size_t prefix_len = strlen(program);

    ck_assert_msg(strncmp(err, program, prefix_len) == 0 && strncmp(err + prefix_len, ": ", 2) == 0,
                  "stderr: %s", err);
    ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "not one line: %s", err);
}
