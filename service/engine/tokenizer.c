/* tokenizer.c — the vocabulary, special tokens, the encode driver, pieces
 * and decoding.  How each kind splits plain text into tokens is in
 * tokenizer-spm.c and tokenizer-bpe.c. */
#include "tokenizer-private.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "unicode.h"

#define KEY_MODEL     "tokenizer.ggml.model"
#define KEY_PRE       "tokenizer.ggml.pre"
#define KEY_TOKENS    "tokenizer.ggml.tokens"
#define KEY_SCORES    "tokenizer.ggml.scores"
#define KEY_TYPES     "tokenizer.ggml.token_type"
#define KEY_ADD_BOS   "tokenizer.ggml.add_bos_token"

/* Far above any real vocabulary (the largest are a few hundred thousand
 * tokens), low enough that the index cannot overflow. */
#define MAX_VOCAB (1u << 24)

/* Words longer than this are rare enough not to be worth remembering. */
#define MAX_CACHED_WORD 256
#define MAX_CACHED_WORDS (1u << 16)

/* ------------------------------------------------------------------ vocabulary index */

static uint32_t
hash_bytes(const char *s, size_t len)
{
    uint32_t h = 2166136261u;  /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t) s[i];
        h *= 16777619u;
    }
    return h;
}

int32_t
hk_vocab_find(const hk_tokenizer *t, const char *s, size_t len)
{
    uint32_t h = hash_bytes(s, len);

    for (uint32_t i = h & t->index_mask;; i = (i + 1) & t->index_mask) {
        hk_vocab_slot slot = t->index[i];
        if (slot.id < 0)
            return -1;
        if (slot.hash == h && t->tokens[slot.id].len == len &&
            memcmp(hk_token_text(t, slot.id), s, len) == 0)
            return slot.id;
    }
}

/* A text that appears twice keeps its first id, as the merges and the
 * byte tables expect the canonical one. */
static void
build_index(hk_tokenizer *t)
{
    uint32_t slots = 2;
    while (slots < 2 * t->n_vocab)
        slots *= 2;
    t->index = g_new(hk_vocab_slot, slots);
    for (uint32_t i = 0; i < slots; i++)
        t->index[i] = (hk_vocab_slot) { 0, -1 };
    t->index_mask = slots - 1;

    for (uint32_t id = 0; id < t->n_vocab; id++) {
        const hk_token *tok = &t->tokens[id];
        if (tok->len == 0 || hk_vocab_find(t, hk_token_text(t, id), tok->len) >= 0)
            continue;
        uint32_t h = hash_bytes(hk_token_text(t, id), tok->len);
        uint32_t i = h & t->index_mask;
        while (t->index[i].id >= 0)
            i = (i + 1) & t->index_mask;
        t->index[i] = (hk_vocab_slot) { h, (int32_t) id };
    }
}

/* ------------------------------------------------------------------ loading */

/* The element type of an array of one entry per token that the file may
 * leave out: 0 when absent, 1 when present, negative when the key holds
 * something else. */
static int
optional_token_array(const hk_tokenizer *t, const hk_gguf *g, const char *key, hk_gguf_vtype *type,
                     hk_error *err)
{
    uint64_t n;

    if (hk_gguf_find_key(g, key) < 0)
        return 0;
    if (!hk_gguf_get_array(g, key, type, &n))
        return hk_error_set(err, -EINVAL, "%s is not an array", key);
    if (n != t->n_vocab)
        return hk_error_set(err, -EINVAL, "%s has %" G_GUINT64_FORMAT " entries for %u tokens",
                            key, n, t->n_vocab);
    return 1;
}

