/* intent-file.c — the intent model as a GGUF file.
 *
 * general.architecture  "hearken-intent"
 * hearken-intent.feature_version   u32   featurizer the model was trained with
 * hearken-intent.feature_buckets   u32   rows of the embedding
 * hearken-intent.embedding_length  u32
 * hearken-intent.conv_widths       [u32] 2, 3, 4
 * hearken-intent.conv_filters      u32   per width
 * hearken-intent.hash_seed         u64
 * hearken-intent.labels            [string]
 * hearken-intent.replay.texts      [string]  the training examples…
 * hearken-intent.replay.labels     [i32]     …and their label indices
 * tensors (F32): token_embd.weight (dim, buckets); conv{W}.weight
 * (W * dim, filters), conv{W}.bias (filters); output.weight (pooled,
 * labels), output.bias (labels) — dimensions listed fastest first, as GGUF
 * does.
 *
 * The loader trusts nothing: every key, type, count, shape and weight is
 * checked before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf.h"
#include "intent-private.h"

#define KEY(name) HK_INTENT_ARCH "." name

/* Bounds that keep a hostile file from asking for absurd memory. */
#define MAX_BUCKETS   (1u << 24)
#define MAX_DIM       1024
#define MAX_FILTERS   4096
#define MAX_LABELS    1024
#define MAX_EMBD_ELEMS (1ull << 28)

/* ---------------------------------------------------------------- loading */

static int
get_u32(const hk_gguf *g, const char *key, uint32_t min, uint32_t max, uint32_t *ret, hk_error *err)
{
    if (!hk_gguf_get_u32(g, key, ret))
        return hk_error_set(err, -EINVAL, "%s is missing or not an unsigned 32-bit integer", key);
    if (*ret < min || *ret > max)
        return hk_error_set(err, -EINVAL, "%s is %u, outside %u..%u", key, *ret, min, max);
    return 0;
}

static int
read_hparams(const hk_gguf *g, hk_intent_hparams *hp, hk_error *err)
{
    hk_gguf_str arch;
    uint32_t version;
    if (!hk_gguf_get_str(g, "general.architecture", &arch) || !hk_gguf_str_eq(arch, HK_INTENT_ARCH))
        return hk_error_set(err, -EINVAL, "not an intent model (general.architecture is not \"%s\")",
                            HK_INTENT_ARCH);
    int r = get_u32(g, KEY("feature_version"), 0, UINT32_MAX, &version, err);
    if (r == 0 && version != HK_INTENT_FEATURE_VERSION)
        r = hk_error_set(err, -EINVAL, "features of version %u; this engine computes version %u",
                         version, HK_INTENT_FEATURE_VERSION);
    if (r == 0)
        r = get_u32(g, KEY("feature_buckets"), 1, MAX_BUCKETS, &hp->n_buckets, err);
    if (r == 0)
        r = get_u32(g, KEY("embedding_length"), 1, MAX_DIM, &hp->dim, err);
    if (r == 0)
        r = get_u32(g, KEY("conv_filters"), 1, MAX_FILTERS, &hp->n_filters, err);
    if (r == 0 && !hk_gguf_get_u64(g, KEY("hash_seed"), &hp->hash_seed))
        r = hk_error_set(err, -EINVAL, "%s is missing or not an unsigned integer", KEY("hash_seed"));
    if (r == 0 && (uint64_t) hp->n_buckets * hp->dim > MAX_EMBD_ELEMS)
        r = hk_error_set(err, -EINVAL, "an embedding of %u x %u is too large", hp->n_buckets, hp->dim);
    if (r < 0)
        return r;

    uint64_t n;
    const void *widths = hk_gguf_array_data(g, KEY("conv_widths"), HK_GGUF_UINT32, &n);
    bool same = widths && n == HK_INTENT_N_WIDTHS;
    for (uint64_t i = 0; same && i < n; i++) {
        uint32_t w;
        memcpy(&w, (const uint8_t *) widths + i * sizeof w, sizeof w);
        same = w == hk_intent_widths[i];
    }
    if (!same)
        return hk_error_set(err, -EINVAL, "%s must be the u32 array [2, 3, 4]", KEY("conv_widths"));
    return 0;
}

