/* hearken-audio-file.c — libsndfile reading, downmix and resampling. */
#include "hearken-audio-file.h"

#include <errno.h>
#include <fcntl.h>
#include <sndfile.h>
#include <string.h>
#include <unistd.h>

#include "hearken-audio-error.h"
#include "hearken-resampler.h"

/* Frames read from the file at a time (a tenth of a second at 48 kHz). */
#define CHUNK_FRAMES 4800
/* The highest rate recorders use (DXD, 768 kHz).  The resampler's filter
 * grows with the rate: a header claiming 2 GHz would have it take
 * gigabytes before any audio is read (found by tests/fuzz/fuzz-audio). */
#define MAX_RATE 768000

struct _HearkenAudioFile
{
  char             *path;
  SNDFILE          *file;
  SF_INFO           info;
  HearkenResampler *resampler;
  float            *frames;   /* (CHUNK_FRAMES, channels) */
  float            *mono;     /* (CHUNK_FRAMES) */
  sf_count_t        frames_read;
  double            max_seconds;
  gboolean          ended;
};

/* sf_open would follow the path itself; opening it here first tells a
 * missing file from a broken one, and keeps the descriptor O_CLOEXEC. */
static int
open_readable (const char  *path,
               GError     **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  int saved = errno;

  if (fd < 0)
    g_set_error (error, HEARKEN_AUDIO_ERROR,
                 saved == EACCES || saved == EPERM ? HEARKEN_AUDIO_ERROR_PERMISSION_DENIED
                                                   : HEARKEN_AUDIO_ERROR_NOT_FOUND,
                 "Cannot open the audio file %s: %s", path, g_strerror (saved));
  return fd;
}

static gboolean
check_info (HearkenAudioFile  *self,
            double             max_seconds,
            GError           **error)
{
  double seconds;

  if (self->info.samplerate <= 0 || self->info.channels <= 0)
    {
      g_set_error (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_BAD_FILE,
                   "%s has no sample rate or no channels: it is broken", self->path);
      return FALSE;
    }
  if (self->info.samplerate > MAX_RATE)
    {
      g_set_error (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_BAD_FILE,
                   "%s claims a sample rate of %d Hz, above the %d Hz of any recorder: "
                   "it is broken", self->path, self->info.samplerate, MAX_RATE);
      return FALSE;
    }
  seconds = hearken_audio_file_get_duration (self);
  if (seconds > max_seconds)
    {
      g_set_error (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_TOO_LONG,
                   "%s holds %.0f seconds of audio; at most %.0f seconds can be "
                   "transcribed at once: cut it into shorter pieces",
                   self->path, seconds, max_seconds);
      return FALSE;
    }
  return TRUE;
}

/* libsndfile shortens a truncated WAV or AIFF to the audio it holds and
 * notes the header's larger claim only in its log, as
 * "data : 49596 (should be 19956)": the one sign that the end is missing. */
static gboolean
check_not_truncated (HearkenAudioFile  *self,
                     GError           **error)
{
  char log[4096] = "";
  g_autofree char *data_line = NULL;
  const char *data, *end;

  sf_command (self->file, SFC_GET_LOG_INFO, log, sizeof log);
  if (!(data = strstr (log, "\ndata ")))
    return TRUE;
  end = strchr (data + 1, '\n');
  data_line = end ? g_strndup (data + 1, end - data - 1) : g_strdup (data + 1);
  if (!strstr (data_line, "(should be"))
    return TRUE;
  g_set_error (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_BAD_FILE,
               "%s is truncated: its header promises more audio than the file holds",
               self->path);
  return FALSE;
}

HearkenAudioFile *
hearken_audio_file_open (const char  *path,
                         double       max_seconds,
                         GError     **error)
{
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  if ((fd = open_readable (path, error)) < 0)
    return NULL;
  return hearken_audio_file_open_fd (fd, path, max_seconds, error);
}

