/* hk-check.h — what every Check test program shares. */
#pragma once

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* The shared/ folder beside the checkout, or NULL when it is absent. */
static inline const char *
hk_test_shared_dir(void)
{
    const char *dir = getenv("HEARKEN_SHARED");
    FILE *probe;
    char path[4096];

    if (!dir)
        return NULL;
    snprintf(path, sizeof path, "%s/DESIGN.md", dir);
    probe = fopen(path, "r");
    if (!probe)
        return NULL;
    fclose(probe);
    return dir;
}

/* Exit status meson reads as "skipped". */
#define HK_TEST_SKIP 77

/* For a test program that reads shared/models/llama-2-tiny-random.gguf:
 * true, after the SKIP line, when shared/ is absent. */
static inline bool
hk_test_skip_without_tiny_model(const char *program)
{
    if (hk_test_shared_dir())
        return false;
    printf("SKIP: %s needs the shared/ folder (HEARKEN_SHARED) "
           "for models/llama-2-tiny-random.gguf\n", program);
    return true;
}

/* main() for a test program whose suite is built by make_suite(). */
#define HK_CHECK_MAIN(make_suite)                                   \
    int main(void)                                                  \
    {                                                               \
        SRunner *runner = srunner_create(make_suite());             \
        srunner_run_all(runner, CK_NORMAL);                         \
        int failed = srunner_ntests_failed(runner);                 \
        srunner_free(runner);                                       \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;           \
    }
