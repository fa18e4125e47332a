/* Choosing a backend: what --backend and HEARKEN_BACKEND ask for, what
 * the machine gives, and the one-line reason the service shows.  The
 * Vulkan cases need a device (lavapipe in CI) and say so when there is
 * none; the rest run everywhere. */
#include <errno.h>
#include <string.h>

#include "backend-failover.h"
#include "backend-select.h"
#include "hk-check.h"
#include "hk-tmpdir.h"
#include "vulkan/vk-config.h"
#if HK_HAVE_VULKAN
#include "vulkan/backend-vulkan.h"
#endif

static char *cache_dir;

static void
setup(void)
{
    cache_dir = hk_tmpdir_new();
    g_setenv("XDG_CACHE_HOME", cache_dir, TRUE);
    g_unsetenv("HEARKEN_BACKEND");
    g_unsetenv("HEARKEN_VULKAN_DEVICE");
    g_unsetenv("HEARKEN_VULKAN_FAULT");
}

static void
teardown(void)
{
    hk_tmpdir_remove(cache_dir);
    g_free(cache_dir);
}

/* The backend the request gets; its reason in reason. */
static hk_backend *
select_backend(const char *name, char reason[HK_BACKEND_REASON_MAX])
{
    hk_backend_request r;
    hk_backend_request_init(&r);
    r.backend = name;
    r.n_threads = 1;
    hk_backend *be = NULL;
    hk_error err = { 0 };
    ck_assert_msg(hk_backend_select(&r, &be, reason, &err) == 0, "%s", err.message);
    ck_assert(strchr(reason, '\n') == NULL && reason[0] != '\0');
    return be;
}

/* Whether this build and machine have a Vulkan device, of any type. */
static bool
have_vulkan_device(void)
{
#if HK_HAVE_VULKAN
    hk_backend *be;
    hk_error err = { 0 };
    hk_backend_vulkan_params p = { .device = -1, .allow_cpu = true };
    if (hk_backend_vulkan_new(&p, &be, &err) < 0) {
        printf("no Vulkan device (%s): its cases are left out\n", err.message);
        return false;
    }
    hk_backend_free(be);
    return true;
#else
    puts("this build has no Vulkan backend: its cases are left out");
    return false;
#endif
}

START_TEST(test_names)
{
    ck_assert(hk_backend_name_is_valid("auto"));
    ck_assert(hk_backend_name_is_valid("vulkan"));
    ck_assert(hk_backend_name_is_valid("cpu"));
    ck_assert(!hk_backend_name_is_valid("gpu"));
    ck_assert(!hk_backend_name_is_valid(""));

    hk_backend_request r;
    hk_backend_request_init(&r);
    ck_assert_ptr_null(r.backend);
    ck_assert_int_eq(r.vulkan_device, -1);
    hk_backend *be = NULL;
    hk_error err = { 0 };
    char reason[HK_BACKEND_REASON_MAX];
    g_setenv("HEARKEN_BACKEND", "opencl", TRUE);
    ck_assert_int_eq(hk_backend_select(&r, &be, reason, &err), -EINVAL);
    ck_assert_str_eq(err.message, "HEARKEN_BACKEND 'opencl' is not auto, vulkan or cpu");
    ck_assert_ptr_null(be);
}
END_TEST

START_TEST(test_cpu_as_asked)
{
    char reason[HK_BACKEND_REASON_MAX];
    hk_backend *be = select_backend("cpu", reason);
    ck_assert_str_eq(hk_backend_name(be), "cpu");
    ck_assert_str_eq(reason, "the CPU backend, as asked");
    ck_assert_ptr_null(hk_backend_failover_reason(be));
    hk_backend_free(be);

    /* the environment when the caller does not say */
    g_setenv("HEARKEN_BACKEND", "cpu", TRUE);
    be = select_backend(NULL, reason);
    ck_assert_str_eq(hk_backend_name(be), "cpu");
    hk_backend_free(be);
}
END_TEST

START_TEST(test_vulkan_as_asked)
{
    if (!have_vulkan_device())
        return;
    char reason[HK_BACKEND_REASON_MAX];
    hk_backend *be = select_backend("vulkan", reason);
    ck_assert_str_eq(hk_backend_name(be), "vulkan");
    ck_assert_msg(g_str_has_prefix(reason, "Vulkan on ") && g_str_has_suffix(reason, ", as asked"),
                  "%s", reason);
    ck_assert_ptr_null(hk_backend_failover_reason(be));
    hk_backend_free(be);

    g_setenv("HEARKEN_BACKEND", "vulkan", TRUE);
    be = select_backend(NULL, reason);
    ck_assert_str_eq(hk_backend_name(be), "vulkan");
    hk_backend_free(be);
}
END_TEST

