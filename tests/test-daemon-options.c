/* The a{sv} dictionaries D-Bus callers pass: every key, wrong types,
 * ranges, lengths and unknown keys. */
#include <math.h>
#include <string.h>

#include "daemon/hk-glib-check.h"
#include "hearken-error.h"
#include "hearken-options.h"

static GVariant *
dict1(const char *key, GVariant *value)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", key, value);
    return g_variant_ref_sink(g_variant_builder_end(&b));
}

/* Parses {key: value} and expects code, with `mention` in the message. */
static void
assert_refused(const char *key, GVariant *value, int code, const char *mention)
{
    GVariant *dict = dict1(key, value);
    HearkenOptions options = { 0 };
    GError *error = NULL;

    ck_assert(!hearken_options_parse(dict, &options, &error));
    hk_assert_error(error, HEARKEN_ERROR, code);
    ck_assert_msg(strstr(error->message, mention), "“%s” does not mention %s", error->message, mention);
    ck_assert_ptr_null(options.system);
    g_error_free(error);
    g_variant_unref(dict);
}

START_TEST(test_all_options)
{
    GVariant *dict = g_variant_ref_sink(g_variant_new_parsed(
        "{'temperature': <0.0>, 'top_p': <0.5>, 'max_tokens': <@u 8192>, "
        "'seed': <@t 18446744073709551615>, 'system': <'Be brief.'>}"));
    g_auto(HearkenOptions) options = { 0 };
    GError *error = NULL;

    ck_assert(hearken_options_parse(dict, &options, &error));
    hk_assert_no_error(error);
    ck_assert(options.has_temperature && options.temperature == 0.0);
    ck_assert(options.has_top_p && options.top_p == 0.5);
    ck_assert(options.has_max_tokens && options.max_tokens == 8192);
    ck_assert(options.has_seed && options.seed == G_MAXUINT64);
    ck_assert_str_eq(options.system, "Be brief.");
    g_variant_unref(dict);
}
END_TEST

START_TEST(test_no_options)
{
    GVariant *dict = g_variant_ref_sink(g_variant_new_parsed("@a{sv} {}"));
    HearkenOptions options = { 0 };

    ck_assert(hearken_options_parse(dict, &options, NULL));
    ck_assert(!options.has_temperature && !options.has_top_p && !options.has_max_tokens);
    ck_assert(!options.has_seed && options.system == NULL);
    g_variant_unref(dict);
}
END_TEST

START_TEST(test_wrong_types)
{
    assert_refused("temperature", g_variant_new_string("hot"), HEARKEN_ERROR_INVALID_ARGUMENT, "'d'");
    assert_refused("top_p", g_variant_new_int32(1), HEARKEN_ERROR_INVALID_ARGUMENT, "top_p");
    /* int32 is not u: a negative count cannot slip through */
    assert_refused("max_tokens", g_variant_new_int32(-1), HEARKEN_ERROR_INVALID_ARGUMENT, "'u'");
    assert_refused("seed", g_variant_new_uint32(7), HEARKEN_ERROR_INVALID_ARGUMENT, "'t'");
    assert_refused("system", g_variant_new_int32(7), HEARKEN_ERROR_INVALID_ARGUMENT, "system");
    assert_refused("temperature", g_variant_new_variant(g_variant_new_double(1)),
                   HEARKEN_ERROR_INVALID_ARGUMENT, "'v'");
}
END_TEST

START_TEST(test_ranges)
{
    assert_refused("temperature", g_variant_new_double(-0.1), HEARKEN_ERROR_INVALID_ARGUMENT, "0 to 2");
    assert_refused("temperature", g_variant_new_double(2.5), HEARKEN_ERROR_INVALID_ARGUMENT, "0 to 2");
    assert_refused("temperature", g_variant_new_double(NAN), HEARKEN_ERROR_INVALID_ARGUMENT, "0 to 2");
    assert_refused("top_p", g_variant_new_double(0), HEARKEN_ERROR_INVALID_ARGUMENT, "top_p");
    assert_refused("top_p", g_variant_new_double(INFINITY), HEARKEN_ERROR_INVALID_ARGUMENT, "top_p");
    assert_refused("max_tokens", g_variant_new_uint32(0), HEARKEN_ERROR_INVALID_ARGUMENT, "1 to 8192");
    assert_refused("max_tokens", g_variant_new_uint32(G_MAXUINT32), HEARKEN_ERROR_INVALID_ARGUMENT, "1 to 8192");
}
END_TEST

