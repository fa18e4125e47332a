/* hearken-transcriber.h — the text spoken in an audio file.
 *
 * Reads the file in pieces (hearken-audio-file.h) through the same VAD
 * and recogniser as live listening, as fast as the recogniser goes; the
 * utterances' transcripts are joined with spaces.
 */
#pragma once

#include <gio/gio.h>

#include "hearken-audio-file.h"
#include "hearken-voice-pipeline.h"

G_BEGIN_DECLS

/* The longest file TranscribeFile takes. */
#define HEARKEN_TRANSCRIBE_MAX_SECONDS 600.0

typedef struct {
  char   *text;           /* "" when no speech was heard */
  double  confidence;     /* the utterances' mean, 0 without speech */
  double  audio_seconds;  /* the file's length */
} HearkenTranscript;

/* FALSE with error set when the file turns out broken or the recogniser
 * fails; cancellable stops between pieces. */
gboolean hearken_transcribe        (HearkenAudioFile         *file,
                                    const HearkenVoiceConfig *config,
                                    GCancellable             *cancellable,
                                    HearkenTranscript        *ret_transcript,
                                    GError                  **error);
/* The same, opening path: FALSE also when the file cannot be read or is
 * longer than max_seconds. */
gboolean hearken_transcribe_file   (const char               *path,
                                    const HearkenVoiceConfig *config,
                                    double                    max_seconds,
                                    GCancellable             *cancellable,
                                    HearkenTranscript        *ret_transcript,
                                    GError                  **error);
void     hearken_transcript_clear  (HearkenTranscript        *transcript);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HearkenTranscript, hearken_transcript_clear)

G_END_DECLS
