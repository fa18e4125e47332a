/* engine-info.c — `hearken-engine info [--kv] MODEL.gguf`: what a model
 * file holds, as aligned "key: value" lines. */
#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat-template.h"
#include "engine-commands.h"
#include "gguf.h"

#define LABEL_WIDTH 21     /* "feed-forward length: " */
#define MAX_KEY_WIDTH 48   /* --kv aligns values after keys up to this long */
#define MAX_SHOWN 200      /* bytes of a metadata string shown */

static void
usage(FILE *out)
{
    fputs("usage: hearken-engine info [--kv] MODEL.gguf\n"
          "\n"
          "Print what a GGUF model file holds: architecture, hyper-parameters,\n"
          "tensors, tokenizer and chat format.\n"
          "\n"
          "  --kv   print every metadata key and value instead\n", out);
}

static void
put_label(const char *label)
{
    printf("%s:%*s", label, (int)(LABEL_WIDTH - strlen(label) - 1), "");
}

static void HK_PRINTF(2, 3)
field(const char *label, const char *fmt, ...)
{
    va_list ap;
    put_label(label);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* File strings are shown with control bytes as '?', so a file cannot send
 * escape sequences to the terminal. */
static void
put_clean(hk_gguf_str s)
{
    uint64_t n = s.len < MAX_SHOWN ? s.len : MAX_SHOWN;
    for (uint64_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        putchar(c < 0x20 || c == 0x7f ? '?' : c);
    }
    if (n < s.len)
        fputs("…", stdout);
}

static void
str_field(const char *label, const hk_gguf *g, const char *key)
{
    hk_gguf_str s;
    put_label(label);
    if (hk_gguf_get_str(g, key, &s))
        put_clean(s);
    else
        putchar('-');
    putchar('\n');
}

/* n, and n in the largest unit it reaches: "1234567 (1.23 M)". */
static void
print_with_unit(const char *label, uint64_t n, const char *first_unit,
                const char *const units[3], double step)
{
    double scaled = (double)n;
    int u = -1;
    while (scaled >= step && u < 2) {
        scaled /= step;
        u++;
    }
    if (u < 0)
        field(label, "%" PRIu64 "%s", n, first_unit);
    else
        field(label, "%" PRIu64 "%s (%.2f %s)", n, first_unit, scaled, units[u]);
}

static void
print_hyperparameters(const hk_gguf *g, hk_gguf_str arch)
{
    static const struct { const char *label, *key; } params[] = {
        { "context length",      "context_length" },
        { "embedding length",    "embedding_length" },
        { "block count",         "block_count" },
        { "feed-forward length", "feed_forward_length" },
        { "head count",          "attention.head_count" },
        { "head count kv",       "attention.head_count_kv" },
        { "rope freq base",      "rope.freq_base" },
        { "rms eps",             "attention.layer_norm_rms_epsilon" },
    };

    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        char key[256], value[128] = "-";
        snprintf(key, sizeof key, "%.*s.%s", (int)(arch.len < 128 ? arch.len : 128), arch.ptr,
                 params[i].key);
        int64_t k = hk_gguf_find_key(g, key);
        if (k >= 0)
            hk_gguf_kv_format(g, (uint64_t)k, value, sizeof value);
        field(params[i].label, "%s", value);
    }
}

static void
print_vocab_size(const hk_gguf *g, hk_gguf_str arch)
{
    char key[256];
    uint64_t n;
    hk_gguf_vtype type;

    snprintf(key, sizeof key, "%.*s.vocab_size", (int)(arch.len < 128 ? arch.len : 128), arch.ptr);
    if (hk_gguf_get_u64(g, key, &n) || hk_gguf_get_array(g, "tokenizer.ggml.tokens", &type, &n))
        field("vocab size", "%" PRIu64, n);
    else
        field("vocab size", "-");
}

