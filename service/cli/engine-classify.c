/* engine-classify.c — `hearken-engine classify --model FILE TEXT…`: the
 * intents the model sees in a text, most probable first; with --bench, the
 * median time of classifying a 20-word input in English and in Chinese
 * (on the CPU, and beside it on Vulkan when that is the backend), and of a
 * fine-tune on one correction. */
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
#include "vulkan/vk-config.h"
#if HK_HAVE_VULKAN
#include "vulkan/vk-intent.h"
#endif

#define DEFAULT_TOP 5
#define BENCH_RUNS  501
#define FINETUNE_RUNS 21

enum { OPT_BENCH = 256, OPT_TOP };

typedef struct classify_options {
    engine_options common;   /* model path, --backend and the value parsers' messages */
    uint32_t       top;
    bool           bench;
} classify_options;

/* Twenty words each: the input size the latency target is given for. */
static const struct {
    const char *language, *text;
} bench_inputs[] = {
    { "en", "could you set a timer for twenty five minutes so I remember to take "
            "the bread out of the oven" },
    { "zh_CN", "请帮我设置一个二十五分钟的计时器，这样我就能记得把面包从烤箱里拿出来" },
};

static void
usage(FILE *out)
{
    fputs("usage: hearken-engine classify -m MODEL [-n 5] [--backend NAME] TEXT…\n"
          "       hearken-engine classify -m MODEL [--backend NAME] --bench\n"
          "\n"
          "Print the intents an intent model (from train-intents) sees in TEXT,\n"
          "most probable first, with their probabilities.\n"
          "\n"
          "  -m, --model FILE   the intent model (GGUF)\n"
          "  -n, --top N        how many intents to print (default 5)\n"
          "      --backend NAME auto, vulkan or cpu (default: $HEARKEN_BACKEND, else auto;\n"
          "                     auto takes Vulkan only on a real GPU)\n"
          "      --bench        print the median time of classifying a 20-word input, and of\n"
          "                     fine-tuning on one correction, instead\n", out);
}

typedef struct ranked {
    int   label;
    float prob;
} ranked;

static int
by_probability(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return (x->prob < y->prob) - (x->prob > y->prob);
}

/* Where texts are classified: the CPU, or a Vulkan device that holds a
 * copy of the weights (vm not NULL). */
typedef struct classifier {
    hk_intent_model     *m;
    engine_intent_device dev;
#if HK_HAVE_VULKAN
    hk_vk_intent_model  *vm;
#endif
} classifier;

static bool
on_vulkan(const classifier *c)
{
    return c->dev.vk != NULL;
}

/* The weights onto the device engine-intent-device.c chose; the CPU when
 * they do not go.  False after printing that the backend is no name. */
static bool
classifier_open(classifier *c, hk_intent_model *m, const char *backend)
{
    *c = (classifier) { .m = m };
    if (!engine_intent_device_open(&c->dev, "classify", backend, "classifying"))
        return false;
#if HK_HAVE_VULKAN
    hk_error err = { 0 };
    if (c->dev.vk && hk_vk_intent_model_new(c->dev.vk, m, &c->vm, &err) < 0)
        engine_intent_device_leave(&c->dev, err.message);
#endif
    engine_intent_device_print(&c->dev);
    return true;
}

static void
classifier_close(classifier *c)
{
#if HK_HAVE_VULKAN
    hk_vk_intent_model_free(c->vm);
#endif
    engine_intent_device_close(&c->dev);
}

/* on_device: on the Vulkan device (when the classifier has one). */
static int
classify_on(classifier *c, bool on_device, const char *text, float *probs, hk_error *err)
{
#if HK_HAVE_VULKAN
    if (on_device && c->vm)
        return hk_vk_intent_classify(c->vm, text, probs, err);
#endif
    return hk_intent_classify(c->m, text, probs, err);
}

static int
print_top(classifier *c, const char *text, uint32_t top)
{
    int n = hk_intent_model_n_labels(c->m);
    g_autofree float *probs = g_new(float, n);
    g_autofree ranked *order = g_new(ranked, n);
    hk_error err = { 0 };
    if (classify_on(c, true, text, probs, &err) < 0) {
        engine_error("classify: %s", err.message);
        return ENGINE_EXIT_ERROR;
    }
    for (int i = 0; i < n; i++)
        order[i] = (ranked) { i, probs[i] };
    qsort(order, n, sizeof *order, by_probability);
    for (int i = 0; i < n && (uint32_t) i < top; i++)
        printf("%-20s %.4f\n", hk_intent_model_label(c->m, order[i].label), order[i].prob);
    return ENGINE_EXIT_OK;
}

