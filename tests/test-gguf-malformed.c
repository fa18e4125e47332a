/* The GGUF reader against broken and hostile files: each is refused with a
 * message that says what is wrong and names the byte offset of the field
 * at fault.  Files are built byte by byte here; each case returns the
 * offset its message must name. */
#include <glib.h>
#include <inttypes.h>
#include <string.h>

#include "gguf.h"
#include "hk-check.h"

/* ------------------------------------------------------------ building */

static void
put(GByteArray *b, const void *data, size_t n)
{
    g_byte_array_append(b, data, (guint)n);
}

static void
put_u32(GByteArray *b, uint32_t v)
{
    put(b, &v, 4);
}

static void
put_u64(GByteArray *b, uint64_t v)
{
    put(b, &v, 8);
}

static void
put_str(GByteArray *b, const char *s)
{
    put_u64(b, strlen(s));
    put(b, s, strlen(s));
}

static void
put_zeros(GByteArray *b, size_t n)
{
    static const uint8_t zeros[256];
    put(b, zeros, n);
}

static void
header(GByteArray *b, uint64_t n_tensors, uint64_t n_kv)
{
    put(b, "GGUF", 4);
    put_u32(b, 3);
    put_u64(b, n_tensors);
    put_u64(b, n_kv);
}

/* A kv's key and type; returns where its value starts. */
static uint64_t
kv_head(GByteArray *b, const char *key, uint32_t type)
{
    put_str(b, key);
    put_u32(b, type);
    return b->len;
}

static void
kv_u32(GByteArray *b, const char *key, uint32_t v)
{
    kv_head(b, key, HK_GGUF_UINT32);
    put_u32(b, v);
}

/* A tensor info; returns where its data offset field is. */
static uint64_t
tensor_info(GByteArray *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t offset)
{
    put_str(b, name);
    put_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++)
        put_u64(b, ne[d]);
    put_u32(b, type);
    put_u64(b, offset);
    return b->len - 8;
}

static void
pad_to(GByteArray *b, uint32_t alignment)
{
    put_zeros(b, (alignment - b->len % alignment) % alignment);
}

/* Header with one kv 'k' of this type: its value starts at 37. */
static uint64_t
one_kv(GByteArray *b, uint32_t type)
{
    header(b, 0, 1);
    return kv_head(b, "k", type);
}

/* Zero bytes after a tensor info, so the tensor count passes its bound and
 * the info itself is what is checked. */
#define ROOM 64

/* ------------------------------------------------------------ header */

static uint64_t empty_file(GByteArray *b) { (void)b; return 0; }

static uint64_t
cut_magic(GByteArray *b)
{
    put(b, "GG", 2);
    return 0;
}

static uint64_t
bad_magic(GByteArray *b)
{
    put(b, "GGML", 4);
    put_u32(b, 3);
    put_zeros(b, 16);
    return 0;
}

static uint64_t
version(GByteArray *b, uint32_t v)
{
    put(b, "GGUF", 4);
    put_u32(b, v);
    put_zeros(b, 16);
    return 4;
}

static uint64_t version_1(GByteArray *b) { return version(b, 1); }
static uint64_t version_4(GByteArray *b) { return version(b, 4); }
static uint64_t big_endian(GByteArray *b) { return version(b, 0x03000000); }

static uint64_t
cut_version(GByteArray *b)
{
    put(b, "GGUF\3\0", 6);
    return 4;
}

static uint64_t
cut_tensor_count(GByteArray *b)
{
    put(b, "GGUF", 4);
    put_u32(b, 3);
    put_u32(b, 0);
    return 8;
}

static uint64_t
cut_kv_count(GByteArray *b)
{
    put(b, "GGUF", 4);
    put_u32(b, 3);
    put_u64(b, 0);
    put_u32(b, 1);
    return 16;
}

static uint64_t
absurd_kv_count(GByteArray *b)
{
    header(b, 0, 1ull << 60);
    kv_u32(b, "a", 1);
    return 16;
}

static uint64_t
absurd_tensor_count(GByteArray *b)
{
    header(b, 1ull << 60, 0);
    put_zeros(b, 200);
    return 8;
}

static uint64_t
tensor_count_past_kvs(GByteArray *b)
{
    /* the kvs leave no room for the two tensors the header promises */
    header(b, 2, 1);
    kv_head(b, "k", HK_GGUF_STRING);
    put_str(b, "a string as long as two tensor infos would be, more or less");
    return 8;
}

