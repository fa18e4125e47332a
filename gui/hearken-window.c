/* hearken-window.c — see hearken-window.h. */
#include "hearken-window-private.h"

#include <glib/gi18n.h>

#include "hearken-message-row.h"

#define BUS_NAME    "org.hearken.Assistant1"
#define OBJECT_PATH "/org/hearken/Assistant1"

G_DEFINE_FINAL_TYPE (HearkenWindow, hearken_window, ADW_TYPE_APPLICATION_WINDOW)

static void connect_to_service (HearkenWindow *self);
static void send_text (HearkenWindow *self, const char *text);

/* ------------------------------------------------------------ helpers */

static gboolean
is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* The service's own words, without the D-Bus error name in front. */
static char *
error_text (const GError *error)
{
  g_autoptr(GError) copy = g_error_copy (error);

  g_dbus_error_strip_remote_error (copy);
  return g_strdup (copy->message);
}

static gboolean
is_dbus_error (const GError *error,
               const char   *name)
{
  g_autofree char *remote = g_dbus_error_get_remote_error (error);

  return g_strcmp0 (remote, name) == 0;
}

static void
toast_error (HearkenWindow *self,
             const char    *what,
             const GError  *error)
{
  g_autofree char *message = error_text (error);
  /* Translators: what failed, then why */
  g_autofree char *title = g_strdup_printf (_("%s: %s"), what, message);
  AdwToast *toast = adw_toast_new (title);

  adw_toast_set_timeout (toast, 6);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static GVariant *
no_options (void)
{
  return g_variant_new ("a{sv}", NULL);
}

static void
scroll_to_end (HearkenWindow *self)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->chat_scroller);

  gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment));
}

/* The list grows after a piece arrives, once it is laid out: while a
 * reply is written, follow it down. */
static void
chat_height_changed_cb (HearkenWindow *self)
{
  if (self->generating)
    scroll_to_end (self);
}

/* ------------------------------------------------------------ states */

static void
update_generating (HearkenWindow *self,
                   gboolean       generating)
{
  self->generating = generating;
  if (!generating)
    {
      self->generating_turn = 0;
      self->pending_reply = NULL;
    }
  gtk_stack_set_visible_child_name (self->send_stack, generating ? "stop" : "send");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.stop", generating);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.send", !generating && self->proxy);
}

static void
show_page (HearkenWindow *self,
           const char    *page)
{
  gboolean ready = g_str_equal (page, "empty") || g_str_equal (page, "chat");

  gtk_stack_set_visible_child_name (self->stack, page);
  gtk_widget_set_visible (self->composer, ready);
  if (ready)
    gtk_widget_grab_focus (GTK_WIDGET (self->composer_view));
}

/* Where the model runs: the Vulkan device, or "CPU" with the reason in
 * the tooltip; the model's name beside it. */
static void
update_title (HearkenWindow *self)
{
  HearkenDBusAssistant1 *proxy = self->proxy;
  const char *backend = hearken_dbus_assistant1_get_backend (proxy);
  const char *device = hearken_dbus_assistant1_get_device (proxy);
  const char *reason = hearken_dbus_assistant1_get_backend_reason (proxy);
  const char *model = hearken_dbus_assistant1_get_model (proxy);
  const char *state = hearken_dbus_assistant1_get_state (proxy);
  g_autofree char *model_name = model && *model ? g_path_get_basename (model) : NULL;
  g_autofree char *subtitle = NULL;
  const char *where;

  if (g_strcmp0 (backend, "vulkan") == 0 && device && *device)
    where = device;
  else
    where = _("CPU");
  if (model_name)
    subtitle = g_strdup_printf ("%s · %s", model_name, where);
  else
    subtitle = g_strdup (where);
  adw_window_title_set_subtitle (self->window_title, subtitle);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->window_title),
                               g_strcmp0 (backend, "vulkan") == 0 ? device : reason);
  gtk_widget_set_visible (self->state_spinner, g_strcmp0 (state, "loading") == 0);
  gtk_spinner_set_spinning (GTK_SPINNER (self->state_spinner), g_strcmp0 (state, "loading") == 0);
}

/* ---------------------------------------------------- the conversation */

static void
clear_messages (HearkenWindow *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->message_list))))
    gtk_list_box_remove (self->message_list, child);
  g_hash_table_remove_all (self->replies);
  update_generating (self, FALSE);
}

