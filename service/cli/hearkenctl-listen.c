/* hearkenctl listen: StartListening, then the partial guesses and the
 * transcripts as they come, until the first utterance ends (or, with
 * --continuous, until Ctrl-C), then StopListening. */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hearkenctl.h"

#define LISTEN_USAGE N_("listen [--dictation] [--silence MS] [--continuous] [--file FILE]")
#define MICROPHONES_USAGE "microphones"

typedef struct {
  HkctlContext *ctx;
  GMainLoop    *loop;
  gboolean      continuous;
  gboolean      partial_shown;  /* a partial line waits to be overwritten */
  GString      *printed;        /* the transcripts printed so far */
  guint         subscriptions[3];
  guint         sigint_id;
  gboolean      stopping;
  int           status;
} Listen;

static void
print_json_line (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = json_to_string (root, FALSE);

  g_print ("%s\n", text);
}

static void
print_event (Listen     *self,
             const char *kind,
             const char *text,
             double      confidence)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, kind);
  json_builder_add_string_value (builder, text);
  if (confidence >= 0)
    {
      json_builder_set_member_name (builder, "confidence");
      json_builder_add_double_value (builder, confidence);
    }
  json_builder_end_object (builder);
  print_json_line (builder);
}

/* On a terminal the guess is shown on one line that the next replaces. */
static void
show_partial (Listen     *self,
              const char *text)
{
  if (self->ctx->json)
    {
      print_event (self, "partial", text, -1);
      return;
    }
  if (!isatty (STDOUT_FILENO))
    return;
  g_print ("\r\033[K… %s", text);
  self->partial_shown = TRUE;
}

static void
show_transcript (Listen     *self,
                 const char *text,
                 double      confidence)
{
  if (self->printed->len > 0)
    g_string_append_c (self->printed, ' ');
  g_string_append (self->printed, text);
  if (self->ctx->json)
    {
      print_event (self, "transcript", text, confidence);
      return;
    }
  if (self->partial_shown)
    g_print ("\r\033[K");
  self->partial_shown = FALSE;
  g_print ("%s\n", text);
}

static void
stop_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Listen *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                            result, &error);
  g_autofree char *remote = error ? g_dbus_error_get_remote_error (error) : NULL;
  const char *text;

  if (reply)
    {
      /* the utterance cut short by the stop has no Transcript signal */
      g_variant_get (reply, "(&s)", &text);
      if (strlen (text) > self->printed->len)
        {
          g_autofree char *rest = g_strstrip (g_strdup (text + self->printed->len));
          show_transcript (self, rest, -1);
        }
    }
  /* InvalidArgument: the session had ended already (the recording's end) */
  else if (g_strcmp0 (remote, "org.hearken.Error.InvalidArgument") != 0)
    self->status = hkctl_fail (error);
  if (self->partial_shown)
    g_print ("\n");
  g_main_loop_quit (self->loop);
}

