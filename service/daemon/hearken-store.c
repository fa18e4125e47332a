/* hearken-store.c — the history database. */
#include "hearken-store.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "hearken-error.h"
#include "hearken-limits.h"

/* How long a statement waits for another connection's lock (another
 * hearkend being replaced, a person with the sqlite3 shell) before failing. */
#define BUSY_TIMEOUT_MS 5000
/* Titles are the start of the first user message. */
#define TITLE_CHARS 60

/* ------------------------------------------------------------- schema */

/* migrations[i] takes the schema from version i to i + 1.  Never edit a
 * released step: add one. */
static const char *const migrations[] = {
  /* 1: conversations, turns, feedback */
  "CREATE TABLE conversations ("
  "  id        TEXT PRIMARY KEY,"
  "  title     TEXT NOT NULL DEFAULT '',"
  "  options   BLOB,"                       /* serialized a{sv} */
  "  created   INTEGER NOT NULL,"           /* unix time */
  "  last_used INTEGER NOT NULL"
  ");"
  /* AUTOINCREMENT so a number is never reused after ForgetAll: a client
   * holding an old turn number cannot rate someone else's turn. */
  "CREATE TABLE turns ("
  "  turn              INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  conversation      TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,"
  "  role              TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),"
  "  text              TEXT NOT NULL,"
  "  model             TEXT,"
  "  backend           TEXT,"
  "  tokens            INTEGER NOT NULL DEFAULT 0,"
  "  tokens_per_second REAL NOT NULL DEFAULT 0,"
  "  intent            TEXT,"
  "  confidence        REAL,"
  "  created           INTEGER NOT NULL,"
  "  state             TEXT NOT NULL CHECK (state IN ('complete', 'cancelled', 'failed'))"
  ");"
  "CREATE INDEX turns_by_conversation ON turns (conversation, turn);"
  "CREATE TABLE feedback ("
  "  turn     INTEGER NOT NULL REFERENCES turns (turn) ON DELETE CASCADE,"
  "  rating   INTEGER NOT NULL CHECK (rating BETWEEN -1 AND 1),"
  "  intent   TEXT,"
  "  comment  TEXT,"
  "  created  INTEGER NOT NULL"
  ");"
  "CREATE INDEX feedback_by_turn ON feedback (turn);",
  /* 2: ResetIntents takes corrections out of the person's intent model
   * but keeps them listed */
  "ALTER TABLE feedback ADD COLUMN reset INTEGER NOT NULL DEFAULT 0;"
  "CREATE INDEX feedback_corrections ON feedback (intent, reset) WHERE intent IS NOT NULL;",
};

/* The message a turn answers: its own text for a user turn, else the
 * latest user message before it in its conversation. */
#define TURN_INPUT_SQL(t)                                                     \
  "CASE WHEN " t ".role = 'user' THEN " t ".text ELSE"                        \
  " (SELECT u.text FROM turns AS u WHERE u.conversation = " t ".conversation" \
  "  AND u.role = 'user' AND u.turn < " t ".turn ORDER BY u.turn DESC LIMIT 1) END"

typedef enum {
  STMT_INSERT_CONVERSATION,
  STMT_COUNT_CONVERSATIONS,
  STMT_HAS_CONVERSATION,
  STMT_TOUCH_CONVERSATION,
  STMT_INSERT_TURN,
  STMT_HAS_TURN,
  STMT_INSERT_FEEDBACK,
  STMT_LIST_CONVERSATIONS,
  STMT_HISTORY,
  STMT_RATINGS,
  STMT_OPTIONS,
  STMT_CONTEXT,
  STMT_COUNT_TURNS,
  STMT_TURN_INPUT,
  STMT_CORRECTIONS,
  STMT_LEARNED_CORRECTIONS,
  STMT_RESET_CORRECTIONS,
  N_STMTS
} StmtId;

