/* gguf.c — the GGUF reader: map a file, validate every field against it,
 * index the keys and tensor names.
 *
 * One pass from the front of the file.  A count read from the file is
 * bounded by what the bytes left could hold before anything is allocated
 * for it, a length by the bytes left, and every error names the byte
 * offset of the field at fault.
 */
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "map-guard.h"

/* Tensor data and numeric arrays are handed out as they lie in the file,
 * and GGUF is little-endian. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "the GGUF reader hands out little-endian data as-is");

#define GGUF_MAGIC 0x46554747u  /* "GGUF" read as a little-endian uint32 */

/* The least bytes a kv and a tensor info can take (a one-byte key or name,
 * a one-byte value, one dimension): the bound on the header's counts. */
#define MIN_KV_BYTES     (8 + 1 + 4 + 1)
#define MIN_TENSOR_BYTES (8 + 1 + 4 + 8 + 4 + 8)

/* Where an array's elements start, after its element type and count. */
#define ARRAY_HEADER_BYTES (4 + 8)

static const uint8_t scalar_bytes[HK_GGUF_VTYPE_COUNT] = {
    [HK_GGUF_UINT8] = 1,   [HK_GGUF_INT8] = 1,
    [HK_GGUF_UINT16] = 2,  [HK_GGUF_INT16] = 2,
    [HK_GGUF_UINT32] = 4,  [HK_GGUF_INT32] = 4,  [HK_GGUF_FLOAT32] = 4,
    [HK_GGUF_BOOL] = 1,
    [HK_GGUF_UINT64] = 8,  [HK_GGUF_INT64] = 8,  [HK_GGUF_FLOAT64] = 8,
};

static const char *const vtype_names[HK_GGUF_VTYPE_COUNT] = {
    [HK_GGUF_UINT8] = "uint8",     [HK_GGUF_INT8] = "int8",
    [HK_GGUF_UINT16] = "uint16",   [HK_GGUF_INT16] = "int16",
    [HK_GGUF_UINT32] = "uint32",   [HK_GGUF_INT32] = "int32",
    [HK_GGUF_FLOAT32] = "float32", [HK_GGUF_BOOL] = "bool",
    [HK_GGUF_STRING] = "string",   [HK_GGUF_ARRAY] = "array",
    [HK_GGUF_UINT64] = "uint64",   [HK_GGUF_INT64] = "int64",
    [HK_GGUF_FLOAT64] = "float64",
};

/* ------------------------------------------------------------ the file */

typedef struct gguf_kv {
    hk_gguf_str   key;
    hk_gguf_vtype type;
    uint64_t      value_start;  /* file offset of the value, after its type */
    uint64_t      value_end;
    hk_gguf_str   str;          /* strings */
    hk_gguf_vtype elem_type;    /* arrays */
    uint64_t      count;        /* arrays */
    hk_gguf_str  *strs;         /* string arrays: (count) */
} gguf_kv;

struct hk_gguf {
    const uint8_t  *base;
    uint64_t        size;
    void           *map;          /* what to unmap; NULL for a caller's buffer */
    int             guard;        /* the map guard's slot, or -1 */
    uint32_t        version;
    uint32_t        alignment;
    uint64_t        data_offset;
    uint64_t        n_kv;
    gguf_kv        *kvs;          /* (n_kv) */
    uint64_t        n_tensors;
    hk_gguf_tensor *tensors;      /* (n_tensors) */
    GHashTable     *kv_index;     /* hk_gguf_str * key -> gguf_kv * */
    GHashTable     *tensor_index; /* hk_gguf_str * name -> hk_gguf_tensor * */
};

/* FNV-1a over the bytes: file strings are not NUL-terminated. */
static guint
str_hash(gconstpointer p)
{
    const hk_gguf_str *s = p;
    guint32 h = 2166136261u;
    for (uint64_t i = 0; i < s->len; i++)
        h = (h ^ (uint8_t)s->ptr[i]) * 16777619u;
    return h;
}

static gboolean
str_equal(gconstpointer a, gconstpointer b)
{
    const hk_gguf_str *x = a, *y = b;
    return x->len == y->len && (x->len == 0 || memcmp(x->ptr, y->ptr, x->len) == 0);
}

static hk_gguf *
gguf_new(const void *data, uint64_t size)
{
    hk_gguf *g = g_new0(hk_gguf, 1);
    g->base = data;
    g->size = size;
    g->alignment = HK_GGUF_DEFAULT_ALIGNMENT;
    g->guard = -1;
    g->kv_index = g_hash_table_new(str_hash, str_equal);
    g->tensor_index = g_hash_table_new(str_hash, str_equal);
    return g;
}

