/* hearken-predictions.h — the top three intents of a message, each with a
 * confidence bar. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HEARKEN_TYPE_PREDICTIONS (hearken_predictions_get_type ())

G_DECLARE_FINAL_TYPE (HearkenPredictions, hearken_predictions, HEARKEN, PREDICTIONS, GtkWidget)

GtkWidget *hearken_predictions_new (void);
/* predictions: a(sd), most probable first, as Classify answers; the
 * widget hides itself when there are none. */
void       hearken_predictions_set (HearkenPredictions *self,
                                    GVariant           *predictions);
guint      hearken_predictions_get_n_shown (HearkenPredictions *self);

G_END_DECLS