START_TEST(test_long_system_prompt)
{
    char *text = g_strnfill(16 * 1024 + 1, 'a');

    assert_refused("system", g_variant_new_take_string(text), HEARKEN_ERROR_TOO_LONG, "16384");
}
END_TEST

START_TEST(test_unknown_keys)
{
    char *huge = g_strnfill(1000000, 'k');
    GString *accents = g_string_new(NULL);

    assert_refused("temprature", g_variant_new_double(1), HEARKEN_ERROR_INVALID_ARGUMENT, "temperature (d)");
    /* the message quotes a bounded start of the key */
    assert_refused(huge, g_variant_new_double(1), HEARKEN_ERROR_INVALID_ARGUMENT, "kkkk…");
    for (int i = 0; i < 100; i++)
        g_string_append(accents, "é");
    {
        GVariant *dict = dict1(accents->str, g_variant_new_double(1));
        HearkenOptions options = { 0 };
        GError *error = NULL;

        ck_assert(!hearken_options_parse(dict, &options, &error));
        ck_assert(g_utf8_validate(error->message, -1, NULL));
        ck_assert_uint_lt(strlen(error->message), 400);
        g_error_free(error);
        g_variant_unref(dict);
    }
    g_string_free(accents, TRUE);
    g_free(huge);
}
END_TEST

static void
assert_extra_refused(const char *text, int code, const char *mention)
{
    GVariant *dict = g_variant_ref_sink(g_variant_new_parsed(text));
    HearkenFeedbackExtra extra = { 0 };
    GError *error = NULL;

    ck_assert(!hearken_feedback_extra_parse(dict, &extra, &error));
    hk_assert_error(error, HEARKEN_ERROR, code);
    ck_assert_msg(strstr(error->message, mention), "“%s” does not mention %s", error->message, mention);
    g_error_free(error);
    g_variant_unref(dict);
}

START_TEST(test_feedback_extra)
{
    GVariant *dict = g_variant_ref_sink(g_variant_new_parsed(
        "{'intent': <'weather'>, 'comment': <'I meant rain'>}"));
    g_auto(HearkenFeedbackExtra) extra = { 0 };
    g_autofree char *c4097 = g_strnfill(4097, 'c');
    g_autofree char *long_comment = g_strdup_printf("{'comment': <'%s'>}", c4097);

    ck_assert(hearken_feedback_extra_parse(dict, &extra, NULL));
    ck_assert_str_eq(extra.intent, "weather");
    ck_assert_str_eq(extra.comment, "I meant rain");
    g_variant_unref(dict);

    assert_extra_refused("{'intent': <7>}", HEARKEN_ERROR_INVALID_ARGUMENT, "intent");
    assert_extra_refused("{'intent': <''>}", HEARKEN_ERROR_INVALID_ARGUMENT, "intent");
    assert_extra_refused("{'rating': <1>}", HEARKEN_ERROR_INVALID_ARGUMENT, "intent (s) and comment (s)");
    assert_extra_refused(long_comment, HEARKEN_ERROR_TOO_LONG, "4096");
}
END_TEST

START_TEST(test_check_length)
{
    GError *error = NULL;

    ck_assert(hearken_check_length("The prompt", "abc", 3, &error));
    ck_assert(!hearken_check_length("The prompt", "abcd", 3, &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_TOO_LONG);
    ck_assert_str_eq(error->message, "The prompt is 4 bytes long; the limit is 3 bytes");
    g_error_free(error);
}
END_TEST

static Suite *
options_suite(void)
{
    Suite *s = suite_create("daemon-options");
    TCase *tc = tcase_create("options");

    tcase_add_test(tc, test_all_options);
    tcase_add_test(tc, test_no_options);
    tcase_add_test(tc, test_wrong_types);
    tcase_add_test(tc, test_ranges);
    tcase_add_test(tc, test_long_system_prompt);
    tcase_add_test(tc, test_unknown_keys);
    tcase_add_test(tc, test_feedback_extra);
    tcase_add_test(tc, test_check_length);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(options_suite)
