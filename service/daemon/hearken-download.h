/* hearken-download.h — one model download, on a worker thread.
 *
 * The file is fetched into <folder>/<file>.part, resuming what an
 * interrupted transfer left there (an HTTP Range request); when the last
 * byte is in, the sha256 is checked (the request's, else the one a server
 * gives as the ETag) and the engine must be
 * able to load the file, then it is renamed to <folder>/<file>.  A file
 * that fails a check is removed: resuming it would not mend it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  char    *url;
  char    *folder;
  char    *file;       /* the name it gets in folder */
  guint64  max_size;   /* a longer file is refused */
  char    *sha256;     /* lower-case hex, or NULL */
} HearkenDownloadRequest;

void hearken_download_request_free (HearkenDownloadRequest *request);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearkenDownloadRequest, hearken_download_request_free)

/* Called in the caller's main context, a few times a second at most. */
typedef void (*HearkenDownloadProgress) (guint64  done,
                                         guint64  total,
                                         gpointer user_data);

/* Takes request.  progress_data must live until the callback has run. */
void  hearken_download_async  (HearkenDownloadRequest  *request,
                               GCancellable            *cancellable,
                               HearkenDownloadProgress  progress,
                               gpointer                 progress_data,
                               GAsyncReadyCallback      callback,
                               gpointer                 user_data);
/* The model's path; errors are HEARKEN_ERROR (NOT_FOUND, NOT_AVAILABLE for
 * the network, TOO_LONG, MODEL_LOAD for a corrupted file). */
char *hearken_download_finish (GAsyncResult            *result,
                               GError                 **error);

G_END_DECLS