static const char *const stmt_sql[N_STMTS] = {
  [STMT_INSERT_CONVERSATION] =
    "INSERT INTO conversations (id, options, created, last_used) VALUES (?1, ?2, ?3, ?3)",
  [STMT_COUNT_CONVERSATIONS] =
    "SELECT count(*) FROM conversations",
  [STMT_HAS_CONVERSATION] =
    "SELECT 1 FROM conversations WHERE id = ?1",
  [STMT_TOUCH_CONVERSATION] =
    "UPDATE conversations SET last_used = ?2,"
    "  title = CASE WHEN title = '' THEN ?3 ELSE title END "
    "WHERE id = ?1",
  [STMT_INSERT_TURN] =
    "INSERT INTO turns (turn, conversation, role, text, model, backend, tokens,"
    "                   tokens_per_second, intent, confidence, created, state)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
  [STMT_HAS_TURN] =
    "SELECT 1 FROM turns WHERE turn = ?1",
  [STMT_INSERT_FEEDBACK] =
    "INSERT INTO feedback (turn, rating, intent, comment, created) VALUES (?1, ?2, ?3, ?4, ?5)",
  /* Seconds tie often; the latest turn breaks the tie. */
  [STMT_LIST_CONVERSATIONS] =
    "SELECT id, title, last_used FROM conversations AS c "
    "ORDER BY last_used DESC,"
    "  coalesce ((SELECT max (turn) FROM turns WHERE conversation = c.id), 0) DESC,"
    "  rowid DESC",
  [STMT_HISTORY] =
    "SELECT turn, role, text FROM turns WHERE conversation = ?1 ORDER BY turn",
  /* a turn's latest feedback is the one that counts */
  [STMT_RATINGS] =
    "SELECT f.turn, f.rating, coalesce (f.intent, '') "
    "FROM feedback AS f JOIN turns AS t ON t.turn = f.turn "
    "WHERE t.conversation = ?1 AND f.rowid = (SELECT max (rowid) FROM feedback WHERE turn = f.turn) "
    "ORDER BY f.turn",
  [STMT_OPTIONS] =
    "SELECT options FROM conversations WHERE id = ?1",
  [STMT_CONTEXT] =
    "SELECT role, text FROM turns WHERE conversation = ?1 AND state = 'complete' ORDER BY turn",
  [STMT_COUNT_TURNS] =
    "SELECT count(*) FROM turns WHERE conversation = ?1",
  [STMT_TURN_INPUT] =
    "SELECT " TURN_INPUT_SQL ("t") " FROM turns AS t WHERE t.turn = ?1",
  [STMT_CORRECTIONS] =
    "SELECT f.turn, " TURN_INPUT_SQL ("t") ", f.intent, f.created "
    "FROM feedback AS f JOIN turns AS t ON t.turn = f.turn "
    "WHERE f.intent IS NOT NULL ORDER BY f.rowid",
  [STMT_LEARNED_CORRECTIONS] =
    "SELECT " TURN_INPUT_SQL ("t") ", f.intent "
    "FROM feedback AS f JOIN turns AS t ON t.turn = f.turn "
    "WHERE f.intent IS NOT NULL AND f.reset = 0 ORDER BY f.rowid DESC LIMIT ?1",
  [STMT_RESET_CORRECTIONS] =
    "UPDATE feedback SET reset = 1 WHERE intent IS NOT NULL AND reset = 0",
};

static const char *const turn_state_names[] = {
  [HEARKEN_TURN_COMPLETE]  = "complete",
  [HEARKEN_TURN_CANCELLED] = "cancelled",
  [HEARKEN_TURN_FAILED]    = "failed",
};

/* One SQLite connection with its prepared statements. */
typedef struct {
  sqlite3      *db;
  sqlite3_stmt *stmts[N_STMTS];
} Connection;

struct _HearkenStore
{
  GObject     parent_instance;

  Connection  disk;
  /* Open while keep-history is off; then every query goes here. */
  Connection  memory;
  guint64     next_turn;
};

G_DEFINE_FINAL_TYPE (HearkenStore, hearken_store, G_TYPE_OBJECT)

/* ------------------------------------------------------------- errors */

static gboolean
is_corruption (int rc)
{
  int primary = rc & 0xff;

  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

static int
set_sqlite_error (GError     **error,
                  sqlite3     *db,
                  int          rc,
                  const char  *what)
{
  GIOErrorEnum code = (rc & 0xff) == SQLITE_FULL ? G_IO_ERROR_NO_SPACE : G_IO_ERROR_FAILED;

  g_set_error (error, G_IO_ERROR, code, "History database: %s: %s",
               what, db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
  return rc;
}

/* --------------------------------------------------------- connection */

static void
connection_close (Connection *c)
{
  for (guint i = 0; i < N_STMTS; i++)
    g_clear_pointer (&c->stmts[i], sqlite3_finalize);
  /* sqlite3_close_v2 checkpoints the WAL when this is the last connection. */
  g_clear_pointer (&c->db, sqlite3_close_v2);
}

static int
connection_exec (Connection  *c,
                 const char  *sql,
                 GError     **error)
{
  int rc = sqlite3_exec (c->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    return set_sqlite_error (error, c->db, rc, sql);
  return SQLITE_OK;
}

/* A prepared statement, reset and ready for binding. */
static sqlite3_stmt *
connection_stmt (Connection  *c,
                 StmtId       id,
                 GError     **error)
{
  int rc;

  if (c->stmts[id])
    {
      sqlite3_reset (c->stmts[id]);
      sqlite3_clear_bindings (c->stmts[id]);
      return c->stmts[id];
    }

  rc = sqlite3_prepare_v3 (c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                           &c->stmts[id], NULL);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, c->db, rc, "preparing a statement");
      return NULL;
    }
  return c->stmts[id];
}

/* Runs a statement that returns no rows, then resets it so it holds no
 * lock. */
static gboolean
stmt_run (Connection    *c,
          sqlite3_stmt  *stmt,
          const char    *what,
          GError       **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, c->db, rc, what);
      return FALSE;
    }
  return TRUE;
}

