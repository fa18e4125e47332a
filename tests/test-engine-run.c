/* `hearken-engine run`, `bench` and `perplexity` as a person or a script
 * uses them: what goes to stdout and stderr, and the exit status. */
#include <glib.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hk-check.h"
#include "hk-subprocess.h"
#include "hk-synth-model.h"
#include "hk-tmpdir.h"

static char *tmp_dir;
static char *model_path;

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

/* Never EOS, so runs go to their length. */
static float
no_eos(const char *name, uint64_t row, uint64_t col, float value, void *user)
{
    return strcmp(name, "output.weight") == 0 && row == SYNTH_EOS ? 0.0f : value;
}

static void
setup(void)
{
    tmp_dir = hk_tmpdir_new();
    model_path = g_build_filename(tmp_dir, "synth.gguf", NULL);
    synth_model s = synth_model_default();
    s.type = HK_TYPE_Q8_0;
    s.output_scale = 10.0f;
    s.fill = no_eos;
    void *data;
    size_t size;
    synth_model_write(&s, &data, &size);
    ck_assert(g_file_set_contents(model_path, data, (gssize)size, NULL));
    g_free(data);
}

static void
teardown(void)
{
    hk_tmpdir_remove(tmp_dir);
    g_free(model_path);
    g_free(tmp_dir);
}

/* ----------------------------------------------------------------------------
 * run */

