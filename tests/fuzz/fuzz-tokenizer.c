/* fuzz-tokenizer.c — libFuzzer target for encoding and decoding.
 *
 * Twelve vocabularies of shared/ (three SentencePiece, nine byte-level BPE
 * with the pre-tokenizers they name) load once.  An input's first byte picks
 * the vocabulary and the flags; the rest is the text.  Encoding any bytes
 * must succeed with ids in range; decoding any ids must give valid UTF-8;
 * and text that is valid UTF-8 must decode back to itself, as
 * tokenizer.h promises for text without specials parsed, when the
 * vocabulary can spell each of its bytes (Falcon's has no token for some
 * control characters, StarCoder's none for 0xF1: those bytes are left out,
 * as llama.cpp leaves them out), and, for SentencePiece, when it has no
 * U+2581, the mark that stands for a space and decodes as one.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "tokenizer.h"

#define REQUIRE(cond) do { if (!(cond)) __builtin_trap(); } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Relative to shared/.  Baichuan is left out: it has no byte fallback, so
 * characters outside its vocabulary decode as <unk>, not as themselves. */
static const char *const vocab_files[] = {
    "models/llama-2-tiny-random.gguf",   /* SPM, the model the tests run */
    "vocab/ggml-vocab-llama-spm.gguf",   /* SPM */
    "vocab/ggml-vocab-phi-3.gguf",       /* SPM, chat control tokens */
    "vocab/ggml-vocab-gpt-2.gguf",       /* BPE, GPT-2 pre-tokenizer */
    "vocab/ggml-vocab-llama3.gguf",      /* BPE, llama3 */
    "vocab/ggml-vocab-qwen3.gguf",       /* BPE, qwen2 */
    "vocab/ggml-vocab-deepseek-llm.gguf",
    "vocab/ggml-vocab-deepseek-coder.gguf",
    "vocab/ggml-vocab-falcon.gguf",
    "vocab/ggml-vocab-starcoder.gguf",
    "vocab/ggml-vocab-refact.gguf",
    "vocab/ggml-vocab-gpt-neox.gguf",    /* BPE, no pre-tokenizer named */
};

#define N_VOCABS (sizeof vocab_files / sizeof vocab_files[0])

static hk_tokenizer *tokenizers[N_VOCABS];
/* Which bytes each vocabulary has a token of one byte for. */
static bool spells_byte[N_VOCABS][256];

static hk_tokenizer *
load(const char *shared, const char *file)
{
    char *path = g_build_filename(shared, file, NULL);
    hk_error err = { 0 };
    hk_gguf *g;
    hk_tokenizer *t;

    if (hk_gguf_open(path, &g, &err) < 0 || hk_tokenizer_load(g, &t, &err) < 0) {
        fprintf(stderr, "fuzz-tokenizer: %s: %s\n", path, err.message);
        exit(1);
    }
    hk_gguf_close(g);
    g_free(path);
    return t;
}

static void
find_byte_tokens(const hk_tokenizer *t, bool *spells)
{
    char piece[2];

    for (uint32_t id = 0; id < hk_tokenizer_n_vocab(t); id++)
        if (hk_tokenizer_piece(t, (int32_t) id, false, piece, sizeof piece) == 1)
            spells[(uint8_t) piece[0]] = true;
}

static bool
can_spell(const bool *spells, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!spells[(uint8_t) text[i]])
            return false;
    return true;
}

static bool
has_space_mark(const hk_tokenizer *t, const char *text, size_t len)
{
    static const char mark[] = "\xe2\x96\x81";  /* U+2581 */
    return strcmp(hk_tokenizer_kind(t), "llama") == 0 && memmem(text, len, mark, sizeof mark - 1);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *shared = getenv("HEARKEN_SHARED");
    char *probe = shared ? g_build_filename(shared, "DESIGN.md", NULL) : NULL;

    if (!probe || !g_file_test(probe, G_FILE_TEST_IS_REGULAR)) {
        printf("SKIP: fuzz-tokenizer needs the shared/ folder (HEARKEN_SHARED) for its vocabularies\n");
        exit(77);
    }
    g_free(probe);
    for (size_t i = 0; i < N_VOCABS; i++) {
        tokenizers[i] = load(shared, vocab_files[i]);
        find_byte_tokens(tokenizers[i], spells_byte[i]);
    }
    return 0;
}