static int
load_model_kind(hk_tokenizer *t, const hk_gguf *g, hk_error *err)
{
    hk_gguf_str model;

    if (!hk_gguf_get_str(g, KEY_MODEL, &model))
        return hk_error_set(err, -EINVAL, "%s is missing: the file has no tokenizer", KEY_MODEL);
    if (hk_gguf_str_eq(model, "llama"))
        t->model = HK_TOKENIZER_SPM;
    else if (hk_gguf_str_eq(model, "gpt2"))
        t->model = HK_TOKENIZER_BPE;
    else
        return hk_error_set(err, -ENOTSUP, "%s \"%.*s\" is not supported (only \"llama\" and \"gpt2\")",
                            KEY_MODEL, (int) MIN(model.len, 64), model.ptr);

    hk_gguf_str pre;
    t->pre_name = hk_gguf_get_str(g, KEY_PRE, &pre) ? hk_gguf_str_dup(pre) : g_strdup("default");
    return 0;
}

static int
load_token_texts(hk_tokenizer *t, const hk_gguf *g, hk_error *err)
{
    hk_gguf_vtype type;
    uint64_t n;

    if (!hk_gguf_get_array(g, KEY_TOKENS, &type, &n) || type != HK_GGUF_STRING)
        return hk_error_set(err, -EINVAL, "%s is missing or not an array of strings", KEY_TOKENS);
    if (n == 0 || n > MAX_VOCAB)
        return hk_error_set(err, -EINVAL, "%s has %" G_GUINT64_FORMAT " tokens (expected 1 to %u)",
                            KEY_TOKENS, n, MAX_VOCAB);

    t->n_vocab = (uint32_t) n;
    t->tokens = g_new0(hk_token, n);
    GString *text = g_string_new(NULL);
    for (uint32_t i = 0; i < t->n_vocab; i++) {
        hk_gguf_str s;
        if (!hk_gguf_array_str(g, KEY_TOKENS, i, &s) || text->len + s.len > UINT32_MAX) {
            g_string_free(text, TRUE);
            return hk_error_set(err, -EINVAL, "%s[%u] cannot be read", KEY_TOKENS, i);
        }
        t->tokens[i] = (hk_token) { (uint32_t) text->len, (uint32_t) s.len, 0.0f, HK_TOKEN_NORMAL };
        g_string_append_len(text, s.ptr, (gssize) s.len);
    }
    t->text = g_string_free(text, FALSE);
    return 0;
}

static int
load_scores(hk_tokenizer *t, const hk_gguf *g, hk_error *err)
{
    hk_gguf_vtype type;
    uint64_t n;
    int r = optional_token_array(t, g, KEY_SCORES, &type, err);

    if (r <= 0)
        return r;
    if (type != HK_GGUF_FLOAT32 && type != HK_GGUF_INT32)
        return hk_error_set(err, -EINVAL, "%s is an array of %s, not of float32",
                            KEY_SCORES, hk_gguf_vtype_name(type));

    const char *data = hk_gguf_array_data(g, KEY_SCORES, type, &n);
    for (uint32_t i = 0; i < t->n_vocab; i++) {
        if (type == HK_GGUF_FLOAT32) {
            memcpy(&t->tokens[i].score, data + 4 * (size_t) i, 4);
        } else {
            int32_t v;
            memcpy(&v, data + 4 * (size_t) i, 4);
            t->tokens[i].score = (float) v;
        }
    }
    return 0;
}

static int
load_types(hk_tokenizer *t, const hk_gguf *g, hk_error *err)
{
    hk_gguf_vtype type;
    uint64_t n;
    int r = optional_token_array(t, g, KEY_TYPES, &type, err);

    if (r <= 0)
        return r;
    if (type != HK_GGUF_INT32)
        return hk_error_set(err, -EINVAL, "%s is an array of %s, not of int32",
                            KEY_TYPES, hk_gguf_vtype_name(type));

    const char *data = hk_gguf_array_data(g, KEY_TYPES, type, &n);
    for (uint32_t i = 0; i < t->n_vocab; i++)
        memcpy(&t->tokens[i].type, data + 4 * (size_t) i, 4);
    return 0;
}

/* A special token id the file may give; a negative one means "none". */
static int
load_token_id(const hk_tokenizer *t, const hk_gguf *g, const char *key, int32_t *id, hk_error *err)
{
    int32_t v;

    if (hk_gguf_find_key(g, key) < 0)
        return 0;
    if (!hk_gguf_get_i32(g, key, &v) || (v >= 0 && (uint32_t) v >= t->n_vocab))
        return hk_error_set(err, -EINVAL, "%s is not a token id below %u", key, t->n_vocab);
    *id = v < 0 ? -1 : v;
    return 0;
}

