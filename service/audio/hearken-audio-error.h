/* hearken-audio-error.h — the errors of the voice input library.
 *
 * hearkend maps them to its org.hearken.Error.* names (hearken-listener.c);
 * the library itself knows nothing of D-Bus.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HEARKEN_AUDIO_ERROR (hearken_audio_error_quark ())

typedef enum {
  /* no input device, the one asked for is missing, or it went away */
  HEARKEN_AUDIO_ERROR_NO_DEVICE,
  /* the file is missing or unreadable */
  HEARKEN_AUDIO_ERROR_NOT_FOUND,
  /* the file may not be read (its mode, or the process's confinement) */
  HEARKEN_AUDIO_ERROR_PERMISSION_DENIED,
  /* the file is not audio libsndfile reads, or is broken */
  HEARKEN_AUDIO_ERROR_BAD_FILE,
  /* more audio than the limit allows */
  HEARKEN_AUDIO_ERROR_TOO_LONG,
  /* the speech models are not installed, or do not load */
  HEARKEN_AUDIO_ERROR_NO_MODEL,
  /* the audio system or the recogniser failed */
  HEARKEN_AUDIO_ERROR_FAILED,
} HearkenAudioError;

GQuark hearken_audio_error_quark (void);

G_END_DECLS
