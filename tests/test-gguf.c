/* The GGUF writer and reader together: every value type and several tensor
 * types survive a round trip, the getters convert as documented, the
 * writer refuses what the reader would, and real files from shared/ read
 * as llama.cpp wrote them. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "gguf.h"
#include "hk-check.h"
#include "hk-tmpdir.h"
#include "map-guard.h"

/* Write w to memory and open the result, which lives in *ret_buf. */
static hk_gguf *
reopen(hk_gguf_writer *w, void **ret_buf)
{
    size_t size;
    hk_error err = { 0 };
    hk_gguf *g;

    ck_assert_msg(hk_gguf_writer_write_memory(w, ret_buf, &size, &err) == 0, "%s", err.message);
    ck_assert_msg(hk_gguf_open_memory(*ret_buf, size, &g, &err) == 0, "%s", err.message);
    return g;
}

/* The message of a write that must fail. */
static const char *
write_error(hk_gguf_writer *w, hk_error *err)
{
    void *buf = NULL;
    size_t size;
    ck_assert_int_lt(hk_gguf_writer_write_memory(w, &buf, &size, err), 0);
    ck_assert_ptr_null(buf);
    return err->message;
}

static void
ck_kv_type(const hk_gguf *g, const char *key, hk_gguf_vtype type)
{
    int64_t i = hk_gguf_find_key(g, key);
    ck_assert_msg(i >= 0, "%s is missing", key);
    ck_assert_int_eq(hk_gguf_kv_type(g, (uint64_t)i), type);
}

/* ------------------------------------------------------------ metadata */

static hk_gguf_writer *
writer_with_every_scalar(void)
{
    hk_gguf_writer *w = hk_gguf_writer_new();
    uint8_t u8 = 200;
    int8_t i8 = -100;
    uint16_t u16 = 60000;
    int16_t i16 = -30000;
    int64_t i64 = INT64_MIN;
    double f64 = 0.1;

    hk_gguf_writer_set_scalar(w, "t.u8", HK_GGUF_UINT8, &u8);
    hk_gguf_writer_set_scalar(w, "t.i8", HK_GGUF_INT8, &i8);
    hk_gguf_writer_set_scalar(w, "t.u16", HK_GGUF_UINT16, &u16);
    hk_gguf_writer_set_scalar(w, "t.i16", HK_GGUF_INT16, &i16);
    hk_gguf_writer_set_u32(w, "t.u32", 4000000000u);
    hk_gguf_writer_set_i32(w, "t.i32", -2000000000);
    hk_gguf_writer_set_f32(w, "t.f32", 1e-5f);
    hk_gguf_writer_set_bool(w, "t.bool", true);
    hk_gguf_writer_set_str(w, "t.str", "h\xc3\xa9llo\n\"x\"");
    hk_gguf_writer_set_u64(w, "t.u64", UINT64_MAX);
    hk_gguf_writer_set_scalar(w, "t.i64", HK_GGUF_INT64, &i64);
    hk_gguf_writer_set_scalar(w, "t.f64", HK_GGUF_FLOAT64, &f64);
    return w;
}

START_TEST(test_scalar_types)
{
    hk_gguf_writer *w = writer_with_every_scalar();
    void *buf;
    hk_gguf *g = reopen(w, &buf);

    ck_assert_uint_eq(hk_gguf_version(g), 3);
    ck_assert_uint_eq(hk_gguf_n_kv(g), 12);
    ck_kv_type(g, "t.u8", HK_GGUF_UINT8);
    ck_kv_type(g, "t.i8", HK_GGUF_INT8);
    ck_kv_type(g, "t.u16", HK_GGUF_UINT16);
    ck_kv_type(g, "t.i16", HK_GGUF_INT16);
    ck_kv_type(g, "t.u32", HK_GGUF_UINT32);
    ck_kv_type(g, "t.i32", HK_GGUF_INT32);
    ck_kv_type(g, "t.f32", HK_GGUF_FLOAT32);
    ck_kv_type(g, "t.bool", HK_GGUF_BOOL);
    ck_kv_type(g, "t.str", HK_GGUF_STRING);
    ck_kv_type(g, "t.u64", HK_GGUF_UINT64);
    ck_kv_type(g, "t.i64", HK_GGUF_INT64);
    ck_kv_type(g, "t.f64", HK_GGUF_FLOAT64);
    /* keys keep the order they were set in */
    ck_assert(hk_gguf_str_eq(hk_gguf_kv_key(g, 0), "t.u8"));
    ck_assert(hk_gguf_str_eq(hk_gguf_kv_key(g, 11), "t.f64"));

    uint64_t size;
    const uint8_t *raw = hk_gguf_kv_value(g, (uint64_t)hk_gguf_find_key(g, "t.u16"), &size);
    ck_assert_uint_eq(size, 2);
    ck_assert_uint_eq(raw[0] | raw[1] << 8, 60000);

    float f;
    ck_assert(hk_gguf_get_f32(g, "t.f32", &f));
    ck_assert(f == 1e-5f);
    ck_assert(hk_gguf_get_f32(g, "t.f64", &f));
    ck_assert(f == 0.1f);

    bool b = false;
    ck_assert(hk_gguf_get_bool(g, "t.bool", &b));
    ck_assert(b);

    hk_gguf_str s;
    ck_assert(hk_gguf_get_str(g, "t.str", &s));
    ck_assert(hk_gguf_str_eq(s, "h\xc3\xa9llo\n\"x\""));
    char *copy = hk_gguf_str_dup(s);
    ck_assert_str_eq(copy, "h\xc3\xa9llo\n\"x\"");
    free(copy);

    hk_gguf_close(g);
    g_free(buf);
    hk_gguf_writer_free(w);
}
END_TEST

