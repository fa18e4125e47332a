/* `hearken-engine tokenize` on a vocabulary the writer made: standard
 * input read byte for byte, the ids on one line as the library gives
 * them, and the exit status and one-line error of each failure. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "hk-check.h"
#include "hk-subprocess.h"
#include "hk-tmpdir.h"
#include "tokenizer.h"

static char *tmp_dir;
static char *model_path;

/* <unk> <s> </s>, the byte tokens, ▁ and a few letters. */
static void
setup(void)
{
    GPtrArray *tokens = g_ptr_array_new_with_free_func(g_free);
    GArray *types = g_array_new(FALSE, FALSE, sizeof(int32_t));
    static const char *const names[] = { "<unk>", "<s>", "</s>" };
    static const int32_t name_types[] = { 2, 3, 3 };
    static const char *const pieces[] = { "\xe2\x96\x81", "a", "\xe2\x96\x81" "a", "b" };

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        g_ptr_array_add(tokens, g_strdup(names[i]));
        g_array_append_val(types, name_types[i]);
    }
    for (int b = 0; b < 256; b++) {
        int32_t byte = 6;
        g_ptr_array_add(tokens, g_strdup_printf("<0x%02X>", b));
        g_array_append_val(types, byte);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(pieces); i++) {
        int32_t normal = 1;
        g_ptr_array_add(tokens, g_strdup(pieces[i]));
        g_array_append_val(types, normal);
    }

    hk_gguf_writer *w = hk_gguf_writer_new();
    hk_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    hk_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", (const char *const *) tokens->pdata, tokens->len);
    hk_gguf_writer_set_array(w, "tokenizer.ggml.token_type", HK_GGUF_INT32, types->data, types->len);
    hk_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    hk_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);

    tmp_dir = hk_tmpdir_new();
    model_path = g_build_filename(tmp_dir, "vocab.gguf", NULL);
    hk_error err = { 0 };
    ck_assert_msg(hk_gguf_writer_write_file(w, model_path, &err) == 0, "%s", err.message);
    hk_gguf_writer_free(w);
    g_ptr_array_unref(tokens);
    g_array_unref(types);
}

static void
teardown(void)
{
    hk_tmpdir_remove(tmp_dir);
    g_free(model_path);
    g_free(tmp_dir);
}

/* hearken-engine tokenize ARGS… < input, where input holds len bytes. */
static hk_run_result
run_tokenize(const char *input, size_t len, const char *const *args)
{
    char *exe = hk_built_cli("hearken-engine");
    char *input_path = g_build_filename(tmp_dir, "input", NULL);
    GPtrArray *argv = g_ptr_array_new();

    ck_assert(g_file_set_contents(input_path, input, (gssize) len, NULL));
    g_ptr_array_add(argv, "/bin/sh");
    g_ptr_array_add(argv, "-c");
    g_ptr_array_add(argv, "exec \"$@\" < \"$0\"");
    g_ptr_array_add(argv, input_path);
    g_ptr_array_add(argv, exe);
    g_ptr_array_add(argv, "tokenize");
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (char *) *a);
    g_ptr_array_add(argv, NULL);

    hk_run_result r = hk_run((const char *const *) argv->pdata);
    g_ptr_array_unref(argv);
    g_free(input_path);
    g_free(exe);
    return r;
}

/* The ids the library gives, as the command should print them. */
static char *
expected_line(const char *text, size_t len, bool bos, bool special)
{
    hk_error err = { 0 };
    hk_gguf *g;
    hk_tokenizer *t;
    int32_t *ids;
    size_t n;

    ck_assert_msg(hk_gguf_open(model_path, &g, &err) == 0, "%s", err.message);
    ck_assert_msg(hk_tokenizer_load(g, &t, &err) == 0, "%s", err.message);
    ck_assert_msg(hk_tokenizer_encode(t, text, len, bos, special, &ids, &n, &err) == 0, "%s", err.message);
    GString *line = g_string_new(NULL);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(line, i ? " %d" : "%d", ids[i]);
    g_string_append_c(line, '\n');
    free(ids);
    hk_tokenizer_free(t);
    hk_gguf_close(g);
    return g_string_free(line, FALSE);
}

