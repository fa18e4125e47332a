/* hearken-listener.h — hearkend's voice input: TranscribeFile and the
 * listening session behind StartListening/StopListening.
 *
 * The work runs off the main loop (GTask threads, the capture worker);
 * the signals come on the main context the listener was made in:
 *   listening (gboolean)        a session started or ended (also when
 *                               the microphone went away)
 *   level (double)              0–1, ten times a second
 *   partial (const char *)      the best guess while someone speaks
 *   transcript (const char *, double confidence)
 * Errors are HEARKEN_ERROR: NoAudioDevice, Busy, InvalidArgument,
 * NotFound, TooLong, NotAvailable (speech models missing).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define HEARKEN_TYPE_LISTENER (hearken_listener_get_type ())

G_DECLARE_FINAL_TYPE (HearkenListener, hearken_listener, HEARKEN, LISTENER, GObject)

HearkenListener *hearken_listener_new                     (void);

void             hearken_listener_transcribe_file_async   (HearkenListener      *self,
                                                           const char           *path,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
/* The same for a file the caller opened: takes fd.  Finish with
 * hearken_listener_transcribe_file_finish. */
void             hearken_listener_transcribe_fd_async     (HearkenListener      *self,
                                                           int                   fd,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
gboolean         hearken_listener_transcribe_file_finish  (HearkenListener      *self,
                                                           GAsyncResult         *result,
                                                           char                **ret_text,
                                                           double               *ret_confidence,
                                                           GError              **error);

/* The names of the microphones the audio system sees (PortAudio's input
 * devices), for the input-device setting; probing the audio system takes
 * a moment, so on a thread. */
void             hearken_listener_list_devices_async      (HearkenListener      *self,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
GStrv            hearken_listener_list_devices_finish     (HearkenListener      *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);

/* options: mode s ("command", the default, or "dictation"), silence_ms u
 * (the pause that ends an utterance), device s (else the input-device
 * setting), push_to_talk b, conversation s (where push-to-talk sends),
 * file s (a recording played as if spoken, instead of a microphone). */
void             hearken_listener_start_async             (HearkenListener      *self,
                                                           GVariant             *options,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
gboolean         hearken_listener_start_finish            (HearkenListener      *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);

/* Ends the session: the text heard in it (the utterance in progress
 * included).  Fails with NoAudioDevice when the microphone went away,
 * InvalidArgument when no session runs. */
void             hearken_listener_stop_async              (HearkenListener      *self,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
char            *hearken_listener_stop_finish             (HearkenListener      *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);

/* The running session's push-to-talk option and conversation ("" for a
 * new one). */
gboolean         hearken_listener_get_push_to_talk        (HearkenListener      *self);
const char      *hearken_listener_get_conversation        (HearkenListener      *self);
/* Where the running session's next transcripts go (push-to-talk made
 * a conversation for the first). */
void             hearken_listener_set_conversation        (HearkenListener      *self,
                                                           const char           *id);

G_END_DECLS