static void
stop_listening (Listen *self)
{
  if (self->stopping)
    return;
  self->stopping = TRUE;
  g_dbus_connection_call (self->ctx->bus, HKCTL_BUS_NAME, HKCTL_PATH, HKCTL_INTERFACE,
                          "StopListening", NULL, G_VARIANT_TYPE ("(s)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, stop_done_cb, self);
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
  Listen *self = user_data;
  const char *text;
  double confidence;
  gboolean listening;

  if (g_str_equal (name, "Partial"))
    {
      g_variant_get (params, "(&s)", &text);
      show_partial (self, text);
    }
  else if (g_str_equal (name, "Transcript"))
    {
      g_variant_get (params, "(&sd)", &text, &confidence);
      show_transcript (self, text, confidence);
      if (!self->continuous)
        stop_listening (self);
    }
  else if (g_str_equal (name, "Listening"))
    {
      /* ended by the service: the recording's end, or the microphone
       * gone (StopListening says which) */
      g_variant_get (params, "(b)", &listening);
      if (!listening)
        stop_listening (self);
    }
}

static gboolean
sigint_cb (gpointer user_data)
{
  stop_listening (user_data);
  return G_SOURCE_CONTINUE;
}

static void
subscribe (Listen *self)
{
  static const char *const names[] = { "Partial", "Transcript", "Listening" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    self->subscriptions[i] =
      g_dbus_connection_signal_subscribe (self->ctx->bus, HKCTL_BUS_NAME, HKCTL_INTERFACE,
                                          names[i], HKCTL_PATH, NULL,
                                          G_DBUS_SIGNAL_FLAGS_NONE, signal_cb, self, NULL);
}

static GVariant *
listen_options (gboolean    dictation,
                int         silence_ms,
                const char *file)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  if (dictation)
    g_variant_dict_insert (&dict, "mode", "s", "dictation");
  if (silence_ms > 0)
    g_variant_dict_insert (&dict, "silence_ms", "u", (guint32) silence_ms);
  if (file)
    {
      /* the service resolves paths in its own folder, not ours */
      g_autofree char *path = g_canonicalize_filename (file, NULL);
      g_variant_dict_insert (&dict, "file", "s", path);
    }
  return g_variant_dict_end (&dict);
}

int
hkctl_listen (HkctlContext  *ctx,
              int            argc,
              char         **argv)
{
  gboolean dictation = FALSE, continuous = FALSE;
  int silence_ms = 0;
  g_autofree char *file = NULL;
  const GOptionEntry entries[] = {
    { "dictation", 0, 0, G_OPTION_ARG_NONE, &dictation, N_("any words, not only commands"), NULL },
    { "silence", 0, 0, G_OPTION_ARG_INT, &silence_ms, N_("the pause that ends an utterance"), N_("MS") },
    { "continuous", 0, 0, G_OPTION_ARG_NONE, &continuous, N_("go on after the first utterance, until Ctrl-C"), NULL },
    { "file", 0, 0, G_OPTION_ARG_FILENAME, &file, N_("listen to a recording instead of the microphone"), N_("FILE") },
    { NULL }
  };
  Listen self = { .ctx = ctx };
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  if (!hkctl_parse (&argc, &argv, entries, _(LISTEN_USAGE), 0, 0))
    return HKCTL_EXIT_USAGE;
  if (!hkctl_bus (ctx, &error))
    return hkctl_fail (error);
  self.continuous = continuous;
  self.printed = g_string_new (NULL);
  self.loop = g_main_loop_new (NULL, FALSE);
  subscribe (&self);
  reply = hkctl_call (ctx, "StartListening",
                      g_variant_new_tuple ((GVariant *[]) { listen_options (dictation, silence_ms, file) }, 1),
                      NULL, &error);
  if (!reply)
    self.status = hkctl_fail (error);
  else
    {
      if (!ctx->json && isatty (STDERR_FILENO))
        g_printerr (continuous ? _("Listening; Ctrl-C stops.\n") : _("Listening…\n"));
      self.sigint_id = g_unix_signal_add (SIGINT, sigint_cb, &self);
      g_main_loop_run (self.loop);
    }
  for (guint i = 0; i < G_N_ELEMENTS (self.subscriptions); i++)
    g_dbus_connection_signal_unsubscribe (ctx->bus, self.subscriptions[i]);
  g_clear_handle_id (&self.sigint_id, g_source_remove);
  g_main_loop_unref (self.loop);
  g_string_free (self.printed, TRUE);
  return self.status;
}

int
hkctl_microphones (HkctlContext  *ctx,
                   int            argc,
                   char         **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree const char **names = NULL;

  if (!hkctl_parse (&argc, &argv, NULL, MICROPHONES_USAGE, 0, 0))
    return HKCTL_EXIT_USAGE;
  if (!(reply = hkctl_call (ctx, "ListAudioDevices", NULL, G_VARIANT_TYPE ("(as)"), &error)))
    return hkctl_fail (error);
  g_variant_get (reply, "(^a&s)", &names);
  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "microphones");
      json_builder_begin_array (builder);
      for (gsize i = 0; names[i]; i++)
        json_builder_add_string_value (builder, names[i]);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      hkctl_print_json (json_builder_get_root (builder));
      return HKCTL_EXIT_OK;
    }
  if (!names[0])
    g_print ("%s\n", _("No microphone: connect one, or check that the audio system sees it."));
  for (gsize i = 0; names[i]; i++)
    g_print ("%s\n", names[i]);
  return HKCTL_EXIT_OK;
}
