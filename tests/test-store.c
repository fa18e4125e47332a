/* The history database: round trips, limits, keep-history off, ForgetAll,
 * damaged files and crashes. */
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/hk-glib-check.h"
#include "hearken-error.h"
#include "hearken-limits.h"
#include "hearken-store.h"

static char *tmpdir;
static char *db_path;

static void
setup(void)
{
    tmpdir = hk_tmpdir_new();
    db_path = g_build_filename(tmpdir, "hearken.db", NULL);
}

static void
teardown(void)
{
    hk_tmpdir_remove(tmpdir);
    g_clear_pointer(&tmpdir, g_free);
    g_clear_pointer(&db_path, g_free);
}

static HearkenStore *
open_store(void)
{
    GError *error = NULL;
    HearkenStore *store = hearken_store_open(db_path, &error);

    hk_assert_no_error(error);
    ck_assert_ptr_nonnull(store);
    return store;
}

static void
add_conversation(HearkenStore *store, const char *id)
{
    GError *error = NULL;

    ck_assert(hearken_store_add_conversation(store, id, NULL, &error));
    hk_assert_no_error(error);
}

/* Adds a complete turn and returns its number. */
static guint64
add_turn(HearkenStore *store, const char *id, const char *role, const char *text)
{
    GError *error = NULL;
    HearkenTurnRecord record = {
        .turn = hearken_store_reserve_turn(store),
        .conversation = id,
        .role = role,
        .text = text,
        .state = HEARKEN_TURN_COMPLETE,
    };

    ck_assert(hearken_store_add_turn(store, &record, &error));
    hk_assert_no_error(error);
    return record.turn;
}

static GVariant *
history(HearkenStore *store, const char *id)
{
    GError *error = NULL;
    GVariant *turns = hearken_store_history(store, id, &error);

    hk_assert_no_error(error);
    return turns;
}

static gsize
n_conversations(HearkenStore *store)
{
    GError *error = NULL;
    GVariant *list = hearken_store_list_conversations(store, &error);
    gsize n;

    hk_assert_no_error(error);
    n = g_variant_n_children(list);
    g_variant_unref(list);
    return n;
}

/* One integer from a query on the file, through a connection of its own. */
static sqlite3_int64
query_int(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    sqlite3_int64 value;

    ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
}

/* Whether needle occurs in the bytes of a file (absent file: no). */
static gboolean
file_contains(const char *path, const char *needle)
{
    char *data = NULL;
    gsize size = 0;
    gboolean found;

    if (!g_file_get_contents(path, &data, &size, NULL))
        return FALSE;
    found = memmem(data, size, needle, strlen(needle)) != NULL;
    g_free(data);
    return found;
}

/* The files beside db_path whose name starts with "hearken.db.corrupt-",
 * not counting their WALs. */
static GPtrArray *
moved_aside_files(void)
{
    GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
    GDir *dir = g_dir_open(tmpdir, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name(dir)))
        if (g_str_has_prefix(name, "hearken.db.corrupt-") && !g_str_has_suffix(name, "-wal"))
            g_ptr_array_add(found, g_build_filename(tmpdir, name, NULL));
    g_dir_close(dir);
    return found;
}

/* -------------------------------------------------------------- basics */