static int
compare_doubles(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* What the service does on each correction: one example, the default
 * steps (the model changes from run to run, the work does not). */
static int
bench_finetune(hk_intent_model *m)
{
    double times[FINETUNE_RUNS];
    hk_intent_example correction = { bench_inputs[0].text, 0 };
    hk_error err = { 0 };

    for (int i = 0; i < FINETUNE_RUNS; i++) {
        double t0 = engine_now();
        if (hk_intent_finetune(m, &correction, 1, HK_INTENT_FINETUNE_STEPS, (uint64_t) i, &err) < 0) {
            engine_error("classify: %s", err.message);
            return ENGINE_EXIT_ERROR;
        }
        times[i] = engine_now() - t0;
    }
    qsort(times, FINETUNE_RUNS, sizeof *times, compare_doubles);
    printf("finetune (1 correction, %d steps): median %.1f ms over %d runs\n",
           HK_INTENT_FINETUNE_STEPS, times[FINETUNE_RUNS / 2] * 1e3, FINETUNE_RUNS);
    return ENGINE_EXIT_OK;
}

/* The median seconds of classifying text, after a first run that faults
 * the embedding rows in (and makes the device's pipelines); < 0 after
 * printing the error. */
static double
median_seconds(classifier *c, bool on_device, const char *text)
{
    g_autofree float *probs = g_new(float, hk_intent_model_n_labels(c->m));
    double times[BENCH_RUNS];
    hk_error err = { 0 };

    if (classify_on(c, on_device, text, probs, &err) < 0) {
        engine_error("classify: %s", err.message);
        return -1.0;
    }
    for (int i = 0; i < BENCH_RUNS; i++) {
        double t0 = engine_now();
        classify_on(c, on_device, text, probs, &err);
        times[i] = engine_now() - t0;
    }
    qsort(times, BENCH_RUNS, sizeof *times, compare_doubles);
    return times[BENCH_RUNS / 2];
}

static int
bench(classifier *c)
{
    for (size_t b = 0; b < G_N_ELEMENTS(bench_inputs); b++) {
        double cpu = median_seconds(c, false, bench_inputs[b].text);
        if (cpu < 0)
            return ENGINE_EXIT_ERROR;
        printf("classify %s (20 words): median %.3f ms over %d runs\n",
               bench_inputs[b].language, cpu * 1e3, BENCH_RUNS);
        if (!on_vulkan(c))
            continue;
        double vulkan = median_seconds(c, true, bench_inputs[b].text);
        if (vulkan < 0)
            return ENGINE_EXIT_ERROR;
        printf("classify %s (20 words) on vulkan: median %.3f ms over %d runs (cpu %.3f ms)\n",
               bench_inputs[b].language, vulkan * 1e3, BENCH_RUNS, cpu * 1e3);
    }
    return bench_finetune(c->m);
}

static int
parse_options(classify_options *o, int argc, char **argv)
{
    static const struct option longs[] = {
        { "model", required_argument, NULL, 'm' },
        { "top",   required_argument, NULL, 'n' },
        { "bench", no_argument,       NULL, OPT_BENCH },
        { "backend", required_argument, NULL, ENGINE_OPT_BACKEND },
        { "help",  no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "m:n:h", longs, NULL)) != -1) {
        switch (opt) {
        case 'h':
            usage(stdout);
            exit(ENGINE_EXIT_OK);
        case 'm':
            o->common.model_path = optarg;
            break;
        case 'n':
            if (!engine_parse_u32(&o->common, "-n", optarg, 1, 1024, &o->top))
                return ENGINE_EXIT_USAGE;
            break;
        case OPT_BENCH:
            o->bench = true;
            break;
        case ENGINE_OPT_BACKEND:
            if (engine_options_parse(&o->common, opt, optarg) < 0)
                return ENGINE_EXIT_USAGE;
            break;
        default:
            engine_options_unknown(&o->common, argv);
            usage(stderr);
            return ENGINE_EXIT_USAGE;
        }
    }
    if (!o->common.model_path) {
        engine_error("classify: no model given (-m MODEL.gguf)");
        return ENGINE_EXIT_USAGE;
    }
    if (o->bench == (optind < argc)) {
        engine_error(o->bench ? "classify: --bench takes no text" : "classify: no text to classify");
        usage(stderr);
        return ENGINE_EXIT_USAGE;
    }
    return ENGINE_EXIT_OK;
}

int
engine_classify(int argc, char **argv)
{
    classify_options o = { .common = { .command = "classify" }, .top = DEFAULT_TOP };
    int r = parse_options(&o, argc, argv);
    if (r != ENGINE_EXIT_OK)
        return r;

    hk_intent_model *m;
    hk_error err = { 0 };
    if (hk_intent_model_load(o.common.model_path, &m, &err) < 0) {
        engine_error("classify: %s", err.message);
        return ENGINE_EXIT_ERROR;
    }
    classifier c;
    if (!classifier_open(&c, m, o.common.backend)) {
        hk_intent_model_free(m);
        return ENGINE_EXIT_USAGE;
    }
    if (o.bench) {
        r = bench(&c);
    } else {
        g_autofree char *text = g_strjoinv(" ", argv + optind);
        r = print_top(&c, text, o.top);
    }
    classifier_close(&c);
    hk_intent_model_free(m);
    return r;
}
