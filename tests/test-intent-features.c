/* test-intent-features.c — what the intent model sees of a text. */
#include <glib.h>
#include <string.h>

#include "hk-check.h"
#include "intent-features.h"

#define BUCKETS 100003
#define SEED 1


static hk_intent_features
featurize(const char *text)
{
    hk_intent_features f = { 0 };
    ck_assert_int_eq(hk_intent_featurize(text, SEED, BUCKETS, &f), 0);
    for (uint32_t i = 0; i < f.start[f.n_positions]; i++)
        ck_assert_uint_lt(f.ids[i], BUCKETS);
    return f;
}

static uint32_t
n_features(const hk_intent_features *f, uint32_t p)
{
    return f->start[p + 1] - f->start[p];
}

static bool
same_position(const hk_intent_features *a, uint32_t pa, const hk_intent_features *b, uint32_t pb)
{
    return n_features(a, pa) == n_features(b, pb) &&
           memcmp(a->ids + a->start[pa], b->ids + b->start[pb], n_features(a, pa) * sizeof(uint32_t)) == 0;
}

static bool
same_text(const char *x, const char *y)
{
    hk_intent_features a = featurize(x), b = featurize(y);
    bool same = a.n_positions == b.n_positions;
    for (uint32_t p = 0; same && p < a.n_positions; p++)
        same = same_position(&a, p, &b, p);
    hk_intent_features_clear(&a);
    hk_intent_features_clear(&b);
    return same;
}

static uint32_t
n_positions(const char *text)
{
    hk_intent_features f = featurize(text);
    uint32_t n = f.n_positions;
    hk_intent_features_clear(&f);
    return n;
}

/* Features two positions share. */
static uint32_t
shared(const hk_intent_features *a, uint32_t pa, const hk_intent_features *b, uint32_t pb)
{
    uint32_t n = 0;
    for (uint32_t i = a->start[pa]; i < a->start[pa + 1]; i++)
        for (uint32_t j = b->start[pb]; j < b->start[pb + 1]; j++)
            if (a->ids[i] == b->ids[j]) {
                n++;
                break;
            }
    return n;
}

START_TEST(test_words_are_positions_with_their_trigrams)
{
    hk_intent_features f = featurize("turn it up");
    ck_assert_uint_eq(f.n_positions, 3);
    /* the word and one 3-gram per letter: "<tu" "tur" "urn" "rn>" */
    ck_assert_uint_eq(n_features(&f, 0), 1 + 4);
    ck_assert_uint_eq(n_features(&f, 1), 1 + 2);
    hk_intent_features_clear(&f);
}
END_TEST

START_TEST(test_case_punctuation_and_apostrophes_do_not_matter)
{
    ck_assert(same_text("Hello, World!", "hello world"));
    ck_assert(same_text("  what's   the time?? ", "whats the time"));
    ck_assert(same_text("What’s up", "whats up"));
    ck_assert(same_text("ＨＥＬＬＯ　ｗｏｒｌｄ", "hello world"));   /* fullwidth, as Chinese keyboards type */
    ck_assert(same_text("ÉCRAN", "écran"));
    ck_assert(!same_text("lock screen", "screen lock"));
}
END_TEST

START_TEST(test_chinese_characters_are_positions)
{
    hk_intent_features f = featurize("打开设置。");
    ck_assert_uint_eq(f.n_positions, 4);
    for (uint32_t p = 0; p < 4; p++)
        ck_assert_uint_eq(n_features(&f, p), 4);   /* character, two bigrams, trigram */
    /* the bigram 打开 is the right neighbour of 打 and the left one of 开 */
    ck_assert_uint_ge(shared(&f, 0, &f, 1), 1);
    hk_intent_features_clear(&f);

    /* the same character in another context shares the character feature only */
    hk_intent_features a = featurize("打开"), b = featurize("开始");
    ck_assert_uint_eq(shared(&a, 1, &b, 0), 1);
    hk_intent_features_clear(&a);
    hk_intent_features_clear(&b);
}
END_TEST

START_TEST(test_mixed_scripts_split_at_the_boundary)
{
    hk_intent_features mixed = featurize("打开firefox吧"), word = featurize("firefox");
    ck_assert_uint_eq(mixed.n_positions, 2 + 1 + 1);
    ck_assert(same_position(&mixed, 2, &word, 0));
    hk_intent_features_clear(&mixed);
    hk_intent_features_clear(&word);
}
END_TEST

