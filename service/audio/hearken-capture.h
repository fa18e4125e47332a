/* hearken-capture.h — live audio, 16 kHz mono, on a worker thread.
 *
 * A source (a microphone through PortAudio in callback mode, or a file
 * played at its own pace) writes into a lock-free ring buffer; a worker
 * thread drains it, converts the rate to 16 kHz and hands the samples to
 * the owner's callback.  When the source ends (the file's end) or fails
 * (the microphone was unplugged), the worker calls stopped once and
 * ends; after hearken_capture_stop() returns, no callback runs.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  /* 16 kHz mono samples, on the worker thread */
  void (*samples) (const gint16 *samples,
                   gsize         n,
                   gpointer      user_data);
  /* the source ended (error NULL) or failed, on the worker thread */
  void (*stopped) (const GError *error,
                   gpointer      user_data);
} HearkenCaptureCallbacks;

typedef struct _HearkenCapture HearkenCapture;

/* device: a name from hearken_capture_list_devices(); NULL or "" is the
 * default input.  HEARKEN_AUDIO_ERROR_NO_DEVICE when there is none. */
HearkenCapture *hearken_capture_start_device (const char                     *device,
                                              const HearkenCaptureCallbacks  *callbacks,
                                              gpointer                        user_data,
                                              GError                        **error);
/* A recording played in real time through the same ring and worker, as
 * a microphone would deliver it. */
HearkenCapture *hearken_capture_start_file   (const char                     *path,
                                              double                          max_seconds,
                                              const HearkenCaptureCallbacks  *callbacks,
                                              gpointer                        user_data,
                                              GError                        **error);
/* Stops the source, waits for the worker, frees. */
void            hearken_capture_stop         (HearkenCapture                 *self);

/* The rate the source delivers before conversion (for tests and logs). */
guint           hearken_capture_get_source_rate (HearkenCapture              *self);
/* Samples lost because the worker fell behind. */
guint64         hearken_capture_get_dropped  (HearkenCapture                 *self);

/* The names of the input devices PortAudio sees (maybe none). */
GStrv           hearken_capture_list_devices (GError                        **error);

G_END_DECLS
