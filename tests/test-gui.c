/* The hearken window, driven in-process under Xvfb against the real
 * hearkend on a private bus: a question streams its reply, thumbs-up is
 * recorded in the service's store and still shown in a window opened
 * later, Enter sends and Shift+Enter does not, Escape stops a reply,
 * Regenerate asks again, the preferences write GSettings, the window
 * follows LANGUAGE=zh_CN, a missing service shows a Retry that works, the
 * first run offers the catalog, and the microphone button listens or says
 * why it cannot.  Screenshots land in the build folder (gui-window-en.png,
 * gui-window-zh_CN.png, gui-preferences.png, gui-first-run.png) for people
 * to look at.
 *
 * The model is shared/models/llama-2-tiny-random.gguf: its replies are
 * random text, which is all these tests need. */
#include <glib/gi18n.h>
#include <locale.h>
#include <sqlite3.h>
#include <string.h>

#include "daemon/hk-daemon-harness.h"
#include "hearken-application.h"
#include "hearken-message-row-private.h"
#include "hearken-preferences-private.h"
#include "hearken-window-private.h"

static HkDaemon *d;
static HearkenApplication *app;
static HearkenWindow *window;

/* ------------------------------------------------------------ helpers */

typedef gboolean (*Condition) (gpointer data);

static void
timed_out_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
}

/* Run the main context until condition holds, failing after the timeout. */
static void
wait_until (Condition   condition,
            gpointer    data,
            const char *what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_once (HK_DAEMON_TIMEOUT_MS, timed_out_cb, &timed_out);

  while (!condition (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  ck_assert_msg (condition (data), "timed out after %d ms waiting for %s", HK_DAEMON_TIMEOUT_MS, what);
}

static gboolean
page_is (gpointer page)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (window->stack), page) == 0;
}

static void
wait_for_page (const char *page)
{
  g_autofree char *what = g_strdup_printf ("the window's “%s” page", page);

  wait_until (page_is, (gpointer) page, what);
}

/* The intent model the build trains, when it has. */
static char *
built_intent_model (void)
{
  char *path = g_build_filename (g_getenv ("HEARKEN_BUILD_ROOT"), "data", "intents", "intents.gguf", NULL);

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return path;
  g_free (path);
  return NULL;
}

static void
start_daemon_with (const char *extra_env)
{
  g_autofree char *path = g_build_filename (hk_test_shared_dir (), "models",
                                            "llama-2-tiny-random.gguf", NULL);
  g_autofree char *env_model = g_strconcat ("HEARKEN_MODEL=", path, NULL);
  g_autofree char *intents = built_intent_model ();
  g_autofree char *env_intents = g_strconcat ("HEARKEN_INTENT_MODEL=", intents ? intents : "/nonexistent", NULL);
  /* an intent that acts (lock the screen, change the volume) only says
   * what it would do */
  const char *env[] = { env_model, env_intents, "HEARKEN_ACTIONS_DRY_RUN=1", extra_env, NULL };

  hk_daemon_start (d, env);
}

static void
start_daemon (void)
{
  start_daemon_with (NULL);
}

static void
open_window (void)
{
  g_autoptr(GError) error = NULL;

  app = hearken_application_new ();
  ck_assert (g_application_register (G_APPLICATION (app), NULL, &error));
  hk_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = HEARKEN_WINDOW (gtk_application_get_windows (GTK_APPLICATION (app))->data);
}

static void
setup (void)
{
  g_autofree char *display = g_strdup (g_getenv ("DISPLAY"));

  d = hk_daemon_new ();
  /* GTestDBus unsets it, lest a client start an X11 bus; we need the X
   * server */
  if (display)
    g_setenv ("DISPLAY", display, TRUE);
  /* short replies, the same every run */
  hk_daemon_write_settings (d, "max-tokens=uint32 24\ntemperature=0.0");
}