static void
row_feedback_cb (HearkenWindow     *self,
                 int                rating,
                 const char        *intent,
                 const char        *comment,
                 HearkenMessageRow *row);
static void row_regenerate_cb (HearkenWindow *self, HearkenMessageRow *row);

static HearkenMessageRow *
add_message (HearkenWindow      *self,
             HearkenMessageRole  role,
             const char         *text)
{
  GtkWidget *row = hearken_message_row_new (role, text);
  GtkWidget *list_row = gtk_list_box_row_new ();

  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (list_row), row);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (list_row), FALSE);
  gtk_widget_set_focusable (list_row, FALSE);
  gtk_list_box_append (self->message_list, list_row);
  if (role == HEARKEN_MESSAGE_ASSISTANT)
    {
      g_signal_connect_object (row, "feedback", G_CALLBACK (row_feedback_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (row, "regenerate", G_CALLBACK (row_regenerate_cb), self, G_CONNECT_SWAPPED);
    }
  show_page (self, "chat");
  return HEARKEN_MESSAGE_ROW (row);
}

static void
remember_reply (HearkenWindow     *self,
                HearkenMessageRow *row,
                guint64            turn)
{
  guint64 *key = g_new (guint64, 1);

  *key = turn;
  hearken_message_row_set_turn (row, turn);
  g_hash_table_insert (self->replies, key, row);
}

/* The reply a signal is about: a known turn, or the pending reply whose
 * Send has not answered yet. */
static HearkenMessageRow *
reply_for (HearkenWindow *self,
           const char    *id,
           guint64        turn)
{
  HearkenMessageRow *row;

  if (g_strcmp0 (id, self->conversation_id) != 0)
    return NULL;
  if ((row = g_hash_table_lookup (self->replies, &turn)))
    return row;
  if (self->pending_reply && hearken_message_row_get_turn (HEARKEN_MESSAGE_ROW (self->pending_reply)) == 0)
    {
      row = HEARKEN_MESSAGE_ROW (self->pending_reply);
      remember_reply (self, row, turn);
      self->generating_turn = turn;
      return row;
    }
  return NULL;
}

static void
delta_cb (HearkenWindow *self,
          const char    *id,
          guint64        turn,
          const char    *text)
{
  HearkenMessageRow *row = reply_for (self, id, turn);

  if (!row)
    return;
  hearken_message_row_append (row, text);
  scroll_to_end (self);
}

static void
refresh_conversations (HearkenWindow *self);

static void
finished_cb (HearkenWindow *self,
             const char    *id,
             guint64        turn,
             const char    *reply,
             GVariant      *info)
{
  HearkenMessageRow *row = reply_for (self, id, turn);

  if (!row)
    return;
  hearken_message_row_finish (row, reply, info);
  if (self->generating_turn == turn)
    update_generating (self, FALSE);
  refresh_conversations (self);
}

static void
failed_cb (HearkenWindow *self,
           const char    *id,
           guint64        turn,
           const char    *error,
           const char    *message)
{
  HearkenMessageRow *row = reply_for (self, id, turn);

  if (!row)
    return;
  if (g_str_equal (error, "org.hearken.Error.Cancelled"))
    hearken_message_row_stop (row);
  else
    hearken_message_row_fail (row, message);
  if (self->generating_turn == turn)
    update_generating (self, FALSE);
}

/* Predictions come from Classify; a service without the intent model
 * answers NotAvailable, and then there is nothing to show. */
typedef struct
{
  HearkenWindow     *self;
  HearkenMessageRow *question;
  HearkenMessageRow *reply;
} ClassifyCall;

static void
classify_done_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ClassifyCall *call = user_data;
  g_autoptr(GVariant) predictions = NULL;
  g_autoptr(GError) error = NULL;

  if (hearken_dbus_assistant1_call_classify_finish (HEARKEN_DBUS_ASSISTANT1 (source), &predictions,
                                                    result, &error))
    {
      hearken_message_row_set_predictions (call->question, predictions);
      hearken_message_row_set_predictions (call->reply, predictions);
    }
  else if (!is_cancelled (error) && !is_dbus_error (error, "org.hearken.Error.NotAvailable"))
    g_debug ("Classify: %s", error->message);
  g_object_unref (call->question);
  g_object_unref (call->reply);
  g_free (call);
}

