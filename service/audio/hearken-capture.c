/* hearken-capture.c — PortAudio or file → ring → worker → 16 kHz. */
#include "hearken-capture.h"

#include <portaudio.h>
#include <stdatomic.h>
#include <stdbool.h>
#ifdef HAVE_ALSA
#include <alsa/asoundlib.h>
#endif

#include "hearken-audio-error.h"
#include "hearken-audio-file.h"
#include "hearken-resampler.h"
#include "hearken-ring.h"

/* Two seconds of audio at 48 kHz: the worker may stall that long. */
#define RING_SAMPLES (2 * 48000)
/* How often the worker looks at the ring. */
#define POLL_US (10 * 1000)
/* A microphone silent this long (no callbacks at all) is gone. */
#define DEVICE_TIMEOUT_US (2 * G_USEC_PER_SEC)
/* The file source writes this much at a time (20 ms). */
#define FILE_CHUNK_US (20 * 1000)

struct _HearkenCapture
{
  HearkenCaptureCallbacks  callbacks;
  gpointer                 user_data;
  HearkenRing             *ring;
  guint                    rate;            /* of the source */
  HearkenResampler        *resampler;       /* rate → 16 kHz */

  GThread                 *worker;
  GMutex                   lock;            /* guards stopping, with wake */
  GCond                    wake;
  gboolean                 stopping;

  /* microphone */
  PaStream                *stream;
  gboolean                 pa_initialized;
  int                      channels;
  atomic_bool              stream_finished;
  _Atomic gint64           last_callback_us;

  /* file */
  HearkenAudioFile        *file;
  GThread                 *player;
  atomic_bool              file_ended;
  GError                  *file_error;      /* set by the player before file_ended */
};

/* PortAudio's initialisation is not thread-safe; listing and opening
 * happen on GTask threads. */
static GMutex pa_lock;

/* ---------------------------------------------------------- the worker */

static gboolean
wait_or_stop (HearkenCapture *self)
{
  gboolean stopping;
  gint64 until = g_get_monotonic_time () + POLL_US;

  g_mutex_lock (&self->lock);
  while (!self->stopping && g_cond_wait_until (&self->wake, &self->lock, until))
    ;
  stopping = self->stopping;
  g_mutex_unlock (&self->lock);
  return stopping;
}

/* What is in the ring now, converted and handed on; TRUE when there was
 * some.  Only what was there on entry: a source faster than the
 * recogniser (a loaded machine, a device without a clock) would otherwise
 * keep the worker here, deaf to hearken_capture_stop(). */
static gboolean
drain_ring (HearkenCapture *self,
            GArray         *out)
{
  gint16 raw[1024];
  float in[G_N_ELEMENTS (raw)];
  gsize n, total = 0, waiting = hearken_ring_available (self->ring);

  while (total < waiting &&
         (n = hearken_ring_read (self->ring, raw, MIN (G_N_ELEMENTS (raw), waiting - total))) > 0)
    {
      for (gsize i = 0; i < n; i++)
        in[i] = raw[i];
      g_array_set_size (out, 0);
      hearken_resampler_process (self->resampler, in, n, out);
      if (out->len > 0)
        self->callbacks.samples ((const gint16 *) out->data, out->len, self->user_data);
      total += n;
    }
  return total > 0;
}

/* Whether the source is over; error says why when it failed. */
static gboolean
source_over (HearkenCapture  *self,
             GError         **error)
{
  if (self->file)
    {
      if (!atomic_load (&self->file_ended))
        return FALSE;
      if (self->file_error)
        g_propagate_error (error, g_error_copy (self->file_error));
      return TRUE;
    }
  if (atomic_load (&self->stream_finished) || Pa_IsStreamActive (self->stream) != 1 ||
      g_get_monotonic_time () - atomic_load (&self->last_callback_us) > DEVICE_TIMEOUT_US)
    {
      g_set_error_literal (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_NO_DEVICE,
                           "The microphone stopped delivering sound: it was unplugged "
                           "or taken by another program");
      return TRUE;
    }
  return FALSE;
}

static gpointer
worker_thread (gpointer data)
{
  HearkenCapture *self = data;
  g_autoptr(GArray) out = g_array_new (FALSE, FALSE, sizeof (gint16));

  while (!wait_or_stop (self))
    {
      g_autoptr(GError) error = NULL;

      if (drain_ring (self, out))
        continue;
      if (!source_over (self, &error))
        continue;
      /* the end of a file: its last samples, then the news */
      drain_ring (self, out);
      self->callbacks.stopped (error, self->user_data);
      break;
    }
  return NULL;
}

static HearkenCapture *
capture_new (const HearkenCaptureCallbacks *callbacks,
             gpointer                       user_data)
{
  HearkenCapture *self = g_new0 (HearkenCapture, 1);

  self->callbacks = *callbacks;
  self->user_data = user_data;
  self->ring = hearken_ring_new (RING_SAMPLES);
  g_mutex_init (&self->lock);
  g_cond_init (&self->wake);
  atomic_init (&self->stream_finished, false);
  atomic_init (&self->file_ended, false);
  atomic_init (&self->last_callback_us, g_get_monotonic_time ());
  return self;
}

