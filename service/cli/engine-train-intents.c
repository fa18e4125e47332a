/* engine-train-intents.c — `hearken-engine train-intents --data DIR --out
 * FILE`: train the intent model on DIR/<language>/train.tsv, report its
 * accuracy on each DIR/<language>/test.tsv, save it as GGUF.
 *
 * A dataset line is "label<TAB>text"; blank lines and lines starting with
 * '#' are skipped.  The labels are those of the train files, in
 * alphabetical order; a test label no train file has is an error, as is a
 * split without examples.
 */
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-commands.h"
#include "engine-intent-device.h"
#include "engine-options.h"
#include "intent.h"

typedef struct split {
    char      *path;
    GPtrArray *labels;   /* char *, one per example */
    GPtrArray *texts;    /* char * */
} split;

typedef struct language {
    char *name;          /* the folder's name: "en", "zh_CN" */
    split train, test;
} language;

typedef struct train_options {
    engine_options   common;   /* --backend and the value parsers' messages */
    const char      *data_dir;
    const char      *out_path;
    hk_intent_config config;
} train_options;

enum { OPT_DATA = 256, OPT_OUT, OPT_EPOCHS, OPT_SEED, OPT_BUCKETS, OPT_DIM, OPT_FILTERS, OPT_LR, OPT_DROPOUT, OPT_BATCH };

static void
usage(FILE *out)
{
    fputs("usage: hearken-engine train-intents --data DIR --out FILE [--epochs N] [--seed S]\n"
          "                                     [--backend NAME]\n"
          "\n"
          "Train the intent model on DIR/*/train.tsv (one folder per language,\n"
          "lines \"label<TAB>text\"), print its accuracy on each DIR/*/test.tsv\n"
          "and save it to FILE.\n"
          "\n"
          "  --data DIR      the dataset\n"
          "  --out FILE      the model to write (GGUF)\n"
          "  --epochs N      passes over the training examples (default 20)\n"
          "  --seed S        seed of the initial weights, shuffling and hashing (default 1)\n"
          "  --buckets N     rows of the hashed feature embedding (default 65536)\n"
          "  --dim N         embedding size (default 64)\n"
          "  --filters N     convolution filters per width (default 64)\n"
          "  --lr X          Adam's learning rate (default 0.005)\n"
          "  --dropout X     dropout on the pooled features (default 0.5)\n"
          "  --batch N       examples per step (default 16)\n"
          "  --backend NAME  auto, vulkan or cpu (default: $HEARKEN_BACKEND, else auto;\n"
          "                  auto takes Vulkan only on a real GPU); the same model either way\n", out);
}

/* ---------------------------------------------------------------- reading the dataset */

static void
split_clear(split *s)
{
    g_free(s->path);
    if (s->labels)
        g_ptr_array_unref(s->labels);
    if (s->texts)
        g_ptr_array_unref(s->texts);
}

static void
language_free(gpointer p)
{
    language *l = p;
    g_free(l->name);
    split_clear(&l->train);
    split_clear(&l->test);
    g_free(l);
}

static bool
is_label(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!g_ascii_islower(*s) && !g_ascii_isdigit(*s) && *s != '_')
            return false;
    return true;
}

static bool
parse_line(split *s, char *line, unsigned lineno)
{
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\r')   /* written on Windows */
        line[len - 1] = '\0';
    if (line[0] == '\0' || line[0] == '#')
        return true;
    char *tab = strchr(line, '\t');
    if (!tab) {
        engine_error("train-intents: %s:%u: expected \"label<TAB>text\"", s->path, lineno);
        return false;
    }
    *tab = '\0';
    const char *text = tab + 1;
    if (!is_label(line)) {
        engine_error("train-intents: %s:%u: '%s' is not a label (lowercase letters, digits and _)",
                     s->path, lineno, line);
        return false;
    }
    if (*text == '\0') {
        engine_error("train-intents: %s:%u: the text is empty", s->path, lineno);
        return false;
    }
    g_ptr_array_add(s->labels, g_strdup(line));
    g_ptr_array_add(s->texts, g_strdup(text));
    return true;
}

static bool
read_split(split *s, const char *dir, const char *name)
{
    g_autofree char *contents = NULL;
    g_autoptr(GError) error = NULL;
    gsize len;

    s->path = g_build_filename(dir, name, NULL);
    s->labels = g_ptr_array_new_with_free_func(g_free);
    s->texts = g_ptr_array_new_with_free_func(g_free);
    if (!g_file_get_contents(s->path, &contents, &len, &error)) {
        engine_error("train-intents: %s", error->message);
        return false;
    }
    if (memchr(contents, '\0', len) || !g_utf8_validate(contents, (gssize) len, NULL)) {
        engine_error("train-intents: %s: not UTF-8 text", s->path);
        return false;
    }
    g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);
    for (unsigned i = 0; lines[i]; i++)
        if (!parse_line(s, lines[i], i + 1))
            return false;
    if (s->texts->len == 0) {
        engine_error("train-intents: %s: no examples", s->path);
        return false;
    }
    return true;
}

