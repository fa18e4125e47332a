/* hearkend — the Hearken assistant service on the session bus. */
#include <glib/gi18n.h>
#include <locale.h>
#include <stdlib.h>

#include "hearken-daemon.h"
#include "hearken-launcher.h"
#include "hearken-sandbox.h"

/* Both need a process with one thread: before the daemon starts any. */
static gboolean
confine (GError **error)
{
  return hearken_launcher_start (error) && hearken_sandbox_confine (error);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HearkenDaemon) daemon = NULL;
  gboolean verbose = FALSE;
  gboolean replace = FALSE;
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log what the service does", NULL },
    { "replace", 'r', 0, G_OPTION_ARG_NONE, &replace, "Take over from a running hearkend", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  /* replies of the actions are in the person's language */
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, "The Hearken assistant service (org.hearken.Assistant1).");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("hearkend: %s\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr ("hearkend: unexpected argument “%s”\n", argv[1]);
      return 2;
    }
  if (version)
    {
      g_print ("hearkend %s\n", HEARKEN_VERSION);
      return EXIT_SUCCESS;
    }
  if (verbose)
    g_log_set_debug_enabled (TRUE);

  if (!confine (&error))
    {
      g_printerr ("hearkend: %s\n", error->message);
      return EXIT_FAILURE;
    }
  daemon = hearken_daemon_new (replace);
  return hearken_daemon_run (daemon);
}
