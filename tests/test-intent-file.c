/* test-intent-file.c — intent model files that are broken or hostile are
 * refused with a message that names the file and the fault; none crashes
 * the loader.  Each case starts from a valid small model description and
 * spoils one thing. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "gguf.h"
#include "hk-check.h"
#include "hk-tmpdir.h"
#include "intent.h"

#define BUCKETS 8
#define DIM     2
#define FILTERS 2
#define LABELS  3
#define POOLED  (3 * FILTERS)

typedef struct spec {
    const char *arch;
    uint32_t    version, buckets, dim, filters;
    uint32_t    widths[3];
    uint64_t    n_widths;
    const char *labels[LABELS + 1];
    uint64_t    n_labels;
    int32_t     replay_labels[2];
    uint64_t    n_replay_labels;
    const char *omit;           /* a key or a tensor left out */
    const char *odd_tensor;     /* a tensor one row longer than it should be */
    const char *f16_tensor;     /* a tensor stored as F16 */
    bool        nan_weight;     /* a NaN in output.bias */
} spec;

static spec
valid_spec(void)
{
    return (spec) {
        .arch = "hearken-intent", .version = 1, .buckets = BUCKETS, .dim = DIM, .filters = FILTERS,
        .widths = { 2, 3, 4 }, .n_widths = 3,
        .labels = { "chat", "time", "weather" }, .n_labels = LABELS,
        .replay_labels = { 0, 2 }, .n_replay_labels = 2,
    };
}

#define KEY(k) "hearken-intent." k

static void
add_tensor(hk_gguf_writer *w, const spec *s, const char *name, uint64_t ne0, uint64_t ne1)
{
    if (s->omit && strcmp(s->omit, name) == 0)
        return;
    if (s->odd_tensor && strcmp(s->odd_tensor, name) == 0)
        ne1++;
    bool f16 = s->f16_tensor && strcmp(s->f16_tensor, name) == 0;
    float *data = g_new0(float, ne0 * ne1);
    for (uint64_t i = 0; i < ne0 * ne1; i++)
        data[i] = 0.01f * (float) i;
    if (s->nan_weight && strcmp(name, "output.bias") == 0)
        data[1] = NAN;
    const uint64_t ne[2] = { ne0, ne1 };
    hk_error err = { 0 };
    ck_assert_int_eq(hk_gguf_writer_add_tensor(w, name, f16 ? HK_TYPE_F16 : HK_TYPE_F32, ne1 > 1 ? 2 : 1,
                                               ne, data, &err), 0);
    g_free(data);
}

static bool
wanted(const spec *s, const char *key)
{
    return !s->omit || strcmp(s->omit, key) != 0;
}

static void
write_spec(const spec *s, const char *path)
{
    hk_gguf_writer *w = hk_gguf_writer_new();
    static const char *const texts[] = { "hello there", "will it rain" };
    if (wanted(s, "general.architecture"))
        hk_gguf_writer_set_str(w, "general.architecture", s->arch);
    if (wanted(s, KEY("feature_version")))
        hk_gguf_writer_set_u32(w, KEY("feature_version"), s->version);
    if (wanted(s, KEY("feature_buckets")))
        hk_gguf_writer_set_u32(w, KEY("feature_buckets"), s->buckets);
    if (wanted(s, KEY("embedding_length")))
        hk_gguf_writer_set_u32(w, KEY("embedding_length"), s->dim);
    if (wanted(s, KEY("conv_widths")))
        hk_gguf_writer_set_array(w, KEY("conv_widths"), HK_GGUF_UINT32, s->widths, s->n_widths);
    if (wanted(s, KEY("conv_filters")))
        hk_gguf_writer_set_u32(w, KEY("conv_filters"), s->filters);
    if (wanted(s, KEY("hash_seed")))
        hk_gguf_writer_set_u64(w, KEY("hash_seed"), 1);
    if (wanted(s, KEY("labels")))
        hk_gguf_writer_set_str_array(w, KEY("labels"), s->labels, s->n_labels);
    if (wanted(s, KEY("replay.texts")))
        hk_gguf_writer_set_str_array(w, KEY("replay.texts"), texts, 2);
    if (wanted(s, KEY("replay.labels")))
        hk_gguf_writer_set_array(w, KEY("replay.labels"), HK_GGUF_INT32, s->replay_labels, s->n_replay_labels);

    add_tensor(w, s, "token_embd.weight", DIM, BUCKETS);
    for (uint32_t width = 2; width <= 4; width++) {
        char name[32];
        snprintf(name, sizeof name, "conv%u.weight", width);
        add_tensor(w, s, name, width * DIM, FILTERS);
        snprintf(name, sizeof name, "conv%u.bias", width);
        add_tensor(w, s, name, FILTERS, 1);
    }
    add_tensor(w, s, "output.weight", POOLED, LABELS);
    add_tensor(w, s, "output.bias", LABELS, 1);

    hk_error err = { 0 };
    ck_assert_msg(hk_gguf_writer_write_file(w, path, &err) == 0, "%s", err.message);
    hk_gguf_writer_free(w);
}

