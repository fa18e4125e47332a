/* The tensor type table against the ggml block layouts. */
#include "hk-check.h"
#include "types.h"

START_TEST(test_block_layouts)
{
    ck_assert_uint_eq(hk_type_block_bytes(HK_TYPE_Q8_0), 34);
    ck_assert_uint_eq(hk_type_block_bytes(HK_TYPE_Q4_K), 144);
    ck_assert_uint_eq(hk_type_block_bytes(HK_TYPE_Q6_K), 210);
    ck_assert_uint_eq(hk_type_block_elems(HK_TYPE_Q5_K), 256);
    ck_assert_uint_eq(hk_type_block_bytes(HK_TYPE_BF16), 2);
    ck_assert_str_eq(hk_type_name(HK_TYPE_Q4_K), "q4_K");
}
END_TEST

START_TEST(test_row_bytes)
{
    ck_assert_uint_eq(hk_type_row_bytes(HK_TYPE_Q4_0, 4096), 4096 / 32 * 18);
    ck_assert_uint_eq(hk_type_row_bytes(HK_TYPE_F32, 7), 28);
    /* not a whole number of blocks */
    ck_assert_uint_eq(hk_type_row_bytes(HK_TYPE_Q4_K, 100), 0);
    /* would overflow */
    ck_assert_uint_eq(hk_type_row_bytes(HK_TYPE_F64, UINT64_MAX), 0);
}
END_TEST

START_TEST(test_unknown_ids)
{
    ck_assert(!hk_type_is_known(4));      /* retired q4_2 */
    ck_assert(!hk_type_is_known(31));
    ck_assert(!hk_type_is_known(1000));
    ck_assert_uint_eq(hk_type_block_bytes(5), 0);
    ck_assert_str_eq(hk_type_name(77), "unknown");
    ck_assert(hk_type_is_supported(HK_TYPE_Q5_K));
    ck_assert(!hk_type_is_supported(HK_TYPE_IQ2_XXS));
}
END_TEST

static Suite *
types_suite(void)
{
    Suite *s = suite_create("types");
    TCase *tc = tcase_create("layouts");
    tcase_add_test(tc, test_block_layouts);
    tcase_add_test(tc, test_row_bytes);
    tcase_add_test(tc, test_unknown_ids);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(types_suite)