/* Whether a one-row query finds its row. */
static gboolean
stmt_exists (Connection    *c,
             sqlite3_stmt  *stmt,
             gboolean      *ret_exists,
             GError       **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      set_sqlite_error (error, c->db, rc, "reading");
      return FALSE;
    }
  *ret_exists = rc == SQLITE_ROW;
  return TRUE;
}

/* The integer a one-row query returns. */
static gboolean
stmt_int64 (Connection    *c,
            sqlite3_stmt  *stmt,
            gint64        *ret_value,
            const char    *what,
            GError       **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    *ret_value = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, c->db, rc, what);
      return FALSE;
    }
  return TRUE;
}

typedef void (*RowFunc) (sqlite3_stmt    *stmt,
                         GVariantBuilder *builder);

/* Steps a query to its end, adding one item per row to builder. */
static gboolean
stmt_collect (Connection       *c,
              sqlite3_stmt     *stmt,
              RowFunc           add_row,
              GVariantBuilder  *builder,
              const char       *what,
              GError          **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    add_row (stmt, builder);
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, c->db, rc, what);
      return FALSE;
    }
  return TRUE;
}

static gint64
unix_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static int
schema_version (Connection  *c,
                int         *ret_version,
                GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (c->db, "PRAGMA user_version", -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          *ret_version = sqlite3_column_int (stmt, 0);
          rc = SQLITE_OK;
        }
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_OK)
    return set_sqlite_error (error, c->db, rc, "reading the schema version");
  return SQLITE_OK;
}

static int
migrate (Connection  *c,
         GError     **error)
{
  int version = 0;
  int latest = G_N_ELEMENTS (migrations);
  int rc;

  rc = schema_version (c, &version, error);
  if (rc != SQLITE_OK)
    return rc;

  if (version > latest)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "History database: schema version %d is newer than this hearkend "
                   "understands (%d); run a newer hearkend or move the file away",
                   version, latest);
      return SQLITE_ERROR;
    }

  for (; version < latest; version++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", version + 1);

      g_debug ("History database: migrating the schema to version %d", version + 1);
      if ((rc = connection_exec (c, "BEGIN IMMEDIATE", error)) != SQLITE_OK)
        return rc;
      if ((rc = connection_exec (c, migrations[version], error)) != SQLITE_OK ||
          (rc = connection_exec (c, bump, error)) != SQLITE_OK ||
          (rc = connection_exec (c, "COMMIT", error)) != SQLITE_OK)
        {
          sqlite3_exec (c->db, "ROLLBACK", NULL, NULL, NULL);
          return rc;
        }
    }
  return SQLITE_OK;
}

/* PRAGMA quick_check reads every page: a damaged file shows here, at
 * start, rather than as a failure in the middle of a conversation. */
static int
check_integrity (Connection  *c,
                 GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (c->db, "PRAGMA quick_check(1)", -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          const char *verdict = (const char *) sqlite3_column_text (stmt, 0);

          if (g_strcmp0 (verdict, "ok") == 0)
            rc = SQLITE_OK;
          else
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "History database: damaged: %s", verdict);
              rc = SQLITE_CORRUPT;
            }
        }
      else if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_OK && (!error || !*error))
    set_sqlite_error (error, c->db, rc, "checking the file");
  return rc;
}

/* Opens path, or an in-memory database when path is NULL, and brings its
 * schema up to date.  Returns an SQLite result code so the caller can tell
 * damage from other failures. */
