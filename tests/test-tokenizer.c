/* The tokenizers: small vocabularies written with the GGUF writer (merge
 * order, byte fallback, special tokens, the streaming decoder, malformed
 * metadata), then the real Llama 2 vocabulary of shared/'s tiny model. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "hk-check.h"
#include "tokenizer.h"

enum { NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, BYTE = 6 };

#define SPACE_MARK "\xe2\x96\x81"  /* ▁ */

/* ------------------------------------------------------------ helpers */

/* A vocabulary being written: token texts, scores and types. */
typedef struct vocab {
    GPtrArray *tokens;
    GArray    *scores;
    GArray    *types;
} vocab;

static vocab *
vocab_new(void)
{
    vocab *v = g_new0(vocab, 1);
    v->tokens = g_ptr_array_new_with_free_func(g_free);
    v->scores = g_array_new(FALSE, FALSE, sizeof(float));
    v->types = g_array_new(FALSE, FALSE, sizeof(int32_t));
    return v;
}

static void
vocab_free(vocab *v)
{
    g_ptr_array_unref(v->tokens);
    g_array_unref(v->scores);
    g_array_unref(v->types);
    g_free(v);
}

static int32_t
vocab_add(vocab *v, const char *text, float score, int32_t type)
{
    g_ptr_array_add(v->tokens, g_strdup(text));
    g_array_append_val(v->scores, score);
    g_array_append_val(v->types, type);
    return (int32_t) v->tokens->len - 1;
}

static void
vocab_write(const vocab *v, hk_gguf_writer *w, const char *model)
{
    hk_gguf_writer_set_str(w, "tokenizer.ggml.model", model);
    hk_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", (const char *const *) v->tokens->pdata,
                                 v->tokens->len);
    hk_gguf_writer_set_array(w, "tokenizer.ggml.scores", HK_GGUF_FLOAT32, v->scores->data, v->scores->len);
    hk_gguf_writer_set_array(w, "tokenizer.ggml.token_type", HK_GGUF_INT32, v->types->data, v->types->len);
}

/* Load the tokenizer a writer describes; frees the writer. */
static int
load_written(hk_gguf_writer *w, hk_tokenizer **t, hk_error *err)
{
    void *data;
    size_t size;
    hk_gguf *g;

    ck_assert_msg(hk_gguf_writer_write_memory(w, &data, &size, err) == 0, "%s", err->message);
    ck_assert_msg(hk_gguf_open_memory(data, size, &g, err) == 0, "%s", err->message);
    int r = hk_tokenizer_load(g, t, err);
    hk_gguf_close(g);
    g_free(data);
    hk_gguf_writer_free(w);
    return r;
}

static hk_tokenizer *
load_ok(hk_gguf_writer *w)
{
    hk_error err = { 0 };
    hk_tokenizer *t;
    ck_assert_msg(load_written(w, &t, &err) == 0, "%s", err.message);
    return t;
}

/* Loading must fail, with a message that names the culprit. */
static void
assert_load_fails(hk_gguf_writer *w, const char *culprit)
{
    hk_error err = { 0 };
    hk_tokenizer *t = NULL;
    ck_assert_int_lt(load_written(w, &t, &err), 0);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(err.message, culprit), "\"%s\" does not mention %s", err.message, culprit);
}

static GArray *
encode(const hk_tokenizer *t, const char *text, bool bos, bool special)
{
    hk_error err = { 0 };
    int32_t *ids;
    size_t n;
    ck_assert_msg(hk_tokenizer_encode(t, text, strlen(text), bos, special, &ids, &n, &err) == 0,
                  "%s", err.message);
    GArray *a = g_array_sized_new(FALSE, FALSE, sizeof(int32_t), (guint) n);
    g_array_append_vals(a, ids, (guint) n);
    free(ids);
    return a;
}

#define ID(a, i) g_array_index((a), int32_t, (i))