/* For g_ptr_array_sort, which passes pointers to the elements. */
static int
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* One language per folder of dir, in name order. */
static GPtrArray *
read_dataset(const char *dir)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
    if (!d) {
        engine_error("train-intents: %s", error->message);
        return NULL;
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    for (const char *name; (name = g_dir_read_name(d));) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR))
            g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, compare_strings);

    g_autoptr(GPtrArray) langs = g_ptr_array_new_with_free_func(language_free);
    for (unsigned i = 0; i < names->len; i++) {
        language *l = g_new0(language, 1);
        g_ptr_array_add(langs, l);
        l->name = g_strdup(names->pdata[i]);
        g_autofree char *sub = g_build_filename(dir, l->name, NULL);
        if (!read_split(&l->train, sub, "train.tsv") || !read_split(&l->test, sub, "test.tsv"))
            return NULL;
    }
    if (langs->len == 0) {
        engine_error("train-intents: %s: no language folders (expected DIR/<language>/train.tsv)", dir);
        return NULL;
    }
    return g_steal_pointer(&langs);
}

/* The labels of all train splits, sorted, without repeats. */
static GPtrArray *
collect_labels(GPtrArray *langs)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    GPtrArray *labels = g_ptr_array_new();
    for (unsigned i = 0; i < langs->len; i++) {
        const language *l = langs->pdata[i];
        for (unsigned j = 0; j < l->train.labels->len; j++)
            if (g_hash_table_add(seen, l->train.labels->pdata[j]))
                g_ptr_array_add(labels, l->train.labels->pdata[j]);
    }
    g_ptr_array_sort(labels, compare_strings);
    return labels;
}

/* The examples of a split with label indices; NULL, after saying which
 * line, when a label is not among labels. */
static hk_intent_example *
split_examples(const split *s, GHashTable *index)
{
    hk_intent_example *ex = g_new(hk_intent_example, s->texts->len);
    for (unsigned i = 0; i < s->texts->len; i++) {
        gpointer value;
        if (!g_hash_table_lookup_extended(index, s->labels->pdata[i], NULL, &value)) {
            engine_error("train-intents: %s: label '%s' is in no train.tsv",
                         s->path, (const char *) s->labels->pdata[i]);
            g_free(ex);
            return NULL;
        }
        ex[i] = (hk_intent_example) { s->texts->pdata[i], GPOINTER_TO_INT(value) };
    }
    return ex;
}

/* ---------------------------------------------------------------- training */

static GArray *
all_train_examples(GPtrArray *langs, GHashTable *index)
{
    GArray *all = g_array_new(FALSE, FALSE, sizeof(hk_intent_example));
    for (unsigned i = 0; i < langs->len; i++) {
        const language *l = langs->pdata[i];
        g_autofree hk_intent_example *ex = split_examples(&l->train, index);
        if (!ex) {
            g_array_unref(all);
            return NULL;
        }
        g_array_append_vals(all, ex, l->train.texts->len);
    }
    return all;
}

static int
argmax(const float *p, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (p[i] > p[best])
            best = i;
    return best;
}

static void
report_accuracy(hk_intent_model *m, const char *language, const hk_intent_example *ex, unsigned n)
{
    g_autofree float *probs = g_new(float, hk_intent_model_n_labels(m));
    hk_error err = { 0 };
    unsigned right = 0;
    /* classification fails only when memory runs out: such a text counts as wrong */
    for (unsigned i = 0; i < n; i++)
        if (hk_intent_classify(m, ex[i].text, probs, &err) == 0)
            right += argmax(probs, hk_intent_model_n_labels(m)) == ex[i].label;
    printf("test accuracy %s: %.1f%% (%u/%u)\n", language, 100.0 * right / n, right, n);
}

/* Training on the device, and again on the CPU if the device fails: a
 * lost device costs time, not the model. */
static int
train_on(engine_intent_device *dev, const hk_intent_config *config, GPtrArray *labels,
         GArray *examples, hk_intent_model **ret, hk_error *err)
{
    hk_intent_config c = *config;
    c.device = dev->vk;
    int r = hk_intent_train(&c, (const char *const *) labels->pdata, (int) labels->len,
                            (const hk_intent_example *) examples->data, examples->len, ret, err);
    if (r < 0 && r != -EINVAL && dev->vk) {
        engine_intent_device_leave(dev, err->message);
        c.device = NULL;
        r = hk_intent_train(&c, (const char *const *) labels->pdata, (int) labels->len,
                            (const hk_intent_example *) examples->data, examples->len, ret, err);
    }
    return r;
}