HearkenAudioFile *
hearken_audio_file_open_fd (int          fd,
                            const char  *path,
                            double       max_seconds,
                            GError     **error)
{
  g_autoptr(HearkenAudioFile) self = g_new0 (HearkenAudioFile, 1);

  g_return_val_if_fail (fd >= 0, NULL);
  g_return_val_if_fail (path != NULL, NULL);

  self->path = g_strdup (path);
  self->max_seconds = max_seconds;
  self->file = sf_open_fd (fd, SFM_READ, &self->info, TRUE);
  if (!self->file)
    {
      g_set_error (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_BAD_FILE,
                   "%s is not an audio file Hearken can read (WAV, FLAC, OGG, …): %s",
                   path, sf_strerror (NULL));
      return NULL;
    }
  if (!check_info (self, max_seconds, error) || !check_not_truncated (self, error))
    return NULL;
  self->frames = g_new (float, (gsize) CHUNK_FRAMES * self->info.channels);
  self->mono = g_new (float, CHUNK_FRAMES);
  self->resampler = hearken_resampler_new (self->info.samplerate, HEARKEN_AUDIO_RATE);
  return g_steal_pointer (&self);
}

void
hearken_audio_file_free (HearkenAudioFile *self)
{
  if (!self)
    return;
  if (self->file)
    sf_close (self->file);
  g_clear_pointer (&self->resampler, hearken_resampler_free);
  g_free (self->frames);
  g_free (self->mono);
  g_free (self->path);
  g_free (self);
}

double
hearken_audio_file_get_duration (HearkenAudioFile *self)
{
  return (double) self->info.frames / self->info.samplerate;
}

guint
hearken_audio_file_get_rate (HearkenAudioFile *self)
{
  return self->info.samplerate;
}

guint
hearken_audio_file_get_channels (HearkenAudioFile *self)
{
  return self->info.channels;
}

/* The channels' mean, on the 16-bit scale the resampler takes. */
static void
downmix (HearkenAudioFile *self,
         sf_count_t        n)
{
  int channels = self->info.channels;

  for (sf_count_t i = 0; i < n; i++)
    {
      float sum = 0.0f;

      for (int c = 0; c < channels; c++)
        sum += self->frames[i * channels + c];
      self->mono[i] = sum / channels * 32768.0f;
    }
}

gboolean
hearken_audio_file_read (HearkenAudioFile  *self,
                         GArray            *out,
                         GError           **error)
{
  sf_count_t n;

  g_return_val_if_fail (self != NULL, FALSE);

  g_array_set_size (out, 0);
  while (out->len == 0 && !self->ended)
    {
      n = sf_readf_float (self->file, self->frames, CHUNK_FRAMES);
      if (n < 0 || sf_error (self->file) != SF_ERR_NO_ERROR)
        {
          g_set_error (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_BAD_FILE,
                       "%s is broken after %.1f seconds: %s", self->path,
                       (double) self->frames_read / self->info.samplerate,
                       sf_strerror (self->file));
          return FALSE;
        }
      self->frames_read += n;
      /* a header may understate the length: the limit holds whatever it says */
      if ((double) self->frames_read / self->info.samplerate > self->max_seconds)
        {
          g_set_error (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_TOO_LONG,
                       "%s holds more than %.0f seconds of audio, the most that can be "
                       "transcribed at once: cut it into shorter pieces",
                       self->path, self->max_seconds);
          return FALSE;
        }
      if (n == 0 && self->frames_read < self->info.frames)
        {
          g_set_error (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_BAD_FILE,
                       "%s is truncated: it ends after %.1f of its %.1f seconds",
                       self->path, (double) self->frames_read / self->info.samplerate,
                       hearken_audio_file_get_duration (self));
          return FALSE;
        }
      if (n == 0)
        {
          self->ended = TRUE;
          hearken_resampler_flush (self->resampler, out);
          break;
        }
      downmix (self, n);
      hearken_resampler_process (self->resampler, self->mono, n, out);
    }
  return TRUE;
}