/* A one-line message that starts as every hearken-engine error does. */
static void
assert_one_line_error(const hk_run_result *r, const char *mentions)
{
    hk_assert_one_error_line(r->err, "hearken-engine");
    ck_assert_msg(strstr(r->err, mentions), "\"%s\" does not mention %s", r->err, mentions);
}

START_TEST(test_ids_of_stdin)
{
    /* the newline at the end is part of the text: <0x0A> ends the ids */
    const char text[] = "a ba\n";
    const char *const args[] = { "-m", model_path, NULL };
    hk_run_result r = run_tokenize(text, strlen(text), args);
    char *want = expected_line(text, strlen(text), false, false);

    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, want);
    ck_assert(g_str_has_suffix(r.out, " 13\n"));
    ck_assert_str_eq(r.err, "");
    g_free(want);
    hk_run_result_clear(&r);
}
END_TEST

START_TEST(test_bos_and_special)
{
    const char text[] = "a</s>";
    const char *const plain_args[] = { "-m", model_path, NULL };
    const char *const args[] = { "--bos", "--special", "-m", model_path, NULL };
    hk_run_result plain = run_tokenize(text, strlen(text), plain_args);
    hk_run_result r = run_tokenize(text, strlen(text), args);
    char *want = expected_line(text, strlen(text), true, true);

    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, want);
    ck_assert(g_str_has_prefix(r.out, "1 "));
    ck_assert(g_str_has_suffix(r.out, " 2\n"));
    ck_assert(!g_str_has_suffix(plain.out, " 2\n"));
    g_free(want);
    hk_run_result_clear(&r);
    hk_run_result_clear(&plain);
}
END_TEST

START_TEST(test_empty_input)
{
    const char *const args[] = { "-m", model_path, NULL };
    hk_run_result r = run_tokenize("", 0, args);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "\n");
    hk_run_result_clear(&r);
}
END_TEST

START_TEST(test_bench)
{
    const char text[] = "a a a a b";
    const char *const args[] = { "-m", model_path, "--bench", NULL };
    hk_run_result r = run_tokenize(text, strlen(text), args);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(g_str_has_prefix(r.out, "9 bytes, 6 tokens in ") && strstr(r.out, " MB/s\n"), "%s", r.out);
    hk_run_result_clear(&r);
}
END_TEST

START_TEST(test_errors)
{
    char *missing = g_build_filename(tmp_dir, "missing.gguf", NULL);
    const char *const missing_args[] = { "-m", missing, NULL };
    hk_run_result r = run_tokenize("a", 1, missing_args);
    ck_assert_int_eq(r.status, 1);
    assert_one_line_error(&r, "missing.gguf");
    ck_assert_str_eq(r.out, "");
    hk_run_result_clear(&r);

    const char *const no_model[] = { "--bos", NULL };
    r = run_tokenize("a", 1, no_model);
    ck_assert_int_eq(r.status, 2);
    hk_run_result_clear(&r);

    const char *const unknown[] = { "-m", model_path, "--frobnicate", NULL };
    r = run_tokenize("a", 1, unknown);
    ck_assert_int_eq(r.status, 2);
    ck_assert(strstr(r.err, "--frobnicate"));
    hk_run_result_clear(&r);
    g_free(missing);
}
END_TEST

static Suite *
engine_tokenize_suite(void)
{
    Suite *s = suite_create("engine-tokenize");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_ids_of_stdin);
    tcase_add_test(tc, test_bos_and_special);
    tcase_add_test(tc, test_empty_input);
    tcase_add_test(tc, test_bench);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(engine_tokenize_suite)
