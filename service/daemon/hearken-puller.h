/* hearken-puller.h — PullModel's jobs: a catalog name or a URL becomes a
 * download into the user's model folder, with a job number the Progress
 * and PullFinished signals carry.
 *
 * Signals, in the main context:
 *   progress (guint64 job, guint64 done, guint64 total)   total 0: unknown
 *   finished (guint64 job, const char *path, const char *error)
 *            path "" on failure, error "" on success
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define HEARKEN_TYPE_PULLER (hearken_puller_get_type ())

G_DECLARE_FINAL_TYPE (HearkenPuller, hearken_puller, HEARKEN, PULLER, GObject)

/* folder: where models land ($XDG_DATA_HOME/hearken/models). */
HearkenPuller *hearken_puller_new   (const char     *folder);

/* Errors: HEARKEN_ERROR_INVALID_ARGUMENT, _NOT_FOUND (not in the
 * catalog), _BUSY (that file is on its way, or too many downloads). */
gboolean       hearken_puller_start (HearkenPuller  *self,
                                     const char     *name_or_url,
                                     guint64        *ret_job,
                                     GError        **error);

G_END_DECLS
