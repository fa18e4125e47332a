/* hearken-resampler.h — sample-rate conversion for the recogniser.
 *
 * A streaming windowed-sinc (Blackman) resampler: any input rate to any
 * output rate, with the low-pass at the lower of the two Nyquist
 * frequencies, so 44.1 or 48 kHz audio comes down to 16 kHz without
 * aliasing.  Input in any number of pieces gives the same output as in
 * one piece.  Samples are floats on the 16-bit scale (±32768); the output
 * is rounded and clipped to 16 bits.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _HearkenResampler HearkenResampler;

HearkenResampler *hearken_resampler_new     (guint              in_rate,
                                             guint              out_rate);
void              hearken_resampler_free    (HearkenResampler  *self);

/* Appends to out (a GArray of gint16) the output input[0..n) completes. */
void              hearken_resampler_process (HearkenResampler  *self,
                                             const float       *input,
                                             gsize              n,
                                             GArray            *out);
/* The input has ended: appends the rest of the output. */
void              hearken_resampler_flush   (HearkenResampler  *self,
                                             GArray            *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearkenResampler, hearken_resampler_free)

G_END_DECLS
