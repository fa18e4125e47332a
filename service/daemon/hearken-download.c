/* hearken-download.c — one model download, on a worker thread. */
#include "hearken-download.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu/backend-cpu.h"
#include "gguf.h"
#include "hearken-error.h"
#include "model.h"

#define BUFFER_BYTES        (256 * 1024)
#define PROGRESS_INTERVAL_US (100 * 1000)
/* seconds without a byte before the transfer counts as cut */
#define IO_TIMEOUT_S        60

void
hearken_download_request_free (HearkenDownloadRequest *request)
{
  if (!request)
    return;
  g_free (request->url);
  g_free (request->folder);
  g_free (request->file);
  g_free (request->sha256);
  g_free (request);
}

/* What the worker needs; owned by the task. */
typedef struct {
  HearkenDownloadRequest  *request;
  HearkenDownloadProgress  progress;
  gpointer                 progress_data;
  GMainContext            *context;
  gint64                   last_progress_us;
} Download;

static void
download_free (Download *self)
{
  hearken_download_request_free (self->request);
  g_main_context_unref (self->context);
  g_free (self);
}

/* ─── progress, from the worker to the caller's context ─────────────── */

typedef struct {
  HearkenDownloadProgress  progress;
  gpointer                 data;
  guint64                  done;
  guint64                  total;
} ProgressReport;

static gboolean
report_cb (gpointer user_data)
{
  ProgressReport *report = user_data;

  report->progress (report->done, report->total, report->data);
  return G_SOURCE_REMOVE;
}

static void
report_progress (Download *self,
                 guint64   done,
                 guint64   total,
                 gboolean  force)
{
  gint64 now = g_get_monotonic_time ();
  ProgressReport *report;

  if (!self->progress || (!force && now - self->last_progress_us < PROGRESS_INTERVAL_US))
    return;
  self->last_progress_us = now;
  report = g_new (ProgressReport, 1);
  *report = (ProgressReport) { self->progress, self->progress_data, done, total };
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, report_cb, report, g_free);
}

/* ─── the transfer ───────────────────────────────────────────────────── */

static gboolean
write_all (int           fd,
           const guint8 *data,
           gsize         n,
           const char   *path,
           GError      **error)
{
  while (n > 0)
    {
      ssize_t written = write (fd, data, n);

      if (written < 0 && errno == EINTR)
        continue;
      if (written < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "Could not write %s: %s", path, g_strerror (saved));
          return FALSE;
        }
      data += written;
      n -= (gsize) written;
    }
  return TRUE;
}

/* The whole file's length from the answer, given where it starts;
 * 0 when the server does not say. */
static gboolean
answer_total (SoupMessage  *message,
              guint64      *offset,
              guint64      *ret_total,
              int           fd,
              const char   *url,
              GError      **error)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (message);
  guint status = soup_message_get_status (message);
  goffset start, end, total;

  if (status == SOUP_STATUS_PARTIAL_CONTENT &&
      soup_message_headers_get_content_range (headers, &start, &end, &total) &&
      (guint64) start == *offset)
    {
      *ret_total = total > 0 ? (guint64) total : 0;
      return TRUE;
    }
  if (status == SOUP_STATUS_OK || status == SOUP_STATUS_PARTIAL_CONTENT)
    {
      /* the server starts over: so do we */
      if (ftruncate (fd, 0) < 0 || lseek (fd, 0, SEEK_SET) < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "Could not restart the download: %s", g_strerror (saved));
          return FALSE;
        }
      *offset = 0;
      *ret_total = soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
                   ? (guint64) soup_message_headers_get_content_length (headers) : 0;
      return TRUE;
    }
  g_set_error (error, HEARKEN_ERROR,
               status == SOUP_STATUS_NOT_FOUND ? HEARKEN_ERROR_NOT_FOUND : HEARKEN_ERROR_NOT_AVAILABLE,
               "The server answered %u %s for %s", status,
               soup_message_get_reason_phrase (message), url);
  return FALSE;
}

