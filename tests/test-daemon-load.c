/* hearkend under load: 32 clients at once for a bounded time, each in a
 * loop of its own kind of request — Ask, Send then Cancel, Classify, or
 * Send and leave the bus in the middle of the reply.  Every request gets
 * its reply or an org.hearken.Error; no client starves; the service's
 * memory stays flat and it leaks no file descriptors.  The figures are
 * printed for the record. */
#include <string.h>

#include "daemon/hk-daemon-harness.h"

#define N_CLIENTS 32
#define LOAD_SECONDS 12
/* Memory the service may gain between the end of the warm-up and the end
 * of the run: allocator slack, not a leak, which would grow per request. */
#define RSS_SLACK_KIB (8 * 1024)

typedef enum {
    KIND_ASK,
    KIND_SEND_CANCEL,
    KIND_CLASSIFY,
    KIND_LEAVER,
    N_KINDS
} Kind;

static const char *const kind_names[N_KINDS] = { "Ask", "Send+Cancel", "Classify", "leave mid-reply" };

typedef struct {
    int              index;
    Kind             kind;
    GDBusConnection *connection;
    char            *conversation;
    gboolean         in_flight;
    guint            n_answered;
} Client;

static HkDaemon *d;
static Client clients[N_CLIENTS];
static gboolean stopping;
static GPtrArray *untyped;    /* messages of errors that were not org.hearken.Error.* */

static void issue(Client *c);

static void
setup(void)
{
    d = hk_daemon_new();
    untyped = g_ptr_array_new_with_free_func(g_free);
}

static void
teardown(void)
{
    for (int i = 0; i < N_CLIENTS; i++) {
        g_clear_object(&clients[i].connection);
        g_clear_pointer(&clients[i].conversation, g_free);
    }
    g_ptr_array_unref(untyped);
    hk_daemon_free(d);
    d = NULL;
}

/* ------------------------------------------------------------- /proc */

static const char *
daemon_pid(void)
{
    return g_subprocess_get_identifier(d->daemon);
}

static guint64
daemon_rss_kib(void)
{
    char *path = g_strdup_printf("/proc/%s/status", daemon_pid());
    char *status, *line;
    guint64 kib = 0;

    ck_assert(g_file_get_contents(path, &status, NULL, NULL));
    line = strstr(status, "VmRSS:");
    ck_assert_ptr_nonnull(line);
    kib = g_ascii_strtoull(line + strlen("VmRSS:"), NULL, 10);
    g_free(status);
    g_free(path);
    return kib;
}

static guint
daemon_fds(void)
{
    char *path = g_strdup_printf("/proc/%s/fd", daemon_pid());
    GDir *dir = g_dir_open(path, 0, NULL);
    guint n = 0;

    ck_assert_ptr_nonnull(dir);
    while (g_dir_read_name(dir))
        n++;
    g_dir_close(dir);
    g_free(path);
    return n;
}

/* ---------------------------------------------------------- requests */

/* A reply, or an error: only hearkend's own errors are fine. */
static void
judge(Client *c, GObject *source, GAsyncResult *result)
{
    GError *error = NULL;
    GVariant *reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

    if (reply) {
        g_variant_unref(reply);
    } else {
        char *name = g_dbus_error_get_remote_error(error);
        if (!name || !g_str_has_prefix(name, "org.hearken.Error."))
            g_ptr_array_add(untyped, g_strdup_printf("%s: %s", kind_names[c->kind], error->message));
        g_free(name);
        g_error_free(error);
    }
}

static void
call(Client *c, const char *method, GVariant *params, GAsyncReadyCallback done)
{
    g_dbus_connection_call(c->connection, "org.hearken.Assistant1", "/org/hearken/Assistant1",
                           "org.hearken.Assistant1", method, params, NULL,
                           G_DBUS_CALL_FLAGS_NONE, 60000, NULL, done, c);
}

static void
answered(Client *c)
{
    c->n_answered++;
    c->in_flight = FALSE;
    if (!stopping)
        issue(c);
}

static void
simple_done_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    judge(data, source, result);
    answered(data);
}

