/* The sampler's choices and the stop strings over streamed text. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hk-check.h"
#include "sampler.h"

#define QWEN_VOCAB 151936

/* Every filter off, only temperature. */
static hk_sampler_params
plain_params(float temperature, uint64_t seed)
{
    hk_sampler_params p;
    hk_sampler_params_init(&p);
    p.temperature = temperature;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = seed;
    return p;
}

/* Reproducible logits: uniform in [lo, hi). */
static float *
random_logits(size_t n, guint32 seed, double lo, double hi)
{
    GRand *rand = g_rand_new_with_seed(seed);
    float *logits = malloc(n * sizeof *logits);
    for (size_t i = 0; i < n; i++)
        logits[i] = (float) g_rand_double_range(rand, lo, hi);
    g_rand_free(rand);
    return logits;
}

/* Logits whose softmax is probs. */
static void
logits_of(const double *probs, float *logits, size_t n)
{
    for (size_t i = 0; i < n; i++)
        logits[i] = (float) log(probs[i]);
}

/* How often each token comes out of `draws` samples. */
static void
count_draws(hk_sampler *s, const float *logits, size_t n_vocab, int draws, int *counts)
{
    memset(counts, 0, n_vocab * sizeof *counts);
    for (int i = 0; i < draws; i++) {
        int32_t id = hk_sampler_sample(s, logits);
        ck_assert_int_ge(id, 0);
        ck_assert_int_lt(id, (int32_t) n_vocab);
        counts[id]++;
    }
}

static int
compare_logits_desc(const void *a, const void *b, void *logits)
{
    float x = ((const float *) logits)[*(const int32_t *) a];
    float y = ((const float *) logits)[*(const int32_t *) b];
    return (x < y) - (x > y);
}

/* Token ids from the most to the least likely, by a full sort. */
static int32_t *
ranked_ids(const float *logits, size_t n)
{
    int32_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = (int32_t) i;
    g_qsort_with_data(ids, (gint) n, sizeof *ids, compare_logits_desc, (void *) logits);
    return ids;
}

/* ------------------------------------------------------------------ greedy */

START_TEST(test_greedy_picks_argmax)
{
    float *logits = random_logits(1000, 1, -5.0, 5.0);
    logits[637] = 9.0f;
    hk_sampler_params p = plain_params(0.0f, 7);
    hk_sampler *s = hk_sampler_new(&p, 1000);

    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(hk_sampler_sample(s, logits), 637);

    /* A tie goes to the lowest id. */
    logits[12] = 9.0f;
    logits[900] = 9.0f;
    ck_assert_int_eq(hk_sampler_sample(s, logits), 12);

    hk_sampler_free(s);
    free(logits);
}
END_TEST

START_TEST(test_top_k_one_is_greedy)
{
    hk_sampler_params greedy_p = plain_params(0.0f, 0);
    hk_sampler_params top1_p = plain_params(1.5f, 3);
    top1_p.top_k = 1;
    hk_sampler *greedy = hk_sampler_new(&greedy_p, 5000);
    hk_sampler *top1 = hk_sampler_new(&top1_p, 5000);

    for (guint32 seed = 0; seed < 50; seed++) {
        float *logits = random_logits(5000, seed, -2.0, 2.0);
        ck_assert_int_eq(hk_sampler_sample(top1, logits), hk_sampler_sample(greedy, logits));
        free(logits);
    }
    hk_sampler_free(greedy);
    hk_sampler_free(top1);
}
END_TEST

/* ------------------------------------------------------------------- seeds */

static void
draw_sequence(hk_sampler *s, const float *logits, int32_t *out, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = hk_sampler_sample(s, logits);
}

START_TEST(test_seed_reproducible)
{
    enum { N = 500 };
    float *logits = random_logits(5000, 2, 0.0, 1.0);
    hk_sampler_params p;
    hk_sampler_params_init(&p);
    p.top_k = 0;    /* leave many tokens in play */
    p.top_p = 1.0f;
    p.seed = 42;
    hk_sampler *a = hk_sampler_new(&p, 5000), *b = hk_sampler_new(&p, 5000);
    p.seed = 43;
    hk_sampler *c = hk_sampler_new(&p, 5000);
    int32_t sa[N], sb[N], sc[N], again[N];

    draw_sequence(a, logits, sa, N);
    draw_sequence(b, logits, sb, N);
    draw_sequence(c, logits, sc, N);
    ck_assert_mem_eq(sa, sb, sizeof sa);
    ck_assert(memcmp(sa, sc, sizeof sa) != 0);

    /* reset goes back to the start of the seed's sequence. */
    hk_sampler_reset(a);
    draw_sequence(a, logits, again, N);
    ck_assert_mem_eq(sa, again, sizeof sa);

    hk_sampler_free(a);
    hk_sampler_free(b);
    hk_sampler_free(c);
    free(logits);
}
END_TEST