/* ------------------------------------------------------------ kvs */

/* The count's bound holds back a cut inside the only kv: the cut is in
 * the second one, after a first long enough to leave room. */
static uint64_t
cut_key_length(GByteArray *b)
{
    header(b, 0, 2);
    kv_head(b, "k", HK_GGUF_STRING);
    put_str(b, "long enough for the bound");
    uint64_t at = b->len;
    put_u32(b, 5);
    return at;
}

static uint64_t
key_past_end(GByteArray *b)
{
    header(b, 0, 1);
    put_u64(b, 1000);
    put(b, "general.name", 12);
    return 24;
}

static uint64_t
empty_key(GByteArray *b)
{
    header(b, 0, 1);
    kv_u32(b, "", 1);
    put_zeros(b, 4);
    return 24;
}

static uint64_t
nul_in_key(GByteArray *b)
{
    header(b, 0, 1);
    put_u64(b, 3);
    put(b, "a\0b", 3);
    put_u32(b, HK_GGUF_UINT32);
    put_u32(b, 1);
    return 24;
}

static uint64_t
duplicate_key(GByteArray *b)
{
    header(b, 0, 2);
    kv_u32(b, "a.b", 1);
    uint64_t second = b->len;
    kv_u32(b, "a.b", 2);
    return second;
}

static uint64_t
cut_value_type(GByteArray *b)
{
    /* a key long enough for the kv count's bound */
    header(b, 0, 1);
    put_str(b, "general.name");
    uint64_t at = b->len;
    put(b, "\4\0", 2);
    return at;
}

static uint64_t
unknown_value_type(GByteArray *b)
{
    one_kv(b, 13);
    put_u32(b, 0);
    return 33;
}

static uint64_t
cut_scalar(GByteArray *b)
{
    uint64_t at = one_kv(b, HK_GGUF_UINT64);
    put(b, "\1\2\3", 3);
    return at;
}

static uint64_t
string_past_end(GByteArray *b)
{
    uint64_t at = one_kv(b, HK_GGUF_STRING);
    put_u64(b, 50);
    put(b, "xy", 2);
    return at;
}

static uint64_t
bool_not_0_or_1(GByteArray *b)
{
    uint64_t at = one_kv(b, HK_GGUF_BOOL);
    put(b, "\2", 1);
    return at;
}

static uint64_t
cut_array_type(GByteArray *b)
{
    uint64_t at = one_kv(b, HK_GGUF_ARRAY);
    put(b, "\4\0", 2);
    return at;
}

static uint64_t
unknown_array_type(GByteArray *b)
{
    uint64_t at = one_kv(b, HK_GGUF_ARRAY);
    put_u32(b, 77);
    put_u64(b, 0);
    return at;
}

static uint64_t
nested_array(GByteArray *b)
{
    uint64_t at = one_kv(b, HK_GGUF_ARRAY);
    put_u32(b, HK_GGUF_ARRAY);
    put_u64(b, 1);
    put_u32(b, HK_GGUF_UINT8);
    put_u64(b, 0);
    return at;
}

static uint64_t
cut_array_count(GByteArray *b)
{
    uint64_t at = one_kv(b, HK_GGUF_ARRAY);
    put_u32(b, HK_GGUF_UINT8);
    put(b, "\1\0\0", 3);
    return at + 4;
}

static uint64_t
absurd_array_count(GByteArray *b)
{
    uint64_t at = one_kv(b, HK_GGUF_ARRAY);
    put_u32(b, HK_GGUF_UINT32);
    put_u64(b, 1ull << 62);
    put_zeros(b, 16);
    return at + 4;
}

static uint64_t
absurd_string_array_count(GByteArray *b)
{
    uint64_t at = one_kv(b, HK_GGUF_ARRAY);
    put_u32(b, HK_GGUF_STRING);
    put_u64(b, 1ull << 61);
    put_zeros(b, 64);
    return at + 4;
}

static uint64_t
array_cut_short(GByteArray *b)
{
    uint64_t at = one_kv(b, HK_GGUF_ARRAY);
    put_u32(b, HK_GGUF_UINT32);
    put_u64(b, 4);
    put_zeros(b, 6);
    return at + 4;
}

