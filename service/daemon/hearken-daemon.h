/* hearken-daemon.h — the hearkend process: owns every piece of state, the
 * bus name org.hearken.Assistant1 and the object /org/hearken/Assistant1,
 * and runs until SIGTERM, SIGINT or the loss of its name.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define HEARKEN_TYPE_DAEMON (hearken_daemon_get_type ())

G_DECLARE_FINAL_TYPE (HearkenDaemon, hearken_daemon, HEARKEN, DAEMON, GObject)

/* replace: take the name from a running hearkend. */
HearkenDaemon *hearken_daemon_new (gboolean       replace);

/* Runs the service; returns the process's exit status. */
int            hearken_daemon_run (HearkenDaemon *self);

G_END_DECLS