void
hk_gguf_close(hk_gguf *g)
{
    if (!g)
        return;
    for (uint64_t i = 0; g->kvs && i < g->n_kv; i++)
        g_free(g->kvs[i].strs);
    g_free(g->kvs);
    g_free(g->tensors);
    g_hash_table_destroy(g->kv_index);
    g_hash_table_destroy(g->tensor_index);
    hk_map_guard_remove(g->guard);
    if (g->map)
        munmap(g->map, g->size);
    g_free(g);
}

/* ------------------------------------------------------------ parsing */

typedef struct parser {
    hk_gguf  *g;
    uint64_t  pos;
    char      item[128];  /* what is being read, for messages: "kv 3 'general.name'" */
    hk_error *err;
} parser;

/* One span of tensor data, to check it against the file and its neighbours. */
typedef struct tensor_span {
    uint64_t        start;     /* file offsets */
    uint64_t        end;
    uint64_t        field_at;  /* where the tensor info gives its data offset */
    hk_gguf_tensor *tensor;
} tensor_span;

static uint32_t
load_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint64_t
load_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint64_t
bytes_left(const parser *p)
{
    return p->g->size - p->pos;
}

/* A name from the file, quoted for a message: cut to fit buf, anything
 * unprintable as '?', so a hostile name cannot garble the message. */