static int
connection_open (Connection  *c,
                 const char  *path,
                 GError     **error)
{
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc;

  rc = sqlite3_open_v2 (path ? path : ":memory:", &c->db, flags, NULL);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, c->db, rc, path ? path : "opening an in-memory database");
      connection_close (c);
      return rc;
    }
  sqlite3_extended_result_codes (c->db, 1);
  sqlite3_busy_timeout (c->db, BUSY_TIMEOUT_MS);

  /* secure_delete: ForgetAll overwrites the forgotten text instead of
   * leaving it in free pages.  temp_store: hearkend's sandbox has no
   * temporary folder, so SQLite's sorts and temporary tables stay in
   * memory (the history is small). */
  if ((rc = connection_exec (c, "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; "
                                "PRAGMA temp_store = MEMORY", error)) != SQLITE_OK ||
      (path && (rc = connection_exec (c, "PRAGMA journal_mode = WAL", error)) != SQLITE_OK) ||
      (path && (rc = check_integrity (c, error)) != SQLITE_OK) ||
      (rc = migrate (c, error)) != SQLITE_OK)
    {
      connection_close (c);
      return rc;
    }
  return SQLITE_OK;
}

/* ------------------------------------------------------- damaged files */

static gboolean
rename_if_present (const char  *from,
                   const char  *to,
                   GError     **error)
{
  if (g_rename (from, to) == 0 || errno == ENOENT)
    return TRUE;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
               "Could not move %s to %s: %s", from, to, g_strerror (errno));
  return FALSE;
}

/* Moves path (and its WAL) to path.corrupt-<time>, never over an earlier
 * damaged copy.  The shared-memory index is rebuilt from the WAL, so it
 * is dropped. */
static char *
move_aside (const char  *path,
            GError     **error)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  g_autofree char *dest = NULL;
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *dest_wal = NULL;
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);

  for (guint n = 0; dest == NULL || g_file_test (dest, G_FILE_TEST_EXISTS); n++)
    {
      g_free (dest);
      dest = n == 0 ? g_strdup_printf ("%s.corrupt-%s", path, stamp)
                    : g_strdup_printf ("%s.corrupt-%s.%u", path, stamp, n);
    }
  dest_wal = g_strconcat (dest, "-wal", NULL);

  if (!rename_if_present (path, dest, error) ||
      !rename_if_present (wal, dest_wal, error))
    return NULL;
  if (g_unlink (shm) != 0 && errno != ENOENT)
    g_debug ("Could not remove %s: %s", shm, g_strerror (errno));
  return g_steal_pointer (&dest);
}

