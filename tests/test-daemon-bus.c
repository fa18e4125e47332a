/* hearkend on a private bus, without a language model: properties,
 * conversations, feedback, ForgetAll, hostile input, settings, models,
 * and the process's life (SIGTERM, a second instance, --replace). */
#include <signal.h>
#include <sqlite3.h>
#include <string.h>

#include "daemon/hk-daemon-harness.h"
#include "gguf.h"
#include "hearken-store.h"

#define E_INVALID       "org.hearken.Error.InvalidArgument"
#define E_NOT_FOUND     "org.hearken.Error.NotFound"
#define E_TOO_LONG      "org.hearken.Error.TooLong"
#define E_NOT_AVAILABLE "org.hearken.Error.NotAvailable"
#define E_NO_MODEL      "org.hearken.Error.NoModel"
#define E_MODEL_LOAD    "org.hearken.Error.ModelLoad"

static HkDaemon *d;

static void
setup(void)
{
    d = hk_daemon_new();
}

static void
teardown(void)
{
    hk_daemon_free(d);
    d = NULL;
}

/* A call that must succeed. */
/* A call that must fail with the D-Bus error name. */
static void
call_fails(const char *method, GVariant *params, const char *error_name)
{
    GError *error = NULL;
    GVariant *reply = hk_daemon_call(d, method, params, &error);

    ck_assert_msg(reply == NULL, "%s succeeded; expected %s", method, error_name);
    hk_assert_dbus_error(error, error_name);
    g_error_free(error);
}

/* The service answers and its process runs. */
static void
assert_still_up(void)
{
    char *version = hk_daemon_property_string(d, "Version");

    ck_assert_str_eq(version, HEARKEN_VERSION);
    g_free(version);
    ck_assert_ptr_nonnull(g_subprocess_get_identifier(d->daemon));
}