static void
classify (HearkenWindow     *self,
          HearkenMessageRow *question,
          HearkenMessageRow *reply)
{
  ClassifyCall *call = g_new0 (ClassifyCall, 1);

  call->self = self;
  call->question = g_object_ref (question);
  call->reply = g_object_ref (reply);
  hearken_dbus_assistant1_call_classify (self->proxy, hearken_message_row_get_text (question),
                                         self->cancellable, classify_done_cb, call);
}

typedef struct
{
  HearkenWindow     *self;
  HearkenMessageRow *reply;
  char              *text;
} SendCall;

static void
send_call_free (SendCall *call)
{
  g_object_unref (call->reply);
  g_free (call->text);
  g_free (call);
}

static void
send_failed (HearkenWindow     *self,
             HearkenMessageRow *reply,
             const GError      *error)
{
  g_autofree char *message = error_text (error);

  hearken_message_row_fail (reply, message);
  if (self->pending_reply == GTK_WIDGET (reply))
    update_generating (self, FALSE);
}

static void
send_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  SendCall *call = user_data;
  HearkenWindow *self = call->self;
  g_autoptr(GError) error = NULL;
  guint64 turn;

  if (!hearken_dbus_assistant1_call_send_finish (HEARKEN_DBUS_ASSISTANT1 (source), &turn, result, &error))
    {
      if (!is_cancelled (error))
        send_failed (self, call->reply, error);
    }
  /* a row no longer shown (another conversation was opened) is let go */
  else if (hearken_message_row_get_turn (call->reply) == 0 &&
           gtk_widget_get_parent (GTK_WIDGET (call->reply)) != NULL)
    {
      remember_reply (self, call->reply, turn);
      if (self->pending_reply == GTK_WIDGET (call->reply))
        self->generating_turn = turn;
    }
  send_call_free (call);
}

static void
send_in_conversation (SendCall *call)
{
  HearkenWindow *self = call->self;

  hearken_dbus_assistant1_call_send (self->proxy, self->conversation_id, call->text, no_options (),
                                     self->cancellable, send_done_cb, call);
}

static void
start_conversation_done_cb (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  SendCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  if (!hearken_dbus_assistant1_call_start_conversation_finish (HEARKEN_DBUS_ASSISTANT1 (source), &id,
                                                               result, &error))
    {
      if (!is_cancelled (error))
        send_failed (call->self, call->reply, error);
      send_call_free (call);
      return;
    }
  g_free (call->self->conversation_id);
  call->self->conversation_id = g_steal_pointer (&id);
  send_in_conversation (call);
}

static void
send_text (HearkenWindow *self,
           const char    *text)
{
  HearkenMessageRow *question, *reply;
  SendCall *call;

  question = add_message (self, HEARKEN_MESSAGE_USER, text);
  reply = add_message (self, HEARKEN_MESSAGE_ASSISTANT, "");
  hearken_message_row_append (reply, "");
  self->pending_reply = GTK_WIDGET (reply);
  update_generating (self, TRUE);
  scroll_to_end (self);
  classify (self, question, reply);

  call = g_new0 (SendCall, 1);
  call->self = self;
  call->reply = g_object_ref (reply);
  call->text = g_strdup (text);
  if (self->conversation_id)
    send_in_conversation (call);
  else
    hearken_dbus_assistant1_call_start_conversation (self->proxy, no_options (), self->cancellable,
                                                     start_conversation_done_cb, call);
}

static void
row_regenerate_cb (HearkenWindow     *self,
                   HearkenMessageRow *row)
{
  GtkWidget *list_row = gtk_widget_get_parent (GTK_WIDGET (row));
  GtkWidget *previous;

  if (self->generating)
    return;
  /* the question is the user message before this reply */
  for (previous = gtk_widget_get_prev_sibling (list_row); previous;
       previous = gtk_widget_get_prev_sibling (previous))
    {
      HearkenMessageRow *message =
        HEARKEN_MESSAGE_ROW (gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (previous)));

      if (hearken_message_row_get_role (message) == HEARKEN_MESSAGE_USER)
        {
          send_text (self, hearken_message_row_get_text (message));
          return;
        }
    }
}

typedef struct
{
  HearkenWindow     *self;
  HearkenMessageRow *row;
  int                previous_rating;
} FeedbackCall;

