/* hearken-model-import.c — a chosen model file, linked or copied into the
 * models folder on a worker thread (a copy of gigabytes takes a while). */
#include "hearken-model-import.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  GFile *file;
  char  *folder;
} Import;

static void
import_free (Import *import)
{
  g_object_unref (import->file);
  g_free (import->folder);
  g_free (import);
}

char *
hearken_model_import_folder (void)
{
  return g_build_filename (g_get_user_data_dir (), "hearken", "models", NULL);
}

static gboolean
same_file (const char *a,
           const char *b)
{
  struct stat sa, sb;

  return g_stat (a, &sa) == 0 && g_stat (b, &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* folder/NAME.gguf, or NAME-2.gguf, … : the first name not taken by
 * another file; *already set when source itself is there. */
static char *
free_name (const char *folder,
           const char *source,
           gboolean   *already)
{
  g_autofree char *base = g_path_get_basename (source);
  g_autofree char *stem = g_str_has_suffix (base, ".gguf")
                          ? g_strndup (base, strlen (base) - strlen (".gguf")) : g_strdup (base);

  *already = FALSE;
  for (guint n = 1; n < 1000; n++)
    {
      g_autofree char *name = n == 1 ? g_strconcat (stem, ".gguf", NULL)
                                     : g_strdup_printf ("%s-%u.gguf", stem, n);
      g_autofree char *path = g_build_filename (folder, name, NULL);

      if (same_file (source, path))
        *already = TRUE;
      if (*already || !g_file_test (path, G_FILE_TEST_EXISTS))
        return g_steal_pointer (&path);
    }
  return NULL;
}

/* A copy lands under a temporary name first: hearkend lists the folder,
 * and must not see half a model. */
static gboolean
copy_into (GFile         *source,
           const char    *target,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autofree char *partial = g_strconcat (target, ".part", NULL);
  g_autoptr(GFile) partial_file = g_file_new_for_path (partial);
  g_autoptr(GFile) target_file = g_file_new_for_path (target);

  if (!g_file_copy (source, partial_file, G_FILE_COPY_OVERWRITE, cancellable, NULL, NULL, error))
    {
      g_unlink (partial);
      return FALSE;
    }
  if (!g_file_move (partial_file, target_file, G_FILE_COPY_NONE, cancellable, NULL, NULL, error))
    {
      g_unlink (partial);
      return FALSE;
    }
  return TRUE;
}

/* hearkend reads the system's model folders as they are. */
static gboolean
in_system_folder (const char *source)
{
  const char * const *dirs = g_get_system_data_dirs ();

  for (gsize i = 0; dirs[i]; i++)
    {
      g_autofree char *folder = g_build_filename (dirs[i], "hearken", "models", G_DIR_SEPARATOR_S,
                                                  NULL);

      if (g_str_has_prefix (source, folder))
        return TRUE;
    }
  return FALSE;
}

static void
import_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Import *import = task_data;
  g_autofree char *source = g_file_get_path (import->file);
  g_autofree char *target = NULL;
  GError *error = NULL;
  gboolean already;

  if (!source)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("The model must be a local file"));
      return;
    }
  if (in_system_folder (source))
    {
      g_task_return_pointer (task, g_steal_pointer (&source), g_free);
      return;
    }
  if (g_mkdir_with_parents (import->folder, 0700) != 0)
    {
      int saved = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                               _("Could not create %s: %s"), import->folder, g_strerror (saved));
      return;
    }
  if (!(target = free_name (import->folder, source, &already)))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_EXISTS,
                               _("%s holds too many models of that name"), import->folder);
      return;
    }
  if (!already && link (source, target) != 0 &&
      !copy_into (import->file, target, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&target), g_free);
}

void
hearken_model_import_async (GFile               *file,
                            const char          *folder,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Import *import = g_new0 (Import, 1);

  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (folder != NULL);

  import->file = g_object_ref (file);
  import->folder = g_strdup (folder);
  g_task_set_source_tag (task, hearken_model_import_async);
  g_task_set_task_data (task, import, (GDestroyNotify) import_free);
  g_task_run_in_thread (task, import_thread);
}

char *
hearken_model_import_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
