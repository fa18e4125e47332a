/* test-intent.c — the intent model: gradients, training, files, fine-tuning. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "hk-check.h"
#include "hk-intent-data.h"
#include "hk-tmpdir.h"
#include "intent-private.h"

/* ---------------------------------------------------------------- gradient check */

static const char *const grad_labels[] = { "a", "b", "c" };
#define GRAD_TEXT "the quick brown fox 跳过 lazy dogs"
#define GRAD_LABEL 1
#define GRAD_DROPOUT 0.25f
#define GRAD_RNG_SEED 99

static hk_intent_model *
small_random_model(void)
{
    hk_intent_hparams hp = { .n_buckets = 97, .dim = 5, .n_filters = 4, .n_labels = 3, .hash_seed = 7 };
    hk_intent_model *m;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_intent_model_new(&hp, grad_labels, &m, &err), 0);
    hk_rng_state = 3;
    for (size_t i = 0; i < (size_t) hp.n_buckets * hp.dim; i++)
        m->embd[i] = hk_rng_normal();
    for (size_t i = 0; i < hk_intent_dense_size(&hp); i++)
        m->block[i] = 0.5f * hk_rng_normal();
    return m;
}

/* The loss with the same dropout mask every time. */
static double
loss_of(hk_intent_model *m, hk_intent_acts *a)
{
    uint64_t rng = GRAD_RNG_SEED;
    ck_assert_int_eq(hk_intent_forward(m, a, GRAD_TEXT, GRAD_DROPOUT, &rng), 0);
    return -log(a->probs[GRAD_LABEL]);
}

/* Central differences on every parameter of p[0..n) against grad. */
static void
check_group(hk_intent_model *m, hk_intent_acts *a, const char *name, float *p, const float *grad, size_t n)
{
    const float h = 1e-3f;
    double worst = 0.0, norm = 0.0;
    for (size_t i = 0; i < n; i++) {
        float saved = p[i];
        p[i] = saved + h;
        double up = loss_of(m, a);
        p[i] = saved - h;
        double down = loss_of(m, a);
        p[i] = saved;
        double numeric = (up - down) / (2.0 * h);
        worst = fmax(worst, fabs(numeric - grad[i]));
        norm = fmax(norm, fabs(grad[i]));
    }
    ck_assert_msg(norm > 1e-4, "%s: the gradient is zero, so the check proves nothing", name);
    ck_assert_msg(worst <= 2e-3 + 1e-2 * norm, "%s: analytic and numeric gradients differ by %g (max |g| %g)",
                  name, worst, norm);
}

START_TEST(test_gradients_match_central_differences)
{
    hk_intent_model *m = small_random_model();
    hk_intent_hparams *hp = &m->hp;
    hk_intent_acts a;
    hk_intent_row_grads rows;
    float *gblock = calloc(hk_intent_dense_size(hp), sizeof *gblock);
    hk_intent_dense g;
    hk_intent_dense_views(hp, gblock, &g);
    ck_assert_int_eq(hk_intent_acts_init(&a, hp), 0);
    ck_assert_int_eq(hk_intent_row_grads_init(&rows, hp->n_buckets, hp->dim), 0);

    loss_of(m, &a);
    ck_assert_int_eq(hk_intent_backward(m, &a, GRAD_LABEL, 1.0f, &g, &rows), 0);

    char name[32];
    for (int k = 0; k < HK_INTENT_N_WIDTHS; k++) {
        snprintf(name, sizeof name, "conv%u.weight", hk_intent_widths[k]);
        check_group(m, &a, name, m->w.conv_w[k], g.conv_w[k],
                    (size_t) hp->n_filters * hk_intent_widths[k] * hp->dim);
        snprintf(name, sizeof name, "conv%u.bias", hk_intent_widths[k]);
        check_group(m, &a, name, m->w.conv_b[k], g.conv_b[k], hp->n_filters);
    }
    check_group(m, &a, "output.weight", m->w.out_w, g.out_w, (size_t) hp->n_labels * hk_intent_pooled_size(hp));
    check_group(m, &a, "output.bias", m->w.out_b, g.out_b, hp->n_labels);

    /* the embedding: the rows the text touched, and one it did not */
    ck_assert_uint_gt(rows.n_rows, 5);
    float *dense_embd = calloc((size_t) hp->n_buckets * hp->dim, sizeof *dense_embd);
    for (uint32_t r = 0; r < rows.n_rows; r++)
        memcpy(dense_embd + (size_t) rows.rows[r] * hp->dim, rows.grads + (size_t) r * hp->dim,
               hp->dim * sizeof(float));
    check_group(m, &a, "token_embd.weight", m->embd, dense_embd, (size_t) hp->n_buckets * hp->dim);

    free(dense_embd);
    free(gblock);
    hk_intent_row_grads_clear(&rows);
    hk_intent_acts_clear(&a);
    hk_intent_model_free(m);
}
END_TEST

