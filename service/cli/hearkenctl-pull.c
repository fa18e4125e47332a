/* hearkenctl model pull: ask the service to download a model (PullModel)
 * and follow the job's Progress and PullFinished signals, with a
 * progress bar when standard error is a terminal. */
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hearkenctl.h"

#define BAR_WIDTH 30

typedef struct {
  HkctlContext *ctx;
  GMainLoop    *loop;
  guint64       job;
  gboolean      bar;        /* stderr is a terminal */
  gboolean      bar_drawn;
  int           status;
} Pull;

static void
draw_bar (Pull    *self,
          guint64  done,
          guint64  total)
{
  g_autofree char *done_text = g_format_size (done);
  g_autofree char *total_text = total ? g_format_size (total) : g_strdup ("?");
  int filled = total ? (int) (BAR_WIDTH * MIN (done, total) / total) : 0;
  char bar[BAR_WIDTH + 1];

  memset (bar, '#', filled);
  memset (bar + filled, '.', BAR_WIDTH - filled);
  bar[BAR_WIDTH] = '\0';
  fprintf (stderr, "\r[%s] %3d%%  %s / %s ", bar,
           total ? (int) (100 * MIN (done, total) / total) : 0, done_text, total_text);
  fflush (stderr);
  self->bar_drawn = TRUE;
}

static void
finished (Pull       *self,
          const char *path,
          const char *error)
{
  if (self->bar_drawn)
    fputc ('\n', stderr);
  if (*error)
    {
      g_printerr ("hearkenctl: %s\n", error);
      self->status = HKCTL_EXIT_ERROR;
    }
  else if (self->ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "job");
      json_builder_add_int_value (builder, (gint64) self->job);
      json_builder_set_member_name (builder, "path");
      json_builder_add_string_value (builder, path);
      json_builder_end_object (builder);
      hkctl_print_json (json_builder_get_root (builder));
    }
  else
    g_print ("%s\n", path);
  g_main_loop_quit (self->loop);
}

static void
signal_cb (GDBusConnection *connection,
           const char      *sender,
           const char      *object_path,
           const char      *interface,
           const char      *name,
           GVariant        *params,
           gpointer         user_data)
{
  Pull *self = user_data;
  guint64 job;

  g_variant_get_child (params, 0, "t", &job);
  if (job != self->job)
    return;
  if (g_str_equal (name, "Progress") && self->bar)
    {
      guint64 done, total;

      g_variant_get (params, "(ttt)", &job, &done, &total);
      draw_bar (self, done, total);
    }
  else if (g_str_equal (name, "PullFinished"))
    {
      const char *path, *error;

      g_variant_get (params, "(t&s&s)", &job, &path, &error);
      finished (self, path, error);
    }
}

static void
name_vanished_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  Pull *self = user_data;

  if (self->bar_drawn)
    fputc ('\n', stderr);
  g_printerr (_("hearkenctl: the service (%s) left the bus during the download\n"), HKCTL_BUS_NAME);
  self->status = HKCTL_EXIT_ERROR;
  g_main_loop_quit (self->loop);
}

/* The download goes on in the service; Ctrl-C only stops watching it. */
static gboolean
sigint_cb (gpointer user_data)
{
  Pull *self = user_data;

  if (self->bar_drawn)
    fputc ('\n', stderr);
  self->status = HKCTL_EXIT_ERROR;
  g_main_loop_quit (self->loop);
  return G_SOURCE_CONTINUE;
}

int
hkctl_model_pull (HkctlContext *ctx,
                  const char   *name_or_url)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  Pull self = { .ctx = ctx, .bar = isatty (STDERR_FILENO) && !ctx->json };
  guint subscriptions[2];
  guint watch_id, sigint_id;

  if (!hkctl_bus (ctx, &error))
    return hkctl_fail (error);
  /* subscribed first: the signals wait in the main context until the
   * loop runs, by when the job's number is known */
  subscriptions[0] = g_dbus_connection_signal_subscribe (ctx->bus, HKCTL_BUS_NAME, HKCTL_INTERFACE, "Progress",
                                                         HKCTL_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                         signal_cb, &self, NULL);
  subscriptions[1] = g_dbus_connection_signal_subscribe (ctx->bus, HKCTL_BUS_NAME, HKCTL_INTERFACE, "PullFinished",
                                                         HKCTL_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                         signal_cb, &self, NULL);
  reply = hkctl_call (ctx, "PullModel", g_variant_new ("(s)", name_or_url), G_VARIANT_TYPE ("(t)"), &error);
  if (!reply)
    {
      for (guint i = 0; i < G_N_ELEMENTS (subscriptions); i++)
        g_dbus_connection_signal_unsubscribe (ctx->bus, subscriptions[i]);
      return hkctl_fail (error);
    }
  g_variant_get (reply, "(t)", &self.job);

  self.loop = g_main_loop_new (NULL, FALSE);
  watch_id = g_bus_watch_name_on_connection (ctx->bus, HKCTL_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                             NULL, name_vanished_cb, &self, NULL);
  sigint_id = g_unix_signal_add (SIGINT, sigint_cb, &self);
  g_main_loop_run (self.loop);

  g_source_remove (sigint_id);
  g_bus_unwatch_name (watch_id);
  for (guint i = 0; i < G_N_ELEMENTS (subscriptions); i++)
    g_dbus_connection_signal_unsubscribe (ctx->bus, subscriptions[i]);
  g_main_loop_unref (self.loop);
  return self.status;
}