static void
start_worker (HearkenCapture *self)
{
  self->resampler = hearken_resampler_new (self->rate, HEARKEN_AUDIO_RATE);
  self->worker = g_thread_new ("hearken-capture", worker_thread, self);
}

/* -------------------------------------------------------- the microphone */

#ifdef HAVE_ALSA
static void
alsa_quiet (const char *file, int line, const char *function, int err, const char *fmt, ...)
{
  /* ALSA reports every card it does not find; PortAudio's answer says enough */
}
#endif

static gboolean
pa_start (GError **error)
{
  PaError err;

#ifdef HAVE_ALSA
  snd_lib_error_set_handler (alsa_quiet);
#endif
  g_mutex_lock (&pa_lock);
  err = Pa_Initialize ();
  g_mutex_unlock (&pa_lock);
  if (err != paNoError)
    {
      g_set_error (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_NO_DEVICE,
                   "The audio system could not start: %s", Pa_GetErrorText (err));
      return FALSE;
    }
  return TRUE;
}

static void
pa_stop (void)
{
  g_mutex_lock (&pa_lock);
  Pa_Terminate ();
  g_mutex_unlock (&pa_lock);
}

static GStrv
input_device_names (void)
{
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();
  int n = Pa_GetDeviceCount ();

  for (int i = 0; i < n; i++)
    {
      const PaDeviceInfo *info = Pa_GetDeviceInfo (i);

      if (info && info->maxInputChannels > 0)
        g_strv_builder_add (names, info->name);
    }
  return g_strv_builder_end (names);
}

GStrv
hearken_capture_list_devices (GError **error)
{
  GStrv names;

  if (!pa_start (error))
    return NULL;
  names = input_device_names ();
  pa_stop ();
  return names;
}

static PaDeviceIndex
find_device (const char  *name,
             GError     **error)
{
  g_auto(GStrv) names = NULL;
  g_autofree char *known = NULL;
  PaDeviceIndex index = paNoDevice;

  if (!name || !*name)
    {
      index = Pa_GetDefaultInputDevice ();
      if (index == paNoDevice)
        g_set_error_literal (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_NO_DEVICE,
                             "No microphone found: connect one, or check that the audio "
                             "system sees it");
      return index;
    }
  for (int i = 0; i < Pa_GetDeviceCount (); i++)
    {
      const PaDeviceInfo *info = Pa_GetDeviceInfo (i);

      if (info && info->maxInputChannels > 0 && g_str_equal (info->name, name))
        return i;
    }
  names = input_device_names ();
  known = names[0] ? g_strjoinv ("”, “", names) : NULL;
  g_set_error (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_NO_DEVICE,
               known ? "The microphone “%s” (the input-device setting) is not connected; "
                       "the inputs are “%s”"
                     : "The microphone “%s” (the input-device setting) is not connected, "
                       "nor is any other%s",
               name, known ? known : "");
  return paNoDevice;
}

static int
stream_cb (const void                     *input,
           void                           *output,
           unsigned long                   frames,
           const PaStreamCallbackTimeInfo *time_info,
           PaStreamCallbackFlags           flags,
           void                           *user_data)
{
  HearkenCapture *self = user_data;
  const gint16 *in = input;
  gint16 mono[512];

  atomic_store (&self->last_callback_us, g_get_monotonic_time ());
  if (!in)
    return paContinue;
  if (self->channels == 1)
    {
      hearken_ring_write (self->ring, in, frames);
      return paContinue;
    }
  /* the first two channels' mean, in pieces: no allocation here */
  while (frames > 0)
    {
      unsigned long n = MIN (frames, G_N_ELEMENTS (mono));

      for (unsigned long i = 0; i < n; i++)
        mono[i] = (gint16) (((int) in[i * self->channels] + in[i * self->channels + 1]) / 2);
      hearken_ring_write (self->ring, mono, n);
      in += n * self->channels;
      frames -= n;
    }
  return paContinue;
}

static void
stream_finished_cb (void *user_data)
{
  HearkenCapture *self = user_data;

  atomic_store (&self->stream_finished, true);
}

/* 16 kHz mono if the device takes it, else its own rate (and stereo if it
 * has no mono). */
static void
choose_format (PaDeviceIndex       device,
               PaStreamParameters *params,
               double             *ret_rate)
{
  const PaDeviceInfo *info = Pa_GetDeviceInfo (device);

  params->device = device;
  params->channelCount = 1;
  params->sampleFormat = paInt16;
  params->suggestedLatency = info->defaultLowInputLatency;
  params->hostApiSpecificStreamInfo = NULL;
  *ret_rate = HEARKEN_AUDIO_RATE;
  if (Pa_IsFormatSupported (params, NULL, *ret_rate) == paFormatIsSupported)
    return;
  *ret_rate = info->defaultSampleRate;
  if (Pa_IsFormatSupported (params, NULL, *ret_rate) != paFormatIsSupported &&
      info->maxInputChannels >= 2)
    params->channelCount = 2;
}

