/* hearken-voice-pipeline.c — VAD and recogniser side by side. */
#include "hearken-voice-pipeline.h"

#include <string.h>

#include "hearken-audio-file.h"
#include "hearken-vad.h"

/* Frames (20 ms) between Level reports and between partial guesses. */
#define LEVEL_EVERY_FRAMES   5
#define PARTIAL_EVERY_FRAMES 10
/* Below this confidence, a command-mode utterance is decoded again by
 * dictation. */
#define FALLBACK_CONFIDENCE  0.0005
/* Audio kept before an utterance starts, so its first sound is decoded. */
#define PREROLL_SAMPLES      (HEARKEN_AUDIO_RATE / 2)
/* Without an utterance, audio older than the pre-roll goes after this much. */
#define IDLE_TRIM_SAMPLES    (5 * HEARKEN_AUDIO_RATE)
#define MAX_UTTERANCE_SAMPLES (HEARKEN_VOICE_MAX_UTTERANCE_SECONDS * HEARKEN_AUDIO_RATE)

struct _HearkenVoicePipeline
{
  HearkenVoiceConfig     config;
  char                  *command_dir;
  HearkenVoiceCallbacks  callbacks;
  gpointer               user_data;

  HearkenRecognizer     *recognizer;
  HearkenRecognizer     *fallback;        /* dictation, made when first needed */
  HearkenVad            *vad;
  gboolean               in_utterance;

  gint16                 frame[HEARKEN_VAD_FRAME];
  gsize                  frame_fill;
  GArray                *heard;           /* gint16: the utterance with its pre-roll */
  guint                  frames_seen;
  double                 level_max;
  char                  *last_partial;
};