static void
cancel_done_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    GError *error = NULL;
    GVariant *reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
    char *name = error ? g_dbus_error_get_remote_error(error) : NULL;

    /* the turn may have ended before the Cancel came */
    if (!reply && g_strcmp0(name, "org.hearken.Error.NotFound") != 0)
        g_ptr_array_add(untyped, g_strdup_printf("Cancel: %s", error->message));
    g_clear_pointer(&reply, g_variant_unref);
    g_clear_error(&error);
    g_free(name);
    answered(data);
}

static void
sent_then_cancel_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    Client *c = data;
    GError *error = NULL;
    GVariant *reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
    guint64 turn;

    if (!reply) {
        char *name = g_dbus_error_get_remote_error(error);
        if (!name || !g_str_has_prefix(name, "org.hearken.Error."))
            g_ptr_array_add(untyped, g_strdup_printf("Send: %s", error->message));
        g_free(name);
        g_error_free(error);
        answered(c);
        return;
    }
    g_variant_get(reply, "(t)", &turn);
    g_variant_unref(reply);
    call(c, "Cancel", g_variant_new("(t)", turn), cancel_done_cb);
}

/* The leaver's Send was taken: it leaves the bus while the reply streams,
 * and comes back as a new client. */
static void
sent_then_leave_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    Client *c = data;

    judge(c, source, result);
    g_dbus_connection_close_sync(c->connection, NULL, NULL);
    g_object_unref(c->connection);
    c->connection = hk_daemon_connect(d);
    g_free(c->conversation);
    c->conversation = NULL;
    answered(c);
}

static void
started_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    Client *c = data;
    GError *error = NULL;
    GVariant *reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

    if (!reply) {
        g_ptr_array_add(untyped, g_strdup_printf("StartConversation: %s", error->message));
        g_error_free(error);
        answered(c);
        return;
    }
    g_variant_get(reply, "(s)", &c->conversation);
    g_variant_unref(reply);
    c->in_flight = FALSE;
    issue(c);
}

static void
issue(Client *c)
{
    c->in_flight = TRUE;
    if ((c->kind == KIND_SEND_CANCEL || c->kind == KIND_LEAVER) && !c->conversation) {
        call(c, "StartConversation", g_variant_new_parsed("(@a{sv} {},)"), started_cb);
        return;
    }
    switch (c->kind) {
    case KIND_ASK:
        call(c, "Ask", g_variant_new_parsed("(%s, {'max_tokens': <@u 8>})",
                                                 "Write a short story about a lighthouse keeper."),
             simple_done_cb);
        break;
    case KIND_SEND_CANCEL:
        call(c, "Send", g_variant_new_parsed("(%s, 'Tell me everything.', {'max_tokens': <@u 256>})",
                                             c->conversation), sent_then_cancel_cb);
        break;
    case KIND_CLASSIFY:
        call(c, "Classify", g_variant_new("(s)", "turn the volume up a little"), simple_done_cb);
        break;
    default:
        call(c, "Send", g_variant_new_parsed("(%s, 'Go on and on.', {'max_tokens': <@u 256>})",
                                             c->conversation), sent_then_leave_cb);
        break;
    }
}

/* ---------------------------------------------------------------- run */

static void
set_flag_cb(gpointer data)
{
    *(gboolean *) data = TRUE;
}

static void
run_for(double seconds)
{
    gboolean done = FALSE;

    g_timeout_add_once((guint)(seconds * 1000), set_flag_cb, &done);
    while (!done)
        g_main_context_iteration(NULL, TRUE);
}

static gboolean
any_in_flight(void)
{
    for (int i = 0; i < N_CLIENTS; i++)
        if (clients[i].in_flight)
            return TRUE;
    return FALSE;
}

