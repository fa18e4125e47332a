/* gguf.h — reading and writing GGUF model files (versions 2 and 3).
 *
 * The reader maps the file and validates every count, length, offset and
 * size against the mapping before use; after hk_gguf_open succeeds, every
 * accessor below is safe on any file.  Strings in GGUF are not
 * NUL-terminated: they come back as hk_gguf_str (pointer into the mapping
 * plus length).  Keys and tensor names must be non-empty and free of NUL
 * bytes, since they are looked up by C strings; a dimension may be 0, as
 * in ggml.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "types.h"

typedef enum hk_gguf_vtype {
    HK_GGUF_UINT8   = 0,
    HK_GGUF_INT8    = 1,
    HK_GGUF_UINT16  = 2,
    HK_GGUF_INT16   = 3,
    HK_GGUF_UINT32  = 4,
    HK_GGUF_INT32   = 5,
    HK_GGUF_FLOAT32 = 6,
    HK_GGUF_BOOL    = 7,
    HK_GGUF_STRING  = 8,
    HK_GGUF_ARRAY   = 9,
    HK_GGUF_UINT64  = 10,
    HK_GGUF_INT64   = 11,
    HK_GGUF_FLOAT64 = 12,
    HK_GGUF_VTYPE_COUNT
} hk_gguf_vtype;

#define HK_GGUF_MAX_DIMS 4
#define HK_GGUF_DEFAULT_ALIGNMENT 32

typedef struct hk_gguf_str {
    const char *ptr;   /* not NUL-terminated */
    uint64_t    len;
} hk_gguf_str;

typedef struct hk_gguf_tensor {
    hk_gguf_str name;
    uint32_t    n_dims;
    uint64_t    ne[HK_GGUF_MAX_DIMS];  /* ne[0] is the row length; unused dims are 1 */
    hk_type     type;
    uint64_t    offset;                /* from the start of the data section */
    uint64_t    size;                  /* bytes */
    const void *data;                  /* inside the mapping */
} hk_gguf_tensor;

typedef struct hk_gguf hk_gguf;

/* ---------------------------------------------------------------- reading */

int  hk_gguf_open(const char *path, hk_gguf **ret, hk_error *err);
/* Parse a buffer the caller keeps alive (tests, the fuzzer). */
int  hk_gguf_open_memory(const void *data, size_t size, hk_gguf **ret, hk_error *err);
void hk_gguf_close(hk_gguf *g);    /* accepts NULL */

uint32_t    hk_gguf_version(const hk_gguf *g);
uint64_t    hk_gguf_file_size(const hk_gguf *g);
/* Whether reading the mapped file found it shorter than when it was
 * opened: another program truncated it.  With hk_map_guard_install
 * (map-guard.h) such reads give zeros instead of killing the process. */
bool        hk_gguf_damaged(const hk_gguf *g);
uint32_t    hk_gguf_alignment(const hk_gguf *g);
uint64_t    hk_gguf_data_offset(const hk_gguf *g);
const void *hk_gguf_base(const hk_gguf *g);

/* Metadata key/value pairs, by index or by key. */
uint64_t      hk_gguf_n_kv(const hk_gguf *g);
int64_t       hk_gguf_find_key(const hk_gguf *g, const char *key); /* -1 when absent */
hk_gguf_str   hk_gguf_kv_key(const hk_gguf *g, uint64_t i);
hk_gguf_vtype hk_gguf_kv_type(const hk_gguf *g, uint64_t i);
/* The value of the kv at index i as the file stores it, after its type
 * field (what the writer copies); NULL for an index out of range. */
const void   *hk_gguf_kv_value(const hk_gguf *g, uint64_t i, uint64_t *ret_size);

/* "uint32", "string", "array"…; "unknown" for an id out of range. */
const char   *hk_gguf_vtype_name(hk_gguf_vtype type);

/* Scalars.  Each returns false (leaving *out alone) when the key is absent
 * or its value cannot be represented in the requested type: the integer
 * getters accept any integer type whose value fits. */
