/* hearken-store.h — conversations, turns and feedback in SQLite.
 *
 * One file, $XDG_DATA_HOME/hearken/hearken.db, in WAL mode, with a schema
 * versioned by PRAGMA user_version.  A damaged file is moved aside and a
 * new one started.  With keep-history off, the same tables live in memory
 * for the life of the process and nothing reaches the disk.  Not thread
 * safe: hearkend uses it from the main thread only.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
  HEARKEN_TURN_COMPLETE,
  HEARKEN_TURN_CANCELLED,
  HEARKEN_TURN_FAILED,
} HearkenTurnState;

/* One message of a conversation.  Strings are borrowed; model, backend
 * and intent may be NULL (user turns have no model, an unclassified turn
 * no intent). */
typedef struct {
  guint64           turn;
  const char       *conversation;
  const char       *role;                /* "system", "user" or "assistant" */
  const char       *text;
  const char       *model;
  const char       *backend;
  guint             tokens;
  double            tokens_per_second;
  const char       *intent;
  double            confidence;
  HearkenTurnState  state;
} HearkenTurnRecord;

#define HEARKEN_TYPE_STORE (hearken_store_get_type ())

G_DECLARE_FINAL_TYPE (HearkenStore, hearken_store, HEARKEN, STORE, GObject)

HearkenStore *hearken_store_open                (const char               *path,
                                                 GError                  **error);

gboolean      hearken_store_get_keep_history    (HearkenStore             *self);
gboolean      hearken_store_set_keep_history    (HearkenStore             *self,
                                                 gboolean                  keep_history,
                                                 GError                  **error);

/* The next turn number: global, never given twice by one store, and above
 * every turn ever written to its file (even after ForgetAll). */
guint64       hearken_store_reserve_turn        (HearkenStore             *self);

/* options: the conversation's a{sv} options, or NULL. */
gboolean      hearken_store_add_conversation    (HearkenStore             *self,
                                                 const char               *id,
                                                 GVariant                 *options,
                                                 GError                  **error);
gboolean      hearken_store_add_turn            (HearkenStore             *self,
                                                 const HearkenTurnRecord  *record,
                                                 GError                  **error);
gboolean      hearken_store_add_feedback        (HearkenStore             *self,
                                                 guint64                   turn,
                                                 int                       rating,
                                                 const char               *intent,
                                                 const char               *comment,
                                                 GError                  **error);

/* a(sst): id, title, last-used unix time; most recent first.  Floating,
 * ready to go into a reply. */
GVariant     *hearken_store_list_conversations  (HearkenStore             *self,
                                                 GError                  **error);
/* a(tss): turn, role, text; oldest first.  Floating. */
GVariant     *hearken_store_history             (HearkenStore             *self,
                                                 const char               *id,
                                                 GError                  **error);

/* a(tis): turn, rating, intent ('' when none) of the rated turns, as
 * their latest feedback left them; oldest first.  Floating. */
GVariant     *hearken_store_ratings             (HearkenStore             *self,
                                                 const char               *id,
                                                 GError                  **error);

/* The a{sv} a conversation was started with (empty when none). */
GVariant     *hearken_store_get_options         (HearkenStore             *self,
                                                 const char               *id,
                                                 GError                  **error);
/* a(ss): role and text of the complete turns, oldest first. */
GVariant     *hearken_store_get_context         (HearkenStore             *self,
                                                 const char               *id,
                                                 GError                  **error);

/* Intent corrections are feedback with an intent. */
char         *hearken_store_dup_turn_input      (HearkenStore             *self,
                                                 guint64                   turn,
                                                 GError                  **error);
GVariant     *hearken_store_intent_corrections  (HearkenStore             *self,
                                                 GError                  **error);
GVariant     *hearken_store_learned_corrections (HearkenStore             *self,
                                                 guint                     max,
                                                 GError                  **error);
gboolean      hearken_store_reset_corrections   (HearkenStore             *self,
                                                 GError                  **error);

gboolean      hearken_store_forget_all          (HearkenStore             *self,
                                                 GError                  **error);

G_END_DECLS