/* ------------------------------------------------------------- temperature */

/* 200k draws against softmax(logits / T).  With 7 degrees of freedom the
 * chi-square exceeds 24.32 with probability 0.001 when the distribution is
 * right; the seed is fixed, so the outcome is too. */
static void
assert_follows_softmax(float temperature)
{
    enum { V = 8, DRAWS = 200000 };
    const float logits[V] = { 1.0f, 2.0f, 0.5f, -1.0f, 3.0f, 0.0f, 1.5f, -0.5f };
    hk_sampler_params p = plain_params(temperature, 2024);
    hk_sampler *s = hk_sampler_new(&p, V);
    int counts[V];
    double weight[V], total = 0.0, chi2 = 0.0;

    count_draws(s, logits, V, DRAWS, counts);
    for (int i = 0; i < V; i++) {
        weight[i] = exp(logits[i] / temperature);
        total += weight[i];
    }
    for (int i = 0; i < V; i++) {
        double expected = DRAWS * weight[i] / total;
        chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
    }
    ck_assert_msg(chi2 < 24.32, "T=%g: chi-square %.2f", temperature, chi2);
    hk_sampler_free(s);
}

START_TEST(test_temperature_follows_softmax)
{
    assert_follows_softmax(0.7f);
    assert_follows_softmax(1.0f);
    assert_follows_softmax(1.6f);
}
END_TEST

/* ------------------------------------------------------------------ filters */

START_TEST(test_top_p_keeps_nucleus)
{
    const double probs[4] = { 0.5, 0.3, 0.15, 0.05 };
    float logits[4];
    int counts[4];
    logits_of(probs, logits, 4);

    /* 0.5 < 0.7 <= 0.5 + 0.3: the nucleus is the first two. */
    hk_sampler_params p = plain_params(1.0f, 5);
    p.top_p = 0.7f;
    hk_sampler *s = hk_sampler_new(&p, 4);
    count_draws(s, logits, 4, 20000, counts);
    ck_assert_int_eq(counts[2] + counts[3], 0);
    /* Renormalised inside the nucleus: 0.5 / 0.8. */
    ck_assert_double_eq_tol(counts[0] / 20000.0, 0.625, 0.02);
    hk_sampler_free(s);

    p.top_p = 0.85f;
    s = hk_sampler_new(&p, 4);
    count_draws(s, logits, 4, 20000, counts);
    ck_assert_int_eq(counts[3], 0);
    ck_assert_int_gt(counts[2], 0);
    hk_sampler_free(s);
}
END_TEST

/* The nucleus over a whole vocabulary, where the sampler selects instead
 * of sorting, against a full sort.  The token just past the nucleus is
 * let through too: summed in another order, the mass can reach top_p one
 * token later. */
START_TEST(test_top_p_large_vocabulary)
{
    float *logits = random_logits(QWEN_VOCAB, 3, -8.0, 8.0);
    int32_t *ranked = ranked_ids(logits, QWEN_VOCAB);
    size_t *rank = malloc(QWEN_VOCAB * sizeof *rank);
    double max = logits[ranked[0]], total = 0.0, sum = 0.0;

    for (size_t i = 0; i < QWEN_VOCAB; i++) {
        total += exp(logits[i] - max);
        rank[ranked[i]] = i;
    }
    size_t nucleus = 0;
    while (sum < 0.5 * total)
        sum += exp(logits[ranked[nucleus++]] - max);
    ck_assert_int_gt(nucleus, 1000);

    hk_sampler_params p = plain_params(1.0f, 11);
    p.top_p = 0.5f;
    hk_sampler *s = hk_sampler_new(&p, QWEN_VOCAB);
    size_t deepest = 0;
    for (int i = 0; i < 100; i++) {
        int32_t id = hk_sampler_sample(s, logits);
        ck_assert_msg(rank[id] <= nucleus, "token of rank %zu outside a nucleus of %zu",
                      rank[id], nucleus);
        deepest = MAX(deepest, rank[id]);
    }
    /* Draws come from all over the nucleus, not only its head. */
    ck_assert_int_gt(deepest, nucleus / 2);

    hk_sampler_free(s);
    free(rank);
    free(ranked);
    free(logits);
}
END_TEST

