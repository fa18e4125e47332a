/* gguf-writer.c — writing GGUF version 3 files.
 *
 * The writer keeps each value already encoded as the file stores it and a
 * copy of each tensor's data; writing lays them out with the alignment
 * padding and streams them to the file, so nothing but those copies is
 * held in memory.
 */
#include "gguf.h"

#include <errno.h>
#include <stdarg.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define GGUF_MAGIC   "GGUF"
#define GGUF_VERSION 3u

typedef struct writer_kv {
    char         *key;
    hk_gguf_vtype type;
    GByteArray   *value;  /* as the file stores it, after the type */
} writer_kv;

typedef struct writer_tensor {
    char     *name;
    hk_type   type;
    uint32_t  n_dims;
    uint64_t  ne[HK_GGUF_MAX_DIMS];
    uint64_t  size;
    uint64_t  offset;     /* in the data section, set when writing */
    void     *data;       /* (size) */
} writer_tensor;

struct hk_gguf_writer {
    GPtrArray  *kvs;           /* writer_kv *, in the order keys were first set */
    GHashTable *kv_index;      /* key -> writer_kv * */
    GPtrArray  *tensors;       /* writer_tensor * */
    GHashTable *tensor_names;  /* the set of names */
    hk_error    misuse;        /* a bad call to a void setter, reported by the write */
};

static void
writer_kv_free(gpointer p)
{
    writer_kv *kv = p;
    g_free(kv->key);
    g_byte_array_unref(kv->value);
    g_free(kv);
}

static void
writer_tensor_free(gpointer p)
{
    writer_tensor *t = p;
    g_free(t->name);
    g_free(t->data);
    g_free(t);
}

hk_gguf_writer *
hk_gguf_writer_new(void)
{
    hk_gguf_writer *w = g_new0(hk_gguf_writer, 1);
    w->kvs = g_ptr_array_new_with_free_func(writer_kv_free);
    w->kv_index = g_hash_table_new(g_str_hash, g_str_equal);
    w->tensors = g_ptr_array_new_with_free_func(writer_tensor_free);
    w->tensor_names = g_hash_table_new(g_str_hash, g_str_equal);
    return w;
}

void
hk_gguf_writer_free(hk_gguf_writer *w)
{
    if (!w)
        return;
    g_hash_table_destroy(w->kv_index);
    g_hash_table_destroy(w->tensor_names);
    g_ptr_array_unref(w->kvs);
    g_ptr_array_unref(w->tensors);
    g_free(w);
}

/* ------------------------------------------------------------ metadata */

static const uint8_t scalar_bytes[HK_GGUF_VTYPE_COUNT] = {
    [HK_GGUF_UINT8] = 1,   [HK_GGUF_INT8] = 1,
    [HK_GGUF_UINT16] = 2,  [HK_GGUF_INT16] = 2,
    [HK_GGUF_UINT32] = 4,  [HK_GGUF_INT32] = 4,  [HK_GGUF_FLOAT32] = 4,
    [HK_GGUF_BOOL] = 1,
    [HK_GGUF_UINT64] = 8,  [HK_GGUF_INT64] = 8,  [HK_GGUF_FLOAT64] = 8,
};

static bool
is_scalar(hk_gguf_vtype type)
{
    return (unsigned)type < HK_GGUF_VTYPE_COUNT && scalar_bytes[type] != 0;
}

static void HK_PRINTF(2, 3)
misuse(hk_gguf_writer *w, const char *fmt, ...)
{
    /* the first misuse is the one to fix */
    if (w->misuse.code != 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->misuse.message, sizeof w->misuse.message, fmt, ap);
    va_end(ap);
    w->misuse.code = -EINVAL;
}

/* The encoded value of key, emptied for a new value; NULL for a bad key. */
static GByteArray *
value_for(hk_gguf_writer *w, const char *key, hk_gguf_vtype type)
{
    if (key[0] == '\0') {
        misuse(w, "an empty key was set");
        return NULL;
    }
    writer_kv *kv = g_hash_table_lookup(w->kv_index, key);
    if (!kv) {
        kv = g_new0(writer_kv, 1);
        kv->key = g_strdup(key);
        kv->value = g_byte_array_new();
        g_ptr_array_add(w->kvs, kv);
        g_hash_table_insert(w->kv_index, kv->key, kv);
    }
    kv->type = type;
    g_byte_array_set_size(kv->value, 0);
    return kv->value;
}