/* ---------------------------------------------------------------- cases */

typedef struct bad_case {
    const char *what;
    const char *message;   /* a part of the error */
    void (*spoil)(spec *s);
} bad_case;

static void spoil_arch(spec *s) { s->arch = "llama"; }
static void spoil_version(spec *s) { s->version = 2; }
static void spoil_buckets(spec *s) { s->buckets = 0; }
static void spoil_dim(spec *s) { s->dim = 5000; }
static void spoil_huge(spec *s) { s->buckets = 1u << 24; s->dim = 1024; }
static void spoil_widths(spec *s) { s->n_widths = 2; }
static void spoil_width_value(spec *s) { s->widths[2] = 5; }
static void omit_seed(spec *s) { s->omit = KEY("hash_seed"); }
static void omit_labels(spec *s) { s->omit = KEY("labels"); }
static void one_label(spec *s) { s->n_labels = 1; }
static void twice(spec *s) { s->labels[2] = "chat"; }
static void empty_label(spec *s) { s->labels[1] = ""; }
static void more_labels(spec *s) { s->labels[3] = "extra"; s->n_labels = 4; }
static void omit_tensor(spec *s) { s->omit = "conv3.weight"; }
static void odd_tensor(spec *s) { s->odd_tensor = "output.weight"; }
static void odd_embedding(spec *s) { s->odd_tensor = "token_embd.weight"; }
static void f16_tensor(spec *s) { s->f16_tensor = "conv2.bias"; }
static void nan_weight(spec *s) { s->nan_weight = true; }
static void replay_label(spec *s) { s->replay_labels[1] = LABELS; }
static void replay_negative(spec *s) { s->replay_labels[0] = -1; }
static void replay_count(spec *s) { s->n_replay_labels = 1; }
static void omit_replay(spec *s) { s->omit = KEY("replay.texts"); }

static const bad_case bad_cases[] = {
    { "another architecture", "not an intent model", spoil_arch },
    { "a newer featurizer", "features of version 2", spoil_version },
    { "no buckets", "feature_buckets is 0", spoil_buckets },
    { "an absurd embedding size", "embedding_length is 5000", spoil_dim },
    { "an embedding too large to allocate", "too large", spoil_huge },
    { "two convolution widths", "conv_widths must be", spoil_widths },
    { "another convolution width", "conv_widths must be", spoil_width_value },
    { "no hash seed", "hash_seed is missing", omit_seed },
    { "no labels", "labels is missing", omit_labels },
    { "one label", "has 1 labels", one_label },
    { "a label twice", "label \"chat\" appears twice", twice },
    { "an empty label", "labels[1] is empty", empty_label },
    { "more labels than outputs", "tensor output.weight is 6 x 3, the hyperparameters say 6 x 4", more_labels },
    { "a missing tensor", "tensor conv3.weight is missing", omit_tensor },
    { "a tensor of the wrong shape", "tensor output.weight is 6 x 4", odd_tensor },
    { "an embedding of the wrong shape", "tensor token_embd.weight is 2 x 9", odd_embedding },
    { "an F16 tensor", "tensor conv2.bias is f16, not F32", f16_tensor },
    { "a NaN weight", "non-finite weight", nan_weight },
    { "a replay label out of range", "replay example 1 has label 3", replay_label },
    { "a negative replay label", "replay example 0 has label -1", replay_negative },
    { "replay labels without texts", "one label per replay text", replay_count },
    { "no replay texts", "replay.texts is missing", omit_replay },
};

