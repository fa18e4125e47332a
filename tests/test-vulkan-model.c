/* Whole models on the Vulkan backend, through `hearken-engine` as a person
 * runs it: the same greedy continuation and the same perplexity as on the
 * CPU, and the ways the device can fail — a device that is not there, an
 * allocation that fails, a device lost in the middle of a run — each
 * ending on the CPU with the reason said and the run finished.
 *
 * The models are ../shared/tools/mkmodel.py's, at a small shape (2
 * layers of 256) so that lavapipe, which CI runs the shaders on, is quick.
 * Without ../shared or a Vulkan device the test is skipped, visibly. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hk-check.h"
#include "hk-subprocess.h"
#include "hk-tmpdir.h"
#include "vulkan/vk-config.h"

#if HK_HAVE_VULKAN
#include "vulkan/backend-vulkan.h"

static char *tmp_dir;
static char *text_path;

#define PROMPT "Once upon a time"

/* Greedy decoding is compared on models with far-apart logits (--peaked,
 * a seed whose continuation has no near-ties): the CPU rounds its
 * activations to 8 bits, the shaders do not, and only a near-tie could
 * tell them apart.  Perplexity is compared on plain ones. */
static const char *const greedy_types[] = { "f16", "q8_0" };
static const char *const perplexity_types[] = { "f16", "q8_0", "q4_0", "q4_k_m" };

static char *
model_path(const char *kind, const char *type)
{
    char *name = g_strdup_printf("%s-%s.gguf", kind, type);
    char *path = g_build_filename(tmp_dir, name, NULL);
    g_free(name);
    return path;
}

/* hearken-engine with the arguments, NULL-terminated. */
static hk_run_result
engine(const char *first, ...)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, hk_built_cli("hearken-engine"));
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, g_strdup(a));
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    hk_run_result r = hk_run((const char *const *)argv->pdata);
    g_ptr_array_free(argv, TRUE);
    return r;
}

/* The ids of a 16-token greedy continuation of PROMPT; *ret_err (may be
 * NULL) receives stderr. */
