/* hearken-actions-search.c — search_files: files under the home folder
 * whose name contains what the person asked for, on a worker thread,
 * bounded in time and in the entries it looks at. */
#include "hearken-actions-private.h"

#include <glib/gi18n.h>
#include <string.h>

#include "hearken-actions-slots.h"

/* A search ends at whichever comes first. */
#define SEARCH_MAX_SECONDS  3
#define SEARCH_MAX_ENTRIES  200000
#define SEARCH_MAX_MATCHES  5

typedef struct {
  char      *query;          /* casefolded */
  char      *home;
  GPtrArray *matches;        /* paths */
  guint      entries;
  gint64     deadline;
  gboolean   stopped;        /* by a bound, not by the end of the tree */
} Search;

static void
search_free (Search *search)
{
  g_free (search->query);
  g_free (search->home);
  g_ptr_array_unref (search->matches);
  g_free (search);
}

static gboolean
search_should_stop (Search       *search,
                    GCancellable *cancellable)
{
  if (search->matches->len >= SEARCH_MAX_MATCHES || g_cancellable_is_cancelled (cancellable))
    return TRUE;
  if (search->entries >= SEARCH_MAX_ENTRIES || g_get_monotonic_time () > search->deadline)
    search->stopped = TRUE;
  return search->stopped;
}

static gboolean
name_matches (const Search *search,
              const char   *name)
{
  g_autofree char *display = g_filename_display_name (name);
  g_autofree char *folded = g_utf8_casefold (display, -1);

  return strstr (folded, search->query) != NULL;
}

/* Breadth first, so the files nearest home come first; hidden folders
 * (caches, settings) and symbolic links are left out. */
static void
search_tree (Search       *search,
             GCancellable *cancellable)
{
  GQueue *folders = g_queue_new ();
  char *folder;

  g_queue_push_tail (folders, g_strdup (search->home));
  while ((folder = g_queue_pop_head (folders)))
    {
      g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
      const char *name;

      while (dir && !search_should_stop (search, cancellable) && (name = g_dir_read_name (dir)))
        {
          g_autofree char *path = NULL;

          search->entries++;
          if (name[0] == '.')
            continue;
          path = g_build_filename (folder, name, NULL);
          if (name_matches (search, name))
            g_ptr_array_add (search->matches, g_strdup (path));
          if (!g_file_test (path, G_FILE_TEST_IS_SYMLINK) && g_file_test (path, G_FILE_TEST_IS_DIR))
            g_queue_push_tail (folders, g_steal_pointer (&path));
        }
      g_free (folder);
      if (search_should_stop (search, cancellable))
        break;
    }
  g_queue_free_full (folders, g_free);
}

/* "~/Documents/report.pdf" */
static char *
home_relative (const Search *search,
               const char   *path)
{
  g_autofree char *display = g_filename_display_name (path);
  gsize home_len = strlen (search->home);

  if (g_str_has_prefix (path, search->home) && path[home_len] == G_DIR_SEPARATOR)
    return g_strconcat ("~", display + home_len, NULL);
  return g_steal_pointer (&display);
}

static char *
describe_matches (Search *search)
{
  g_autoptr(GString) list = g_string_new (NULL);

  if (search->matches->len == 0 && search->stopped)
    return g_strdup_printf (_("I found nothing named like “%s” in the first %u entries of "
                              "your home folder (I stop after %d seconds)."),
                            search->query, search->entries, SEARCH_MAX_SECONDS);
  if (search->matches->len == 0)
    return g_strdup_printf (_("Nothing in your home folder is named like “%s”."), search->query);
  for (guint i = 0; i < search->matches->len; i++)
    {
      g_autofree char *shown = home_relative (search, search->matches->pdata[i]);

      g_string_append_printf (list, "%s%s", i ? _(", ") : "", shown);
    }
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Found %u match for “%s”: %s.",
                                       "Found %u matches for “%s” (the first ones): %s.",
                                       search->matches->len),
                          search->matches->len, search->query, list->str);
}

static void
search_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Search *search = task_data;

  search->deadline = g_get_monotonic_time () + SEARCH_MAX_SECONDS * G_TIME_SPAN_SECOND;
  search_tree (search, cancellable);
  g_task_return_pointer (task, describe_matches (search), g_free);
}

void
hearken_action_search_files (HearkenActions *self,
                             GTask          *task,
                             const char     *text,
                             gboolean        dry_run)
{
  g_autofree char *name = hearken_slot_file_name (text);
  Search *search;

  if (!*name)
    {
      hearken_action_reply (task, "%s", _("Which file? Say, for example, “find the file "
                                          "named report”."));
      return;
    }
  search = g_new0 (Search, 1);
  search->query = g_utf8_casefold (name, -1);
  search->home = g_strdup (g_get_home_dir ());
  search->matches = g_ptr_array_new_with_free_func (g_free);
  g_task_set_task_data (task, search, (GDestroyNotify) search_free);
  g_task_run_in_thread (task, search_thread);
}