START_TEST(test_texts_without_words_have_no_positions)
{
    ck_assert_uint_eq(n_positions(""), 0);
    ck_assert_uint_eq(n_positions("   \t\n"), 0);
    ck_assert_uint_eq(n_positions("?!… — 😀"), 0);
}
END_TEST

START_TEST(test_invalid_utf8_separates_words)
{
    ck_assert_uint_eq(n_positions("ab\xff" "cd"), 2);
    ck_assert(same_text("ab\xff" "cd", "ab cd"));
    ck_assert(same_text("abc\xe4\xbd", "abc"));          /* a character cut off at the end */
    ck_assert(same_text("\xc0\xaf" "x", "x"));           /* an overlong '/' */
    ck_assert_uint_eq(n_positions("\xed\xa0\x80\xed\xb0\x80"), 0);   /* encoded surrogates */
}
END_TEST

START_TEST(test_numbers_share_a_feature)
{
    hk_intent_features a = featurize("5"), b = featurize("15"), c = featurize("minutes");
    ck_assert_uint_ge(shared(&a, 0, &b, 0), 1);
    ck_assert_uint_eq(shared(&a, 0, &c, 0), 0);
    hk_intent_features_clear(&a);
    hk_intent_features_clear(&b);
    hk_intent_features_clear(&c);
}
END_TEST

START_TEST(test_typos_keep_most_trigrams)
{
    hk_intent_features a = featurize("volume"), b = featurize("volmue");
    ck_assert_uint_ge(shared(&a, 0, &b, 0), 2);   /* "<vo" "vol" */
    hk_intent_features_clear(&a);
    hk_intent_features_clear(&b);
}
END_TEST

START_TEST(test_long_inputs_are_bounded)
{
    GString *s = g_string_new(NULL);
    for (int i = 0; i < 1000; i++)
        g_string_append(s, "word ");
    g_string_append(s, "supercalifragilisticexpialidocious");
    ck_assert_uint_eq(n_positions(s->str), HK_INTENT_MAX_POSITIONS);
    hk_intent_features f = featurize("supercalifragilisticexpialidocious");
    ck_assert_uint_eq(n_features(&f, 0), 1);   /* longer than HK_INTENT_MAX_WORD_CHARS: the word alone */
    hk_intent_features_clear(&f);
    g_string_free(s, TRUE);
}
END_TEST

START_TEST(test_the_seed_changes_the_buckets)
{
    hk_intent_features a = { 0 }, b = { 0 };
    ck_assert_int_eq(hk_intent_featurize("hello", 1, BUCKETS, &a), 0);
    ck_assert_int_eq(hk_intent_featurize("hello", 2, BUCKETS, &b), 0);
    ck_assert_uint_eq(shared(&a, 0, &b, 0), 0);
    /* reusing a features struct gives the same answer as a fresh one */
    ck_assert_int_eq(hk_intent_featurize("some much longer text than hello", 1, BUCKETS, &b), 0);
    ck_assert_int_eq(hk_intent_featurize("hello", 1, BUCKETS, &b), 0);
    ck_assert(same_position(&a, 0, &b, 0));
    ck_assert_uint_eq(b.n_positions, 1);
    hk_intent_features_clear(&a);
    hk_intent_features_clear(&b);
}
END_TEST

static Suite *
features_suite(void)
{
    Suite *s = suite_create("intent-features");
    TCase *tc = tcase_create("featurize");
    tcase_add_test(tc, test_words_are_positions_with_their_trigrams);
    tcase_add_test(tc, test_case_punctuation_and_apostrophes_do_not_matter);
    tcase_add_test(tc, test_chinese_characters_are_positions);
    tcase_add_test(tc, test_mixed_scripts_split_at_the_boundary);
    tcase_add_test(tc, test_texts_without_words_have_no_positions);
    tcase_add_test(tc, test_invalid_utf8_separates_words);
    tcase_add_test(tc, test_numbers_share_a_feature);
    tcase_add_test(tc, test_typos_keep_most_trigrams);
    tcase_add_test(tc, test_long_inputs_are_bounded);
    tcase_add_test(tc, test_the_seed_changes_the_buckets);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(features_suite)