static int
train(const train_options *o)
{
    g_autoptr(GPtrArray) langs = read_dataset(o->data_dir);
    if (!langs)
        return ENGINE_EXIT_ERROR;
    g_autoptr(GPtrArray) labels = collect_labels(langs);
    g_autoptr(GHashTable) index = g_hash_table_new(g_str_hash, g_str_equal);
    for (unsigned i = 0; i < labels->len; i++)
        g_hash_table_insert(index, labels->pdata[i], GINT_TO_POINTER(i));
    g_autoptr(GArray) examples = all_train_examples(langs, index);
    if (!examples)
        return ENGINE_EXIT_ERROR;
    /* every test label checked before minutes of training */
    g_autoptr(GPtrArray) tests = g_ptr_array_new_with_free_func(g_free);
    for (unsigned i = 0; i < langs->len; i++) {
        hk_intent_example *ex = split_examples(&((language *) langs->pdata[i])->test, index);
        if (!ex)
            return ENGINE_EXIT_ERROR;
        g_ptr_array_add(tests, ex);
    }

    engine_intent_device dev;
    if (!engine_intent_device_open(&dev, "train-intents", o->common.backend, "training"))
        return ENGINE_EXIT_USAGE;
    hk_error err = { 0 };
    hk_intent_model *m = NULL;
    double t0 = engine_now();
    int r = train_on(&dev, &o->config, labels, examples, &m, &err);
    engine_intent_device_print(&dev);
    engine_intent_device_close(&dev);
    if (r < 0) {
        engine_error("train-intents: %s", err.message);
        return ENGINE_EXIT_ERROR;
    }
    fprintf(stderr, "trained on %u examples of %u intents in %.1f s\n",
            examples->len, labels->len, engine_now() - t0);

    for (unsigned i = 0; i < langs->len; i++) {
        const language *l = langs->pdata[i];
        report_accuracy(m, l->name, tests->pdata[i], l->test.texts->len);
    }
    r = hk_intent_model_save(m, o->out_path, &err);
    if (r < 0)
        engine_error("train-intents: %s", err.message);
    hk_intent_model_free(m);
    return r < 0 ? ENGINE_EXIT_ERROR : ENGINE_EXIT_OK;
}

/* ---------------------------------------------------------------- options */

static int
parse_options(train_options *o, int argc, char **argv)
{
    static const struct option longs[] = {
        { "data",   required_argument, NULL, OPT_DATA },
        { "out",    required_argument, NULL, OPT_OUT },
        { "epochs", required_argument, NULL, OPT_EPOCHS },
        { "seed",   required_argument, NULL, OPT_SEED },
        { "buckets", required_argument, NULL, OPT_BUCKETS },
        { "dim",    required_argument, NULL, OPT_DIM },
        { "filters", required_argument, NULL, OPT_FILTERS },
        { "lr",     required_argument, NULL, OPT_LR },
        { "dropout", required_argument, NULL, OPT_DROPOUT },
        { "batch",  required_argument, NULL, OPT_BATCH },
        { "backend", required_argument, NULL, ENGINE_OPT_BACKEND },
        { "help",   no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        bool ok = true;
        switch (opt) {
        case 'h':
            usage(stdout);
            exit(ENGINE_EXIT_OK);
        case OPT_DATA:
            o->data_dir = optarg;
            break;
        case OPT_OUT:
            o->out_path = optarg;
            break;
        case OPT_EPOCHS:
            ok = engine_parse_u32(&o->common, "--epochs", optarg, 1, 1000, &o->config.epochs);
            break;
        case OPT_SEED:
            ok = engine_parse_u64(&o->common, "--seed", optarg, &o->config.seed);
            break;
        case OPT_BUCKETS:
            ok = engine_parse_u32(&o->common, "--buckets", optarg, 1, 1u << 24, &o->config.n_buckets);
            break;
        case OPT_DIM:
            ok = engine_parse_u32(&o->common, "--dim", optarg, 1, 1024, &o->config.dim);
            break;
        case OPT_FILTERS:
            ok = engine_parse_u32(&o->common, "--filters", optarg, 1, 4096, &o->config.n_filters);
            break;
        case OPT_LR:
            ok = engine_parse_float(&o->common, "--lr", optarg, 1e-6f, 1.0f, &o->config.learning_rate);
            break;
        case OPT_DROPOUT:
            ok = engine_parse_float(&o->common, "--dropout", optarg, 0.0f, 0.95f, &o->config.dropout);
            break;
        case OPT_BATCH:
            ok = engine_parse_u32(&o->common, "--batch", optarg, 1, 4096, &o->config.batch_size);
            break;
        case ENGINE_OPT_BACKEND:
            ok = engine_options_parse(&o->common, opt, optarg) > 0;
            break;
        default:
            engine_options_unknown(&o->common, argv);
            usage(stderr);
            return ENGINE_EXIT_USAGE;
        }
        if (!ok)
            return ENGINE_EXIT_USAGE;
    }
    if (optind < argc) {
        engine_error("train-intents: unexpected argument '%s'", argv[optind]);
        return ENGINE_EXIT_USAGE;
    }
    if (!o->data_dir || !o->out_path) {
        engine_error("train-intents: both --data DIR and --out FILE are needed");
        usage(stderr);
        return ENGINE_EXIT_USAGE;
    }
    return ENGINE_EXIT_OK;
}

int
engine_train_intents(int argc, char **argv)
{
    train_options o = { .common = { .command = "train-intents" } };
    hk_intent_config_init(&o.config);
    int r = parse_options(&o, argc, argv);
    return r != ENGINE_EXIT_OK ? r : train(&o);
}
