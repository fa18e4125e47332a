/* PullModel against a web server inside this test (127.0.0.1, never the
 * internet): a catalog model lands in the model folder, a cut transfer
 * resumes where it stopped, and a corrupted file (a sha256 of the catalog
 * or of the server's ETag that does not match, not a loadable GGUF) is
 * refused and removed.  The file served is
 * shared/models/llama-2-tiny-random.gguf. */
#include <string.h>

#include "daemon/hk-daemon-harness.h"
#include "hk-subprocess.h"

#define E_NOT_FOUND "org.hearken.Error.NotFound"
#define E_INVALID   "org.hearken.Error.InvalidArgument"

static HkDaemon *d;
static char *base_url;        /* http://127.0.0.1:PORT */
static GBytes *model;         /* the file the server serves */
static char *model_sha256;
static int cut_next;          /* /cut/…: the next answer stops half-way */
static volatile goffset last_range_start;   /* -1: the last request asked for the whole file */

/* What the signals said about one job. */
typedef struct {
    guint64  job;
    gboolean finished;
    char    *path;
    char    *error;
    guint64  last_done;
    guint64  last_total;
    guint    n_progress;
} PullLog;

static PullLog pull;

/* ─── the web server ─────────────────────────────────────────────────── */

/* A small HTTP/1.1 server on a thread per connection: GET with an
 * optional "Range: bytes=N-", one request per connection. */
static GSocketService *server;

/* The request's path and the start of its range (-1: none). */
static gboolean
read_request(GDataInputStream *in, char **ret_path, goffset *ret_start)
{
    char *line = g_data_input_stream_read_line(in, NULL, NULL, NULL);
    char **words = line ? g_strsplit(line, " ", 3) : NULL;
    gboolean ok = words && words[0] && words[1] && g_str_equal(words[0], "GET");

    *ret_start = -1;
    if (ok)
        *ret_path = g_strdup(words[1]);
    g_strfreev(words);
    g_free(line);
    while (ok && (line = g_data_input_stream_read_line(in, NULL, NULL, NULL)) && *g_strchomp(line)) {
        guint64 start;
        if (g_ascii_strncasecmp(line, "Range: bytes=", 13) == 0 &&
            g_ascii_string_to_unsigned(g_strdelimit(line + 13, "-", '\0'), 10, 0, G_MAXINT64, &start, NULL))
            *ret_start = (goffset) start;
        g_free(line);
    }
    g_free(line);
    return ok;
}

static void
respond(GOutputStream *out, const char *status, const char *headers, const void *body, gsize n)
{
    char *head = g_strdup_printf("HTTP/1.1 %s\r\n%sConnection: close\r\n\r\n", status, headers);

    g_output_stream_write_all(out, head, strlen(head), NULL, NULL, NULL);
    if (n)
        g_output_stream_write_all(out, body, n, NULL, NULL, NULL);
    g_free(head);
}

/* The file, from start (-1: all of it), with an ETag when etag is not
 * NULL (a sha256, as Hugging Face gives); cut: announce all, send half. */
static void
serve_file(GOutputStream *out, GBytes *file, const char *etag, goffset start, gboolean cut)
{
    gsize size;
    const guint8 *data = g_bytes_get_data(file, &size);
    char *etag_header = etag ? g_strdup_printf("ETag: \"%s\"\r\n", etag) : g_strdup("");
    char *headers;

    if (start >= 0 && (gsize) start < size) {
        headers = g_strdup_printf("%sContent-Range: bytes %" G_GOFFSET_FORMAT "-%" G_GSIZE_FORMAT
                                  "/%" G_GSIZE_FORMAT "\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n",
                                  etag_header, start, size - 1, size, size - (gsize) start);
        respond(out, "206 Partial Content", headers, data + start, size - (gsize) start);
    } else {
        headers = g_strdup_printf("%sContent-Length: %" G_GSIZE_FORMAT "\r\n", etag_header, size);
        respond(out, "200 OK", headers, data, cut ? size / 2 : size);
    }
    g_free(headers);
    g_free(etag_header);
}