static gboolean
check_total (const HearkenDownloadRequest  *request,
             guint64                        total,
             GError                       **error)
{
  if (total > request->max_size)
    {
      g_autofree char *limit = g_format_size (request->max_size);
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_TOO_LONG,
                   "%s is %" G_GUINT64_FORMAT " bytes; the limit is %s", request->url, total, limit);
      return FALSE;
    }
  return TRUE;
}

/* Copy the body into fd after offset bytes already there. */
static gboolean
receive (Download      *self,
         GInputStream  *body,
         int            fd,
         guint64        offset,
         guint64        total,
         const char    *part,
         GCancellable  *cancellable,
         GError       **error)
{
  const HearkenDownloadRequest *request = self->request;
  g_autofree guint8 *buffer = g_malloc (BUFFER_BYTES);
  guint64 done = offset;

  for (;;)
    {
      gssize n = g_input_stream_read (body, buffer, BUFFER_BYTES, cancellable, error);

      if (n < 0)
        {
          g_prefix_error (error, "The transfer of %s stopped at %" G_GUINT64_FORMAT " bytes "
                          "(PullModel again resumes it): ", request->url, done);
          return FALSE;
        }
      if (n == 0)
        break;
      done += (guint64) n;
      if (done > request->max_size)
        return check_total (request, done, error);
      if (!write_all (fd, buffer, (gsize) n, part, error))
        return FALSE;
      report_progress (self, done, total, FALSE);
    }
  if (total && done != total)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_AVAILABLE,
                   "The transfer of %s stopped at %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                   " bytes; PullModel again resumes it", request->url, done, total);
      return FALSE;
    }
  report_progress (self, done, total ? total : done, TRUE);
  return TRUE;
}

/* The sha256 a server gives as the ETag (Hugging Face does, for the large
 * files it stores), or NULL. */
static char *
server_sha256 (SoupMessage *message)
{
  const char *etag = soup_message_headers_get_one (soup_message_get_response_headers (message), "ETag");
  g_autofree char *value = NULL;

  if (!etag)
    return NULL;
  if (g_str_has_prefix (etag, "W/"))
    etag += 2;
  value = g_strdup (etag);
  g_strstrip (g_strdelimit (value, "\"", ' '));
  if (strlen (value) != 64)
    return NULL;
  for (const char *c = value; *c; c++)
    if (!g_ascii_isxdigit (*c))
      return NULL;
  return g_ascii_strdown (value, -1);
}

/* ret_sha256: what the server says the file's sha256 is, or NULL. */
static gboolean
fetch (Download      *self,
       const char    *part,
       char         **ret_sha256,
       GCancellable  *cancellable,
       GError       **error)
{
  const HearkenDownloadRequest *request = self->request;
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GInputStream) body = NULL;
  struct stat st;
  guint64 offset, total = 0;
  int fd;
  gboolean ok;

  fd = open (part, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not open %s: %s", part, g_strerror (saved));
      if (fd >= 0)
        close (fd);
      return FALSE;
    }
  offset = (guint64) st.st_size;

  message = soup_message_new (SOUP_METHOD_GET, request->url);
  if (!message)
    {
      close (fd);
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a URL hearkend can download", request->url);
      return FALSE;
    }
  if (offset > 0)
    soup_message_headers_set_range (soup_message_get_request_headers (message), (goffset) offset, -1);
  session = soup_session_new_with_options ("timeout", IO_TIMEOUT_S,
                                           "user-agent", "hearken/" HEARKEN_VERSION " ", NULL);

  body = soup_session_send (session, message, cancellable, error);
  ok = body != NULL;
  if (!ok)
    g_prefix_error (error, "Could not download %s: ", request->url);
  /* the part was already whole: nothing is left to send */
  else if (offset > 0 && soup_message_get_status (message) == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE)
    ok = TRUE;
  else
    ok = answer_total (message, &offset, &total, fd, request->url, error) &&
         check_total (request, total, error) &&
         receive (self, body, fd, offset, total, part, cancellable, error);
  if (ok)
    *ret_sha256 = server_sha256 (message);
  if (close (fd) < 0 && ok)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not write %s: %s", part, g_strerror (saved));
      ok = FALSE;
    }
  return ok;
}