START_TEST(test_top_k_large_vocabulary)
{
    float *logits = random_logits(QWEN_VOCAB, 4, -3.0, 3.0);
    int32_t *ranked = ranked_ids(logits, QWEN_VOCAB);
    bool *in_top = calloc(QWEN_VOCAB, sizeof *in_top);
    for (int i = 0; i < 40; i++)
        in_top[ranked[i]] = true;

    hk_sampler_params p = plain_params(1.0f, 12);
    p.top_k = 40;
    hk_sampler *s = hk_sampler_new(&p, QWEN_VOCAB);
    GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (int i = 0; i < 300; i++) {
        int32_t id = hk_sampler_sample(s, logits);
        ck_assert_msg(in_top[id], "token %d outside the top 40", id);
        g_hash_table_add(seen, GINT_TO_POINTER(id));
    }
    ck_assert_int_gt(g_hash_table_size(seen), 10);

    g_hash_table_unref(seen);
    hk_sampler_free(s);
    free(in_top);
    free(ranked);
    free(logits);
}
END_TEST

START_TEST(test_min_p_excludes_unlikely)
{
    const double probs[4] = { 0.5, 0.3, 0.15, 0.05 };
    float logits[4];
    int counts[4];
    logits_of(probs, logits, 4);

    /* The floor is 0.2 * 0.5 = 0.1: 0.15 stays, 0.05 goes. */
    hk_sampler_params p = plain_params(1.0f, 6);
    p.min_p = 0.2f;
    hk_sampler *s = hk_sampler_new(&p, 4);
    count_draws(s, logits, 4, 20000, counts);
    ck_assert_int_eq(counts[3], 0);
    ck_assert_int_gt(counts[2], 0);
    hk_sampler_free(s);
}
END_TEST

/* ---------------------------------------------------------------- penalties */

START_TEST(test_repeat_penalty_changes_argmax)
{
    const float positive[4] = { 2.0f, 1.9f, 0.5f, -3.0f };
    const float negative[4] = { -1.0f, -1.05f, -2.0f, -3.0f };
    hk_sampler_params p = plain_params(0.0f, 0);
    p.repeat_penalty = 1.1f;
    p.repeat_last_n = 2;
    hk_sampler *s = hk_sampler_new(&p, 4);

    ck_assert_int_eq(hk_sampler_sample(s, positive), 0);
    hk_sampler_accept(s, 0);
    ck_assert_int_eq(hk_sampler_sample(s, positive), 1);    /* 2.0 / 1.1 < 1.9 */
    ck_assert_int_eq(hk_sampler_sample(s, negative), 1);    /* -1.0 * 1.1 < -1.05 */

    /* Two more tokens push 0 out of a window of two. */
    hk_sampler_accept(s, 2);
    hk_sampler_accept(s, 3);
    ck_assert_int_eq(hk_sampler_sample(s, positive), 0);

    /* reset forgets the tokens. */
    hk_sampler_accept(s, 0);
    hk_sampler_reset(s);
    ck_assert_int_eq(hk_sampler_sample(s, positive), 0);
    hk_sampler_free(s);

    /* A penalty of 1 changes nothing. */
    p.repeat_penalty = 1.0f;
    s = hk_sampler_new(&p, 4);
    hk_sampler_accept(s, 0);
    ck_assert_int_eq(hk_sampler_sample(s, positive), 0);
    hk_sampler_free(s);
}
END_TEST

START_TEST(test_frequency_and_presence_penalties)
{
    const float logits[3] = { 2.0f, 1.5f, 0.0f };
    hk_sampler_params p = plain_params(0.0f, 0);
    p.frequency_penalty = 0.3f;
    hk_sampler *s = hk_sampler_new(&p, 3);

    hk_sampler_accept(s, 0);
    ck_assert_int_eq(hk_sampler_sample(s, logits), 0);    /* 2.0 - 0.3 > 1.5 */
    hk_sampler_accept(s, 0);
    ck_assert_int_eq(hk_sampler_sample(s, logits), 1);    /* 2.0 - 0.6 < 1.5 */
    hk_sampler_free(s);

    /* Presence is the same for one occurrence as for three. */
    const float close[3] = { 1.3f, 1.6f, 0.0f };
    p.frequency_penalty = 0.0f;
    p.presence_penalty = 0.4f;
    s = hk_sampler_new(&p, 3);
    hk_sampler_accept(s, 1);
    hk_sampler_accept(s, 1);
    hk_sampler_accept(s, 1);
    ck_assert_int_eq(hk_sampler_sample(s, close), 0);      /* 1.6 - 0.4 < 1.3 */
    hk_sampler_accept(s, 0);
    ck_assert_int_eq(hk_sampler_sample(s, close), 1);      /* 1.2 > 1.3 - 0.4 */
    hk_sampler_free(s);
}
END_TEST