/* The integer getters take any integer type whose value fits. */
START_TEST(test_integer_conversions)
{
    hk_gguf_writer *w = writer_with_every_scalar();
    void *buf;
    hk_gguf *g = reopen(w, &buf);
    uint32_t u32 = 7;
    int32_t i32 = 7;
    uint64_t u64 = 7;

    ck_assert(hk_gguf_get_u32(g, "t.u8", &u32) && u32 == 200);
    ck_assert(hk_gguf_get_u32(g, "t.u16", &u32) && u32 == 60000);
    ck_assert(hk_gguf_get_u32(g, "t.u32", &u32) && u32 == 4000000000u);
    ck_assert(hk_gguf_get_i32(g, "t.i8", &i32) && i32 == -100);
    ck_assert(hk_gguf_get_i32(g, "t.i16", &i32) && i32 == -30000);
    ck_assert(hk_gguf_get_i32(g, "t.i32", &i32) && i32 == -2000000000);
    ck_assert(hk_gguf_get_i32(g, "t.u16", &i32) && i32 == 60000);
    ck_assert(hk_gguf_get_u64(g, "t.u64", &u64) && u64 == UINT64_MAX);
    ck_assert(hk_gguf_get_u64(g, "t.u32", &u64) && u64 == 4000000000u);

    /* values that do not fit leave the output alone */
    u32 = 7;
    i32 = 7;
    u64 = 7;
    ck_assert(!hk_gguf_get_u32(g, "t.i8", &u32));
    ck_assert(!hk_gguf_get_u32(g, "t.u64", &u32));
    ck_assert(!hk_gguf_get_i32(g, "t.u32", &i32));
    ck_assert(!hk_gguf_get_i32(g, "t.i64", &i32));
    ck_assert(!hk_gguf_get_u64(g, "t.i64", &u64));
    ck_assert(u32 == 7 && i32 == 7 && u64 == 7);

    /* nor do other types or absent keys */
    float f = 7;
    bool b = false;
    hk_gguf_str s = { "x", 1 };
    ck_assert(!hk_gguf_get_u32(g, "t.f32", &u32));
    ck_assert(!hk_gguf_get_u32(g, "t.bool", &u32));
    ck_assert(!hk_gguf_get_f32(g, "t.u32", &f));
    ck_assert(!hk_gguf_get_bool(g, "t.u8", &b));
    ck_assert(!hk_gguf_get_str(g, "t.u8", &s));
    ck_assert(!hk_gguf_get_u32(g, "no.such.key", &u32));
    ck_assert(!hk_gguf_get_str(g, "no.such.key", &s));
    ck_assert(u32 == 7 && f == 7 && !b && s.len == 1);
    ck_assert_int_eq(hk_gguf_find_key(g, "no.such.key"), -1);

    hk_gguf_close(g);
    g_free(buf);
    hk_gguf_writer_free(w);
}
END_TEST