static void
feedback_done_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  FeedbackCall *call = user_data;
  g_autoptr(GError) error = NULL;

  if (!hearken_dbus_assistant1_call_feedback_finish (HEARKEN_DBUS_ASSISTANT1 (source), result, &error) &&
      !is_cancelled (error))
    {
      hearken_message_row_show_rating (call->row, call->previous_rating, NULL);
      toast_error (call->self, _("Feedback was not recorded"), error);
    }
  g_object_unref (call->row);
  g_free (call);
}

static void
row_feedback_cb (HearkenWindow     *self,
                 int                rating,
                 const char        *intent,
                 const char        *comment,
                 HearkenMessageRow *row)
{
  g_auto(GVariantBuilder) extra = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  FeedbackCall *call = g_new0 (FeedbackCall, 1);

  if (intent)
    g_variant_builder_add (&extra, "{sv}", "intent", g_variant_new_string (intent));
  if (comment)
    g_variant_builder_add (&extra, "{sv}", "comment", g_variant_new_string (comment));
  call->self = self;
  call->row = g_object_ref (row);
  /* a failed call puts the thumbs back as they were */
  call->previous_rating = intent || comment ? rating : 0;
  hearken_dbus_assistant1_call_feedback (self->proxy, hearken_message_row_get_turn (row), rating,
                                         g_variant_builder_end (&extra), self->cancellable,
                                         feedback_done_cb, call);
}

/* ------------------------------------------------- the conversations list */

static GtkWidget *
conversation_row_new (const char *id,
                      const char *title,
                      guint64     last_used)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_local ((gint64) last_used);
  /* Translators: when a conversation was last used, see strftime(3) */
  g_autofree char *date = when ? g_date_time_format (when, _("%-d %b, %H:%M")) : g_strdup ("");
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title_label = gtk_label_new (*title ? title : _("Untitled"));
  GtkWidget *date_label = gtk_label_new (g_strstrip (date));

  gtk_label_set_xalign (GTK_LABEL (title_label), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (title_label), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (date_label), 0.0);
  gtk_widget_add_css_class (date_label, "caption");
  gtk_widget_add_css_class (date_label, "dim-label");
  gtk_box_append (GTK_BOX (box), title_label);
  gtk_box_append (GTK_BOX (box), date_label);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  g_object_set_data_full (G_OBJECT (row), "conversation", g_strdup (id), g_free);
  return row;
}

static void
list_conversations_done_cb (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  HearkenWindow *self = user_data;
  g_autoptr(GVariant) conversations = NULL;
  g_autoptr(GError) error = NULL;
  const char *id, *title;
  guint64 last_used;
  GVariantIter iter;
  GtkWidget *child;

  if (!hearken_dbus_assistant1_call_list_conversations_finish (HEARKEN_DBUS_ASSISTANT1 (source),
                                                               &conversations, result, &error))
    {
      if (!is_cancelled (error))
        g_debug ("ListConversations: %s", error->message);
      return;
    }
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->conversation_list))))
    gtk_list_box_remove (self->conversation_list, child);
  g_variant_iter_init (&iter, conversations);
  while (g_variant_iter_next (&iter, "(&s&st)", &id, &title, &last_used))
    {
      GtkWidget *row = conversation_row_new (id, title, last_used);

      gtk_list_box_append (self->conversation_list, row);
      if (g_strcmp0 (id, self->conversation_id) == 0)
        gtk_list_box_select_row (self->conversation_list, GTK_LIST_BOX_ROW (row));
    }
  gtk_stack_set_visible_child_name (self->sidebar_stack,
                                    g_variant_n_children (conversations) > 0 ? "list" : "empty");
}

static void
refresh_conversations (HearkenWindow *self)
{
  hearken_dbus_assistant1_call_list_conversations (self->proxy, self->cancellable,
                                                   list_conversations_done_cb, self);
}

/* The thumbs and intents given before, as the service keeps them. */
static void
ratings_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  HearkenWindow *self = user_data;
  g_autoptr(GVariant) ratings = NULL;
  g_autoptr(GError) error = NULL;
  const char *intent;
  guint64 turn;
  gint32 rating;
  GVariantIter iter;

  if (!hearken_dbus_assistant1_call_ratings_finish (HEARKEN_DBUS_ASSISTANT1 (source), &ratings,
                                                    result, &error))
    {
      /* an older service keeps them to itself; the replies still show */
      if (!is_cancelled (error))
        g_debug ("Ratings: %s", error->message);
      return;
    }
  g_variant_iter_init (&iter, ratings);
  while (g_variant_iter_next (&iter, "(ti&s)", &turn, &rating, &intent))
    {
      HearkenMessageRow *row = g_hash_table_lookup (self->replies, &turn);

      if (row)
        hearken_message_row_show_rating (row, rating, intent);
    }
}

