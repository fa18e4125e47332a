/* hearken-vad.c — energy against an adaptive noise floor, with hangover. */
#include "hearken-vad.h"

#include <math.h>

#define FRAME_MS 20
/* Speech: this far above the floor.  Below the absolute minimum a frame
 * is silence whatever the floor (digital silence has no floor). */
#define SPEECH_ABOVE_FLOOR_DB 9.0
#define SPEECH_MIN_DB -55.0
/* Loud frames in a row that start an utterance (a click is one). */
#define START_FRAMES 3
/* How fast the floor rises, per frame: ~1 s to follow a louder room,
 * ~10 s during speech, so a long utterance does not become the floor. */
#define RISE_SILENCE 0.02
#define RISE_SPEECH 0.002
/* The quietest level the meter shows. */
#define LEVEL_FLOOR_DB -60.0

struct _HearkenVad
{
  guint    end_silence_frames;
  double   floor_db;
  gboolean have_floor;
  double   last_db;
  gboolean in_speech;
  guint    loud_run;      /* loud frames in a row, before an utterance */
  guint    quiet_run;     /* quiet frames in a row, inside one */
};

HearkenVad *
hearken_vad_new (guint end_silence_ms)
{
  HearkenVad *self = g_new0 (HearkenVad, 1);

  self->end_silence_frames = MAX (1u, end_silence_ms / FRAME_MS);
  self->last_db = -120.0;
  return self;
}

void
hearken_vad_free (HearkenVad *self)
{
  g_free (self);
}

static double
frame_db (const gint16 *frame)
{
  double sum = 0.0;

  for (gsize i = 0; i < HEARKEN_VAD_FRAME; i++)
    sum += (double) frame[i] * frame[i];
  /* +1 keeps digital silence finite: -120 dBFS */
  return 10.0 * log10 ((sum / HEARKEN_VAD_FRAME + 1e-12 * 32768.0 * 32768.0) /
                       (32768.0 * 32768.0));
}

static void
follow_floor (HearkenVad *self,
              double      db)
{
  if (!self->have_floor || db < self->floor_db)
    {
      self->floor_db = db;
      self->have_floor = TRUE;
      return;
    }
  self->floor_db += (self->in_speech ? RISE_SPEECH : RISE_SILENCE) * (db - self->floor_db);
}

HearkenVadState
hearken_vad_feed (HearkenVad   *self,
                  const gint16 *frame,
                  gboolean      recognizer_in_speech)
{
  double db = frame_db (frame);
  gboolean loud;

  g_return_val_if_fail (self != NULL, HEARKEN_VAD_SILENCE);

  self->last_db = db;
  /* judged against the floor before this frame moves it */
  loud = self->have_floor && db > SPEECH_MIN_DB &&
         db > self->floor_db + SPEECH_ABOVE_FLOOR_DB;
  follow_floor (self, db);

  if (!self->in_speech)
    {
      self->loud_run = loud ? self->loud_run + 1 : 0;
      if (self->loud_run < START_FRAMES)
        return HEARKEN_VAD_SILENCE;
      self->in_speech = TRUE;
      self->quiet_run = 0;
      return HEARKEN_VAD_SPEECH_START;
    }
  self->quiet_run = loud || recognizer_in_speech ? 0 : self->quiet_run + 1;
  if (self->quiet_run < self->end_silence_frames)
    return HEARKEN_VAD_SPEECH;
  hearken_vad_reset (self);
  return HEARKEN_VAD_SPEECH_END;
}

double
hearken_vad_get_level (HearkenVad *self)
{
  return CLAMP ((self->last_db - LEVEL_FLOOR_DB) / -LEVEL_FLOOR_DB, 0.0, 1.0);
}

double
hearken_vad_get_floor (HearkenVad *self)
{
  return self->floor_db;
}

void
hearken_vad_reset (HearkenVad *self)
{
  self->in_speech = FALSE;
  self->loud_run = 0;
  self->quiet_run = 0;
}
