/* engine-quantize.c — `hearken-engine quantize [-t N] IN.gguf OUT.gguf TYPE`:
 * a model file rewritten with its weights quantized, metadata kept.
 *
 * The mixtures follow llama.cpp's so files compare one for one:
 *   q8_0    every 2-D weight Q8_0.
 *   q4_0    Q4_0, the output matrix Q6_K.
 *   q4_k_m  Q4_K, the output matrix Q6_K, and attn_v / ffn_down Q6_K in
 *           the layers that matter most (the first and last eighth, and
 *           every third between).
 * Rows that are no whole number of 256 fall back to Q5_0 (for Q4_K) or
 * Q8_0 (for Q6_K), of 32 to F16.  1-D tensors (norms, biases) stay F32.
 * Input weights may be F32, F16, BF16 or already quantized (dequantized
 * first; a tensor already of its target type is copied as it is).
 */
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/threadpool.h"
#include "engine-commands.h"
#include "engine-options.h"
#include "gguf.h"
#include "quant.h"

typedef struct mixture {
    const char *name;
    uint32_t    file_type;      /* general.file_type, llama.cpp's numbering */
    hk_type     base;           /* most 2-D weights */
    hk_type     output;         /* output.weight (token_embd when tied) */
    bool        more_bits;      /* Q6_K attn_v / ffn_down in some layers */
} mixture;

static const mixture mixtures[] = {
    { "q8_0",   7,  HK_TYPE_Q8_0, HK_TYPE_Q8_0, false },
    { "q4_0",   2,  HK_TYPE_Q4_0, HK_TYPE_Q6_K, false },
    { "q4_k_m", 15, HK_TYPE_Q4_K, HK_TYPE_Q6_K, true  },
};

/* ggml's k-quant files say which revision of the formats they hold */
#define QUANTIZATION_VERSION 2

static void
usage(FILE *out)
{
    fputs("usage: hearken-engine quantize [-t N] IN.gguf OUT.gguf TYPE\n"
          "\n"
          "Write IN's weights quantized to OUT, keeping all metadata.\n"
          "TYPE is q8_0, q4_0 or q4_k_m.\n"
          "\n"
          "  -t, --threads N   threads (default: one per core)\n", out);
}

/* ------------------------------------------------------ choosing types */

typedef struct plan {
    const mixture *mix;
    int            n_layers;
    bool           has_output;   /* else token_embd is the output matrix */
} plan;

static bool
name_is(const hk_gguf_tensor *t, const char *name)
{
    return hk_gguf_str_eq(t->name, name);
}

/* The layer of "blk.N.…", or -1. */
static int
layer_of(const char *name)
{
    int layer, n = 0;
    if (sscanf(name, "blk.%d.%n", &layer, &n) == 1 && n > 0)
        return layer;
    return -1;
}

static bool
more_bits_layer(int layer, int n_layers)
{
    return layer < n_layers / 8 || layer >= 7 * n_layers / 8
        || (layer - n_layers / 8) % 3 == 2;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A type the row length allows: the k-quants need whole super-blocks. */
static hk_type
fit_row(hk_type type, uint64_t row)
{
    if (row % HK_QK_K != 0 && type == HK_TYPE_Q4_K)
        type = HK_TYPE_Q5_0;
    if (row % HK_QK_K != 0 && type == HK_TYPE_Q6_K)
        type = HK_TYPE_Q8_0;
    if (row % 32 != 0)
        type = HK_TYPE_F16;
    return type;
}

static hk_type
target_type(const plan *p, const hk_gguf_tensor *t, const char *name)
{
    if (t->n_dims < 2)
        return HK_TYPE_F32;
    if (!ends_with(name, ".weight"))
        return t->type;

    hk_type type = p->mix->base;
    if (name_is(t, "output.weight") || (!p->has_output && name_is(t, "token_embd.weight")))
        type = p->mix->output;
    int layer = layer_of(name);
    if (p->mix->more_bits && layer >= 0 && more_bits_layer(layer, p->n_layers)
        && (ends_with(name, ".attn_v.weight") || ends_with(name, ".ffn_down.weight")))
        type = HK_TYPE_Q6_K;
    return fit_row(type, t->ne[0]);
}

static void
plan_init(plan *p, const mixture *mix, const hk_gguf *g)
{
    p->mix = mix;
    p->n_layers = 0;
    p->has_output = hk_gguf_find_tensor(g, "output.weight") != NULL;
    for (uint64_t i = 0; i < hk_gguf_n_tensors(g); i++) {
        char *name = hk_gguf_str_dup(hk_gguf_tensor_at(g, i)->name);
        int layer = layer_of(name);
        if (layer + 1 > p->n_layers)
            p->n_layers = layer + 1;
        g_free(name);
    }
}

/* ---------------------------------------------------------- converting */

static uint64_t
rows_of(const hk_gguf_tensor *t)
{
    return t->ne[1] * t->ne[2] * t->ne[3];      /* unused dimensions are 1 */
}

typedef struct convert_job {
    const hk_gguf_tensor *t;
    hk_type               to;
    uint64_t              n_rows;
    size_t                in_row, out_row;
    uint8_t              *out;
} convert_job;

/* Rows ith, ith + nth, …: each thread dequantizes and requantizes its own. */
static void
convert_rows(void *ctx, int ith, int nth)
{
    const convert_job *job = ctx;
    int64_t k = (int64_t)job->t->ne[0];
    float *row = g_new(float, k);
    for (uint64_t r = (uint64_t)ith; r < job->n_rows; r += (uint64_t)nth) {
        hk_dequantize_row(job->t->type, (const uint8_t *)job->t->data + r * job->in_row, row, k);
        hk_quantize_row(job->to, row, job->out + r * job->out_row, k);
    }
    g_free(row);
}

static int
add_converted(hk_gguf_writer *w, hk_threadpool *pool, const hk_gguf_tensor *t,
              const char *name, hk_type to, hk_error *err)
{
    if (t->type == to)
        return hk_gguf_writer_add_tensor(w, name, to, t->n_dims, t->ne, t->data, err);
    if (!hk_can_dequantize(t->type))
        return hk_error_set(err, -ENOTSUP, "tensor '%s' has type %s, which cannot be read",
                            name, hk_type_name(t->type));

    convert_job job = {
        .t = t,
        .to = to,
        .n_rows = rows_of(t),
        .in_row = hk_type_row_bytes(t->type, t->ne[0]),
        .out_row = hk_type_row_bytes(to, t->ne[0]),
    };
    /* + 1: a tensor may have no rows, and g_try_malloc(0) is NULL */
    job.out = g_try_malloc(job.out_row * job.n_rows + 1);
    if (!job.out)
        return hk_error_set(err, -ENOMEM, "out of memory for tensor '%s'", name);
    hk_threadpool_run(pool, hk_threadpool_n_threads(pool), convert_rows, &job);
    int r = hk_gguf_writer_add_tensor(w, name, to, t->n_dims, t->ne, job.out, err);
    g_free(job.out);
    return r;
}

/* ---------------------------------------------------------------- main */

static const mixture *
find_mixture(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(mixtures); i++)
        if (g_ascii_strcasecmp(name, mixtures[i].name) == 0)
            return &mixtures[i];
    return NULL;
}

