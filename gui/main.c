/* hearken — the Hearken window. */
#include <glib/gi18n.h>
#include <locale.h>

#include "hearken-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(HearkenApplication) application = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  application = hearken_application_new ();
  return g_application_run (G_APPLICATION (application), argc, argv);
}