/* ---------------------------------------------------------------- training */

typedef struct trained {
    hk_intent_data  data;
    GPtrArray      *train_texts, *test_texts;
    GArray         *train, *test;   /* hk_intent_example */
    hk_intent_model *m;
} trained;

static void
train_small(trained *t, uint64_t seed)
{
    hk_intent_config c;
    hk_error err = { 0 };
    hk_intent_data_init(&t->data, seed);
    t->train = hk_intent_data_examples(&t->data, 40, &t->train_texts);
    t->test = hk_intent_data_examples(&t->data, 15, &t->test_texts);
    hk_intent_data_config(&c);
    int r = hk_intent_train(&c, hk_intent_data_labels, HK_INTENT_DATA_LABELS,
                            (hk_intent_example *) t->train->data, t->train->len, &t->m, &err);
    ck_assert_msg(r == 0, "%s", err.message);
}

static void
trained_clear(trained *t)
{
    hk_intent_model_free(t->m);
    g_array_unref(t->train);
    g_array_unref(t->test);
    g_ptr_array_unref(t->train_texts);
    g_ptr_array_unref(t->test_texts);
    hk_intent_data_clear(&t->data);
}

START_TEST(test_training_reaches_high_accuracy)
{
    trained t;
    train_small(&t, 11);
    double acc = hk_intent_data_accuracy(t.m, (hk_intent_example *) t.test->data, t.test->len);
    ck_assert_msg(acc >= 0.95, "held-out accuracy %.3f", acc);
    ck_assert_int_eq(hk_intent_model_n_labels(t.m), HK_INTENT_DATA_LABELS);
    ck_assert_str_eq(hk_intent_model_label(t.m, 4), "open_app");
    ck_assert_int_eq(hk_intent_model_label_index(t.m, "weather"), 7);
    ck_assert_int_eq(hk_intent_model_label_index(t.m, "nope"), -1);
    ck_assert_ptr_null(hk_intent_model_label(t.m, HK_INTENT_DATA_LABELS));
    ck_assert_ptr_null(hk_intent_model_label(t.m, -1));

    /* the training examples are kept for replay */
    ck_assert_uint_eq(hk_intent_model_n_replay(t.m), t.train->len);
    hk_intent_example e = hk_intent_model_replay(t.m, 5);
    ck_assert_str_eq(e.text, g_array_index(t.train, hk_intent_example, 5).text);
    ck_assert_int_eq(e.label, g_array_index(t.train, hk_intent_example, 5).label);
    trained_clear(&t);
}
END_TEST

START_TEST(test_training_is_deterministic)
{
    trained a, b;
    train_small(&a, 5);
    train_small(&b, 5);
    ck_assert_mem_eq(a.m->block, b.m->block, hk_intent_dense_size(&a.m->hp) * sizeof(float));
    ck_assert_int_eq(memcmp(a.m->embd, b.m->embd, (size_t) a.m->hp.n_buckets * a.m->hp.dim * sizeof(float)), 0);
    trained_clear(&a);
    trained_clear(&b);
}
END_TEST