/* hk_daemon_free() ends with g_test_dbus_down(), which waits for the
 * session bus connection to be finalized; GApplication and GTK keep it
 * for the life of the process.  Each test runs in a process of its own,
 * so stop the bus without that wait and let the exit free the rest. */
static void
teardown (void)
{
  if (window)
    gtk_window_destroy (GTK_WINDOW (window));
  window = NULL;
  g_clear_object (&app);
  if (d->daemon)
    hk_daemon_stop (d);
  g_dbus_connection_close_sync (d->connection, NULL, NULL);
  g_test_dbus_stop (d->bus);
  hk_tmpdir_remove (d->tmpdir);
}

static HearkenMessageRow *
message (int index)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (window->message_list, index);

  ck_assert_ptr_nonnull (row);
  return HEARKEN_MESSAGE_ROW (gtk_list_box_row_get_child (row));
}

/* ---------------------------------------------------- sending a message */

/* What the reply row showed each time a piece arrived. */
typedef struct
{
  GPtrArray *shown;
  char      *reply;
  gboolean   finished;
} Stream;

static void
delta_seen_cb (HearkenDBusAssistant1 *proxy,
               const char            *id,
               guint64                turn,
               const char            *text,
               Stream                *stream)
{
  /* connected after the window's handler: the row has the piece */
  g_ptr_array_add (stream->shown, g_strdup (hearken_message_row_get_text (message (1))));
}

static void
finished_seen_cb (HearkenDBusAssistant1 *proxy,
                  const char            *id,
                  guint64                turn,
                  const char            *reply,
                  GVariant              *info,
                  Stream                *stream)
{
  stream->reply = g_strdup (reply);
  stream->finished = TRUE;
}

static gboolean
reply_done (gpointer data)
{
  Stream *stream = data;

  return stream->finished && !window->generating;
}

/* Type a question, send it as Enter does, and wait for the whole reply. */
static Stream *
ask (const char *question)
{
  Stream *stream = g_new0 (Stream, 1);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (window->composer_view);

  stream->shown = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect_after (window->proxy, "delta", G_CALLBACK (delta_seen_cb), stream);
  g_signal_connect_after (window->proxy, "finished", G_CALLBACK (finished_seen_cb), stream);
  gtk_text_buffer_set_text (buffer, question, -1);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  wait_until (reply_done, stream, "the streamed reply");
  g_signal_handlers_disconnect_by_data (window->proxy, stream);
  return stream;
}

static void
stream_free (Stream *stream)
{
  g_ptr_array_unref (stream->shown);
  g_free (stream->reply);
  g_free (stream);
}

static gboolean
predictions_shown (gpointer data)
{
  return hearken_predictions_get_n_shown (message (0)->predictions) > 0;
}

/* With an intent model, the question shows its top three intents and the
 * reply offers every intent under "not what I meant"; without one, both
 * stay hidden. */
static void
check_predictions (void)
{
  g_autofree char *intents = built_intent_model ();

  if (!intents)
    {
      ck_assert (!gtk_widget_get_visible (GTK_WIDGET (message (0)->predictions)));
      ck_assert (!gtk_widget_get_visible (message (1)->intent_box));
      return;
    }
  wait_until (predictions_shown, NULL, "the question's predictions");
  ck_assert_uint_eq (hearken_predictions_get_n_shown (message (0)->predictions), 3);
  ck_assert (gtk_widget_get_visible (message (1)->intent_box));
}

/* ------------------------------------------------------- screenshots */

static gboolean
frame_cb (GtkWidget     *widget,
          GdkFrameClock *clock,
          gpointer       data)
{
  (*(int *) data)++;
  return G_SOURCE_CONTINUE;
}

static gboolean
two_frames (gpointer data)
{
  return *(int *) data >= 2;
}

static gboolean
no_transition (gpointer data)
{
  return !gtk_stack_get_transition_running (window->stack);
}