/* The ids must be exactly the n given. */
static void
assert_ids(GArray *got, size_t n, const int32_t *want)
{
    ck_assert_uint_eq(got->len, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(ID(got, i) == want[i], "id %zu is %d, expected %d", i, ID(got, i), want[i]);
    g_array_unref(got);
}

#define ASSERT_IDS(got, ...)                                                  \
    do {                                                                      \
        const int32_t want_[] = { __VA_ARGS__ };                              \
        assert_ids((got), G_N_ELEMENTS(want_), want_);                        \
    } while (0)

static bool
contains(GArray *ids, int32_t id)
{
    for (guint i = 0; i < ids->len; i++)
        if (ID(ids, i) == id)
            return true;
    return false;
}

static void
assert_round_trip(const hk_tokenizer *t, const char *text)
{
    GArray *ids = encode(t, text, false, false);
    char *back = hk_tokenizer_decode(t, (const int32_t *) ids->data, ids->len, false);
    ck_assert_str_eq(back, text);
    g_free(back);
    g_array_unref(ids);
}

/* ------------------------------------------------------------ a small SentencePiece vocabulary */

typedef struct spm_ids {
    int32_t space, a, b, z_byte, space_a, ab, tool, end, two_ends;
} spm_ids;

/* <unk> <s> </s>, the 256 byte tokens, and a few pieces; ab_score decides
 * whether "ab" or "▁a" merges first in "▁ab". */
static hk_gguf_writer *
spm_writer(float ab_score, spm_ids *ids)
{
    vocab *v = vocab_new();
    vocab_add(v, "<unk>", 0, UNKNOWN);
    vocab_add(v, "<s>", 0, CONTROL);
    vocab_add(v, "</s>", 0, CONTROL);
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        int32_t id = vocab_add(v, name, 0, BYTE);
        if (b == 'z')
            ids->z_byte = id;
    }
    ids->space = vocab_add(v, SPACE_MARK, -5, NORMAL);
    ids->a = vocab_add(v, "a", -3, NORMAL);
    ids->b = vocab_add(v, "b", -3, NORMAL);
    ids->space_a = vocab_add(v, SPACE_MARK "a", -2, NORMAL);
    ids->ab = vocab_add(v, "ab", ab_score, NORMAL);
    ids->tool = vocab_add(v, "<tool>", 0, USER_DEFINED);
    ids->two_ends = vocab_add(v, "</s></s>", 0, CONTROL);
    /* a normal token by type, an end of turn by name */
    ids->end = vocab_add(v, "<|end|>", 0, NORMAL);

    hk_gguf_writer *w = hk_gguf_writer_new();
    vocab_write(v, w, "llama");
    hk_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    hk_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    vocab_free(v);
    return w;
}

