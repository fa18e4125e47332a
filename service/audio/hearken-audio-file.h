/* hearken-audio-file.h — audio files as the recogniser hears them.
 *
 * Reads any file libsndfile knows (WAV, FLAC, OGG/Vorbis, AIFF, …) at any
 * rate, channel count and sample format, in pieces, as 16 kHz mono 16-bit
 * samples: channels are averaged, the rate converted.  A file longer than
 * the limit given to open is refused before any audio is read, so a long
 * recording never fills memory.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HEARKEN_AUDIO_RATE 16000

typedef struct _HearkenAudioFile HearkenAudioFile;

HearkenAudioFile *hearken_audio_file_open         (const char        *path,
                                                   double             max_seconds,
                                                   GError           **error);
/* The same from a file the caller opened (one passed over D-Bus): takes
 * fd, closed with the file or on failure; path names it in messages. */
HearkenAudioFile *hearken_audio_file_open_fd      (int                fd,
                                                   const char        *path,
                                                   double             max_seconds,
                                                   GError           **error);
void              hearken_audio_file_free         (HearkenAudioFile  *self);

/* Seconds of audio the file holds. */
double            hearken_audio_file_get_duration (HearkenAudioFile  *self);
/* The file's own rate and channels, for messages. */
guint             hearken_audio_file_get_rate     (HearkenAudioFile  *self);
guint             hearken_audio_file_get_channels (HearkenAudioFile  *self);

/* Replaces the contents of out (a GArray of gint16) with the next piece
 * of 16 kHz mono audio; an empty out means the end of the file.  FALSE
 * with error set when the file turns out broken. */
gboolean          hearken_audio_file_read         (HearkenAudioFile  *self,
                                                   GArray            *out,
                                                   GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearkenAudioFile, hearken_audio_file_free)

G_END_DECLS
