/* tokenizer-bpe.c — byte-level BPE, for "gpt2" vocabularies (GPT-2,
 * Llama 3, Qwen2, DeepSeek, Falcon, StarCoder, MPT…): the pre-tokenizer
 * cuts the text into words, each byte of a word becomes the token of its
 * stand-in character (GPT-2's byte-to-unicode table, which gives every
 * byte a printable character), and neighbours merge in the order of
 * tokenizer.ggml.merges. */
#include "tokenizer-private.h"

#include <errno.h>
#include <string.h>

#include "unicode.h"

#define KEY_MERGES "tokenizer.ggml.merges"

/* Stand-in code points run from 0 to 0x143. */
#define N_STAND_INS 0x144

#define NO_PAIR UINT64_MAX

/* One probe reads one slot: the pair and what it merges into together. */
typedef struct merge_slot {
    uint64_t pair;    /* left id << 32 | right id, NO_PAIR when free */
    uint32_t rank;    /* position in tokenizer.ggml.merges: lower merges first */
    int32_t  result;  /* the merged token */
} merge_slot;

struct hk_bpe {
    hk_pre   *pre;
    bool      ignore_merges;
    uint16_t  byte_cp[256];          /* byte → its stand-in code point */
    int16_t   cp_byte[N_STAND_INS];  /* and back; -1 for code points that stand for nothing */

    merge_slot *merges;  /* (left id, right id) → merge, by open addressing over (mask + 1) slots */
    uint32_t    mask;
};

/* ------------------------------------------------------------------ loading */

/* Bytes that stand for themselves; the others get code points from 256 on,
 * in byte order. */
