/* hearken-resampler.c — streaming windowed-sinc resampling. */
#include "hearken-resampler.h"

#include <math.h>

/* Zero crossings of the sinc on each side: 16 gives a stop band beyond
 * 70 dB with the Blackman window, at ~100 taps for 44.1 → 16 kHz. */
#define ZERO_CROSSINGS 16
/* Table entries per input sample; between them, linear interpolation. */
#define TABLE_RESOLUTION 512
/* The pass band ends this far below the lower Nyquist frequency. */
#define CUTOFF_MARGIN 0.92

struct _HearkenResampler
{
  guint    in_rate;
  guint    out_rate;
  double   step;          /* input samples per output sample */
  double   half_width;    /* the kernel's reach, in input samples */
  float   *kernel;        /* (half_width * TABLE_RESOLUTION + 2): h(x) for x ≥ 0 */
  gsize    kernel_len;
  GArray  *history;       /* float input not yet consumed */
  double   pos;           /* where the next output falls, an index into history */
  guint64  n_in;          /* input samples so far */
  guint64  n_out;         /* output samples so far */
};

static double
blackman (double x)     /* x in [-1, 1] */
{
  return 0.42 + 0.5 * cos (G_PI * x) + 0.08 * cos (2 * G_PI * x);
}

/* The low-pass kernel: cutoff fc in cycles per input sample. */
static void
build_kernel (HearkenResampler *self,
              double            fc)
{
  self->half_width = ZERO_CROSSINGS / (2 * fc);
  self->kernel_len = (gsize) ceil (self->half_width * TABLE_RESOLUTION) + 2;
  self->kernel = g_new (float, self->kernel_len);
  for (gsize i = 0; i < self->kernel_len; i++)
    {
      double x = (double) i / TABLE_RESOLUTION;
      double arg = 2 * fc * x;
      double sinc = x == 0 ? 1.0 : sin (G_PI * arg) / (G_PI * arg);

      self->kernel[i] = x >= self->half_width ? 0.0f
                      : (float) (2 * fc * sinc * blackman (x / self->half_width));
    }
}

static double
kernel_at (const HearkenResampler *self,
           double                  x)
{
  double t = fabs (x) * TABLE_RESOLUTION;
  gsize i = (gsize) t;
  double frac = t - i;

  if (i + 1 >= self->kernel_len)
    return 0.0;
  return self->kernel[i] + frac * (self->kernel[i + 1] - self->kernel[i]);
}

HearkenResampler *
hearken_resampler_new (guint in_rate,
                       guint out_rate)
{
  HearkenResampler *self;
  float zero = 0.0f;

  g_return_val_if_fail (in_rate > 0 && out_rate > 0, NULL);

  self = g_new0 (HearkenResampler, 1);
  self->in_rate = in_rate;
  self->out_rate = out_rate;
  self->step = (double) in_rate / out_rate;
  self->history = g_array_new (FALSE, FALSE, sizeof (float));
  if (in_rate != out_rate)
    {
      build_kernel (self, 0.5 * CUTOFF_MARGIN * MIN (1.0, (double) out_rate / in_rate));
      /* silence before the first sample, so the first output is centred on it */
      for (gsize i = 0; i < (gsize) ceil (self->half_width); i++)
        g_array_append_val (self->history, zero);
      self->pos = ceil (self->half_width);
    }
  return self;
}

void
hearken_resampler_free (HearkenResampler *self)
{
  if (!self)
    return;
  g_clear_pointer (&self->history, g_array_unref);
  g_free (self->kernel);
  g_free (self);
}

static gint16
to_s16 (double v)
{
  /* a broken float file's NaN is silence; clamped before rounding, an
   * infinite sample is full scale, not whatever lrint makes of it */
  if (isnan (v))
    return 0;
  return (gint16) lrint (CLAMP (v, -32768.0, 32767.0));
}

/* The output sample centred at self->pos: the kernel over its neighbours. */
static double
convolve_at (const HearkenResampler *self)
{
  const float *x = (const float *) self->history->data;
  gssize first = (gssize) ceil (self->pos - self->half_width);
  gssize last = (gssize) floor (self->pos + self->half_width);
  double sum = 0.0;

  for (gssize k = MAX (first, 0); k <= last; k++)
    sum += x[k] * kernel_at (self, self->pos - k);
  return sum;
}

/* Output samples whose neighbourhood the history holds, up to the number
 * the input so far makes (ratio × input). */
static void
drain (HearkenResampler *self,
       GArray           *out)
{
  guint64 wanted = (self->n_in * self->out_rate + self->in_rate - 1) / self->in_rate;
  gsize keep_from;

  while (self->n_out < wanted && self->pos + self->half_width < self->history->len)
    {
      gint16 s = to_s16 (convolve_at (self));

      g_array_append_val (out, s);
      self->n_out++;
      self->pos += self->step;
    }
  keep_from = (gsize) MAX (0.0, floor (self->pos - self->half_width) - 1);
  keep_from = MIN (keep_from, self->history->len);
  g_array_remove_range (self->history, 0, keep_from);
  self->pos -= keep_from;
}

void
hearken_resampler_process (HearkenResampler *self,
                           const float      *input,
                           gsize             n,
                           GArray           *out)
{
  g_return_if_fail (self != NULL);

  self->n_in += n;
  if (self->in_rate == self->out_rate)
    {
      for (gsize i = 0; i < n; i++)
        {
          gint16 s = to_s16 (input[i]);
          g_array_append_val (out, s);
        }
      self->n_out += n;
      return;
    }
  g_array_append_vals (self->history, input, n);
  drain (self, out);
}

void
hearken_resampler_flush (HearkenResampler *self,
                         GArray           *out)
{
  float zero = 0.0f;

  g_return_if_fail (self != NULL);

  if (self->in_rate == self->out_rate)
    return;
  /* silence after the last sample lets the last outputs be computed */
  for (gsize i = 0; i < (gsize) ceil (self->half_width) + 1; i++)
    g_array_append_val (self->history, zero);
  drain (self, out);
}