/* A window as it is drawn, into build/NAME. */
static void
save_window_screenshot (GtkWindow  *toplevel,
                        const char *name)
{
  GtkWidget *content = ADW_IS_WINDOW (toplevel) ? adw_window_get_content (ADW_WINDOW (toplevel))
                                                : adw_application_window_get_content (ADW_APPLICATION_WINDOW (toplevel));
  g_autofree char *path = g_build_filename (g_getenv ("HEARKEN_BUILD_ROOT"), name, NULL);
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GtkSnapshot *snapshot;
  int frames = 0;
  guint tick;
  int width, height;

  /* let the last changes be laid out and drawn */
  wait_until (no_transition, NULL, "the page to settle");
  tick = gtk_widget_add_tick_callback (content, frame_cb, &frames, NULL);
  wait_until (two_frames, &frames, "the window to be drawn");
  gtk_widget_remove_tick_callback (content, tick);

  width = gtk_widget_get_width (content);
  height = gtk_widget_get_height (content);
  ck_assert_int_gt (width, 0);
  paintable = gtk_widget_paintable_new (content);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  ck_assert_ptr_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (toplevel)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  ck_assert (gdk_texture_save_to_png (texture, path));
}

static void
save_screenshot (const char *name)
{
  save_window_screenshot (GTK_WINDOW (window), name);
}

static HearkenPreferences *
find_preferences (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) toplevel = g_list_model_get_item (toplevels, i);

      if (HEARKEN_IS_PREFERENCES (toplevel))
        return HEARKEN_PREFERENCES (toplevel);
    }
  ck_abort_msg ("app.preferences opened no preferences window");
  return NULL;
}

/* ------------------------------------------------------------ the store */

/* The rating hearkend recorded for a turn, or G_MININT when none. */
static int
stored_rating (guint64 turn)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  int rating = G_MININT;

  ck_assert_int_eq (sqlite3_open_v2 (d->db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT rating FROM feedback WHERE turn = ?1 ORDER BY rowid DESC",
                                        -1, &stmt, NULL), SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) turn);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    rating = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return rating;
}

/* The window's calls go out in order on its connection, and hearkend
 * answers them in order: once a later call is answered, an earlier
 * Feedback has been stored. */
static void
wait_for_calls_before (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) conversations = NULL;

  ck_assert (hearken_dbus_assistant1_call_list_conversations_sync (window->proxy, &conversations,
                                                                   NULL, &error));
  hk_assert_no_error (error);
}

/* -------------------------------------------------------------- tests */

/* hearkend sends the pieces the model writes between two turns of its main
 * loop as one Delta: a reply of a few hundred tokens comes in several. */
START_TEST (test_reply_streams)
{
  Stream *stream;

  hk_daemon_write_settings (d, "max-tokens=uint32 300\ntemperature=0.0");
  start_daemon ();
  open_window ();
  wait_for_page ("empty");
  stream = ask ("Tell me a story about a brave little fox.");

  /* the row grew piece by piece, each time a beginning of the reply */
  ck_assert_uint_ge (stream->shown->len, 2);
  for (guint i = 0; i < stream->shown->len; i++)
    ck_assert (g_str_has_prefix (stream->reply, stream->shown->pdata[i]));
  ck_assert_uint_lt (strlen (stream->shown->pdata[0]), strlen (stream->reply));
  ck_assert_str_eq (hearken_message_row_get_text (message (1)), stream->reply);
  stream_free (stream);
}
END_TEST