static void
add_eog(hk_tokenizer *t, int32_t id)
{
    if (id >= 0 && !hk_tokenizer_is_eog(t, id) && t->n_eog < HK_TOKENIZER_MAX_EOG)
        t->eog[t->n_eog++] = id;
}

static int
load_special_ids(hk_tokenizer *t, const hk_gguf *g, hk_error *err)
{
    /* SentencePiece's fixed layout when the file does not say. */
    bool spm = t->model == HK_TOKENIZER_SPM;
    t->unk = spm ? 0 : -1;
    t->bos = spm && t->n_vocab > 1 ? 1 : -1;
    t->eos = spm && t->n_vocab > 2 ? 2 : -1;
    int32_t eot = -1, eom = -1;

    int r = load_token_id(t, g, "tokenizer.ggml.bos_token_id", &t->bos, err);
    if (r == 0)
        r = load_token_id(t, g, "tokenizer.ggml.eos_token_id", &t->eos, err);
    if (r == 0)
        r = load_token_id(t, g, "tokenizer.ggml.unknown_token_id", &t->unk, err);
    if (r == 0)
        r = load_token_id(t, g, "tokenizer.ggml.eot_token_id", &eot, err);
    if (r == 0)
        r = load_token_id(t, g, "tokenizer.ggml.eom_token_id", &eom, err);
    if (r < 0)
        return r;

    add_eog(t, t->eos);
    add_eog(t, eot);
    add_eog(t, eom);
    /* Chat models end a turn with these even when the file names another
     * EOS (Llama 3's <|eot_id|>, ChatML's <|im_end|>, Phi-3's <|end|>). */
    static const char *const end_of_turn[] = {
        "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
        "<|endoftext|>", "<|end_of_text|>", "<EOT>", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(end_of_turn); i++) {
        int32_t id = hk_vocab_find(t, end_of_turn[i], strlen(end_of_turn[i]));
        if (id < 0)
            continue;
        add_eog(t, id);
        /* Hidden from output and never read from plain text, whatever the
         * file says: a stop token must not leak into a reply. */
        t->tokens[id].type = HK_TOKEN_CONTROL;
    }
    return 0;
}

static int
load_add_bos(hk_tokenizer *t, const hk_gguf *g, hk_error *err)
{
    t->add_bos = t->model == HK_TOKENIZER_SPM || hk_bpe_default_add_bos(t->bpe);
    if (hk_gguf_find_key(g, KEY_ADD_BOS) >= 0 && !hk_gguf_get_bool(g, KEY_ADD_BOS, &t->add_bos))
        return hk_error_set(err, -EINVAL, "%s is not a boolean", KEY_ADD_BOS);
    if (t->add_bos && t->bos < 0)
        return hk_error_set(err, -EINVAL, "%s is true but the model has no BOS token", KEY_ADD_BOS);
    return 0;
}

static bool
is_special_type(int32_t type)
{
    return type == HK_TOKEN_CONTROL || type == HK_TOKEN_UNKNOWN || type == HK_TOKEN_USER_DEFINED;
}

static gint
cmp_longest_first(gconstpointer a, gconstpointer b, gpointer vocab)
{
    const hk_tokenizer *t = vocab;
    int32_t x = *(const int32_t *) a, y = *(const int32_t *) b;
    uint32_t lx = t->tokens[x].len, ly = t->tokens[y].len;
    if (lx != ly)
        return lx > ly ? -1 : 1;
    return x < y ? -1 : x > y;
}