static void
append(GByteArray *b, const void *data, uint64_t n)
{
    const uint8_t *p = data;
    /* g_byte_array_append takes a guint */
    while (n > 0) {
        guint chunk = n > G_MAXUINT ? G_MAXUINT : (guint)n;
        g_byte_array_append(b, p, chunk);
        p += chunk;
        n -= chunk;
    }
}

static void
append_u32(GByteArray *b, uint32_t v)
{
    append(b, &v, sizeof v);
}

static void
append_u64(GByteArray *b, uint64_t v)
{
    append(b, &v, sizeof v);
}

static void
append_str(GByteArray *b, const char *s, uint64_t len)
{
    append_u64(b, len);
    append(b, s, len);
}

static void
set_scalar(hk_gguf_writer *w, const char *key, hk_gguf_vtype type, const void *value)
{
    GByteArray *b = value_for(w, key, type);
    if (b)
        append(b, value, scalar_bytes[type]);
}

void
hk_gguf_writer_set_scalar(hk_gguf_writer *w, const char *key, hk_gguf_vtype type, const void *value)
{
    if (!is_scalar(type)) {
        misuse(w, "hk_gguf_writer_set_scalar: key '%s' given type %s, not a scalar type",
               key, hk_gguf_vtype_name(type));
        return;
    }
    if (type == HK_GGUF_BOOL) {
        uint8_t b = *(const bool *)value;
        set_scalar(w, key, type, &b);
        return;
    }
    set_scalar(w, key, type, value);
}

void
hk_gguf_writer_set_u32(hk_gguf_writer *w, const char *key, uint32_t v)
{
    set_scalar(w, key, HK_GGUF_UINT32, &v);
}

void
hk_gguf_writer_set_i32(hk_gguf_writer *w, const char *key, int32_t v)
{
    set_scalar(w, key, HK_GGUF_INT32, &v);
}

void
hk_gguf_writer_set_u64(hk_gguf_writer *w, const char *key, uint64_t v)
{
    set_scalar(w, key, HK_GGUF_UINT64, &v);
}

void
hk_gguf_writer_set_f32(hk_gguf_writer *w, const char *key, float v)
{
    set_scalar(w, key, HK_GGUF_FLOAT32, &v);
}

void
hk_gguf_writer_set_bool(hk_gguf_writer *w, const char *key, bool v)
{
    hk_gguf_writer_set_scalar(w, key, HK_GGUF_BOOL, &v);
}

void
hk_gguf_writer_set_str(hk_gguf_writer *w, const char *key, const char *v)
{
    GByteArray *b = value_for(w, key, HK_GGUF_STRING);
    if (b)
        append_str(b, v, strlen(v));
}

void
hk_gguf_writer_set_str_array(hk_gguf_writer *w, const char *key, const char *const *v, uint64_t n)
{
    GByteArray *b = value_for(w, key, HK_GGUF_ARRAY);
    if (!b)
        return;
    append_u32(b, HK_GGUF_STRING);
    append_u64(b, n);
    for (uint64_t i = 0; i < n; i++)
        append_str(b, v[i], strlen(v[i]));
}

void
hk_gguf_writer_set_array(hk_gguf_writer *w, const char *key, hk_gguf_vtype type, const void *data, uint64_t n)
{
    if (!is_scalar(type)) {
        misuse(w, "hk_gguf_writer_set_array: key '%s' given element type %s, not a scalar type",
               key, hk_gguf_vtype_name(type));
        return;
    }
    GByteArray *b = value_for(w, key, HK_GGUF_ARRAY);
    if (!b)
        return;
    append_u32(b, type);
    append_u64(b, n);
    if (type != HK_GGUF_BOOL) {
        append(b, data, n * scalar_bytes[type]);
        return;
    }
    const bool *bools = data;
    for (uint64_t i = 0; i < n; i++) {
        uint8_t one = bools[i];
        append(b, &one, 1);
    }
}

void
hk_gguf_writer_copy_kvs(hk_gguf_writer *w, const hk_gguf *from)
{
    for (uint64_t i = 0; i < hk_gguf_n_kv(from); i++) {
        uint64_t size;
        const void *value = hk_gguf_kv_value(from, i, &size);
        hk_gguf_str key = hk_gguf_kv_key(from, i);
        /* the reader refuses keys with a NUL inside, so this is the whole key */
        char *ckey = g_strndup(key.ptr, key.len);
        GByteArray *b = value_for(w, ckey, hk_gguf_kv_type(from, i));
        if (b)
            append(b, value, size);
        g_free(ckey);
    }
}