START_TEST(test_arrays)
{
    static const uint8_t u8[] = { 0, 1, 255 };
    static const int8_t i8[] = { -128, 0, 127 };
    static const uint16_t u16[] = { 1, 65535 };
    static const int16_t i16[] = { -32768, 32767 };
    static const uint32_t u32[] = { 1, 2, 3, 4000000000u };
    static const int32_t i32[] = { -1, 0, 1 };
    static const float f32[] = { 0.5f, -1e30f, 3.25f };
    static const bool bools[] = { true, false, true };
    static const uint64_t u64[] = { UINT64_MAX, 0 };
    static const int64_t i64[] = { INT64_MIN, INT64_MAX };
    static const double f64[] = { 1e300, -0.0 };
    static const struct { hk_gguf_vtype type; const void *data; uint64_t n; size_t bytes; } arrays[] = {
        { HK_GGUF_UINT8, u8, 3, sizeof u8 },     { HK_GGUF_INT8, i8, 3, sizeof i8 },
        { HK_GGUF_UINT16, u16, 2, sizeof u16 },  { HK_GGUF_INT16, i16, 2, sizeof i16 },
        { HK_GGUF_UINT32, u32, 4, sizeof u32 },  { HK_GGUF_INT32, i32, 3, sizeof i32 },
        { HK_GGUF_FLOAT32, f32, 3, sizeof f32 }, { HK_GGUF_BOOL, bools, 3, sizeof bools },
        { HK_GGUF_UINT64, u64, 2, sizeof u64 },  { HK_GGUF_INT64, i64, 2, sizeof i64 },
        { HK_GGUF_FLOAT64, f64, 2, sizeof f64 },
    };
    static const char *const words[] = { "", "a", "\xe2\x98\x83", "<|im_end|>" };
    hk_gguf_writer *w = hk_gguf_writer_new();
    char key[32];

    for (size_t i = 0; i < G_N_ELEMENTS(arrays); i++) {
        snprintf(key, sizeof key, "a.%s", hk_gguf_vtype_name(arrays[i].type));
        hk_gguf_writer_set_array(w, key, arrays[i].type, arrays[i].data, arrays[i].n);
    }
    hk_gguf_writer_set_str_array(w, "a.string", words, 4);
    hk_gguf_writer_set_array(w, "a.empty", HK_GGUF_UINT32, NULL, 0);

    void *buf;
    hk_gguf *g = reopen(w, &buf);
    for (size_t i = 0; i < G_N_ELEMENTS(arrays); i++) {
        hk_gguf_vtype type;
        uint64_t count, n;
        snprintf(key, sizeof key, "a.%s", hk_gguf_vtype_name(arrays[i].type));
        ck_assert(hk_gguf_get_array(g, key, &type, &count));
        ck_assert_int_eq(type, arrays[i].type);
        ck_assert_uint_eq(count, arrays[i].n);
        const void *data = hk_gguf_array_data(g, key, arrays[i].type, &n);
        ck_assert_ptr_nonnull(data);
        ck_assert_uint_eq(n, arrays[i].n);
        ck_assert_msg(memcmp(data, arrays[i].data, arrays[i].bytes) == 0, "%s differs", key);
    }

    hk_gguf_vtype type;
    uint64_t count;
    ck_assert(hk_gguf_get_array(g, "a.string", &type, &count));
    ck_assert_int_eq(type, HK_GGUF_STRING);
    ck_assert_uint_eq(count, 4);
    for (uint64_t i = 0; i < 4; i++) {
        hk_gguf_str s;
        ck_assert(hk_gguf_array_str(g, "a.string", i, &s));
        ck_assert(hk_gguf_str_eq(s, words[i]));
    }
    hk_gguf_str s;
    ck_assert(!hk_gguf_array_str(g, "a.string", 4, &s));
    ck_assert(!hk_gguf_array_str(g, "a.uint32", 0, &s));
    ck_assert_ptr_null(hk_gguf_array_data(g, "a.string", HK_GGUF_STRING, &count));
    ck_assert_ptr_null(hk_gguf_array_data(g, "a.uint32", HK_GGUF_INT32, &count));
    ck_assert(!hk_gguf_get_array(g, "a.nothing", &type, &count));

    ck_assert(hk_gguf_get_array(g, "a.empty", &type, &count));
    ck_assert_uint_eq(count, 0);

    hk_gguf_close(g);
    g_free(buf);
    hk_gguf_writer_free(w);
}
END_TEST

START_TEST(test_set_again_replaces)
{
    hk_gguf_writer *w = hk_gguf_writer_new();
    hk_gguf_writer_set_u32(w, "a", 1);
    hk_gguf_writer_set_str(w, "b", "bee");
    hk_gguf_writer_set_str(w, "a", "x");

    void *buf;
    hk_gguf *g = reopen(w, &buf);
    hk_gguf_str s;
    ck_assert_uint_eq(hk_gguf_n_kv(g), 2);
    ck_assert(hk_gguf_str_eq(hk_gguf_kv_key(g, 0), "a"));
    ck_assert(hk_gguf_get_str(g, "a", &s) && hk_gguf_str_eq(s, "x"));
    hk_gguf_close(g);
    g_free(buf);
    hk_gguf_writer_free(w);
}
END_TEST

