/* hearkend when the machine lets it down: the disk that holds its history
 * fills up.  The turn that cannot be stored fails with a message that
 * says so, nothing stored before is lost, and once there is room again
 * hearkend carries on.
 *
 * The full disk is a small tmpfs mounted over hearkend's data folder,
 * which needs root (CAP_SYS_ADMIN); without it the test says so and
 * passes. */
#include <errno.h>
#include <string.h>
#include <sys/mount.h>

#include <glib/gstdio.h>

#include "daemon/hk-daemon-harness.h"

static HkDaemon *d;
static gboolean mounted;

static void
setup(void)
{
    d = hk_daemon_new();
    /* 512 KiB: room for the history database, not for much more */
    mounted = mount("hearken-test", d->data_home, "tmpfs", 0, "size=512k,mode=0700") == 0;
    if (!mounted)
        printf("cannot mount a tmpfs (%s): the full-disk case is left out\n", g_strerror(errno));
    else
        ck_assert_int_eq(g_mkdir_with_parents(d->models_dir, 0700), 0);
}

static void
teardown(void)
{
    if (d->daemon)
        hk_daemon_stop(d);
    if (mounted)
        ck_assert_int_eq(umount(d->data_home), 0);
    hk_daemon_free(d);
    d = NULL;
}

static GVariant *
ask(const char *prompt, GError **error)
{
    return hk_daemon_call(d, "Ask", g_variant_new_parsed("(%s, {'max_tokens': <@u 4>})", prompt), error);
}

/* Writes zeros to path until the file system refuses more. */
static void
fill(const char *path)
{
    static const char zeros[4096];
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    while (fwrite(zeros, 1, sizeof zeros, f) == sizeof zeros && fflush(f) == 0)
        ;
    fclose(f);
}

START_TEST(test_full_disk_fails_the_turn_and_loses_nothing)
{
    char *model, *env_model, *filler;
    GVariant *reply, *list;
    GError *error = NULL;

    if (!mounted)
        return;
    model = g_build_filename(hk_test_shared_dir(), "models", "llama-2-tiny-random.gguf", NULL);
    env_model = g_strconcat("HEARKEN_MODEL=", model, NULL);
    const char *env[] = { env_model, NULL };
    hk_daemon_start(d, env);
    g_variant_unref(hk_daemon_call_ok(d, "Ask", g_variant_new_parsed("('Before the disk filled up', {'max_tokens': <@u 4>})")));

    filler = g_build_filename(d->data_home, "filler", NULL);
    fill(filler);
    /* long enough that the write-ahead log needs pages it cannot get */
    char *big = g_strnfill(64 * 1024, 'x');
    reply = ask(big, &error);
    g_free(big);
    ck_assert_msg(reply == NULL, "Ask succeeded on a full disk");
    ck_assert_msg(strstr(error->message, "full"), "%s", error->message);
    printf("on a full disk: %s\n", error->message);
    g_clear_error(&error);

    /* still up, and carrying on once there is room */
    ck_assert_int_eq(g_unlink(filler), 0);
    reply = ask("After", &error);
    ck_assert_msg(reply != NULL, "%s", error ? error->message : "");
    g_variant_unref(reply);
    list = hk_daemon_call_ok(d, "ListConversations", NULL);
    ck_assert_uint_ge(hk_reply_n_items(list), 2);
    g_variant_unref(list);

    g_free(filler);
    g_free(env_model);
    g_free(model);
}
END_TEST

static Suite *
faults_suite(void)
{
    Suite *s = suite_create("daemon-faults");
    TCase *disk = tcase_create("disk");

    tcase_set_timeout(disk, 120);
    tcase_add_checked_fixture(disk, setup, teardown);
    tcase_add_test(disk, test_full_disk_fails_the_turn_and_loses_nothing);
    suite_add_tcase(s, disk);
    return s;
}

int
main(void)
{
    if (hk_test_skip_without_tiny_model("test-daemon-faults"))
        return HK_TEST_SKIP;
    return hk_daemon_run_suite(faults_suite());
}
