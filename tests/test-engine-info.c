/* `hearken-engine info` on files the writer made: the summary and --kv
 * lines a person or a script reads, and the one-line error of a broken
 * file. */
#include <glib.h>
#include <string.h>

#include "gguf.h"
#include "hk-check.h"
#include "hk-subprocess.h"
#include "hk-tmpdir.h"

static char *tmp_dir;
static char *model_path;

typedef struct run_result {
    int         status;
    char       *out;
    char       *err;
    GHashTable *fields;  /* label -> value, from the "label: value" lines of out */
} run_result;

static void
run_result_clear(run_result *r)
{
    g_free(r->out);
    g_free(r->err);
    g_hash_table_destroy(r->fields);
}

/* "label:   value" lines, the column where values start in *ret_column
 * (-1 when the lines disagree). */
static GHashTable *
parse_fields(const char *out, int *ret_column)
{
    GHashTable *fields = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    char **lines = g_strsplit(out, "\n", -1);
    int column = 0;

    for (char **l = lines; *l && **l; l++) {
        const char *colon = strstr(*l, ": ");
        ck_assert_msg(colon, "not a 'label: value' line: %s", *l);
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        int at = (int)(value - *l);
        column = column == 0 || column == at ? at : -1;
        g_hash_table_insert(fields, g_strndup(*l, (gsize)(colon - *l)), g_strdup(value));
    }
    g_strfreev(lines);
    *ret_column = column;
    return fields;
}

static run_result
run_info(const char *arg1, const char *arg2)
{
    char *exe = hk_built_cli("hearken-engine");
    const char *argv[] = { exe, "info", arg1, arg2, NULL };
    hk_run_result run = hk_run(argv);
    run_result r = { run.status, run.out, run.err, NULL };
    int column;

    r.fields = parse_fields(r.status == 0 ? r.out : "", &column);
    if (r.status == 0)
        ck_assert_msg(column > 0, "values are not aligned:\n%s", r.out);
    g_free(exe);
    return r;
}

static void
write_model(hk_gguf_writer *w, const char *path)
{
    hk_error err = { 0 };
    ck_assert_msg(hk_gguf_writer_write_file(w, path, &err) == 0, "%s", err.message);
}

static void
setup(void)
{
    static const char *const tokens[] = { "a", "b", "c" };
    static const uint8_t zeros[3 * 64 * 2];
    hk_gguf_writer *w = hk_gguf_writer_new();
    hk_error err = { 0 };

    tmp_dir = hk_tmpdir_new();
    model_path = g_build_filename(tmp_dir, "model.gguf", NULL);
    hk_gguf_writer_set_str(w, "general.architecture", "llama");
    hk_gguf_writer_set_u32(w, "llama.context_length", 2048);
    hk_gguf_writer_set_u32(w, "llama.embedding_length", 64);
    hk_gguf_writer_set_u32(w, "llama.block_count", 2);
    hk_gguf_writer_set_u32(w, "llama.feed_forward_length", 128);
    hk_gguf_writer_set_u32(w, "llama.attention.head_count", 4);
    hk_gguf_writer_set_u32(w, "llama.attention.head_count_kv", 2);
    hk_gguf_writer_set_f32(w, "llama.rope.freq_base", 500000.0f);
    hk_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    hk_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2");
    hk_gguf_writer_set_str(w, "tokenizer.ggml.pre", "llama-bpe");
    hk_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", tokens, 3);
    hk_gguf_writer_set_str(w, "tokenizer.chat_template",
                           "{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n"
                           "{{ m.content }}<|eot_id|>{% endfor %}");
    ck_assert_int_eq(hk_gguf_writer_add_tensor(w, "output_norm.weight", HK_TYPE_F32, 1, (uint64_t[]){ 64 }, zeros, &err), 0);
    ck_assert_int_eq(hk_gguf_writer_add_tensor(w, "attn_norm.weight", HK_TYPE_F32, 1, (uint64_t[]){ 64 }, zeros, &err), 0);
    ck_assert_int_eq(hk_gguf_writer_add_tensor(w, "token_embd.weight", HK_TYPE_Q8_0, 2, (uint64_t[]){ 64, 3 }, zeros, &err), 0);
    ck_assert_int_eq(hk_gguf_writer_add_tensor(w, "output.weight", HK_TYPE_F16, 2, (uint64_t[]){ 64, 3 }, zeros, &err), 0);
    write_model(w, model_path);
    hk_gguf_writer_free(w);
}