START_TEST (test_reply_shows_and_thumbs_up_is_recorded)
{
  const char *question = "Tell me a story about a brave little fox.";
  GtkTextBuffer *buffer;
  GtkTextIter start, end;
  g_autofree char *left = NULL;
  HearkenMessageRow *reply;
  Stream *stream;
  guint64 turn;

  start_daemon ();
  open_window ();
  wait_for_page ("empty");
  stream = ask (question);

  /* the question, then the reply */
  ck_assert_str_eq (hearken_message_row_get_text (message (0)), question);
  reply = message (1);
  ck_assert_int_eq (hearken_message_row_get_role (reply), HEARKEN_MESSAGE_ASSISTANT);
  ck_assert_str_ne (stream->reply, "");
  ck_assert_str_eq (hearken_message_row_get_text (reply), stream->reply);
  ck_assert_uint_ge (stream->shown->len, 1);
  for (guint i = 0; i < stream->shown->len; i++)
    ck_assert (g_str_has_prefix (stream->reply, stream->shown->pdata[i]));
  ck_assert (page_is ("chat"));
  /* the composer is empty again, the stop button gone */
  buffer = gtk_text_view_get_buffer (window->composer_view);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  left = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  ck_assert_str_eq (left, "");
  ck_assert_str_eq (gtk_stack_get_visible_child_name (window->send_stack), "send");

  /* thumbs up, as its button does */
  turn = hearken_message_row_get_turn (reply);
  ck_assert_uint_ne (turn, 0);
  ck_assert_int_eq (stored_rating (turn), G_MININT);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (reply), "message.rating", "i", 1));
  ck_assert_int_eq (hearken_message_row_get_rating (reply), 1);
  wait_for_calls_before ();
  ck_assert_int_eq (stored_rating (turn), 1);

  check_predictions ();
  save_screenshot ("gui-window-en.png");
  stream_free (stream);
}
END_TEST

static gboolean
has_two_microphones (gpointer preferences)
{
  HearkenPreferences *self = preferences;

  return g_list_model_get_n_items (G_LIST_MODEL (self->microphone_names)) == 2;
}

START_TEST (test_preferences_write_gsettings)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.hearken.Hearken");
  g_autofree char *backend = NULL;
  g_autofree char *home_env = hk_daemon_home_with_microphone (d);
  g_autofree char *microphone = NULL;
  HearkenPreferences *preferences;

  start_daemon_with (home_env);
  open_window ();
  wait_for_page ("empty");
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "app.preferences", NULL));
  preferences = find_preferences ();

  ck_assert_double_eq_tol (gtk_spin_button_get_value (preferences->temperature_spin), 0.7, 1e-9);
  gtk_spin_button_set_value (preferences->temperature_spin, 0.3);
  ck_assert_double_eq_tol (g_settings_get_double (settings, "temperature"), 0.3, 1e-9);

  adw_combo_row_set_selected (preferences->backend_row, 2);
  backend = g_settings_get_string (settings, "backend");
  ck_assert_str_eq (backend, "cpu");

  /* the microphones the service hears, after the default */
  wait_until (has_two_microphones, preferences, "the service's microphones");
  ck_assert_str_eq (gtk_string_list_get_string (preferences->microphone_names, 0), "Default");
  ck_assert_str_eq (gtk_string_list_get_string (preferences->microphone_names, 1), "hearken_test_mic");
  adw_combo_row_set_selected (preferences->microphone_row, 1);
  microphone = g_settings_get_string (settings, "input-device");
  ck_assert_str_eq (microphone, "hearken_test_mic");

  /* and the other way: a setting changed elsewhere shows */
  g_settings_set_uint (settings, "max-tokens", 300);
  ck_assert_double_eq_tol (gtk_spin_button_get_value (preferences->max_tokens_spin), 300, 1e-9);
  g_settings_set_string (settings, "input-device", "");
  ck_assert_uint_eq (adw_combo_row_get_selected (preferences->microphone_row), 0);
  save_window_screenshot (GTK_WINDOW (preferences), "gui-preferences.png");
  gtk_window_destroy (GTK_WINDOW (preferences));
}
END_TEST

static gboolean
leaflet_folded (gpointer data)
{
  return adw_leaflet_get_folded (window->leaflet);
}

static gboolean
showing (gpointer child)
{
  return adw_leaflet_get_visible_child (window->leaflet) == child;
}

/* The leaflet's pane that holds widget. */
static GtkWidget *
leaflet_pane_of (GtkWidget *widget)
{
  while (widget && gtk_widget_get_parent (widget) != GTK_WIDGET (window->leaflet))
    widget = gtk_widget_get_parent (widget);
  ck_assert_ptr_nonnull (widget);
  return widget;
}