START_TEST(test_new_store_is_versioned_and_in_wal_mode)
{
    HearkenStore *store = open_store();

    ck_assert_uint_eq(n_conversations(store), 0);
    ck_assert_uint_eq(hearken_store_reserve_turn(store), 1);
    ck_assert(hearken_store_get_keep_history(store));
    ck_assert_int_eq(query_int("PRAGMA user_version"), 2);
    ck_assert_int_eq(query_int("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
    g_object_unref(store);
}
END_TEST

START_TEST(test_conversation_round_trip)
{
    HearkenStore *store = open_store();
    GVariant *turns, *list;
    guint64 asked, answered, turn, last_used;
    const char *role, *text, *id, *title;

    add_conversation(store, "c1");
    asked = add_turn(store, "c1", "user", "  What is the capital of France?\nAnd why?");
    answered = add_turn(store, "c1", "assistant", "Paris.");
    ck_assert_uint_lt(asked, answered);

    turns = history(store, "c1");
    ck_assert_uint_eq(g_variant_n_children(turns), 2);
    g_variant_get_child(turns, 0, "(t&s&s)", &turn, &role, &text);
    ck_assert_uint_eq(turn, asked);
    ck_assert_str_eq(role, "user");
    ck_assert_str_eq(text, "  What is the capital of France?\nAnd why?");
    g_variant_get_child(turns, 1, "(t&s&s)", &turn, &role, &text);
    ck_assert_uint_eq(turn, answered);
    ck_assert_str_eq(role, "assistant");
    ck_assert_str_eq(text, "Paris.");
    g_variant_unref(turns);

    list = hearken_store_list_conversations(store, NULL);
    ck_assert_uint_eq(g_variant_n_children(list), 1);
    g_variant_get_child(list, 0, "(&s&st)", &id, &title, &last_used);
    ck_assert_str_eq(id, "c1");
    /* the first line of the first user message */
    ck_assert_str_eq(title, "What is the capital of France?");
    ck_assert_uint_le(last_used, (guint64) (g_get_real_time() / G_USEC_PER_SEC));
    ck_assert_uint_ge(last_used, (guint64) (g_get_real_time() / G_USEC_PER_SEC) - 60);
    g_variant_unref(list);
    g_object_unref(store);
}
END_TEST

START_TEST(test_long_titles_are_cut_on_characters)
{
    HearkenStore *store = open_store();
    GString *text = g_string_new(NULL);
    GVariant *list;
    const char *title;

    for (int i = 0; i < 100; i++)
        g_string_append(text, "é");
    add_conversation(store, "c1");
    add_turn(store, "c1", "user", text->str);
    list = hearken_store_list_conversations(store, NULL);
    g_variant_get_child(list, 0, "(&s&st)", NULL, &title, NULL);
    ck_assert(g_utf8_validate(title, -1, NULL));
    ck_assert_int_eq(g_utf8_strlen(title, -1), 60);
    g_variant_unref(list);
    g_string_free(text, TRUE);
    g_object_unref(store);
}
END_TEST

START_TEST(test_most_recent_conversation_first)
{
    HearkenStore *store = open_store();
    GVariant *list;
    const char *first, *second, *third;

    add_conversation(store, "old");
    add_conversation(store, "middle");
    add_conversation(store, "new");
    /* using "old" again makes it the most recent */
    add_turn(store, "old", "user", "hello again");

    list = hearken_store_list_conversations(store, NULL);
    ck_assert_uint_eq(g_variant_n_children(list), 3);
    g_variant_get_child(list, 0, "(&sst)", &first, NULL, NULL);
    g_variant_get_child(list, 1, "(&sst)", &second, NULL, NULL);
    g_variant_get_child(list, 2, "(&sst)", &third, NULL, NULL);
    ck_assert_str_eq(first, "old");
    ck_assert_str_eq(second, "new");
    ck_assert_str_eq(third, "middle");
    g_variant_unref(list);
    g_object_unref(store);
}
END_TEST

START_TEST(test_turn_states_and_details_are_stored)
{
    HearkenStore *store = open_store();
    GError *error = NULL;
    HearkenTurnRecord record = {
        .conversation = "c1",
        .role = "assistant",
        .text = "Par",
        .model = "tiny",
        .backend = "cpu",
        .tokens = 3,
        .tokens_per_second = 12.5,
        .intent = "question",
        .confidence = 0.75,
        .state = HEARKEN_TURN_CANCELLED,
    };

    add_conversation(store, "c1");
    record.turn = hearken_store_reserve_turn(store);
    ck_assert(hearken_store_add_turn(store, &record, &error));
    hk_assert_no_error(error);
    g_object_unref(store);

    ck_assert_int_eq(query_int("SELECT count(*) FROM turns WHERE state = 'cancelled' AND model = 'tiny' "
                               "AND backend = 'cpu' AND tokens = 3 AND tokens_per_second = 12.5 "
                               "AND intent = 'question' AND confidence = 0.75"), 1);
}
END_TEST

START_TEST(test_unknown_ids_are_not_found)
{
    HearkenStore *store = open_store();
    GError *error = NULL;
    HearkenTurnRecord record = {
        .turn = hearken_store_reserve_turn(store),
        .conversation = "nope",
        .role = "user",
        .text = "hi",
    };

    ck_assert_ptr_null(hearken_store_history(store, "nope", &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(error->message, "nope"));
    g_clear_error(&error);

    ck_assert(!hearken_store_add_turn(store, &record, &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND);
    g_clear_error(&error);

    ck_assert(!hearken_store_add_feedback(store, 12345, 1, NULL, NULL, &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(error->message, "12345"));
    g_clear_error(&error);
    g_object_unref(store);
}
END_TEST

START_TEST(test_duplicate_conversation_is_refused)
{
    HearkenStore *store = open_store();
    GError *error = NULL;

    add_conversation(store, "c1");
    ck_assert(!hearken_store_add_conversation(store, "c1", NULL, &error));
    ck_assert_ptr_nonnull(error);
    g_clear_error(&error);
    ck_assert_uint_eq(n_conversations(store), 1);
    g_object_unref(store);
}
END_TEST

START_TEST(test_feedback_is_stored)
{
    HearkenStore *store = open_store();
    GError *error = NULL;
    guint64 turn;
    g_autofree char *sql = NULL;

    add_conversation(store, "c1");
    turn = add_turn(store, "c1", "assistant", "Paris.");
    ck_assert(hearken_store_add_feedback(store, turn, -1, "weather", "I asked about rain", &error));
    hk_assert_no_error(error);
    ck_assert(hearken_store_add_feedback(store, turn, 1, NULL, NULL, &error));
    hk_assert_no_error(error);
    g_object_unref(store);

    sql = g_strdup_printf("SELECT count(*) FROM feedback WHERE turn = %" G_GUINT64_FORMAT
                          " AND rating = -1 AND intent = 'weather' AND comment = 'I asked about rain'", turn);
    ck_assert_int_eq(query_int(sql), 1);
    ck_assert_int_eq(query_int("SELECT count(*) FROM feedback WHERE rating = 1 AND intent IS NULL"), 1);
}
END_TEST

START_TEST(test_intent_corrections)
{
    HearkenStore *store = open_store();
    GError *error = NULL;
    guint64 asked, answered, turn, when;
    g_autofree char *text = NULL;
    GVariant *list, *learned;
    const char *listed_text, *intent;

    add_conversation(store, "c1");
    asked = add_turn(store, "c1", "user", "crank it up");
    answered = add_turn(store, "c1", "assistant", "It’s 10:00.");
    /* the text of a correction is the message the turn answered */
    text = hearken_store_dup_turn_input(store, answered, &error);
    hk_assert_no_error(error);
    ck_assert_str_eq(text, "crank it up");
    g_clear_pointer(&text, g_free);
    text = hearken_store_dup_turn_input(store, asked, &error);
    ck_assert_str_eq(text, "crank it up");
    ck_assert_ptr_null(hearken_store_dup_turn_input(store, 999, &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND);
    g_clear_error(&error);

    ck_assert(hearken_store_add_feedback(store, answered, -1, "volume_up", NULL, &error));
    ck_assert(hearken_store_add_feedback(store, answered, 1, NULL, "nice", &error));
    hk_assert_no_error(error);
    list = g_variant_ref_sink(hearken_store_intent_corrections(store, &error));
    ck_assert_uint_eq(g_variant_n_children(list), 1);
    g_variant_get_child(list, 0, "(t&s&st)", &turn, &listed_text, &intent, &when);
    ck_assert_uint_eq(turn, answered);
    ck_assert_str_eq(listed_text, "crank it up");
    ck_assert_str_eq(intent, "volume_up");
    ck_assert_uint_gt(when, 0);
    g_variant_unref(list);

    learned = hearken_store_learned_corrections(store, 16, &error);
    ck_assert_uint_eq(g_variant_n_children(learned), 1);
    g_variant_unref(learned);
    /* a reset keeps the history, and learns from none of it again */
    ck_assert(hearken_store_reset_corrections(store, &error));
    learned = hearken_store_learned_corrections(store, 16, &error);
    ck_assert_uint_eq(g_variant_n_children(learned), 0);
    g_variant_unref(learned);
    list = g_variant_ref_sink(hearken_store_intent_corrections(store, &error));
    ck_assert_uint_eq(g_variant_n_children(list), 1);
    g_variant_unref(list);
    hk_assert_no_error(error);
    g_object_unref(store);
}
END_TEST

/* A file of schema version 1 (before corrections could be reset) keeps
 * its history and its corrections. */
START_TEST(test_version_1_file_is_migrated)
{
    HearkenStore *store = open_store();
    GError *error = NULL;
    guint64 answered;
    GVariant *learned;
    sqlite3 *db = NULL;

    add_conversation(store, "old");
    add_turn(store, "old", "user", "zap the glow");
    answered = add_turn(store, "old", "assistant", "OK.");
    ck_assert(hearken_store_add_feedback(store, answered, -1, "brightness_down", NULL, &error));
    g_object_unref(store);
    /* back to what version 1 wrote */
    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "DROP INDEX feedback_corrections;"
                                      "ALTER TABLE feedback DROP COLUMN reset;"
                                      "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    store = open_store();
    ck_assert_int_eq(query_int("PRAGMA user_version"), 2);
    ck_assert_uint_eq(n_conversations(store), 1);
    learned = hearken_store_learned_corrections(store, 16, &error);
    hk_assert_no_error(error);
    ck_assert_uint_eq(g_variant_n_children(learned), 1);
    g_variant_unref(learned);
    g_object_unref(store);
}
END_TEST

START_TEST(test_options_round_trip)
{
    HearkenStore *store = open_store();
    GError *error = NULL;
    GVariant *options = g_variant_ref_sink(g_variant_new_parsed(
        "{'system': <'Answer in French.'>, 'temperature': <0.25>}"));
    GVariant *read;
    const char *system = NULL;
    double temperature = 0;

    ck_assert(hearken_store_add_conversation(store, "with", options, &error));
    add_conversation(store, "without");
    g_object_unref(store);

    store = open_store();
    read = hearken_store_get_options(store, "with", &error);
    hk_assert_no_error(error);
    ck_assert(g_variant_lookup(read, "system", "&s", &system));
    ck_assert_str_eq(system, "Answer in French.");
    ck_assert(g_variant_lookup(read, "temperature", "d", &temperature));
    ck_assert(temperature == 0.25);
    g_variant_unref(read);

    read = hearken_store_get_options(store, "without", &error);
    ck_assert_uint_eq(g_variant_n_children(read), 0);
    g_variant_unref(read);
    ck_assert_ptr_null(hearken_store_get_options(store, "nope", &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_variant_unref(options);
    g_object_unref(store);
}
END_TEST

START_TEST(test_context_holds_complete_turns)
{
    HearkenStore *store = open_store();
    GError *error = NULL;
    HearkenTurnRecord cut = {
        .conversation = "c1", .role = "assistant", .text = "Half an ans",
        .state = HEARKEN_TURN_CANCELLED,
    };
    GVariant *context;
    const char *role, *text;

    add_conversation(store, "c1");
    add_turn(store, "c1", "user", "First question");
    add_turn(store, "c1", "assistant", "First answer");
    add_turn(store, "c1", "user", "Second question");
    cut.turn = hearken_store_reserve_turn(store);
    ck_assert(hearken_store_add_turn(store, &cut, &error));
    add_turn(store, "c1", "user", "Third question");

    /* the history shows everything, the model reads what was complete */
    context = hearken_store_get_context(store, "c1", &error);
    hk_assert_no_error(error);
    ck_assert_uint_eq(g_variant_n_children(context), 4);
    g_variant_get_child(context, 1, "(&s&s)", &role, &text);
    ck_assert_str_eq(role, "assistant");
    ck_assert_str_eq(text, "First answer");
    g_variant_get_child(context, 3, "(&s&s)", &role, &text);
    ck_assert_str_eq(text, "Third question");
    g_variant_unref(context);
    context = history(store, "c1");
    ck_assert_uint_eq(g_variant_n_children(context), 5);
    g_variant_unref(context);
    g_object_unref(store);
}
END_TEST

START_TEST(test_turns_per_conversation_limit)
{
    HearkenStore *store = open_store();
    GError *error = NULL;
    HearkenTurnRecord record = { .conversation = "c1", .role = "user", .text = "one more" };

    /* in memory: a thousand commits to a file would take a while */
    ck_assert(hearken_store_set_keep_history(store, FALSE, &error));
    add_conversation(store, "c1");
    for (int i = 0; i < HEARKEN_MAX_TURNS_PER_CONVERSATION / 2 - 1; i++) {
        add_turn(store, "c1", "user", "question");
        add_turn(store, "c1", "assistant", "answer");
    }
    /* room for a last question and its answer */
    add_turn(store, "c1", "user", "last question");
    add_turn(store, "c1", "assistant", "last answer");
    record.turn = hearken_store_reserve_turn(store);
    ck_assert(!hearken_store_add_turn(store, &record, &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_TOO_LONG);
    ck_assert_ptr_nonnull(strstr(error->message, "StartConversation"));
    g_clear_error(&error);
    g_object_unref(store);
}
END_TEST

/* ----------------------------------------------------- turn numbering */

START_TEST(test_turn_numbers_survive_reopening_and_forgetting)
{
    HearkenStore *store = open_store();
    GError *error = NULL;
    guint64 last;

    add_conversation(store, "c1");
    add_turn(store, "c1", "user", "one");
    last = add_turn(store, "c1", "assistant", "two");
    g_object_unref(store);

    store = open_store();
    ck_assert_uint_eq(hearken_store_reserve_turn(store), last + 1);
    ck_assert(hearken_store_forget_all(store, &error));
    hk_assert_no_error(error);
    g_object_unref(store);

    /* a client holding turn `last` must not rate a new turn by mistake */
    store = open_store();
    ck_assert_uint_gt(hearken_store_reserve_turn(store), last);
    g_object_unref(store);
}
END_TEST

/* ------------------------------------------------------- keep-history */

START_TEST(test_history_off_writes_nothing)
{
    HearkenStore *store = open_store();
    GError *error = NULL;
    GVariant *turns;
    guint64 before, during;

    add_conversation(store, "kept");
    before = add_turn(store, "kept", "user", "remember me");

    ck_assert(hearken_store_set_keep_history(store, FALSE, &error));
    hk_assert_no_error(error);
    ck_assert(!hearken_store_get_keep_history(store));
    add_conversation(store, "secret");
    during = add_turn(store, "secret", "user", "PRIVATE-MARKER");
    ck_assert_uint_gt(during, before);
    /* the conversation works for the life of the process */
    turns = history(store, "secret");
    ck_assert_uint_eq(g_variant_n_children(turns), 1);
    g_variant_unref(turns);
    ck_assert(hearken_store_add_feedback(store, during, 1, NULL, NULL, &error));
    hk_assert_no_error(error);
    ck_assert_uint_eq(n_conversations(store), 1);

    ck_assert(hearken_store_set_keep_history(store, TRUE, &error));
    hk_assert_no_error(error);
    ck_assert_uint_eq(n_conversations(store), 1);
    ck_assert_ptr_null(hearken_store_history(store, "secret", &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND);
    g_clear_error(&error);
    /* numbers stay unique across the switch */
    ck_assert_uint_gt(hearken_store_reserve_turn(store), during);
    g_object_unref(store);

    ck_assert_int_eq(query_int("SELECT count(*) FROM conversations"), 1);
    ck_assert_int_eq(query_int("SELECT count(*) FROM turns"), 1);
    ck_assert_int_eq(query_int("SELECT count(*) FROM feedback"), 0);
    ck_assert(!file_contains(db_path, "PRIVATE-MARKER"));
}
END_TEST

START_TEST(test_conversation_limit)
{
    HearkenStore *store = open_store();
    GError *error = NULL;
    char id[32];

    /* in memory: ten thousand commits to a file would take a while */
    ck_assert(hearken_store_set_keep_history(store, FALSE, &error));
    for (int i = 0; i < HEARKEN_MAX_CONVERSATIONS; i++) {
        snprintf(id, sizeof id, "c%d", i);
        add_conversation(store, id);
    }
    ck_assert(!hearken_store_add_conversation(store, "one-too-many", NULL, &error));
    hk_assert_error(error, HEARKEN_ERROR, HEARKEN_ERROR_BUSY);
    ck_assert_ptr_nonnull(strstr(error->message, "10000"));
    g_clear_error(&error);

    ck_assert(hearken_store_forget_all(store, &error));
    add_conversation(store, "one-too-many");
    g_object_unref(store);
}
END_TEST

/* Another program holding the database's write lock: a write waits for
 * it, and fails with a message only if the lock is never let go. */
static gpointer
release_lock_later(gpointer db)
{
    g_usleep(300 * G_TIME_SPAN_MILLISECOND);
    ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    return NULL;
}

START_TEST(test_locked_database_waits_then_fails)
{
    HearkenStore *store = open_store();
    GError *error = NULL;
    GThread *releaser;
    sqlite3 *other;

    add_conversation(store, "before");
    ck_assert_int_eq(sqlite3_open_v2(db_path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);

    /* let go soon: the write waits and succeeds */
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    releaser = g_thread_new("releaser", release_lock_later, other);
    add_conversation(store, "waited");
    g_thread_join(releaser);

    /* never let go: the write gives up, says why, and loses nothing */
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ck_assert(!hearken_store_add_conversation(store, "refused", NULL, &error));
    ck_assert_msg(strstr(error->message, "locked"), "%s", error->message);
    g_clear_error(&error);
    ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);

    add_conversation(store, "after");
    g_object_unref(store);
    ck_assert_int_eq(query_int("SELECT count(*) FROM conversations"), 3);
}
END_TEST

/* ---------------------------------------------------------- ForgetAll */

START_TEST(test_forget_all_leaves_no_text_behind)
{
    HearkenStore *store = open_store();
    GError *error = NULL;
    g_autofree char *wal = g_strconcat(db_path, "-wal", NULL);
    guint64 turn;

    add_conversation(store, "c1");
    turn = add_turn(store, "c1", "user", "SECRET-DIAGNOSIS-MARKER");
    ck_assert(hearken_store_add_feedback(store, turn, 1, "FEEDBACK-MARKER", NULL, &error));
    ck_assert(file_contains(wal, "SECRET-DIAGNOSIS-MARKER") ||
              file_contains(db_path, "SECRET-DIAGNOSIS-MARKER"));

    ck_assert(hearken_store_forget_all(store, &error));
    hk_assert_no_error(error);
    ck_assert_uint_eq(n_conversations(store), 0);
    ck_assert_ptr_null(hearken_store_history(store, "c1", &error));
    g_clear_error(&error);
    ck_assert(!file_contains(wal, "SECRET-DIAGNOSIS-MARKER"));
    ck_assert(!file_contains(db_path, "SECRET-DIAGNOSIS-MARKER"));
    ck_assert(!file_contains(db_path, "FEEDBACK-MARKER"));
    g_object_unref(store);
    ck_assert_int_eq(query_int("SELECT count(*) FROM feedback"), 0);
}
END_TEST

/* ----------------------------------------------- damage and crashes */

static guint
n_moved_aside(void)
{
    GPtrArray *moved = moved_aside_files();
    guint n = moved->len;

    g_ptr_array_unref(moved);
    return n;
}

static void
assert_moved_aside_with(const char *original, gsize size)
{
    GPtrArray *moved = moved_aside_files();
    char *data = NULL;
    gsize moved_size = 0;

    ck_assert_uint_eq(moved->len, 1);
    ck_assert(g_file_get_contents(moved->pdata[0], &data, &moved_size, NULL));
    ck_assert_uint_eq(moved_size, size);
    ck_assert_mem_eq(data, original, size);
    g_free(data);
    g_ptr_array_unref(moved);
}

START_TEST(test_garbage_file_is_moved_aside)
{
    char garbage[4096];
    HearkenStore *store;

    for (gsize i = 0; i < sizeof garbage; i++)
        garbage[i] = (char) (i * 7 + 3);
    ck_assert(g_file_set_contents(db_path, garbage, sizeof garbage, NULL));

    store = open_store();
    ck_assert_uint_eq(n_conversations(store), 0);
    add_conversation(store, "fresh");
    g_object_unref(store);

    assert_moved_aside_with(garbage, sizeof garbage);
    ck_assert_int_eq(query_int("SELECT count(*) FROM conversations"), 1);
}
END_TEST

START_TEST(test_damaged_page_is_moved_aside)
{
    HearkenStore *store = open_store();
    GError *error = NULL;
    char *data = NULL;
    gsize size = 0;
    char text[2000];

    /* enough rows for several pages, then a page in the middle spoiled */
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    add_conversation(store, "c1");
    for (int i = 0; i < 40; i++)
        add_turn(store, "c1", "user", text);
    g_object_unref(store);

    ck_assert(g_file_get_contents(db_path, &data, &size, &error));
    ck_assert_uint_gt(size, 8 * 4096);
    memset(data + 4 * 4096, 0x5a, 4096);
    ck_assert(g_file_set_contents(db_path, data, size, &error));

    store = open_store();
    ck_assert_uint_eq(n_conversations(store), 0);
    g_object_unref(store);
    assert_moved_aside_with(data, size);
    g_free(data);
}
END_TEST

START_TEST(test_committed_turns_survive_a_crash)
{
    HearkenStore *store;
    GVariant *turns;
    int status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* no ck_assert here: the child is not the test */
        HearkenStore *doomed = hearken_store_open(db_path, NULL);
        HearkenTurnRecord record = {
            .conversation = "c1", .role = "user", .text = "before the crash",
        };
        if (!doomed || !hearken_store_add_conversation(doomed, "c1", NULL, NULL))
            _exit(1);
        record.turn = hearken_store_reserve_turn(doomed);
        if (!hearken_store_add_turn(doomed, &record, NULL))
            _exit(1);
        raise(SIGKILL);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    store = open_store();
    turns = history(store, "c1");
    ck_assert_uint_eq(g_variant_n_children(turns), 1);
    g_variant_unref(turns);
    ck_assert_uint_eq(hearken_store_reserve_turn(store), 2);
    ck_assert_uint_eq(n_moved_aside(), 0);
    g_object_unref(store);
}
END_TEST

START_TEST(test_newer_schema_is_refused_not_moved)
{
    HearkenStore *store = open_store();
    GError *error = NULL;

    g_object_unref(store);
    {
        sqlite3 *db = NULL;
        ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
        ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
    }

    ck_assert_ptr_null(hearken_store_open(db_path, &error));
    hk_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    ck_assert_ptr_nonnull(strstr(error->message, "99"));
    g_clear_error(&error);
    ck_assert(g_file_test(db_path, G_FILE_TEST_EXISTS));
    ck_assert_uint_eq(n_moved_aside(), 0);
}
END_TEST

START_TEST(test_unwritable_folder_is_an_error)
{
    GError *error = NULL;
    g_autofree char *path = g_build_filename(tmpdir, "missing", "hearken.db", NULL);

    ck_assert_ptr_null(hearken_store_open(path, &error));
    ck_assert_ptr_nonnull(error);
    ck_assert_ptr_nonnull(strstr(error->message, "History database"));
    g_clear_error(&error);
}
END_TEST

static Suite *
store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *basics = tcase_create("basics");
    TCase *numbering = tcase_create("numbering");
    TCase *privacy = tcase_create("privacy");
    TCase *damage = tcase_create("damage");

    tcase_add_checked_fixture(basics, setup, teardown);
    tcase_add_test(basics, test_new_store_is_versioned_and_in_wal_mode);
    tcase_add_test(basics, test_conversation_round_trip);
    tcase_add_test(basics, test_long_titles_are_cut_on_characters);
    tcase_add_test(basics, test_most_recent_conversation_first);
    tcase_add_test(basics, test_turn_states_and_details_are_stored);
    tcase_add_test(basics, test_unknown_ids_are_not_found);
    tcase_add_test(basics, test_duplicate_conversation_is_refused);
    tcase_add_test(basics, test_feedback_is_stored);
    tcase_add_test(basics, test_intent_corrections);
    tcase_add_test(basics, test_version_1_file_is_migrated);
    tcase_add_test(basics, test_options_round_trip);
    tcase_add_test(basics, test_context_holds_complete_turns);
    suite_add_tcase(s, basics);

    tcase_add_checked_fixture(numbering, setup, teardown);
    tcase_add_test(numbering, test_turn_numbers_survive_reopening_and_forgetting);
    suite_add_tcase(s, numbering);

    tcase_add_checked_fixture(privacy, setup, teardown);
    tcase_add_test(privacy, test_history_off_writes_nothing);
    tcase_add_test(privacy, test_conversation_limit);
    tcase_add_test(privacy, test_turns_per_conversation_limit);
    tcase_add_test(privacy, test_forget_all_leaves_no_text_behind);
    suite_add_tcase(s, privacy);

    tcase_add_checked_fixture(damage, setup, teardown);
    tcase_add_test(damage, test_garbage_file_is_moved_aside);
    tcase_add_test(damage, test_damaged_page_is_moved_aside);
    tcase_add_test(damage, test_committed_turns_survive_a_crash);
    tcase_add_test(damage, test_newer_schema_is_refused_not_moved);
    tcase_add_test(damage, test_unwritable_folder_is_an_error);
    tcase_add_test(damage, test_locked_database_waits_then_fails);
    suite_add_tcase(s, damage);
    return s;
}

HK_CHECK_MAIN(store_suite)