START_TEST(test_spm_merges_by_score)
{
    spm_ids ids;
    hk_tokenizer *t = load_ok(spm_writer(-1, &ids));
    ck_assert_str_eq(hk_tokenizer_kind(t), "llama");
    /* "ab" scores higher than "▁a" and merges first */
    ASSERT_IDS(encode(t, "ab", false, false), ids.space, ids.ab);
    hk_tokenizer_free(t);

    t = load_ok(spm_writer(-4, &ids));
    ASSERT_IDS(encode(t, "ab", false, false), ids.space_a, ids.b);
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_spm_space_prefix)
{
    spm_ids ids;
    hk_tokenizer *t = load_ok(spm_writer(-1, &ids));
    /* spaces become ▁, and one goes in front */
    ASSERT_IDS(encode(t, "a a", false, false), ids.space_a, ids.space_a);
    GArray *none = encode(t, "", false, false);
    ck_assert_uint_eq(none->len, 0);
    g_array_unref(none);
    assert_round_trip(t, "a a");
    assert_round_trip(t, " a  b ");
    hk_tokenizer_free(t);

    hk_gguf_writer *w = spm_writer(-1, &ids);
    hk_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", false);
    t = load_ok(w);
    ASSERT_IDS(encode(t, "a a", false, false), ids.a, ids.space_a);
    assert_round_trip(t, "a a");
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_spm_byte_fallback)
{
    spm_ids ids;
    hk_tokenizer *t = load_ok(spm_writer(-1, &ids));
    int32_t e_acute_0 = ids.z_byte - 'z' + 0xC3, e_acute_1 = ids.z_byte - 'z' + 0xA9;

    ASSERT_IDS(encode(t, "z", false, false), ids.space, ids.z_byte);
    ASSERT_IDS(encode(t, "\xc3\xa9", false, false), ids.space, e_acute_0, e_acute_1);
    assert_round_trip(t, "za\xc3\xa9\n");
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_spm_bos)
{
    spm_ids ids;
    hk_tokenizer *t = load_ok(spm_writer(-1, &ids));
    ck_assert_int_eq(hk_tokenizer_bos(t), 1);
    ck_assert_int_eq(hk_tokenizer_eos(t), 2);
    ck_assert(hk_tokenizer_wants_bos(t));
    ASSERT_IDS(encode(t, "a", true, false), 1, ids.space_a);
    ASSERT_IDS(encode(t, "", true, false), 1);
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_special_tokens)
{
    spm_ids ids;
    hk_tokenizer *t = load_ok(spm_writer(-1, &ids));

    /* control tokens only with parse_special; after one, the space prefix
     * comes again */
    ASSERT_IDS(encode(t, "a</s>a", false, true), ids.space_a, 2, ids.space_a);
    GArray *plain = encode(t, "a</s>a", false, false);
    ck_assert(!contains(plain, 2));
    g_array_unref(plain);
    assert_round_trip(t, "a</s>a");

    /* user-defined tokens are always cut out, as llama.cpp does */
    ASSERT_IDS(encode(t, "a<tool>a", false, false), ids.space_a, ids.tool, ids.space_a);

    /* the longer token wins where two overlap, then the shorter takes
     * what is left */
    ASSERT_IDS(encode(t, "</s></s></s>", false, true), ids.two_ends, 2);
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_end_of_generation)
{
    spm_ids ids;
    hk_tokenizer *t = load_ok(spm_writer(-1, &ids));
    char buf[16];

    ck_assert(hk_tokenizer_is_eog(t, 2));
    /* found by its name although the file calls it normal: then it is a
     * control token, hidden unless asked for and not read from plain text */
    ck_assert(hk_tokenizer_is_eog(t, ids.end));
    ck_assert(!hk_tokenizer_is_eog(t, 1));
    ck_assert(!hk_tokenizer_is_eog(t, ids.a));
    ck_assert_int_eq(hk_tokenizer_piece(t, ids.end, false, buf, sizeof buf), 0);
    ck_assert_int_eq(hk_tokenizer_piece(t, ids.end, true, buf, sizeof buf), 7);
    ck_assert_str_eq(buf, "<|end|>");
    GArray *plain = encode(t, "<|end|>", false, false);
    ck_assert(!contains(plain, ids.end));
    g_array_unref(plain);
    hk_tokenizer_free(t);
}
END_TEST

/* ------------------------------------------------------------ a small byte-level BPE vocabulary */

typedef struct bpe_ids {
    int32_t hello, g_hello, el, ll, end_of_text, tool;
    int32_t byte[256];
} bpe_ids;

static void
append_stand_in(GString *s, int b)
{
    /* GPT-2's table: printable bytes stand for themselves, the others
     * take code points from 256 on. */
    int n = 0;
    bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    for (int c = 0; c < b && !printable; c++)
        if (!((c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE))
            n++;
    g_string_append_unichar(s, printable ? (gunichar) b : (gunichar) (256 + n));
}

/* Every byte but missing_byte (-1: none), a few merged words, merges in
 * the order given. */
static hk_gguf_writer *
bpe_writer_without(const char *const *merges, size_t n_merges, int missing_byte, bpe_ids *ids)
{
    vocab *v = vocab_new();
    for (int b = 0; b < 256; b++) {
        ids->byte[b] = -1;
        if (b == missing_byte)
            continue;
        GString *s = g_string_new(NULL);
        append_stand_in(s, b);
        ids->byte[b] = vocab_add(v, s->str, 0, NORMAL);
        g_string_free(s, TRUE);
    }
    vocab_add(v, "he", 0, NORMAL);
    ids->ll = vocab_add(v, "ll", 0, NORMAL);
    ids->el = vocab_add(v, "el", 0, NORMAL);
    vocab_add(v, "llo", 0, NORMAL);
    ids->hello = vocab_add(v, "hello", 0, NORMAL);
    ids->g_hello = vocab_add(v, "\xc4\xa0hello", 0, NORMAL);  /* Ġ is the space's stand-in */
    ids->end_of_text = vocab_add(v, "<|endoftext|>", 0, CONTROL);
    ids->tool = vocab_add(v, "<tool>", 0, USER_DEFINED);

    hk_gguf_writer *w = hk_gguf_writer_new();
    vocab_write(v, w, "gpt2");
    hk_gguf_writer_set_str(w, "tokenizer.ggml.pre", "gpt-2");
    hk_gguf_writer_set_str_array(w, "tokenizer.ggml.merges", merges, n_merges);
    hk_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t) ids->end_of_text);
    vocab_free(v);
    return w;
}

