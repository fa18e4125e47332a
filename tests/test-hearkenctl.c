/* hearkenctl against the real hearkend on a private bus: ask streams the
 * reply and exits 0, Ctrl-C cancels the turn and exits 1, usage errors
 * exit 2, the service's errors exit 1 with its message, and --json prints
 * JSON that parses.
 *
 * The model is shared/models/llama-2-tiny-random.gguf (HEARKEN_MODEL). */
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "daemon/hk-daemon-harness.h"
#include "hk-subprocess.h"

static HkDaemon *d;

static GSubprocess *
ctl_spawn(const char *const *args)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    GError *error = NULL;
    GSubprocess *process;

    g_ptr_array_add(argv, hk_built_cli("hearkenctl"));
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, g_strdup(args[i]));
    g_ptr_array_add(argv, NULL);
    /* the bus is the private one GTestDBus put in DBUS_SESSION_BUS_ADDRESS */
    process = g_subprocess_newv((const char *const *) argv->pdata,
                                G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                &error);
    hk_assert_no_error(error);
    g_ptr_array_unref(argv);
    return process;
}

static void
ctl_finish(GSubprocess *process, hk_run_result *run)
{
    GError *error = NULL;

    g_subprocess_communicate_utf8(process, NULL, NULL, &run->out, &run->err, &error);
    hk_assert_no_error(error);
    ck_assert_msg(g_subprocess_get_if_exited(process), "hearkenctl died of a signal");
    run->status = g_subprocess_get_exit_status(process);
    g_object_unref(process);
}

static void
ctl(hk_run_result *run, const char *const *args)
{
    ctl_finish(ctl_spawn(args), run);
}

static void
start(gboolean with_model)
{
    char *path = g_build_filename(hk_test_shared_dir(), "models", "llama-2-tiny-random.gguf", NULL);
    char *env_model = g_strconcat("HEARKEN_MODEL=", path, NULL);
    const char *env[] = { env_model, NULL };

    d = hk_daemon_new();
    hk_daemon_start(d, with_model ? env : NULL);
    g_free(env_model);
    g_free(path);
}

static void
setup(void)
{
    start(TRUE);
}

static void
setup_no_model(void)
{
    start(FALSE);
}

static void
teardown(void)
{
    hk_daemon_free(d);
    d = NULL;
}

/* The text of the last assistant turn of the only conversation. */
static char *
last_reply(void)
{
    GVariant *conversations = hk_daemon_call_ok(d, "ListConversations", NULL);
    GVariant *turns;
    const char *id;
    char *text = NULL;
    GVariantIter *iter;
    const char *role, *turn_text;
    guint64 turn;

    g_variant_get(conversations, "(a(sst))", &iter);
    ck_assert(g_variant_iter_next(iter, "(&s&st)", &id, NULL, NULL));
    turns = hk_daemon_call_ok(d, "History", g_variant_new("(s)", id));
    g_variant_iter_free(iter);
    g_variant_get(turns, "(a(tss))", &iter);
    while (g_variant_iter_next(iter, "(t&s&s)", &turn, &role, &turn_text))
        if (g_str_equal(role, "assistant")) {
            g_free(text);
            text = g_strdup(turn_text);
        }
    g_variant_iter_free(iter);
    g_variant_unref(turns);
    g_variant_unref(conversations);
    ck_assert_ptr_nonnull(text);
    return text;
}

static JsonNode *
parse_json(const char *text)
{
    GError *error = NULL;
    JsonNode *root = json_from_string(text, &error);

    ck_assert_msg(root != NULL, "not JSON (%s): %s", error ? error->message : "empty", text);
    return root;
}

START_TEST(test_ask_streams_the_reply)
{
    const char *args[] = { "ask", "--max-tokens", "24", "--seed", "7", "Tell", "me", "a", "story", NULL };
    hk_run_result run;
    char *reply;

    ctl(&run, args);
    ck_assert_msg(run.status == 0, "exit %d: %s", run.status, run.err);
    ck_assert_str_eq(run.err, "");
    reply = last_reply();
    ck_assert_int_gt(strlen(reply), 0);
    /* what was printed piece by piece is the recorded reply, then a newline */
    ck_assert(g_str_has_suffix(run.out, "\n"));
    run.out[strlen(run.out) - 1] = '\0';
    ck_assert_str_eq(run.out, reply);
    g_free(reply);
    hk_run_result_clear(&run);
}
END_TEST

static void
delta_cb(GDBusConnection *connection, const char *sender, const char *path,
         const char *interface, const char *name, GVariant *params, gpointer data)
{
    *(gboolean *) data = TRUE;
}

START_TEST(test_ctrl_c_cancels_the_turn)
{
    const char *args[] = { "ask", "--max-tokens", "8000", "Go", "on", "and", "on", NULL };
    gboolean streaming = FALSE;
    guint id = g_dbus_connection_signal_subscribe(d->connection, NULL, "org.hearken.Assistant1",
                                                  "Delta", "/org/hearken/Assistant1", NULL,
                                                  G_DBUS_SIGNAL_FLAGS_NONE, delta_cb, &streaming, NULL);
    GSubprocess *process = ctl_spawn(args);
    GVariant *state;
    hk_run_result run;

    hk_daemon_wait_for(&streaming, "the reply to stream");
    g_dbus_connection_signal_unsubscribe(d->connection, id);
    g_subprocess_send_signal(process, SIGINT);
    ctl_finish(process, &run);
    ck_assert_int_eq(run.status, 1);
    hk_assert_one_error_line(run.err, "hearkenctl");
    ck_assert_msg(strstr(run.err, "cancel") != NULL, "stderr: %s", run.err);
    /* the worker is free again */
    state = hk_daemon_property(d, "State");
    ck_assert_str_eq(g_variant_get_string(state, NULL), "idle");
    g_variant_unref(state);
    hk_run_result_clear(&run);
}
END_TEST