/* Without tensors there is no data section: no padding, however large
 * the alignment. */
START_TEST(test_no_tensors_no_padding)
{
    hk_gguf_writer *w = hk_gguf_writer_new();
    hk_gguf_writer_set_u32(w, "general.alignment", 1u << 31);
    void *buf;
    size_t size;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_gguf_writer_write_memory(w, &buf, &size, &err), 0);
    /* header, then the key, its type and value */
    ck_assert_uint_eq(size, 24 + 8 + strlen("general.alignment") + 4 + 4);
    g_free(buf);

    hk_gguf *g = reopen(w, &buf);
    ck_assert_uint_eq(hk_gguf_alignment(g), 1u << 31);
    ck_assert_uint_eq(hk_gguf_n_tensors(g), 0);
    hk_gguf_close(g);
    g_free(buf);
    hk_gguf_writer_free(w);
}
END_TEST

START_TEST(test_kv_format)
{
    hk_gguf_writer *w = writer_with_every_scalar();
    static const char *const tokens[] = { "a", "b", "c" };
    hk_gguf_writer_set_str_array(w, "tokens", tokens, 3);
    hk_gguf_writer_set_str(w, "long", "\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83");

    void *buf;
    hk_gguf *g = reopen(w, &buf);
    char text[64];
#define FORMATTED(key) (hk_gguf_kv_format(g, (uint64_t)hk_gguf_find_key(g, key), text, sizeof text), text)
    ck_assert_str_eq(FORMATTED("t.u32"), "4000000000");
    ck_assert_str_eq(FORMATTED("t.i8"), "-100");
    ck_assert_str_eq(FORMATTED("t.i64"), "-9223372036854775808");
    ck_assert_str_eq(FORMATTED("t.u64"), "18446744073709551615");
    ck_assert_str_eq(FORMATTED("t.f32"), "1e-05");
    ck_assert_str_eq(FORMATTED("t.bool"), "true");
    /* one line, quotes escaped */
    ck_assert_str_eq(FORMATTED("t.str"), "\"h\xc3\xa9llo\\n\\\"x\\\"\"");
    ck_assert_str_eq(FORMATTED("tokens"), "[array of 3 string]");
#undef FORMATTED

    /* cut to fit, never inside a UTF-8 character */
    char small[9];
    hk_gguf_kv_format(g, (uint64_t)hk_gguf_find_key(g, "long"), small, sizeof small);
    ck_assert_str_eq(small, "\"\xe2\x98\x83\xe2\x80\xa6");
    ck_assert(g_utf8_validate(small, -1, NULL));

    hk_gguf_kv_format(g, 999, text, sizeof text);
    ck_assert_str_eq(text, "");

    hk_gguf_close(g);
    g_free(buf);
    hk_gguf_writer_free(w);
}
END_TEST

/* What the quantizer does: keep a file's metadata as it was. */
START_TEST(test_copy_kvs)
{
    hk_gguf_writer *w = writer_with_every_scalar();
    static const char *const tokens[] = { "x", "yy" };
    static const int32_t ids[] = { 5, -6 };
    hk_gguf_writer_set_str_array(w, "tokens", tokens, 2);
    hk_gguf_writer_set_array(w, "ids", HK_GGUF_INT32, ids, 2);
    void *buf1, *buf2;
    hk_gguf *g1 = reopen(w, &buf1);

    hk_gguf_writer *copy = hk_gguf_writer_new();
    hk_gguf_writer_copy_kvs(copy, g1);
    hk_gguf *g2 = reopen(copy, &buf2);

    ck_assert_uint_eq(hk_gguf_n_kv(g2), hk_gguf_n_kv(g1));
    for (uint64_t i = 0; i < hk_gguf_n_kv(g1); i++) {
        uint64_t n1, n2;
        const void *v1 = hk_gguf_kv_value(g1, i, &n1);
        const void *v2 = hk_gguf_kv_value(g2, i, &n2);
        hk_gguf_str k1 = hk_gguf_kv_key(g1, i), k2 = hk_gguf_kv_key(g2, i);
        ck_assert(k1.len == k2.len && memcmp(k1.ptr, k2.ptr, k1.len) == 0);
        ck_assert_int_eq(hk_gguf_kv_type(g1, i), hk_gguf_kv_type(g2, i));
        ck_assert(n1 == n2 && memcmp(v1, v2, n1) == 0);
    }
    hk_gguf_close(g1);
    hk_gguf_close(g2);
    g_free(buf1);
    g_free(buf2);
    hk_gguf_writer_free(w);
    hk_gguf_writer_free(copy);
}
END_TEST

