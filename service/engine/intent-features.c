/* intent-features.c — text to hashed features (see intent-features.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "intent-features.h"
#include "unicode.h"

/* Feature kinds, hashed in front of the characters so that the word "ab"
 * and the bigram "ab" fall in different buckets. */
enum {
    KIND_WORD    = 'W',
    KIND_NUMBER  = 'N',
    KIND_GRAM    = 'G',
    KIND_CHAR    = 'C',
    KIND_BIGRAM  = 'B',
    KIND_TRIGRAM = 'T',
};

/* Word boundaries inside n-grams; neither can be part of a word. */
#define MARK_START '<'
#define MARK_END   '>'

typedef enum { CP_SEPARATOR, CP_WORD, CP_CJK } cp_class;

/* ---------------------------------------------------------------- hashing */

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

static uint64_t
fnv_bytes(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * FNV_PRIME;
    return h;
}

static uint32_t
hash_feature(uint64_t seed, char kind, const uint32_t *cps, size_t n, uint32_t n_buckets)
{
    uint8_t seed_bytes[8];
    for (int i = 0; i < 8; i++)
        seed_bytes[i] = (uint8_t) (seed >> (8 * i));
    uint64_t h = fnv_bytes(FNV_OFFSET, seed_bytes, sizeof seed_bytes);
    h = fnv_bytes(h, &kind, 1);
    for (size_t i = 0; i < n; i++) {
        char utf8[4];
        h = fnv_bytes(h, utf8, hk_utf8_encode(cps[i], utf8));
    }
    /* FNV's low bits mix worst: fold the high half in */
    return (uint32_t) ((h ^ (h >> 32)) % n_buckets);
}

/* ---------------------------------------------------------------- characters */

static uint32_t
normalize(uint32_t cp)
{
    /* fullwidth ASCII, as Chinese input methods type it */
    if (cp >= 0xFF01 && cp <= 0xFF5E)
        cp -= 0xFEE0;
    return g_unichar_tolower(cp);
}

static bool
is_apostrophe(uint32_t cp)
{
    return cp == '\'' || cp == 0x2019 || cp == 0x02BC;
}

static cp_class
classify(uint32_t cp)
{
    switch (g_unichar_get_script(cp)) {
    case G_UNICODE_SCRIPT_HAN:
    case G_UNICODE_SCRIPT_HIRAGANA:
    case G_UNICODE_SCRIPT_KATAKANA:
        return CP_CJK;
    default:
        break;
    }
    return g_unichar_isalnum(cp) || g_unichar_ismark(cp) ? CP_WORD : CP_SEPARATOR;
}

/* ---------------------------------------------------------------- positions */

typedef struct builder {
    hk_intent_features *f;
    uint64_t            seed;
    uint32_t            n_buckets;
    size_t              n_ids;
} builder;

static int
grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static int
add(builder *b, char kind, const uint32_t *cps, size_t n)
{
    hk_intent_features *f = b->f;
    int r = grow((void **) &f->ids, &f->cap_ids, b->n_ids + 1, sizeof *f->ids);
    if (r < 0)
        return r;
    f->ids[b->n_ids++] = hash_feature(b->seed, kind, cps, n, b->n_buckets);
    return 0;
}

static int
close_position(builder *b)
{
    hk_intent_features *f = b->f;
    int r = grow((void **) &f->start, &f->cap_positions, f->n_positions + 2, sizeof *f->start);
    if (r < 0)
        return r;
    f->n_positions++;
    f->start[f->n_positions] = (uint32_t) b->n_ids;
    return 0;
}

static bool
all_digits(const uint32_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!g_unichar_isdigit(w[i]))
            return false;
    return true;
}

static int
add_word(builder *b, const uint32_t *w, size_t n)
{
    int r = add(b, KIND_WORD, w, n);
    if (r == 0 && all_digits(w, n))
        r = add(b, KIND_NUMBER, NULL, 0);
    if (r == 0 && n <= HK_INTENT_MAX_WORD_CHARS) {
        uint32_t marked[HK_INTENT_MAX_WORD_CHARS + 2];
        marked[0] = MARK_START;
        memcpy(marked + 1, w, n * sizeof *w);
        marked[n + 1] = MARK_END;
        for (size_t i = 0; r == 0 && i < n; i++)
            r = add(b, KIND_GRAM, marked + i, 3);
    }
    return r < 0 ? r : close_position(b);
}

/* Character i of a run of n CJK characters c[], with its neighbours (or
 * boundary marks) for the bigrams and the trigram. */
static int
add_cjk_char(builder *b, const uint32_t *c, size_t n, size_t i)
{
    uint32_t tri[3] = { i > 0 ? c[i - 1] : MARK_START, c[i], i + 1 < n ? c[i + 1] : MARK_END };
    int r = add(b, KIND_CHAR, tri + 1, 1);
    if (r == 0)
        r = add(b, KIND_BIGRAM, tri, 2);
    if (r == 0)
        r = add(b, KIND_BIGRAM, tri + 1, 2);
    if (r == 0)
        r = add(b, KIND_TRIGRAM, tri, 3);
    return r < 0 ? r : close_position(b);
}

static int
add_run(builder *b, cp_class cls, const uint32_t *cps, size_t n)
{
    int r = 0;
    if (cls == CP_WORD && b->f->n_positions < HK_INTENT_MAX_POSITIONS)
        r = add_word(b, cps, n);
    for (size_t i = 0; cls == CP_CJK && r == 0 && i < n && b->f->n_positions < HK_INTENT_MAX_POSITIONS; i++)
        r = add_cjk_char(b, cps, n, i);
    return r;
}

/* The text's characters, normalized, each with its class; apostrophes
 * dropped, invalid bytes turned into separators. */
static int
decode(const char *text, uint32_t **ret_cps, cp_class **ret_cls, size_t *ret_n)
{
    size_t len = strlen(text), n = 0;
    uint32_t *cps = malloc((len + 1) * sizeof *cps);
    cp_class *cls = malloc((len + 1) * sizeof *cls);
    if (!cps || !cls) {
        free(cps);
        free(cls);
        return -ENOMEM;
    }
    for (size_t off = 0, step; off < len; off += step) {
        if (hk_utf8_scan(text + off, len - off, &step) != HK_UTF8_VALID) {
            cls[n++] = CP_SEPARATOR;
            continue;
        }
        uint32_t cp = normalize(g_utf8_get_char(text + off));
        if (is_apostrophe(cp))
            continue;
        cps[n] = cp;
        cls[n++] = classify(cp);
    }
    *ret_cps = cps;
    *ret_cls = cls;
    *ret_n = n;
    return 0;
}

int
hk_intent_featurize(const char *text, uint64_t seed, uint32_t n_buckets, hk_intent_features *f)
{
    uint32_t *cps;
    cp_class *cls;
    size_t n;
    builder b = { .f = f, .seed = seed, .n_buckets = n_buckets };

    f->n_positions = 0;
    int r = grow((void **) &f->start, &f->cap_positions, 1, sizeof *f->start);
    if (r < 0 || (r = decode(text, &cps, &cls, &n)) < 0)
        return r;
    f->start[0] = 0;

    for (size_t i = 0, j; r == 0 && i < n; i = j) {
        for (j = i + 1; j < n && cls[j] == cls[i]; j++)
            ;
        if (cls[i] != CP_SEPARATOR)
            r = add_run(&b, cls[i], cps + i, j - i);
    }
    free(cps);
    free(cls);
    return r;
}

void
hk_intent_features_clear(hk_intent_features *f)
{
    free(f->start);
    free(f->ids);
    memset(f, 0, sizeof *f);
}