static gboolean
open_stream (HearkenCapture  *self,
             const char      *device_name,
             GError         **error)
{
  PaStreamParameters params;
  PaDeviceIndex device;
  double rate;
  PaError err;

  if ((device = find_device (device_name, error)) == paNoDevice)
    return FALSE;
  choose_format (device, &params, &rate);
  self->channels = params.channelCount;
  self->rate = (guint) rate;
  err = Pa_OpenStream (&self->stream, &params, NULL, rate, paFramesPerBufferUnspecified,
                       paNoFlag, stream_cb, self);
  if (err == paNoError)
    err = Pa_SetStreamFinishedCallback (self->stream, stream_finished_cb);
  if (err == paNoError)
    {
      atomic_store (&self->last_callback_us, g_get_monotonic_time ());
      err = Pa_StartStream (self->stream);
    }
  if (err != paNoError)
    {
      g_set_error (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_NO_DEVICE,
                   "The microphone “%s” could not be opened: %s",
                   Pa_GetDeviceInfo (device)->name, Pa_GetErrorText (err));
      return FALSE;
    }
  return TRUE;
}

HearkenCapture *
hearken_capture_start_device (const char                     *device,
                              const HearkenCaptureCallbacks  *callbacks,
                              gpointer                        user_data,
                              GError                        **error)
{
  HearkenCapture *self;

  g_return_val_if_fail (callbacks != NULL, NULL);

  self = capture_new (callbacks, user_data);
  if (!(self->pa_initialized = pa_start (error)) || !open_stream (self, device, error))
    {
      hearken_capture_stop (self);
      return NULL;
    }
  start_worker (self);
  return self;
}

/* ------------------------------------------------------------ the file */

static void
play_file (HearkenCapture *self)
{
  g_autoptr(GArray) piece = g_array_new (FALSE, FALSE, sizeof (gint16));
  gint64 start = g_get_monotonic_time ();
  guint64 played = 0;
  gsize offset = 0;

  while (!wait_or_stop (self))
    {
      /* what the clock says should have come by now */
      guint64 due = (g_get_monotonic_time () - start) * HEARKEN_AUDIO_RATE / G_USEC_PER_SEC;

      while (played < due)
        {
          gsize n;

          if (offset == piece->len)
            {
              offset = 0;
              if (!hearken_audio_file_read (self->file, piece, &self->file_error) ||
                  piece->len == 0)
                return;
            }
          n = MIN (piece->len - offset, due - played);
          n = hearken_ring_write (self->ring, (const gint16 *) piece->data + offset, n);
          offset += n;
          played += n;
          if (n == 0)
            break;
        }
    }
}

static gpointer
player_thread (gpointer data)
{
  HearkenCapture *self = data;

  play_file (self);
  atomic_store (&self->file_ended, true);
  return NULL;
}

HearkenCapture *
hearken_capture_start_file (const char                     *path,
                            double                          max_seconds,
                            const HearkenCaptureCallbacks  *callbacks,
                            gpointer                        user_data,
                            GError                        **error)
{
  HearkenCapture *self;

  g_return_val_if_fail (callbacks != NULL, NULL);

  self = capture_new (callbacks, user_data);
  if (!(self->file = hearken_audio_file_open (path, max_seconds, error)))
    {
      hearken_capture_stop (self);
      return NULL;
    }
  self->rate = HEARKEN_AUDIO_RATE;
  start_worker (self);
  self->player = g_thread_new ("hearken-player", player_thread, self);
  return self;
}

/* ----------------------------------------------------------- the rest */

void
hearken_capture_stop (HearkenCapture *self)
{
  if (!self)
    return;
  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_broadcast (&self->wake);
  g_mutex_unlock (&self->lock);

  g_clear_pointer (&self->player, g_thread_join);
  /* the worker asks the stream how it is: it goes first */
  g_clear_pointer (&self->worker, g_thread_join);
  if (self->stream)
    {
      Pa_AbortStream (self->stream);
      Pa_CloseStream (self->stream);
    }
  if (self->pa_initialized)
    pa_stop ();
  g_clear_pointer (&self->file, hearken_audio_file_free);
  g_clear_error (&self->file_error);
  g_clear_pointer (&self->resampler, hearken_resampler_free);
  g_clear_pointer (&self->ring, hearken_ring_free);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->wake);
  g_free (self);
}

guint
hearken_capture_get_source_rate (HearkenCapture *self)
{
  return self->rate;
}

guint64
hearken_capture_get_dropped (HearkenCapture *self)
{
  return hearken_ring_dropped (self->ring);
}