static void
quote_name(hk_gguf_str s, char *buf, size_t size)
{
    size_t max = size - 6;  /* room for the quotes, "…" and the NUL */
    size_t n = s.len < max ? (size_t)s.len : max;
    size_t o = 0;

    buf[o++] = '\'';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        buf[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (n < s.len) {
        memcpy(buf + o, "…", 3);
        o += 3;
    }
    buf[o++] = '\'';
    buf[o] = '\0';
}

static void
set_item(parser *p, const char *kind, uint64_t index, hk_gguf_str name)
{
    char quoted[56];
    quote_name(name, quoted, sizeof quoted);
    snprintf(p->item, sizeof p->item, "%s %" PRIu64 " %s", kind, index, quoted);
}

static int
truncated(parser *p, const char *what, uint64_t need)
{
    return hk_error_set(p->err, -EINVAL,
                        "truncated file: %s of %s at offset %" PRIu64 " needs %" PRIu64
                        " bytes, %" PRIu64 " left",
                        what, p->item, p->pos, need, bytes_left(p));
}

static int
read_u32(parser *p, const char *what, uint32_t *out)
{
    if (bytes_left(p) < 4)
        return truncated(p, what, 4);
    *out = load_u32(p->g->base + p->pos);
    p->pos += 4;
    return 0;
}

static int
read_u64(parser *p, const char *what, uint64_t *out)
{
    if (bytes_left(p) < 8)
        return truncated(p, what, 8);
    *out = load_u64(p->g->base + p->pos);
    p->pos += 8;
    return 0;
}

static int
read_str(parser *p, const char *what, hk_gguf_str *out)
{
    uint64_t at = p->pos, len = 0;
    int r = read_u64(p, what, &len);
    if (r < 0)
        return r;
    if (len > bytes_left(p))
        return hk_error_set(p->err, -EINVAL,
                            "%s of %s at offset %" PRIu64 " has length %" PRIu64
                            ", past the end of the file (%" PRIu64 " bytes left)",
                            what, p->item, at, len, bytes_left(p));
    out->ptr = (const char *)p->g->base + p->pos;
    out->len = len;
    p->pos += len;
    return 0;
}

/* Keys and tensor names are looked up by C strings: an empty one or one
 * with a NUL inside could never be found. */
static int
read_name(parser *p, const char *what, hk_gguf_str *out)
{
    uint64_t at = p->pos;
    int r = read_str(p, what, out);
    if (r < 0)
        return r;
    if (out->len == 0)
        return hk_error_set(p->err, -EINVAL, "empty %s in %s at offset %" PRIu64,
                            what, p->item, at);
    if (memchr(out->ptr, '\0', out->len))
        return hk_error_set(p->err, -EINVAL, "%s of %s at offset %" PRIu64 " contains a NUL byte",
                            what, p->item, at);
    return 0;
}

static int
parse_header(parser *p, uint64_t *ret_n_tensors, uint64_t *ret_n_kv)
{
    uint32_t magic, version;
    uint64_t n_tensors, n_kv;
    int r;

    snprintf(p->item, sizeof p->item, "the header");
    if ((r = read_u32(p, "the magic", &magic)) < 0)
        return r;
    if (magic != GGUF_MAGIC)
        return hk_error_set(p->err, -EINVAL,
                            "bad magic 0x%08" PRIx32 " at offset 0: not a GGUF file", magic);
    if ((r = read_u32(p, "the version", &version)) < 0)
        return r;
    if (version != 2 && version != 3) {
        uint32_t swapped = GUINT32_SWAP_LE_BE(version);
        if (swapped == 2 || swapped == 3)
            return hk_error_set(p->err, -ENOTSUP,
                                "big-endian GGUF (version field at offset 4) is not supported");
        return hk_error_set(p->err, -ENOTSUP,
                            "unsupported GGUF version %" PRIu32 " at offset 4 (2 and 3 are supported)",
                            version);
    }
    p->g->version = version;
    if ((r = read_u64(p, "the tensor count", &n_tensors)) < 0 ||
        (r = read_u64(p, "the kv count", &n_kv)) < 0)
        return r;
    if (n_kv > bytes_left(p) / MIN_KV_BYTES)
        return hk_error_set(p->err, -EINVAL,
                            "kv count %" PRIu64 " at offset 16 is more than the %" PRIu64
                            " bytes left could hold", n_kv, bytes_left(p));
    *ret_n_tensors = n_tensors;
    *ret_n_kv = n_kv;
    return 0;
}

/* Steps over count scalars of type (the caller bounded count); bools must
 * be 0 or 1. */
static int
skip_scalars(parser *p, hk_gguf_vtype type, uint64_t count)
{
    uint64_t size = count * scalar_bytes[type];

    if (size > bytes_left(p))
        return truncated(p, "the value", size);
    for (uint64_t i = 0; type == HK_GGUF_BOOL && i < count; i++) {
        uint8_t b = p->g->base[p->pos + i];
        if (b > 1)
            return hk_error_set(p->err, -EINVAL,
                                "bool %u of %s at offset %" PRIu64 " is neither 0 nor 1",
                                b, p->item, p->pos + i);
    }
    p->pos += size;
    return 0;
}

static int
parse_string_array(parser *p, gguf_kv *kv)
{
    if (kv->count == 0)
        return 0;
    kv->strs = g_try_new(hk_gguf_str, kv->count);
    if (!kv->strs)
        return hk_error_set(p->err, -ENOMEM, "out of memory for the %" PRIu64 " strings of %s",
                            kv->count, p->item);
    for (uint64_t i = 0; i < kv->count; i++) {
        int r = read_str(p, "an element", &kv->strs[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

static int
parse_array(parser *p, gguf_kv *kv)
{
    uint64_t type_at = p->pos, count_at, count;
    uint32_t elem;
    int r;

    if ((r = read_u32(p, "the array element type", &elem)) < 0)
        return r;
    if (elem >= HK_GGUF_VTYPE_COUNT)
        return hk_error_set(p->err, -EINVAL,
                            "unknown array element type %" PRIu32 " of %s at offset %" PRIu64,
                            elem, p->item, type_at);
    if (elem == HK_GGUF_ARRAY)
        return hk_error_set(p->err, -ENOTSUP,
                            "nested array in %s at offset %" PRIu64 " is not supported",
                            p->item, type_at);
    count_at = p->pos;
    if ((r = read_u64(p, "the array count", &count)) < 0)
        return r;
    /* a string takes at least its 8-byte length */
    uint64_t least = elem == HK_GGUF_STRING ? 8 : scalar_bytes[elem];
    if (count > bytes_left(p) / least)
        return hk_error_set(p->err, -EINVAL,
                            "array count %" PRIu64 " of %s at offset %" PRIu64
                            " is more than the %" PRIu64 " bytes left could hold",
                            count, p->item, count_at, bytes_left(p));
    kv->elem_type = elem;
    kv->count = count;
    if (elem == HK_GGUF_STRING)
        return parse_string_array(p, kv);
    return skip_scalars(p, elem, count);
}

static int
parse_kv(parser *p, uint64_t i)
{
    gguf_kv *kv = &p->g->kvs[i];
    uint64_t key_at = p->pos, type_at;
    uint32_t type;
    int r;

    snprintf(p->item, sizeof p->item, "kv %" PRIu64, i);
    if ((r = read_name(p, "key", &kv->key)) < 0)
        return r;
    set_item(p, "kv", i, kv->key);
    if (g_hash_table_contains(p->g->kv_index, &kv->key))
        return hk_error_set(p->err, -EINVAL, "duplicate key: %s at offset %" PRIu64,
                            p->item, key_at);
    type_at = p->pos;
    if ((r = read_u32(p, "the value type", &type)) < 0)
        return r;
    if (type >= HK_GGUF_VTYPE_COUNT)
        return hk_error_set(p->err, -EINVAL,
                            "unknown value type %" PRIu32 " of %s at offset %" PRIu64,
                            type, p->item, type_at);
    kv->type = type;
    kv->value_start = p->pos;
    if (type == HK_GGUF_STRING)
        r = read_str(p, "the value", &kv->str);
    else if (type == HK_GGUF_ARRAY)
        r = parse_array(p, kv);
    else
        r = skip_scalars(p, type, 1);
    if (r < 0)
        return r;
    kv->value_end = p->pos;
    g_hash_table_insert(p->g->kv_index, &kv->key, kv);
    return 0;
}

static int
parse_kvs(parser *p, uint64_t n_kv)
{
    hk_gguf *g = p->g;

    if (n_kv > 0 && !(g->kvs = g_try_new0(gguf_kv, n_kv)))
        return hk_error_set(p->err, -ENOMEM, "out of memory for %" PRIu64 " kvs", n_kv);
    g->n_kv = n_kv;
    for (uint64_t i = 0; i < n_kv; i++) {
        int r = parse_kv(p, i);
        if (r < 0)
            return r;
    }
    return 0;
}

static const gguf_kv *
lookup(const hk_gguf *g, const char *key)
{
    hk_gguf_str k = { key, strlen(key) };
    return g_hash_table_lookup(g->kv_index, &k);
}

static int
read_alignment(parser *p)
{
    const gguf_kv *kv = lookup(p->g, "general.alignment");
    uint32_t alignment;

    if (!kv)
        return 0;
    if (kv->type != HK_GGUF_UINT32)
        return hk_error_set(p->err, -EINVAL,
                            "general.alignment at offset %" PRIu64 " is a %s, not a uint32",
                            kv->value_start - 4, vtype_names[kv->type]);
    alignment = load_u32(p->g->base + kv->value_start);
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        return hk_error_set(p->err, -EINVAL,
                            "general.alignment %" PRIu32 " at offset %" PRIu64
                            " is not a nonzero power of two", alignment, kv->value_start);
    p->g->alignment = alignment;
    return 0;
}

static int
read_dims(parser *p, hk_gguf_tensor *t)
{
    uint64_t dims_at = p->pos;
    int r;

    if ((r = read_u32(p, "the dimension count", &t->n_dims)) < 0)
        return r;
    if (t->n_dims < 1 || t->n_dims > HK_GGUF_MAX_DIMS)
        return hk_error_set(p->err, -EINVAL,
                            "%s at offset %" PRIu64 " has %" PRIu32 " dimensions (1 to %d are allowed)",
                            p->item, dims_at, t->n_dims, HK_GGUF_MAX_DIMS);
    for (uint32_t d = 0; d < HK_GGUF_MAX_DIMS; d++)
        t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t ne_at = p->pos;
        if ((r = read_u64(p, "a dimension", &t->ne[d])) < 0)
            return r;
        /* ggml counts in int64_t */
        if (t->ne[d] > INT64_MAX)
            return hk_error_set(p->err, -EINVAL,
                                "dimension %" PRIu32 " of %s at offset %" PRIu64 " is %" PRIu64
                                ", out of range", d, p->item, ne_at, t->ne[d]);
    }
    return 0;
}

/* The element count must fit ggml's int64_t, the byte size a uint64_t. */
static int
size_tensor(parser *p, hk_gguf_tensor *t, uint64_t dims_at)
{
    uint64_t n = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if (t->ne[d] != 0 && n > INT64_MAX / t->ne[d])
            return hk_error_set(p->err, -EINVAL,
                                "%s at offset %" PRIu64 " has more elements than int64 holds: "
                                "the element count overflows", p->item, dims_at);
        n *= t->ne[d];
    }

    uint64_t block_elems = hk_type_block_elems(t->type);
    if (t->ne[0] % block_elems != 0)
        return hk_error_set(p->err, -EINVAL,
                            "row length %" PRIu64 " of %s at offset %" PRIu64
                            " is not a whole number of %s blocks (%" PRIu64 " elements)",
                            t->ne[0], p->item, dims_at + 4, hk_type_name(t->type), block_elems);
    if (n == 0) {
        t->size = 0;
        return 0;
    }
    uint64_t blocks = t->ne[0] / block_elems, rows = n / t->ne[0];
    uint64_t block_bytes = hk_type_block_bytes(t->type);
    if (blocks > UINT64_MAX / block_bytes || blocks * block_bytes > UINT64_MAX / rows)
        return hk_error_set(p->err, -EINVAL,
                            "%s at offset %" PRIu64 " has a size in bytes that overflows",
                            p->item, dims_at);
    t->size = blocks * block_bytes * rows;
    return 0;
}

static int
parse_tensor_info(parser *p, uint64_t i, tensor_span *span)
{
    hk_gguf_tensor *t = &p->g->tensors[i];
    uint64_t name_at = p->pos, dims_at, type_at;
    uint32_t type;
    int r;

    snprintf(p->item, sizeof p->item, "tensor %" PRIu64, i);
    if ((r = read_name(p, "name", &t->name)) < 0)
        return r;
    set_item(p, "tensor", i, t->name);
    if (g_hash_table_contains(p->g->tensor_index, &t->name))
        return hk_error_set(p->err, -EINVAL, "duplicate tensor name: %s at offset %" PRIu64,
                            p->item, name_at);
    dims_at = p->pos;
    if ((r = read_dims(p, t)) < 0)
        return r;
    type_at = p->pos;
    if ((r = read_u32(p, "the type", &type)) < 0)
        return r;
    if (!hk_type_is_known(type))
        return hk_error_set(p->err, -EINVAL,
                            "%s at offset %" PRIu64 " has unknown type id %" PRIu32,
                            p->item, type_at, type);
    t->type = type;
    if ((r = size_tensor(p, t, dims_at)) < 0)
        return r;
    span->field_at = p->pos;
    if ((r = read_u64(p, "the data offset", &t->offset)) < 0)
        return r;
    if (t->offset % p->g->alignment != 0)
        return hk_error_set(p->err, -EINVAL,
                            "data offset %" PRIu64 " of %s at offset %" PRIu64
                            " is not a multiple of the alignment %" PRIu32,
                            t->offset, p->item, span->field_at, p->g->alignment);
    span->tensor = t;
    g_hash_table_insert(p->g->tensor_index, &t->name, t);
    return 0;
}

static int
span_compare(const void *a, const void *b)
{
    const tensor_span *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* Every tensor's data inside the file and no two overlapping. */
static int
place_tensors(parser *p, tensor_span *spans, uint64_t n)
{
    hk_gguf *g = p->g;
    uint64_t room = g->data_offset <= g->size ? g->size - g->data_offset : 0;

    for (uint64_t i = 0; i < n; i++) {
        hk_gguf_tensor *t = spans[i].tensor;
        if (g->data_offset > g->size || t->offset > room || t->size > room - t->offset) {
            char name[56];
            quote_name(t->name, name, sizeof name);
            return hk_error_set(p->err, -EINVAL,
                                "data of tensor %s (%" PRIu64 " bytes at data offset %" PRIu64
                                ", given at offset %" PRIu64 ") runs past the end of the file (%"
                                PRIu64 " bytes, data section at %" PRIu64 ")",
                                name, t->size, t->offset, spans[i].field_at, g->size,
                                g->data_offset);
        }
        spans[i].start = g->data_offset + t->offset;
        spans[i].end = spans[i].start + t->size;
        t->data = g->base + spans[i].start;
    }

    /* spans is NULL without tensors, and qsort wants a pointer even then */
    if (n > 1)
        qsort(spans, n, sizeof *spans, span_compare);
    for (uint64_t i = 1; i < n; i++) {
        if (spans[i - 1].end > spans[i].start) {
            char a[56], b[56];
            quote_name(spans[i - 1].tensor->name, a, sizeof a);
            quote_name(spans[i].tensor->name, b, sizeof b);
            return hk_error_set(p->err, -EINVAL, "data of tensors %s and %s overlap at offset %" PRIu64,
                                a, b, spans[i].start);
        }
    }
    return 0;
}

static int
parse_tensors(parser *p, uint64_t n_tensors)
{
    hk_gguf *g = p->g;
    tensor_span *spans = NULL;
    int r = 0;

    if (n_tensors > bytes_left(p) / MIN_TENSOR_BYTES)
        return hk_error_set(p->err, -EINVAL,
                            "tensor count %" PRIu64 " at offset 8 is more than the %" PRIu64
                            " bytes left could hold", n_tensors, bytes_left(p));
    if (n_tensors > 0) {
        g->tensors = g_try_new0(hk_gguf_tensor, n_tensors);
        spans = g_try_new0(tensor_span, n_tensors);
        if (!g->tensors || !spans) {
            g_free(spans);
            return hk_error_set(p->err, -ENOMEM, "out of memory for %" PRIu64 " tensors", n_tensors);
        }
    }
    g->n_tensors = n_tensors;
    for (uint64_t i = 0; i < n_tensors && r == 0; i++)
        r = parse_tensor_info(p, i, &spans[i]);
    if (r == 0) {
        /* the data section starts at the first aligned offset after the infos */
        g->data_offset = (p->pos + g->alignment - 1) / g->alignment * g->alignment;
        r = place_tensors(p, spans, n_tensors);
    }
    g_free(spans);
    return r;
}

static int
parse(hk_gguf *g, hk_error *err)
{
    parser p = { .g = g, .err = err };
    uint64_t n_tensors = 0, n_kv = 0;
    int r;

    if ((r = parse_header(&p, &n_tensors, &n_kv)) < 0 ||
        (r = parse_kvs(&p, n_kv)) < 0 ||
        (r = read_alignment(&p)) < 0 ||
        (r = parse_tensors(&p, n_tensors)) < 0)
        return r;
    return 0;
}

int
hk_gguf_open_memory(const void *data, size_t size, hk_gguf **ret, hk_error *err)
{
    hk_gguf *g = gguf_new(size > 0 ? data : "", size);
    int r = parse(g, err);
    if (r < 0) {
        hk_gguf_close(g);
        return r;
    }
    *ret = g;
    return 0;
}

static int
map_file(const char *path, void **ret_map, uint64_t *ret_size, hk_error *err)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hk_error_set(err, -errno, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return hk_error_set(err, -e, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return hk_error_set(err, -EINVAL, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return hk_error_set(err, -EFBIG, "%s: too large to map", path);
    }
    void *map = NULL;
    if (st.st_size > 0) {
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return hk_error_set(err, -e, "%s: cannot map: %s", path, strerror(e));
        }
    }
    close(fd);
    *ret_map = map;
    *ret_size = (uint64_t)st.st_size;
    return 0;
}

int
hk_gguf_open(const char *path, hk_gguf **ret, hk_error *err)
{
    void *map = NULL;
    uint64_t size = 0;
    int r = map_file(path, &map, &size, err);
    if (r < 0)
        return r;

    hk_gguf *g = gguf_new(map ? map : "", size);
    g->map = map;
    g->guard = hk_map_guard_add(map, size);
    r = parse(g, err);
    if (r < 0) {
        hk_error_prefix(err, "%s: ", path);
        hk_gguf_close(g);
        return r;
    }
    *ret = g;
    return 0;
}

/* ------------------------------------------------------------ the header */

uint32_t
hk_gguf_version(const hk_gguf *g)
{
    return g->version;
}

uint64_t
hk_gguf_file_size(const hk_gguf *g)
{
    return g->size;
}

bool
hk_gguf_damaged(const hk_gguf *g)
{
    return hk_map_guard_damaged(g->guard);
}

uint32_t
hk_gguf_alignment(const hk_gguf *g)
{
    return g->alignment;
}

uint64_t
hk_gguf_data_offset(const hk_gguf *g)
{
    return g->data_offset;
}

const void *
hk_gguf_base(const hk_gguf *g)
{
    return g->base;
}

/* ------------------------------------------------------------ metadata */

uint64_t
hk_gguf_n_kv(const hk_gguf *g)
{
    return g->n_kv;
}

int64_t
hk_gguf_find_key(const hk_gguf *g, const char *key)
{
    const gguf_kv *kv = lookup(g, key);
    return kv ? kv - g->kvs : -1;
}

hk_gguf_str
hk_gguf_kv_key(const hk_gguf *g, uint64_t i)
{
    return i < g->n_kv ? g->kvs[i].key : (hk_gguf_str){ "", 0 };
}

hk_gguf_vtype
hk_gguf_kv_type(const hk_gguf *g, uint64_t i)
{
    return i < g->n_kv ? g->kvs[i].type : HK_GGUF_VTYPE_COUNT;
}

const void *
hk_gguf_kv_value(const hk_gguf *g, uint64_t i, uint64_t *ret_size)
{
    if (i >= g->n_kv)
        return NULL;
    *ret_size = g->kvs[i].value_end - g->kvs[i].value_start;
    return g->base + g->kvs[i].value_start;
}

const char *
hk_gguf_vtype_name(hk_gguf_vtype type)
{
    return (unsigned)type < HK_GGUF_VTYPE_COUNT ? vtype_names[type] : "unknown";
}

/* An integer of any width and sign, to check it fits the type asked for. */
typedef struct int_value {
    bool     negative;
    uint64_t magnitude;
} int_value;

static int_value
signed_value(int64_t v)
{
    return (int_value){ v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v };
}

static bool
key_int(const hk_gguf *g, const char *key, int_value *out)
{
    const gguf_kv *kv = lookup(g, key);
    if (!kv)
        return false;
    const uint8_t *v = g->base + kv->value_start;
    switch (kv->type) {
    case HK_GGUF_UINT8:  *out = (int_value){ false, v[0] }; return true;
    case HK_GGUF_UINT16: { uint16_t x; memcpy(&x, v, 2); *out = (int_value){ false, x }; return true; }
    case HK_GGUF_UINT32: *out = (int_value){ false, load_u32(v) }; return true;
    case HK_GGUF_UINT64: *out = (int_value){ false, load_u64(v) }; return true;
    case HK_GGUF_INT8:   *out = signed_value((int8_t)v[0]); return true;
    case HK_GGUF_INT16:  { int16_t x; memcpy(&x, v, 2); *out = signed_value(x); return true; }
    case HK_GGUF_INT32:  *out = signed_value((int32_t)load_u32(v)); return true;
    case HK_GGUF_INT64:  *out = signed_value((int64_t)load_u64(v)); return true;
    default:             return false;
    }
}

bool
hk_gguf_get_u32(const hk_gguf *g, const char *key, uint32_t *out)
{
    int_value v;
    if (!key_int(g, key, &v) || v.negative || v.magnitude > UINT32_MAX)
        return false;
    *out = (uint32_t)v.magnitude;
    return true;
}

bool
hk_gguf_get_i32(const hk_gguf *g, const char *key, int32_t *out)
{
    int_value v;
    if (!key_int(g, key, &v) || v.magnitude > (v.negative ? (uint64_t)INT32_MAX + 1 : INT32_MAX))
        return false;
    *out = v.negative ? (int32_t)(-(int64_t)v.magnitude) : (int32_t)v.magnitude;
    return true;
}

bool
hk_gguf_get_u64(const hk_gguf *g, const char *key, uint64_t *out)
{
    int_value v;
    if (!key_int(g, key, &v) || v.negative)
        return false;
    *out = v.magnitude;
    return true;
}

bool
hk_gguf_get_f32(const hk_gguf *g, const char *key, float *out)
{
    const gguf_kv *kv = lookup(g, key);
    if (!kv)
        return false;
    if (kv->type == HK_GGUF_FLOAT32) {
        memcpy(out, g->base + kv->value_start, sizeof *out);
        return true;
    }
    if (kv->type == HK_GGUF_FLOAT64) {
        double d;
        memcpy(&d, g->base + kv->value_start, sizeof d);
        /* converting a finite double beyond float's range is undefined */
        if (!isinf(d) && (d > FLT_MAX || d < -FLT_MAX))
            return false;
        *out = (float)d;
        return true;
    }
    return false;
}

bool
hk_gguf_get_bool(const hk_gguf *g, const char *key, bool *out)
{
    const gguf_kv *kv = lookup(g, key);
    if (!kv || kv->type != HK_GGUF_BOOL)
        return false;
    *out = g->base[kv->value_start] != 0;
    return true;
}

bool
hk_gguf_get_str(const hk_gguf *g, const char *key, hk_gguf_str *out)
{
    const gguf_kv *kv = lookup(g, key);
    if (!kv || kv->type != HK_GGUF_STRING)
        return false;
    *out = kv->str;
    return true;
}

bool
hk_gguf_get_array(const hk_gguf *g, const char *key, hk_gguf_vtype *ret_type, uint64_t *ret_count)
{
    const gguf_kv *kv = lookup(g, key);
    if (!kv || kv->type != HK_GGUF_ARRAY)
        return false;
    *ret_type = kv->elem_type;
    *ret_count = kv->count;
    return true;
}

bool
hk_gguf_array_str(const hk_gguf *g, const char *key, uint64_t i, hk_gguf_str *out)
{
    const gguf_kv *kv = lookup(g, key);
    if (!kv || kv->type != HK_GGUF_ARRAY || kv->elem_type != HK_GGUF_STRING || i >= kv->count)
        return false;
    *out = kv->strs[i];
    return true;
}

const void *
hk_gguf_array_data(const hk_gguf *g, const char *key, hk_gguf_vtype type, uint64_t *ret_count)
{
    const gguf_kv *kv = lookup(g, key);
    if (!kv || kv->type != HK_GGUF_ARRAY || kv->elem_type != type || scalar_bytes[type] == 0)
        return NULL;
    *ret_count = kv->count;
    return g->base + kv->value_start + ARRAY_HEADER_BYTES;
}

/* A string as a one-line C-like literal.  Only the first limit bytes are
 * escaped: the caller shows no more than that. */
static void
append_quoted(GString *out, hk_gguf_str s, size_t limit)
{
    uint64_t n = s.len < limit ? s.len : limit;

    g_string_append_c(out, '"');
    for (uint64_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '"' || c == '\\')
            g_string_append_printf(out, "\\%c", c);
        else if (c == '\n')
            g_string_append(out, "\\n");
        else if (c == '\t')
            g_string_append(out, "\\t");
        else if (c < 0x20 || c == 0x7f)
            g_string_append_printf(out, "\\x%02x", c);
        else
            g_string_append_c(out, (char)c);
    }
    g_string_append_c(out, '"');
}

static void
append_scalar(GString *out, hk_gguf_vtype type, const uint8_t *v)
{
    switch (type) {
    case HK_GGUF_UINT8:  g_string_append_printf(out, "%u", v[0]); break;
    case HK_GGUF_INT8:   g_string_append_printf(out, "%d", (int8_t)v[0]); break;
    case HK_GGUF_UINT16: { uint16_t x; memcpy(&x, v, 2); g_string_append_printf(out, "%u", x); break; }
    case HK_GGUF_INT16:  { int16_t x; memcpy(&x, v, 2); g_string_append_printf(out, "%d", x); break; }
    case HK_GGUF_UINT32: g_string_append_printf(out, "%" PRIu32, load_u32(v)); break;
    case HK_GGUF_INT32:  g_string_append_printf(out, "%" PRId32, (int32_t)load_u32(v)); break;
    case HK_GGUF_UINT64: g_string_append_printf(out, "%" PRIu64, load_u64(v)); break;
    case HK_GGUF_INT64:  g_string_append_printf(out, "%" PRId64, (int64_t)load_u64(v)); break;
    case HK_GGUF_FLOAT32: { float f; memcpy(&f, v, 4); g_string_append_printf(out, "%g", f); break; }
    case HK_GGUF_FLOAT64: { double d; memcpy(&d, v, 8); g_string_append_printf(out, "%g", d); break; }
    case HK_GGUF_BOOL:   g_string_append(out, v[0] ? "true" : "false"); break;
    default:             break;
    }
}

/* Copy text into buf, cut at a UTF-8 character boundary and ended with "…"
 * when it does not fit. */
static void
copy_cut(char *buf, size_t size, const GString *text)
{
    if (text->len < size) {
        memcpy(buf, text->str, text->len + 1);
        return;
    }
    size_t cut = size > 4 ? size - 4 : 0;
    while (cut > 0 && ((unsigned char)text->str[cut] & 0xc0) == 0x80)
        cut--;
    memcpy(buf, text->str, cut);
    if (size > 4) {
        memcpy(buf + cut, "…", 3);
        cut += 3;
    }
    buf[cut] = '\0';
}

void
hk_gguf_kv_format(const hk_gguf *g, uint64_t i, char *buf, size_t size)
{
    if (size == 0)
        return;
    if (i >= g->n_kv) {
        buf[0] = '\0';
        return;
    }

    const gguf_kv *kv = &g->kvs[i];
    GString *text = g_string_new(NULL);
    if (kv->type == HK_GGUF_STRING)
        append_quoted(text, kv->str, size);
    else if (kv->type == HK_GGUF_ARRAY)
        g_string_append_printf(text, "[array of %" PRIu64 " %s]", kv->count, vtype_names[kv->elem_type]);
    else
        append_scalar(text, kv->type, g->base + kv->value_start);
    copy_cut(buf, size, text);
    g_string_free(text, TRUE);
}

/* ------------------------------------------------------------ tensors */

uint64_t
hk_gguf_n_tensors(const hk_gguf *g)
{
    return g->n_tensors;
}

const hk_gguf_tensor *
hk_gguf_tensor_at(const hk_gguf *g, uint64_t i)
{
    return i < g->n_tensors ? &g->tensors[i] : NULL;
}

const hk_gguf_tensor *
hk_gguf_find_tensor(const hk_gguf *g, const char *name)
{
    hk_gguf_str k = { name, strlen(name) };
    return g_hash_table_lookup(g->tensor_index, &k);
}

/* ------------------------------------------------------------ strings */

bool
hk_gguf_str_eq(hk_gguf_str s, const char *cstr)
{
    size_t n = strlen(cstr);
    return s.len == n && (n == 0 || memcmp(s.ptr, cstr, n) == 0);
}

char *
hk_gguf_str_dup(hk_gguf_str s)
{
    if (s.len >= SIZE_MAX)
        return NULL;
    char *copy = malloc((size_t)s.len + 1);
    if (!copy)
        return NULL;
    if (s.len > 0)
        memcpy(copy, s.ptr, (size_t)s.len);
    copy[s.len] = '\0';
    return copy;
}
