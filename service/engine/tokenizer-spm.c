/* tokenizer-spm.c — SentencePiece-style encoding, as llama.cpp does it for
 * "llama" vocabularies (Llama 2, TinyLlama, Mistral, Phi-3, Baichuan):
 * spaces become ▁, one more goes in front of the text, then neighbouring
 * symbols merge — the pair whose token scores highest first — and a
 * character no token spells falls back to its <0xNN> byte tokens. */
#include "tokenizer-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "unicode.h"

#define SPACE_MARK     "\xe2\x96\x81"  /* ▁ U+2581, SentencePiece's space */
#define SPACE_MARK_LEN 3

#define KEY_ADD_SPACE_PREFIX "tokenizer.ggml.add_space_prefix"

/* ------------------------------------------------------------------ loading */

/* ▁ after another character: such a token merges across a word start. */
static bool
has_space_mark_inside(const char *s, uint32_t len)
{
    const char *end = s + len;

    for (const char *p = s; (p = memmem(p, (size_t) (end - p), SPACE_MARK, SPACE_MARK_LEN)); p += SPACE_MARK_LEN) {
        bool after_mark = p - s >= SPACE_MARK_LEN && memcmp(p - SPACE_MARK_LEN, SPACE_MARK, SPACE_MARK_LEN) == 0;
        if (p > s && !after_mark)
            return true;
    }
    return false;
}

int
hk_spm_load(hk_tokenizer *t, const hk_gguf *g, hk_error *err)
{
    t->add_space_prefix = true;
    if (hk_gguf_find_key(g, KEY_ADD_SPACE_PREFIX) >= 0 &&
        !hk_gguf_get_bool(g, KEY_ADD_SPACE_PREFIX, &t->add_space_prefix))
        return hk_error_set(err, -EINVAL, "%s is not a boolean", KEY_ADD_SPACE_PREFIX);

    for (int b = 0; b < 256; b++) {
        char name[8];
        char raw = (char) b;
        snprintf(name, sizeof name, "<0x%02X>", b);
        t->byte_token[b] = hk_vocab_find(t, name, 6);
        if (t->byte_token[b] < 0)
            t->byte_token[b] = hk_vocab_find(t, &raw, 1);
    }

    /* True of every SentencePiece vocabulary seen so far; when it holds,
     * words can merge one at a time (and repeated ones from memory) with
     * the same result as merging the whole text at once. */
    t->spm_words_apart = true;
    for (uint32_t id = 0; id < t->n_vocab && t->spm_words_apart; id++)
        if (has_space_mark_inside(hk_token_text(t, id), t->tokens[id].len))
            t->spm_words_apart = false;
    return 0;
}

/* ------------------------------------------------------------------ encoding */

/* Keys that put the highest score first. */
static uint32_t
score_key(float score)
{
    uint32_t bits;

    if (score == 0.0f)
        score = 0.0f;  /* -0 ties with 0 */
    memcpy(&bits, &score, sizeof bits);
    uint32_t ascending = (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;
    return ~ascending;
}

typedef struct spm_word {
    const hk_tokenizer *t;
    const char         *text;
} spm_word;

static bool
spm_pair(const void *ctx, const hk_symbol *sym, int32_t left, int32_t right, hk_bigram *b)
{
    const spm_word *w = ctx;
    int32_t id = hk_vocab_find(w->t, w->text + sym[left].start, sym[left].len + sym[right].len);

    if (id < 0)
        return false;
    b->key = score_key(w->t->tokens[id].score);
    b->id = id;
    return true;
}

static void
push_bytes(hk_encoder *e, const char *s, uint32_t len)
{
    const hk_tokenizer *t = e->t;

    for (uint32_t i = 0; i < len; i++) {
        int32_t id = t->byte_token[(uint8_t) s[i]];
        if (id < 0)
            id = t->unk;
        if (id >= 0)
            hk_ids_push(&e->ids, id);
    }
}

static size_t
char_len(const char *s, size_t left)
{
    return MIN(hk_utf8_lead_len((uint8_t) s[0]), left);
}

static void
encode_word(hk_encoder *e, const char *word, size_t len)
{
    const hk_tokenizer *t = e->t;
    size_t first = e->ids.n, n = 0;

    if (len == 0 || hk_encoder_recall(e, word, len))
        return;
    for (size_t i = 0; i < len; i += char_len(word + i, len - i))
        n++;
    hk_symbol *sym = hk_merger_start(&e->merger, n);
    for (size_t i = 0, k = 0; i < len; i += sym[k++].len) {
        sym[k].start = (uint32_t) i;
        sym[k].len = (uint32_t) char_len(word + i, len - i);
        sym[k].id = hk_vocab_find(t, word + i, sym[k].len);
    }

    spm_word ctx = { t, word };
    hk_merger_run(&e->merger, spm_pair, &ctx);
    for (int32_t i = 0; i != -1; i = sym[i].next) {
        if (sym[i].id >= 0)
            hk_ids_push(&e->ids, sym[i].id);
        else
            push_bytes(e, word + sym[i].start, sym[i].len);
    }
    hk_encoder_remember(e, word, len, first);
}

static bool
is_space_mark(const char *s, size_t len)
{
    return len == SPACE_MARK_LEN && memcmp(s, SPACE_MARK, SPACE_MARK_LEN) == 0;
}

/* Words start where ▁ follows another character ("▁the", "▁▁x"). */
static void
encode_words(hk_encoder *e, const char *text, size_t len)
{
    size_t word = 0;
    bool prev_mark = false;

    for (size_t i = 0, n; i < len; i += n) {
        n = char_len(text + i, len - i);
        bool mark = is_space_mark(text + i, n);
        if (mark && !prev_mark && i > word) {
            encode_word(e, text + word, i - word);
            word = i;
        }
        prev_mark = mark;
    }
    encode_word(e, text + word, len - word);
}

void
hk_spm_encode(hk_encoder *e, const char *text, size_t len, bool after_special)
{
    const hk_tokenizer *t = e->t;
    GString *s = e->scratch;

    g_string_truncate(s, 0);
    if (t->add_space_prefix && after_special)
        g_string_append_len(s, SPACE_MARK, SPACE_MARK_LEN);
    for (const char *p = text, *end = text + len; p < end;) {
        const char *space = memchr(p, ' ', (size_t) (end - p));
        const char *stop = space ? space : end;
        g_string_append_len(s, p, stop - p);
        if (space)
            g_string_append_len(s, SPACE_MARK, SPACE_MARK_LEN);
        p = stop + (space != NULL);
    }

    if (t->spm_words_apart)
        encode_words(e, s->str, s->len);
    else
        encode_word(e, s->str, s->len);
}

/* ------------------------------------------------------------------ decoding */

void
hk_spm_append_piece(const hk_tokenizer *t, int32_t id, GString *out)
{
    const char *p = hk_token_text(t, id), *end = p + t->tokens[id].len;

    while (p < end) {
        const char *mark = memmem(p, (size_t) (end - p), SPACE_MARK, SPACE_MARK_LEN);
        const char *stop = mark ? mark : end;
        g_string_append_len(out, p, stop - p);
        if (mark)
            g_string_append_c(out, ' ');
        p = mark ? mark + SPACE_MARK_LEN : end;
    }
}
