/* Sessions: prompts in batches, generation and its endings (length, EOG,
 * stop strings, the caller, a full context), streaming and timings. */
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "cpu/backend-cpu.h"
#include "hk-check.h"
#include "hk-nmse.h"
#include "hk-synth-model.h"
#include "session.h"

typedef struct loaded {
    void         *file;
    hk_gguf      *gguf;
    hk_tokenizer *tok;
    hk_backend   *be;
    hk_model     *model;
} loaded;

static void
load_gguf(loaded *l, hk_gguf *g)
{
    hk_error err = { 0 };
    l->gguf = g;
    ck_assert_msg(hk_tokenizer_load(g, &l->tok, &err) == 0, "%s", err.message);
    ck_assert_int_eq(hk_backend_cpu_new(2, &l->be, &err), 0);
    ck_assert_msg(hk_model_load(g, l->be, &l->model, &err) == 0, "%s", err.message);
}

static void
load(const synth_model *s, loaded *l)
{
    size_t size;
    hk_gguf *g;
    hk_error err = { 0 };
    *l = (loaded){ 0 };
    synth_model_write(s, &l->file, &size);
    ck_assert_int_eq(hk_gguf_open_memory(l->file, size, &g, &err), 0);
    load_gguf(l, g);
}

static void
unload(loaded *l)
{
    hk_model_free(l->model);
    hk_backend_free(l->be);
    hk_tokenizer_free(l->tok);
    hk_gguf_close(l->gguf);
    g_free(l->file);
}

static hk_session *
session(const loaded *l, uint32_t n_ctx, uint32_t n_batch, bool all_logits)
{
    hk_session_params p;
    hk_session_params_init(&p);
    p.n_ctx = n_ctx;
    p.n_batch = n_batch;
    p.all_logits = all_logits;
    hk_session *s;
    hk_error err = { 0 };
    ck_assert_msg(hk_session_new(l->model, l->tok, &p, &s, &err) == 0, "%s", err.message);
    return s;
}

/* What the callback saw. */
typedef struct stream {
    GString *text;
    GArray  *ids;
    int      calls;
    int      stop_after;   /* return false at this call; 0: never */
} stream;

static bool
collect(const char *text, int32_t token, void *user)
{
    stream *st = user;
    g_string_append(st->text, text);
    if (token >= 0)
        g_array_append_val(st->ids, token);
    st->calls++;
    return st->stop_after == 0 || st->calls < st->stop_after;
}

static stream
stream_new(void)
{
    return (stream){ g_string_new(NULL), g_array_new(FALSE, FALSE, sizeof(int32_t)), 0, 0 };
}

static void
stream_free(stream *st)
{
    g_string_free(st->text, TRUE);
    g_array_free(st->ids, TRUE);
}

static hk_generate_params
greedy_params(uint32_t max_tokens)
{
    hk_generate_params p;
    hk_generate_params_init(&p);
    p.max_tokens = max_tokens;
    p.sampler.temperature = 0.0f;
    return p;
}

/* Never EOS: greedy runs to the length limit. */
static float
no_eos(const char *name, uint64_t row, uint64_t col, float value, void *user)
{
    return strcmp(name, "output.weight") == 0 && row == SYNTH_EOS ? 0.0f : value;
}

/* A model that always predicts *(int32_t *)user: the residual stream stays
 * the embedding (all ones), and only that token's output row is not 0. */
static float
always(const char *name, uint64_t row, uint64_t col, float value, void *user)
{
    int32_t token = *(const int32_t *)user;
    if (strcmp(name, "token_embd.weight") == 0 || strstr(name, "norm.weight"))
        return 1.0f;
    if (strstr(name, "attn_output") || strstr(name, "ffn_down"))
        return 0.0f;
    if (strcmp(name, "output.weight") == 0)
        return row == (uint64_t)token ? 1.0f : 0.0f;
    return value;
}

static void
load_always(int32_t *token, loaded *l)
{
    synth_model s = synth_model_default();
    s.fill = always;
    s.user = token;
    load(&s, l);
}

