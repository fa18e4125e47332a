/* hearken-recognizer.h — speech to text, one utterance at a time.
 *
 * The small interface the rest of Hearken sees of the recogniser (today
 * CMU PocketSphinx, hearken-recognizer-sphinx.c): start an utterance, feed
 * it 16 kHz mono samples, ask for the best guess so far, finish it.  A
 * better engine replaces the one .c file.  A recogniser is used by one
 * thread at a time.
 *
 * Two modes: dictation (the general English language model) and command
 * (a small model built from the sentences people say to an assistant,
 * data/voice/make-command-lm.py), which is far more accurate on those.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  HEARKEN_RECOGNIZER_COMMAND,
  HEARKEN_RECOGNIZER_DICTATION,
} HearkenRecognizerMode;

typedef struct _HearkenRecognizer HearkenRecognizer;

/* command_dir holds commands.lm and commands.dict (command mode only). */
HearkenRecognizer *hearken_recognizer_new       (HearkenRecognizerMode   mode,
                                                 const char             *command_dir,
                                                 GError                **error);
void               hearken_recognizer_free      (HearkenRecognizer      *self);

gboolean           hearken_recognizer_start     (HearkenRecognizer      *self,
                                                 GError                **error);
gboolean           hearken_recognizer_feed      (HearkenRecognizer      *self,
                                                 const gint16           *samples,
                                                 gsize                   n,
                                                 GError                **error);
/* Whether the recogniser hears speech in what it was fed last. */
gboolean           hearken_recognizer_in_speech (HearkenRecognizer      *self);
/* The best guess so far ("" before any word). */
char              *hearken_recognizer_partial   (HearkenRecognizer      *self);
/* Ends the utterance: its text ("" when no word was heard) and the
 * recogniser's confidence in it, 0 to 1. */
char              *hearken_recognizer_finish    (HearkenRecognizer      *self,
                                                 double                 *ret_confidence,
                                                 GError                **error);

/* A whole utterance at once: more accurate than feed and finish, since
 * the recogniser normalises the sound over all of it.  Same results as
 * finish; not while an utterance is being fed. */
char              *hearken_recognizer_decode    (HearkenRecognizer      *self,
                                                 const gint16           *samples,
                                                 gsize                   n,
                                                 double                 *ret_confidence,
                                                 GError                **error);

/* Whether the acoustic model is installed (pocketsphinx-en-us), with the
 * folder looked in for the message. */
gboolean           hearken_recognizer_models_installed (const char     **ret_where);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearkenRecognizer, hearken_recognizer_free)

G_END_DECLS