static void
print_tensors(const hk_gguf *g)
{
    uint64_t per_type[HK_TYPE_COUNT] = { 0 };
    uint64_t params = 0;

    for (uint64_t i = 0; i < hk_gguf_n_tensors(g); i++) {
        const hk_gguf_tensor *t = hk_gguf_tensor_at(g, i);
        uint64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        per_type[t->type]++;
        /* a hostile file could make the sum wrap */
        params = n > UINT64_MAX - params ? UINT64_MAX : params + n;
    }
    field("tensors", "%" PRIu64, hk_gguf_n_tensors(g));

    GString *types = g_string_new(NULL);
    for (int type = 0; type < HK_TYPE_COUNT; type++)
        if (per_type[type] > 0)
            g_string_append_printf(types, "%s%s %" PRIu64, types->len ? ", " : "",
                                   hk_type_name(type), per_type[type]);
    field("tensor types", "%s", types->len ? types->str : "-");
    g_string_free(types, TRUE);

    static const char *const counts[3] = { "K", "M", "B" };
    print_with_unit("parameters", params, "", counts, 1000);
}

static void
print_chat_format(const hk_gguf *g)
{
    hk_gguf_str tmpl;
    char *text = hk_gguf_get_str(g, "tokenizer.chat_template", &tmpl) ? hk_gguf_str_dup(tmpl) : NULL;
    bool fallback = false;
    hk_chat_format format = hk_chat_detect(text, &fallback);

    if (!fallback)
        field("chat format", "%s", hk_chat_format_name(format));
    else
        field("chat format", "%s (fallback: %s)", hk_chat_format_name(format),
              text ? "template not recognised" : "no chat template");
    free(text);
}

static void
print_summary(const char *path, const hk_gguf *g)
{
    static const char *const sizes[3] = { "KiB", "MiB", "GiB" };
    hk_gguf_str arch = { "", 0 };

    field("file", "%s", path);
    print_with_unit("file size", hk_gguf_file_size(g), " bytes", sizes, 1024);
    field("gguf version", "%" PRIu32, hk_gguf_version(g));
    str_field("architecture", g, "general.architecture");
    hk_gguf_get_str(g, "general.architecture", &arch);
    print_hyperparameters(g, arch);
    print_vocab_size(g, arch);
    print_tensors(g);
    str_field("tokenizer", g, "tokenizer.ggml.model");
    str_field("pre-tokenizer", g, "tokenizer.ggml.pre");
    print_chat_format(g);
}

static void
print_kvs(const hk_gguf *g)
{
    int width = 0;
    for (uint64_t i = 0; i < hk_gguf_n_kv(g); i++) {
        uint64_t len = hk_gguf_kv_key(g, i).len;
        if (len > (uint64_t)width)
            width = len < MAX_KEY_WIDTH ? (int)len : MAX_KEY_WIDTH;
    }
    for (uint64_t i = 0; i < hk_gguf_n_kv(g); i++) {
        hk_gguf_str key = hk_gguf_kv_key(g, i);
        char value[256];
        hk_gguf_kv_format(g, i, value, sizeof value);
        put_clean(key);
        int pad = key.len < (uint64_t)width ? width - (int)key.len : 0;
        printf(":%*s %s\n", pad, "", value);
    }
}

int
engine_info(int argc, char **argv)
{
    const char *path = NULL;
    bool kv = false;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return ENGINE_EXIT_OK;
        } else if (strcmp(argv[i], "--kv") == 0) {
            kv = true;
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "hearken-engine: info: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return ENGINE_EXIT_USAGE;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        usage(stderr);
        return ENGINE_EXIT_USAGE;
    }

    hk_gguf *g;
    hk_error err = { 0 };
    if (hk_gguf_open(path, &g, &err) < 0) {
        fprintf(stderr, "hearken-engine: %s\n", err.message);
        return ENGINE_EXIT_ERROR;
    }
    if (kv)
        print_kvs(g);
    else
        print_summary(path, g);
    hk_gguf_close(g);
    return ENGINE_EXIT_OK;
}
