/* Engine error reporting: codes travel back, context goes in front. */
#include <errno.h>
#include <string.h>

#include "hk-check.h"
#include "error.h"

START_TEST(test_set_returns_code)
{
    hk_error err = { 0 };
    ck_assert_int_eq(hk_error_set(&err, -EINVAL, "bad %s at offset %d", "count", 12), -EINVAL);
    ck_assert_int_eq(err.code, -EINVAL);
    ck_assert_str_eq(err.message, "bad count at offset 12");
    /* callers may pass no error at all */
    ck_assert_int_eq(hk_error_set(NULL, -ENOMEM, "x"), -ENOMEM);
    hk_error_prefix(NULL, "file: ");
}
END_TEST

START_TEST(test_prefix)
{
    hk_error err = { 0 };
    hk_error_set(&err, -EIO, "truncated tensor data");
    hk_error_prefix(&err, "%s: ", "model.gguf");
    ck_assert_str_eq(err.message, "model.gguf: truncated tensor data");
    ck_assert_int_eq(err.code, -EIO);
}
END_TEST

START_TEST(test_prefix_of_a_full_message)
{
    hk_error err = { 0 };
    char long_text[600];
    memset(long_text, 'm', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    hk_error_set(&err, -EINVAL, "%s", long_text);
    ck_assert_uint_eq(strlen(err.message), sizeof err.message - 1);

    hk_error_prefix(&err, "context: ");
    ck_assert_uint_eq(strlen(err.message), sizeof err.message - 1);
    ck_assert(strncmp(err.message, "context: mmm", 12) == 0);
}
END_TEST

static Suite *
error_suite(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("error");
    tcase_add_test(tc, test_set_returns_code);
    tcase_add_test(tc, test_prefix);
    tcase_add_test(tc, test_prefix_of_a_full_message);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(error_suite)