/* ----------------------------------------------------------------------------
 * Generation */

START_TEST(test_greedy_streams_the_continuation)
{
    synth_model s = synth_model_default();
    s.type = HK_TYPE_Q8_0;
    s.fill = no_eos;
    loaded l;
    load(&s, &l);
    hk_session *ses = session(&l, 0, 0, false);
    hk_generate_params p = greedy_params(12);
    hk_generate_stats stats;
    hk_error err = { 0 };
    stream st = stream_new();
    const char *prompt = "hello world";

    ck_assert_msg(hk_session_generate(ses, prompt, &p, collect, &st, &stats, &err) == 0, "%s",
                  err.message);
    ck_assert_int_eq(stats.stop, HK_STOP_LENGTH);
    ck_assert_uint_eq(stats.n_generated, 12);
    ck_assert_uint_eq(st.ids->len, 12);
    ck_assert_double_ge(stats.prompt_seconds, 0.0);
    ck_assert_double_gt(stats.gen_seconds, 0.0);

    /* the pieces are the text the ids add after the prompt's */
    int32_t *ids;
    size_t n;
    ck_assert_int_eq(hk_tokenizer_encode(l.tok, prompt, strlen(prompt), true, false, &ids, &n, &err), 0);
    ck_assert_uint_eq(stats.n_prompt, n);
    ck_assert_uint_eq(hk_session_n_past(ses), n + 11);   /* the last token is not fed back */
    GArray *all = g_array_new(FALSE, FALSE, sizeof(int32_t));
    g_array_append_vals(all, ids, n);
    g_array_append_vals(all, st.ids->data, st.ids->len);
    char *before = hk_tokenizer_decode(l.tok, ids, n, false);
    char *full = hk_tokenizer_decode(l.tok, (int32_t *)all->data, all->len, false);
    char *expected = g_strconcat(before, st.text->str, NULL);
    ck_assert_str_eq(full, expected);
    ck_assert_uint_gt(strlen(st.text->str), 0);

    free(ids);
    free(before);
    free(full);
    g_free(expected);
    g_array_free(all, TRUE);
    stream_free(&st);
    hk_session_free(ses);
    unload(&l);
}
END_TEST

START_TEST(test_same_seed_same_tokens)
{
    synth_model s = synth_model_default();
    s.fill = no_eos;
    loaded l;
    load(&s, &l);
    hk_generate_params p = greedy_params(10);
    p.sampler.temperature = 1.0f;
    p.sampler.seed = 42;
    hk_error err = { 0 };
    stream a = stream_new(), b = stream_new();

    hk_session *ses = session(&l, 64, 0, false);
    ck_assert_int_eq(hk_session_generate(ses, "the hot", &p, collect, &a, NULL, &err), 0);
    hk_session_clear(ses);
    ck_assert_uint_eq(hk_session_n_past(ses), 0);
    ck_assert_int_eq(hk_session_generate(ses, "the hot", &p, collect, &b, NULL, &err), 0);
    ck_assert_uint_eq(a.ids->len, b.ids->len);
    ck_assert_int_eq(memcmp(a.ids->data, b.ids->data, a.ids->len * sizeof(int32_t)), 0);

    stream_free(&a);
    stream_free(&b);
    hk_session_free(ses);
    unload(&l);
}
END_TEST

START_TEST(test_bos_only_at_the_start)
{
    synth_model s = synth_model_default();
    loaded l;
    load(&s, &l);
    hk_session *ses = session(&l, 64, 0, false);
    hk_generate_params p = greedy_params(0);
    hk_generate_stats stats;
    hk_error err = { 0 };
    stream st = stream_new();

    ck_assert(hk_tokenizer_wants_bos(l.tok));
    ck_assert_int_eq(hk_session_generate(ses, "the", &p, collect, &st, &stats, &err), 0);
    uint32_t first = stats.n_prompt;
    ck_assert_int_eq(hk_session_generate(ses, "the", &p, collect, &st, &stats, &err), 0);
    ck_assert_uint_eq(first, stats.n_prompt + 1);
    ck_assert_uint_eq(hk_session_n_past(ses), first + stats.n_prompt);
    ck_assert_int_eq(st.calls, 0);

    stream_free(&st);
    hk_session_free(ses);
    unload(&l);
}
END_TEST