static uint64_t
array_string_past_end(GByteArray *b)
{
    one_kv(b, HK_GGUF_ARRAY);
    put_u32(b, HK_GGUF_STRING);
    put_u64(b, 2);
    put_str(b, "ok");
    uint64_t second = b->len;
    put_u64(b, 99);
    put(b, "z", 1);
    return second;
}

static uint64_t
bool_array_element(GByteArray *b)
{
    uint64_t at = one_kv(b, HK_GGUF_ARRAY);
    put_u32(b, HK_GGUF_BOOL);
    put_u64(b, 3);
    put(b, "\0\1\5", 3);
    return at + 12 + 2;
}

static uint64_t
alignment(GByteArray *b, uint32_t value)
{
    header(b, 0, 1);
    uint64_t at = kv_head(b, "general.alignment", HK_GGUF_UINT32);
    put_u32(b, value);
    return at;
}

static uint64_t alignment_zero(GByteArray *b) { return alignment(b, 0); }
static uint64_t alignment_48(GByteArray *b) { return alignment(b, 48); }

static uint64_t
alignment_string(GByteArray *b)
{
    header(b, 0, 1);
    uint64_t at = kv_head(b, "general.alignment", HK_GGUF_STRING);
    put_str(b, "32");
    return at - 4;
}

/* ------------------------------------------------------------ tensors */

/* As for keys, the cut is in a second tensor after a long first one. */
static uint64_t
cut_tensor_name(GByteArray *b)
{
    header(b, 2, 0);
    tensor_info(b, "a.tensor.name.long.enough.to.pass.the.bound", 1, (uint64_t[]){ 4 }, HK_TYPE_F32, 0);
    uint64_t at = b->len;
    put(b, "\1\0\0", 3);
    return at;
}

static uint64_t
tensor_name_past_end(GByteArray *b)
{
    header(b, 1, 0);
    put_u64(b, 500);
    put_zeros(b, 40);
    return 24;
}

static uint64_t
nul_in_tensor_name(GByteArray *b)
{
    header(b, 1, 0);
    put_u64(b, 2);
    put(b, "w\0", 2);
    put_zeros(b, ROOM);
    return 24;
}

static uint64_t
duplicate_tensor_name(GByteArray *b)
{
    header(b, 2, 0);
    tensor_info(b, "w", 1, (uint64_t[]){ 4 }, HK_TYPE_F32, 0);
    uint64_t second = b->len;
    tensor_info(b, "w", 1, (uint64_t[]){ 4 }, HK_TYPE_F32, 32);
    pad_to(b, 32);
    put_zeros(b, 64);
    return second;
}

static uint64_t
dims(GByteArray *b, uint32_t n_dims)
{
    header(b, 1, 0);
    tensor_info(b, "w", n_dims, (uint64_t[]){ 4, 4, 4, 4, 4 }, HK_TYPE_F32, 0);
    put_zeros(b, ROOM);
    return 24 + 9;
}

static uint64_t zero_dims(GByteArray *b) { return dims(b, 0); }
static uint64_t five_dims(GByteArray *b) { return dims(b, 5); }

static uint64_t
negative_dim(GByteArray *b)
{
    header(b, 1, 0);
    tensor_info(b, "w", 2, (uint64_t[]){ 4, UINT64_MAX }, HK_TYPE_F32, 0);
    put_zeros(b, ROOM);
    return 24 + 9 + 4 + 8;
}

static uint64_t
element_count_overflow(GByteArray *b)
{
    header(b, 1, 0);
    tensor_info(b, "w", 2, (uint64_t[]){ 1ull << 32, 1ull << 32 }, HK_TYPE_F32, 0);
    put_zeros(b, ROOM);
    return 24 + 9;
}

static uint64_t
size_overflow(GByteArray *b)
{
    /* 2^62 elements fit int64; their 2^65 bytes do not fit uint64 */
    header(b, 1, 0);
    tensor_info(b, "w", 2, (uint64_t[]){ 1ull << 31, 1ull << 31 }, HK_TYPE_F64, 0);
    put_zeros(b, ROOM);
    return 24 + 9;
}

static uint64_t
tensor_type(GByteArray *b, uint32_t type)
{
    header(b, 1, 0);
    tensor_info(b, "w", 1, (uint64_t[]){ 32 }, type, 0);
    put_zeros(b, ROOM);
    return 24 + 9 + 4 + 8;
}

