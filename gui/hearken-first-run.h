/* hearken-first-run.h — the page shown while no model is installed: what
 * Hearken needs, and the catalog's models to download.  "model-ready" is
 * emitted once a downloaded model is loaded. */
#pragma once

#include <gtk/gtk.h>

#include "hearken-dbus.h"

G_BEGIN_DECLS

#define HEARKEN_TYPE_FIRST_RUN (hearken_first_run_get_type ())

G_DECLARE_FINAL_TYPE (HearkenFirstRun, hearken_first_run, HEARKEN, FIRST_RUN, GtkWidget)

void  hearken_first_run_set_proxy    (HearkenFirstRun       *self,
                                     HearkenDBusAssistant1 *proxy);
/* How many of the catalog's models the page offers. */
guint hearken_first_run_get_n_models (HearkenFirstRun       *self);

G_END_DECLS