/* ------------------------------------------------------------- bad inputs */

START_TEST(test_hostile_logits)
{
    hk_sampler_params p;
    hk_sampler_params_init(&p);
    p.repeat_penalty = 1.3f;
    hk_sampler *s = hk_sampler_new(&p, 4);
    hk_sampler_accept(s, -5);          /* ids out of range are ignored */
    hk_sampler_accept(s, 1000);
    hk_sampler_accept(s, 3);

    const float all_nan[4] = { NAN, NAN, NAN, NAN };
    ck_assert_int_eq(hk_sampler_sample(s, all_nan), 0);
    const float all_minus_inf[4] = { -INFINITY, -INFINITY, -INFINITY, -INFINITY };
    ck_assert_int_eq(hk_sampler_sample(s, all_minus_inf), 0);
    const float one_inf[4] = { 1.0f, NAN, INFINITY, -INFINITY };
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(hk_sampler_sample(s, one_inf), 2);
    hk_sampler_free(s);

    ck_assert_ptr_null(hk_sampler_new(&p, 0));
    hk_sampler_free(NULL);
    /* No parameters: the defaults. */
    s = hk_sampler_new(NULL, 4);
    ck_assert_int_eq(hk_sampler_sample(s, (const float[]) { 0.0f, 30.0f, 0.0f, 0.0f }), 1);
    hk_sampler_free(s);
}
END_TEST

/* ------------------------------------------------------------ stop strings */

/* Feeds the pieces; returns everything shown and whether it stopped. */
static char *
feed_all(hk_stop_matcher *m, const char *const *pieces, size_t n, bool *ret_stopped)
{
    GString *shown = g_string_new(NULL);
    bool stopped = false;
    for (size_t i = 0; i < n; i++) {
        const char *emit = NULL;
        stopped = hk_stop_matcher_feed(m, pieces[i], &emit);
        g_string_append(shown, emit);
    }
    *ret_stopped = stopped;
    return g_string_free(shown, FALSE);
}

START_TEST(test_stop_split_across_pieces)
{
    const char *stops[] = { "</answer>" };
    hk_stop_matcher *m = hk_stop_matcher_new(stops, 1);
    const char *emit;

    ck_assert(!hk_stop_matcher_feed(m, "Paris is the capital <", &emit));
    ck_assert_str_eq(emit, "Paris is the capital ");
    ck_assert(!hk_stop_matcher_feed(m, "/ans", &emit));
    ck_assert_str_eq(emit, "");
    ck_assert(hk_stop_matcher_feed(m, "wer> and more", &emit));
    ck_assert_str_eq(emit, "");
    /* Once stopped, nothing more comes through. */
    ck_assert(hk_stop_matcher_feed(m, "later", &emit));
    ck_assert_str_eq(emit, "");
    ck_assert_str_eq(hk_stop_matcher_flush(m), "");
    hk_stop_matcher_free(m);
}
END_TEST

START_TEST(test_partial_match_released)
{
    const char *stops[] = { "\nUser:" };
    hk_stop_matcher *m = hk_stop_matcher_new(stops, 1);
    const char *emit;

    ck_assert(!hk_stop_matcher_feed(m, "Sure.\nUs", &emit));
    ck_assert_str_eq(emit, "Sure.");
    ck_assert(!hk_stop_matcher_feed(m, "e", &emit));
    ck_assert_str_eq(emit, "");
    ck_assert(!hk_stop_matcher_feed(m, "d it.", &emit));
    ck_assert_str_eq(emit, "\nUsed it.");
    hk_stop_matcher_free(m);
}
END_TEST

START_TEST(test_stop_at_start)
{
    const char *stops[] = { "<|im_end|>" };
    hk_stop_matcher *m = hk_stop_matcher_new(stops, 1);
    const char *pieces[] = { "<|im", "_end|>", "ignored" };
    bool stopped;
    char *shown = feed_all(m, pieces, 3, &stopped);

    ck_assert(stopped);
    ck_assert_str_eq(shown, "");
    g_free(shown);
    hk_stop_matcher_free(m);
}
END_TEST