START_TEST(test_end_of_generation)
{
    int32_t token = SYNTH_EOS;
    loaded l;
    load_always(&token, &l);
    hk_session *ses = session(&l, 64, 0, false);
    hk_generate_params p = greedy_params(20);
    hk_generate_stats stats;
    hk_error err = { 0 };
    stream st = stream_new();

    ck_assert_int_eq(hk_session_generate(ses, "hello", &p, collect, &st, &stats, &err), 0);
    ck_assert_int_eq(stats.stop, HK_STOP_EOG);
    ck_assert_uint_eq(stats.n_generated, 0);
    ck_assert_uint_eq(st.ids->len, 0);
    ck_assert_str_eq(st.text->str, "");

    stream_free(&st);
    hk_session_free(ses);
    unload(&l);
}
END_TEST

START_TEST(test_stop_strings)
{
    int32_t token = SYNTH_BYTE0 + 'a';
    loaded l;
    load_always(&token, &l);
    hk_session *ses = session(&l, 64, 0, false);
    hk_generate_params p = greedy_params(5);
    hk_generate_stats stats;
    hk_error err = { 0 };

    /* "aa" appears at the second token and is not shown */
    const char *const stops[] = { "aa" };
    p.stops = stops;
    p.n_stops = 1;
    stream st = stream_new();
    ck_assert_int_eq(hk_session_generate(ses, "hello", &p, collect, &st, &stats, &err), 0);
    ck_assert_int_eq(stats.stop, HK_STOP_STRING);
    ck_assert_uint_eq(stats.n_generated, 2);
    ck_assert_str_eq(st.text->str, "");
    stream_free(&st);

    /* "ab" never completes: each "a" waits for the next, the last one is
     * sent at the end */
    const char *const never[] = { "ab" };
    p.stops = never;
    hk_session_clear(ses);
    st = stream_new();
    ck_assert_int_eq(hk_session_generate(ses, "hello", &p, collect, &st, &stats, &err), 0);
    ck_assert_int_eq(stats.stop, HK_STOP_LENGTH);
    ck_assert_uint_eq(stats.n_generated, 5);
    ck_assert_str_eq(st.text->str, "aaaaa");
    stream_free(&st);

    hk_session_free(ses);
    unload(&l);
}
END_TEST

START_TEST(test_callback_stops)
{
    int32_t token = SYNTH_BYTE0 + 'z';
    loaded l;
    load_always(&token, &l);
    hk_session *ses = session(&l, 64, 0, false);
    hk_generate_params p = greedy_params(10);
    hk_generate_stats stats;
    hk_error err = { 0 };
    stream st = stream_new();
    st.stop_after = 3;

    ck_assert_int_eq(hk_session_generate(ses, "hello", &p, collect, &st, &stats, &err), 0);
    ck_assert_int_eq(stats.stop, HK_STOP_CALLER);
    ck_assert_uint_eq(stats.n_generated, 3);
    ck_assert_str_eq(st.text->str, "zzz");

    stream_free(&st);
    hk_session_free(ses);
    unload(&l);
}
END_TEST

START_TEST(test_context_full_while_generating)
{
    synth_model s = synth_model_default();
    s.fill = no_eos;
    loaded l;
    load(&s, &l);
    hk_session *ses = session(&l, 16, 0, false);
    hk_generate_params p = greedy_params(100);
    hk_generate_stats stats;
    hk_error err = { 0 };
    stream st = stream_new();

    ck_assert_int_eq(hk_session_generate(ses, "hello", &p, collect, &st, &stats, &err), -ENOSPC);
    ck_assert_str_eq(err.message, "context full: 16 tokens");
    /* every position holds a token; the one sampled last had no room */
    ck_assert_uint_eq(hk_session_n_past(ses), 16);
    ck_assert_uint_eq(stats.n_generated, 16 - stats.n_prompt + 1);
    ck_assert_uint_eq(st.ids->len, stats.n_generated);

    stream_free(&st);
    hk_session_free(ses);
    unload(&l);
}
END_TEST