static int
quantize_file(const char *in, const char *out, const mixture *mix, int n_threads, hk_error *err)
{
    hk_gguf *g = NULL;
    hk_threadpool *pool = NULL;
    hk_gguf_writer *w = NULL;
    uint64_t in_bytes = 0, out_bytes = 0;
    plan p;

    int r = hk_gguf_open(in, &g, err);
    if (r < 0) {
        hk_error_prefix(err, "%s: ", in);
        goto out;
    }
    r = hk_threadpool_new(n_threads, &pool, err);
    if (r < 0)
        goto out;

    plan_init(&p, mix, g);
    w = hk_gguf_writer_new();
    hk_gguf_writer_copy_kvs(w, g);
    hk_gguf_writer_set_u32(w, "general.file_type", mix->file_type);
    hk_gguf_writer_set_u32(w, "general.quantization_version", QUANTIZATION_VERSION);

    for (uint64_t i = 0; i < hk_gguf_n_tensors(g); i++) {
        const hk_gguf_tensor *t = hk_gguf_tensor_at(g, i);
        char *name = hk_gguf_str_dup(t->name);
        hk_type to = target_type(&p, t, name);
        printf("[%4" G_GUINT64_FORMAT "/%4" G_GUINT64_FORMAT "] %-32s %-5s -> %s\n", i + 1,
               hk_gguf_n_tensors(g), name, hk_type_name(t->type), hk_type_name(to));
        fflush(stdout);
        r = add_converted(w, pool, t, name, to, err);
        g_free(name);
        if (r < 0)
            goto out;
        in_bytes += t->size;
        out_bytes += hk_type_row_bytes(to, t->ne[0]) * rows_of(t);
    }
    r = hk_gguf_writer_write_file(w, out, err);
    if (r < 0) {
        hk_error_prefix(err, "%s: ", out);
        goto out;
    }
    printf("wrote %s: %s, %" G_GUINT64_FORMAT " tensors, %.1f MiB -> %.1f MiB\n", out, mix->name,
           hk_gguf_n_tensors(g), in_bytes / 1048576.0, out_bytes / 1048576.0);
out:
    hk_gguf_writer_free(w);
    hk_threadpool_free(pool);
    hk_gguf_close(g);
    return r;
}

int
engine_quantize(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "threads", required_argument, NULL, 't' },
        { "help",    no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    engine_options o = { .command = "quantize" };
    uint32_t n_threads = 0;
    int opt;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "t:h", long_options, NULL)) != -1) {
        switch (opt) {
        case 't':
            if (!engine_parse_u32(&o, "--threads", optarg, 1, 512, &n_threads))
                return ENGINE_EXIT_USAGE;
            break;
        case 'h':
            usage(stdout);
            return ENGINE_EXIT_OK;
        default:
            usage(stderr);
            return ENGINE_EXIT_USAGE;
        }
    }
    if (argc - optind != 3) {
        engine_error("quantize: expected IN.gguf OUT.gguf TYPE");
        usage(stderr);
        return ENGINE_EXIT_USAGE;
    }
    const mixture *mix = find_mixture(argv[optind + 2]);
    if (!mix) {
        engine_error("quantize: unknown type '%s' (q8_0, q4_0 or q4_k_m)", argv[optind + 2]);
        return ENGINE_EXIT_USAGE;
    }
    if (n_threads == 0)
        n_threads = g_get_num_processors();

    hk_error err = { 0 };
    if (quantize_file(argv[optind], argv[optind + 1], mix, (int)n_threads, &err) < 0) {
        engine_error("quantize: %s", err.message);
        return ENGINE_EXIT_ERROR;
    }
    return ENGINE_EXIT_OK;
}
