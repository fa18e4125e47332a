/* hearken-intents.h — the intent model as hearkend serves it: classifying
 * text, learning from a person's corrections, going back to the shipped
 * model.
 *
 * The model is the person's own, $XDG_DATA_HOME/hearken/intents.gguf, once
 * they have corrected it; until then the shipped one (HEARKEN_INTENT_MODEL
 * for uninstalled runs and tests, else datadir/hearken/intents.gguf).  It
 * is loaded on first use.  Every job runs on one worker thread, in the
 * order asked, so a Classify after a correction sees the correction; the
 * main loop never waits for the model.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A correction: the text and the intent it should have had. */
typedef struct {
  const char *text;
  const char *intent;
} HearkenCorrection;

#define HEARKEN_TYPE_INTENTS (hearken_intents_get_type ())

G_DECLARE_FINAL_TYPE (HearkenIntents, hearken_intents, HEARKEN, INTENTS, GObject)

/* The shipped model at shipped_path, the person's at user_path. */
HearkenIntents *hearken_intents_new             (const char               *shipped_path,
                                                 const char               *user_path);
/* The paths above as hearkend finds them. */
HearkenIntents *hearken_intents_new_default     (void);

/* a(sd): every intent with its probability, most probable first.  Fails
 * with HEARKEN_ERROR_NOT_AVAILABLE, naming the files, when there is no
 * model; HEARKEN_ERROR_BUSY when too many jobs wait. */
void            hearken_intents_classify_async  (HearkenIntents           *self,
                                                 const char               *text,
                                                 GAsyncReadyCallback       callback,
                                                 gpointer                  user_data);
GVariant       *hearken_intents_classify_finish (HearkenIntents           *self,
                                                 GAsyncResult             *result,
                                                 GError                  **error);

/* Fine-tunes on the corrections (mixed with replayed training examples),
 * then, once the caller has its answer, saves the result atomically as the
 * person's model (before any later job runs).  The first is
 * the new one: an intent the model does not know there fails with
 * HEARKEN_ERROR_INVALID_ARGUMENT listing the ones it knows (the others
 * were checked before, or are left out).  HEARKEN_ERROR_NOT_AVAILABLE
 * when there is no model. */
void            hearken_intents_learn_async     (HearkenIntents           *self,
                                                 const HearkenCorrection  *corrections,
                                                 gsize                     n_corrections,
                                                 GAsyncReadyCallback       callback,
                                                 gpointer                  user_data);
gboolean        hearken_intents_learn_finish    (HearkenIntents           *self,
                                                 GAsyncResult             *result,
                                                 GError                  **error);

/* Removes the person's model: the shipped one serves from now on. */
void            hearken_intents_reset_async     (HearkenIntents           *self,
                                                 GAsyncReadyCallback       callback,
                                                 gpointer                  user_data);
gboolean        hearken_intents_reset_finish    (HearkenIntents           *self,
                                                 GAsyncResult             *result,
                                                 GError                  **error);

G_END_DECLS
