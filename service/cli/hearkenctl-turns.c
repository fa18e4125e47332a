/* hearkenctl ask and chat: turns of a conversation, their replies
 * streamed to standard output as the Delta signals arrive.
 *
 * A turn is StartConversation (once) then Send, which returns at once;
 * the reply comes as Delta signals and ends with Finished or Failed.
 * Ctrl-C cancels the turn in flight (Cancel) and waits for its end.
 */
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include "hearkenctl.h"

#define ASK_USAGE  N_("ask [--max-tokens N] [--temperature T] [--top-p P] [--seed N] [--system TEXT] TEXT")
#define CHAT_USAGE N_("chat [--max-tokens N] [--temperature T] [--top-p P] [--seed N] [--system TEXT]")

/* The options of ask and chat; -1 (or NULL) where not given. */
typedef struct {
  int     max_tokens;
  double  temperature;
  double  top_p;
  gint64  seed;
  char   *system;
} TurnOptions;

typedef struct {
  HkctlContext     *ctx;
  GMainLoop        *loop;
  gboolean          chat;        /* one line of stdin per turn, until EOF */
  char             *id;          /* the conversation */
  guint64           turn;
  gboolean          has_turn;
  gboolean          running;     /* a turn is in flight */
  gboolean          cancelling;
  guint             sends;       /* tells a late Send reply from the current one */
  gboolean          at_line_start;
  int               status;
  guint             subscriptions[3];
  guint             watch_id;
  gboolean          service_seen;
  guint             sigint_id;
  GDataInputStream *input;
} Stream;

/* ─── options ────────────────────────────────────────────────────────── */

static gboolean
parse_turn_options (int          *argc,
                    char       ***argv,
                    const char   *usage,
                    int           n_args_min,
                    int           n_args_max,
                    TurnOptions  *options)
{
  const GOptionEntry entries[] = {
    { "max-tokens", 'n', 0, G_OPTION_ARG_INT, &options->max_tokens, N_("Longest reply, in tokens"), "N" },
    { "temperature", 't', 0, G_OPTION_ARG_DOUBLE, &options->temperature, N_("Sampling temperature, 0 to 2"), "T" },
    { "top-p", 0, 0, G_OPTION_ARG_DOUBLE, &options->top_p, N_("Nucleus sampling threshold"), "P" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &options->seed, N_("Random seed"), "N" },
    { "system", 0, 0, G_OPTION_ARG_STRING, &options->system, N_("System prompt"), N_("TEXT") },
    { NULL }
  };

  *options = (TurnOptions) { .max_tokens = -1, .temperature = -1, .top_p = -1, .seed = -1 };
  if (!hkctl_parse (argc, argv, entries, usage, n_args_min, n_args_max))
    return FALSE;
  if (options->max_tokens < -1 || options->seed < -1)
    {
      hkctl_usage (usage, _("--max-tokens and --seed take a number, 0 or more"));
      return FALSE;
    }
  return TRUE;
}

/* The options dictionary of StartConversation; the service checks ranges. */
static GVariant *
options_variant (const TurnOptions *options)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  if (options->max_tokens >= 0)
    g_variant_builder_add (&builder, "{sv}", "max_tokens", g_variant_new_uint32 (options->max_tokens));
  if (options->temperature >= 0)
    g_variant_builder_add (&builder, "{sv}", "temperature", g_variant_new_double (options->temperature));
  if (options->top_p >= 0)
    g_variant_builder_add (&builder, "{sv}", "top_p", g_variant_new_double (options->top_p));
  if (options->seed >= 0)
    g_variant_builder_add (&builder, "{sv}", "seed", g_variant_new_uint64 (options->seed));
  if (options->system)
    g_variant_builder_add (&builder, "{sv}", "system", g_variant_new_string (options->system));
  return g_variant_builder_end (&builder);
}

/* ─── the end of a turn ──────────────────────────────────────────────── */

static void read_next_line (Stream *self);

static void
finish_line (Stream *self)
{
  if (!self->at_line_start)
    g_print ("\n");
  self->at_line_start = TRUE;
}

static void
end_turn (Stream *self,
          int     status)
{
  self->running = FALSE;
  self->has_turn = FALSE;
  self->cancelling = FALSE;
  if (status != HKCTL_EXIT_OK)
    self->status = status;
  if (self->chat)
    read_next_line (self);
  else
    g_main_loop_quit (self->loop);
}