static void
build_specials(hk_tokenizer *t)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(int32_t));
    for (int32_t id = 0; id < (int32_t) t->n_vocab; id++)
        if (is_special_type(t->tokens[id].type) && t->tokens[id].len > 0)
            g_array_append_val(ids, id);
    g_array_sort_with_data(ids, cmp_longest_first, t);
    t->n_specials = ids->len;
    t->specials = (int32_t *) (void *) g_array_free(ids, FALSE);

    /* Bucket by first byte, keeping the longest-first order in each. */
    uint32_t count[256] = { 0 };
    size_t k;
    for (k = 0; k < t->n_specials; k++)
        count[(uint8_t) hk_token_text(t, t->specials[k])[0]]++;
    t->special_first[0] = 0;
    for (int b = 0; b < 256; b++)
        t->special_first[b + 1] = t->special_first[b] + count[b];
    t->special_by_byte = g_new(uint32_t, MAX(t->n_specials, 1));
    uint32_t fill[256];
    memcpy(fill, t->special_first, sizeof fill);
    for (k = 0; k < t->n_specials; k++)
        t->special_by_byte[fill[(uint8_t) hk_token_text(t, t->specials[k])[0]]++] = (uint32_t) k;
}

int
hk_tokenizer_load(const hk_gguf *g, hk_tokenizer **ret, hk_error *err)
{
    hk_tokenizer *t = g_new0(hk_tokenizer, 1);
    int r = load_model_kind(t, g, err);

    if (r == 0)
        r = load_token_texts(t, g, err);
    if (r == 0)
        r = load_scores(t, g, err);
    if (r == 0)
        r = load_types(t, g, err);
    if (r == 0) {
        build_index(t);
        r = load_special_ids(t, g, err);
    }
    if (r == 0)
        r = t->model == HK_TOKENIZER_SPM ? hk_spm_load(t, g, err) : hk_bpe_load(t, g, err);
    if (r == 0)
        r = load_add_bos(t, g, err);
    if (r < 0) {
        hk_tokenizer_free(t);
        return r;
    }
    build_specials(t);
    *ret = t;
    return 0;
}

void
hk_tokenizer_free(hk_tokenizer *t)
{
    if (!t)
        return;
    hk_bpe_free(t->bpe);
    g_free(t->special_by_byte);
    g_free(t->specials);
    g_free(t->index);
    g_free(t->text);
    g_free(t->tokens);
    g_free(t->pre_name);
    g_free(t);
}

const char *
hk_tokenizer_kind(const hk_tokenizer *t)
{
    return t->model == HK_TOKENIZER_SPM ? "llama" : "gpt2";
}

const char *
hk_tokenizer_pre(const hk_tokenizer *t)
{
    return t->pre_name;
}

uint32_t
hk_tokenizer_n_vocab(const hk_tokenizer *t)
{
    return t->n_vocab;
}

int32_t
hk_tokenizer_bos(const hk_tokenizer *t)
{
    return t->bos;
}

int32_t
hk_tokenizer_eos(const hk_tokenizer *t)
{
    return t->eos;
}

bool
hk_tokenizer_wants_bos(const hk_tokenizer *t)
{
    return t->add_bos;
}

bool
hk_tokenizer_is_eog(const hk_tokenizer *t, int32_t id)
{
    for (size_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id)
            return true;
    return false;
}

/* ------------------------------------------------------------------ special tokens in text */

/* A piece of the text to encode: plain text, or one special token. */
typedef struct fragment {
    size_t  start, len;
    int32_t id;  /* -1 for plain text */
} fragment;

typedef struct occurrence {
    size_t   pos;
    uint32_t rank;  /* index into specials: longer tokens first */
} occurrence;

static bool
special_allowed(const hk_tokenizer *t, int32_t id, bool parse_special)
{
    return parse_special || t->tokens[id].type == HK_TOKEN_USER_DEFINED;
}

static GArray *
find_occurrences(const hk_tokenizer *t, const char *text, size_t len, bool parse_special)
{
    GArray *found = g_array_new(FALSE, FALSE, sizeof(occurrence));

    for (size_t pos = 0; pos < len; pos++) {
        uint8_t b = (uint8_t) text[pos];
        for (uint32_t k = t->special_first[b]; k < t->special_first[b + 1]; k++) {
            uint32_t rank = t->special_by_byte[k];
            int32_t id = t->specials[rank];
            uint32_t n = t->tokens[id].len;
            if (n <= len - pos && special_allowed(t, id, parse_special) &&
                memcmp(text + pos, hk_token_text(t, id), n) == 0)
                g_array_append_val(found, ((occurrence) { pos, rank }));
        }
    }
    return found;
}