/* A NUL-terminated copy of a string array element, refusing NUL bytes. */
static int
dup_array_str(const hk_gguf *g, const char *key, uint64_t i, char **ret, hk_error *err)
{
    hk_gguf_str s;
    if (!hk_gguf_array_str(g, key, i, &s))
        return hk_error_set(err, -EINVAL, "%s[%" PRIu64 "] is not a string", key, i);
    if (memchr(s.ptr, '\0', s.len))
        return hk_error_set(err, -EINVAL, "%s[%" PRIu64 "] contains a NUL byte", key, i);
    *ret = hk_gguf_str_dup(s);
    return *ret ? 0 : hk_error_set(err, -ENOMEM, "out of memory reading %s", key);
}

static int
read_labels(const hk_gguf *g, char ***ret, uint32_t *ret_n, hk_error *err)
{
    hk_gguf_vtype type;
    uint64_t n;
    if (!hk_gguf_get_array(g, KEY("labels"), &type, &n) || type != HK_GGUF_STRING)
        return hk_error_set(err, -EINVAL, "%s is missing or not an array of strings", KEY("labels"));
    if (n < 2 || n > MAX_LABELS)
        return hk_error_set(err, -EINVAL, "%s has %" PRIu64 " labels, not 2..%u", KEY("labels"), n, MAX_LABELS);

    char **labels = calloc(n, sizeof *labels);
    int r = labels ? 0 : hk_error_set(err, -ENOMEM, "out of memory for %" PRIu64 " labels", n);
    for (uint64_t i = 0; r == 0 && i < n; i++) {
        r = dup_array_str(g, KEY("labels"), i, &labels[i], err);
        if (r == 0 && labels[i][0] == '\0')
            r = hk_error_set(err, -EINVAL, "%s[%" PRIu64 "] is empty", KEY("labels"), i);
        for (uint64_t j = 0; r == 0 && j < i; j++)
            if (strcmp(labels[i], labels[j]) == 0)
                r = hk_error_set(err, -EINVAL, "label \"%s\" appears twice", labels[i]);
    }
    if (r < 0) {
        for (uint64_t i = 0; labels && i < n; i++)
            free(labels[i]);
        free(labels);
        return r;
    }
    *ret = labels;
    *ret_n = (uint32_t) n;
    return 0;
}

/* Check a tensor's type and shape (fastest first) against the
 * hyperparameters; with dst, copy its data there and check every weight
 * is finite.  Shapes are checked before anything is allocated, so a file
 * cannot ask for more memory than it holds. */
static int
read_tensor(const hk_gguf *g, const char *name, uint64_t ne0, uint64_t ne1, float *dst, hk_error *err)
{
    const hk_gguf_tensor *t = hk_gguf_find_tensor(g, name);
    if (!t)
        return hk_error_set(err, -EINVAL, "tensor %s is missing", name);
    if (t->type != HK_TYPE_F32)
        return hk_error_set(err, -EINVAL, "tensor %s is %s, not F32", name, hk_type_name(t->type));
    uint64_t n_other = 1;
    for (uint32_t d = 2; d < t->n_dims; d++)
        n_other *= t->ne[d];
    if (t->ne[0] != ne0 || (t->n_dims > 1 ? t->ne[1] : 1) != ne1 || n_other != 1)
        return hk_error_set(err, -EINVAL, "tensor %s is %" PRIu64 " x %" PRIu64 ", the hyperparameters "
                            "say %" PRIu64 " x %" PRIu64, name, t->ne[0], t->n_dims > 1 ? t->ne[1] : 1,
                            ne0, ne1);
    if (!dst)
        return 0;
    size_t n = (size_t) (ne0 * ne1);
    memcpy(dst, t->data, n * sizeof *dst);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(dst[i]))
            return hk_error_set(err, -EINVAL, "tensor %s holds a non-finite weight at %zu", name, i);
    return 0;
}