static guint64
last_turn_ever (Connection *c)
{
  sqlite3_stmt *stmt = NULL;
  guint64 last = 0;
  const char *sql =
    "SELECT max (coalesce ((SELECT seq FROM sqlite_sequence WHERE name = 'turns'), 0),"
    "            coalesce ((SELECT max (turn) FROM turns), 0))";

  /* The schema is in place, so a failure here is a damaged file that
   * quick_check missed; starting from 0 is then the best guess. */
  if (sqlite3_prepare_v2 (c->db, sql, -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    last = (guint64) sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return last;
}

/* ------------------------------------------------------------- object */

static void
hearken_store_finalize (GObject *object)
{
  HearkenStore *self = (HearkenStore *) object;

  connection_close (&self->memory);
  connection_close (&self->disk);

  G_OBJECT_CLASS (hearken_store_parent_class)->finalize (object);
}

static void
hearken_store_class_init (HearkenStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hearken_store_finalize;
}

static void
hearken_store_init (HearkenStore *self)
{
}

static Connection *
current (HearkenStore *self)
{
  return self->memory.db ? &self->memory : &self->disk;
}

/**
 * hearken_store_open:
 * @path: the database file; its folder must exist
 *
 * Opens the history, creating or migrating it.  A damaged file is moved
 * aside (with a warning naming the new place) and a new one started.
 *
 * Returns: (transfer full): the store, or %NULL with @error set
 */
HearkenStore *
hearken_store_open (const char  *path,
                    GError     **error)
{
  g_autoptr(HearkenStore) self = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *moved_to = NULL;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (HEARKEN_TYPE_STORE, NULL);

  rc = connection_open (&self->disk, path, &local_error);
  if (is_corruption (rc))
    {
      moved_to = move_aside (path, error);
      if (!moved_to)
        {
          g_prefix_error (error, "History database %s is damaged (%s), and ",
                          path, local_error->message);
          return NULL;
        }
      g_warning ("%s; %s was moved to %s and a new history started",
                 local_error->message, path, moved_to);
      g_clear_error (&local_error);
      rc = connection_open (&self->disk, path, &local_error);
    }
  if (rc != SQLITE_OK)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  self->next_turn = last_turn_ever (&self->disk) + 1;
  return g_steal_pointer (&self);
}

gboolean
hearken_store_get_keep_history (HearkenStore *self)
{
  g_return_val_if_fail (HEARKEN_IS_STORE (self), FALSE);

  return self->memory.db == NULL;
}

/**
 * hearken_store_set_keep_history:
 *
 * Off: conversations from now on live in memory and are gone when the
 * process ends or history is switched back on; what the file holds stays
 * untouched (and unlisted) until then.
 */
gboolean
hearken_store_set_keep_history (HearkenStore  *self,
                                gboolean       keep_history,
                                GError       **error)
{
  g_return_val_if_fail (HEARKEN_IS_STORE (self), FALSE);

  if (keep_history == hearken_store_get_keep_history (self))
    return TRUE;

  if (keep_history)
    {
      connection_close (&self->memory);
      return TRUE;
    }
  return connection_open (&self->memory, NULL, error) == SQLITE_OK;
}

guint64
hearken_store_reserve_turn (HearkenStore *self)
{
  g_return_val_if_fail (HEARKEN_IS_STORE (self), 0);

  return self->next_turn++;
}

static gboolean
count_conversations (Connection  *c,
                     gint64      *ret_count,
                     GError     **error)
{
  sqlite3_stmt *stmt = connection_stmt (c, STMT_COUNT_CONVERSATIONS, error);

  return stmt && stmt_int64 (c, stmt, ret_count, "counting conversations", error);
}

/**
 * hearken_store_add_conversation:
 *
 * Fails with %HEARKEN_ERROR_BUSY when the history is full
 * (%HEARKEN_MAX_CONVERSATIONS).
 */
gboolean
hearken_store_add_conversation (HearkenStore  *self,
                                const char    *id,
                                GVariant      *options,
                                GError       **error)
{
  Connection *c;
  sqlite3_stmt *stmt;
  gint64 count = 0;

  g_return_val_if_fail (HEARKEN_IS_STORE (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);
  g_return_val_if_fail (options == NULL || g_variant_is_of_type (options, G_VARIANT_TYPE_VARDICT), FALSE);

  c = current (self);
  if (!count_conversations (c, &count, error))
    return FALSE;
  if (count >= HEARKEN_MAX_CONVERSATIONS)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_BUSY,
                   "The history holds %d conversations, the most hearkend keeps; "
                   "ForgetAll (hearkenctl forget) makes room",
                   HEARKEN_MAX_CONVERSATIONS);
      return FALSE;
    }

  if (!(stmt = connection_stmt (c, STMT_INSERT_CONVERSATION, error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (options)
    sqlite3_bind_blob64 (stmt, 2, g_variant_get_data (options),
                         g_variant_get_size (options), SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, unix_now ());
  return stmt_run (c, stmt, "adding a conversation", error);
}

static gboolean
conversation_exists (Connection  *c,
                     const char  *id,
                     GError     **error)
{
  sqlite3_stmt *stmt = connection_stmt (c, STMT_HAS_CONVERSATION, error);
  gboolean exists = FALSE;

  if (!stmt)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (!stmt_exists (c, stmt, &exists, error))
    return FALSE;
  if (!exists)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND,
                   "There is no conversation “%s”; ListConversations gives the ids, "
                   "StartConversation makes a new one", id);
      return FALSE;
    }
  return TRUE;
}

/* The first line of the first user message, cut to TITLE_CHARS. */
static char *
title_from (const HearkenTurnRecord *record)
{
  g_autofree char *line = NULL;
  const char *end;

  if (g_strcmp0 (record->role, "user") != 0)
    return g_strdup ("");

  end = strchr (record->text, '\n');
  line = end ? g_strndup (record->text, end - record->text) : g_strdup (record->text);
  g_strstrip (line);
  if (g_utf8_strlen (line, -1) <= TITLE_CHARS)
    return g_steal_pointer (&line);
  return g_utf8_substring (line, 0, TITLE_CHARS);
}

static void
bind_optional_text (sqlite3_stmt *stmt,
                    int           column,
                    const char   *text)
{
  if (text)
    sqlite3_bind_text (stmt, column, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, column);
}

static gboolean
insert_turn (Connection               *c,
             const HearkenTurnRecord  *r,
             gint64                    now,
             GError                  **error)
{
  sqlite3_stmt *stmt = connection_stmt (c, STMT_INSERT_TURN, error);

  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) r->turn);
  sqlite3_bind_text (stmt, 2, r->conversation, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, r->role, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, r->text, -1, SQLITE_TRANSIENT);
  bind_optional_text (stmt, 5, r->model);
  bind_optional_text (stmt, 6, r->backend);
  sqlite3_bind_int64 (stmt, 7, r->tokens);
  sqlite3_bind_double (stmt, 8, r->tokens_per_second);
  bind_optional_text (stmt, 9, r->intent);
  if (r->intent)
    sqlite3_bind_double (stmt, 10, r->confidence);
  sqlite3_bind_int64 (stmt, 11, now);
  sqlite3_bind_text (stmt, 12, turn_state_names[r->state], -1, SQLITE_STATIC);
  return stmt_run (c, stmt, "adding a turn", error);
}