START_TEST(test_writer_misuse)
{
    hk_error err = { 0 };
    hk_gguf_writer *w = hk_gguf_writer_new();
    hk_gguf_writer_set_array(w, "a", HK_GGUF_STRING, NULL, 0);
    ck_assert_ptr_nonnull(strstr(write_error(w, &err), "not a scalar type"));
    hk_gguf_writer_free(w);

    w = hk_gguf_writer_new();
    hk_gguf_writer_set_u32(w, "", 1);
    ck_assert_ptr_nonnull(strstr(write_error(w, &err), "empty key"));
    hk_gguf_writer_free(w);

    w = hk_gguf_writer_new();
    hk_gguf_writer_set_u32(w, "general.alignment", 48);
    ck_assert_ptr_nonnull(strstr(write_error(w, &err), "not a nonzero power of two"));
    hk_gguf_writer_free(w);

    w = hk_gguf_writer_new();
    hk_gguf_writer_set_u64(w, "general.alignment", 64);
    ck_assert_ptr_nonnull(strstr(write_error(w, &err), "not a uint32"));
    hk_gguf_writer_free(w);
}
END_TEST

/* ------------------------------------------------------------ tensors */

typedef struct tensor_case {
    const char *name;
    hk_type     type;
    uint32_t    n_dims;
    uint64_t    ne[4];
    uint64_t    size;
} tensor_case;

static const tensor_case tensor_cases[] = {
    { "f32.3d",  HK_TYPE_F32,  3, { 5, 3, 2 },    5 * 3 * 2 * 4 },
    { "f16",     HK_TYPE_F16,  2, { 8, 3 },       8 * 3 * 2 },
    { "bf16",    HK_TYPE_BF16, 1, { 7 },          7 * 2 },
    { "q8_0",    HK_TYPE_Q8_0, 2, { 64, 3 },      2 * 3 * 34 },
    { "q4_0",    HK_TYPE_Q4_0, 2, { 32, 5 },      5 * 18 },
    { "q4_K",    HK_TYPE_Q4_K, 2, { 512, 2 },     2 * 2 * 144 },
    { "q6_K",    HK_TYPE_Q6_K, 1, { 256 },        210 },
    { "i8.4d",   HK_TYPE_I8,   4, { 2, 3, 4, 5 }, 120 },
    { "empty",   HK_TYPE_F32,  2, { 0, 4 },       0 },
};

/* Deterministic, different for every tensor. */
static uint8_t *
pattern(uint64_t size, uint8_t seed)
{
    uint8_t *p = g_malloc(size + 1);
    for (uint64_t i = 0; i < size; i++)
        p[i] = (uint8_t)(i * 31 + seed);
    return p;
}

static hk_gguf_writer *
writer_with_tensors(uint32_t alignment)
{
    hk_gguf_writer *w = hk_gguf_writer_new();
    hk_error err = { 0 };

    hk_gguf_writer_set_str(w, "general.architecture", "test");
    if (alignment != 0)
        hk_gguf_writer_set_u32(w, "general.alignment", alignment);
    for (size_t i = 0; i < G_N_ELEMENTS(tensor_cases); i++) {
        const tensor_case *c = &tensor_cases[i];
        uint8_t *data = pattern(c->size, (uint8_t)i);
        ck_assert_msg(hk_gguf_writer_add_tensor(w, c->name, c->type, c->n_dims, c->ne, data, &err) == 0,
                      "%s", err.message);
        g_free(data);
    }
    return w;
}

static void
ck_tensors(const hk_gguf *g)
{
    uint32_t alignment = hk_gguf_alignment(g);
    const uint8_t *base = hk_gguf_base(g);

    ck_assert_uint_eq(hk_gguf_data_offset(g) % alignment, 0);
    ck_assert_uint_eq(hk_gguf_n_tensors(g), G_N_ELEMENTS(tensor_cases));
    for (size_t i = 0; i < G_N_ELEMENTS(tensor_cases); i++) {
        const tensor_case *c = &tensor_cases[i];
        const hk_gguf_tensor *t = hk_gguf_find_tensor(g, c->name);
        ck_assert_ptr_nonnull(t);
        ck_assert_ptr_eq(t, hk_gguf_tensor_at(g, i));
        ck_assert(hk_gguf_str_eq(t->name, c->name));
        ck_assert_int_eq(t->type, c->type);
        ck_assert_uint_eq(t->n_dims, c->n_dims);
        for (uint32_t d = 0; d < HK_GGUF_MAX_DIMS; d++)
            ck_assert_uint_eq(t->ne[d], d < c->n_dims ? c->ne[d] : 1);
        ck_assert_uint_eq(t->size, c->size);
        ck_assert_uint_eq(t->offset % alignment, 0);
        ck_assert_ptr_eq(t->data, base + hk_gguf_data_offset(g) + t->offset);
        uint8_t *want = pattern(c->size, (uint8_t)i);
        ck_assert_msg(memcmp(t->data, want, c->size) == 0, "data of %s differs", c->name);
        g_free(want);
    }
    ck_assert_ptr_null(hk_gguf_find_tensor(g, "nothing"));
    ck_assert_ptr_null(hk_gguf_tensor_at(g, G_N_ELEMENTS(tensor_cases)));
}

