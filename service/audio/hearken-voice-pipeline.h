/* hearken-voice-pipeline.h — from 16 kHz samples to transcripts.
 *
 * Feeds the audio to the voice activity detector and (live) the
 * recogniser side by side and reports, through callbacks in the feeding
 * thread: the level (10 times a second), the best guess while someone
 * speaks, and each utterance's transcript when its silence ends it.  The
 * transcript is a second pass over the whole utterance, which beats the
 * running guess: the recogniser normalises the sound over all of it.  In command mode, an
 * utterance the command model is unsure of is decoded again with the
 * dictation model, so words outside the commands still come through.
 */
#pragma once

#include "hearken-recognizer.h"

G_BEGIN_DECLS

/* The longest utterance: after it, the transcript comes whatever the VAD says. */
#define HEARKEN_VOICE_MAX_UTTERANCE_SECONDS 30

typedef struct {
  void (*level)      (double      level,
                      gpointer    user_data);
  void (*partial)    (const char *text,
                      gpointer    user_data);
  /* text is never empty */
  void (*transcript) (const char *text,
                      double      confidence,
                      gpointer    user_data);
} HearkenVoiceCallbacks;

typedef struct {
  HearkenRecognizerMode  mode;
  const char            *command_dir;     /* commands.lm, commands.dict */
  guint                  end_silence_ms;  /* silence that ends an utterance */
  /* Live audio: the recogniser follows as it comes, for partial guesses
   * and its in-speech flag.  Off for files, which only need the final
   * transcripts: each utterance is decoded once, whole. */
  gboolean               live;
} HearkenVoiceConfig;

typedef struct _HearkenVoicePipeline HearkenVoicePipeline;

HearkenVoicePipeline *hearken_voice_pipeline_new    (const HearkenVoiceConfig     *config,
                                                     const HearkenVoiceCallbacks  *callbacks,
                                                     gpointer                      user_data,
                                                     GError                      **error);
void                  hearken_voice_pipeline_free   (HearkenVoicePipeline         *self);

gboolean              hearken_voice_pipeline_feed   (HearkenVoicePipeline         *self,
                                                     const gint16                 *samples,
                                                     gsize                         n,
                                                     GError                      **error);
/* The audio has ended: the utterance in progress, if any, gets its
 * transcript. */
gboolean              hearken_voice_pipeline_finish (HearkenVoicePipeline         *self,
                                                     GError                      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearkenVoicePipeline, hearken_voice_pipeline_free)

G_END_DECLS
