/* hearken-vad.h — voice activity detection on 16 kHz mono audio.
 *
 * Each 20 ms frame's energy is compared with an adaptive noise floor: the
 * floor follows the quietest frames at once and rises slowly (slower still
 * during speech), so a steady fan or hiss becomes the floor and speech is
 * what stands above it.  Speech starts after a few loud frames in a row
 * and ends only after end_silence_ms in which neither the energy nor the
 * recogniser (its own in-speech flag, given with each frame) heard speech:
 * the hangover that keeps pauses between words inside one utterance.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Samples in one frame at 16 kHz. */
#define HEARKEN_VAD_FRAME 320

typedef enum {
  HEARKEN_VAD_SILENCE,        /* no utterance */
  HEARKEN_VAD_SPEECH_START,   /* this frame starts an utterance */
  HEARKEN_VAD_SPEECH,         /* inside an utterance */
  HEARKEN_VAD_SPEECH_END,     /* this frame ends it (after the silence) */
} HearkenVadState;

typedef struct _HearkenVad HearkenVad;

HearkenVad      *hearken_vad_new         (guint         end_silence_ms);
void             hearken_vad_free        (HearkenVad   *self);

/* One frame of HEARKEN_VAD_FRAME samples. */
HearkenVadState  hearken_vad_feed        (HearkenVad   *self,
                                          const gint16 *frame,
                                          gboolean      recognizer_in_speech);
/* The last frame's loudness, 0 (silence, -60 dBFS) to 1 (full scale). */
double           hearken_vad_get_level   (HearkenVad   *self);
/* The noise floor, in dBFS. */
double           hearken_vad_get_floor   (HearkenVad   *self);
/* Back to silence, keeping the noise floor (after a forced end). */
void             hearken_vad_reset       (HearkenVad   *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearkenVad, hearken_vad_free)

G_END_DECLS