static uint64_t retired_tensor_type(GByteArray *b) { return tensor_type(b, 4); }
static uint64_t unknown_tensor_type(GByteArray *b) { return tensor_type(b, 1000); }

static uint64_t
cut_tensor_type(GByteArray *b)
{
    /* a long name, so the info's first fields pass the count's bound */
    static const char name[] = "a.tensor.name.long.enough.to.pass.the.bound";
    header(b, 1, 0);
    tensor_info(b, name, 1, (uint64_t[]){ 4 }, HK_TYPE_F32, 0);
    uint64_t type_at = 24 + 8 + strlen(name) + 4 + 8;
    b->len = (guint)type_at + 2;
    return type_at;
}

static uint64_t
partial_block(GByteArray *b)
{
    header(b, 1, 0);
    tensor_info(b, "w", 1, (uint64_t[]){ 33 }, HK_TYPE_Q4_0, 0);
    put_zeros(b, ROOM);
    return 24 + 9 + 4;
}

static uint64_t
misaligned_data(GByteArray *b)
{
    header(b, 1, 0);
    uint64_t at = tensor_info(b, "w", 1, (uint64_t[]){ 4 }, HK_TYPE_F32, 16);
    put_zeros(b, ROOM);
    return at;
}

static uint64_t
data_past_end(GByteArray *b)
{
    header(b, 1, 0);
    uint64_t at = tensor_info(b, "w", 1, (uint64_t[]){ 16 }, HK_TYPE_F32, 0);
    pad_to(b, 32);
    put_zeros(b, 10);
    return at;
}

static uint64_t
absurd_data_offset(GByteArray *b)
{
    header(b, 1, 0);
    uint64_t at = tensor_info(b, "w", 1, (uint64_t[]){ 16 }, HK_TYPE_F32, 1ull << 63);
    pad_to(b, 32);
    put_zeros(b, 64);
    return at;
}

static uint64_t
overlapping_data(GByteArray *b)
{
    header(b, 2, 0);
    tensor_info(b, "a", 1, (uint64_t[]){ 16 }, HK_TYPE_F32, 0);
    tensor_info(b, "b", 1, (uint64_t[]){ 16 }, HK_TYPE_F32, 32);
    pad_to(b, 32);
    uint64_t data = b->len;
    put_zeros(b, 96);
    return data + 32;
}

static uint64_t
data_section_cut(GByteArray *b)
{
    header(b, 2, 0);
    tensor_info(b, "a", 1, (uint64_t[]){ 8 }, HK_TYPE_F32, 0);
    uint64_t at = tensor_info(b, "b", 1, (uint64_t[]){ 8 }, HK_TYPE_F32, 32);
    pad_to(b, 32);
    put_zeros(b, 64 - 1);
    return at;
}

typedef struct malformed {
    const char *name;
    uint64_t  (*build)(GByteArray *b);
    const char *says;  /* what the message must say */
} malformed;

