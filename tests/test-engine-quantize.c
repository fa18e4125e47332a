/* `hearken-engine quantize` on a small f32 model the writer made: the type
 * each tensor gets in each mixture, the metadata kept, the values close to
 * the originals, and the one-line errors. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "gguf.h"
#include "hk-check.h"
#include "hk-rng.h"
#include "hk-subprocess.h"
#include "hk-tmpdir.h"
#include "quant.h"

#define DIM 256
#define FF 288          /* no whole number of 256: the k-quants fall back */
#define N_LAYERS 8      /* more bits in layers 0, 3, 6, 7 */
#define VOCAB 40

static char *tmp_dir;
static char *f32_path;

typedef struct source_tensor {
    char     name[64];
    uint32_t n_dims;
    uint64_t ne[2];
    float   *data;
} source_tensor;

static source_tensor sources[4 + 4 * N_LAYERS];
static int n_sources;

/* ------------------------------------------------------------ the model */

static void
add_source(hk_gguf_writer *w, const char *name, uint32_t n_dims, uint64_t ne0, uint64_t ne1)
{
    source_tensor *t = &sources[n_sources++];
    uint64_t n = ne0 * (n_dims > 1 ? ne1 : 1);
    hk_error err = { 0 };

    g_strlcpy(t->name, name, sizeof t->name);
    t->n_dims = n_dims;
    t->ne[0] = ne0;
    t->ne[1] = ne1;
    t->data = g_new(float, n);
    for (uint64_t i = 0; i < n; i++)
        t->data[i] = n_dims == 1 ? 1.0f + 0.01f * (float)i : 0.02f * hk_rng_normal();
    ck_assert_msg(hk_gguf_writer_add_tensor(w, name, HK_TYPE_F32, n_dims, t->ne, t->data, &err) == 0,
                  "%s", err.message);
}

static void
setup(void)
{
    hk_gguf_writer *w = hk_gguf_writer_new();
    hk_error err = { 0 };
    char name[64];

    tmp_dir = hk_tmpdir_new();
    f32_path = g_build_filename(tmp_dir, "f32.gguf", NULL);
    hk_rng_state = 11;
    n_sources = 0;

    hk_gguf_writer_set_str(w, "general.architecture", "llama");
    hk_gguf_writer_set_str(w, "general.name", "tiny test");
    hk_gguf_writer_set_u32(w, "general.file_type", 0);
    hk_gguf_writer_set_u32(w, "llama.block_count", N_LAYERS);
    const char *tokens[] = { "a", "b", "c" };
    hk_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", tokens, 3);

    add_source(w, "token_embd.weight", 2, DIM, VOCAB);
    for (int i = 0; i < N_LAYERS; i++) {
        snprintf(name, sizeof name, "blk.%d.attn_norm.weight", i);
        add_source(w, name, 1, DIM, 1);
        snprintf(name, sizeof name, "blk.%d.attn_q.weight", i);
        add_source(w, name, 2, DIM, 16);
        snprintf(name, sizeof name, "blk.%d.attn_v.weight", i);
        add_source(w, name, 2, DIM, 8);
        snprintf(name, sizeof name, "blk.%d.ffn_down.weight", i);
        add_source(w, name, 2, FF, 4);
    }
    add_source(w, "output_norm.weight", 1, DIM, 1);
    add_source(w, "output.weight", 2, DIM, VOCAB);
    ck_assert_msg(hk_gguf_writer_write_file(w, f32_path, &err) == 0, "%s", err.message);
    hk_gguf_writer_free(w);
}

static void
teardown(void)
{
    hk_tmpdir_remove(tmp_dir);
    for (int i = 0; i < n_sources; i++)
        g_free(sources[i].data);
    g_free(f32_path);
    g_free(tmp_dir);
}

/* -------------------------------------------------------------- helpers */

static hk_run_result
run_quantize(const char *in, const char *out, const char *type)
{
    char *exe = hk_built_cli("hearken-engine");
    const char *argv[] = { exe, "quantize", in, out, type, NULL };
    hk_run_result r = hk_run(argv);

    g_free(exe);
    return r;
}

static hk_gguf *
quantize_ok(const char *type, const char *from)
{
    char *out = g_strdup_printf("%s/%s.gguf", tmp_dir, type);
    hk_run_result r = run_quantize(from, out, type);
    ck_assert_msg(r.status == 0, "quantize %s failed: %s", type, r.err);
    hk_run_result_clear(&r);

    hk_gguf *g = NULL;
    hk_error err = { 0 };
    ck_assert_msg(hk_gguf_open(out, &g, &err) == 0, "%s", err.message);
    g_free(out);
    return g;
}

static const char *
type_of(const hk_gguf *g, const char *name)
{
    const hk_gguf_tensor *t = hk_gguf_find_tensor(g, name);
    ck_assert_msg(t != NULL, "%s is missing", name);
    return hk_type_name(t->type);
}