/* On a phone-sized screen one pane shows at a time: the conversation,
 * with a way back to the list, and the list, with a way on. */
START_TEST (test_narrow_window_shows_one_pane)
{
  GtkWidget *content, *sidebar;

  start_daemon ();
  open_window ();
  wait_for_page ("empty");
  sidebar = leaflet_pane_of (GTK_WIDGET (window->sidebar_stack));
  content = leaflet_pane_of (GTK_WIDGET (window->stack));
  ck_assert (!adw_leaflet_get_folded (window->leaflet));

  /* a new size applies when the window is shown again */
  gtk_widget_set_visible (GTK_WIDGET (window), FALSE);
  gtk_window_set_default_size (GTK_WINDOW (window), 360, 640);
  gtk_window_present (GTK_WINDOW (window));
  wait_until (leaflet_folded, NULL, "the narrow window to fold");

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-conversation", NULL));
  wait_until (showing, content, "the new conversation");
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-conversations", NULL));
  wait_until (showing, sidebar, "the conversation list");
  save_screenshot ("gui-window-narrow.png");
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-conversation", NULL));
  wait_until (showing, content, "the conversation again");
}
END_TEST

START_TEST (test_window_follows_language)
{
  g_autofree char *po_dir = g_build_filename (g_getenv ("HEARKEN_BUILD_ROOT"), "po", NULL);
  Stream *stream;

  /* C.UTF-8, not C: gettext ignores LANGUAGE in the C locale */
  ck_assert_ptr_nonnull (setlocale (LC_ALL, "C.UTF-8"));
  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  bindtextdomain ("hearken", po_dir);
  bind_textdomain_codeset ("hearken", "UTF-8");
  textdomain ("hearken");

  start_daemon ();
  open_window ();
  wait_for_page ("empty");
  ck_assert_str_eq (adw_status_page_get_title (window->empty_page), "有问题，尽管问 Hearken");
  ck_assert_str_eq (gtk_window_get_title (GTK_WINDOW (window)), "Hearken");

  stream = ask ("给我讲一个关于勇敢的小狐狸的故事");
  check_predictions ();
  save_screenshot ("gui-window-zh_CN.png");
  stream_free (stream);
}
END_TEST

START_TEST (test_missing_service_offers_retry)
{
  open_window ();
  wait_for_page ("no-service");
  ck_assert (!gtk_widget_get_visible (window->composer));

  start_daemon ();
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "win.retry", NULL));
  wait_for_page ("empty");
  ck_assert (gtk_widget_get_visible (window->composer));
}
END_TEST


static gboolean
stopped_or_done (gpointer data)
{
  return !window->generating;
}

static void
stop_at_first_piece_cb (HearkenDBusAssistant1 *proxy,
                        const char            *id,
                        guint64                turn,
                        const char            *text,
                        gboolean              *stopped)
{
  if (*stopped)
    return;
  /* as Escape does */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "win.stop", NULL));
  *stopped = TRUE;
}

START_TEST (test_escape_stops_the_reply)
{
  GtkTextBuffer *buffer;
  HearkenMessageRow *reply;
  gboolean stopped = FALSE;

  /* a reply that would run until the context is full */
  hk_daemon_write_settings (d, "max-tokens=uint32 4000\ntemperature=0.0");
  start_daemon ();
  open_window ();
  wait_for_page ("empty");
  g_signal_connect_after (window->proxy, "delta", G_CALLBACK (stop_at_first_piece_cb), &stopped);
  buffer = gtk_text_view_get_buffer (window->composer_view);
  gtk_text_buffer_set_text (buffer, "Tell me a story about a brave little fox.", -1);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  ck_assert_str_eq (gtk_stack_get_visible_child_name (window->send_stack), "stop");
  wait_until (stopped_or_done, NULL, "the reply to stop");

  reply = message (1);
  ck_assert (stopped);
  ck_assert (!hearken_message_row_get_generating (reply));
  ck_assert_str_eq (gtk_label_get_text (reply->status_label), "Stopped");
  ck_assert_uint_lt (strlen (hearken_message_row_get_text (reply)), 4000);
  ck_assert_str_eq (gtk_stack_get_visible_child_name (window->send_stack), "send");
}
END_TEST