/* Every tensor, checked; copied into m when m is not NULL. */
static int
read_weights(const hk_gguf *g, const hk_intent_hparams *hp, hk_intent_model *m, hk_error *err)
{
    char name[32];
    int r = read_tensor(g, "token_embd.weight", hp->dim, hp->n_buckets, m ? m->embd : NULL, err);
    for (int k = 0; r == 0 && k < HK_INTENT_N_WIDTHS; k++) {
        snprintf(name, sizeof name, "conv%u.weight", hk_intent_widths[k]);
        r = read_tensor(g, name, (uint64_t) hk_intent_widths[k] * hp->dim, hp->n_filters,
                        m ? m->w.conv_w[k] : NULL, err);
        snprintf(name, sizeof name, "conv%u.bias", hk_intent_widths[k]);
        if (r == 0)
            r = read_tensor(g, name, hp->n_filters, 1, m ? m->w.conv_b[k] : NULL, err);
    }
    if (r == 0)
        r = read_tensor(g, "output.weight", hk_intent_pooled_size(hp), hp->n_labels, m ? m->w.out_w : NULL, err);
    if (r == 0)
        r = read_tensor(g, "output.bias", hp->n_labels, 1, m ? m->w.out_b : NULL, err);
    return r;
}

static int
read_replay(const hk_gguf *g, hk_intent_model *m, hk_error *err)
{
    hk_gguf_vtype type;
    uint64_t n, n_labels;
    if (!hk_gguf_get_array(g, KEY("replay.texts"), &type, &n) || type != HK_GGUF_STRING)
        return hk_error_set(err, -EINVAL, "%s is missing or not an array of strings", KEY("replay.texts"));
    const void *labels = hk_gguf_array_data(g, KEY("replay.labels"), HK_GGUF_INT32, &n_labels);
    if (!labels || n_labels != n)
        return hk_error_set(err, -EINVAL, "%s must be an i32 array with one label per replay text",
                            KEY("replay.labels"));

    m->replay.texts = calloc(n + 1, sizeof *m->replay.texts);
    m->replay.labels = malloc((n + 1) * sizeof *m->replay.labels);
    if (!m->replay.texts || !m->replay.labels)
        return hk_error_set(err, -ENOMEM, "out of memory for %" PRIu64 " replay examples", n);
    for (; m->replay.n < n; m->replay.n++) {
        size_t i = m->replay.n;
        memcpy(&m->replay.labels[i], (const uint8_t *) labels + i * sizeof(int32_t), sizeof(int32_t));
        if (m->replay.labels[i] < 0 || (uint32_t) m->replay.labels[i] >= m->hp.n_labels)
            return hk_error_set(err, -EINVAL, "replay example %zu has label %d, outside 0..%u",
                                i, m->replay.labels[i], m->hp.n_labels - 1);
        int r = dup_array_str(g, KEY("replay.texts"), i, &m->replay.texts[i], err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int
load_from(const hk_gguf *g, hk_intent_model **ret, hk_error *err)
{
    hk_intent_hparams hp = { 0 };
    char **labels = NULL;
    hk_intent_model *m = NULL;
    int r = read_hparams(g, &hp, err);
    if (r == 0)
        r = read_labels(g, &labels, &hp.n_labels, err);
    if (r == 0)
        r = read_weights(g, &hp, NULL, err);
    if (r == 0)
        r = hk_intent_model_new(&hp, (const char *const *) labels, &m, err);
    if (r == 0)
        r = read_weights(g, &hp, m, err);
    if (r == 0)
        r = read_replay(g, m, err);
    for (uint32_t i = 0; labels && i < hp.n_labels; i++)
        free(labels[i]);
    free(labels);
    if (r < 0) {
        hk_intent_model_free(m);
        return r;
    }
    *ret = m;
    return 0;
}

int
hk_intent_model_load(const char *path, hk_intent_model **ret, hk_error *err)
{
    hk_gguf *g;
    int r = hk_gguf_open(path, &g, err);
    if (r < 0)
        return r;
    r = load_from(g, ret, err);
    if (r < 0)
        hk_error_prefix(err, "%s: ", path);
    hk_gguf_close(g);
    return r;
}

/* ---------------------------------------------------------------- saving */

static int
add_f32(hk_gguf_writer *w, const char *name, uint64_t ne0, uint64_t ne1, const float *data, hk_error *err)
{
    const uint64_t ne[2] = { ne0, ne1 };
    return hk_gguf_writer_add_tensor(w, name, HK_TYPE_F32, ne1 > 1 ? 2 : 1, ne, data, err);
}

static int
describe(const hk_intent_model *m, hk_gguf_writer *w, hk_error *err)
{
    const hk_intent_hparams *hp = &m->hp;
    hk_gguf_writer_set_str(w, "general.architecture", HK_INTENT_ARCH);
    hk_gguf_writer_set_u32(w, KEY("feature_version"), HK_INTENT_FEATURE_VERSION);
    hk_gguf_writer_set_u32(w, KEY("feature_buckets"), hp->n_buckets);
    hk_gguf_writer_set_u32(w, KEY("embedding_length"), hp->dim);
    hk_gguf_writer_set_array(w, KEY("conv_widths"), HK_GGUF_UINT32, hk_intent_widths, HK_INTENT_N_WIDTHS);
    hk_gguf_writer_set_u32(w, KEY("conv_filters"), hp->n_filters);
    hk_gguf_writer_set_u64(w, KEY("hash_seed"), hp->hash_seed);
    hk_gguf_writer_set_str_array(w, KEY("labels"), (const char *const *) m->labels, hp->n_labels);
    hk_gguf_writer_set_str_array(w, KEY("replay.texts"), (const char *const *) m->replay.texts, m->replay.n);
    hk_gguf_writer_set_array(w, KEY("replay.labels"), HK_GGUF_INT32, m->replay.labels, m->replay.n);

    char name[32];
    int r = add_f32(w, "token_embd.weight", hp->dim, hp->n_buckets, m->embd, err);
    for (int k = 0; r == 0 && k < HK_INTENT_N_WIDTHS; k++) {
        snprintf(name, sizeof name, "conv%u.weight", hk_intent_widths[k]);
        r = add_f32(w, name, (uint64_t) hk_intent_widths[k] * hp->dim, hp->n_filters, m->w.conv_w[k], err);
        snprintf(name, sizeof name, "conv%u.bias", hk_intent_widths[k]);
        if (r == 0)
            r = add_f32(w, name, hp->n_filters, 1, m->w.conv_b[k], err);
    }
    if (r == 0)
        r = add_f32(w, "output.weight", hk_intent_pooled_size(hp), hp->n_labels, m->w.out_w, err);
    if (r == 0)
        r = add_f32(w, "output.bias", hp->n_labels, 1, m->w.out_b, err);
    return r;
}

/* Flush the file to disk before it replaces the old one, so a crash leaves
 * one whole model or the other. */
static int
sync_file(const char *path, hk_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return hk_error_set(err, -e, "%s: cannot sync: %s", path, strerror(e));
    }
    close(fd);
    return 0;
}

/* A new file beside path, created with the mode umask gives new files
 * (mkstemp would make it private). */
static int
create_beside(const char *path, char **ret_tmp, hk_error *err)
{
    static atomic_uint counter;
    for (int attempt = 0; attempt < 100; attempt++) {
        size_t size = strlen(path) + 48;
        char *tmp = malloc(size);
        if (!tmp)
            return hk_error_set(err, -ENOMEM, "out of memory saving %s", path);
        snprintf(tmp, size, "%s.tmp-%ld-%u", path, (long) getpid(), atomic_fetch_add(&counter, 1));
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            close(fd);
            *ret_tmp = tmp;
            return 0;
        }
        int e = errno;
        free(tmp);
        if (e != EEXIST)
            return hk_error_set(err, -e, "%s: cannot create a file beside it: %s", path, strerror(e));
    }
    return hk_error_set(err, -EEXIST, "%s: cannot create a file beside it: too many leftovers", path);
}

int
hk_intent_model_save(const hk_intent_model *m, const char *path, hk_error *err)
{
    hk_gguf_writer *w = hk_gguf_writer_new();
    char *tmp = NULL;
    if (!w)
        return hk_error_set(err, -ENOMEM, "out of memory saving %s", path);
    int r = create_beside(path, &tmp, err);
    if (r == 0)
        r = describe(m, w, err);
    if (r == 0)
        r = hk_gguf_writer_write_file(w, tmp, err);
    if (r == 0)
        r = sync_file(tmp, err);
    if (r == 0 && rename(tmp, path) < 0)
        r = hk_error_set(err, -errno, "%s: cannot replace: %s", path, strerror(errno));
    if (r < 0 && tmp)
        unlink(tmp);
    free(tmp);
    hk_gguf_writer_free(w);
    return r;
}