START_TEST(test_bad_training_input_is_refused)
{
    hk_intent_config c;
    hk_error err = { 0 };
    hk_intent_model *m = NULL;
    hk_intent_example ex[2] = { { "hello", 0 }, { "bye", 2 } };
    hk_intent_data_config(&c);

    ck_assert_int_eq(hk_intent_train(&c, hk_intent_data_labels, 2, ex, 2, &m, &err), -EINVAL);
    ck_assert_msg(strstr(err.message, "example 1 has label 2"), "%s", err.message);
    ck_assert_int_eq(hk_intent_train(&c, hk_intent_data_labels, 1, ex, 1, &m, &err), -EINVAL);
    ck_assert_msg(strstr(err.message, "at least 2 labels"), "%s", err.message);
    ck_assert_int_eq(hk_intent_train(&c, hk_intent_data_labels, 3, ex, 0, &m, &err), -EINVAL);
    ck_assert_msg(strstr(err.message, "no training examples"), "%s", err.message);
    c.dropout = 1.0f;
    ck_assert_int_eq(hk_intent_train(&c, hk_intent_data_labels, 3, ex, 2, &m, &err), -EINVAL);
    ck_assert_ptr_null(m);
}
END_TEST

/* ---------------------------------------------------------------- files */

START_TEST(test_save_load_round_trip)
{
    trained t;
    train_small(&t, 21);
    char *dir = hk_tmpdir_new();
    char *path = g_build_filename(dir, "intents.gguf", NULL);
    hk_error err = { 0 };
    ck_assert_msg(hk_intent_model_save(t.m, path, &err) == 0, "%s", err.message);
    /* a second save replaces the first */
    ck_assert_msg(hk_intent_model_save(t.m, path, &err) == 0, "%s", err.message);

    hk_intent_model *loaded;
    ck_assert_msg(hk_intent_model_load(path, &loaded, &err) == 0, "%s", err.message);
    float p1[HK_INTENT_DATA_LABELS], p2[HK_INTENT_DATA_LABELS];
    for (guint i = 0; i < t.test->len; i += 7) {
        const char *text = g_array_index(t.test, hk_intent_example, i).text;
        ck_assert_int_eq(hk_intent_classify(t.m, text, p1, &err), 0);
        ck_assert_int_eq(hk_intent_classify(loaded, text, p2, &err), 0);
        ck_assert_mem_eq(p1, p2, sizeof p1);
    }
    for (int i = 0; i < HK_INTENT_DATA_LABELS; i++)
        ck_assert_str_eq(hk_intent_model_label(loaded, i), hk_intent_data_labels[i]);
    ck_assert_uint_eq(hk_intent_model_n_replay(loaded), t.train->len);
    ck_assert_str_eq(hk_intent_model_replay(loaded, 100).text, hk_intent_model_replay(t.m, 100).text);
    ck_assert_int_eq(hk_intent_model_replay(loaded, 100).label, hk_intent_model_replay(t.m, 100).label);

    /* nothing is left beside the file */
    GDir *d = g_dir_open(dir, 0, NULL);
    ck_assert_str_eq(g_dir_read_name(d), "intents.gguf");
    ck_assert_ptr_null(g_dir_read_name(d));
    g_dir_close(d);

    /* a save into a missing folder fails and says where */
    char *bad = g_build_filename(dir, "missing", "intents.gguf", NULL);
    ck_assert_int_lt(hk_intent_model_save(t.m, bad, &err), 0);
    ck_assert_msg(strstr(err.message, bad), "%s", err.message);

    g_free(bad);
    hk_intent_model_free(loaded);
    hk_tmpdir_remove(dir);
    g_free(path);
    g_free(dir);
    trained_clear(&t);
}
END_TEST

/* ---------------------------------------------------------------- classification */