START_TEST(test_multiple_stops)
{
    const char *stops[] = { "###", "\n\n", "" };   /* the empty one is ignored */
    const char *pieces[] = { "one\n", "\ntwo" };
    bool stopped;

    hk_stop_matcher *m = hk_stop_matcher_new(stops, 3);
    char *shown = feed_all(m, pieces, 2, &stopped);
    ck_assert(stopped);
    ck_assert_str_eq(shown, "one");
    g_free(shown);
    hk_stop_matcher_free(m);

    /* Two in one piece: the earlier one cuts. */
    m = hk_stop_matcher_new(stops, 3);
    const char *both[] = { "a\n\nb###c" };
    shown = feed_all(m, both, 1, &stopped);
    ck_assert(stopped);
    ck_assert_str_eq(shown, "a");
    g_free(shown);
    hk_stop_matcher_free(m);

    /* A shorter stop inside the held beginning of a longer one. */
    const char *nested[] = { "<end>", "d>" };
    const char *tail[] = { "x<en", "d>" };
    m = hk_stop_matcher_new(nested, 2);
    shown = feed_all(m, tail, 2, &stopped);
    ck_assert(stopped);
    ck_assert_str_eq(shown, "x");
    g_free(shown);
    hk_stop_matcher_free(m);
}
END_TEST

START_TEST(test_flush_releases_held_text)
{
    const char *stops[] = { "<|eot_id|>" };
    hk_stop_matcher *m = hk_stop_matcher_new(stops, 1);
    const char *emit;

    ck_assert(!hk_stop_matcher_feed(m, "The end <|eot", &emit));
    ck_assert_str_eq(emit, "The end ");
    ck_assert_str_eq(hk_stop_matcher_flush(m), "<|eot");
    ck_assert_str_eq(hk_stop_matcher_flush(m), "");
    hk_stop_matcher_free(m);
}
END_TEST

START_TEST(test_stop_whole_characters)
{
    const char *stops[] = { "→END" };
    hk_stop_matcher *m = hk_stop_matcher_new(stops, 1);
    const char *emit;

    ck_assert(!hk_stop_matcher_feed(m, "naïve →", &emit));
    ck_assert_str_eq(emit, "naïve ");
    ck_assert(!hk_stop_matcher_feed(m, "x", &emit));
    ck_assert_str_eq(emit, "→x");
    ck_assert(g_utf8_validate(emit, -1, NULL));
    hk_stop_matcher_free(m);
}
END_TEST

START_TEST(test_no_stops_pass_through)
{
    hk_stop_matcher *m = hk_stop_matcher_new(NULL, 0);
    const char *emit;

    ck_assert(!hk_stop_matcher_feed(m, "anything <|im_end|>", &emit));
    ck_assert_str_eq(emit, "anything <|im_end|>");
    ck_assert(!hk_stop_matcher_feed(m, NULL, NULL));
    ck_assert_str_eq(hk_stop_matcher_flush(m), "");
    hk_stop_matcher_free(m);
    hk_stop_matcher_free(NULL);
}
END_TEST

static Suite *
sampler_suite(void)
{
    Suite *s = suite_create("sampler");

    TCase *tc = tcase_create("sampling");
    tcase_add_test(tc, test_greedy_picks_argmax);
    tcase_add_test(tc, test_top_k_one_is_greedy);
    tcase_add_test(tc, test_seed_reproducible);
    tcase_add_test(tc, test_temperature_follows_softmax);
    tcase_add_test(tc, test_top_p_keeps_nucleus);
    tcase_add_test(tc, test_top_p_large_vocabulary);
    tcase_add_test(tc, test_top_k_large_vocabulary);
    tcase_add_test(tc, test_min_p_excludes_unlikely);
    tcase_add_test(tc, test_repeat_penalty_changes_argmax);
    tcase_add_test(tc, test_frequency_and_presence_penalties);
    tcase_add_test(tc, test_hostile_logits);
    suite_add_tcase(s, tc);

    tc = tcase_create("stop strings");
    tcase_add_test(tc, test_stop_split_across_pieces);
    tcase_add_test(tc, test_partial_match_released);
    tcase_add_test(tc, test_stop_at_start);
    tcase_add_test(tc, test_multiple_stops);
    tcase_add_test(tc, test_flush_releases_held_text);
    tcase_add_test(tc, test_stop_whole_characters);
    tcase_add_test(tc, test_no_stops_pass_through);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(sampler_suite)
