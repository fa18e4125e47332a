/* fuzz-gguf.c — libFuzzer target for the GGUF reader.
 *
 * Any input either fails with a message naming an offset, or opens; then
 * every accessor must be safe on it, and the writer must reproduce its
 * metadata and tensors byte for byte.  Built and run by meson.build here.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

#define REQUIRE(cond) do { if (!(cond)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A read the compiler must keep, so the sanitizer checks the address. */
static volatile uint8_t sink;

static void
read_byte(const void *p)
{
    sink ^= *(const volatile uint8_t *)p;
}

static void
touch_kv(const hk_gguf *g, uint64_t i)
{
    char text[64], tiny[1];
    uint64_t value_size;
    hk_gguf_str key = hk_gguf_kv_key(g, i);
    char *ckey = hk_gguf_str_dup(key);

    REQUIRE(ckey && hk_gguf_find_key(g, ckey) == (int64_t)i);
    REQUIRE(hk_gguf_kv_value(g, i, &value_size) != NULL);
    hk_gguf_kv_format(g, i, text, sizeof text);
    REQUIRE(strlen(text) < sizeof text);
    hk_gguf_kv_format(g, i, tiny, sizeof tiny);
    REQUIRE(tiny[0] == '\0');

    uint32_t u32;
    int32_t i32;
    uint64_t u64, count;
    float f32;
    bool b;
    hk_gguf_str s;
    hk_gguf_vtype type;
    hk_gguf_get_u32(g, ckey, &u32);
    hk_gguf_get_i32(g, ckey, &i32);
    hk_gguf_get_u64(g, ckey, &u64);
    hk_gguf_get_f32(g, ckey, &f32);
    hk_gguf_get_bool(g, ckey, &b);
    if (hk_gguf_get_str(g, ckey, &s) && s.len > 0)
        read_byte(s.ptr + s.len - 1);
    if (hk_gguf_get_array(g, ckey, &type, &count)) {
        for (uint64_t e = 0; type == HK_GGUF_STRING && e < count; e++) {
            REQUIRE(hk_gguf_array_str(g, ckey, e, &s));
            if (s.len > 0)
                read_byte(s.ptr + s.len - 1);
        }
        REQUIRE(!hk_gguf_array_str(g, ckey, type == HK_GGUF_STRING ? count : 0, &s));
        /* the elements fill the value after its type and count */
        const uint8_t *elems = hk_gguf_array_data(g, ckey, type, &u64);
        REQUIRE((elems != NULL) == (type != HK_GGUF_STRING));
        if (elems && count > 0)
            read_byte(elems + (value_size - 12) - 1);
    }
    free(ckey);
}

static void
touch_tensor(const hk_gguf *g, uint64_t i)
{
    const hk_gguf_tensor *t = hk_gguf_tensor_at(g, i);
    const uint8_t *base = hk_gguf_base(g), *data = t->data;
    char *name = hk_gguf_str_dup(t->name);

    REQUIRE(name && hk_gguf_find_tensor(g, name) == t);
    REQUIRE(data >= base && t->size <= hk_gguf_file_size(g) - (uint64_t)(data - base));
    if (t->size > 0) {
        read_byte(data);
        read_byte(data + t->size - 1);
    }
    free(name);
}

static void
same_tensor(const hk_gguf_tensor *a, const hk_gguf_tensor *b)
{
    REQUIRE(a->name.len == b->name.len && memcmp(a->name.ptr, b->name.ptr, a->name.len) == 0);
    REQUIRE(a->type == b->type && a->n_dims == b->n_dims && a->size == b->size);
    REQUIRE(memcmp(a->ne, b->ne, sizeof a->ne) == 0);
    REQUIRE(a->size == 0 || memcmp(a->data, b->data, a->size) == 0);
}

/* What the writer makes of g reads back as g. */
static void
round_trip(const hk_gguf *g)
{
    hk_gguf_writer *w = hk_gguf_writer_new();
    hk_error err = { 0 };
    void *out;
    size_t out_size;
    hk_gguf *again;

    hk_gguf_writer_copy_kvs(w, g);
    for (uint64_t i = 0; i < hk_gguf_n_tensors(g); i++) {
        const hk_gguf_tensor *t = hk_gguf_tensor_at(g, i);
        char *name = hk_gguf_str_dup(t->name);
        REQUIRE(hk_gguf_writer_add_tensor(w, name, t->type, t->n_dims, t->ne, t->data, &err) == 0);
        free(name);
    }
    REQUIRE(hk_gguf_writer_write_memory(w, &out, &out_size, &err) == 0);
    REQUIRE(hk_gguf_open_memory(out, out_size, &again, &err) == 0);

    REQUIRE(hk_gguf_n_kv(again) == hk_gguf_n_kv(g));
    for (uint64_t i = 0; i < hk_gguf_n_kv(g); i++) {
        uint64_t n1, n2;
        const void *v1 = hk_gguf_kv_value(g, i, &n1), *v2 = hk_gguf_kv_value(again, i, &n2);
        REQUIRE(hk_gguf_kv_type(g, i) == hk_gguf_kv_type(again, i));
        REQUIRE(n1 == n2 && memcmp(v1, v2, n1) == 0);
    }
    REQUIRE(hk_gguf_n_tensors(again) == hk_gguf_n_tensors(g));
    for (uint64_t i = 0; i < hk_gguf_n_tensors(g); i++)
        same_tensor(hk_gguf_tensor_at(g, i), hk_gguf_tensor_at(again, i));

    hk_gguf_close(again);
    free(out);
    hk_gguf_writer_free(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hk_gguf *g;
    hk_error err = { 0 };

    if (hk_gguf_open_memory(data, size, &g, &err) < 0) {
        REQUIRE(err.code < 0);
        REQUIRE(strstr(err.message, "at offset ") || err.code == -ENOMEM);
        return 0;
    }
    for (uint64_t i = 0; i < hk_gguf_n_kv(g); i++)
        touch_kv(g, i);
    REQUIRE(hk_gguf_kv_value(g, hk_gguf_n_kv(g), &(uint64_t){ 0 }) == NULL);
    for (uint64_t i = 0; i < hk_gguf_n_tensors(g); i++)
        touch_tensor(g, i);
    REQUIRE(hk_gguf_tensor_at(g, hk_gguf_n_tensors(g)) == NULL);
    REQUIRE(hk_gguf_data_offset(g) % hk_gguf_alignment(g) == 0);
    round_trip(g);
    hk_gguf_close(g);
    return 0;
}