START_TEST(test_prompt_too_long)
{
    synth_model s = synth_model_default();
    loaded l;
    load(&s, &l);
    hk_session *ses = session(&l, 4, 0, false);
    hk_generate_params p = greedy_params(10);
    hk_error err = { 0 };
    stream st = stream_new();

    ck_assert_int_eq(hk_session_generate(ses, "the hot world and the hello", &p, collect, &st,
                                         NULL, &err), -ENOSPC);
    ck_assert_str_eq(err.message, "context full: 4 tokens");
    ck_assert_uint_eq(hk_session_n_past(ses), 0);
    ck_assert_int_eq(st.calls, 0);

    stream_free(&st);
    hk_session_free(ses);
    unload(&l);
}
END_TEST

/* ----------------------------------------------------------------------------
 * Evaluation in batches */

START_TEST(test_eval_in_batches)
{
    synth_model s = synth_model_default();
    s.type = HK_TYPE_F16;
    loaded l;
    load(&s, &l);
    const int32_t ids[] = { 1, 40, 41, 260, 270, 280, 290, 3, 100, 200, 298 };
    const size_t n = sizeof ids / sizeof ids[0];
    hk_session *small = session(&l, 32, 4, true), *whole = session(&l, 32, 16, true);
    float *a = g_new(float, n * SYNTH_N_VOCAB), *b = g_new(float, n * SYNTH_N_VOCAB);
    hk_error err = { 0 };

    ck_assert_int_eq(hk_session_eval(small, ids, n, a, &err), 0);
    ck_assert_int_eq(hk_session_eval(whole, ids, n, b, &err), 0);
    ck_assert_double_lt(hk_nmse(a, b, n * SYNTH_N_VOCAB), 1e-10);
    ck_assert_int_eq(memcmp(hk_session_logits(small), a + (n - 1) * SYNTH_N_VOCAB,
                            SYNTH_N_VOCAB * sizeof(float)), 0);
    ck_assert_uint_eq(hk_session_n_past(small), n);

    /* only the last logits without all_logits */
    hk_session *last = session(&l, 32, 4, false);
    ck_assert_int_eq(hk_session_eval(last, ids, n, a, &err), -EINVAL);
    ck_assert_int_eq(hk_session_eval(last, ids, n, NULL, &err), 0);

    g_free(a);
    g_free(b);
    hk_session_free(small);
    hk_session_free(whole);
    hk_session_free(last);
    unload(&l);
}
END_TEST

/* What a conversation's next turn relies on: after truncating to a prefix,
 * new tokens read the same as in a session that never saw the rest. */
START_TEST(test_truncate_keeps_a_prefix)
{
    synth_model s = synth_model_default();
    s.type = HK_TYPE_F16;
    loaded l;
    load(&s, &l);
    const int32_t first[] = { 1, 40, 41, 260, 270, 280, 290, 3 };
    const int32_t next[] = { 100, 200, 298 };
    const uint32_t keep = 5;
    hk_session *reused = session(&l, 32, 16, false), *fresh = session(&l, 32, 16, false);
    hk_error err = { 0 };

    ck_assert_int_eq(hk_session_eval(reused, first, G_N_ELEMENTS(first), NULL, &err), 0);
    hk_session_truncate(reused, 100);   /* beyond what it holds: no change */
    ck_assert_uint_eq(hk_session_n_past(reused), G_N_ELEMENTS(first));
    hk_session_truncate(reused, keep);
    ck_assert_uint_eq(hk_session_n_past(reused), keep);
    ck_assert_int_eq(hk_session_eval(reused, next, G_N_ELEMENTS(next), NULL, &err), 0);

    ck_assert_int_eq(hk_session_eval(fresh, first, keep, NULL, &err), 0);
    ck_assert_int_eq(hk_session_eval(fresh, next, G_N_ELEMENTS(next), NULL, &err), 0);
    ck_assert_uint_eq(hk_session_n_past(reused), hk_session_n_past(fresh));
    ck_assert_int_eq(memcmp(hk_session_logits(reused), hk_session_logits(fresh),
                            SYNTH_N_VOCAB * sizeof(float)), 0);

    hk_session_free(reused);
    hk_session_free(fresh);
    unload(&l);
}
END_TEST