static gboolean
touch_conversation (Connection               *c,
                    const HearkenTurnRecord  *r,
                    gint64                    now,
                    GError                  **error)
{
  sqlite3_stmt *stmt = connection_stmt (c, STMT_TOUCH_CONVERSATION, error);
  g_autofree char *title = title_from (r);

  if (!stmt)
    return FALSE;
  sqlite3_bind_text (stmt, 1, r->conversation, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, now);
  sqlite3_bind_text (stmt, 3, title, -1, SQLITE_TRANSIENT);
  return stmt_run (c, stmt, "updating a conversation", error);
}

/* A user turn needs room for itself and the reply. */
static gboolean
check_turn_room (Connection  *c,
                 const char  *id,
                 GError     **error)
{
  sqlite3_stmt *stmt = connection_stmt (c, STMT_COUNT_TURNS, error);
  gint64 count = 0;

  if (!stmt)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (!stmt_int64 (c, stmt, &count, "counting turns", error))
    return FALSE;
  if (count + 2 > HEARKEN_MAX_TURNS_PER_CONVERSATION)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_TOO_LONG,
                   "The conversation has %" G_GINT64_FORMAT " turns; a conversation holds at "
                   "most %d, so StartConversation begins a new one",
                   count, HEARKEN_MAX_TURNS_PER_CONVERSATION);
      return FALSE;
    }
  return TRUE;
}

/**
 * hearken_store_add_turn:
 *
 * Adds the turn and marks its conversation used, in one transaction: once
 * this returns, the turn survives a crash.  A user turn is refused with
 * %HEARKEN_ERROR_TOO_LONG when the conversation is full
 * (%HEARKEN_MAX_TURNS_PER_CONVERSATION, counting the reply to come).
 */
gboolean
hearken_store_add_turn (HearkenStore             *self,
                        const HearkenTurnRecord  *record,
                        GError                  **error)
{
  Connection *c;
  gint64 now = unix_now ();

  g_return_val_if_fail (HEARKEN_IS_STORE (self), FALSE);
  g_return_val_if_fail (record != NULL, FALSE);
  g_return_val_if_fail (record->conversation && record->role && record->text, FALSE);
  g_return_val_if_fail (record->state <= HEARKEN_TURN_FAILED, FALSE);

  c = current (self);
  if (!conversation_exists (c, record->conversation, error) ||
      (g_str_equal (record->role, "user") && !check_turn_room (c, record->conversation, error)))
    return FALSE;

  if (connection_exec (c, "BEGIN IMMEDIATE", error) != SQLITE_OK)
    return FALSE;
  if (!insert_turn (c, record, now, error) ||
      !touch_conversation (c, record, now, error) ||
      connection_exec (c, "COMMIT", error) != SQLITE_OK)
    {
      sqlite3_exec (c->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

static gboolean
turn_exists (Connection  *c,
             guint64      turn,
             GError     **error)
{
  sqlite3_stmt *stmt = connection_stmt (c, STMT_HAS_TURN, error);
  gboolean exists = FALSE;

  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) turn);
  if (!stmt_exists (c, stmt, &exists, error))
    return FALSE;
  if (!exists)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND,
                   "There is no turn %" G_GUINT64_FORMAT " in the history; "
                   "History lists the turns of a conversation", turn);
      return FALSE;
    }
  return TRUE;
}

/**
 * hearken_store_add_feedback:
 * @rating: -1, 0 or 1
 * @intent: (nullable): the intent the user meant
 * @comment: (nullable): what the user said about the turn
 *
 * Fails with %HEARKEN_ERROR_NOT_FOUND for a turn the history lacks.
 */