static gboolean
connection_cb(GThreadedSocketService *service, GSocketConnection *connection,
              GObject *source, gpointer data)
{
    GDataInputStream *in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(connection)));
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(connection));
    char *path = NULL;
    goffset start;

    g_data_input_stream_set_newline_type(in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
    if (read_request(in, &path, &start)) {
        last_range_start = start;
        if (g_str_equal(path, "/not-a-model.gguf")) {
            GBytes *text = g_bytes_new_static("this is no GGUF file\n", 21);
            serve_file(out, text, NULL, start, FALSE);
            g_bytes_unref(text);
        } else if (g_str_has_suffix(path, ".gguf")) {
            gboolean cut = g_str_has_prefix(path, "/cut/") && g_atomic_int_compare_and_exchange(&cut_next, TRUE, FALSE);
            const char *etag = g_str_has_prefix(path, "/bad-etag/")
                               ? "0000000000000000000000000000000000000000000000000000000000000000"
                               : model_sha256;
            serve_file(out, model, etag, start, cut);
        } else {
            respond(out, "404 Not Found", "Content-Length: 0\r\n", NULL, 0);
        }
    }
    g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
    g_object_unref(in);
    g_free(path);
    return TRUE;
}

static void
start_server(void)
{
    GError *error = NULL;
    GInetAddress *loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *any_port = g_inet_socket_address_new(loopback, 0);
    GSocketAddress *bound = NULL;

    server = g_threaded_socket_service_new(4);
    g_socket_listener_add_address(G_SOCKET_LISTENER(server), any_port, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
    hk_assert_no_error(error);
    g_signal_connect(server, "run", G_CALLBACK(connection_cb), NULL);
    g_socket_service_start(server);
    base_url = g_strdup_printf("http://127.0.0.1:%u",
                               g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)));
    g_object_unref(bound);
    g_object_unref(any_port);
    g_object_unref(loopback);
}

/* ─── fixtures ───────────────────────────────────────────────────────── */

static void
write_catalog(void)
{
    char *dir = g_build_filename(d->tmpdir, "system-data", "hearken", NULL);
    char *path = g_build_filename(dir, "models.json", NULL);
    gsize size = g_bytes_get_size(model);
    char *text = g_strdup_printf(
        "{\"models\": ["
        "{\"name\": \"tiny\", \"url\": \"%s/tiny.gguf\", \"size\": %" G_GSIZE_FORMAT ", "
        " \"license\": \"MIT\", \"sha256\": \"%s\"},"
        "{\"name\": \"tampered\", \"url\": \"%s/tampered.gguf\", \"size\": %" G_GSIZE_FORMAT ", "
        " \"sha256\": \"%064d\"},"
        "{\"name\": \"undersized\", \"url\": \"%s/undersized.gguf\", \"size\": %" G_GSIZE_FORMAT "}"
        "]}",
        base_url, size, model_sha256, base_url, size, 0, base_url, size / 2);

    ck_assert_int_eq(g_mkdir_with_parents(dir, 0700), 0);
    ck_assert(g_file_set_contents(path, text, -1, NULL));
    g_free(text);
    g_free(path);
    g_free(dir);
}

static void
signal_cb(GDBusConnection *connection, const char *sender, const char *path,
          const char *interface, const char *name, GVariant *params, gpointer data)
{
    guint64 job;

    g_variant_get_child(params, 0, "t", &job);
    if (job != pull.job)
        return;
    if (g_str_equal(name, "Progress")) {
        g_variant_get(params, "(ttt)", &job, &pull.last_done, &pull.last_total);
        pull.n_progress++;
    } else {
        g_variant_get(params, "(tss)", &job, &pull.path, &pull.error);
        pull.finished = TRUE;
    }
}

static guint subscriptions[2];

static void
setup(void)
{
    char *path = g_build_filename(hk_test_shared_dir(), "models", "llama-2-tiny-random.gguf", NULL);
    char *contents;
    gsize size;

    ck_assert(g_file_get_contents(path, &contents, &size, NULL));
    model = g_bytes_new_take(contents, size);
    model_sha256 = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, model);
    g_free(path);
    start_server();
    d = hk_daemon_new();
    write_catalog();
    /* the desktop's proxy settings (a schema the test's XDG_DATA_DIRS
     * hides) have nothing to say about 127.0.0.1 */
    hk_daemon_start(d, (const char *const[]) { "GIO_USE_PROXY_RESOLVER=dummy", NULL });
    subscriptions[0] = g_dbus_connection_signal_subscribe(
        d->connection, NULL, "org.hearken.Assistant1", "Progress", "/org/hearken/Assistant1",
        NULL, G_DBUS_SIGNAL_FLAGS_NONE, signal_cb, NULL, NULL);
    subscriptions[1] = g_dbus_connection_signal_subscribe(
        d->connection, NULL, "org.hearken.Assistant1", "PullFinished", "/org/hearken/Assistant1",
        NULL, G_DBUS_SIGNAL_FLAGS_NONE, signal_cb, NULL, NULL);
}