static char *
greedy(const char *model, const char *backend, char **ret_err)
{
    hk_run_result r = engine("run", "-m", model, "-p", PROMPT, "-n", "16", "--temp", "0",
                             "--ids", "--backend", backend, NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    char *ids = g_strdup(g_strstrip(r.out));
    char **tokens = g_strsplit(ids, " ", -1);
    ck_assert_msg(g_strv_length(tokens) == 16, "not 16 tokens: %s", ids);
    g_strfreev(tokens);
    if (ret_err)
        *ret_err = g_steal_pointer(&r.err);
    hk_run_result_clear(&r);
    return ids;
}

static void
assert_backend(const char *err, const char *name, const char *reason_part)
{
    char *line = g_strdup_printf("backend:    %s (", name);
    ck_assert_msg(strstr(err, line), "not on %s: %s", name, err);
    ck_assert_msg(strstr(err, "reason:     ") && strstr(err, reason_part),
                  "no reason with '%s': %s", reason_part, err);
    g_free(line);
}

/* ----------------------------------------------------------------------------
 * the same results as the CPU */

START_TEST(test_greedy_agrees_with_cpu)
{
    char *model = model_path("peaked", greedy_types[_i]);
    char *err = NULL;
    char *on_cpu = greedy(model, "cpu", NULL);
    char *on_vulkan = greedy(model, "vulkan", &err);
    assert_backend(err, "vulkan", "as asked");
    ck_assert_str_eq(on_vulkan, on_cpu);
    g_free(on_cpu);
    g_free(on_vulkan);
    g_free(err);
    g_free(model);
}
END_TEST

static double
perplexity(const char *model, const char *backend)
{
    hk_run_result r = engine("perplexity", "-m", model, "-f", text_path, "-c", "64",
                             "--backend", backend, NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    const char *last = g_strrstr(r.out, "perplexity: ");
    ck_assert_msg(last, "%s", r.out);
    double ppl = g_ascii_strtod(last + strlen("perplexity: "), NULL);
    hk_run_result_clear(&r);
    return ppl;
}

START_TEST(test_perplexity_agrees_with_cpu)
{
    char *model = model_path("plain", perplexity_types[_i]);
    double on_cpu = perplexity(model, "cpu"), on_vulkan = perplexity(model, "vulkan");
    ck_assert_msg(isfinite(on_cpu) && on_cpu > 1.0, "cpu perplexity %g", on_cpu);
    ck_assert_msg(fabs(on_vulkan - on_cpu) < 0.01 * on_cpu, "%s: perplexity %g on vulkan, %g on cpu",
                  perplexity_types[_i], on_vulkan, on_cpu);
    g_free(model);
}
END_TEST

/* The kernels that multiply bytes, which a GPU with an integer dot
 * product runs for quantized weights, forced on lavapipe: the same
 * continuation and perplexity (they round activations to 8 bits as the
 * CPU does). */
static const char *const byte_types[] = { "q8_0", "q4_0", "q4_k_m" };

START_TEST(test_byte_kernels_agree_with_cpu)
{
    g_setenv("HEARKEN_VULKAN_KERNELS", "gpu", TRUE);
    g_setenv("HEARKEN_VULKAN_INT8", "1", TRUE);
    if (strcmp(byte_types[_i], "q8_0") == 0) {
        char *model = model_path("peaked", "q8_0");
        char *on_cpu = greedy(model, "cpu", NULL), *on_vulkan = greedy(model, "vulkan", NULL);
        ck_assert_str_eq(on_vulkan, on_cpu);
        g_free(on_cpu);
        g_free(on_vulkan);
        g_free(model);
    }
    char *model = model_path("plain", byte_types[_i]);
    double on_cpu = perplexity(model, "cpu"), on_vulkan = perplexity(model, "vulkan");
    ck_assert_msg(fabs(on_vulkan - on_cpu) < 0.01 * on_cpu, "%s: perplexity %g multiplying "
                  "bytes on vulkan, %g on cpu", byte_types[_i], on_vulkan, on_cpu);
    g_free(model);
}
END_TEST

START_TEST(test_bench_runs_on_vulkan)
{
    char *model = model_path("plain", "q4_0");
    hk_run_result r = engine("bench", "-m", model, "-p", "16", "-n", "4", "-r", "1", "--json",
                             "--backend", "vulkan", NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_msg(strstr(r.out, "\"backend\": \"vulkan\"") && strstr(r.out, "pp_tokens_per_second"),
                  "%s", r.out);
    hk_run_result_clear(&r);
    g_free(model);
}
END_TEST

/* ----------------------------------------------------------------------------
 * falling back to the CPU */

/* Run with the environment variable set: on the CPU, for the reason, with
 * the CPU's continuation. */
static void
check_fallback(const char *variable, const char *value, const char *reason_part)
{
    char *model = model_path("peaked", "q8_0");
    char *on_cpu = greedy(model, "cpu", NULL);
    g_setenv(variable, value, TRUE);
    char *err = NULL;
    char *ids = greedy(model, "vulkan", &err);
    assert_backend(err, "cpu", reason_part);
    ck_assert_str_eq(ids, on_cpu);
    g_free(on_cpu);
    g_free(ids);
    g_free(err);
    g_free(model);
}

START_TEST(test_fallback_no_such_device)
{
    check_fallback("HEARKEN_VULKAN_DEVICE", "99", "there is no Vulkan device 99");
}
END_TEST

/* The fifth tensor allocation fails: the model is half on the device. */
START_TEST(test_fallback_allocation_failure)
{
    check_fallback("HEARKEN_VULKAN_FAULT", "alloc:5", "VK_ERROR_OUT_OF_DEVICE_MEMORY");
}
END_TEST

/* The third step is lost: the prompt and one token ran on the device, the
 * rest runs on the CPU from the cache's copy. */
START_TEST(test_fallback_device_lost)
{
    check_fallback("HEARKEN_VULKAN_FAULT", "lost:3", "VK_ERROR_DEVICE_LOST");
}
END_TEST

/* auto does not take a Vulkan device that is a CPU implementation, and
 * says so. */
START_TEST(test_auto_passes_over_lavapipe)
{
    char *model = model_path("peaked", "q8_0");
    hk_run_result r = engine("run", "-m", model, "-p", PROMPT, "-n", "2", "--backend", "auto", NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    if (strstr(r.err, "backend:    vulkan"))
        ck_assert_msg(!strstr(r.err, "CPU implementation"), "%s", r.err);
    else
        assert_backend(r.err, "cpu", "runs on the CPU");
    hk_run_result_clear(&r);
    g_free(model);
}
END_TEST

static Suite *
vulkan_model_suite(void)
{
    Suite *s = suite_create("vulkan-model");
    TCase *tc = tcase_create("agreement");
    tcase_add_loop_test(tc, test_greedy_agrees_with_cpu, 0, G_N_ELEMENTS(greedy_types));
    tcase_add_loop_test(tc, test_perplexity_agrees_with_cpu, 0, G_N_ELEMENTS(perplexity_types));
    tcase_add_test(tc, test_bench_runs_on_vulkan);
    suite_add_tcase(s, tc);

    tc = tcase_create("bytes");
    tcase_add_loop_test(tc, test_byte_kernels_agree_with_cpu, 0, G_N_ELEMENTS(byte_types));
    suite_add_tcase(s, tc);

    tc = tcase_create("fallback");
    tcase_add_test(tc, test_fallback_no_such_device);
    tcase_add_test(tc, test_fallback_allocation_failure);
    tcase_add_test(tc, test_fallback_device_lost);
    tcase_add_test(tc, test_auto_passes_over_lavapipe);
    suite_add_tcase(s, tc);
    return s;
}

/* mkmodel.py's small model of a type; false after saying why. */
static bool
make_model(const char *shared, const char *kind, const char *type, const char *seed)
{
    char *tool = g_build_filename(shared, "tools", "mkmodel.py", NULL);
    char *donor = g_build_filename(shared, "models", "llama-2-tiny-random.gguf", NULL);
    char *out = model_path(kind, type);
    const char *argv[] = {
        "python3", tool, donor, out, "--type", type, "--dim", "256", "--layers", "2",
        "--heads", "4", "--kv-heads", "2", "--ff", "512", "--ctx", "256", "--seed", seed,
        strcmp(kind, "peaked") == 0 ? "--peaked" : NULL, NULL,
    };
    int status = 1;
    char *err = NULL;
    GError *error = NULL;
    bool ok = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                           NULL, NULL, NULL, &err, &status, &error) &&
              g_spawn_check_wait_status(status, NULL);
    if (!ok)
        printf("mkmodel.py %s %s failed: %s\n", kind, type, error ? error->message : err);
    g_clear_error(&error);
    g_free(err);
    g_free(tool);
    g_free(donor);
    g_free(out);
    return ok;
}

int
main(void)
{
    const char *shared = hk_test_shared_dir();
    if (!shared) {
        puts("SKIP: ../shared is absent (HEARKEN_SHARED): no mkmodel.py");
        return HK_TEST_SKIP;
    }
    hk_backend *probe;
    hk_error err = { 0 };
    hk_backend_vulkan_params p = { .device = -1, .allow_cpu = true };
    if (hk_backend_vulkan_new(&p, &probe, &err) < 0) {
        printf("SKIP: no usable Vulkan device: %s\n", err.message);
        return HK_TEST_SKIP;
    }
    hk_backend_free(probe);

    tmp_dir = g_dir_make_tmp("hearken-vulkan-model-XXXXXX", NULL);
    /* one cache for every run: pipelines built by the first serve the rest */
    g_setenv("XDG_CACHE_HOME", tmp_dir, TRUE);
    g_unsetenv("HEARKEN_BACKEND");
    g_unsetenv("HEARKEN_VULKAN_DEVICE");
    g_unsetenv("HEARKEN_VULKAN_FAULT");
    g_unsetenv("HEARKEN_VULKAN_KERNELS");
    g_unsetenv("HEARKEN_VULKAN_INT8");
    g_unsetenv("HEARKEN_VULKAN_SUBGROUP");

    bool ok = true;
    for (size_t i = 0; i < G_N_ELEMENTS(greedy_types) && ok; i++)
        ok = make_model(shared, "peaked", greedy_types[i], "2");
    for (size_t i = 0; i < G_N_ELEMENTS(perplexity_types) && ok; i++)
        ok = make_model(shared, "plain", perplexity_types[i], "3");
    GString *text = g_string_new(NULL);
    for (int i = 0; i < 4; i++)
        g_string_append(text, "The quick brown fox jumps over the lazy dog, and once upon a "
                              "time a little girl lived in a village near the forest. ");
    text_path = g_build_filename(tmp_dir, "text.txt", NULL);
    ok = ok && g_file_set_contents(text_path, text->str, (gssize)text->len, NULL);
    g_string_free(text, TRUE);

    int failed = 1;
    if (ok) {
        SRunner *runner = srunner_create(vulkan_model_suite());
        srunner_run_all(runner, CK_NORMAL);
        failed = srunner_ntests_failed(runner);
        srunner_free(runner);
    }
    hk_tmpdir_remove(tmp_dir);
    g_free(tmp_dir);
    g_free(text_path);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#else

int
main(void)
{
    puts("SKIP: this build has no Vulkan backend (configure with -Dvulkan=enabled)");
    return HK_TEST_SKIP;
}

#endif
