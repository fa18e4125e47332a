/* intent-features.h — text to the hashed features the intent model embeds.
 *
 * A text becomes a sequence of positions.  A Latin (or any non-CJK) word
 * is one position whose features are the lowercased word and its character
 * 3-grams with boundary marks ("<ti", "tim", "ime", "me>"), so typos and
 * inflections share most features; an all-digit word adds a shared number
 * feature, so "5 minutes" and "15 minutes" look alike.  A CJK character is
 * one position whose features are the character, its bigrams with either
 * neighbour and the trigram around it, so Chinese needs no segmenter.
 * Apostrophes vanish ("what's" = "whats"); other punctuation, symbols,
 * spaces and invalid UTF-8 bytes separate words.  Fullwidth ASCII is folded
 * to ASCII.  Each feature is hashed (FNV-1a with the model's seed) into
 * n_buckets rows of the embedding.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct hk_intent_features {
    uint32_t  n_positions;
    uint32_t *start;      /* (n_positions + 1): features of position p are ids[start[p] .. start[p+1]) */
    uint32_t *ids;        /* bucket ids */
    size_t    cap_positions, cap_ids;   /* allocated, reused from text to text */
} hk_intent_features;

/* The longest word that gets character 3-grams (longer: the word alone),
 * and the most positions kept from a text (the rest is cut off). */
#define HK_INTENT_MAX_WORD_CHARS 24
#define HK_INTENT_MAX_POSITIONS  128

/* Fill f (zeroed or reused) from text; 0, or -ENOMEM. */
int  hk_intent_featurize(const char *text, uint64_t seed, uint32_t n_buckets, hk_intent_features *f);
void hk_intent_features_clear(hk_intent_features *f);