/* auto: Vulkan on a GPU, the CPU backend when the device is a CPU
 * implementation (lavapipe), with the reason either way. */
START_TEST(test_auto)
{
    char reason[HK_BACKEND_REASON_MAX];
    hk_backend *be = select_backend("auto", reason);
    if (strcmp(hk_backend_name(be), "vulkan") == 0) {
        ck_assert_msg(!strstr(hk_backend_description(be), "CPU implementation"), "%s",
                      hk_backend_description(be));
        ck_assert_msg(g_str_has_suffix(reason, ", the best device found"), "%s", reason);
    } else {
        ck_assert_msg(g_str_has_suffix(reason, "; using the CPU backend"), "%s", reason);
    }
    hk_backend_free(be);
}
END_TEST

/* What stands in Vulkan's way becomes the reason, and the CPU runs. */
START_TEST(test_vulkan_falls_back)
{
    char reason[HK_BACKEND_REASON_MAX];
    g_setenv("HEARKEN_VULKAN_DEVICE", "many", TRUE);
    hk_backend *be = select_backend("vulkan", reason);
    ck_assert_str_eq(hk_backend_name(be), "cpu");
#if HK_HAVE_VULKAN
    ck_assert_str_eq(reason, "Vulkan was asked for, but HEARKEN_VULKAN_DEVICE='many' is not "
                             "a device number; using the CPU backend");
#else
    ck_assert_str_eq(reason, "Vulkan was asked for, but this build of Hearken has no Vulkan "
                             "backend; using the CPU backend");
#endif
    hk_backend_free(be);

    if (!have_vulkan_device())
        return;
    g_setenv("HEARKEN_VULKAN_DEVICE", "99", TRUE);
    be = select_backend("vulkan", reason);
    ck_assert_str_eq(hk_backend_name(be), "cpu");
    ck_assert_msg(strstr(reason, "there is no Vulkan device 99"), "%s", reason);
    hk_backend_free(be);

    g_setenv("HEARKEN_VULKAN_DEVICE", "0", TRUE);
    g_setenv("HEARKEN_VULKAN_FAULT", "sometimes", TRUE);
    be = select_backend("vulkan", reason);
    ck_assert_str_eq(hk_backend_name(be), "cpu");
    ck_assert_msg(strstr(reason, "HEARKEN_VULKAN_FAULT='sometimes' is not alloc[:N] or lost[:N]"),
                  "%s", reason);
    hk_backend_free(be);
}
END_TEST

/* A device lost after some steps: the backend carries on as the CPU
 * backend, and says why; the results of the step are there. */
START_TEST(test_failover_mid_run)
{
    if (!have_vulkan_device())
        return;
    char reason[HK_BACKEND_REASON_MAX];
    g_setenv("HEARKEN_VULKAN_FAULT", "lost:2", TRUE);
    hk_backend *be = select_backend("vulkan", reason);
    ck_assert_str_eq(hk_backend_name(be), "vulkan");

    float data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, got[8];
    hk_tensor a, sum;
    hk_error err = { 0 };
    ck_assert_int_eq(hk_backend_tensor_upload(be, HK_TYPE_F32, 8, 1, data, &a, &err), 0);
    ck_assert_int_eq(hk_backend_tensor_alloc(be, HK_TYPE_F32, 8, 1, &sum, &err), 0);
    for (int step = 1; step <= 3; step++) {
        hk_backend_add(be, &a, &a, &sum);
        hk_backend_read(be, &sum, got);
        ck_assert_msg(hk_backend_sync(be, &err) == 0, "step %d: %s", step, err.message);
        ck_assert(got[7] == 16.0f);
        /* the second submission is lost */
        ck_assert_str_eq(hk_backend_name(be), step < 2 ? "vulkan" : "cpu");
    }
    const char *why = hk_backend_failover_reason(be);
    ck_assert_ptr_nonnull(why);
    ck_assert_str_eq(why, "vulkan: the device was lost (VK_ERROR_DEVICE_LOST); carrying on "
                          "with the CPU backend");
    hk_backend_tensor_free(be, &a);
    hk_backend_tensor_free(be, &sum);
    hk_backend_free(be);
}
END_TEST

static Suite *
select_suite(void)
{
    Suite *s = suite_create("backend-select");
    TCase *tc = tcase_create("select");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_cpu_as_asked);
    tcase_add_test(tc, test_vulkan_as_asked);
    tcase_add_test(tc, test_auto);
    tcase_add_test(tc, test_vulkan_falls_back);
    tcase_add_test(tc, test_failover_mid_run);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(select_suite)