static void
pull_log_clear(void)
{
    g_free(pull.path);
    g_free(pull.error);
    memset(&pull, 0, sizeof pull);
}

static void
teardown(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(subscriptions); i++)
        g_dbus_connection_signal_unsubscribe(d->connection, subscriptions[i]);
    hk_daemon_free(d);
    d = NULL;
    pull_log_clear();
    g_socket_service_stop(server);
    g_socket_listener_close(G_SOCKET_LISTENER(server));
    g_clear_object(&server);
    g_clear_pointer(&base_url, g_free);
    g_clear_pointer(&model, g_bytes_unref);
    g_clear_pointer(&model_sha256, g_free);
    cut_next = FALSE;
}

/* PullModel, then wait for its PullFinished. */
static void
pull_and_wait(const char *name_or_url)
{
    GVariant *reply;

    pull_log_clear();
    reply = hk_daemon_call_ok(d, "PullModel", g_variant_new("(s)", name_or_url));
    g_variant_get(reply, "(t)", &pull.job);
    g_variant_unref(reply);
    hk_daemon_wait_for(&pull.finished, "PullFinished");
}

static char *
in_models(const char *name)
{
    return g_build_filename(d->models_dir, name, NULL);
}

static void
assert_same_as_served(const char *path)
{
    char *contents;
    gsize size;
    GBytes *bytes;

    ck_assert_msg(g_file_get_contents(path, &contents, &size, NULL), "%s is missing", path);
    bytes = g_bytes_new_take(contents, size);
    ck_assert(g_bytes_equal(bytes, model));
    g_bytes_unref(bytes);
}

static void
assert_nothing_left(const char *name)
{
    char *path = in_models(name);
    char *part = g_strconcat(path, ".part", NULL);

    ck_assert_msg(!g_file_test(path, G_FILE_TEST_EXISTS), "%s exists", path);
    ck_assert_msg(!g_file_test(part, G_FILE_TEST_EXISTS), "%s exists", part);
    g_free(part);
    g_free(path);
}

/* ─── tests ──────────────────────────────────────────────────────────── */

START_TEST(test_pull_a_catalog_model)
{
    char *path = in_models("tiny.gguf");
    GVariant *models;
    char *listed;

    pull_and_wait("tiny");
    ck_assert_msg(g_str_equal(pull.error, ""), "error: %s", pull.error);
    ck_assert_str_eq(pull.path, path);
    assert_same_as_served(path);
    ck_assert_int_ge(pull.n_progress, 1);
    ck_assert_uint_eq(pull.last_done, g_bytes_get_size(model));
    ck_assert_uint_eq(pull.last_total, g_bytes_get_size(model));
    /* the service lists it at once */
    models = hk_daemon_call_ok(d, "ListModels", NULL);
    listed = g_variant_print(models, FALSE);
    ck_assert_msg(strstr(listed, path) != NULL, "ListModels: %s", listed);
    g_free(listed);
    g_variant_unref(models);
    g_free(path);
}
END_TEST

START_TEST(test_cut_transfer_resumes)
{
    char *url = g_strconcat(base_url, "/cut/tiny.gguf", NULL);
    char *path = in_models("tiny.gguf");
    char *part = g_strconcat(path, ".part", NULL);
    gsize half = g_bytes_get_size(model) / 2;
    GStatBuf st;

    cut_next = TRUE;
    pull_and_wait(url);
    ck_assert_msg(strstr(pull.error, "stopped") != NULL, "error: %s", pull.error);
    ck_assert_str_eq(pull.path, "");
    ck_assert_int_eq(g_stat(part, &st), 0);
    ck_assert_uint_eq((guint64) st.st_size, half);

    pull_and_wait(url);
    ck_assert_msg(g_str_equal(pull.error, ""), "error: %s", pull.error);
    /* only the missing half was asked for */
    ck_assert_int_eq(last_range_start, (goffset) half);
    assert_same_as_served(path);
    ck_assert(!g_file_test(part, G_FILE_TEST_EXISTS));
    g_free(part);
    g_free(path);
    g_free(url);
}
END_TEST