static void
print_finished_json (Stream   *self,
                     guint64   turn,
                     GVariant *params)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GVariant) info = g_variant_get_child_value (params, 3);
  g_autofree char *text = NULL;
  const char *reply;

  g_variant_get_child (params, 2, "&s", &reply);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "conversation");
  json_builder_add_string_value (builder, self->id);
  json_builder_set_member_name (builder, "turn");
  json_builder_add_int_value (builder, (gint64) turn);
  json_builder_set_member_name (builder, "reply");
  json_builder_add_string_value (builder, reply);
  json_builder_set_member_name (builder, "info");
  json_builder_add_value (builder, hkctl_variant_to_json (info));
  json_builder_end_object (builder);

  if (self->chat)
    {
      /* one object per line: a stream a script reads line by line */
      g_autoptr(JsonNode) root = json_builder_get_root (builder);
      text = json_to_string (root, FALSE);
      g_print ("%s\n", text);
    }
  else
    hkctl_print_json (json_builder_get_root (builder));
}

/* ─── signals of the service ─────────────────────────────────────────── */

static void
delta (Stream   *self,
       GVariant *params)
{
  const char *text;

  if (self->ctx->json)
    return;
  g_variant_get_child (params, 2, "&s", &text);
  if (*text == '\0')
    return;
  fputs (text, stdout);
  fflush (stdout);
  self->at_line_start = text[strlen (text) - 1] == '\n';
}

static void
failed (Stream   *self,
        GVariant *params)
{
  const char *message;

  g_variant_get_child (params, 3, "&s", &message);
  finish_line (self);
  g_printerr ("hearkenctl: %s\n", message);
  end_turn (self, HKCTL_EXIT_ERROR);
}

static void
signal_cb (GDBusConnection *connection,
           const char      *sender,
           const char      *path,
           const char      *interface,
           const char      *name,
           GVariant        *params,
           gpointer         user_data)
{
  Stream *self = user_data;
  guint64 turn;

  /* the conversation is ours alone and has one turn at a time */
  if (!self->running)
    return;
  g_variant_get_child (params, 1, "t", &turn);
  self->turn = turn;
  self->has_turn = TRUE;
  if (g_str_equal (name, "Delta"))
    delta (self, params);
  else if (g_str_equal (name, "Finished"))
    {
      if (self->ctx->json)
        print_finished_json (self, turn, params);
      else
        finish_line (self);
      end_turn (self, HKCTL_EXIT_OK);
    }
  else if (g_str_equal (name, "Failed"))
    failed (self, params);
}

static void
subscribe (Stream *self)
{
  static const char *const names[] = { "Delta", "Finished", "Failed" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    self->subscriptions[i] =
      g_dbus_connection_signal_subscribe (self->ctx->bus, HKCTL_BUS_NAME, HKCTL_INTERFACE,
                                          names[i], HKCTL_PATH, self->id,
                                          G_DBUS_SIGNAL_FLAGS_NONE, signal_cb, self, NULL);
}

static void
name_appeared_cb (GDBusConnection *connection,
                  const char      *name,
                  const char      *owner,
                  gpointer         user_data)
{
  Stream *self = user_data;

  self->service_seen = TRUE;
}

/* Without this, a crashed service would leave us waiting forever. */
static void
name_vanished_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  Stream *self = user_data;

  if (!self->service_seen)
    return;
  finish_line (self);
  g_printerr (_("hearkenctl: the service (%s) left the bus in the middle of the conversation\n"),
              HKCTL_BUS_NAME);
  self->status = HKCTL_EXIT_ERROR;
  g_main_loop_quit (self->loop);
}

/* ─── Send and Cancel ────────────────────────────────────────────────── */

static void
cancel_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  /* a turn that ended meanwhile is no error; Failed says how it ended */
  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (!reply)
    g_debug ("Cancel: %s", error->message);
}

static void
cancel_turn (Stream *self)
{
  self->cancelling = TRUE;
  if (!self->has_turn)
    return;   /* sent when Send answers */
  g_dbus_connection_call (self->ctx->bus, HKCTL_BUS_NAME, HKCTL_PATH, HKCTL_INTERFACE, "Cancel",
                          g_variant_new ("(t)", self->turn), NULL, G_DBUS_CALL_FLAGS_NONE,
                          -1, NULL, cancel_cb, self);
}

/* One Send call: which one it was, so a late reply is not taken for the
 * current turn's. */
typedef struct {
  Stream *stream;
  guint   send;
} SendCall;

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autofree SendCall *call = user_data;
  Stream *self = call->stream;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (!self->running || call->send != self->sends)
    return;
  if (!reply)
    {
      end_turn (self, hkctl_fail (error));
      return;
    }
  g_variant_get (reply, "(t)", &self->turn);
  self->has_turn = TRUE;
  if (self->cancelling)
    cancel_turn (self);
}