static const malformed cases[] = {
    { "empty file",                empty_file,                "truncated file: the magic" },
    { "cut in the magic",          cut_magic,                 "truncated file: the magic" },
    { "bad magic",                 bad_magic,                 "bad magic" },
    { "version 1",                 version_1,                 "unsupported GGUF version 1" },
    { "version 4",                 version_4,                 "unsupported GGUF version 4" },
    { "big-endian",                big_endian,                "big-endian GGUF" },
    { "cut in the version",        cut_version,               "truncated file: the version" },
    { "cut in the tensor count",   cut_tensor_count,          "truncated file: the tensor count" },
    { "cut in the kv count",       cut_kv_count,              "truncated file: the kv count" },
    { "absurd kv count",           absurd_kv_count,           "kv count 1152921504606846976" },
    { "absurd tensor count",       absurd_tensor_count,       "tensor count 1152921504606846976" },
    { "tensor count past the kvs", tensor_count_past_kvs,     "tensor count 2" },
    { "cut in a key length",       cut_key_length,            "truncated file: key of kv 1" },
    { "key past the end",          key_past_end,              "has length 1000, past the end of the file" },
    { "empty key",                 empty_key,                 "empty key" },
    { "NUL in a key",              nul_in_key,                "contains a NUL byte" },
    { "duplicate key",             duplicate_key,             "duplicate key: kv 1 'a.b'" },
    { "cut in a value type",       cut_value_type,            "truncated file: the value type" },
    { "unknown value type",        unknown_value_type,        "unknown value type 13" },
    { "cut in a scalar",           cut_scalar,                "truncated file: the value of kv 0 'k'" },
    { "string past the end",       string_past_end,           "has length 50, past the end of the file" },
    { "bool of 2",                 bool_not_0_or_1,           "neither 0 nor 1" },
    { "cut in an array type",      cut_array_type,            "truncated file: the array element type" },
    { "unknown array type",        unknown_array_type,        "unknown array element type 77" },
    { "nested array",              nested_array,              "nested array" },
    { "cut in an array count",     cut_array_count,           "truncated file: the array count" },
    { "absurd array count",        absurd_array_count,        "array count 4611686018427387904" },
    { "absurd string array count", absurd_string_array_count, "array count 2305843009213693952" },
    { "array cut short",           array_cut_short,           "array count 4" },
    { "array string past the end", array_string_past_end,     "an element of kv 0 'k'" },
    { "bool array element of 5",   bool_array_element,        "bool 5" },
    { "alignment 0",               alignment_zero,            "general.alignment 0" },
    { "alignment 48",              alignment_48,              "general.alignment 48" },
    { "alignment as a string",     alignment_string,          "is a string, not a uint32" },
    { "cut in a tensor name",      cut_tensor_name,           "truncated file: name of tensor 1" },
    { "tensor name past the end",  tensor_name_past_end,      "has length 500, past the end of the file" },
    { "NUL in a tensor name",      nul_in_tensor_name,        "contains a NUL byte" },
    { "duplicate tensor name",     duplicate_tensor_name,     "duplicate tensor name: tensor 1 'w'" },
    { "no dimensions",             zero_dims,                 "has 0 dimensions" },
    { "five dimensions",           five_dims,                 "has 5 dimensions" },
    { "negative dimension",        negative_dim,              "dimension 1 of tensor 0 'w'" },
    { "element count overflow",    element_count_overflow,    "element count overflows" },
    { "size overflow",             size_overflow,             "size in bytes that overflows" },
    { "retired tensor type",       retired_tensor_type,       "unknown type id 4" },
    { "unknown tensor type",       unknown_tensor_type,       "unknown type id 1000" },
    { "cut in a tensor type",      cut_tensor_type,           "truncated file: the type of tensor 0" },
    { "partial block",             partial_block,             "not a whole number of q4_0 blocks" },
    { "misaligned data",           misaligned_data,           "not a multiple of the alignment 32" },
    { "data past the end",         data_past_end,             "data of tensor 'w' (64 bytes" },
    { "absurd data offset",        absurd_data_offset,        "runs past the end of the file" },
    { "overlapping data",          overlapping_data,          "data of tensors 'a' and 'b' overlap" },
    { "data section cut",          data_section_cut,          "data of tensor 'b' (32 bytes" },
};

/* The bytes in a buffer of exactly their size, so a sanitizer sees any
 * read past the end. */
static int
open_exact(const uint8_t *data, size_t size, hk_error *err)
{
    void *copy = g_memdup2(data, size);
    hk_gguf *g = NULL;
    int r = hk_gguf_open_memory(copy, size, &g, err);
    hk_gguf_close(g);
    g_free(copy);
    return r;
}

START_TEST(test_malformed)
{
    const malformed *c = &cases[_i];
    GByteArray *b = g_byte_array_new();
    uint64_t at = c->build(b);
    hk_error err = { 0 };
    char offset[64];

    ck_assert_msg(open_exact(b->data, b->len, &err) < 0, "%s: accepted", c->name);
    ck_assert_int_lt(err.code, 0);
    snprintf(offset, sizeof offset, "at offset %" PRIu64, at);
    ck_assert_msg(strstr(err.message, c->says) != NULL, "%s: \"%s\" does not say \"%s\"",
                  c->name, err.message, c->says);
    ck_assert_msg(strstr(err.message, offset) != NULL, "%s: \"%s\" does not say \"%s\"",
                  c->name, err.message, offset);
    g_byte_array_unref(b);
}
END_TEST

/* ------------------------------------------------------------ cut anywhere */

/* A file with every section, made by the writer; *ret_end is where its
 * last tensor's data ends (only padding follows). */
