/* hearken-transcriber.c — file → pipeline → joined transcripts. */
#include "hearken-transcriber.h"

#include "hearken-audio-file.h"

typedef struct {
  GString *text;
  double   confidence_sum;
  guint    utterances;
} Collected;

static void
ignore_level (double   level,
              gpointer user_data)
{
}

static void
ignore_partial (const char *text,
                gpointer    user_data)
{
}

static void
collect_transcript (const char *text,
                    double      confidence,
                    gpointer    user_data)
{
  Collected *collected = user_data;

  if (collected->text->len > 0)
    g_string_append_c (collected->text, ' ');
  g_string_append (collected->text, text);
  collected->confidence_sum += confidence;
  collected->utterances++;
}

static const HearkenVoiceCallbacks collect_callbacks = {
  .level = ignore_level,
  .partial = ignore_partial,
  .transcript = collect_transcript,
};

static gboolean
feed_file (HearkenAudioFile      *file,
           HearkenVoicePipeline  *pipeline,
           GCancellable          *cancellable,
           GError               **error)
{
  g_autoptr(GArray) piece = g_array_new (FALSE, FALSE, sizeof (gint16));

  do
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !hearken_audio_file_read (file, piece, error) ||
          !hearken_voice_pipeline_feed (pipeline, (const gint16 *) piece->data, piece->len, error))
        return FALSE;
    }
  while (piece->len > 0);
  return hearken_voice_pipeline_finish (pipeline, error);
}

gboolean
hearken_transcribe (HearkenAudioFile         *file,
                    const HearkenVoiceConfig *config,
                    GCancellable             *cancellable,
                    HearkenTranscript        *ret_transcript,
                    GError                  **error)
{
  g_autoptr(HearkenVoicePipeline) pipeline = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  Collected collected = { text, 0.0, 0 };

  if (!(pipeline = hearken_voice_pipeline_new (config, &collect_callbacks, &collected, error)) ||
      !feed_file (file, pipeline, cancellable, error))
    return FALSE;

  ret_transcript->audio_seconds = hearken_audio_file_get_duration (file);
  ret_transcript->confidence = collected.utterances
                               ? collected.confidence_sum / collected.utterances : 0.0;
  ret_transcript->text = g_string_free (g_steal_pointer (&text), FALSE);
  return TRUE;
}

gboolean
hearken_transcribe_file (const char               *path,
                         const HearkenVoiceConfig *config,
                         double                    max_seconds,
                         GCancellable             *cancellable,
                         HearkenTranscript        *ret_transcript,
                         GError                  **error)
{
  g_autoptr(HearkenAudioFile) file = hearken_audio_file_open (path, max_seconds, error);

  return file && hearken_transcribe (file, config, cancellable, ret_transcript, error);
}

void
hearken_transcript_clear (HearkenTranscript *transcript)
{
  g_clear_pointer (&transcript->text, g_free);
}