static void
teardown(void)
{
    hk_tmpdir_remove(tmp_dir);
    g_free(model_path);
    g_free(tmp_dir);
}

static void
ck_field(GHashTable *fields, const char *label, const char *value)
{
    const char *got = g_hash_table_lookup(fields, label);
    ck_assert_msg(got, "no '%s' line", label);
    ck_assert_msg(strcmp(got, value) == 0, "%s: '%s', expected '%s'", label, got, value);
}

START_TEST(test_summary)
{
    run_result r = run_info(model_path, NULL);
    GStatBuf st;

    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.err, "");
    ck_assert_int_eq(g_stat(model_path, &st), 0);
    char *size = g_strdup_printf("%lld bytes (%.2f KiB)", (long long)st.st_size, st.st_size / 1024.0);

    ck_field(r.fields, "file", model_path);
    ck_field(r.fields, "file size", size);
    ck_field(r.fields, "gguf version", "3");
    ck_field(r.fields, "architecture", "llama");
    ck_field(r.fields, "context length", "2048");
    ck_field(r.fields, "embedding length", "64");
    ck_field(r.fields, "block count", "2");
    ck_field(r.fields, "feed-forward length", "128");
    ck_field(r.fields, "head count", "4");
    ck_field(r.fields, "head count kv", "2");
    ck_field(r.fields, "rope freq base", "500000");
    ck_field(r.fields, "rms eps", "1e-05");
    ck_field(r.fields, "vocab size", "3");
    ck_field(r.fields, "tensors", "4");
    ck_field(r.fields, "tensor types", "f32 2, f16 1, q8_0 1");
    ck_field(r.fields, "parameters", "512");
    ck_field(r.fields, "tokenizer", "gpt2");
    ck_field(r.fields, "pre-tokenizer", "llama-bpe");
    ck_field(r.fields, "chat format", "llama3");
    g_free(size);
    run_result_clear(&r);
}
END_TEST

START_TEST(test_kv_dump)
{
    run_result r = run_info("--kv", model_path);

    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(g_hash_table_size(r.fields), 13);
    ck_field(r.fields, "general.architecture", "\"llama\"");
    ck_field(r.fields, "llama.attention.head_count_kv", "2");
    ck_field(r.fields, "tokenizer.ggml.tokens", "[array of 3 string]");
    const char *tmpl = g_hash_table_lookup(r.fields, "tokenizer.chat_template");
    ck_assert(tmpl && g_str_has_prefix(tmpl, "\"{% for m in messages %}<|start_header_id|>"));
    run_result_clear(&r);
}
END_TEST

/* A broken file: exit 1 and one line naming the file and what is wrong. */
START_TEST(test_broken_file)
{
    char *broken = g_build_filename(tmp_dir, "broken.gguf", NULL);
    char *contents;
    gsize length;
    ck_assert(g_file_get_contents(model_path, &contents, &length, NULL));
    ck_assert(g_file_set_contents(broken, contents, 100, NULL));

    run_result r = run_info(broken, NULL);
    char *prefix = g_strdup_printf("hearken-engine: %s: ", broken);
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.out, "");
    ck_assert_msg(g_str_has_prefix(r.err, prefix) && strstr(r.err, "at offset "), "%s", r.err);
    hk_assert_one_error_line(r.err, "hearken-engine");
    run_result_clear(&r);

    g_free(prefix);
    g_free(contents);
    g_free(broken);
}
END_TEST

START_TEST(test_missing_file)
{
    char *missing = g_build_filename(tmp_dir, "missing.gguf", NULL);
    run_result r = run_info(missing, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(g_str_has_prefix(r.err, "hearken-engine: ") && strstr(r.err, missing), "%s", r.err);
    run_result_clear(&r);
    g_free(missing);
}
END_TEST

START_TEST(test_usage_errors)
{
    run_result r = run_info(NULL, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "usage: hearken-engine info"));
    run_result_clear(&r);

    r = run_info("--verbose", model_path);
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "'--verbose'"));
    run_result_clear(&r);

    r = run_info(model_path, model_path);
    ck_assert_int_eq(r.status, 2);
    run_result_clear(&r);
}
END_TEST

static Suite *
engine_info_suite(void)
{
    Suite *s = suite_create("engine-info");
    TCase *tc = tcase_create("info");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_summary);
    tcase_add_test(tc, test_kv_dump);
    tcase_add_test(tc, test_broken_file);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_usage_errors);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(engine_info_suite)