static hk_gguf_writer *
bpe_writer(const char *const *merges, size_t n_merges, bpe_ids *ids)
{
    return bpe_writer_without(merges, n_merges, -1, ids);
}

static const char *const hello_merges[] = { "l l", "e l", "h e", "ll o", "he llo", "\xc4\xa0 hello" };

START_TEST(test_bpe_merges_by_rank)
{
    bpe_ids ids;
    hk_tokenizer *t = load_ok(bpe_writer(hello_merges, G_N_ELEMENTS(hello_merges), &ids));
    ck_assert_str_eq(hk_tokenizer_kind(t), "gpt2");
    ck_assert_str_eq(hk_tokenizer_pre(t), "gpt-2");
    ck_assert(!hk_tokenizer_wants_bos(t));
    ck_assert_int_eq(hk_tokenizer_bos(t), -1);

    ASSERT_IDS(encode(t, "hello hello", false, false), ids.hello, ids.g_hello);
    /* "l l" ranks before "e l" */
    ASSERT_IDS(encode(t, "ell", false, false), ids.byte['e'], ids.ll);
    hk_tokenizer_free(t);

    static const char *const el_first[] = { "e l", "l l" };
    t = load_ok(bpe_writer(el_first, G_N_ELEMENTS(el_first), &ids));
    ASSERT_IDS(encode(t, "ell", false, false), ids.el, ids.byte['l']);
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_bpe_bytes)
{
    bpe_ids ids;
    hk_tokenizer *t = load_ok(bpe_writer(hello_merges, G_N_ELEMENTS(hello_merges), &ids));

    /* every byte has a token, so any text comes back as it was */
    assert_round_trip(t, "h\xc3\xa9llo w\xc3\xb6rld \xf0\x9f\xa6\x99\n\ttabs\r\n");
    ASSERT_IDS(encode(t, "\xc3\xa9", false, false), ids.byte[0xC3], ids.byte[0xA9]);

    /* ill-formed input still encodes; decoding replaces it with U+FFFD */
    ASSERT_IDS(encode(t, "\xff" "a", false, false), ids.byte[0xFF], ids.byte['a']);
    int32_t bad[] = { ids.byte[0xFF], ids.byte['a'] };
    char *text = hk_tokenizer_decode(t, bad, 2, false);
    ck_assert_str_eq(text, "\xef\xbf\xbd" "a");
    g_free(text);

    /* a BOS the model does not have is an error, not a guess */
    hk_error err = { 0 };
    int32_t *out;
    size_t n;
    ck_assert_int_lt(hk_tokenizer_encode(t, "a", 1, true, false, &out, &n, &err), 0);
    ck_assert(strstr(err.message, "BOS"));
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_bpe_missing_byte)
{
    bpe_ids ids;
    hk_tokenizer *t = load_ok(bpe_writer_without(hello_merges, G_N_ELEMENTS(hello_merges), 0xF5, &ids));

    /* a byte the vocabulary cannot spell is left out, as llama.cpp does */
    GArray *none = encode(t, "\xf5", false, false);
    ck_assert_uint_eq(none->len, 0);
    g_array_unref(none);
    ASSERT_IDS(encode(t, "a\xf5" "a", false, false), ids.byte['a'], ids.byte['a']);
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_bpe_special_tokens)
{
    bpe_ids ids;
    hk_tokenizer *t = load_ok(bpe_writer(hello_merges, G_N_ELEMENTS(hello_merges), &ids));

    ASSERT_IDS(encode(t, "hello<|endoftext|>", false, true), ids.hello, ids.end_of_text);
    GArray *plain = encode(t, "hello<|endoftext|>", false, false);
    ck_assert(!contains(plain, ids.end_of_text));
    g_array_unref(plain);
    ASSERT_IDS(encode(t, "<tool>hello", false, false), ids.tool, ids.hello);
    ck_assert(hk_tokenizer_is_eog(t, ids.end_of_text));
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_stream_matches_decode)
{
    bpe_ids ids;
    hk_tokenizer *t = load_ok(bpe_writer(hello_merges, G_N_ELEMENTS(hello_merges), &ids));
    const char *text = "hello \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x9a\x80 hello";
    GArray *enc = encode(t, text, false, false);
    hk_detokenizer *d = hk_detokenizer_new(t);
    GString *streamed = g_string_new(NULL);

    for (guint i = 0; i < enc->len; i++) {
        const char *part = hk_detokenizer_push(d, ID(enc, i));
        ck_assert_msg(g_utf8_validate(part, -1, NULL), "push %u gave broken UTF-8", i);
        g_string_append(streamed, part);
    }
    g_string_append(streamed, hk_detokenizer_flush(d));
    char *decoded = hk_tokenizer_decode(t, (const int32_t *) enc->data, enc->len, false);
    ck_assert_str_eq(streamed->str, text);
    ck_assert_str_eq(decoded, text);

    /* a character cut off at the end becomes U+FFFD */
    ck_assert_str_eq(hk_detokenizer_push(d, ids.byte[0xE4]), "");
    ck_assert_str_eq(hk_detokenizer_push(d, ids.byte[0xB8]), "");
    ck_assert_str_eq(hk_detokenizer_flush(d), "\xef\xbf\xbd");
    /* a NUL byte, which would end the C string early and lose the text
     * after it (found by fuzz-tokenizer), is left out */
    int32_t with_nul[] = { ids.byte['a'], ids.byte[0], ids.byte['b'] };
    char *without = hk_tokenizer_decode(t, with_nul, 3, false);
    ck_assert_str_eq(without, "ab");
    g_free(without);
    /* ids out of range give nothing */
    ck_assert_str_eq(hk_detokenizer_push(d, -1), "");
    ck_assert_str_eq(hk_detokenizer_push(d, (int32_t) hk_tokenizer_n_vocab(t)), "");

    g_free(decoded);
    g_string_free(streamed, TRUE);
    hk_detokenizer_free(d);
    hk_detokenizer_free(NULL);
    g_array_unref(enc);
    hk_tokenizer_free(t);
    hk_tokenizer_free(NULL);
}
END_TEST