static void
drain(void)
{
    gint64 end = g_get_monotonic_time() + 60 * G_TIME_SPAN_SECOND;

    stopping = TRUE;
    while (any_in_flight() && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    ck_assert_msg(!any_in_flight(), "requests still unanswered a minute after the load");
}

/* Waits for hearkend to finish what the clients left behind (cancelled
 * and abandoned turns), so that memory and descriptors are compared at
 * rest. */
static void
wait_until_idle(void)
{
    gint64 end = g_get_monotonic_time() + 30 * G_TIME_SPAN_SECOND;

    for (;;) {
        GVariant *state = hk_daemon_property(d, "State");
        gboolean idle = g_str_equal(g_variant_get_string(state, NULL), "idle");
        g_variant_unref(state);
        if (idle)
            return;
        ck_assert_msg(g_get_monotonic_time() < end, "hearkend never went idle");
        g_usleep(50 * 1000);
    }
}

START_TEST(test_thirty_two_clients)
{
    char *model = g_build_filename(hk_test_shared_dir(), "models", "llama-2-tiny-random.gguf", NULL);
    char *env_model = g_strconcat("HEARKEN_MODEL=", model, NULL);
    char *intents = g_build_filename(g_getenv("HEARKEN_BUILD_ROOT"), "data", "intents", "intents.gguf", NULL);
    char *env_intents = g_strconcat("HEARKEN_INTENT_MODEL=", intents, NULL);
    const char *env[] = { env_model, env_intents, "HEARKEN_ACTIONS_DRY_RUN=1", NULL };
    guint64 rss_warm, rss_end;
    guint fds_before, fds_after, min_ask = G_MAXUINT, max_ask = 0, per_kind[N_KINDS] = { 0 };

    hk_daemon_start(d, env);
    /* warm: the model loaded, the database open, every code path run once */
    g_variant_unref(hk_daemon_call_ok(d, "Ask", g_variant_new_parsed("('Hello', {'max_tokens': <@u 2>})")));
    fds_before = daemon_fds();

    for (int i = 0; i < N_CLIENTS; i++) {
        clients[i] = (Client){ .index = i, .kind = (Kind)(i % N_KINDS), .connection = hk_daemon_connect(d) };
        issue(&clients[i]);
    }
    run_for(LOAD_SECONDS / 4.0);
    rss_warm = daemon_rss_kib();
    run_for(LOAD_SECONDS * 3 / 4.0);
    drain();
    for (int i = 0; i < N_CLIENTS; i++)
        g_dbus_connection_close_sync(clients[i].connection, NULL, NULL);
    wait_until_idle();
    rss_end = daemon_rss_kib();
    fds_after = daemon_fds();

    for (int i = 0; i < N_CLIENTS; i++) {
        Client *c = &clients[i];
        per_kind[c->kind] += c->n_answered;
        ck_assert_msg(c->n_answered >= 2, "client %d (%s) starved: %u answers", i,
                      kind_names[c->kind], c->n_answered);
        if (c->kind == KIND_ASK) {
            min_ask = MIN(min_ask, c->n_answered);
            max_ask = MAX(max_ask, c->n_answered);
        }
    }
    printf("%d clients for %d s: %u Ask, %u Send+Cancel, %u Classify, %u Send-and-leave answered; "
           "Ask per client %u to %u\n",
           N_CLIENTS, LOAD_SECONDS, per_kind[KIND_ASK], per_kind[KIND_SEND_CANCEL],
           per_kind[KIND_CLASSIFY], per_kind[KIND_LEAVER], min_ask, max_ask);
    printf("hearkend RSS %" G_GUINT64_FORMAT " KiB after warm-up, %" G_GUINT64_FORMAT
           " KiB at the end; %u descriptors before, %u after\n", rss_warm, rss_end, fds_before, fds_after);

    for (guint i = 0; i < untyped->len; i++)
        printf("untyped error: %s\n", (const char *) untyped->pdata[i]);
    ck_assert_uint_eq(untyped->len, 0);
    /* first come, first served: no Ask client gets less than a third of
     * what the luckiest one got */
    ck_assert_uint_ge(min_ask * 3, max_ask);
#ifndef __SANITIZE_ADDRESS__
    /* AddressSanitizer keeps freed memory in quarantine: RSS grows there
     * by design, and its leak checker watches the service instead */
    ck_assert_uint_le(rss_end, rss_warm + RSS_SLACK_KIB);
#endif
    ck_assert_uint_eq(fds_after, fds_before);

    g_free(env_intents);
    g_free(intents);
    g_free(env_model);
    g_free(model);
}
END_TEST

static Suite *
load_suite(void)
{
    Suite *s = suite_create("daemon-load");
    TCase *load = tcase_create("load");

    tcase_set_timeout(load, 300);
    tcase_add_checked_fixture(load, setup, teardown);
    tcase_add_test(load, test_thirty_two_clients);
    suite_add_tcase(s, load);
    return s;
}

int
main(void)
{
    if (hk_test_skip_without_tiny_model("test-daemon-load"))
        return HK_TEST_SKIP;
    return hk_daemon_run_suite(load_suite());
}