START_TEST(test_run_prints_ids)
{
    hk_run_result r = engine("run", "-m", model_path, "-p", "hello world", "-n", "9", "--temp", "0",
                          "--ids", NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    char **ids = g_strsplit(g_strstrip(r.out), " ", -1);
    ck_assert_uint_eq(g_strv_length(ids), 9);
    for (char **id = ids; *id; id++) {
        char *end;
        long v = strtol(*id, &end, 10);
        ck_assert_msg(*end == '\0' && v >= 0 && v < (long)SYNTH_N_VOCAB, "not an id: '%s'", *id);
    }
    ck_assert_ptr_nonnull(strstr(r.err, "load:"));
    ck_assert_ptr_nonnull(strstr(r.err, "prompt:"));
    ck_assert_ptr_nonnull(strstr(r.err, "generation: 9 tokens"));
    ck_assert_ptr_nonnull(strstr(r.err, "tokens/s"));
    g_strfreev(ids);
    hk_run_result_clear(&r);
}
END_TEST

START_TEST(test_run_greedy_is_repeatable_and_threads_agree)
{
    hk_run_result a = engine("run", "-m", model_path, "-p", "the", "-n", "12", "--temp", "0",
                          "-t", "1", NULL);
    hk_run_result b = engine("run", "-m", model_path, "-p", "the", "-n", "12", "--temp", "0",
                          "-t", "2", NULL);
    ck_assert_int_eq(a.status, 0);
    ck_assert_int_eq(b.status, 0);
    ck_assert_str_eq(a.out, b.out);
    ck_assert_uint_gt(strlen(a.out), 1);
    hk_run_result_clear(&a);
    hk_run_result_clear(&b);
}
END_TEST

static unsigned
prompt_tokens(const char *err)
{
    const char *at = strstr(err, "prompt:");
    ck_assert_ptr_nonnull(at);
    return (unsigned)strtoul(at + strlen("prompt:"), NULL, 10);
}

/* The synthetic model has no template: chatml, whose markers are plain
 * text to this vocabulary, makes the prompt longer. */
START_TEST(test_run_chat_wraps_the_prompt)
{
    hk_run_result plain = engine("run", "-m", model_path, "-p", "hello", "-n", "2", NULL);
    hk_run_result chat = engine("run", "-m", model_path, "-p", "hello", "-n", "2", "--chat", NULL);
    ck_assert_int_eq(plain.status, 0);
    ck_assert_int_eq(chat.status, 0);
    ck_assert_uint_gt(prompt_tokens(chat.err), prompt_tokens(plain.err) + 10);
    hk_run_result_clear(&plain);
    hk_run_result_clear(&chat);
}
END_TEST

START_TEST(test_run_errors)
{
    hk_run_result r = engine("run", "-m", model_path, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.err, "hearken-engine: run: no prompt given (-p PROMPT)\n");
    hk_run_result_clear(&r);

    r = engine("run", "-m", model_path, "-p", "x", "--temp", "hot", NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.err, "hearken-engine: run: --temp 'hot' is not a number\n");
    hk_run_result_clear(&r);

    r = engine("run", "-m", model_path, "-p", "x", "--frobnicate", NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert(g_str_has_prefix(r.err, "hearken-engine: run: option '--frobnicate' is unknown"));
    hk_run_result_clear(&r);

    r = engine("run", "-m", "/nonexistent.gguf", "-p", "x", NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert(g_str_has_prefix(r.err, "hearken-engine: /nonexistent.gguf: "));
    hk_assert_one_error_line(r.err, "hearken-engine");
    hk_run_result_clear(&r);

    /* the prompt and the tokens generated do not fit in 8 */
    r = engine("run", "-m", model_path, "-p", "hello", "-n", "20", "-c", "8", "--temp", "0", NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "hearken-engine: context full: 8 tokens\n"));
    hk_run_result_clear(&r);
}
END_TEST

START_TEST(test_run_tiny_model_from_shared)
{
    if (hk_test_skip_without_tiny_model("test-engine-run"))
        return;
    char *path = g_build_filename(hk_test_shared_dir(), "models", "llama-2-tiny-random.gguf", NULL);
    hk_run_result r = engine("run", "-m", path, "-p", "Once upon a time", "-n", "8", "--temp", "0",
                          "--ids", NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    char **ids = g_strsplit(g_strstrip(r.out), " ", -1);
    ck_assert_uint_ge(g_strv_length(ids), 1);
    g_strfreev(ids);
    hk_run_result_clear(&r);

    r = engine("run", "-m", path, "-p", "Once upon a time", "-n", "8", "--seed", "3", NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert(g_str_has_suffix(r.out, "\n"));
    hk_run_result_clear(&r);
    g_free(path);
}
END_TEST

/* ----------------------------------------------------------------------------
 * bench and perplexity */

START_TEST(test_bench_json)
{
    hk_run_result r = engine("bench", "-m", model_path, "-p", "16", "-n", "8", "-r", "2", "-t", "2",
                          "--json", NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    static const char *const keys[] = {
        "\"pp_tokens_per_second\": ", "\"tg_tokens_per_second\": ",
        "\"pp_tokens_per_second_stddev\": ", "\"tg_tokens_per_second_stddev\": ",
    };
    for (size_t i = 0; i < 4; i++) {
        const char *at = strstr(r.out, keys[i]);
        ck_assert_msg(at, "no %s in %s", keys[i], r.out);
        double v = g_ascii_strtod(at + strlen(keys[i]), NULL);
        ck_assert(isfinite(v) && v >= 0.0);
        if (i < 2)
            ck_assert_double_gt(v, 0.0);
    }
    ck_assert_ptr_nonnull(strstr(r.out, "\"model\": \"synth.gguf\""));
    ck_assert_ptr_nonnull(strstr(r.out, "\"type\": \"q8_0\""));
    ck_assert_ptr_nonnull(strstr(r.out, "\"threads\": 2"));
    hk_run_result_clear(&r);
}
END_TEST

START_TEST(test_bench_table)
{
    hk_run_result r = engine("bench", "-m", model_path, "-p", "8", "-n", "4", "-r", "1", NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "| pp8 |"));
    ck_assert_ptr_nonnull(strstr(r.out, "| tg4 |"));
    hk_run_result_clear(&r);
}
END_TEST

/* A model whose residual stream is its embedding (all ones), with logit
 * ln(V - 1) for byte 'a' and 0 for the rest: it gives 'a' a probability
 * of exactly 1/2. */
static float
half_a(const char *name, uint64_t row, uint64_t col, float value, void *user)
{
    if (strcmp(name, "token_embd.weight") == 0 || strstr(name, "norm.weight"))
        return 1.0f;
    if (strstr(name, "attn_output") || strstr(name, "ffn_down"))
        return 0.0f;
    if (strcmp(name, "output.weight") == 0)
        return row == SYNTH_BYTE0 + 'a' ? logf(SYNTH_N_VOCAB - 1) / 64.0f : 0.0f;
    return value;
}

static char *
write_text(const char *name, const char *unit, int times)
{
    char *path = g_build_filename(tmp_dir, name, NULL);
    GString *text = g_string_new(NULL);
    for (int i = 0; i < times; i++)
        g_string_append(text, unit);
    ck_assert(g_file_set_contents(path, text->str, (gssize)text->len, NULL));
    g_string_free(text, TRUE);
    return path;
}

/* The last line of a perplexity run's output. */
static double
perplexity_of(hk_run_result *r)
{
    ck_assert_msg(r->status == 0, "%s", r->err);
    char **lines = g_strsplit(g_strstrip(r->out), "\n", -1);
    guint n = g_strv_length(lines);
    ck_assert_uint_ge(n, 3);   /* a header, a line per window, the result */
    ck_assert_msg(g_str_has_prefix(lines[n - 1], "perplexity: "), "last line: %s", lines[n - 1]);
    double ppl = g_ascii_strtod(lines[n - 1] + strlen("perplexity: "), NULL);
    g_strfreev(lines);
    return ppl;
}

START_TEST(test_perplexity_known_value)
{
    char *half_path = g_build_filename(tmp_dir, "half.gguf", NULL);
    synth_model s = synth_model_default();
    s.fill = half_a;
    void *data;
    size_t size;
    synth_model_write(&s, &data, &size);
    ck_assert(g_file_set_contents(half_path, data, (gssize)size, NULL));
    g_free(data);
    char *text_path = write_text("a.txt", "a", 300);

    hk_run_result r = engine("perplexity", "-m", half_path, "-f", text_path, "-c", "64", NULL);
    ck_assert_double_eq_tol(perplexity_of(&r), 2.0, 1e-3);
    hk_run_result_clear(&r);

    g_free(half_path);
    g_free(text_path);
}
END_TEST

START_TEST(test_perplexity_errors)
{
    char *text_path = write_text("text.txt", "the hot world and the hello of the world. ", 40);
    hk_run_result r = engine("perplexity", "-m", model_path, "-f", text_path, "-c", "64", NULL);
    double ppl = perplexity_of(&r);
    ck_assert(isfinite(ppl));
    ck_assert_double_gt(ppl, 1.0);
    hk_run_result_clear(&r);

    r = engine("perplexity", "-m", model_path, "-f", text_path, "-c", "100000", NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "fewer than a window of 100000"));
    hk_run_result_clear(&r);

    r = engine("perplexity", "-m", model_path, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.err, "hearken-engine: perplexity: no text given (-f TEXT)\n");
    hk_run_result_clear(&r);

    g_free(text_path);
}
END_TEST

static Suite *
engine_run_suite(void)
{
    Suite *s = suite_create("engine-run");
    TCase *tc = tcase_create("run");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_run_prints_ids);
    tcase_add_test(tc, test_run_greedy_is_repeatable_and_threads_agree);
    tcase_add_test(tc, test_run_chat_wraps_the_prompt);
    tcase_add_test(tc, test_run_errors);
    tcase_add_test(tc, test_run_tiny_model_from_shared);
    suite_add_tcase(s, tc);

    tc = tcase_create("measure");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_bench_json);
    tcase_add_test(tc, test_bench_table);
    tcase_add_test(tc, test_perplexity_known_value);
    tcase_add_test(tc, test_perplexity_errors);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(engine_run_suite)