/* ------------------------------------------------------------ malformed metadata */

START_TEST(test_malformed_metadata)
{
    spm_ids sids;
    bpe_ids bids;
    hk_gguf_writer *w;

    float short_scores[3] = { 0 };
    w = spm_writer(-1, &sids);
    hk_gguf_writer_set_array(w, "tokenizer.ggml.scores", HK_GGUF_FLOAT32, short_scores, 3);
    assert_load_fails(w, "tokenizer.ggml.scores");

    float wrong_types[3] = { 0 };
    w = spm_writer(-1, &sids);
    hk_gguf_writer_set_array(w, "tokenizer.ggml.token_type", HK_GGUF_FLOAT32, wrong_types, 3);
    assert_load_fails(w, "tokenizer.ggml.token_type");

    w = spm_writer(-1, &sids);
    hk_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1000000);
    assert_load_fails(w, "tokenizer.ggml.bos_token_id");

    w = spm_writer(-1, &sids);
    hk_gguf_writer_set_str(w, "tokenizer.ggml.model", "wordpiece");
    assert_load_fails(w, "wordpiece");

    w = hk_gguf_writer_new();
    hk_gguf_writer_set_str(w, "general.architecture", "llama");
    assert_load_fails(w, "tokenizer.ggml.model");

    w = hk_gguf_writer_new();
    hk_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    assert_load_fails(w, "tokenizer.ggml.tokens");

    static const char *const no_space[] = { "l l", "hello" };
    assert_load_fails(bpe_writer(no_space, G_N_ELEMENTS(no_space), &bids), "tokenizer.ggml.merges[1]");
    static const char *const three_parts[] = { "h e l" };
    assert_load_fails(bpe_writer(three_parts, G_N_ELEMENTS(three_parts), &bids), "tokenizer.ggml.merges[0]");

    w = bpe_writer(hello_merges, G_N_ELEMENTS(hello_merges), &bids);
    hk_gguf_writer_set_str(w, "tokenizer.ggml.pre", "no-such-pre");
    assert_load_fails(w, "no-such-pre");

    w = bpe_writer(hello_merges, G_N_ELEMENTS(hello_merges), &bids);
    hk_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", true);
    assert_load_fails(w, "BOS");

    w = bpe_writer(hello_merges, G_N_ELEMENTS(hello_merges), &bids);
    hk_gguf_writer_set_array(w, "tokenizer.ggml.merges", HK_GGUF_INT32, short_scores, 3);
    assert_load_fails(w, "tokenizer.ggml.merges");
}
END_TEST

