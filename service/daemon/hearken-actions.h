/* hearken-actions.h — what hearkend does itself, without the language
 * model, when the intent model is sure what the person wants: tell the
 * time, the battery, the network; open an application; change the volume;
 * set a timer; lock the screen; find a file…
 *
 * Each action goes through the desktop's own interfaces (UPower,
 * NetworkManager, MPRIS, org.freedesktop.Notifications, the screenshot
 * portal, PipeWire's wpctl or PulseAudio's pactl) and falls back to /sys
 * and /proc where a service is missing.  The reply says what was done, or
 * plainly why it could not be done here.  In dry-run mode an action with
 * side effects says what it would do ("Would run: …") and does nothing;
 * one that only reads (time, battery, a file search) runs as usual.
 * Nothing blocks the main loop: D-Bus calls are asynchronous, reading the
 * disk happens on a worker thread.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define HEARKEN_TYPE_ACTIONS (hearken_actions_get_type ())

G_DECLARE_FINAL_TYPE (HearkenActions, hearken_actions, HEARKEN, ACTIONS, GObject)

HearkenActions *hearken_actions_new        (void);

/* Whether intent has an action (every intent of the model but "chat"). */
gboolean        hearken_actions_handles    (const char           *intent);

/* Whether HEARKEN_ACTIONS_DRY_RUN=1 puts every action in dry-run mode. */
gboolean        hearken_actions_dry_run_from_env (void);

/* Runs intent's action on text.  The result is the reply; the only error
 * is G_IO_ERROR_CANCELLED. */
void            hearken_actions_run_async  (HearkenActions       *self,
                                            const char           *intent,
                                            const char           *text,
                                            gboolean              dry_run,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
char           *hearken_actions_run_finish (HearkenActions       *self,
                                            GAsyncResult         *result,
                                            GError              **error);

G_END_DECLS