/* ------------------------------------------------------------ tensors */

static int
tensor_size(hk_type type, uint32_t n_dims, const uint64_t *ne, uint64_t *ret_size, hk_error *err)
{
    uint64_t n = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] > INT64_MAX || (ne[d] != 0 && n > INT64_MAX / ne[d]))
            return hk_error_set(err, -EINVAL, "the element count overflows");
        n *= ne[d];
    }
    if (ne[0] % hk_type_block_elems(type) != 0)
        return hk_error_set(err, -EINVAL, "row length %" PRIu64 " is not a whole number of %s blocks",
                            ne[0], hk_type_name(type));
    if (n == 0) {
        *ret_size = 0;
        return 0;
    }
    uint64_t rows = n / ne[0];
    uint64_t row = hk_type_row_bytes(type, ne[0]);
    if (row == 0 || row > UINT64_MAX / rows)
        return hk_error_set(err, -EINVAL, "the size in bytes overflows");
    *ret_size = row * rows;
    return 0;
}

static int
check_tensor(hk_gguf_writer *w, const char *name, hk_type type, uint32_t n_dims,
             const uint64_t *ne, uint64_t *ret_size, hk_error *err)
{
    if (name[0] == '\0')
        return hk_error_set(err, -EINVAL, "empty tensor name");
    if (g_hash_table_contains(w->tensor_names, name))
        return hk_error_set(err, -EEXIST, "duplicate tensor name");
    if (!hk_type_is_known(type))
        return hk_error_set(err, -EINVAL, "unknown type id %u", (unsigned)type);
    if (n_dims < 1 || n_dims > HK_GGUF_MAX_DIMS)
        return hk_error_set(err, -EINVAL, "%" PRIu32 " dimensions (1 to %d are allowed)",
                            n_dims, HK_GGUF_MAX_DIMS);
    return tensor_size(type, n_dims, ne, ret_size, err);
}

int
hk_gguf_writer_add_tensor(hk_gguf_writer *w, const char *name, hk_type type,
                          uint32_t n_dims, const uint64_t *ne, const void *data, hk_error *err)
{
    uint64_t size = 0;
    int r = check_tensor(w, name, type, n_dims, ne, &size, err);
    if (r < 0) {
        hk_error_prefix(err, "cannot add tensor '%s': ", name);
        return r;
    }
    if (size > SIZE_MAX)
        return hk_error_set(err, -EFBIG, "cannot add tensor '%s': %" PRIu64 " bytes is too large",
                            name, size);

    void *copy = NULL;
    if (size > 0 && !(copy = g_try_malloc((size_t)size)))
        return hk_error_set(err, -ENOMEM, "cannot add tensor '%s': out of memory for %" PRIu64 " bytes",
                            name, size);
    if (size > 0)
        memcpy(copy, data, (size_t)size);

    writer_tensor *t = g_new0(writer_tensor, 1);
    t->name = g_strdup(name);
    t->type = type;
    t->n_dims = n_dims;
    for (uint32_t d = 0; d < HK_GGUF_MAX_DIMS; d++)
        t->ne[d] = d < n_dims ? ne[d] : 1;
    t->size = size;
    t->data = copy;
    g_ptr_array_add(w->tensors, t);
    g_hash_table_add(w->tensor_names, t->name);
    return 0;
}

/* ------------------------------------------------------------ writing */

/* Where the bytes go: a file, memory, or nowhere (to count them). */
typedef struct sink {
    FILE       *file;
    GByteArray *memory;
    uint64_t    written;
    int         error;    /* errno of the first failed write */
} sink;

static void
put(sink *s, const void *data, uint64_t n)
{
    /* an empty tensor may have no data at all, and fwrite and memcpy take
     * no NULL, even for nothing */
    if (n == 0)
        return;
    if (s->file && fwrite(data, 1, n, s->file) != n && s->error == 0)
        s->error = errno ? errno : EIO;
    if (s->memory)
        append(s->memory, data, n);
    s->written += n;
}

static void
put_u32(sink *s, uint32_t v)
{
    put(s, &v, sizeof v);
}

static void
put_u64(sink *s, uint64_t v)
{
    put(s, &v, sizeof v);
}

static void
put_str(sink *s, const char *str)
{
    put_u64(s, strlen(str));
    put(s, str, strlen(str));
}

static void
pad(sink *s, uint32_t alignment)
{
    static const uint8_t zeros[256];
    uint64_t n = (alignment - s->written % alignment) % alignment;
    while (n > 0) {
        uint64_t chunk = n < sizeof zeros ? n : sizeof zeros;
        put(s, zeros, chunk);
        n -= chunk;
    }
}