/* ------------------------------------------------------------ shared/: Llama 2's vocabulary */

static hk_tokenizer *
load_llama2(void)
{
    char *path = g_build_filename(hk_test_shared_dir(), "models", "llama-2-tiny-random.gguf", NULL);
    hk_error err = { 0 };
    hk_gguf *g;
    hk_tokenizer *t;
    ck_assert_msg(hk_gguf_open(path, &g, &err) == 0, "%s", err.message);
    ck_assert_msg(hk_tokenizer_load(g, &t, &err) == 0, "%s", err.message);
    hk_gguf_close(g);
    g_free(path);
    return t;
}

/* Llama 2 keeps the byte <0xNN> at id 3 + NN. */
#define LLAMA2_BYTE(b) (3 + (b))
#define LLAMA2_SPACE 29871  /* ▁ */

START_TEST(test_llama2_vocabulary)
{
    hk_tokenizer *t = load_llama2();
    ck_assert_str_eq(hk_tokenizer_kind(t), "llama");
    ck_assert_str_eq(hk_tokenizer_pre(t), "default");
    ck_assert_uint_eq(hk_tokenizer_n_vocab(t), 32000);
    ck_assert_int_eq(hk_tokenizer_bos(t), 1);
    ck_assert_int_eq(hk_tokenizer_eos(t), 2);
    ck_assert(hk_tokenizer_wants_bos(t));
    ck_assert(hk_tokenizer_is_eog(t, 2));
    ck_assert(!hk_tokenizer_is_eog(t, 1));
    /* what llama.cpp gives */
    ASSERT_IDS(encode(t, "Hello world", false, false), 15043, 3186);
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_llama2_round_trip)
{
    static const char *const texts[] = {
        "Hello world",
        " leading space and trailing space ",
        "line one\nline two\n\n\tindented",
        "\xe4\xb8\xad\xe6\x96\x87\xe6\xb5\x8b\xe8\xaf\x95\xef\xbc\x8c\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
        "emoji \xf0\x9f\xa6\x99\xf0\x9f\x9a\x80 and \xe2\x9c\x85 done",
        "code: int main(void) { return 0; }\r\n",
        "",
    };
    hk_tokenizer *t = load_llama2();
    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++)
        assert_round_trip(t, texts[i]);
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_llama2_bos)
{
    hk_tokenizer *t = load_llama2();
    GArray *with = encode(t, "Hello", true, false), *without = encode(t, "Hello", false, false);
    ck_assert_uint_eq(with->len, without->len + 1);
    ck_assert_int_eq(ID(with, 0), 1);
    ck_assert(memcmp(&ID(with, 1), without->data, without->len * sizeof(int32_t)) == 0);
    /* decoding leaves the BOS out and the space prefix with it */
    char *text = hk_tokenizer_decode(t, (const int32_t *) with->data, with->len, false);
    ck_assert_str_eq(text, "Hello");
    g_free(text);
    g_array_unref(with);
    g_array_unref(without);
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_llama2_parse_special)
{
    hk_tokenizer *t = load_llama2();
    GArray *parsed = encode(t, "Hi</s>", false, true), *plain = encode(t, "Hi</s>", false, false);

    ck_assert_int_eq(ID(parsed, parsed->len - 1), 2);
    ck_assert(!contains(plain, 2));
    char *text = hk_tokenizer_decode(t, (const int32_t *) plain->data, plain->len, false);
    ck_assert_str_eq(text, "Hi</s>");
    g_free(text);
    text = hk_tokenizer_decode(t, (const int32_t *) parsed->data, parsed->len, true);
    ck_assert_str_eq(text, "Hi</s>");
    g_free(text);
    g_array_unref(parsed);
    g_array_unref(plain);
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_llama2_byte_fallback)
{
    hk_tokenizer *t = load_llama2();
    /* 🦙 (U+1F999) has no token: its four bytes stand in */
    ASSERT_IDS(encode(t, "\xf0\x9f\xa6\x99", false, false), LLAMA2_SPACE, LLAMA2_BYTE(0xF0),
               LLAMA2_BYTE(0x9F), LLAMA2_BYTE(0xA6), LLAMA2_BYTE(0x99));
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_llama2_stream_emoji)
{
    hk_tokenizer *t = load_llama2();
    const int32_t ids[] = { LLAMA2_SPACE, LLAMA2_BYTE(0xF0), LLAMA2_BYTE(0x9F), LLAMA2_BYTE(0xA6),
                            LLAMA2_BYTE(0x99) };
    hk_detokenizer *d = hk_detokenizer_new(t);

    /* nothing until the emoji is whole, and the prefix space is gone */
    for (size_t i = 0; i + 1 < G_N_ELEMENTS(ids); i++)
        ck_assert_msg(strcmp(hk_detokenizer_push(d, ids[i]), "") == 0, "push %zu gave text", i);
    ck_assert_str_eq(hk_detokenizer_push(d, ids[4]), "\xf0\x9f\xa6\x99");
    ck_assert_str_eq(hk_detokenizer_flush(d), "");
    hk_detokenizer_free(d);
    hk_tokenizer_free(t);
}
END_TEST