gboolean
hearken_store_add_feedback (HearkenStore  *self,
                            guint64        turn,
                            int            rating,
                            const char    *intent,
                            const char    *comment,
                            GError       **error)
{
  Connection *c;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (HEARKEN_IS_STORE (self), FALSE);
  g_return_val_if_fail (rating >= -1 && rating <= 1, FALSE);

  c = current (self);
  if (!turn_exists (c, turn, error))
    return FALSE;
  if (!(stmt = connection_stmt (c, STMT_INSERT_FEEDBACK, error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) turn);
  sqlite3_bind_int (stmt, 2, rating);
  bind_optional_text (stmt, 3, intent);
  bind_optional_text (stmt, 4, comment);
  sqlite3_bind_int64 (stmt, 5, unix_now ());
  return stmt_run (c, stmt, "adding feedback", error);
}

static const char *
column_text (sqlite3_stmt *stmt,
             int           column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  return text ? text : "";
}

static void
add_conversation_row (sqlite3_stmt    *stmt,
                      GVariantBuilder *builder)
{
  g_variant_builder_add (builder, "(sst)",
                         column_text (stmt, 0), column_text (stmt, 1),
                         (guint64) MAX (sqlite3_column_int64 (stmt, 2), 0));
}

GVariant *
hearken_store_list_conversations (HearkenStore  *self,
                                  GError       **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(sst)"));
  Connection *c;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (HEARKEN_IS_STORE (self), NULL);

  c = current (self);
  if (!(stmt = connection_stmt (c, STMT_LIST_CONVERSATIONS, error)) ||
      !stmt_collect (c, stmt, add_conversation_row, &builder, "listing conversations", error))
    return NULL;
  return g_variant_builder_end (&builder);
}

static void
add_history_row (sqlite3_stmt    *stmt,
                 GVariantBuilder *builder)
{
  g_variant_builder_add (builder, "(tss)",
                         (guint64) sqlite3_column_int64 (stmt, 0),
                         column_text (stmt, 1), column_text (stmt, 2));
}

static void
add_context_row (sqlite3_stmt    *stmt,
                 GVariantBuilder *builder)
{
  g_variant_builder_add (builder, "(ss)", column_text (stmt, 0), column_text (stmt, 1));
}

/* The rows a per-conversation query (STMT_HISTORY, STMT_CONTEXT) gives for
 * conversation id, which must exist. */
static gboolean
collect_turns (Connection       *c,
               StmtId            query,
               const char       *id,
               RowFunc           add_row,
               GVariantBuilder  *builder,
               GError          **error)
{
  sqlite3_stmt *stmt;

  if (!conversation_exists (c, id, error) ||
      !(stmt = connection_stmt (c, query, error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  return stmt_collect (c, stmt, add_row, builder, "reading a conversation", error);
}

/**
 * hearken_store_history:
 *
 * Fails with %HEARKEN_ERROR_NOT_FOUND for an unknown conversation.
 */
GVariant *
hearken_store_history (HearkenStore  *self,
                       const char    *id,
                       GError       **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(tss)"));

  g_return_val_if_fail (HEARKEN_IS_STORE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  if (!collect_turns (current (self), STMT_HISTORY, id, add_history_row, &builder, error))
    return NULL;
  return g_variant_builder_end (&builder);
}

static void
add_rating_row (sqlite3_stmt    *stmt,
                GVariantBuilder *builder)
{
  g_variant_builder_add (builder, "(tis)",
                         (guint64) sqlite3_column_int64 (stmt, 0),
                         (gint32) sqlite3_column_int (stmt, 1), column_text (stmt, 2));
}

/**
 * hearken_store_ratings:
 *
 * Fails with %HEARKEN_ERROR_NOT_FOUND for an unknown conversation.
 */
GVariant *
hearken_store_ratings (HearkenStore  *self,
                       const char    *id,
                       GError       **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(tis)"));

  g_return_val_if_fail (HEARKEN_IS_STORE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  if (!collect_turns (current (self), STMT_RATINGS, id, add_rating_row, &builder, error))
    return NULL;
  return g_variant_builder_end (&builder);
}

/**
 * hearken_store_get_options:
 *
 * Returns: (transfer full): the a{sv} options the conversation was
 *   started with, or %NULL with %HEARKEN_ERROR_NOT_FOUND
 */
GVariant *
hearken_store_get_options (HearkenStore  *self,
                           const char    *id,
                           GError       **error)
{
  g_autoptr(GVariant) options = NULL;
  Connection *c;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (HEARKEN_IS_STORE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  c = current (self);
  if (!conversation_exists (c, id, error) ||
      !(stmt = connection_stmt (c, STMT_OPTIONS, error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW && sqlite3_column_type (stmt, 0) == SQLITE_BLOB)
    {
      /* Not trusted: the file may have been edited; a{sv} needs no more
       * than validation to be read safely. */
      GBytes *bytes = g_bytes_new (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0));

      options = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));
      g_bytes_unref (bytes);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, c->db, rc, "reading a conversation");
      return NULL;
    }
  if (!options)
    return g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
  return g_variant_get_normal_form (options);
}

/**
 * hearken_store_get_context:
 *
 * Returns: (transfer full): a(ss), role and text of the complete turns of
 *   the conversation, oldest first: what a model reads to continue it
 */
GVariant *
hearken_store_get_context (HearkenStore  *self,
                           const char    *id,
                           GError       **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ss)"));

  g_return_val_if_fail (HEARKEN_IS_STORE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  if (!collect_turns (current (self), STMT_CONTEXT, id, add_context_row, &builder, error))
    return NULL;
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/**
 * hearken_store_dup_turn_input:
 *
 * Fails with %HEARKEN_ERROR_NOT_FOUND for a turn the history lacks, or one
 * that answers no message.
 *
 * Returns: (transfer full): the message @turn answers
 */
char *
hearken_store_dup_turn_input (HearkenStore  *self,
                              guint64        turn,
                              GError       **error)
{
  Connection *c;
  sqlite3_stmt *stmt;
  char *text = NULL;
  int rc;

  g_return_val_if_fail (HEARKEN_IS_STORE (self), NULL);

  c = current (self);
  if (!turn_exists (c, turn, error) ||
      !(stmt = connection_stmt (c, STMT_TURN_INPUT, error)))
    return NULL;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) turn);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW && sqlite3_column_type (stmt, 0) == SQLITE_TEXT)
    text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, c->db, rc, "reading a turn");
      return NULL;
    }
  if (!text)
    g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND,
                 "Turn %" G_GUINT64_FORMAT " answers no message", turn);
  return text;
}