static void *
every_section(size_t *ret_size, uint64_t *ret_end)
{
    static const char *const tokens[] = { "<s>", "</s>", "hello" };
    static const float scores[] = { 0, 0, -1.5f };
    static const uint8_t weights[2 * 34];
    hk_gguf_writer *w = hk_gguf_writer_new();
    hk_error err = { 0 };
    void *data;
    hk_gguf *g;

    hk_gguf_writer_set_str(w, "general.architecture", "llama");
    hk_gguf_writer_set_u32(w, "llama.block_count", 1);
    hk_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", true);
    hk_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", tokens, 3);
    hk_gguf_writer_set_array(w, "tokenizer.ggml.scores", HK_GGUF_FLOAT32, scores, 3);
    ck_assert_int_eq(hk_gguf_writer_add_tensor(w, "a", HK_TYPE_F32, 1, (uint64_t[]){ 5 }, weights, &err), 0);
    ck_assert_int_eq(hk_gguf_writer_add_tensor(w, "b", HK_TYPE_Q8_0, 2, (uint64_t[]){ 32, 2 }, weights, &err), 0);
    ck_assert_int_eq(hk_gguf_writer_write_memory(w, &data, ret_size, &err), 0);
    hk_gguf_writer_free(w);

    ck_assert_int_eq(hk_gguf_open_memory(data, *ret_size, &g, &err), 0);
    const hk_gguf_tensor *b = hk_gguf_find_tensor(g, "b");
    *ret_end = hk_gguf_data_offset(g) + b->offset + b->size;
    hk_gguf_close(g);
    return data;
}

/* Whatever byte a file is cut at, the reader says it ends too soon. */
START_TEST(test_cut_anywhere)
{
    size_t size;
    uint64_t end;
    uint8_t *data = every_section(&size, &end);

    for (uint64_t len = 0; len < end; len++) {
        hk_error err = { 0 };
        ck_assert_msg(open_exact(data, len, &err) < 0, "cut at %" PRIu64 ": accepted", len);
        ck_assert_msg(strstr(err.message, "truncated file") || strstr(err.message, "past the end") ||
                      strstr(err.message, "bytes left could hold"),
                      "cut at %" PRIu64 ": %s", len, err.message);
        ck_assert_msg(strstr(err.message, "at offset "), "cut at %" PRIu64 ": %s", len, err.message);
    }
    /* only the padding after the last tensor may go */
    hk_error err = { 0 };
    ck_assert_int_eq(open_exact(data, end, &err), 0);
    g_free(data);
}
END_TEST

/* Each valid file in the fuzzer's seed corpus opens, each broken one does
 * not: the seeds stay what their names say. */
START_TEST(test_fuzz_seeds)
{
    const char *root = getenv("HEARKEN_SOURCE_ROOT");
    ck_assert_ptr_nonnull(root);
    char *dir_path = g_build_filename(root, "tests", "fuzz", "corpus", "gguf", NULL);
    GDir *dir = g_dir_open(dir_path, 0, NULL);
    const char *name;
    int valid = 0, broken = 0;

    ck_assert_ptr_nonnull(dir);
    while ((name = g_dir_read_name(dir))) {
        char *path = g_build_filename(dir_path, name, NULL);
        char *contents;
        gsize length;
        hk_error err = { 0 };
        ck_assert(g_file_get_contents(path, &contents, &length, NULL));
        int r = open_exact((const uint8_t *)contents, length, &err);
        if (g_str_has_prefix(name, "valid-")) {
            ck_assert_msg(r == 0, "%s: %s", name, err.message);
            valid++;
        } else {
            ck_assert_msg(r < 0, "%s was accepted", name);
            broken++;
        }
        g_free(contents);
        g_free(path);
    }
    ck_assert_int_gt(valid, 0);
    ck_assert_int_gt(broken, 0);
    g_dir_close(dir);
    g_free(dir_path);
}
END_TEST

static Suite *
malformed_suite(void)
{
    Suite *s = suite_create("gguf-malformed");
    TCase *tc = tcase_create("malformed");
    tcase_add_loop_test(tc, test_malformed, 0, G_N_ELEMENTS(cases));
    tcase_add_test(tc, test_cut_anywhere);
    tcase_add_test(tc, test_fuzz_seeds);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(malformed_suite)