static void
send_text (Stream     *self,
           const char *text)
{
  SendCall *call = g_new (SendCall, 1);

  self->running = TRUE;
  self->has_turn = FALSE;
  self->at_line_start = TRUE;
  self->sends++;
  *call = (SendCall) { self, self->sends };
  g_dbus_connection_call (self->ctx->bus, HKCTL_BUS_NAME, HKCTL_PATH, HKCTL_INTERFACE, "Send",
                          g_variant_new ("(ss@a{sv})", self->id, text,
                                         g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
                          G_VARIANT_TYPE ("(t)"), G_DBUS_CALL_FLAGS_NONE, G_MAXINT, NULL,
                          send_cb, call);
}

/* The turn in flight is cancelled; a second Ctrl-C, or one between the
 * turns of a chat, leaves at once. */
static gboolean
sigint_cb (gpointer user_data)
{
  Stream *self = user_data;

  self->status = HKCTL_EXIT_ERROR;
  if (self->running && !self->cancelling)
    {
      cancel_turn (self);
      return G_SOURCE_CONTINUE;
    }
  finish_line (self);
  g_main_loop_quit (self->loop);
  return G_SOURCE_CONTINUE;
}

/* ─── chat's input ───────────────────────────────────────────────────── */

static void
line_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Stream *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (self->input, result, NULL, &error);

  if (!line)
    {
      if (error)
        self->status = hkctl_fail (error);
      finish_line (self);
      g_main_loop_quit (self->loop);
      return;
    }
  g_strstrip (line);
  if (*line == '\0')
    {
      read_next_line (self);
      return;
    }
  send_text (self, line);
}

static void
read_next_line (Stream *self)
{
  if (isatty (STDIN_FILENO) && !self->ctx->json)
    {
      g_print ("> ");
      self->at_line_start = FALSE;
    }
  g_data_input_stream_read_line_async (self->input, G_PRIORITY_DEFAULT, NULL, line_cb, self);
}

/* ─── ask and chat ───────────────────────────────────────────────────── */

static int
start_conversation (Stream            *self,
                    const TurnOptions *options)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = hkctl_call (self->ctx, "StartConversation", g_variant_new_tuple ((GVariant *[]) { options_variant (options) }, 1),
                      G_VARIANT_TYPE ("(s)"), &error);
  if (!reply)
    return hkctl_fail (error);
  g_variant_get (reply, "(s)", &self->id);
  subscribe (self);
  self->watch_id = g_bus_watch_name_on_connection (self->ctx->bus, HKCTL_BUS_NAME,
                                                   G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                   name_appeared_cb, name_vanished_cb,
                                                   self, NULL);
  self->sigint_id = g_unix_signal_add (SIGINT, sigint_cb, self);
  return HKCTL_EXIT_OK;
}

static void
stream_clear (Stream *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (self->subscriptions); i++)
    if (self->subscriptions[i])
      g_dbus_connection_signal_unsubscribe (self->ctx->bus, self->subscriptions[i]);
  g_clear_handle_id (&self->watch_id, g_bus_unwatch_name);
  g_clear_handle_id (&self->sigint_id, g_source_remove);
  g_clear_object (&self->input);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->id, g_free);
}

static int
run_stream (HkctlContext      *ctx,
            const TurnOptions *options,
            const char        *text)
{
  Stream self = { .ctx = ctx, .chat = text == NULL, .at_line_start = TRUE };
  int status = start_conversation (&self, options);

  if (status != HKCTL_EXIT_OK)
    {
      stream_clear (&self);
      return status;
    }
  self.loop = g_main_loop_new (NULL, FALSE);
  if (self.chat)
    {
      g_autoptr(GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
      self.input = g_data_input_stream_new (in);
      read_next_line (&self);
    }
  else
    send_text (&self, text);
  g_main_loop_run (self.loop);
  status = self.status;
  stream_clear (&self);
  return status;
}

int
hkctl_ask (HkctlContext  *ctx,
           int            argc,
           char         **argv)
{
  TurnOptions options;
  g_autofree char *text = NULL;
  int status;

  if (!parse_turn_options (&argc, &argv, _(ASK_USAGE), 1, -1, &options))
    return HKCTL_EXIT_USAGE;
  /* ask what is a cat: the words make the question */
  text = g_strjoinv (" ", argv + 1);
  if (*g_strstrip (text) == '\0')
    {
      g_free (options.system);
      return hkctl_usage (_(ASK_USAGE), _("the question is empty"));
    }
  status = run_stream (ctx, &options, text);
  g_free (options.system);
  return status;
}

int
hkctl_chat (HkctlContext  *ctx,
            int            argc,
            char         **argv)
{
  TurnOptions options;
  int status;

  if (!parse_turn_options (&argc, &argv, _(CHAT_USAGE), 0, 0, &options))
    return HKCTL_EXIT_USAGE;
  status = run_stream (ctx, &options, NULL);
  g_free (options.system);
  return status;
}