static void
history_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  HearkenWindow *self = user_data;
  g_autoptr(GVariant) turns = NULL;
  g_autoptr(GError) error = NULL;
  const char *role, *text;
  guint64 turn;
  GVariantIter iter;

  if (!hearken_dbus_assistant1_call_history_finish (HEARKEN_DBUS_ASSISTANT1 (source), &turns,
                                                    result, &error))
    {
      if (!is_cancelled (error))
        toast_error (self, _("The conversation could not be opened"), error);
      return;
    }
  clear_messages (self);
  g_variant_iter_init (&iter, turns);
  while (g_variant_iter_next (&iter, "(t&s&s)", &turn, &role, &text))
    {
      if (g_str_equal (role, "assistant"))
        {
          HearkenMessageRow *row = add_message (self, HEARKEN_MESSAGE_ASSISTANT, text);

          hearken_message_row_finish (row, text, NULL);
          remember_reply (self, row, turn);
        }
      else if (g_str_equal (role, "user"))
        add_message (self, HEARKEN_MESSAGE_USER, text);
    }
  show_page (self, g_variant_n_children (turns) > 0 ? "chat" : "empty");
  hearken_dbus_assistant1_call_ratings (self->proxy, self->conversation_id, self->cancellable,
                                        ratings_done_cb, self);
}

static void
conversation_activated_cb (HearkenWindow *self,
                           GtkListBoxRow *row)
{
  const char *id = g_object_get_data (G_OBJECT (row), "conversation");

  g_free (self->conversation_id);
  self->conversation_id = g_strdup (id);
  hearken_dbus_assistant1_call_history (self->proxy, id, self->cancellable, history_done_cb, self);
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
}

/* ------------------------------------------------------------- voice */

static void
voice_unavailable (HearkenWindow *self,
                   const GError  *error)
{
  g_autofree char *reason = error_text (error);

  /* NotAvailable and NoAudioDevice will not change by trying again */
  if (is_dbus_error (error, "org.hearken.Error.NotAvailable") ||
      is_dbus_error (error, "org.hearken.Error.NoAudioDevice"))
    {
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.listen", FALSE);
      gtk_widget_set_tooltip_text (self->voice_button, reason);
    }
  toast_error (self, _("Voice input is not available"), error);
}

static void
start_listening_done_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  HearkenWindow *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!hearken_dbus_assistant1_call_start_listening_finish (HEARKEN_DBUS_ASSISTANT1 (source), result, &error))
    {
      if (!is_cancelled (error))
        voice_unavailable (self, error);
      return;
    }
  self->listening = TRUE;
  gtk_revealer_set_reveal_child (self->voice_revealer, TRUE);
}

static void
stop_listening_done_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  HearkenWindow *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (!hearken_dbus_assistant1_call_stop_listening_finish (HEARKEN_DBUS_ASSISTANT1 (source), &text,
                                                           result, &error))
    {
      if (!is_cancelled (error))
        toast_error (self, _("Listening could not stop"), error);
      return;
    }
  if (*text)
    gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->composer_view), text, -1);
}

static void
listening_cb (HearkenWindow *self,
              gboolean       listening)
{
  self->listening = listening;
  gtk_revealer_set_reveal_child (self->voice_revealer, listening);
  gtk_button_set_icon_name (GTK_BUTTON (self->voice_button),
                            listening ? "media-playback-stop-symbolic" : "audio-input-microphone-symbolic");
  if (listening)
    gtk_label_set_text (self->partial_label, _("Listening…"));
}

static void
level_cb (HearkenWindow *self,
          double         level)
{
  gtk_level_bar_set_value (self->level_bar, CLAMP (level, 0.0, 1.0));
}

static void
partial_cb (HearkenWindow *self,
            const char    *text)
{
  gtk_label_set_text (self->partial_label, text);
}

static void
transcript_cb (HearkenWindow *self,
               const char    *text,
               double         confidence)
{
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->composer_view), text, -1);
}

/* ------------------------------------------------------- the service */