START_TEST(test_tensors)
{
    hk_gguf_writer *w = writer_with_tensors(0);
    void *buf;
    hk_gguf *g = reopen(w, &buf);
    ck_assert_uint_eq(hk_gguf_alignment(g), HK_GGUF_DEFAULT_ALIGNMENT);
    ck_tensors(g);
    hk_gguf_close(g);
    g_free(buf);
    hk_gguf_writer_free(w);
}
END_TEST

START_TEST(test_tensors_aligned_to_256)
{
    hk_gguf_writer *w = writer_with_tensors(256);
    void *buf;
    hk_gguf *g = reopen(w, &buf);
    ck_assert_uint_eq(hk_gguf_alignment(g), 256);
    ck_tensors(g);
    hk_gguf_close(g);
    g_free(buf);
    hk_gguf_writer_free(w);
}
END_TEST

static void
ck_add_fails(const char *name, hk_type type, uint32_t n_dims, const uint64_t *ne, const char *why)
{
    static const uint8_t zeros[4096];
    hk_gguf_writer *w = hk_gguf_writer_new();
    hk_error err = { 0 };
    ck_assert_int_eq(hk_gguf_writer_add_tensor(w, "taken", HK_TYPE_F32, 1, (uint64_t[]){ 4 }, zeros, &err), 0);
    ck_assert_int_lt(hk_gguf_writer_add_tensor(w, name, type, n_dims, ne, zeros, &err), 0);
    ck_assert_msg(strstr(err.message, why) && strstr(err.message, name), "%s", err.message);
    /* a caller that does not want the message still sees the failure */
    ck_assert_int_lt(hk_gguf_writer_add_tensor(w, name, type, n_dims, ne, zeros, NULL), 0);
    hk_gguf_writer_free(w);
}

START_TEST(test_add_tensor_refuses)
{
    ck_add_fails("taken", HK_TYPE_F32, 1, (uint64_t[]){ 4 }, "duplicate tensor name");
    ck_add_fails("w", 4, 1, (uint64_t[]){ 4 }, "unknown type id 4");
    ck_add_fails("w", HK_TYPE_F32, 0, (uint64_t[]){ 4 }, "0 dimensions");
    ck_add_fails("w", HK_TYPE_F32, 5, (uint64_t[]){ 1, 1, 1, 1, 1 }, "5 dimensions");
    ck_add_fails("w", HK_TYPE_Q4_0, 1, (uint64_t[]){ 33 }, "not a whole number of q4_0 blocks");
    ck_add_fails("w", HK_TYPE_F32, 2, (uint64_t[]){ 1ull << 32, 1ull << 32 }, "overflows");
    ck_add_fails("", HK_TYPE_F32, 1, (uint64_t[]){ 4 }, "empty tensor name");
}
END_TEST

/* ------------------------------------------------------------ files */

START_TEST(test_write_and_open_file)
{
    char *dir = hk_tmpdir_new();
    char *path = g_build_filename(dir, "model.gguf", NULL);
    hk_gguf_writer *w = writer_with_tensors(64);
    hk_error err = { 0 };
    hk_gguf *g;
    GStatBuf st;

    ck_assert_msg(hk_gguf_writer_write_file(w, path, &err) == 0, "%s", err.message);
    ck_assert_msg(hk_gguf_open(path, &g, &err) == 0, "%s", err.message);
    ck_assert_int_eq(g_stat(path, &st), 0);
    ck_assert_uint_eq(hk_gguf_file_size(g), (uint64_t)st.st_size);
    ck_assert_uint_eq(hk_gguf_file_size(g) % 64, 0);
    ck_tensors(g);
    hk_gguf_close(g);

    /* the same bytes as in memory */
    void *mem;
    size_t size;
    char *contents;
    gsize length;
    ck_assert_int_eq(hk_gguf_writer_write_memory(w, &mem, &size, &err), 0);
    ck_assert(g_file_get_contents(path, &contents, &length, NULL));
    ck_assert(length == size && memcmp(contents, mem, size) == 0);
    g_free(contents);
    g_free(mem);

    hk_tmpdir_remove(dir);
    hk_gguf_writer_free(w);
    g_free(path);
    g_free(dir);
}
END_TEST

