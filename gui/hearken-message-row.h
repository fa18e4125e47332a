/* hearken-message-row.h — one message of a conversation.
 *
 * A user message shows its text and the top intents predicted for it; an
 * assistant reply shows its text as Markdown while it streams, then its
 * stats (tokens, speed, backend, model) and its actions: Copy,
 * Regenerate, thumbs up and down, a comment and "not what I meant".
 * The row holds no connection: the window answers its "feedback" and
 * "regenerate" signals.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  HEARKEN_MESSAGE_USER,
  HEARKEN_MESSAGE_ASSISTANT,
} HearkenMessageRole;

#define HEARKEN_TYPE_MESSAGE_ROW (hearken_message_row_get_type ())

G_DECLARE_FINAL_TYPE (HearkenMessageRow, hearken_message_row, HEARKEN, MESSAGE_ROW, GtkWidget)

GtkWidget          *hearken_message_row_new              (HearkenMessageRole  role,
                                                          const char         *text);
HearkenMessageRole  hearken_message_row_get_role         (HearkenMessageRow  *self);
const char         *hearken_message_row_get_text         (HearkenMessageRow  *self);
guint64             hearken_message_row_get_turn         (HearkenMessageRow  *self);
void                hearken_message_row_set_turn         (HearkenMessageRow  *self,
                                                          guint64             turn);
gboolean            hearken_message_row_get_generating   (HearkenMessageRow  *self);

/* A reply: its pieces as they stream, then its end. */
void                hearken_message_row_append           (HearkenMessageRow  *self,
                                                          const char         *delta);
/* info: a{sv} of Finished (tokens, tokens_per_second, backend, model), or
 * NULL for a reply read back from the history. */
void                hearken_message_row_finish           (HearkenMessageRow  *self,
                                                          const char         *reply,
                                                          GVariant           *info);
void                hearken_message_row_fail             (HearkenMessageRow  *self,
                                                          const char         *message);
/* Stopped by the user: what was written stays, without an error. */
void                hearken_message_row_stop             (HearkenMessageRow  *self);

/* a(sd) from Classify: a user message shows the top three; a reply offers
 * them all under "not what I meant". */
void                hearken_message_row_set_predictions  (HearkenMessageRow  *self,
                                                          GVariant           *predictions);

int                 hearken_message_row_get_rating       (HearkenMessageRow  *self);
/* Show feedback already recorded, without sending it again; intent: the
 * intent the user meant, or NULL. */
void                hearken_message_row_show_rating      (HearkenMessageRow  *self,
                                                          int                 rating,
                                                          const char         *intent);

G_END_DECLS