static gboolean
listening_or_refused (gpointer data)
{
  return window->listening || !gtk_widget_is_sensitive (window->voice_button);
}

static gboolean
not_listening (gpointer data)
{
  return !window->listening;
}

/* The microphone button starts listening, or, where the service cannot
 * (no microphone, no voice input built), turns insensitive and says why. */
START_TEST (test_voice_button_listens_or_says_why)
{
  g_autofree char *usual_tooltip = NULL;
  g_autofree char *tooltip = NULL;

  start_daemon ();
  open_window ();
  wait_for_page ("empty");
  usual_tooltip = g_strdup (gtk_widget_get_tooltip_text (window->voice_button));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "win.listen", NULL));
  wait_until (listening_or_refused, NULL, "the service to listen or refuse");
  if (window->listening)
    {
      ck_assert (gtk_revealer_get_reveal_child (window->voice_revealer));
      ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "win.listen", NULL));
      wait_until (not_listening, NULL, "listening to stop");
      return;
    }
  tooltip = g_strdup (gtk_widget_get_tooltip_text (window->voice_button));
  ck_assert_ptr_nonnull (tooltip);
  ck_assert_str_ne (tooltip, usual_tooltip);
  ck_assert (!gtk_revealer_get_reveal_child (window->voice_revealer));
}
END_TEST

static gboolean
conversation_listed (gpointer data)
{
  return gtk_list_box_get_row_at_index (window->conversation_list, 0) != NULL;
}

static gboolean
rating_shown (gpointer data)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (window->message_list, 1);

  return row && hearken_message_row_get_rating (message (1)) == GPOINTER_TO_INT (data);
}

/* History carries no ratings: a window opened later asks Ratings. */
START_TEST (test_rating_survives_a_restart)
{
  Stream *stream;

  start_daemon ();
  open_window ();
  wait_for_page ("empty");
  stream = ask ("Tell me a story about a brave little fox.");
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (message (1)), "message.rating", "i", -1));
  wait_for_calls_before ();
  stream_free (stream);

  gtk_window_destroy (GTK_WINDOW (window));
  window = hearken_window_new (GTK_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (window));
  wait_for_page ("empty");
  wait_until (conversation_listed, NULL, "the conversation in the sidebar");
  gtk_widget_activate (GTK_WIDGET (gtk_list_box_get_row_at_index (window->conversation_list, 0)));
  wait_until (rating_shown, GINT_TO_POINTER (-1), "the thumbs-down given before");
  ck_assert_str_eq (hearken_message_row_get_text (message (0)), "Tell me a story about a brave little fox.");
}
END_TEST

/* The window's key handler on the composer, as a key press reaches it. */
static gboolean
press_key (guint           keyval,
           GdkModifierType state)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (window->composer_view));
  gboolean handled = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers) && !handled; i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (g_strcmp0 (gtk_event_controller_get_name (controller), "hearken-composer-keys") == 0)
        g_signal_emit_by_name (controller, "key-pressed", keyval, 0, state, &handled);
    }
  return handled;
}

static gboolean
nothing_generating (gpointer data)
{
  return !window->generating;
}

START_TEST (test_enter_sends_and_shift_enter_does_not)
{
  GtkTextBuffer *buffer;

  start_daemon ();
  open_window ();
  wait_for_page ("empty");
  buffer = gtk_text_view_get_buffer (window->composer_view);
  gtk_text_buffer_set_text (buffer, "Tell me a story about a brave little fox.", -1);

  /* Shift+Enter is left to the text view: a new line */
  ck_assert (!press_key (GDK_KEY_Return, GDK_SHIFT_MASK));
  ck_assert_ptr_null (gtk_list_box_get_row_at_index (window->message_list, 0));

  ck_assert (press_key (GDK_KEY_Return, 0));
  ck_assert_str_eq (hearken_message_row_get_text (message (0)), "Tell me a story about a brave little fox.");
  ck_assert (page_is ("chat"));
  wait_until (nothing_generating, NULL, "the reply");
}
END_TEST