/* Another program truncates a model file while it is mapped: with the
 * guard, reading the lost pages gives zeros and marks the file damaged,
 * where it would otherwise kill the process with SIGBUS. */
START_TEST(test_file_truncated_while_mapped)
{
    enum { N = 1 << 16 };
    char *dir = hk_tmpdir_new();
    char *path = g_build_filename(dir, "model.gguf", NULL);
    hk_gguf_writer *w = hk_gguf_writer_new();
    uint8_t *ones = g_malloc(N);
    const uint64_t ne[1] = { N };
    hk_error err = { 0 };
    hk_gguf *g, *other;

    memset(ones, 1, N);
    ck_assert_int_eq(hk_gguf_writer_add_tensor(w, "big", HK_TYPE_I8, 1, ne, ones, &err), 0);
    ck_assert_msg(hk_gguf_writer_write_file(w, path, &err) == 0, "%s", err.message);
    ck_assert_msg(hk_map_guard_install(&err) == 0, "%s", err.message);
    ck_assert_msg(hk_gguf_open(path, &g, &err) == 0, "%s", err.message);
    ck_assert_msg(hk_gguf_open(path, &other, &err) == 0, "%s", err.message);

    const volatile uint8_t *data = hk_gguf_find_tensor(g, "big")->data;
    ck_assert_uint_eq(data[N - 1], 1);
    ck_assert(!hk_gguf_damaged(g));

    ck_assert_int_eq(truncate(path, (off_t)hk_gguf_data_offset(g)), 0);
    ck_assert_uint_eq(data[N - 1], 0);
    ck_assert(hk_gguf_damaged(g));
    /* only the mapping that was read is marked */
    ck_assert(!hk_gguf_damaged(other));

    hk_gguf_close(other);
    hk_gguf_close(g);
    hk_gguf_writer_free(w);
    hk_tmpdir_remove(dir);
    g_free(ones);
    g_free(path);
    g_free(dir);
}
END_TEST

START_TEST(test_file_errors_name_the_file)
{
    char *dir = hk_tmpdir_new();
    char *missing = g_build_filename(dir, "missing.gguf", NULL);
    char *inside_missing = g_build_filename(dir, "no-dir", "x.gguf", NULL);
    char *empty = g_build_filename(dir, "empty.gguf", NULL);
    hk_gguf_writer *w = hk_gguf_writer_new();
    hk_error err = { 0 };
    hk_gguf *g = NULL;

    ck_assert_int_eq(hk_gguf_open(missing, &g, &err), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err.message, missing));
    ck_assert_ptr_null(g);

    ck_assert_int_eq(hk_gguf_open(dir, &g, &err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "not a regular file"));

    ck_assert(g_file_set_contents(empty, "", 0, NULL));
    ck_assert_int_lt(hk_gguf_open(empty, &g, &err), 0);
    ck_assert_msg(g_str_has_prefix(err.message, empty) && strstr(err.message, "truncated file"),
                  "%s", err.message);

    ck_assert_int_eq(hk_gguf_writer_write_file(w, inside_missing, &err), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err.message, inside_missing));

    hk_tmpdir_remove(dir);
    hk_gguf_writer_free(w);
    g_free(missing);
    g_free(inside_missing);
    g_free(empty);
    g_free(dir);
}
END_TEST

/* ------------------------------------------------------------ shared/ */

static hk_gguf *
open_shared(const char *relative)
{
    char *path = g_build_filename(hk_test_shared_dir(), relative, NULL);
    hk_error err = { 0 };
    hk_gguf *g;
    ck_assert_msg(hk_gguf_open(path, &g, &err) == 0, "%s", err.message);
    g_free(path);
    return g;
}