/* Items in the array a reply holds. */
static sqlite3_int64
db_count(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    sqlite3_int64 n;

    ck_assert_int_eq(sqlite3_open_v2(d->db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

/* ---------------------------------------------------------- properties */

START_TEST(test_properties)
{
    char *backend, *reason, *state, *model;

    hk_daemon_start(d, NULL);
    backend = hk_daemon_property_string(d, "Backend");
    reason = hk_daemon_property_string(d, "BackendReason");
    state = hk_daemon_property_string(d, "State");
    model = hk_daemon_property_string(d, "Model");
    /* auto: the device is chosen when a model loads */
    ck_assert_str_eq(backend, "");
    ck_assert_ptr_nonnull(strstr(reason, "asks for auto"));
    ck_assert_str_eq(state, "idle");
    ck_assert_str_eq(model, "");
    assert_still_up();
    g_free(backend);
    g_free(reason);
    g_free(state);
    g_free(model);
}
END_TEST

/* ------------------------------------------------------- conversations */

/* A conversation with a user and an assistant turn, written before
 * hearkend starts; returns the assistant turn. */
static guint64
seed_history(void)
{
    GError *error = NULL;
    HearkenStore *store = hearken_store_open(d->db_path, &error);
    HearkenTurnRecord record = { .conversation = "seeded", .state = HEARKEN_TURN_COMPLETE };

    hk_assert_no_error(error);
    ck_assert(hearken_store_add_conversation(store, "seeded", NULL, &error));
    record.turn = hearken_store_reserve_turn(store);
    record.role = "user";
    record.text = "Will it rain tomorrow?";
    ck_assert(hearken_store_add_turn(store, &record, &error));
    record.turn = hearken_store_reserve_turn(store);
    record.role = "assistant";
    record.text = "I cannot see the sky from here.";
    ck_assert(hearken_store_add_turn(store, &record, &error));
    hk_assert_no_error(error);
    g_object_unref(store);
    return record.turn;
}

START_TEST(test_history_feedback_and_forget_all)
{
    guint64 answer = seed_history();
    GVariant *reply, *turns;
    const char *id, *title, *role, *text;
    guint64 turn, last_used;

    hk_daemon_start(d, NULL);

    reply = hk_daemon_call_ok(d, "ListConversations", NULL);
    ck_assert_str_eq(g_variant_get_type_string(reply), "(a(sst))");
    turns = g_variant_get_child_value(reply, 0);
    ck_assert_uint_eq(g_variant_n_children(turns), 1);
    g_variant_get_child(turns, 0, "(&s&st)", &id, &title, &last_used);
    ck_assert_str_eq(id, "seeded");
    ck_assert_str_eq(title, "Will it rain tomorrow?");
    ck_assert_uint_gt(last_used, 0);
    g_variant_unref(turns);
    g_variant_unref(reply);

    reply = hk_daemon_call_ok(d, "History", g_variant_new("(s)", "seeded"));
    turns = g_variant_get_child_value(reply, 0);
    ck_assert_uint_eq(g_variant_n_children(turns), 2);
    g_variant_get_child(turns, 1, "(t&s&s)", &turn, &role, &text);
    ck_assert_uint_eq(turn, answer);
    ck_assert_str_eq(role, "assistant");
    ck_assert_str_eq(text, "I cannot see the sky from here.");
    g_variant_unref(turns);
    g_variant_unref(reply);

    g_variant_unref(hk_daemon_call_ok(d, "Feedback",
                                      g_variant_new_parsed("(%t, -1, {'intent': <'weather'>, "
                                                           "'comment': <'look it up'>})", answer)));
    ck_assert_int_eq(db_count("SELECT count(*) FROM feedback WHERE rating = -1 AND "
                              "intent = 'weather' AND comment = 'look it up'"), 1);

    /* Ratings gives back the latest verdict on each rated turn */
    g_variant_unref(hk_daemon_call_ok(d, "Feedback", g_variant_new_parsed("(%t, 1, @a{sv} {})", answer)));
    reply = hk_daemon_call_ok(d, "Ratings", g_variant_new("(s)", "seeded"));
    ck_assert_str_eq(g_variant_get_type_string(reply), "(a(tis))");
    turns = g_variant_get_child_value(reply, 0);
    ck_assert_uint_eq(g_variant_n_children(turns), 1);
    {
        gint32 rating;
        const char *intent;
        g_variant_get_child(turns, 0, "(ti&s)", &turn, &rating, &intent);
        ck_assert_uint_eq(turn, answer);
        ck_assert_int_eq(rating, 1);
        ck_assert_str_eq(intent, "");
    }
    g_variant_unref(turns);
    g_variant_unref(reply);
    call_fails("Ratings", g_variant_new("(s)", "no-such-conversation"), E_NOT_FOUND);

    g_variant_unref(hk_daemon_call_ok(d, "ForgetAll", NULL));
    reply = hk_daemon_call_ok(d, "ListConversations", NULL);
    ck_assert_uint_eq(hk_reply_n_items(reply), 0);
    g_variant_unref(reply);
    call_fails("History", g_variant_new("(s)", "seeded"), E_NOT_FOUND);
    call_fails("Feedback", g_variant_new_parsed("(%t, 1, @a{sv} {})", answer), E_NOT_FOUND);
    ck_assert_int_eq(db_count("SELECT count(*) FROM turns"), 0);
    ck_assert_int_eq(db_count("SELECT count(*) FROM feedback"), 0);
}
END_TEST

START_TEST(test_start_conversation)
{
    GVariant *reply, *list, *conversations;
    const char *id;
    gboolean listed = FALSE;

    hk_daemon_start(d, NULL);
    reply = hk_daemon_call_ok(d, "StartConversation",
                              g_variant_new_parsed("({'system': <'Answer in French.'>, 'temperature': <0.2>},)"));
    g_variant_get(reply, "(&s)", &id);
    ck_assert(g_uuid_string_is_valid(id));

    list = hk_daemon_call_ok(d, "History", g_variant_new("(s)", id));
    ck_assert_uint_eq(hk_reply_n_items(list), 0);
    g_variant_unref(list);

    list = hk_daemon_call_ok(d, "ListConversations", NULL);
    conversations = g_variant_get_child_value(list, 0);
    for (gsize i = 0; i < g_variant_n_children(conversations); i++) {
        const char *listed_id;
        g_variant_get_child(conversations, i, "(&sst)", &listed_id, NULL, NULL);
        listed = listed || g_str_equal(listed_id, id);
    }
    ck_assert(listed);
    g_variant_unref(conversations);
    g_variant_unref(list);
    g_variant_unref(reply);
    ck_assert_int_eq(db_count("SELECT count(*) FROM conversations"), 1);
}
END_TEST

/* ------------------------------------------------------- hostile input */

START_TEST(test_bad_input_gets_named_errors)
{
    char *long_id = g_strnfill(65, 'x');
    char *ten_mb = g_strnfill(10 * 1024 * 1024, 'a');

    hk_daemon_start(d, NULL);

    call_fails("History", g_variant_new("(s)", ""), E_INVALID);
    call_fails("History", g_variant_new("(s)", long_id), E_INVALID);
    call_fails("History", g_variant_new("(s)", ten_mb), E_INVALID);
    call_fails("History", g_variant_new("(s)", "no-such-conversation"), E_NOT_FOUND);
    /* the bus library checks the signature before hearkend sees the call */
    call_fails("History", g_variant_new("(i)", 7), "org.freedesktop.DBus.Error.InvalidArgs");

    call_fails("StartConversation", g_variant_new_parsed("({'temperature': <'hot'>},)"), E_INVALID);
    call_fails("StartConversation", g_variant_new_parsed("({'max_tokens': <0>},)"), E_INVALID);
    call_fails("StartConversation", g_variant_new_parsed("({'max_tokens': <@u 0>},)"), E_INVALID);
    call_fails("StartConversation", g_variant_new_parsed("({'max_tokens': <@u 4000000000>},)"), E_INVALID);
    call_fails("StartConversation", g_variant_new_parsed("({'top_p': <1.5>},)"), E_INVALID);
    call_fails("StartConversation", g_variant_new_parsed("({'no_such_option': <1>},)"), E_INVALID);
    call_fails("StartConversation", g_variant_new_parsed("({'system': <%s>},)", ten_mb), E_TOO_LONG);

    call_fails("Feedback", g_variant_new_parsed("(@t 1, 2, @a{sv} {})"), E_INVALID);
    call_fails("Feedback", g_variant_new_parsed("(@t 1, -7, @a{sv} {})"), E_INVALID);
    call_fails("Feedback", g_variant_new_parsed("(@t 1, 1, {'intent': <42>})"), E_INVALID);
    call_fails("Feedback", g_variant_new_parsed("(@t 1, 1, {'comment': <%s>})", ten_mb), E_TOO_LONG);
    call_fails("Feedback", g_variant_new_parsed("(@t 1, 1, {'stars': <5>})"), E_INVALID);
    call_fails("Feedback", g_variant_new_parsed("(@t 18446744073709551615, 1, @a{sv} {})"), E_NOT_FOUND);

    assert_still_up();
    ck_assert_int_eq(db_count("SELECT count(*) FROM conversations"), 0);
    g_free(long_id);
    g_free(ten_mb);
}
END_TEST

START_TEST(test_bad_generation_input_gets_named_errors)
{
    char *ten_mb = g_strnfill(10 * 1024 * 1024, 'a');
    GVariant *reply;
    const char *id;

    hk_daemon_start(d, NULL);
    reply = hk_daemon_call_ok(d, "StartConversation", g_variant_new_parsed("(@a{sv} {},)"));
    g_variant_get(reply, "(&s)", &id);

    call_fails("Ask", g_variant_new_parsed("('', @a{sv} {})"), E_INVALID);
    call_fails("Ask", g_variant_new_parsed("(' \n\t ', @a{sv} {})"), E_INVALID);
    call_fails("Ask", g_variant_new_parsed("(%s, @a{sv} {})", ten_mb), E_TOO_LONG);
    call_fails("Ask", g_variant_new_parsed("('hi', {'max_tokens': <@u 0>})"), E_INVALID);
    call_fails("Ask", g_variant_new_parsed("('hi', {'max_tokens': <@u 4294967295>})"), E_INVALID);
    call_fails("Ask", g_variant_new_parsed("('hi', {'seed': <'lucky'>})"), E_INVALID);
    call_fails("Send", g_variant_new_parsed("(%s, '', @a{sv} {})", id), E_INVALID);
    call_fails("Send", g_variant_new_parsed("(%s, %s, @a{sv} {})", id, ten_mb), E_TOO_LONG);
    call_fails("Send", g_variant_new_parsed("('no-such-conversation', 'hi', @a{sv} {})"), E_NOT_FOUND);
    call_fails("Send", g_variant_new_parsed("(%s, 'hi', {'temperature': <@u 1>})", id), E_INVALID);
    call_fails("Cancel", g_variant_new("(t)", (guint64) 42), E_NOT_FOUND);
    call_fails("LoadModel", g_variant_new("(s)", ""), E_INVALID);
    call_fails("LoadModel", g_variant_new("(s)", "models/relative.gguf"), E_INVALID);
    call_fails("LoadModel", g_variant_new("(s)", "/no/such/model.gguf"), E_NOT_FOUND);
    call_fails("LoadModel", g_variant_new("(s)", "no-such-name"), E_NOT_FOUND);
    call_fails("LoadModel", g_variant_new("(s)", ten_mb), E_TOO_LONG);

    assert_still_up();
    /* nothing was stored for the refused turns */
    ck_assert_int_eq(db_count("SELECT count(*) FROM turns"), 0);
    g_variant_unref(reply);
    g_free(ten_mb);
}
END_TEST

START_TEST(test_no_model_says_how_to_get_one)
{
    GError *error = NULL;
    GVariant *reply;
    const char *id;

    hk_daemon_start(d, NULL);
    ck_assert_ptr_null(hk_daemon_call(d, "Ask", g_variant_new_parsed("('hello', @a{sv} {})"), &error));
    hk_assert_dbus_error(error, E_NO_MODEL);
    ck_assert_ptr_nonnull(strstr(error->message, d->models_dir));
    ck_assert_ptr_nonnull(strstr(error->message, "HEARKEN_MODEL"));
    g_clear_error(&error);

    reply = hk_daemon_call_ok(d, "StartConversation", g_variant_new_parsed("(@a{sv} {},)"));
    g_variant_get(reply, "(&s)", &id);
    call_fails("Send", g_variant_new_parsed("(%s, 'hello', @a{sv} {})", id), E_NO_MODEL);
    g_variant_unref(reply);
    assert_still_up();
}
END_TEST

/* Failed for turn, seen on the test's connection. */
typedef struct {
    guint64  turn;
    char    *error;
    gboolean seen;
} FailedWait;

static void
failed_cb(GDBusConnection *connection, const char *sender, const char *path,
          const char *interface, const char *signal, GVariant *params, gpointer data)
{
    FailedWait *wait = data;
    guint64 turn;

    g_variant_get_child(params, 1, "t", &turn);
    if (turn == wait->turn) {
        g_variant_get_child(params, 2, "s", &wait->error);
        wait->seen = TRUE;
    }
}

START_TEST(test_broken_model_fails_the_turn)
{
    char *broken = g_build_filename(d->models_dir, "broken.gguf", NULL);
    char *env_model = g_strconcat("HEARKEN_MODEL=", broken, NULL);
    const char *env[] = { env_model, NULL };
    FailedWait wait = { 0 };
    GVariant *reply;
    const char *id;
    guint subscription;

    ck_assert(g_file_set_contents(broken, "GGUF but no more", -1, NULL));
    hk_daemon_start(d, env);
    call_fails("Ask", g_variant_new_parsed("('hello', @a{sv} {})"), E_MODEL_LOAD);

    subscription = g_dbus_connection_signal_subscribe(
        d->connection, NULL, "org.hearken.Assistant1", "Failed", "/org/hearken/Assistant1",
        NULL, G_DBUS_SIGNAL_FLAGS_NONE, failed_cb, &wait, NULL);
    reply = hk_daemon_call_ok(d, "StartConversation", g_variant_new_parsed("(@a{sv} {},)"));
    g_variant_get(reply, "(&s)", &id);
    g_variant_unref(hk_daemon_call_ok(d, "Send", g_variant_new_parsed("(%s, 'hello', @a{sv} {})", id)));
    wait.turn = 4;   /* Ask took 1 and 2, this Send's message 3 */
    hk_daemon_wait_for(&wait.seen, "Failed for the turn");
    ck_assert_str_eq(wait.error, E_MODEL_LOAD);
    call_fails("LoadModel", g_variant_new("(s)", broken), E_MODEL_LOAD);
    assert_still_up();

    g_dbus_connection_signal_unsubscribe(d->connection, subscription);
    g_variant_unref(reply);
    g_free(wait.error);
    g_free(env_model);
    g_free(broken);
}
END_TEST

START_TEST(test_later_features_say_not_available)
{
    static const struct {
        const char *method;
        const char *params;
        const char *mention;
    } cases[] = {
        { "Classify", "('open the browser',)", "intent" },
    };

    hk_daemon_start(d, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *error = NULL;
        GVariant *params = cases[i].params ? g_variant_new_parsed(cases[i].params) : NULL;

        ck_assert_ptr_null(hk_daemon_call(d, cases[i].method, params, &error));
        hk_assert_dbus_error(error, E_NOT_AVAILABLE);
        ck_assert_msg(strstr(error->message, cases[i].mention),
                      "%s: “%s” does not mention %s", cases[i].method, error->message, cases[i].mention);
        g_error_free(error);
    }
    assert_still_up();
}
END_TEST

/* ----------------------------------------------------------- settings */

START_TEST(test_history_off_writes_nothing)
{
    GVariant *reply, *list;
    const char *id;

    hk_daemon_write_settings(d, "keep-history=false");
    hk_daemon_start(d, NULL);
    reply = hk_daemon_call_ok(d, "StartConversation", g_variant_new_parsed("(@a{sv} {},)"));
    g_variant_get(reply, "(&s)", &id);
    /* the conversation exists for the life of the service… */
    g_variant_unref(hk_daemon_call_ok(d, "History", g_variant_new("(s)", id)));
    list = hk_daemon_call_ok(d, "ListConversations", NULL);
    ck_assert_uint_eq(hk_reply_n_items(list), 1);
    g_variant_unref(list);
    g_variant_unref(reply);
    hk_daemon_stop(d);

    /* …and never reaches the disk */
    ck_assert_int_eq(db_count("SELECT count(*) FROM conversations"), 0);
}
END_TEST

static void
properties_changed_cb(GDBusConnection *connection, const char *sender, const char *path,
                      const char *interface, const char *signal, GVariant *params, gpointer data)
{
    GVariant *changed = g_variant_get_child_value(params, 1);
    const char *reason;

    if (g_variant_lookup(changed, "BackendReason", "&s", &reason) && strstr(reason, "Vulkan"))
        *(gboolean *) data = strstr(reason, "asks for Vulkan") != NULL;
    g_variant_unref(changed);
}

START_TEST(test_setting_change_is_picked_up_live)
{
    gboolean seen = FALSE;
    guint subscription;
    char *reason;

    hk_daemon_start(d, NULL);
    subscription = g_dbus_connection_signal_subscribe(
        d->connection, "org.hearken.Assistant1", "org.freedesktop.DBus.Properties",
        "PropertiesChanged", "/org/hearken/Assistant1", "org.hearken.Assistant1",
        G_DBUS_SIGNAL_FLAGS_NONE, properties_changed_cb, &seen, NULL);

    hk_daemon_write_settings(d, "backend='vulkan'");
    hk_daemon_wait_for(&seen, "PropertiesChanged with the new BackendReason");
    reason = hk_daemon_property_string(d, "BackendReason");
    ck_assert_ptr_nonnull(strstr(reason, "asks for Vulkan"));
    g_free(reason);
    g_dbus_connection_signal_unsubscribe(d->connection, subscription);
}
END_TEST

START_TEST(test_environment_overrides_settings)
{
    const char *env[] = { "HEARKEN_BACKEND=cpu", NULL };
    char *reason;

    hk_daemon_write_settings(d, "backend='vulkan'");
    hk_daemon_start(d, env);
    reason = hk_daemon_property_string(d, "BackendReason");
    ck_assert_ptr_nonnull(strstr(reason, "HEARKEN_BACKEND"));
    g_free(reason);
}
END_TEST

START_TEST(test_bad_environment_is_refused_at_start)
{
    const char *env[] = { "HEARKEN_BACKEND=quantum", NULL };

    ck_assert_int_eq(hk_daemon_run_other(d, NULL, env), 1);
}
END_TEST

/* -------------------------------------------------------------- models */

static char *
write_model(const char *file, const char *name)
{
    hk_gguf_writer *w = hk_gguf_writer_new();
    hk_error err = { 0 };
    uint64_t ne[2] = { 32, 2 };
    float data[64] = { 0 };
    char *path = g_build_filename(d->models_dir, file, NULL);

    hk_gguf_writer_set_str(w, "general.architecture", "llama");
    hk_gguf_writer_set_str(w, "general.name", name);
    hk_gguf_writer_set_u32(w, "general.file_type", 0);
    ck_assert_int_eq(hk_gguf_writer_add_tensor(w, "token_embd.weight", HK_TYPE_F32, 2, ne, data, &err), 0);
    ck_assert_int_eq(hk_gguf_writer_write_file(w, path, &err), 0);
    hk_gguf_writer_free(w);
    return path;
}

START_TEST(test_list_models_survives_damaged_files)
{
    static const char garbage[] = "GGUF\3\0\0\0 then garbage";
    char *good = write_model("good.gguf", "Good Model");
    char *broken = g_build_filename(d->models_dir, "broken.gguf", NULL);
    GVariant *reply, *models;
    char *model;
    int n_errors = 0;

    ck_assert(g_file_set_contents(broken, garbage, sizeof garbage - 1, NULL));
    hk_daemon_start(d, NULL);

    model = hk_daemon_property_string(d, "Model");
    ck_assert_str_eq(model, good);
    reply = hk_daemon_call_ok(d, "ListModels", NULL);
    models = g_variant_get_child_value(reply, 0);
    ck_assert_uint_eq(g_variant_n_children(models), 2);
    for (gsize i = 0; i < 2; i++) {
        GVariant *entry = g_variant_get_child_value(models, i);
        const char *name, *quantization;

        ck_assert(g_variant_lookup(entry, "name", "&s", &name));
        ck_assert(g_variant_lookup(entry, "quantization", "&s", &quantization));
        if (g_variant_lookup(entry, "error", "&s", NULL))
            n_errors++;
        else {
            ck_assert_str_eq(name, "Good Model");
            ck_assert_str_eq(quantization, "F32");
        }
        g_variant_unref(entry);
    }
    ck_assert_int_eq(n_errors, 1);
    g_variant_unref(models);
    g_variant_unref(reply);
    assert_still_up();
    g_free(model);
    g_free(good);
    g_free(broken);
}
END_TEST

static void
model_changed_cb(GDBusConnection *connection, const char *sender, const char *path,
                 const char *interface, const char *signal, GVariant *params, gpointer data)
{
    GVariant *changed = g_variant_get_child_value(params, 1);
    const char *model;

    if (g_variant_lookup(changed, "Model", "&s", &model) && g_str_has_suffix(model, "/second.gguf"))
        *(gboolean *) data = TRUE;
    g_variant_unref(changed);
}

START_TEST(test_model_setting_is_followed_live)
{
    char *first = write_model("first.gguf", "First");
    char *second = write_model("second.gguf", "Second");
    gboolean seen = FALSE;
    guint subscription;
    char *model;

    hk_daemon_start(d, NULL);
    model = hk_daemon_property_string(d, "Model");
    ck_assert_str_eq(model, first);
    g_free(model);

    subscription = g_dbus_connection_signal_subscribe(
        d->connection, NULL, "org.freedesktop.DBus.Properties", "PropertiesChanged",
        "/org/hearken/Assistant1", "org.hearken.Assistant1", G_DBUS_SIGNAL_FLAGS_NONE,
        model_changed_cb, &seen, NULL);
    hk_daemon_write_settings(d, "model='second'");
    hk_daemon_wait_for(&seen, "PropertiesChanged with the new Model");
    model = hk_daemon_property_string(d, "Model");
    ck_assert_str_eq(model, second);

    g_dbus_connection_signal_unsubscribe(d->connection, subscription);
    g_free(model);
    g_free(first);
    g_free(second);
}
END_TEST

/* ------------------------------------------------------------ lifetime */

START_TEST(test_sigterm_shuts_down_cleanly)
{
    char *wal;
    GVariant *reply;
    gboolean owned = TRUE;

    hk_daemon_start(d, NULL);
    g_variant_unref(hk_daemon_call_ok(d, "StartConversation", g_variant_new_parsed("(@a{sv} {},)")));
    hk_daemon_stop(d);   /* asserts exit status 0 */

    /* the database was closed: its WAL checkpointed and removed */
    wal = g_strconcat(d->db_path, "-wal", NULL);
    ck_assert(!g_file_test(wal, G_FILE_TEST_EXISTS));
    ck_assert_int_eq(db_count("SELECT count(*) FROM conversations"), 1);
    g_free(wal);

    reply = g_dbus_connection_call_sync(d->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "NameHasOwner",
                                        g_variant_new("(s)", "org.hearken.Assistant1"),
                                        G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
    g_variant_get(reply, "(b)", &owned);
    ck_assert(!owned);
    g_variant_unref(reply);
}
END_TEST

START_TEST(test_end_of_session_stops_the_service)
{
    hk_daemon_start(d, NULL);
    /* the session bus goes away, as at logout */
    g_test_dbus_stop(d->bus);
    hk_daemon_expect_exit(d);
}
END_TEST

START_TEST(test_second_instance_and_replace)
{
    const char *plain[] = { NULL };

    hk_daemon_start(d, NULL);
    /* a second hearkend finds the name taken and leaves the first alone */
    ck_assert_int_eq(hk_daemon_run_other(d, plain, NULL), 1);
    assert_still_up();

    hk_daemon_replace(d, NULL);
    assert_still_up();
    hk_daemon_stop(d);
}
END_TEST

START_TEST(test_damaged_database_is_moved_aside)
{
    GDir *dir;
    const char *name;
    gboolean moved = FALSE;
    GVariant *reply;
    char *hearken_dir = g_path_get_dirname(d->db_path);

    ck_assert(g_file_set_contents(d->db_path, "this is no database, not even close........", -1, NULL));
    hk_daemon_start(d, NULL);
    reply = hk_daemon_call_ok(d, "ListConversations", NULL);
    ck_assert_uint_eq(hk_reply_n_items(reply), 0);
    g_variant_unref(reply);

    dir = g_dir_open(hearken_dir, 0, NULL);
    while ((name = g_dir_read_name(dir)))
        moved = moved || g_str_has_prefix(name, "hearken.db.corrupt-");
    g_dir_close(dir);
    ck_assert(moved);
    g_free(hearken_dir);
}
END_TEST

static Suite *
bus_suite(void)
{
    Suite *s = suite_create("daemon-bus");
    TCase *api = tcase_create("api");
    TCase *settings = tcase_create("settings");
    TCase *lifetime = tcase_create("lifetime");

    tcase_add_checked_fixture(api, setup, teardown);
    tcase_add_test(api, test_properties);
    tcase_add_test(api, test_history_feedback_and_forget_all);
    tcase_add_test(api, test_start_conversation);
    tcase_add_test(api, test_bad_input_gets_named_errors);
    tcase_add_test(api, test_bad_generation_input_gets_named_errors);
    tcase_add_test(api, test_no_model_says_how_to_get_one);
    tcase_add_test(api, test_broken_model_fails_the_turn);
    tcase_add_test(api, test_later_features_say_not_available);
    tcase_add_test(api, test_list_models_survives_damaged_files);
    suite_add_tcase(s, api);

    tcase_add_checked_fixture(settings, setup, teardown);
    tcase_add_test(settings, test_history_off_writes_nothing);
    tcase_add_test(settings, test_setting_change_is_picked_up_live);
    tcase_add_test(settings, test_model_setting_is_followed_live);
    tcase_add_test(settings, test_environment_overrides_settings);
    tcase_add_test(settings, test_bad_environment_is_refused_at_start);
    suite_add_tcase(s, settings);

    tcase_add_checked_fixture(lifetime, setup, teardown);
    tcase_add_test(lifetime, test_sigterm_shuts_down_cleanly);
    tcase_add_test(lifetime, test_end_of_session_stops_the_service);
    tcase_add_test(lifetime, test_second_instance_and_replace);
    tcase_add_test(lifetime, test_damaged_database_is_moved_aside);
    suite_add_tcase(s, lifetime);
    return s;
}

int
main(void)
{
    return hk_daemon_run_suite(bus_suite());
}