/* No model: the first-run page offers the catalog's models. */
START_TEST (test_first_run_offers_the_catalog)
{
  g_autofree char *catalog = g_build_filename (g_getenv ("HEARKEN_SOURCE_ROOT"), "data", "models.json", NULL);
  g_autofree char *copy = g_build_filename (d->data_home, "hearken", "models.json", NULL);
  g_autofree char *text = NULL;
  gsize length;
  const char *env[] = { "HEARKEN_INTENT_MODEL=/nonexistent", NULL };

  ck_assert (g_file_get_contents (catalog, &text, &length, NULL));
  ck_assert (g_file_set_contents (copy, text, length, NULL));
  /* the window reads the catalog where hearkend does */
  g_setenv ("XDG_DATA_HOME", d->data_home, TRUE);
  hk_daemon_start (d, env);
  open_window ();
  wait_for_page ("first-run");
  ck_assert (!gtk_widget_get_visible (window->composer));
  ck_assert_uint_eq (hearken_first_run_get_n_models (window->first_run), 5);
  save_screenshot ("gui-first-run.png");
}
END_TEST

static gboolean
second_reply_done (gpointer data)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (window->message_list, 3);

  return row && !window->generating;
}

/* Regenerate asks the reply's question again, in the same conversation. */
START_TEST (test_regenerate_asks_again)
{
  g_autofree char *conversation = NULL;
  Stream *stream;

  start_daemon ();
  open_window ();
  wait_for_page ("empty");
  stream = ask ("Tell me a story about a brave little fox.");
  conversation = g_strdup (window->conversation_id);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (message (1)), "message.regenerate", NULL));
  wait_until (second_reply_done, NULL, "the second reply");

  ck_assert_str_eq (hearken_message_row_get_text (message (2)), "Tell me a story about a brave little fox.");
  ck_assert_int_eq (hearken_message_row_get_role (message (3)), HEARKEN_MESSAGE_ASSISTANT);
  ck_assert_str_ne (hearken_message_row_get_text (message (3)), "");
  ck_assert_uint_gt (hearken_message_row_get_turn (message (3)), hearken_message_row_get_turn (message (1)));
  ck_assert_str_eq (window->conversation_id, conversation);
  stream_free (stream);
}
END_TEST

static Suite *
gui_suite (void)
{
  Suite *suite = suite_create ("gui");
  TCase *tc = tcase_create ("window");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_reply_streams);
  tcase_add_test (tc, test_reply_shows_and_thumbs_up_is_recorded);
  tcase_add_test (tc, test_preferences_write_gsettings);
  tcase_add_test (tc, test_narrow_window_shows_one_pane);
  tcase_add_test (tc, test_window_follows_language);
  tcase_add_test (tc, test_missing_service_offers_retry);
  tcase_add_test (tc, test_escape_stops_the_reply);
  tcase_add_test (tc, test_rating_survives_a_restart);
  tcase_add_test (tc, test_regenerate_asks_again);
  tcase_add_test (tc, test_enter_sends_and_shift_enter_does_not);
  tcase_add_test (tc, test_first_run_offers_the_catalog);
  tcase_add_test (tc, test_voice_button_listens_or_says_why);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  if (hk_test_skip_without_tiny_model ("test-gui"))
    return HK_TEST_SKIP;
  if (!g_getenv ("DISPLAY") && !g_getenv ("WAYLAND_DISPLAY"))
    {
      printf ("SKIP: test-gui needs a display: run it under xvfb-run (Debian packages xvfb, xauth)\n");
      return HK_TEST_SKIP;
    }
  return hk_daemon_run_suite (gui_suite ());
}