START_TEST(test_corrupted_files_are_refused)
{
    char *not_a_model = g_strconcat(base_url, "/not-a-model.gguf", NULL);
    char *bad_etag = g_strconcat(base_url, "/bad-etag/etag.gguf", NULL);

    pull_and_wait("tampered");
    ck_assert_msg(strstr(pull.error, "sha256") != NULL, "error: %s", pull.error);
    ck_assert_str_eq(pull.path, "");
    assert_nothing_left("tampered.gguf");

    /* the server's sha256 (the ETag) counts when the catalog gives none */
    pull_and_wait(bad_etag);
    ck_assert_msg(strstr(pull.error, "sha256") != NULL, "error: %s", pull.error);
    assert_nothing_left("etag.gguf");

    pull_and_wait(not_a_model);
    ck_assert_msg(strstr(pull.error, "not a model") != NULL, "error: %s", pull.error);
    assert_nothing_left("not-a-model.gguf");

    /* twice the size the catalog gives */
    pull_and_wait("undersized");
    ck_assert_msg(strstr(pull.error, "limit") != NULL, "error: %s", pull.error);
    assert_nothing_left("undersized.gguf");
    g_free(bad_etag);
    g_free(not_a_model);
}
END_TEST

START_TEST(test_bad_requests_are_named)
{
    char *text_url = g_strconcat(base_url, "/notes.txt", NULL);
    GError *error = NULL;
    GVariant *reply;

    reply = hk_daemon_call(d, "PullModel", g_variant_new("(s)", "no-such-model"), &error);
    ck_assert_ptr_null(reply);
    hk_assert_dbus_error(error, E_NOT_FOUND);
    /* the message lists what the catalog has */
    ck_assert_msg(strstr(error->message, "tiny") != NULL, "%s", error->message);
    g_clear_error(&error);
    reply = hk_daemon_call(d, "PullModel", g_variant_new("(s)", text_url), &error);
    ck_assert_ptr_null(reply);
    hk_assert_dbus_error(error, E_INVALID);
    g_clear_error(&error);
    reply = hk_daemon_call(d, "PullModel", g_variant_new("(s)", ""), &error);
    ck_assert_ptr_null(reply);
    hk_assert_dbus_error(error, E_INVALID);
    g_clear_error(&error);
    g_free(text_url);
}
END_TEST

static void
exited_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    ck_assert(g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL));
    *(gboolean *) data = TRUE;
}

START_TEST(test_hearkenctl_model_pull)
{
    char *program = hk_built_cli("hearkenctl");
    char *url = g_strconcat(base_url, "/by-hand.gguf", NULL);
    const char *argv[] = { program, "model", "pull", url, NULL };
    GSubprocess *process;
    GError *error = NULL;
    char *out = NULL, *err = NULL, *path = in_models("by-hand.gguf");
    gboolean exited = FALSE;

    process = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
    hk_assert_no_error(error);
    g_subprocess_wait_async(process, NULL, exited_cb, &exited);
    hk_daemon_wait_for(&exited, "hearkenctl to exit");
    g_subprocess_communicate_utf8(process, NULL, NULL, &out, &err, &error);
    hk_assert_no_error(error);
    ck_assert_msg(g_subprocess_get_exit_status(process) == 0, "exit %d: %s",
                  g_subprocess_get_exit_status(process), err);
    ck_assert_str_eq(g_strstrip(out), path);
    assert_same_as_served(path);
    g_object_unref(process);
    g_free(out);
    g_free(err);
    g_free(path);
    g_free(url);
    g_free(program);
}
END_TEST

static Suite *
pull_suite(void)
{
    Suite *s = suite_create("daemon-pull");
    TCase *tc = tcase_create("pull");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_pull_a_catalog_model);
    tcase_add_test(tc, test_cut_transfer_resumes);
    tcase_add_test(tc, test_corrupted_files_are_refused);
    tcase_add_test(tc, test_bad_requests_are_named);
    tcase_add_test(tc, test_hearkenctl_model_pull);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    if (hk_test_skip_without_tiny_model("test-daemon-pull"))
        return HK_TEST_SKIP;
    return hk_daemon_run_suite(pull_suite());
}
