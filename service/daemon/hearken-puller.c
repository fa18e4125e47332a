/* hearken-puller.c — PullModel's jobs. */
#include "hearken-puller.h"

#include <gio/gio.h>
#include <string.h>

#include "hearken-catalog.h"
#include "hearken-download.h"
#include "hearken-error.h"
#include "hearken-limits.h"

struct _HearkenPuller
{
  GObject       parent_instance;

  char         *folder;
  guint64       last_job;
  /* file name → the job fetching it */
  GHashTable   *in_flight;
  GCancellable *cancellable;
};

enum {
  SIGNAL_PROGRESS,
  SIGNAL_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (HearkenPuller, hearken_puller, G_TYPE_OBJECT)

/* One download; lives until its end is reported. */
typedef struct {
  HearkenPuller *puller;
  guint64        id;
  char          *file;
} Job;

static void
job_free (Job *job)
{
  g_object_unref (job->puller);
  g_free (job->file);
  g_free (job);
}

/* Progress reports are queued before the download's result in the same
 * main context, so none comes after the job is freed. */
static void
progress_cb (guint64  done,
             guint64  total,
             gpointer user_data)
{
  Job *job = user_data;

  g_signal_emit (job->puller, signals[SIGNAL_PROGRESS], 0, job->id, done, total);
}

static void
download_done_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = hearken_download_finish (result, &error);

  g_hash_table_remove (job->puller->in_flight, job->file);
  if (error)
    g_debug ("Pull %" G_GUINT64_FORMAT " failed: %s", job->id, error->message);
  g_signal_emit (job->puller, signals[SIGNAL_FINISHED], 0, job->id,
                 path ? path : "", error ? error->message : "");
  job_free (job);
}

/* The name the file gets: the last part of the URL's path, a .gguf. */
static char *
file_name_of (const char  *url,
              GError     **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_autofree char *base = NULL;
  g_autofree char *name = NULL;

  if (uri)
    {
      base = g_path_get_basename (g_uri_get_path (uri));
      name = g_uri_unescape_string (base, "/");
    }
  if (!name || name[0] == '.' || !g_str_has_suffix (name, ".gguf") ||
      !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                   "“%s” is not the URL of a .gguf file", url);
      return NULL;
    }
  return g_steal_pointer (&name);
}

static gboolean
is_url (const char *text)
{
  return g_str_has_prefix (text, "https://") || g_str_has_prefix (text, "http://");
}

/* What to fetch for a catalog name or a URL. */
static HearkenDownloadRequest *
request_for (HearkenPuller  *self,
             const char     *name_or_url,
             GError        **error)
{
  g_autoptr(HearkenCatalog) catalog = hearken_catalog_load_default (error);
  g_autoptr(HearkenDownloadRequest) request = NULL;
  const HearkenCatalogEntry *entry;

  if (!catalog)
    return NULL;
  entry = hearken_catalog_lookup (catalog, name_or_url);
  if (!entry && !is_url (name_or_url))
    {
      g_autofree char *names = hearken_catalog_names (catalog);
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND,
                   "No model named “%s” in the catalog (%s); give the http(s) URL of a .gguf "
                   "file instead", name_or_url, *names ? names : "the catalog is not installed");
      return NULL;
    }
  request = g_new0 (HearkenDownloadRequest, 1);
  request->url = g_strdup (entry ? entry->url : name_or_url);
  if (!(request->file = file_name_of (request->url, error)))
    return NULL;
  request->folder = g_strdup (self->folder);
  /* catalog sizes are rounded: a tenth more is allowed */
  request->max_size = entry ? entry->size + entry->size / 10 : HEARKEN_MAX_DOWNLOAD_BYTES;
  request->sha256 = entry ? g_strdup (entry->sha256) : NULL;
  return g_steal_pointer (&request);
}

static gboolean
check_room (HearkenPuller  *self,
            const char     *file,
            GError        **error)
{
  gpointer job = g_hash_table_lookup (self->in_flight, file);

  if (job)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_BUSY,
                   "%s is already on its way (job %" G_GUINT64_FORMAT "); wait for its PullFinished",
                   file, *(guint64 *) job);
      return FALSE;
    }
  if (g_hash_table_size (self->in_flight) >= HEARKEN_MAX_PULLS)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_BUSY,
                   "%d downloads are running, the most at once; wait for one to finish",
                   HEARKEN_MAX_PULLS);
      return FALSE;
    }
  return TRUE;
}

gboolean
hearken_puller_start (HearkenPuller  *self,
                      const char     *name_or_url,
                      guint64        *ret_job,
                      GError        **error)
{
  g_autoptr(HearkenDownloadRequest) request = NULL;
  Job *job;

  g_return_val_if_fail (HEARKEN_IS_PULLER (self), FALSE);
  g_return_val_if_fail (name_or_url != NULL, FALSE);

  if (!*name_or_url || strlen (name_or_url) > HEARKEN_MAX_PATH_BYTES)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                   "Give the name of a catalog model or an http(s) URL of at most %d bytes",
                   HEARKEN_MAX_PATH_BYTES);
      return FALSE;
    }
  if (!(request = request_for (self, name_or_url, error)) || !check_room (self, request->file, error))
    return FALSE;

  job = g_new0 (Job, 1);
  job->puller = g_object_ref (self);
  job->id = ++self->last_job;
  job->file = g_strdup (request->file);
  g_hash_table_insert (self->in_flight, g_strdup (job->file), g_memdup2 (&job->id, sizeof job->id));
  hearken_download_async (g_steal_pointer (&request), self->cancellable, progress_cb, job,
                          download_done_cb, job);
  *ret_job = job->id;
  return TRUE;
}

static void
hearken_puller_dispose (GObject *object)
{
  HearkenPuller *self = HEARKEN_PULLER (object);

  g_cancellable_cancel (self->cancellable);
  G_OBJECT_CLASS (hearken_puller_parent_class)->dispose (object);
}

static void
hearken_puller_finalize (GObject *object)
{
  HearkenPuller *self = HEARKEN_PULLER (object);

  g_free (self->folder);
  g_hash_table_unref (self->in_flight);
  g_object_unref (self->cancellable);
  G_OBJECT_CLASS (hearken_puller_parent_class)->finalize (object);
}

static void
hearken_puller_class_init (HearkenPullerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hearken_puller_dispose;
  object_class->finalize = hearken_puller_finalize;

  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_UINT64, G_TYPE_UINT64, G_TYPE_UINT64);
  signals[SIGNAL_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_UINT64, G_TYPE_STRING, G_TYPE_STRING);
}

static void
hearken_puller_init (HearkenPuller *self)
{
  self->in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->cancellable = g_cancellable_new ();
}

HearkenPuller *
hearken_puller_new (const char *folder)
{
  HearkenPuller *self;

  g_return_val_if_fail (folder != NULL, NULL);

  self = g_object_new (HEARKEN_TYPE_PULLER, NULL);
  self->folder = g_strdup (folder);
  return self;
}