bool hk_gguf_get_u32(const hk_gguf *g, const char *key, uint32_t *out);
bool hk_gguf_get_i32(const hk_gguf *g, const char *key, int32_t *out);
bool hk_gguf_get_u64(const hk_gguf *g, const char *key, uint64_t *out);
bool hk_gguf_get_f32(const hk_gguf *g, const char *key, float *out);  /* float32 or float64 */
bool hk_gguf_get_bool(const hk_gguf *g, const char *key, bool *out);
bool hk_gguf_get_str(const hk_gguf *g, const char *key, hk_gguf_str *out);

/* Arrays.  hk_gguf_get_array gives the element type and count; the element
 * accessors return false on a wrong type or index. */
bool hk_gguf_get_array(const hk_gguf *g, const char *key, hk_gguf_vtype *ret_type, uint64_t *ret_count);
bool hk_gguf_array_str(const hk_gguf *g, const char *key, uint64_t i, hk_gguf_str *out);
/* Numeric arrays whose element is stored as-is in the file: a pointer to the
 * first element (possibly unaligned: read with memcpy) or NULL. */
const void *hk_gguf_array_data(const hk_gguf *g, const char *key, hk_gguf_vtype type, uint64_t *ret_count);

/* Scalar value of the kv at index i, formatted for people ("32000",
 * "\"llama\"", "[array of 32000 string]"). Writes at most size bytes. */
void hk_gguf_kv_format(const hk_gguf *g, uint64_t i, char *buf, size_t size);

/* Tensors. */
uint64_t              hk_gguf_n_tensors(const hk_gguf *g);
const hk_gguf_tensor *hk_gguf_tensor_at(const hk_gguf *g, uint64_t i);
const hk_gguf_tensor *hk_gguf_find_tensor(const hk_gguf *g, const char *name); /* NULL when absent */

bool hk_gguf_str_eq(hk_gguf_str s, const char *cstr);
/* A NUL-terminated copy the caller frees. */
char *hk_gguf_str_dup(hk_gguf_str s);

/* ---------------------------------------------------------------- writing */

typedef struct hk_gguf_writer hk_gguf_writer;

hk_gguf_writer *hk_gguf_writer_new(void);
void            hk_gguf_writer_free(hk_gguf_writer *w);  /* accepts NULL */

/* Later sets of the same key replace the earlier value. */
void hk_gguf_writer_set_u32(hk_gguf_writer *w, const char *key, uint32_t v);
void hk_gguf_writer_set_i32(hk_gguf_writer *w, const char *key, int32_t v);
void hk_gguf_writer_set_u64(hk_gguf_writer *w, const char *key, uint64_t v);
void hk_gguf_writer_set_f32(hk_gguf_writer *w, const char *key, float v);
void hk_gguf_writer_set_bool(hk_gguf_writer *w, const char *key, bool v);
void hk_gguf_writer_set_str(hk_gguf_writer *w, const char *key, const char *v);
/* A scalar of any type but string and array, read from value (a bool, a
 * uint8_t, … a double as the type says). */
void hk_gguf_writer_set_scalar(hk_gguf_writer *w, const char *key, hk_gguf_vtype type, const void *value);
void hk_gguf_writer_set_str_array(hk_gguf_writer *w, const char *key, const char *const *v, uint64_t n);
/* Numeric array of any scalar element type, copied from data. */
void hk_gguf_writer_set_array(hk_gguf_writer *w, const char *key, hk_gguf_vtype type, const void *data, uint64_t n);
/* Copy every key/value of a file (the quantizer keeps the metadata). */
void hk_gguf_writer_copy_kvs(hk_gguf_writer *w, const hk_gguf *from);

/* Adds a tensor; data (hk_type_row_bytes(type, ne[0]) * ne[1] * … bytes) is
 * copied. */
int hk_gguf_writer_add_tensor(hk_gguf_writer *w, const char *name, hk_type type,
                              uint32_t n_dims, const uint64_t *ne, const void *data, hk_error *err);

/* A file without tensors ends after its metadata: it has no data section
 * to align. */
int hk_gguf_writer_write_file(hk_gguf_writer *w, const char *path, hk_error *err);
/* The whole file in memory (g_free / free by the caller). */
int hk_gguf_writer_write_memory(hk_gguf_writer *w, void **ret_data, size_t *ret_size, hk_error *err);