static void
check_pieces(const hk_tokenizer *t, const int32_t *ids, size_t n)
{
    char small[4];

    for (size_t i = 0; i < n; i++) {
        int len = hk_tokenizer_piece(t, ids[i], true, small, sizeof small);
        REQUIRE(len >= 0);
        if ((size_t) len < sizeof small)
            REQUIRE(small[len] == '\0');
    }
    REQUIRE(hk_tokenizer_piece(t, -1, true, small, sizeof small) == -1);
    REQUIRE(hk_tokenizer_piece(t, (int32_t) hk_tokenizer_n_vocab(t), true, small, sizeof small) == -1);
}

/* The streaming decoder (which leaves control tokens out) gives the same
 * text as hk_tokenizer_decode without them, in whole characters at every
 * step. */
static void
check_streaming(const hk_tokenizer *t, const int32_t *ids, size_t n, const char *decoded)
{
    hk_detokenizer *d = hk_detokenizer_new(t);
    GString *text = g_string_new(NULL);

    for (size_t i = 0; i < n; i++) {
        const char *part = hk_detokenizer_push(d, ids[i]);
        REQUIRE(g_utf8_validate(part, -1, NULL));
        g_string_append(text, part);
    }
    g_string_append(text, hk_detokenizer_flush(d));
    REQUIRE(strcmp(text->str, decoded) == 0);
    g_string_free(text, TRUE);
    hk_detokenizer_free(d);
}

/* The bytes read as ids, some out of range, which decoding skips. */
static void
decode_raw_ids(const hk_tokenizer *t, const uint8_t *data, size_t size)
{
    size_t n = size / 3;
    int32_t *ids = g_new(int32_t, n + 1);
    uint32_t range = hk_tokenizer_n_vocab(t) + 2;

    for (size_t i = 0; i < n; i++)
        ids[i] = (int32_t) ((data[3 * i] | data[3 * i + 1] << 8 | (uint32_t) data[3 * i + 2] << 16) % range) - 1;
    for (int render = 0; render < 2; render++) {
        char *text = hk_tokenizer_decode(t, ids, n, render);
        REQUIRE(text && g_utf8_validate(text, -1, NULL));
        if (!render)
            check_streaming(t, ids, n, text);
        free(text);
    }
    g_free(ids);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t vocab = data[0] % N_VOCABS;
    const hk_tokenizer *t = tokenizers[vocab];
    bool add_bos = data[0] & 0x40 && hk_tokenizer_bos(t) >= 0;
    bool parse_special = data[0] & 0x80;
    const char *text = (const char *) data + 1;
    size_t len = size - 1;
    hk_error err = { 0 };
    int32_t *ids;
    size_t n;

    REQUIRE(hk_tokenizer_encode(t, text, len, add_bos, parse_special, &ids, &n, &err) == 0);
    for (size_t i = 0; i < n; i++)
        REQUIRE(ids[i] >= 0 && (uint32_t) ids[i] < hk_tokenizer_n_vocab(t));
    REQUIRE(!add_bos || (n > 0 && ids[0] == hk_tokenizer_bos(t)));
    check_pieces(t, ids, n);

    char *back = hk_tokenizer_decode(t, ids, n, false);
    REQUIRE(back && g_utf8_validate(back, -1, NULL));
    /* Decoding leaves NUL bytes out: text with one cannot come back. */
    if (!parse_special && g_utf8_validate(text, (gssize) len, NULL) && !memchr(text, '\0', len) &&
        can_spell(spells_byte[vocab], text, len) && !has_space_mark(t, text, len))
        REQUIRE(strlen(back) == len && memcmp(back, text, len) == 0);
    free(back);
    free(ids);

    decode_raw_ids(t, data + 1, len);
    return 0;
}