static void
add_correction_row (sqlite3_stmt    *stmt,
                    GVariantBuilder *builder)
{
  g_variant_builder_add (builder, "(tsst)",
                         (guint64) sqlite3_column_int64 (stmt, 0),
                         column_text (stmt, 1), column_text (stmt, 2),
                         (guint64) MAX (sqlite3_column_int64 (stmt, 3), 0));
}

/**
 * hearken_store_intent_corrections:
 *
 * Returns: a(tsst), floating: turn, the message, the intent it should have
 *   had and the unix time, of every intent correction, oldest first
 */
GVariant *
hearken_store_intent_corrections (HearkenStore  *self,
                                  GError       **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(tsst)"));
  Connection *c;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (HEARKEN_IS_STORE (self), NULL);

  c = current (self);
  if (!(stmt = connection_stmt (c, STMT_CORRECTIONS, error)) ||
      !stmt_collect (c, stmt, add_correction_row, &builder, "listing corrections", error))
    return NULL;
  return g_variant_builder_end (&builder);
}

/**
 * hearken_store_learned_corrections:
 * @max: how many
 *
 * Returns: (transfer full): a(ss), the message and the intent of the
 *   latest @max corrections since the last reset, newest first
 */
GVariant *
hearken_store_learned_corrections (HearkenStore  *self,
                                   guint          max,
                                   GError       **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ss)"));
  Connection *c;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (HEARKEN_IS_STORE (self), NULL);

  c = current (self);
  if (!(stmt = connection_stmt (c, STMT_LEARNED_CORRECTIONS, error)))
    return NULL;
  sqlite3_bind_int64 (stmt, 1, max);
  if (!stmt_collect (c, stmt, add_context_row, &builder, "reading corrections", error))
    return NULL;
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/**
 * hearken_store_reset_corrections:
 *
 * Marks every correction as no longer learned (the person's model is gone);
 * they stay in hearken_store_intent_corrections().
 */
gboolean
hearken_store_reset_corrections (HearkenStore  *self,
                                 GError       **error)
{
  Connection *c;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (HEARKEN_IS_STORE (self), FALSE);

  c = current (self);
  if (!(stmt = connection_stmt (c, STMT_RESET_CORRECTIONS, error)))
    return FALSE;
  return stmt_run (c, stmt, "resetting corrections", error);
}

static gboolean
wipe (Connection  *c,
      GError     **error)
{
  if (connection_exec (c, "BEGIN IMMEDIATE", error) != SQLITE_OK)
    return FALSE;
  if (connection_exec (c, "DELETE FROM feedback; DELETE FROM turns; DELETE FROM conversations",
                       error) != SQLITE_OK ||
      connection_exec (c, "COMMIT", error) != SQLITE_OK)
    {
      sqlite3_exec (c->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

/**
 * hearken_store_forget_all:
 *
 * Wipes every conversation, turn and feedback, on disk and in memory, and
 * empties the WAL so no copy of the text is left in it.
 */
gboolean
hearken_store_forget_all (HearkenStore  *self,
                          GError       **error)
{
  g_return_val_if_fail (HEARKEN_IS_STORE (self), FALSE);

  if (self->memory.db && !wipe (&self->memory, error))
    return FALSE;
  if (!wipe (&self->disk, error))
    return FALSE;
  return connection_exec (&self->disk, "PRAGMA wal_checkpoint(TRUNCATE)", error) == SQLITE_OK;
}