static bool
is_printable_byte(int b)
{
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

static void
build_byte_map(hk_tokenizer *t, hk_bpe *bpe)
{
    uint16_t next = 256;

    memset(bpe->cp_byte, 0xff, sizeof bpe->cp_byte);
    for (int b = 0; b < 256; b++) {
        bpe->byte_cp[b] = is_printable_byte(b) ? (uint16_t) b : next++;
        bpe->cp_byte[bpe->byte_cp[b]] = (int16_t) b;

        char utf8[4];
        size_t n = hk_utf8_encode(bpe->byte_cp[b], utf8);
        t->byte_token[b] = hk_vocab_find(t, utf8, n);
    }
}

static uint32_t
pair_slot(uint64_t key, uint32_t mask)
{
    return (uint32_t) ((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static bool
find_merge(const hk_bpe *bpe, int32_t left, int32_t right, uint32_t *rank, int32_t *result)
{
    uint64_t key = (uint64_t) left << 32 | (uint32_t) right;

    for (uint32_t i = pair_slot(key, bpe->mask);; i = (i + 1) & bpe->mask) {
        const merge_slot *m = &bpe->merges[i];
        if (m->pair == NO_PAIR)
            return false;
        if (m->pair == key) {
            *rank = m->rank;
            *result = m->result;
            return true;
        }
    }
}

static void
add_merge(hk_bpe *bpe, int32_t left, int32_t right, uint32_t rank, int32_t result)
{
    uint64_t key = (uint64_t) left << 32 | (uint32_t) right;
    uint32_t i = pair_slot(key, bpe->mask);

    while (bpe->merges[i].pair != NO_PAIR) {
        if (bpe->merges[i].pair == key)
            return;  /* listed twice: the first, lower rank holds */
        i = (i + 1) & bpe->mask;
    }
    bpe->merges[i] = (merge_slot) { key, rank, result };
}

/* "Ġ t" → the ids of "Ġ", "t" and "Ġt".  A merge whose parts or result
 * the vocabulary lacks could never apply, and is left out. */
static int
load_merge(hk_tokenizer *t, const hk_gguf *g, uint32_t rank, GString *joined, hk_error *err)
{
    hk_gguf_str s;

    if (!hk_gguf_array_str(g, KEY_MERGES, rank, &s))
        return hk_error_set(err, -EINVAL, "%s[%u] cannot be read", KEY_MERGES, rank);
    const char *space = s.len > 1 ? memchr(s.ptr + 1, ' ', s.len - 1) : NULL;
    size_t left_len = space ? (size_t) (space - s.ptr) : 0;
    size_t right_len = space ? s.len - left_len - 1 : 0;
    if (!space || right_len == 0 || memchr(space + 1, ' ', right_len))
        return hk_error_set(err, -EINVAL, "%s[%u] \"%.*s\" is not two tokens separated by a space",
                            KEY_MERGES, rank, (int) MIN(s.len, 64), s.ptr);

    g_string_truncate(joined, 0);
    g_string_append_len(joined, s.ptr, (gssize) left_len);
    g_string_append_len(joined, space + 1, (gssize) right_len);
    int32_t left = hk_vocab_find(t, s.ptr, left_len);
    int32_t right = hk_vocab_find(t, space + 1, right_len);
    int32_t result = hk_vocab_find(t, joined->str, joined->len);
    if (left >= 0 && right >= 0 && result >= 0)
        add_merge(t->bpe, left, right, rank, result);
    return 0;
}

static int
load_merges(hk_tokenizer *t, const hk_gguf *g, hk_error *err)
{
    hk_bpe *bpe = t->bpe;
    hk_gguf_vtype type;
    uint64_t n;

    if (!hk_gguf_get_array(g, KEY_MERGES, &type, &n) || type != HK_GGUF_STRING)
        return hk_error_set(err, -EINVAL, "%s is missing or not an array of strings", KEY_MERGES);
    if (n > 4 * (uint64_t) t->n_vocab)
        return hk_error_set(err, -EINVAL, "%s has %" G_GUINT64_FORMAT " entries for %u tokens",
                            KEY_MERGES, n, t->n_vocab);

    uint32_t slots = 2;
    while (slots < 2 * n)
        slots *= 2;
    bpe->mask = slots - 1;
    bpe->merges = g_new(merge_slot, slots);
    for (uint32_t i = 0; i < slots; i++)
        bpe->merges[i].pair = NO_PAIR;

    GString *joined = g_string_new(NULL);
    int r = 0;
    for (uint32_t i = 0; i < n && r == 0; i++)
        r = load_merge(t, g, i, joined, err);
    g_string_free(joined, TRUE);
    return r;
}

int
hk_bpe_load(hk_tokenizer *t, const hk_gguf *g, hk_error *err)
{
    t->bpe = g_new0(hk_bpe, 1);
    int r = hk_pre_new(t->pre_name, &t->bpe->pre, err);
    if (r < 0)
        return r;
    t->bpe->ignore_merges = hk_pre_ignores_merges(t->bpe->pre);
    build_byte_map(t, t->bpe);
    return load_merges(t, g, err);
}

void
hk_bpe_free(hk_bpe *bpe)
{
    if (!bpe)
        return;
    hk_pre_free(bpe->pre);
    g_free(bpe->merges);
    g_free(bpe);
}

bool
hk_bpe_default_add_bos(const hk_bpe *bpe)
{
    return hk_pre_adds_bos(bpe->pre);
}

/* ------------------------------------------------------------------ encoding */

static bool
bpe_pair(const void *ctx, const hk_symbol *sym, int32_t left, int32_t right, hk_bigram *b)
{
    const hk_bpe *bpe = ctx;
    uint32_t rank;

    if (sym[left].id < 0 || sym[right].id < 0 ||
        !find_merge(bpe, sym[left].id, sym[right].id, &rank, &b->id))
        return false;
    b->key = rank;
    return true;
}

/* The token spelling the whole word, in its byte-level form; -1 if none. */
static int32_t
whole_word_token(hk_encoder *e, const char *word, size_t len)
{
    const hk_bpe *bpe = e->t->bpe;
    GString *s = e->scratch;

    g_string_truncate(s, 0);
    for (size_t i = 0; i < len; i++) {
        char utf8[4];
        size_t n = hk_utf8_encode(bpe->byte_cp[(uint8_t) word[i]], utf8);
        g_string_append_len(s, utf8, (gssize) n);
    }
    return hk_vocab_find(e->t, s->str, s->len);
}

static void
encode_word(hk_encoder *e, const char *word, size_t len)
{
    const hk_tokenizer *t = e->t;
    size_t first = e->ids.n;

    if (hk_encoder_recall(e, word, len))
        return;
    int32_t whole = t->bpe->ignore_merges ? whole_word_token(e, word, len) : -1;
    if (whole >= 0) {
        hk_ids_push(&e->ids, whole);
    } else {
        hk_symbol *sym = hk_merger_start(&e->merger, len);
        for (size_t i = 0; i < len; i++)
            sym[i] = (hk_symbol) { .start = (uint32_t) i, .len = 1, .id = t->byte_token[(uint8_t) word[i]] };
        hk_merger_run(&e->merger, bpe_pair, t->bpe);
        /* A byte the vocabulary has no token for is dropped, as llama.cpp does. */
        for (int32_t i = 0; i != -1; i = sym[i].next)
            if (sym[i].id >= 0)
                hk_ids_push(&e->ids, sym[i].id);
    }
    hk_encoder_remember(e, word, len, first);
}

int
hk_bpe_encode(hk_encoder *e, const char *text, size_t len, hk_error *err)
{
    int r = hk_pre_split(e->t->bpe->pre, text, len, e->spans, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < e->spans->len; i++) {
        hk_span w = g_array_index(e->spans, hk_span, i);
        encode_word(e, text + w.start, w.len);
    }
    return 0;
}

/* ------------------------------------------------------------------ decoding */

void
hk_bpe_append_piece(const hk_tokenizer *t, int32_t id, GString *out)
{
    const hk_bpe *bpe = t->bpe;
    const uint8_t *s = (const uint8_t *) hk_token_text(t, id);
    size_t len = t->tokens[id].len;

    for (size_t i = 0, n; i < len; i += n) {
        uint32_t cp = N_STAND_INS;
        if (hk_utf8_scan((const char *) s + i, len - i, &n) != HK_UTF8_VALID)
            n = 1;
        else if (n == 1)
            cp = s[i];
        else if (n == 2)
            cp = (uint32_t) (s[i] & 0x1F) << 6 | (s[i + 1] & 0x3F);
        if (cp < N_STAND_INS && bpe->cp_byte[cp] >= 0)
            g_string_append_c(out, (char) bpe->cp_byte[cp]);
        else
            g_string_append_len(out, (const char *) s + i, (gssize) n);
    }
}
