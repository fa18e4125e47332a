/* hk-intent-data.h — a small generated intent dataset for the intent
 * model's tests: each label owns a few made-up English words and a few
 * Chinese words, hidden among filler words shared by all labels, with
 * typos now and then, in English (spaced) and Chinese (unspaced)
 * sentences.  Deterministic: a seed gives the same sentences everywhere. */
#pragma once

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "hk-check.h"

#include "hk-rng.h"
#include "intent.h"

#define HK_INTENT_DATA_LABELS 8
#define HK_INTENT_DATA_KEYWORDS 4

static const char *const hk_intent_data_labels[HK_INTENT_DATA_LABELS] = {
    "battery", "cancel", "chat", "greeting", "open_app", "set_timer", "volume_up", "weather",
};

static const char *const hk_intent_data_fillers_en[] = {
    "please", "the", "a", "now", "could", "you", "my", "for", "me", "hey", "just", "some", "it", "that",
};
static const char *const hk_intent_data_fillers_zh[] = {
    "请", "帮", "我", "一下", "吧", "现在", "那个", "把", "的", "啊",
};
/* Chinese keywords: two characters per label and keyword, from this list. */
static const char hk_intent_data_han[] =
    "电池量取消聊天问候打开应用计时器声音大天气晴雨风雪光明暗高低快慢新旧山水火土金木";

static inline char *
hk_intent_data_word(void)
{
    static const char *const syllables[] = { "ka", "lo", "mi", "zu", "tre", "po", "vin", "sa",
                                             "qu", "del", "ro", "ni", "bax", "fo", "gy", "te" };
    GString *w = g_string_new(NULL);
    int n = 2 + (int) (hk_rng_uniform() * 2);
    for (int i = 0; i < n; i++)
        g_string_append(w, syllables[(int) (hk_rng_uniform() * G_N_ELEMENTS(syllables))]);
    return g_string_free(w, FALSE);
}

static inline char *
hk_intent_data_han_word(void)
{
    glong n = g_utf8_strlen(hk_intent_data_han, -1);
    GString *w = g_string_new(NULL);
    for (int i = 0; i < 2; i++) {
        const char *c = g_utf8_offset_to_pointer(hk_intent_data_han, (glong) (hk_rng_uniform() * n));
        g_string_append_len(w, c, g_utf8_next_char(c) - c);
    }
    return g_string_free(w, FALSE);
}

typedef struct hk_intent_data {
    char *keywords_en[HK_INTENT_DATA_LABELS][HK_INTENT_DATA_KEYWORDS];
    char *keywords_zh[HK_INTENT_DATA_LABELS][HK_INTENT_DATA_KEYWORDS];
} hk_intent_data;

static inline void
hk_intent_data_init(hk_intent_data *d, uint64_t seed)
{
    hk_rng_state = seed;
    for (int l = 0; l < HK_INTENT_DATA_LABELS; l++)
        for (int k = 0; k < HK_INTENT_DATA_KEYWORDS; k++) {
            d->keywords_en[l][k] = hk_intent_data_word();
            d->keywords_zh[l][k] = hk_intent_data_han_word();
        }
}

static inline void
hk_intent_data_clear(hk_intent_data *d)
{
    for (int l = 0; l < HK_INTENT_DATA_LABELS; l++)
        for (int k = 0; k < HK_INTENT_DATA_KEYWORDS; k++) {
            g_free(d->keywords_en[l][k]);
            g_free(d->keywords_zh[l][k]);
        }
}

#define HK_PICK(array) ((array)[(int) (hk_rng_uniform() * G_N_ELEMENTS(array))])

/* A sentence of label l: one or two of its keywords among one to four
 * fillers; English keywords get a swapped letter one time in five. */
static inline char *
hk_intent_data_sentence(const hk_intent_data *d, int l, bool chinese)
{
    GPtrArray *words = g_ptr_array_new_with_free_func(g_free);
    int n_fill = 1 + (int) (hk_rng_uniform() * 4), n_key = 1 + (int) (hk_rng_uniform() * 2);
    for (int i = 0; i < n_fill; i++)
        g_ptr_array_add(words, g_strdup(chinese ? HK_PICK(hk_intent_data_fillers_zh)
                                                : HK_PICK(hk_intent_data_fillers_en)));
    for (int i = 0; i < n_key; i++) {
        int k = (int) (hk_rng_uniform() * HK_INTENT_DATA_KEYWORDS);
        char *w = g_strdup(chinese ? d->keywords_zh[l][k] : d->keywords_en[l][k]);
        if (!chinese && hk_rng_uniform() < 0.2) {
            size_t at = (size_t) (hk_rng_uniform() * (strlen(w) - 1));
            char c = w[at];
            w[at] = w[at + 1];
            w[at + 1] = c;
        }
        g_ptr_array_insert(words, (gint) (hk_rng_uniform() * (words->len + 1)), w);
    }
    g_ptr_array_add(words, NULL);
    char *s = g_strjoinv(chinese ? "" : " ", (char **) words->pdata);
    g_ptr_array_unref(words);
    return s;
}

/* per_label sentences of each label in each language, as examples whose
 * texts *ret_texts owns (g_ptr_array_unref frees them). */
static inline GArray *
hk_intent_data_examples(const hk_intent_data *d, int per_label, GPtrArray **ret_texts)
{
    GArray *ex = g_array_new(FALSE, FALSE, sizeof(hk_intent_example));
    GPtrArray *texts = g_ptr_array_new_with_free_func(g_free);
    for (int chinese = 0; chinese < 2; chinese++)
        for (int l = 0; l < HK_INTENT_DATA_LABELS; l++)
            for (int i = 0; i < per_label; i++) {
                char *s = hk_intent_data_sentence(d, l, chinese);
                g_ptr_array_add(texts, s);
                hk_intent_example e = { s, l };
                g_array_append_val(ex, e);
            }
    *ret_texts = texts;
    return ex;
}

/* A small, fast model for the tests. */
static inline void
hk_intent_data_config(hk_intent_config *c)
{
    hk_intent_config_init(c);
    c->n_buckets = 1u << 12;
    c->dim = 16;
    c->n_filters = 16;
    c->epochs = 10;
}

/* Fraction of examples the model gets right. */
static inline double
hk_intent_data_accuracy(hk_intent_model *m, const hk_intent_example *ex, size_t n)
{
    float probs[64];
    size_t right = 0;
    hk_error err = { 0 };
    ck_assert_int_le(hk_intent_model_n_labels(m), 64);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(hk_intent_classify(m, ex[i].text, probs, &err), 0);
        int best = 0;
        for (int j = 1; j < hk_intent_model_n_labels(m); j++)
            if (probs[j] > probs[best])
                best = j;
        right += best == ex[i].label;
    }
    return (double) right / (double) n;
}