HearkenVoicePipeline *
hearken_voice_pipeline_new (const HearkenVoiceConfig     *config,
                            const HearkenVoiceCallbacks  *callbacks,
                            gpointer                      user_data,
                            GError                      **error)
{
  g_autoptr(HearkenVoicePipeline) self = g_new0 (HearkenVoicePipeline, 1);

  self->config = *config;
  self->command_dir = g_strdup (config->command_dir);
  self->config.command_dir = self->command_dir;
  self->callbacks = *callbacks;
  self->user_data = user_data;
  self->vad = hearken_vad_new (config->end_silence_ms);
  self->heard = g_array_new (FALSE, FALSE, sizeof (gint16));
  self->last_partial = g_strdup ("");
  self->recognizer = hearken_recognizer_new (config->mode, self->command_dir, error);
  if (!self->recognizer)
    return NULL;
  if (config->live && !hearken_recognizer_start (self->recognizer, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
hearken_voice_pipeline_free (HearkenVoicePipeline *self)
{
  if (!self)
    return;
  g_clear_pointer (&self->recognizer, hearken_recognizer_free);
  g_clear_pointer (&self->fallback, hearken_recognizer_free);
  g_clear_pointer (&self->vad, hearken_vad_free);
  g_clear_pointer (&self->heard, g_array_unref);
  g_free (self->last_partial);
  g_free (self->command_dir);
  g_free (self);
}

/* Keeps the last keep samples heard; live, the recogniser starts over
 * with them. */
static gboolean
keep_last (HearkenVoicePipeline  *self,
           gsize                  keep,
           GError               **error)
{
  keep = MIN (keep, self->heard->len);
  g_array_remove_range (self->heard, 0, self->heard->len - keep);
  if (!self->config.live)
    return TRUE;
  return hearken_recognizer_start (self->recognizer, error) &&
         hearken_recognizer_feed (self->recognizer, (const gint16 *) self->heard->data,
                                  self->heard->len, error);
}

static char *
decode_heard (HearkenVoicePipeline  *self,
              HearkenRecognizer     *recognizer,
              double                *ret_confidence,
              GError               **error)
{
  return hearken_recognizer_decode (recognizer, (const gint16 *) self->heard->data,
                                    self->heard->len, ret_confidence, error);
}

/* The command model missed or doubts: dictation hears the same audio. */
static char *
decode_by_dictation (HearkenVoicePipeline  *self,
                     double                *ret_confidence,
                     GError               **error)
{
  if (!self->fallback &&
      !(self->fallback = hearken_recognizer_new (HEARKEN_RECOGNIZER_DICTATION, NULL, error)))
    return NULL;
  return decode_heard (self, self->fallback, ret_confidence, error);
}

static char *
decode_utterance (HearkenVoicePipeline  *self,
                  double                *ret_confidence,
                  GError               **error)
{
  g_autofree char *running = NULL;
  g_autofree char *text = NULL;

  /* the running guess made the partials; the second pass decides */
  if (self->config.live &&
      !(running = hearken_recognizer_finish (self->recognizer, NULL, error)))
    return NULL;
  if (!(text = decode_heard (self, self->recognizer, ret_confidence, error)))
    return NULL;
  if (self->config.mode == HEARKEN_RECOGNIZER_COMMAND && *text &&
      *ret_confidence < FALLBACK_CONFIDENCE)
    {
      double confidence;
      g_autofree char *dictated = decode_by_dictation (self, &confidence, error);

      if (!dictated)
        return NULL;
      if (*dictated)
        {
          *ret_confidence = confidence;
          return g_steal_pointer (&dictated);
        }
    }
  return g_steal_pointer (&text);
}

static gboolean
end_utterance (HearkenVoicePipeline  *self,
               GError               **error)
{
  double confidence = 0.0;
  g_autofree char *text = decode_utterance (self, &confidence, error);

  if (!text)
    return FALSE;
  self->in_utterance = FALSE;
  g_free (self->last_partial);
  self->last_partial = g_strdup ("");
  if (*text)
    self->callbacks.transcript (text, confidence, self->user_data);
  return keep_last (self, 0, error);
}

static void
report_partial (HearkenVoicePipeline *self)
{
  g_autofree char *partial = hearken_recognizer_partial (self->recognizer);

  if (!*partial || g_str_equal (partial, self->last_partial))
    return;
  g_free (self->last_partial);
  self->last_partial = g_steal_pointer (&partial);
  self->callbacks.partial (self->last_partial, self->user_data);
}

static void
report_level (HearkenVoicePipeline *self)
{
  self->level_max = MAX (self->level_max, hearken_vad_get_level (self->vad));
  if (self->frames_seen % LEVEL_EVERY_FRAMES != 0)
    return;
  self->callbacks.level (self->level_max, self->user_data);
  self->level_max = 0.0;
}

static gboolean
process_frame (HearkenVoicePipeline  *self,
               GError               **error)
{
  gboolean live = self->config.live;
  HearkenVadState state;

  g_array_append_vals (self->heard, self->frame, HEARKEN_VAD_FRAME);
  if (live && !hearken_recognizer_feed (self->recognizer, self->frame, HEARKEN_VAD_FRAME, error))
    return FALSE;
  state = hearken_vad_feed (self->vad, self->frame,
                            live && hearken_recognizer_in_speech (self->recognizer));
  self->frames_seen++;
  report_level (self);

  switch (state)
    {
    case HEARKEN_VAD_SPEECH_START:
      self->in_utterance = TRUE;
      return keep_last (self, PREROLL_SAMPLES, error);
    case HEARKEN_VAD_SPEECH_END:
      return end_utterance (self, error);
    case HEARKEN_VAD_SPEECH:
      if (self->heard->len >= MAX_UTTERANCE_SAMPLES)
        {
          hearken_vad_reset (self->vad);
          return end_utterance (self, error);
        }
      if (live && self->frames_seen % PARTIAL_EVERY_FRAMES == 0)
        report_partial (self);
      return TRUE;
    case HEARKEN_VAD_SILENCE:
    default:
      if (self->heard->len >= IDLE_TRIM_SAMPLES)
        return keep_last (self, PREROLL_SAMPLES, error);
      return TRUE;
    }
}

gboolean
hearken_voice_pipeline_feed (HearkenVoicePipeline  *self,
                             const gint16          *samples,
                             gsize                  n,
                             GError               **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  while (n > 0)
    {
      gsize take = MIN (n, HEARKEN_VAD_FRAME - self->frame_fill);

      memcpy (self->frame + self->frame_fill, samples, take * sizeof *samples);
      self->frame_fill += take;
      samples += take;
      n -= take;
      if (self->frame_fill < HEARKEN_VAD_FRAME)
        break;
      self->frame_fill = 0;
      if (!process_frame (self, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
hearken_voice_pipeline_finish (HearkenVoicePipeline  *self,
                               GError               **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (!self->in_utterance)
    return TRUE;
  /* the last partial frame still counts */
  g_array_append_vals (self->heard, self->frame, self->frame_fill);
  self->frame_fill = 0;
  hearken_vad_reset (self->vad);
  return end_utterance (self, error);
}