START_TEST(test_classify_gives_a_distribution_for_any_text)
{
    trained t;
    train_small(&t, 31);
    static const char *const texts[] = {
        "", "   ", "!!!", "\xff\xfe\x80 broken \xc3", "a", "😀😀", "x y z w v u t s r q p o n m l k j i h g f e d c b a "
        "x y z w v u t s r q p o n m l k j i h g f e d c b a x y z w v u t s r q p o n m l k j i h g f e d c b a "
        "x y z w v u t s r q p o n m l k j i h g f e d c b a x y z w v u t s r q p o n m l k j i h g f e d c b a "
        "x y z w v u t s r q p o n m l k j i h g f e d c b a",
    };
    float probs[HK_INTENT_DATA_LABELS];
    hk_error err = { 0 };
    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
        ck_assert_int_eq(hk_intent_classify(t.m, texts[i], probs, &err), 0);
        double sum = 0;
        for (int j = 0; j < HK_INTENT_DATA_LABELS; j++) {
            ck_assert(isfinite(probs[j]) && probs[j] >= 0);
            sum += probs[j];
        }
        ck_assert_double_eq_tol(sum, 1.0, 1e-4);
    }
    ck_assert_int_eq(hk_intent_classify(t.m, NULL, probs, &err), -EINVAL);
    trained_clear(&t);
}
END_TEST

/* ---------------------------------------------------------------- fine-tuning */

static int
predict(hk_intent_model *m, const char *text)
{
    float probs[HK_INTENT_DATA_LABELS];
    hk_error err = { 0 };
    ck_assert_int_eq(hk_intent_classify(m, text, probs, &err), 0);
    int best = 0;
    for (int j = 1; j < HK_INTENT_DATA_LABELS; j++)
        if (probs[j] > probs[best])
            best = j;
    return best;
}

START_TEST(test_three_corrections_teach_a_phrasing)
{
    trained t;
    train_small(&t, 41);
    const hk_intent_example *test = (hk_intent_example *) t.test->data;
    double before = hk_intent_data_accuracy(t.m, test, t.test->len);

    /* a phrasing in words the model never saw: whatever it predicts is a
     * guess, and the person says it means the next label */
    const char *phrase = "zibble frobnicate the wug";
    int guess = predict(t.m, phrase), meant = (guess + 1) % HK_INTENT_DATA_LABELS;
    hk_intent_example fix = { phrase, meant };
    hk_error err = { 0 };
    for (int i = 0; i < 3; i++)
        ck_assert_msg(hk_intent_finetune(t.m, &fix, 1, HK_INTENT_FINETUNE_STEPS, (uint64_t) i, &err) == 0,
                      "%s", err.message);
    ck_assert_int_eq(predict(t.m, phrase), meant);

    double after = hk_intent_data_accuracy(t.m, test, t.test->len);
    ck_assert_msg(after >= before - 0.01, "held-out accuracy fell from %.3f to %.3f", before, after);

    hk_intent_example wrong = { phrase, HK_INTENT_DATA_LABELS };
    ck_assert_int_eq(hk_intent_finetune(t.m, &wrong, 1, 5, 0, &err), -EINVAL);
    ck_assert_int_eq(hk_intent_finetune(t.m, &fix, 0, 5, 0, &err), -EINVAL);
    ck_assert_int_eq(hk_intent_finetune(t.m, &fix, 1, 0, 0, &err), -EINVAL);
    trained_clear(&t);
}
END_TEST

static Suite *
intent_suite(void)
{
    Suite *s = suite_create("intent");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, test_gradients_match_central_differences);
    tcase_add_test(tc, test_training_reaches_high_accuracy);
    tcase_add_test(tc, test_training_is_deterministic);
    tcase_add_test(tc, test_bad_training_input_is_refused);
    tcase_add_test(tc, test_save_load_round_trip);
    tcase_add_test(tc, test_classify_gives_a_distribution_for_any_text);
    tcase_add_test(tc, test_three_corrections_teach_a_phrasing);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(intent_suite)