static int
writer_alignment(const hk_gguf_writer *w, uint32_t *ret, hk_error *err)
{
    const writer_kv *kv = g_hash_table_lookup(w->kv_index, "general.alignment");
    uint32_t a;

    *ret = HK_GGUF_DEFAULT_ALIGNMENT;
    if (!kv)
        return 0;
    if (kv->type != HK_GGUF_UINT32)
        return hk_error_set(err, -EINVAL, "general.alignment is a %s, not a uint32",
                            hk_gguf_vtype_name(kv->type));
    memcpy(&a, kv->value->data, sizeof a);
    if (a == 0 || (a & (a - 1)) != 0)
        return hk_error_set(err, -EINVAL, "general.alignment %" PRIu32 " is not a nonzero power of two", a);
    *ret = a;
    return 0;
}

/* Checks what the setters could not report, and places the tensors. */
static int
prepare(hk_gguf_writer *w, uint32_t *ret_alignment, hk_error *err)
{
    if (w->misuse.code != 0)
        return hk_error_set(err, w->misuse.code, "%s", w->misuse.message);
    int r = writer_alignment(w, ret_alignment, err);
    if (r < 0)
        return r;
    uint64_t offset = 0;
    for (guint i = 0; i < w->tensors->len; i++) {
        writer_tensor *t = g_ptr_array_index(w->tensors, i);
        t->offset = offset;
        offset = (offset + t->size + *ret_alignment - 1) / *ret_alignment * *ret_alignment;
    }
    return 0;
}

static void
emit(const hk_gguf_writer *w, uint32_t alignment, sink *s)
{
    put(s, GGUF_MAGIC, 4);
    put_u32(s, GGUF_VERSION);
    put_u64(s, w->tensors->len);
    put_u64(s, w->kvs->len);

    for (guint i = 0; i < w->kvs->len; i++) {
        const writer_kv *kv = g_ptr_array_index(w->kvs, i);
        put_str(s, kv->key);
        put_u32(s, kv->type);
        put(s, kv->value->data, kv->value->len);
    }
    for (guint i = 0; i < w->tensors->len; i++) {
        const writer_tensor *t = g_ptr_array_index(w->tensors, i);
        put_str(s, t->name);
        put_u32(s, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++)
            put_u64(s, t->ne[d]);
        put_u32(s, t->type);
        put_u64(s, t->offset);
    }
    /* without tensors there is no data section to align, as in the
     * vocabulary-only files llama.cpp ships */
    if (w->tensors->len > 0)
        pad(s, alignment);
    for (guint i = 0; i < w->tensors->len; i++) {
        const writer_tensor *t = g_ptr_array_index(w->tensors, i);
        put(s, t->data, t->size);
        pad(s, alignment);
    }
}

int
hk_gguf_writer_write_file(hk_gguf_writer *w, const char *path, hk_error *err)
{
    uint32_t alignment;
    int r = prepare(w, &alignment, err);
    if (r < 0) {
        hk_error_prefix(err, "%s: ", path);
        return r;
    }

    /* "e": O_CLOEXEC */
    sink s = { .file = fopen(path, "wbe") };
    if (!s.file)
        return hk_error_set(err, -errno, "%s: %s", path, strerror(errno));
    emit(w, alignment, &s);
    /* a full disk may only show when the buffer is flushed */
    if (fclose(s.file) != 0 && s.error == 0)
        s.error = errno;
    if (s.error != 0) {
        unlink(path);
        return hk_error_set(err, -s.error, "%s: write failed: %s", path, strerror(s.error));
    }
    return 0;
}

int
hk_gguf_writer_write_memory(hk_gguf_writer *w, void **ret_data, size_t *ret_size, hk_error *err)
{
    uint32_t alignment;
    int r = prepare(w, &alignment, err);
    if (r < 0)
        return r;

    sink counter = { 0 };
    emit(w, alignment, &counter);
    /* a GByteArray counts in guint */
    if (counter.written > G_MAXUINT)
        return hk_error_set(err, -EFBIG, "%" PRIu64 " bytes are too many to write to memory",
                            counter.written);

    sink s = { .memory = g_byte_array_sized_new((guint)counter.written) };
    emit(w, alignment, &s);
    *ret_size = s.memory->len;
    *ret_data = g_byte_array_free(s.memory, FALSE);
    return 0;
}