static int
cmp_by_rank(const void *a, const void *b)
{
    const occurrence *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int
cmp_by_pos(const void *a, const void *b)
{
    const occurrence *x = a, *y = b;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Which occurrences become tokens: longest tokens first, each taking its
 * matches left to right in the text no longer token takes — the order
 * llama.cpp uses, so both cut the same text the same way. */
static void
claim_occurrences(const hk_tokenizer *t, GArray *found, size_t len)
{
    uint8_t *taken = g_malloc0(len);
    size_t kept = 0;

    g_array_sort(found, cmp_by_rank);
    for (size_t i = 0; i < found->len; i++) {
        occurrence o = g_array_index(found, occurrence, i);
        uint32_t n = t->tokens[t->specials[o.rank]].len;
        if (memchr(taken + o.pos, 1, n))
            continue;
        memset(taken + o.pos, 1, n);
        g_array_index(found, occurrence, kept++) = o;
    }
    g_array_set_size(found, kept);
    g_array_sort(found, cmp_by_pos);
    g_free(taken);
}

static GArray *
partition(const hk_tokenizer *t, const char *text, size_t len, bool parse_special)
{
    GArray *frags = g_array_new(FALSE, FALSE, sizeof(fragment));
    GArray *found = find_occurrences(t, text, len, parse_special);
    size_t at = 0;

    if (found->len > 0)
        claim_occurrences(t, found, len);
    for (size_t i = 0; i < found->len; i++) {
        occurrence o = g_array_index(found, occurrence, i);
        int32_t id = t->specials[o.rank];
        if (o.pos > at)
            g_array_append_val(frags, ((fragment) { at, o.pos - at, -1 }));
        g_array_append_val(frags, ((fragment) { o.pos, t->tokens[id].len, id }));
        at = o.pos + t->tokens[id].len;
    }
    if (at < len)
        g_array_append_val(frags, ((fragment) { at, len - at, -1 }));
    g_array_free(found, TRUE);
    return frags;
}

/* ------------------------------------------------------------------ encoding */

void
hk_ids_push(hk_ids *ids, int32_t id)
{
    if (ids->n == ids->cap) {
        ids->cap = MAX(16, 2 * ids->cap);
        ids->v = g_renew(int32_t, ids->v, ids->cap);
    }
    ids->v[ids->n++] = id;
}

/* A word and its ids in one block; the word's bytes follow the ids. */
typedef struct cached_word {
    const char *s;
    size_t      len;
    size_t      n;
    int32_t     ids[];
} cached_word;

static guint
cached_word_hash(gconstpointer p)
{
    const cached_word *w = p;
    return hash_bytes(w->s, w->len);
}

static gboolean
cached_word_equal(gconstpointer a, gconstpointer b)
{
    const cached_word *x = a, *y = b;
    return x->len == y->len && memcmp(x->s, y->s, x->len) == 0;
}

bool
hk_encoder_recall(hk_encoder *e, const char *word, size_t len)
{
    cached_word key = { .s = word, .len = len };
    const cached_word *w = g_hash_table_lookup(e->words, &key);

    if (!w)
        return false;
    for (size_t i = 0; i < w->n; i++)
        hk_ids_push(&e->ids, w->ids[i]);
    return true;
}

void
hk_encoder_remember(hk_encoder *e, const char *word, size_t len, size_t first)
{
    size_t n = e->ids.n - first;

    if (len > MAX_CACHED_WORD || g_hash_table_size(e->words) >= MAX_CACHED_WORDS)
        return;
    cached_word *w = g_malloc(sizeof *w + n * sizeof(int32_t) + len);
    char *bytes = (char *) (w->ids + n);
    if (n > 0)
        memcpy(w->ids, e->ids.v + first, n * sizeof(int32_t));
    memcpy(bytes, word, len);
    w->s = bytes;
    w->len = len;
    w->n = n;
    g_hash_table_add(e->words, w);
}

static void
encoder_init(hk_encoder *e, const hk_tokenizer *t)
{
    *e = (hk_encoder) {
        .t = t,
        .words = g_hash_table_new_full(cached_word_hash, cached_word_equal, g_free, NULL),
        .scratch = g_string_new(NULL),
        .spans = g_array_new(FALSE, FALSE, sizeof(hk_span)),
    };
}

static void
encoder_clear(hk_encoder *e)
{
    g_free(e->ids.v);
    hk_merger_clear(&e->merger);
    g_hash_table_destroy(e->words);
    g_string_free(e->scratch, TRUE);
    g_array_free(e->spans, TRUE);
}

int
hk_tokenizer_encode(const hk_tokenizer *t, const char *text, size_t len,
                    bool add_bos, bool parse_special,
                    int32_t **ret_ids, size_t *ret_n, hk_error *err)
{
    /* The regex engine counts positions in int. */
    if (len > INT_MAX)
        return hk_error_set(err, -E2BIG, "text of %zu bytes is too long to tokenize (at most %d)",
                            len, INT_MAX);
    if (add_bos && t->bos < 0)
        return hk_error_set(err, -EINVAL, "the model has no BOS token to add");

    hk_encoder e;
    encoder_init(&e, t);
    if (add_bos)
        hk_ids_push(&e.ids, t->bos);

    GArray *frags = partition(t, text, len, parse_special);
    bool after_special = true;
    int r = 0;
    for (size_t i = 0; i < frags->len && r == 0; i++) {
        fragment f = g_array_index(frags, fragment, i);
        if (f.id >= 0) {
            hk_ids_push(&e.ids, f.id);
            after_special = true;
        } else if (t->model == HK_TOKENIZER_SPM) {
            hk_spm_encode(&e, text + f.start, f.len, after_special);
            after_special = false;
        } else {
            r = hk_bpe_encode(&e, text + f.start, f.len, err);
        }
    }
    g_array_free(frags, TRUE);

    if (r == 0) {
        *ret_n = e.ids.n;
        *ret_ids = e.ids.v ? e.ids.v : g_new(int32_t, 1);
        e.ids.v = NULL;
    }
    encoder_clear(&e);
    return r;
}

/* ------------------------------------------------------------------ pieces and decoding */

/* "<0x0A>" → 0x0A; -1 when the text is not of that form. */
static int
byte_token_value(const char *s, uint32_t len)
{
    if (len != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>')
        return -1;
    int hi = g_ascii_xdigit_value(s[3]), lo = g_ascii_xdigit_value(s[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

static void
append_piece(const hk_tokenizer *t, int32_t id, bool render_special, GString *out)
{
    const hk_token *tok = &t->tokens[id];
    const char *s = hk_token_text(t, id);
    int byte;

    switch (tok->type) {
    case HK_TOKEN_NORMAL:
        if (t->model == HK_TOKENIZER_SPM)
            hk_spm_append_piece(t, id, out);
        else
            hk_bpe_append_piece(t, id, out);
        break;
    case HK_TOKEN_BYTE:
        byte = byte_token_value(s, tok->len);
        if (byte >= 0)
            g_string_append_c(out, (char) byte);
        else
            g_string_append_len(out, s, tok->len);
        break;
    case HK_TOKEN_USER_DEFINED:
        g_string_append_len(out, s, tok->len);
        break;
    default:  /* control, unknown, unused, and types this code does not know */
        if (render_special)
            g_string_append_len(out, s, tok->len);
        break;
    }
}

int
hk_tokenizer_piece(const hk_tokenizer *t, int32_t id, bool render_special, char *buf, size_t size)
{
    if (id < 0 || (uint32_t) id >= t->n_vocab)
        return -1;

    GString *piece = g_string_new(NULL);
    append_piece(t, id, render_special, piece);
    size_t len = MIN(piece->len, (size_t) INT_MAX);
    if (size > 0) {
        memcpy(buf, piece->str, MIN(len, size));
        if (len < size)
            buf[len] = '\0';
    }
    g_string_free(piece, TRUE);
    return (int) len;
}

struct hk_detokenizer {
    const hk_tokenizer *t;
    bool     render_special;
    bool     strip_space;  /* SPM: the next piece starts with the space the encoder added */
    GString *pending;      /* bytes of a character not finished yet */
    GString *out;          /* what the last call returned */
};

static bool
strips_prefix_space(const hk_tokenizer *t)
{
    return t->model == HK_TOKENIZER_SPM && t->add_space_prefix;
}

static void
detokenizer_init(hk_detokenizer *d, const hk_tokenizer *t, bool render_special)
{
    *d = (hk_detokenizer) {
        .t = t,
        .render_special = render_special,
        .strip_space = strips_prefix_space(t),
        .pending = g_string_new(NULL),
        .out = g_string_new(NULL),
    };
}

static void
detokenizer_clear(hk_detokenizer *d)
{
    g_string_free(d->pending, TRUE);
    g_string_free(d->out, TRUE);
}

hk_detokenizer *
hk_detokenizer_new(const hk_tokenizer *t)
{
    hk_detokenizer *d = g_new(hk_detokenizer, 1);
    detokenizer_init(d, t, false);
    return d;
}

void
hk_detokenizer_free(hk_detokenizer *d)
{
    if (!d)
        return;
    detokenizer_clear(d);
    g_free(d);
}

/* The callers read the text as a C string, which would end at a NUL and
 * lose what follows it in the same piece: a <0x00> token gives no text. */
static void
drop_nul_bytes(GString *s)
{
    size_t kept = 0;

    for (size_t i = 0; i < s->len; i++)
        if (s->str[i] != '\0')
            s->str[kept++] = s->str[i];
    g_string_truncate(s, kept);
}

/* Ids out of range have no text and are skipped. */
const char *
hk_detokenizer_push(hk_detokenizer *d, int32_t id)
{
    const hk_tokenizer *t = d->t;

    g_string_truncate(d->out, 0);
    if (id < 0 || (uint32_t) id >= t->n_vocab)
        return d->out->str;

    size_t before = d->pending->len;
    append_piece(t, id, d->render_special, d->pending);
    /* Undo the encoder's space prefix, at the start and after specials. */
    if (d->strip_space && d->pending->len > before) {
        if (d->pending->str[before] == ' ')
            g_string_erase(d->pending, (gssize) before, 1);
        d->strip_space = false;
    }
    if (is_special_type(t->tokens[id].type))
        d->strip_space = strips_prefix_space(t);

    size_t unfinished = hk_utf8_append_valid(d->out, d->pending->str, d->pending->len, FALSE);
    g_string_erase(d->pending, 0, (gssize) (d->pending->len - unfinished));
    drop_nul_bytes(d->out);
    return d->out->str;
}

const char *
hk_detokenizer_flush(hk_detokenizer *d)
{
    g_string_truncate(d->out, 0);
    hk_utf8_append_valid(d->out, d->pending->str, d->pending->len, TRUE);
    drop_nul_bytes(d->out);
    g_string_truncate(d->pending, 0);
    d->strip_space = strips_prefix_space(d->t);
    return d->out->str;
}

/* The streaming decoder run to the end, so both give the same text. */
char *
hk_tokenizer_decode(const hk_tokenizer *t, const int32_t *ids, size_t n, bool render_special)
{
    hk_detokenizer d;
    GString *text = g_string_new(NULL);

    detokenizer_init(&d, t, render_special);
    for (size_t i = 0; i < n; i++) {
        hk_detokenizer_push(&d, ids[i]);
        g_string_append_len(text, d.out->str, (gssize) d.out->len);
    }
    hk_detokenizer_flush(&d);
    g_string_append_len(text, d.out->str, (gssize) d.out->len);
    detokenizer_clear(&d);
    return g_string_free(text, FALSE);
}