/* A prompt given as ids (a conversation the caller tokenized itself). */
START_TEST(test_generate_from_ids)
{
    synth_model s = synth_model_default();
    s.fill = no_eos;
    loaded l;
    load(&s, &l);
    const int32_t ids[] = { 1, 40, 41, 260, 270, 280, 290, 3, 100, 200 };
    const size_t n = sizeof ids / sizeof ids[0];
    hk_session *ses = session(&l, 32, 0, false);
    hk_generate_params p = greedy_params(3);
    hk_generate_stats stats;
    hk_error err = { 0 };
    stream st = stream_new();

    ck_assert_int_eq(hk_session_generate_ids(ses, ids, 0, &p, collect, &st, &stats, &err), -EINVAL);
    ck_assert_str_eq(err.message, "the prompt is empty");
    ck_assert_int_eq(hk_session_generate_ids(ses, ids, n, &p, collect, &st, &stats, &err), 0);
    ck_assert_uint_eq(stats.n_prompt, n);
    ck_assert_int_eq(stats.stop, HK_STOP_LENGTH);
    ck_assert_uint_eq(st.ids->len, 3);
    ck_assert_uint_eq(hk_session_n_past(ses), n + 2);

    stream_free(&st);
    hk_session_free(ses);
    unload(&l);
}
END_TEST

/* ----------------------------------------------------------------------------
 * The shared tiny model, end to end */

START_TEST(test_tiny_model_generates)
{
    if (hk_test_skip_without_tiny_model("test-session"))
        return;
    char *path = g_build_filename(hk_test_shared_dir(), "models", "llama-2-tiny-random.gguf", NULL);
    hk_gguf *g;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_gguf_open(path, &g, &err), 0);
    loaded l = { 0 };
    load_gguf(&l, g);
    hk_session *ses = session(&l, 0, 0, false);
    ck_assert_uint_eq(hk_session_n_ctx(ses), 4096);   /* the default's cap */
    hk_generate_params p = greedy_params(8);
    hk_generate_stats stats;
    stream st = stream_new();

    ck_assert_int_eq(hk_session_generate(ses, "Hello", &p, collect, &st, &stats, &err), 0);
    ck_assert_uint_eq(stats.n_generated, st.ids->len);
    ck_assert(stats.n_generated == 8 || stats.stop == HK_STOP_EOG);
    ck_assert_uint_gt(stats.n_generated + (stats.stop == HK_STOP_EOG), 0);

    stream_free(&st);
    hk_session_free(ses);
    unload(&l);
    g_free(path);
}
END_TEST

static Suite *
session_suite(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("generate");
    tcase_add_test(tc, test_greedy_streams_the_continuation);
    tcase_add_test(tc, test_same_seed_same_tokens);
    tcase_add_test(tc, test_bos_only_at_the_start);
    tcase_add_test(tc, test_end_of_generation);
    tcase_add_test(tc, test_stop_strings);
    tcase_add_test(tc, test_callback_stops);
    tcase_add_test(tc, test_context_full_while_generating);
    tcase_add_test(tc, test_prompt_too_long);
    tcase_add_test(tc, test_generate_from_ids);
    suite_add_tcase(s, tc);

    tc = tcase_create("eval");
    tcase_add_test(tc, test_eval_in_batches);
    tcase_add_test(tc, test_truncate_keeps_a_prefix);
    suite_add_tcase(s, tc);

    tc = tcase_create("shared");
    tcase_add_test(tc, test_tiny_model_generates);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(session_suite)
