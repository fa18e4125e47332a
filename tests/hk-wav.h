/* hk-wav.h — silent WAV files for the tests: 16-bit mono PCM whose
 * header claims a rate, and seconds of zeros behind it. */
#pragma once

#include <glib.h>
#include <string.h>

/* Writes path; FALSE when it cannot. */
static inline gboolean
hk_write_silent_wav(const char *path, guint32 rate, guint32 n_samples)
{
    gsize size = 44 + 2 * (gsize) n_samples;
    guint8 *wav = g_malloc0(size);
    gboolean ok;

    memcpy(wav, "RIFF", 4);
    *(guint32 *) (wav + 4) = GUINT32_TO_LE((guint32) (size - 8));
    memcpy(wav + 8, "WAVEfmt ", 8);
    *(guint32 *) (wav + 16) = GUINT32_TO_LE(16);
    *(guint16 *) (wav + 20) = GUINT16_TO_LE(1);             /* PCM */
    *(guint16 *) (wav + 22) = GUINT16_TO_LE(1);             /* mono */
    *(guint32 *) (wav + 24) = GUINT32_TO_LE(rate);
    *(guint32 *) (wav + 28) = GUINT32_TO_LE(rate * 2);      /* bytes a second */
    *(guint16 *) (wav + 32) = GUINT16_TO_LE(2);             /* bytes a frame */
    *(guint16 *) (wav + 34) = GUINT16_TO_LE(16);
    memcpy(wav + 36, "data", 4);
    *(guint32 *) (wav + 40) = GUINT32_TO_LE(2 * n_samples);
    ok = g_file_set_contents(path, (const char *) wav, (gssize) size, NULL);
    g_free(wav);
    return ok;
}