START_TEST(test_llama2_pieces)
{
    hk_tokenizer *t = load_llama2();
    char buf[32];
    GArray *the = encode(t, "the", false, false);

    ck_assert_uint_eq(the->len, 1);
    ck_assert_int_eq(hk_tokenizer_piece(t, ID(the, 0), false, buf, sizeof buf), 4);
    ck_assert_str_eq(buf, " the");
    ck_assert_int_eq(hk_tokenizer_piece(t, LLAMA2_BYTE('\n'), false, buf, sizeof buf), 1);
    ck_assert_str_eq(buf, "\n");
    ck_assert_int_eq(hk_tokenizer_piece(t, 2, false, buf, sizeof buf), 0);
    ck_assert_int_eq(hk_tokenizer_piece(t, 2, true, buf, sizeof buf), 4);
    ck_assert_str_eq(buf, "</s>");
    /* too small a buffer: the full length, and nothing past the end */
    memset(buf, 'x', sizeof buf);
    ck_assert_int_eq(hk_tokenizer_piece(t, ID(the, 0), false, buf, 2), 4);
    ck_assert(memcmp(buf, " txxx", 5) == 0);
    ck_assert_int_eq(hk_tokenizer_piece(t, -1, false, buf, sizeof buf), -1);
    ck_assert_int_eq(hk_tokenizer_piece(t, 32000, false, buf, sizeof buf), -1);
    g_array_unref(the);
    hk_tokenizer_free(t);
}
END_TEST

static Suite *
tokenizer_suite(void)
{
    Suite *s = suite_create("tokenizer");

    TCase *tc = tcase_create("sentencepiece");
    tcase_add_test(tc, test_spm_merges_by_score);
    tcase_add_test(tc, test_spm_space_prefix);
    tcase_add_test(tc, test_spm_byte_fallback);
    tcase_add_test(tc, test_spm_bos);
    tcase_add_test(tc, test_special_tokens);
    tcase_add_test(tc, test_end_of_generation);
    suite_add_tcase(s, tc);

    tc = tcase_create("bpe");
    tcase_add_test(tc, test_bpe_merges_by_rank);
    tcase_add_test(tc, test_bpe_bytes);
    tcase_add_test(tc, test_bpe_missing_byte);
    tcase_add_test(tc, test_bpe_special_tokens);
    tcase_add_test(tc, test_stream_matches_decode);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_test(tc, test_malformed_metadata);
    suite_add_tcase(s, tc);

    if (hk_test_shared_dir()) {
        tc = tcase_create("llama2");
        tcase_add_test(tc, test_llama2_vocabulary);
        tcase_add_test(tc, test_llama2_round_trip);
        tcase_add_test(tc, test_llama2_bos);
        tcase_add_test(tc, test_llama2_parse_special);
        tcase_add_test(tc, test_llama2_byte_fallback);
        tcase_add_test(tc, test_llama2_stream_emoji);
        tcase_add_test(tc, test_llama2_pieces);
        suite_add_tcase(s, tc);
    } else {
        printf("SKIP: shared/ is absent (HEARKEN_SHARED): the Llama 2 vocabulary tests do not run\n");
    }
    return s;
}

HK_CHECK_MAIN(tokenizer_suite)