static void
show_no_service (HearkenWindow *self,
                 const GError  *error)
{
  g_autofree char *reason = error_text (error);
  g_autofree char *description =
    /* Translators: the reason the service could not be started follows */
    g_strdup_printf (_("Hearken runs its models in a background service, hearkend, which could not be started: %s"),
                     reason);

  adw_status_page_set_description (self->no_service_page, description);
  g_clear_object (&self->proxy);
  update_generating (self, FALSE);
  show_page (self, "no-service");
}

static void
list_models_done_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  HearkenWindow *self = user_data;
  g_autoptr(GVariant) models = NULL;
  g_autoptr(GError) error = NULL;
  const char *model;

  if (!hearken_dbus_assistant1_call_list_models_finish (HEARKEN_DBUS_ASSISTANT1 (source), &models,
                                                        result, &error))
    {
      if (!is_cancelled (error))
        show_no_service (self, error);
      return;
    }
  model = hearken_dbus_assistant1_get_model (self->proxy);
  if (g_variant_n_children (models) == 0 && !(model && *model))
    {
      hearken_first_run_set_proxy (self->first_run, self->proxy);
      show_page (self, "first-run");
    }
  else
    show_page (self, "empty");
}

static void
proxy_ready_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  HearkenWindow *self = user_data;
  g_autoptr(GError) error = NULL;
  HearkenDBusAssistant1 *proxy = hearken_dbus_assistant1_proxy_new_for_bus_finish (result, &error);

  if (!proxy)
    {
      if (!is_cancelled (error))
        show_no_service (self, error);
      return;
    }
  self->proxy = proxy;
  /* replies can take as long as they take */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), G_MAXINT);
  g_signal_connect_object (proxy, "delta", G_CALLBACK (delta_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (proxy, "finished", G_CALLBACK (finished_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (proxy, "failed", G_CALLBACK (failed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (proxy, "listening", G_CALLBACK (listening_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (proxy, "level", G_CALLBACK (level_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (proxy, "partial", G_CALLBACK (partial_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (proxy, "transcript", G_CALLBACK (transcript_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (proxy, "g-properties-changed", G_CALLBACK (update_title), self, G_CONNECT_SWAPPED);
  update_title (self);
  update_generating (self, FALSE);
  /* ListModels also starts the service when nothing runs it yet: its
   * answer tells whether the service runs, and whether it has a model */
  hearken_dbus_assistant1_call_list_models (proxy, self->cancellable, list_models_done_cb, self);
  refresh_conversations (self);
}

static void
connect_to_service (HearkenWindow *self)
{
  show_page (self, "connecting");
  hearken_dbus_assistant1_proxy_new_for_bus (G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE,
                                             BUS_NAME, OBJECT_PATH, self->cancellable,
                                             proxy_ready_cb, self);
}

static void
model_ready_cb (HearkenWindow *self)
{
  show_page (self, "empty");
}

/* ------------------------------------------------------------ actions */

static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  HearkenWindow *self = HEARKEN_WINDOW (widget);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer_view);
  GtkTextIter start, end;
  g_autofree char *text = NULL;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = g_strstrip (gtk_text_buffer_get_text (buffer, &start, &end, FALSE));
  if (!*text || self->generating || !self->proxy)
    return;
  gtk_text_buffer_set_text (buffer, "", 0);
  send_text (self, text);
}

static void
cancel_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* a turn that ended meanwhile cannot be cancelled; Finished told it */
  if (!hearken_dbus_assistant1_call_cancel_finish (HEARKEN_DBUS_ASSISTANT1 (source), result, &error))
    g_debug ("Cancel: %s", error->message);
}

static void
stop_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  HearkenWindow *self = HEARKEN_WINDOW (widget);

  if (!self->generating || self->generating_turn == 0)
    return;
  hearken_dbus_assistant1_call_cancel (self->proxy, self->generating_turn, self->cancellable,
                                       cancel_done_cb, NULL);
}

static void
new_conversation_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  HearkenWindow *self = HEARKEN_WINDOW (widget);

  if (!self->proxy)
    return;
  /* the reply being written belongs to the conversation left behind */
  if (self->generating)
    gtk_widget_activate_action (widget, "win.stop", NULL);
  g_clear_pointer (&self->conversation_id, g_free);
  clear_messages (self);
  gtk_list_box_unselect_all (self->conversation_list);
  if (g_str_equal (gtk_stack_get_visible_child_name (self->stack), "chat"))
    show_page (self, "empty");
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
  gtk_widget_grab_focus (GTK_WIDGET (self->composer_view));
}

static void
show_conversations_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  HearkenWindow *self = HEARKEN_WINDOW (widget);

  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static void
retry_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  connect_to_service (HEARKEN_WINDOW (widget));
}

static void
listen_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  HearkenWindow *self = HEARKEN_WINDOW (widget);

  if (!self->proxy)
    return;
  if (self->listening)
    hearken_dbus_assistant1_call_stop_listening (self->proxy, self->cancellable,
                                                 stop_listening_done_cb, self);
  else
    hearken_dbus_assistant1_call_start_listening (self->proxy, no_options (), self->cancellable,
                                                  start_listening_done_cb, self);
}

/* Enter sends, Shift+Enter starts a new line. */
static gboolean
composer_key_pressed_cb (HearkenWindow         *self,
                         guint                  keyval,
                         guint                  keycode,
                         GdkModifierType        state,
                         GtkEventControllerKey *controller)
{
  if ((keyval != GDK_KEY_Return && keyval != GDK_KEY_KP_Enter) || (state & GDK_SHIFT_MASK))
    return GDK_EVENT_PROPAGATE;
  gtk_widget_activate_action (GTK_WIDGET (self), "win.send", NULL);
  return GDK_EVENT_STOP;
}

/* --------------------------------------------------------------- type */

static void
hearken_window_dispose (GObject *object)
{
  HearkenWindow *self = HEARKEN_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->proxy);
  g_clear_pointer (&self->replies, g_hash_table_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARKEN_TYPE_WINDOW);
  G_OBJECT_CLASS (hearken_window_parent_class)->dispose (object);
}

static void
hearken_window_finalize (GObject *object)
{
  HearkenWindow *self = HEARKEN_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_free (self->conversation_id);
  G_OBJECT_CLASS (hearken_window_parent_class)->finalize (object);
}

static void
hearken_window_class_init (HearkenWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearken_window_dispose;
  object_class->finalize = hearken_window_finalize;

  g_type_ensure (HEARKEN_TYPE_FIRST_RUN);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearken/Hearken/hearken-window.ui");
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, sidebar_stack);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, conversation_list);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, state_spinner);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, no_service_page);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, first_run);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, chat_scroller);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, message_list);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, voice_revealer);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, level_bar);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, partial_label);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, composer);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, voice_button);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, composer_view);
  gtk_widget_class_bind_template_child (widget_class, HearkenWindow, send_stack);
  gtk_widget_class_bind_template_callback (widget_class, conversation_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, model_ready_cb);

  gtk_widget_class_install_action (widget_class, "win.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "win.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "win.new-conversation", NULL, new_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.show-conversations", NULL, show_conversations_action);
  gtk_widget_class_install_action (widget_class, "win.retry", NULL, retry_action);
  gtk_widget_class_install_action (widget_class, "win.listen", NULL, listen_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "win.new-conversation", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.stop", NULL);
}

static void
hearken_window_init (HearkenWindow *self)
{
  GtkEventController *keys = gtk_event_controller_key_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->replies = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  /* before the text view's own handler, which would insert the newline */
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  gtk_event_controller_set_name (keys, "hearken-composer-keys");
  g_signal_connect_object (keys, "key-pressed", G_CALLBACK (composer_key_pressed_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->composer_view), keys);
  g_signal_connect_object (gtk_scrolled_window_get_vadjustment (self->chat_scroller), "notify::upper",
                           G_CALLBACK (chat_height_changed_cb), self, G_CONNECT_SWAPPED);
  update_generating (self, FALSE);
  connect_to_service (self);
}

/**
 * hearken_window_new:
 * @application: the #HearkenApplication
 *
 * The window connects to hearkend at once, starting it when the bus can.
 *
 * Returns: (transfer full): a new window
 */
HearkenWindow *
hearken_window_new (GtkApplication *application)
{
  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);

  return g_object_new (HEARKEN_TYPE_WINDOW, "application", application, NULL);
}

HearkenDBusAssistant1 *
hearken_window_get_proxy (HearkenWindow *self)
{
  g_return_val_if_fail (HEARKEN_IS_WINDOW (self), NULL);
  return self->proxy;
}