/* ─── the checks ─────────────────────────────────────────────────────── */

static char *
file_sha256 (const char    *path,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) in = g_file_read (file, cancellable, error);
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buffer = g_malloc (BUFFER_BYTES);
  gssize n;

  if (!in)
    return NULL;
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buffer, BUFFER_BYTES, cancellable, error)) > 0)
    g_checksum_update (checksum, buffer, n);
  if (n < 0)
    return NULL;
  return g_strdup (g_checksum_get_string (checksum));
}

/* The engine loads it: a GGUF whose tensors fit the model's shape. */
static gboolean
check_loads (const char  *path,
             GError     **error)
{
  hk_error err = { 0 };
  hk_gguf *g = NULL;
  hk_backend *backend = NULL;
  hk_model *model = NULL;
  gboolean ok;

  ok = hk_gguf_open (path, &g, &err) == 0 &&
       hk_backend_cpu_new (1, &backend, &err) == 0 &&
       hk_model_load (g, backend, &model, &err) == 0;
  hk_model_free (model);
  hk_backend_free (backend);
  hk_gguf_close (g);
  if (!ok)
    g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_MODEL_LOAD,
                 "The downloaded file is not a model Hearken can load (%s); it was removed",
                 err.message);
  return ok;
}

/* expected: the sha256 of the catalog or of the server, or NULL. */
static gboolean
verify (const HearkenDownloadRequest  *request,
        const char                    *part,
        const char                    *expected,
        GCancellable                  *cancellable,
        GError                       **error)
{
  if (expected)
    {
      g_autofree char *sha256 = file_sha256 (part, cancellable, error);

      if (!sha256)
        return FALSE;
      if (!g_str_equal (sha256, expected))
        {
          g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_MODEL_LOAD,
                       "The download of %s is corrupted (sha256 %s, expected %s); it was removed",
                       request->url, sha256, expected);
          return FALSE;
        }
    }
  return check_loads (part, error);
}

static void
download_thread (GTask        *task,
                 gpointer      source,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  Download *self = task_data;
  const HearkenDownloadRequest *request = self->request;
  g_autofree char *path = g_build_filename (request->folder, request->file, NULL);
  g_autofree char *part = g_strconcat (path, ".part", NULL);
  g_autofree char *sha256_of_server = NULL;
  GError *error = NULL;

  if (g_mkdir_with_parents (request->folder, 0755) < 0)
    {
      int saved = errno;
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                               "Could not make the folder %s: %s", request->folder, g_strerror (saved));
      return;
    }
  if (!fetch (self, part, &sha256_of_server, cancellable, &error))
    {
      /* more of a file that is too long would not make it fit */
      if (g_error_matches (error, HEARKEN_ERROR, HEARKEN_ERROR_TOO_LONG))
        g_unlink (part);
      g_task_return_error (task, error);
      return;
    }
  if (!verify (request, part, request->sha256 ? request->sha256 : sha256_of_server,
               cancellable, &error))
    {
      g_unlink (part);
      g_task_return_error (task, error);
      return;
    }
  if (g_rename (part, path) < 0)
    {
      int saved = errno;
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                               "Could not move the download to %s: %s", path, g_strerror (saved));
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&path), g_free);
}

void
hearken_download_async (HearkenDownloadRequest  *request,
                        GCancellable            *cancellable,
                        HearkenDownloadProgress  progress,
                        gpointer                 progress_data,
                        GAsyncReadyCallback      callback,
                        gpointer                 user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Download *self = g_new0 (Download, 1);

  self->request = request;
  self->progress = progress;
  self->progress_data = progress_data;
  self->context = g_main_context_ref_thread_default ();
  g_task_set_source_tag (task, hearken_download_async);
  g_task_set_task_data (task, self, (GDestroyNotify) download_free);
  g_task_run_in_thread (task, download_thread);
}

char *
hearken_download_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