START_TEST(test_llama2_tiny)
{
    hk_gguf *g = open_shared("models/llama-2-tiny-random.gguf");
    hk_gguf_str s;
    hk_gguf_vtype type;
    uint64_t count;
    uint32_t u32;

    ck_assert_uint_eq(hk_gguf_version(g), 3);
    ck_assert(hk_gguf_get_str(g, "general.architecture", &s) && hk_gguf_str_eq(s, "llama"));
    ck_assert(hk_gguf_get_u32(g, "llama.block_count", &u32) && u32 == 1);
    ck_assert(hk_gguf_get_u32(g, "llama.embedding_length", &u32) && u32 == 8);
    ck_assert(hk_gguf_get_u32(g, "tokenizer.ggml.bos_token_id", &u32) && u32 == 1);
    ck_assert(hk_gguf_get_array(g, "tokenizer.ggml.tokens", &type, &count));
    ck_assert_int_eq(type, HK_GGUF_STRING);
    ck_assert_uint_eq(count, 32000);
    ck_assert(hk_gguf_array_str(g, "tokenizer.ggml.tokens", 1, &s) && hk_gguf_str_eq(s, "<s>"));
    ck_assert(hk_gguf_array_str(g, "tokenizer.ggml.tokens", 13, &s) && hk_gguf_str_eq(s, "<0x0A>"));
    ck_assert_ptr_nonnull(hk_gguf_array_data(g, "tokenizer.ggml.scores", HK_GGUF_FLOAT32, &count));
    ck_assert_uint_eq(count, 32000);

    ck_assert_uint_eq(hk_gguf_n_tensors(g), 12);
    const hk_gguf_tensor *embd = hk_gguf_find_tensor(g, "token_embd.weight");
    ck_assert_ptr_nonnull(embd);
    ck_assert_int_eq(embd->type, HK_TYPE_F16);
    ck_assert_uint_eq(embd->n_dims, 2);
    ck_assert_uint_eq(embd->ne[0], 8);
    ck_assert_uint_eq(embd->ne[1], 32000);
    ck_assert_uint_eq(embd->size, 8 * 32000 * 2);
    const hk_gguf_tensor *norm = hk_gguf_find_tensor(g, "output_norm.weight");
    ck_assert_ptr_nonnull(norm);
    ck_assert_int_eq(norm->type, HK_TYPE_F32);
    ck_assert_uint_eq(norm->offset, 514112);
    ck_assert_ptr_eq(norm->data, (const uint8_t *)hk_gguf_base(g) + hk_gguf_data_offset(g) + 514112);
    const hk_gguf_tensor *out = hk_gguf_find_tensor(g, "output.weight");
    ck_assert_uint_eq(hk_gguf_data_offset(g) + out->offset + out->size, hk_gguf_file_size(g));
    hk_gguf_close(g);
}
END_TEST

START_TEST(test_shared_vocabularies)
{
    static const struct { const char *file; uint64_t n_tokens; } vocabs[] = {
        { "vocab/ggml-vocab-llama-spm.gguf", 32000 },
        { "vocab/ggml-vocab-llama3.gguf", 128256 },
        { "vocab/ggml-vocab-qwen3.gguf", 151669 },
        { "vocab/ggml-vocab-gpt-2.gguf", 50257 },
        { "vocab/ggml-vocab-bert-bge.gguf", 30522 },
        { "vocab/ggml-vocab-phi-3.gguf", 32064 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(vocabs); i++) {
        hk_gguf *g = open_shared(vocabs[i].file);
        hk_gguf_vtype type;
        uint64_t count;
        ck_assert(hk_gguf_get_array(g, "tokenizer.ggml.tokens", &type, &count));
        ck_assert_msg(count == vocabs[i].n_tokens, "%s: %" G_GUINT64_FORMAT " tokens",
                      vocabs[i].file, count);
        hk_gguf_close(g);
    }
}
END_TEST

static Suite *
gguf_suite(void)
{
    Suite *s = suite_create("gguf");

    TCase *tc = tcase_create("metadata");
    tcase_add_test(tc, test_scalar_types);
    tcase_add_test(tc, test_integer_conversions);
    tcase_add_test(tc, test_arrays);
    tcase_add_test(tc, test_set_again_replaces);
    tcase_add_test(tc, test_no_tensors_no_padding);
    tcase_add_test(tc, test_kv_format);
    tcase_add_test(tc, test_copy_kvs);
    tcase_add_test(tc, test_writer_misuse);
    suite_add_tcase(s, tc);

    tc = tcase_create("tensors");
    tcase_add_test(tc, test_tensors);
    tcase_add_test(tc, test_tensors_aligned_to_256);
    tcase_add_test(tc, test_add_tensor_refuses);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_add_test(tc, test_write_and_open_file);
    tcase_add_test(tc, test_file_errors_name_the_file);
    tcase_add_test(tc, test_file_truncated_while_mapped);
    suite_add_tcase(s, tc);

    if (hk_test_shared_dir()) {
        tc = tcase_create("shared");
        tcase_add_test(tc, test_llama2_tiny);
        tcase_add_test(tc, test_shared_vocabularies);
        suite_add_tcase(s, tc);
    } else {
        printf("SKIP: shared/ is absent (HEARKEN_SHARED): llama-2-tiny-random.gguf "
               "and the vocabularies are not read\n");
    }
    return s;
}

HK_CHECK_MAIN(gguf_suite)