static char *dir;

static void
setup(void)
{
    dir = hk_tmpdir_new();
}

static void
teardown(void)
{
    hk_tmpdir_remove(dir);
    g_free(dir);
}

START_TEST(test_valid_file_loads)
{
    spec s = valid_spec();
    char *path = g_build_filename(dir, "valid.gguf", NULL);
    hk_intent_model *m;
    hk_error err = { 0 };
    write_spec(&s, path);
    ck_assert_msg(hk_intent_model_load(path, &m, &err) == 0, "%s", err.message);
    ck_assert_int_eq(hk_intent_model_n_labels(m), LABELS);
    ck_assert_str_eq(hk_intent_model_label(m, 2), "weather");
    ck_assert_uint_eq(hk_intent_model_n_replay(m), 2);
    ck_assert_str_eq(hk_intent_model_replay(m, 1).text, "will it rain");
    float probs[LABELS];
    ck_assert_int_eq(hk_intent_classify(m, "hello", probs, &err), 0);
    hk_intent_model_free(m);
    g_free(path);
}
END_TEST

START_TEST(test_bad_file_is_refused)
{
    const bad_case *c = &bad_cases[_i];
    spec s = valid_spec();
    char *path = g_build_filename(dir, "bad.gguf", NULL);
    hk_intent_model *m = NULL;
    hk_error err = { 0 };
    c->spoil(&s);
    write_spec(&s, path);
    ck_assert_msg(hk_intent_model_load(path, &m, &err) < 0, "%s: loaded", c->what);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err.message, c->message), "%s: '%s' lacks '%s'", c->what, err.message, c->message);
    ck_assert_msg(strncmp(err.message, path, strlen(path)) == 0, "%s: no file name in '%s'", c->what, err.message);
    g_free(path);
}
END_TEST

START_TEST(test_truncated_files_are_refused)
{
    spec s = valid_spec();
    char *path = g_build_filename(dir, "valid.gguf", NULL), *cut = g_build_filename(dir, "cut.gguf", NULL);
    char *data;
    gsize len;
    write_spec(&s, path);
    ck_assert(g_file_get_contents(path, &data, &len, NULL));
    /* the end of the last tensor: the file may go on with padding */
    hk_gguf *g;
    hk_error gerr = { 0 };
    uint64_t end = 0;
    ck_assert_int_eq(hk_gguf_open(path, &g, &gerr), 0);
    for (uint64_t i = 0; i < hk_gguf_n_tensors(g); i++) {
        const hk_gguf_tensor *t = hk_gguf_tensor_at(g, i);
        end = MAX(end, hk_gguf_data_offset(g) + t->offset + t->size);
    }
    hk_gguf_close(g);
    ck_assert_uint_le(end, len);
    for (gsize n = 0; n < end; n += (n + 13 < end ? 13 : 1)) {
        hk_intent_model *m = NULL;
        hk_error err = { 0 };
        ck_assert(g_file_set_contents(cut, data, (gssize) n, NULL));
        ck_assert_msg(hk_intent_model_load(cut, &m, &err) < 0, "%zu of %zu bytes loaded", n, len);
        ck_assert(err.message[0] != '\0');
    }
    hk_error err = { 0 };
    hk_intent_model *m = NULL;
    ck_assert_int_lt(hk_intent_model_load("/nonexistent/intents.gguf", &m, &err), 0);
    ck_assert_msg(strstr(err.message, "/nonexistent/intents.gguf"), "%s", err.message);
    g_free(data);
    g_free(path);
    g_free(cut);
}
END_TEST

static Suite *
file_suite(void)
{
    Suite *s = suite_create("intent-file");
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_valid_file_loads);
    tcase_add_loop_test(tc, test_bad_file_is_refused, 0, G_N_ELEMENTS(bad_cases));
    tcase_add_test(tc, test_truncated_files_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(file_suite)