/* NMSE of every tensor against the f32 original; 1-D ones exact. */
static void
check_values(const hk_gguf *g, double max_nmse)
{
    for (int i = 0; i < n_sources; i++) {
        const source_tensor *s = &sources[i];
        const hk_gguf_tensor *t = hk_gguf_find_tensor(g, s->name);
        ck_assert_msg(t != NULL, "%s is missing", s->name);
        ck_assert_uint_eq(t->n_dims, s->n_dims);
        ck_assert_uint_eq(t->ne[0], s->ne[0]);
        uint64_t rows = s->n_dims > 1 ? s->ne[1] : 1;
        ck_assert_uint_eq(t->ne[1], rows);

        float *row = g_new(float, s->ne[0]);
        double err = 0, norm = 0;
        for (uint64_t r = 0; r < rows; r++) {
            hk_dequantize_row(t->type, (const uint8_t *)t->data + r * hk_type_row_bytes(t->type, s->ne[0]),
                              row, (int64_t)s->ne[0]);
            for (uint64_t j = 0; j < s->ne[0]; j++) {
                double d = (double)row[j] - s->data[r * s->ne[0] + j];
                err += d * d;
                norm += (double)s->data[r * s->ne[0] + j] * s->data[r * s->ne[0] + j];
            }
        }
        g_free(row);
        if (s->n_dims == 1)
            ck_assert_msg(err == 0, "%s changed", s->name);
        else
            ck_assert_msg(err / norm < max_nmse, "%s (%s): NMSE %g", s->name,
                          hk_type_name(t->type), err / norm);
    }
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_q4_k_m_mixture)
{
    hk_gguf *g = quantize_ok("q4_k_m", f32_path);
    uint32_t file_type = 0;
    hk_gguf_str name;

    ck_assert(hk_gguf_get_u32(g, "general.file_type", &file_type));
    ck_assert_uint_eq(file_type, 15);
    ck_assert(hk_gguf_get_str(g, "general.name", &name) && hk_gguf_str_eq(name, "tiny test"));
    uint64_t n_tokens = 0;
    hk_gguf_vtype vt;
    ck_assert(hk_gguf_get_array(g, "tokenizer.ggml.tokens", &vt, &n_tokens));
    ck_assert_uint_eq(n_tokens, 3);
    ck_assert_uint_eq(hk_gguf_n_tensors(g), (uint64_t)n_sources);

    ck_assert_str_eq(type_of(g, "token_embd.weight"), "q4_K");
    ck_assert_str_eq(type_of(g, "output.weight"), "q6_K");
    ck_assert_str_eq(type_of(g, "output_norm.weight"), "f32");
    ck_assert_str_eq(type_of(g, "blk.2.attn_norm.weight"), "f32");
    ck_assert_str_eq(type_of(g, "blk.2.attn_q.weight"), "q4_K");
    /* more bits: the first and last eighth, then every third */
    static const char *const v_types[N_LAYERS] = {
        "q6_K", "q4_K", "q4_K", "q6_K", "q4_K", "q4_K", "q6_K", "q6_K",
    };
    for (int i = 0; i < N_LAYERS; i++) {
        char t[64];
        snprintf(t, sizeof t, "blk.%d.attn_v.weight", i);
        ck_assert_msg(strcmp(type_of(g, t), v_types[i]) == 0, "%s is %s", t, type_of(g, t));
        /* rows of 288: Q6_K falls back to Q8_0, Q4_K to Q5_0 */
        snprintf(t, sizeof t, "blk.%d.ffn_down.weight", i);
        ck_assert_str_eq(type_of(g, t), strcmp(v_types[i], "q6_K") == 0 ? "q8_0" : "q5_0");
    }
    check_values(g, 1e-2);
    hk_gguf_close(g);
}
END_TEST

START_TEST(test_q8_0_and_q4_0)
{
    hk_gguf *g = quantize_ok("q8_0", f32_path);
    uint32_t file_type = 0;
    ck_assert(hk_gguf_get_u32(g, "general.file_type", &file_type));
    ck_assert_uint_eq(file_type, 7);
    ck_assert_str_eq(type_of(g, "output.weight"), "q8_0");
    ck_assert_str_eq(type_of(g, "blk.0.ffn_down.weight"), "q8_0");
    check_values(g, 1e-4);
    hk_gguf_close(g);

    g = quantize_ok("q4_0", f32_path);
    ck_assert(hk_gguf_get_u32(g, "general.file_type", &file_type));
    ck_assert_uint_eq(file_type, 2);
    ck_assert_str_eq(type_of(g, "blk.0.attn_v.weight"), "q4_0");
    ck_assert_str_eq(type_of(g, "output.weight"), "q6_K");
    check_values(g, 2e-2);
    hk_gguf_close(g);
}
END_TEST

/* A quantized file is read too: q8_0 requantized to q4_0 stays close. */
START_TEST(test_requantize)
{
    hk_gguf *g = quantize_ok("q8_0", f32_path);
    hk_gguf_close(g);
    char *q8 = g_strdup_printf("%s/q8_0.gguf", tmp_dir);
    g = quantize_ok("q4_0", q8);
    ck_assert_str_eq(type_of(g, "blk.1.attn_q.weight"), "q4_0");
    check_values(g, 2e-2);
    hk_gguf_close(g);
    g_free(q8);
}
END_TEST

START_TEST(test_errors)
{
    char *out = g_build_filename(tmp_dir, "out.gguf", NULL);

    hk_run_result r = run_quantize(f32_path, out, "q3_k_s");
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(g_str_has_prefix(r.err, "hearken-engine: quantize: unknown type 'q3_k_s'"), "%s", r.err);
    hk_run_result_clear(&r);

    char *missing = g_build_filename(tmp_dir, "missing.gguf", NULL);
    r = run_quantize(missing, out, "q8_0");
    ck_assert_int_eq(r.status, 1);
    hk_assert_one_error_line(r.err, "hearken-engine");
    ck_assert_msg(g_str_has_prefix(r.err, "hearken-engine: quantize: ") && strstr(r.err, "missing.gguf"),
                  "%s", r.err);
    ck_assert(!g_file_test(out, G_FILE_TEST_EXISTS));
    hk_run_result_clear(&r);

    g_free(missing);
    g_free(out);
}
END_TEST

static Suite *
engine_quantize_suite(void)
{
    Suite *s = suite_create("engine-quantize");
    TCase *tc = tcase_create("quantize");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_q4_k_m_mixture);
    tcase_add_test(tc, test_q8_0_and_q4_0);
    tcase_add_test(tc, test_requantize);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(engine_quantize_suite)
