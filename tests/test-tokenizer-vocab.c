/* The tokenizers against llama.cpp's test vectors.
 *
 * shared/vocab holds vocabulary-only GGUF files and, beside most, texts
 * (*.inp, separated by "\n__ggml_vocab_test__\n") with the ids llama.cpp
 * gives them (*.out, one line per text, no BOS, special tokens not
 * parsed).  Every vocabulary with vectors must give every id; bert-bge is
 * a WordPiece vocabulary this engine does not read.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "hk-check.h"
#include "tokenizer.h"

#define SEPARATOR "\n__ggml_vocab_test__\n"

typedef struct vocab_case {
    const char *vocab;    /* ggml-vocab-<vocab>.gguf */
    const char *vectors;  /* ggml-vocab-<vectors>.gguf.inp / .out */
} vocab_case;

static const vocab_case conformance[] = {
    { "deepseek-coder", "deepseek-coder" },
    { "deepseek-llm", "deepseek-llm" },
    { "falcon", "falcon" },
    { "gpt-2", "gpt-2" },
    { "llama-spm", "llama-spm" },
    { "llama3", "llama3" },
    { "mpt", "mpt" },
    { "phi-3", "phi-3" },
    { "qwen3", "qwen3" },
    { "refact", "refact" },
    { "starcoder", "starcoder" },
    /* GPT-NeoX-20B's file names no pre-tokenizer; "default" must read it
     * as GPT-2 does, which gives MPT's ids (MPT uses NeoX's tokenizer). */
    { "gpt-neox", "mpt" },
};

/* Vocabularies without vectors of their own are round-tripped on the
 * same texts. */
static const char *const round_trip_vocabs[] = {
    "baichuan", "deepseek-coder", "deepseek-llm", "falcon", "gpt-2", "gpt-neox",
    "llama-spm", "llama3", "mpt", "phi-3", "qwen3", "refact", "starcoder",
};

static hk_tokenizer *
load_vocab(const char *name)
{
    char *path = g_strdup_printf("%s/vocab/ggml-vocab-%s.gguf", hk_test_shared_dir(), name);
    hk_error err = { 0 };
    hk_gguf *g;
    hk_tokenizer *t;

    ck_assert_msg(hk_gguf_open(path, &g, &err) == 0, "%s", err.message);
    ck_assert_msg(hk_tokenizer_load(g, &t, &err) == 0, "%s: %s", path, err.message);
    hk_gguf_close(g);
    g_free(path);
    return t;
}

static char *
read_vectors(const char *name, const char *ext, size_t *len)
{
    char *path = g_strdup_printf("%s/vocab/ggml-vocab-%s.gguf.%s", hk_test_shared_dir(), name, ext);
    char *data;
    gsize n;

    ck_assert_msg(g_file_get_contents(path, &data, &n, NULL), "cannot read %s", path);
    g_free(path);
    *len = n;
    return data;
}

/* The texts of an .inp file; the file ends with a separator, after which
 * nothing is a text. */
static GPtrArray *
split_texts(const char *data, size_t len)
{
    GPtrArray *texts = g_ptr_array_new_with_free_func(g_free);
    const char *p = data, *end = data + len;

    for (;;) {
        const char *sep = memmem(p, (size_t) (end - p), SEPARATOR, strlen(SEPARATOR));
        if (!sep)
            break;
        g_ptr_array_add(texts, g_strndup(p, (gsize) (sep - p)));
        p = sep + strlen(SEPARATOR);
    }
    return texts;
}

static char *
format_ids(const int32_t *ids, size_t n)
{
    GString *s = g_string_new(NULL);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(s, i ? " %d" : "%d", ids[i]);
    return g_string_free(s, FALSE);
}

/* Text number i of a vocabulary's test vectors, without BOS or specials. */
static int32_t *
encode_text(hk_tokenizer *t, const char *vocab, guint i, const char *text, size_t *ret_n)
{
    hk_error err = { 0 };
    int32_t *ids;
    ck_assert_msg(hk_tokenizer_encode(t, text, strlen(text), false, false, &ids, ret_n, &err) == 0,
                  "%s: text %u: %s", vocab, i, err.message);
    return ids;
}

START_TEST(test_vectors)
{
    const vocab_case *c = &conformance[_i];
    hk_tokenizer *t = load_vocab(c->vocab);
    size_t inp_len, out_len;
    char *inp = read_vectors(c->vectors, "inp", &inp_len);
    char *out = read_vectors(c->vectors, "out", &out_len);
    GPtrArray *texts = split_texts(inp, inp_len);
    char **expected = g_strsplit(out, "\n", -1);

    ck_assert_uint_gt(texts->len, 40);
    ck_assert_uint_ge(g_strv_length(expected), texts->len);
    for (guint i = 0; i < texts->len; i++) {
        const char *text = g_ptr_array_index(texts, i);
        size_t n;
        int32_t *ids = encode_text(t, c->vocab, i, text, &n);
        char *got = format_ids(ids, n);
        char *want = g_strstrip(g_strdup(expected[i]));
        char *shown = g_strescape(text, NULL);
        ck_assert_msg(strcmp(got, want) == 0, "%s: text %u \"%.120s\"\n  expected: %.400s\n  got:      %.400s",
                      c->vocab, i, shown, want, got);
        g_free(shown);
        g_free(want);
        g_free(got);
        free(ids);
    }

    g_strfreev(expected);
    g_ptr_array_unref(texts);
    g_free(inp);
    g_free(out);
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_round_trip)
{
    const char *name = round_trip_vocabs[_i];
    hk_tokenizer *t = load_vocab(name);
    size_t inp_len;
    char *inp = read_vectors("gpt-2", "inp", &inp_len);
    GPtrArray *texts = split_texts(inp, inp_len);

    for (guint i = 0; i < texts->len; i++) {
        const char *text = g_ptr_array_index(texts, i);
        size_t n;
        int32_t *ids = encode_text(t, name, i, text, &n);
        char *back = hk_tokenizer_decode(t, ids, n, false);
        char *shown = g_strescape(text, NULL), *shown_back = g_strescape(back, NULL);
        ck_assert_msg(strcmp(back, text) == 0, "%s: text %u \"%.200s\" came back as \"%.200s\"",
                      name, i, shown, shown_back);
        g_free(shown);
        g_free(shown_back);
        g_free(back);
        free(ids);
    }

    g_ptr_array_unref(texts);
    g_free(inp);
    hk_tokenizer_free(t);
}
END_TEST

static Suite *
tokenizer_vocab_suite(void)
{
    Suite *s = suite_create("tokenizer-vocab");
    TCase *tc = tcase_create("vectors");
    tcase_add_loop_test(tc, test_vectors, 0, G_N_ELEMENTS(conformance));
    suite_add_tcase(s, tc);

    tc = tcase_create("round trip");
    tcase_add_loop_test(tc, test_round_trip, 0, G_N_ELEMENTS(round_trip_vocabs));
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    if (!hk_test_shared_dir()) {
        printf("SKIP: shared/ is absent (HEARKEN_SHARED): the vocabularies and their test vectors are not there\n");
        return HK_TEST_SKIP;
    }

    SRunner *runner = srunner_create(tokenizer_vocab_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