START_TEST(test_usage_errors_exit_2)
{
    const char *const cases[][5] = {
        { "ask", NULL },
        { "frobnicate", NULL },
        { "feedback", "1", "sideways", NULL },
        { "feedback", "one", "up", NULL },
        { "ask", "--no-such-option", "hi", NULL },
        { "model", "load", NULL },
        { "history", "a", "b", NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        hk_run_result run;

        ctl(&run, cases[i]);
        ck_assert_msg(run.status == 2, "%s %s: exit %d", cases[i][0],
                      cases[i][1] ? cases[i][1] : "", run.status);
        ck_assert_str_eq(run.out, "");
        ck_assert_msg(g_str_has_prefix(run.err, "hearkenctl: "), "stderr: %s", run.err);
        hk_run_result_clear(&run);
    }
}
END_TEST

START_TEST(test_service_errors_exit_1_with_their_message)
{
    const char *args[] = { "history", "no-such-conversation", NULL };
    GError *error = NULL;
    GVariant *reply = hk_daemon_call(d, "History", g_variant_new("(s)", "no-such-conversation"), &error);
    char *expected;
    hk_run_result run;

    ck_assert_ptr_null(reply);
    g_dbus_error_strip_remote_error(error);
    expected = g_strdup_printf("hearkenctl: %s\n", error->message);
    ctl(&run, args);
    ck_assert_int_eq(run.status, 1);
    ck_assert_str_eq(run.out, "");
    ck_assert_str_eq(run.err, expected);
    g_free(expected);
    g_error_free(error);
    hk_run_result_clear(&run);
}
END_TEST

START_TEST(test_json_output_parses)
{
    const char *ask[] = { "--json", "ask", "-n", "8", "hello", NULL };
    const char *status[] = { "status", "--json", NULL };
    const char *models[] = { "--json", "models", NULL };
    JsonNode *root;
    JsonObject *object;
    char *reply;
    hk_run_result run;

    ctl(&run, ask);
    ck_assert_msg(run.status == 0, "exit %d: %s", run.status, run.err);
    root = parse_json(run.out);
    object = json_node_get_object(root);
    reply = last_reply();
    ck_assert_str_eq(json_object_get_string_member(object, "reply"), reply);
    ck_assert_int_gt(json_object_get_int_member(json_object_get_object_member(object, "info"), "tokens"), 0);
    g_free(reply);
    json_node_unref(root);
    hk_run_result_clear(&run);

    ctl(&run, status);
    ck_assert_int_eq(run.status, 0);
    root = parse_json(run.out);
    ck_assert_str_eq(json_object_get_string_member(json_node_get_object(root), "Version"), HEARKEN_VERSION);
    ck_assert_str_eq(json_object_get_string_member(json_node_get_object(root), "Backend"), "cpu");
    json_node_unref(root);
    hk_run_result_clear(&run);

    ctl(&run, models);
    ck_assert_int_eq(run.status, 0);
    root = parse_json(run.out);
    ck_assert_int_eq(json_array_get_length(json_node_get_array(root)), 1);
    object = json_array_get_object_element(json_node_get_array(root), 0);
    ck_assert(json_object_get_boolean_member(object, "loaded"));
    json_node_unref(root);
    hk_run_result_clear(&run);
}
END_TEST

START_TEST(test_ask_without_a_model_says_how_to_get_one)
{
    const char *args[] = { "ask", "hello", NULL };
    hk_run_result run;

    ctl(&run, args);
    ck_assert_int_eq(run.status, 1);
    hk_assert_one_error_line(run.err, "hearkenctl");
    ck_assert_msg(strstr(run.err, "HEARKEN_MODEL") != NULL, "stderr: %s", run.err);
    hk_run_result_clear(&run);
}
END_TEST

static Suite *
hearkenctl_suite(void)
{
    Suite *s = suite_create("hearkenctl");
    TCase *with_model = tcase_create("with-model");
    TCase *without = tcase_create("without-model");

    tcase_add_checked_fixture(with_model, setup, teardown);
    tcase_add_test(with_model, test_ask_streams_the_reply);
    tcase_add_test(with_model, test_ctrl_c_cancels_the_turn);
    tcase_add_test(with_model, test_usage_errors_exit_2);
    tcase_add_test(with_model, test_service_errors_exit_1_with_their_message);
    tcase_add_test(with_model, test_json_output_parses);
    suite_add_tcase(s, with_model);

    tcase_add_checked_fixture(without, setup_no_model, teardown);
    tcase_add_test(without, test_ask_without_a_model_says_how_to_get_one);
    suite_add_tcase(s, without);
    return s;
}

int
main(void)
{
    if (hk_test_skip_without_tiny_model("test-hearkenctl"))
        return HK_TEST_SKIP;
    return hk_daemon_run_suite(hearkenctl_suite());
}
