/* The translations are complete: every message of the template
 * (po/hearken.pot) is translated, nothing is fuzzy, and msgfmt --check
 * accepts each catalogue (format strings match their originals). */
#include <glib.h>
#include <string.h>

#include "hk-check.h"

static char *source_root;
static char **languages;

static char *
po_path (const char *name)
{
  return g_build_filename (source_root, "po", name, NULL);
}

/* Runs argv; returns its exit status, with its stderr in *err. */
static int
run (const char *const *argv,
     char             **err)
{
  g_autoptr(GError) error = NULL;
  int status;

  ck_assert_msg (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               NULL, err, &status, &error),
                 "%s: %s", argv[0], error ? error->message : "");
  return g_spawn_check_wait_status (status, NULL) ? 0 : 1;
}

START_TEST (test_catalogue_is_complete)
{
  g_autofree char *file = g_strconcat (languages[_i], ".po", NULL);
  g_autofree char *po = po_path (file);
  g_autofree char *pot = po_path ("hearken.pot");
  g_autofree char *statistics = NULL;
  g_autofree char *missing = NULL;
  const char *msgfmt[] = { "msgfmt", "--check", "--statistics", "-o", "/dev/null", po, NULL };
  const char *msgcmp[] = { "msgcmp", po, pot, NULL };

  ck_assert_msg (run (msgfmt, &statistics) == 0, "msgfmt --check %s: %s", file, statistics);
  ck_assert_msg (strstr (statistics, "fuzzy") == NULL && strstr (statistics, "untranslated") == NULL,
                 "%s is not complete: %s", file, statistics);
  /* a message of the template missing from the catalogue, or left
   * untranslated there, fails msgcmp */
  ck_assert_msg (run (msgcmp, &missing) == 0, "%s lacks messages of hearken.pot:\n%s", file, missing);
}
END_TEST

static Suite *
translations_suite (void)
{
  Suite *suite = suite_create ("translations");
  TCase *tc = tcase_create ("catalogues");

  tcase_add_loop_test (tc, test_catalogue_is_complete, 0, g_strv_length (languages));
  suite_add_tcase (suite, tc);
  return suite;
}

/* The languages po/LINGUAS lists. */
static char **
read_linguas (void)
{
  g_autofree char *path = po_path ("LINGUAS");
  g_autofree char *text = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_strstrip (lines[i]);
      if (*lines[i] && *lines[i] != '#')
        g_strv_builder_add (builder, lines[i]);
    }
  return g_strv_builder_end (builder);
}

int
main (void)
{
  g_autofree char *msgfmt = g_find_program_in_path ("msgfmt");
  g_autofree char *msgcmp = g_find_program_in_path ("msgcmp");
  SRunner *runner;
  int failed;

  source_root = (char *) g_getenv ("HEARKEN_SOURCE_ROOT");
  if (!source_root)
    {
      fprintf (stderr, "HEARKEN_SOURCE_ROOT is not set (run the tests with meson test)\n");
      return EXIT_FAILURE;
    }
  if (!msgfmt || !msgcmp)
    {
      printf ("SKIP: test-translations needs msgfmt and msgcmp (Debian package gettext)\n");
      return HK_TEST_SKIP;
    }
  if (!(languages = read_linguas ()))
    {
      fprintf (stderr, "po/LINGUAS could not be read\n");
      return EXIT_FAILURE;
    }
  runner = srunner_create (translations_suite ());
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  g_strfreev (languages);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
