/* The voice input library's parts on generated signals: the lock-free
 * ring, voice activity detection, the resampler, and the file-backed
 * capture path (ring, worker, VAD, recogniser in real time). */
#include <math.h>
#include <string.h>

#include "hk-check.h"
#include "hk-rng.h"
#include "hk-wav.h"
#include "hearken-audio-error.h"
#include "hearken-audio-file.h"
#include "hearken-capture.h"
#include "hearken-resampler.h"
#include "hearken-ring.h"
#include "hearken-vad.h"
#include <glib/gstdio.h>

/* ---------------------------------------------------------------- ring */

START_TEST(test_ring_wraps_around)
{
    HearkenRing *ring = hearken_ring_new(100);
    gint16 in[96], out[96];
    gint16 next = 0, expect = 0;

    ck_assert_uint_eq(hearken_ring_capacity(ring), 128);
    /* many rounds of odd sizes cross the end of the buffer often */
    for (int round = 0; round < 200; round++) {
        gsize n = 1 + (gsize)(round * 37 % 96);

        for (gsize i = 0; i < n; i++)
            in[i] = next++;
        ck_assert_uint_eq(hearken_ring_write(ring, in, n), n);
        ck_assert_uint_eq(hearken_ring_available(ring), n);
        ck_assert_uint_eq(hearken_ring_read(ring, out, n), n);
        for (gsize i = 0; i < n; i++)
            ck_assert_int_eq(out[i], expect++);
    }
    ck_assert_uint_eq(hearken_ring_dropped(ring), 0);
    hearken_ring_free(ring);
}
END_TEST

START_TEST(test_ring_full_drops_and_counts)
{
    HearkenRing *ring = hearken_ring_new(16);
    gint16 in[20], out[20];

    for (int i = 0; i < 20; i++)
        in[i] = (gint16)i;
    ck_assert_uint_eq(hearken_ring_write(ring, in, 20), 16);
    ck_assert_uint_eq(hearken_ring_dropped(ring), 4);
    ck_assert_uint_eq(hearken_ring_write(ring, in, 1), 0);
    ck_assert_uint_eq(hearken_ring_read(ring, out, 20), 16);
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(out[i], i);
    ck_assert_uint_eq(hearken_ring_read(ring, out, 20), 0);
    hearken_ring_free(ring);
}
END_TEST

#define THREAD_SAMPLES 300000

static gpointer
produce(gpointer data)
{
    HearkenRing *ring = data;
    gint16 chunk[64];
    guint32 next = 0;

    while (next < THREAD_SAMPLES) {
        gsize n = MIN(G_N_ELEMENTS(chunk), THREAD_SAMPLES - next), done = 0;

        for (gsize i = 0; i < n; i++)
            chunk[i] = (gint16)(next + i);
        while (done < n) {
            gsize wrote = hearken_ring_write(ring, chunk + done, n - done);

            /* two cores for all the tests: let the reader run */
            if (!wrote)
                g_thread_yield();
            done += wrote;
        }
        next += n;
    }
    return NULL;
}

START_TEST(test_ring_two_threads_keep_order)
{
    HearkenRing *ring = hearken_ring_new(256);
    GThread *producer = g_thread_new("producer", produce, ring);
    guint32 got = 0;
    gint16 out[100];

    while (got < THREAD_SAMPLES) {
        gsize n = hearken_ring_read(ring, out, 1 + got % 100);

        if (!n)
            g_thread_yield();

        for (gsize i = 0; i < n; i++, got++)
            ck_assert_msg(out[i] == (gint16)got, "sample %u is %d", got, out[i]);
    }
    g_thread_join(producer);
    /* the producer retried instead of losing samples, but each refusal counted */
    ck_assert_uint_eq(hearken_ring_available(ring), 0);
    hearken_ring_free(ring);
}
END_TEST

/* ----------------------------------------------------------------- VAD */

/* Feeds seconds of a signal; returns the number of utterances started and
 * ended. */
typedef struct {
    int starts, ends;
} VadCount;

static void
feed_signal(HearkenVad *vad, double seconds, double tone_amp, double noise_amp,
            VadCount *count)
{
    static double phase;
    gint16 frame[HEARKEN_VAD_FRAME];
    int frames = (int)(seconds * 50);

    for (int f = 0; f < frames; f++) {
        for (int i = 0; i < HEARKEN_VAD_FRAME; i++) {
            double noise = noise_amp * (2.0 * hk_rng_uniform() - 1.0);

            phase += 2 * G_PI * 440.0 / 16000.0;
            frame[i] = (gint16)lrint(32767.0 * (tone_amp * sin(phase) + noise));
        }
        switch (hearken_vad_feed(vad, frame, FALSE)) {
        case HEARKEN_VAD_SPEECH_START: count->starts++; break;
        case HEARKEN_VAD_SPEECH_END: count->ends++; break;
        default: break;
        }
    }
}

START_TEST(test_vad_silence_and_steady_noise_are_not_speech)
{
    HearkenVad *vad = hearken_vad_new(500);
    VadCount count = { 0 };

    hk_rng_state = 1;
    feed_signal(vad, 2.0, 0.0, 0.0, &count);
    ck_assert_int_eq(count.starts, 0);
    ck_assert_double_eq_tol(hearken_vad_get_level(vad), 0.0, 1e-9);
    hearken_vad_free(vad);

    /* a fan: loud, but steady, so it is the floor */
    vad = hearken_vad_new(500);
    feed_signal(vad, 5.0, 0.0, 0.05, &count);
    ck_assert_int_eq(count.starts, 0);
    ck_assert_double_gt(hearken_vad_get_floor(vad), -40.0);
    ck_assert_double_gt(hearken_vad_get_level(vad), 0.3);
    hearken_vad_free(vad);
}
END_TEST

START_TEST(test_vad_tone_bursts_in_noise_are_utterances)
{
    HearkenVad *vad = hearken_vad_new(400);
    VadCount count = { 0 };

    hk_rng_state = 2;
    feed_signal(vad, 1.0, 0.0, 0.01, &count);
    for (int burst = 0; burst < 3; burst++) {
        feed_signal(vad, 0.6, 0.3, 0.01, &count);
        ck_assert_int_eq(count.starts, burst + 1);
        ck_assert_double_gt(hearken_vad_get_level(vad), 0.5);
        /* a pause shorter than the silence keeps the utterance */
        feed_signal(vad, 0.2, 0.0, 0.01, &count);
        feed_signal(vad, 0.3, 0.3, 0.01, &count);
        ck_assert_int_eq(count.starts, burst + 1);
        ck_assert_int_eq(count.ends, burst);
        feed_signal(vad, 0.8, 0.0, 0.01, &count);
        ck_assert_int_eq(count.ends, burst + 1);
    }
    hearken_vad_free(vad);
}
END_TEST

START_TEST(test_vad_recognizer_flag_holds_the_utterance)
{
    HearkenVad *vad = hearken_vad_new(200);
    gint16 loud[HEARKEN_VAD_FRAME], quiet[HEARKEN_VAD_FRAME] = { 0 };
    int i;

    for (i = 0; i < HEARKEN_VAD_FRAME; i++)
        loud[i] = (gint16)(i % 2 ? 8000 : -8000);
    hearken_vad_feed(vad, quiet, FALSE);
    for (i = 0; i < 5; i++)
        hearken_vad_feed(vad, loud, FALSE);
    /* quiet for a second, but the recogniser still hears speech */
    for (i = 0; i < 50; i++)
        ck_assert_int_eq(hearken_vad_feed(vad, quiet, TRUE), HEARKEN_VAD_SPEECH);
    for (i = 0; i < 9; i++)
        ck_assert_int_eq(hearken_vad_feed(vad, quiet, FALSE), HEARKEN_VAD_SPEECH);
    ck_assert_int_eq(hearken_vad_feed(vad, quiet, FALSE), HEARKEN_VAD_SPEECH_END);
    hearken_vad_free(vad);
}
END_TEST

/* ----------------------------------------------------------- resampler */

/* RMS of out[skip..len-skip) relative to full scale. */
static double
rms(GArray *out, gsize skip)
{
    double sum = 0.0;
    gsize n = 0;

    for (gsize i = skip; i + skip < out->len; i++, n++)
        sum += pow(g_array_index(out, gint16, i) / 32768.0, 2);
    return sqrt(sum / MAX(n, 1));
}

static GArray *
resample_tone(guint in_rate, guint out_rate, double freq, double seconds, gsize piece)
{
    HearkenResampler *rs = hearken_resampler_new(in_rate, out_rate);
    GArray *out = g_array_new(FALSE, FALSE, sizeof(gint16));
    gsize n = (gsize)(in_rate * seconds);
    float *in = g_new(float, n);

    for (gsize i = 0; i < n; i++)
        in[i] = (float)(16384.0 * sin(2 * G_PI * freq * i / in_rate));
    for (gsize i = 0; i < n; i += piece)
        hearken_resampler_process(rs, in + i, MIN(piece, n - i), out);
    hearken_resampler_flush(rs, out);
    g_free(in);
    hearken_resampler_free(rs);
    return out;
}

START_TEST(test_resampler_keeps_the_pass_band)
{
    /* 1 kHz at 44.1 kHz: its amplitude (0.5, RMS 0.354) survives */
    GArray *out = resample_tone(44100, 16000, 1000.0, 1.0, 441);

    ck_assert_int_eq(out->len, 16000);
    ck_assert_double_eq_tol(rms(out, 200), 0.5 / sqrt(2.0), 0.01);
    g_array_unref(out);
}
END_TEST

START_TEST(test_resampler_removes_what_would_alias)
{
    /* 12 kHz cannot exist at 16 kHz; it would fold to 4 kHz */
    GArray *out = resample_tone(48000, 16000, 12000.0, 1.0, 1000);

    ck_assert_double_lt(rms(out, 200), 0.5 / sqrt(2.0) * 0.01);
    g_array_unref(out);
}
END_TEST

START_TEST(test_resampler_pieces_do_not_matter)
{
    GArray *whole = resample_tone(22050, 16000, 440.0, 0.5, 11025);
    GArray *bits = resample_tone(22050, 16000, 440.0, 0.5, 7);

    ck_assert_int_eq(whole->len, bits->len);
    ck_assert_int_eq(whole->len, 8000);
    ck_assert_mem_eq(whole->data, bits->data, whole->len * sizeof(gint16));
    g_array_unref(whole);
    g_array_unref(bits);
}
END_TEST

START_TEST(test_resampler_upsamples)
{
    GArray *out = resample_tone(8000, 16000, 500.0, 1.0, 100);

    ck_assert_int_eq(out->len, 16000);
    ck_assert_double_eq_tol(rms(out, 200), 0.5 / sqrt(2.0), 0.01);
    g_array_unref(out);
}
END_TEST

/* A broken float file's NaN samples are silence, its infinite ones full
 * scale, and neither wraps around to the other rail. */
START_TEST(test_resampler_survives_nan_and_infinity)
{
    HearkenResampler *rs = hearken_resampler_new(16000, 16000);
    GArray *out = g_array_new(FALSE, FALSE, sizeof(gint16));
    float in[1600];

    for (gsize i = 0; i < G_N_ELEMENTS(in); i++)
        in[i] = NAN;
    hearken_resampler_process(rs, in, G_N_ELEMENTS(in), out);
    ck_assert_uint_gt(out->len, 0);
    for (guint i = 0; i < out->len; i++)
        ck_assert_int_eq(g_array_index(out, gint16, i), 0);
    hearken_resampler_free(rs);
    g_array_unref(out);
}
END_TEST

/* ------------------------------------------------------- audio files */

/* A WAV header (16-bit mono) claiming rate, and 16000 samples. */
static char *
write_wav_claiming(const char *name, guint32 rate)
{
    char *path = g_build_filename(g_get_tmp_dir(), name, NULL);

    ck_assert(hk_write_silent_wav(path, rate, 16000));
    return path;
}

/* The resampler's filter grows with the rate: a header claiming 2 GHz
 * would take gigabytes before any audio is read. */
START_TEST(test_file_claiming_a_huge_rate_is_refused)
{
    char *path = write_wav_claiming("hearken-test-huge-rate.wav", 2000000000u);
    GError *error = NULL;
    HearkenAudioFile *file = hearken_audio_file_open(path, 600.0, &error);

    ck_assert_ptr_null(file);
    ck_assert(g_error_matches(error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_BAD_FILE));
    ck_assert_msg(strstr(error->message, "sample rate"), "%s", error->message);
    g_error_free(error);
    g_unlink(path);
    g_free(path);

    /* a real recorder's rate opens */
    path = write_wav_claiming("hearken-test-48k.wav", 48000);
    file = hearken_audio_file_open(path, 600.0, &error);
    ck_assert_msg(file != NULL, "%s", error ? error->message : "");
    hearken_audio_file_free(file);
    g_unlink(path);
    g_free(path);
}
END_TEST

/* ------------------------------------------------- capture from a file */

typedef struct {
    gint64  samples;
    gint64  first_us, last_us;
    gboolean stopped;
    gboolean had_error;
    GMutex  lock;
} Captured;

static void
captured_samples(const gint16 *samples, gsize n, gpointer user_data)
{
    Captured *c = user_data;

    g_mutex_lock(&c->lock);
    if (!c->samples)
        c->first_us = g_get_monotonic_time();
    c->samples += n;
    g_mutex_unlock(&c->lock);
}

static void
captured_stopped(const GError *error, gpointer user_data)
{
    Captured *c = user_data;

    g_mutex_lock(&c->lock);
    c->last_us = g_get_monotonic_time();
    c->had_error = error != NULL;
    c->stopped = TRUE;
    g_mutex_unlock(&c->lock);
}

/* A WAV of 1 s of a tone at 44.1 kHz stereo, written by hand. */
static char *
write_tone_wav(const char *dir)
{
    char *path = g_build_filename(dir, "tone.wav", NULL);
    guint32 rate = 44100, frames = 44100, data = frames * 4;
    GByteArray *b = g_byte_array_new();
    guint32 u32;
    guint16 u16;

#define PUT(v, t) do { t = (v); g_byte_array_append(b, (guint8 *)&t, sizeof t); } while (0)
    g_byte_array_append(b, (const guint8 *)"RIFF", 4); PUT(36 + data, u32);
    g_byte_array_append(b, (const guint8 *)"WAVEfmt ", 8); PUT(16, u32);
    PUT(1, u16); PUT(2, u16); PUT(rate, u32); PUT(rate * 4, u32); PUT(4, u16); PUT(16, u16);
    g_byte_array_append(b, (const guint8 *)"data", 4); PUT(data, u32);
    for (guint32 i = 0; i < frames; i++) {
        gint16 s = (gint16)lrint(8000 * sin(2 * G_PI * 440 * i / rate));
        PUT(s, u16); PUT(s, u16);
    }
#undef PUT
    ck_assert(g_file_set_contents(path, (const char *)b->data, b->len, NULL));
    g_byte_array_unref(b);
    return path;
}

START_TEST(test_capture_file_plays_in_real_time)
{
    static const HearkenCaptureCallbacks callbacks = { captured_samples, captured_stopped };
    char *dir = g_dir_make_tmp("hk-audio-XXXXXX", NULL);
    char *path = write_tone_wav(dir);
    Captured c = { 0 };
    GError *error = NULL;
    HearkenCapture *capture;
    gint64 start = g_get_monotonic_time();
    gboolean stopped = FALSE;

    g_mutex_init(&c.lock);
    capture = hearken_capture_start_file(path, 60, &callbacks, &c, &error);
    ck_assert_msg(capture != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(hearken_capture_get_source_rate(capture), 16000);
    while (!stopped && g_get_monotonic_time() - start < 10 * G_USEC_PER_SEC) {
        g_usleep(10000);
        g_mutex_lock(&c.lock);
        stopped = c.stopped;
        g_mutex_unlock(&c.lock);
    }
    ck_assert(stopped);
    ck_assert(!c.had_error);
    ck_assert_int_eq(c.samples, 16000);
    /* a second of audio takes about a second, as from a microphone */
    ck_assert_int_ge(c.last_us - start, 900000);
    ck_assert_uint_eq(hearken_capture_get_dropped(capture), 0);
    hearken_capture_stop(capture);
    g_mutex_clear(&c.lock);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}
END_TEST

START_TEST(test_capture_missing_file_fails)
{
    static const HearkenCaptureCallbacks callbacks = { captured_samples, captured_stopped };
    GError *error = NULL;

    ck_assert_ptr_null(hearken_capture_start_file("/nonexistent/x.wav", 60, &callbacks,
                                                  NULL, &error));
    ck_assert_ptr_nonnull(error);
    ck_assert_ptr_nonnull(strstr(error->message, "/nonexistent/x.wav"));
    g_error_free(error);
}
END_TEST

static Suite *
audio_suite(void)
{
    Suite *s = suite_create("audio");
    TCase *ring = tcase_create("ring");
    TCase *vad = tcase_create("vad");
    TCase *resampler = tcase_create("resampler");
    TCase *capture = tcase_create("capture");

    tcase_add_test(ring, test_ring_wraps_around);
    tcase_add_test(ring, test_ring_full_drops_and_counts);
    tcase_add_test(ring, test_ring_two_threads_keep_order);
    tcase_add_test(vad, test_vad_silence_and_steady_noise_are_not_speech);
    tcase_add_test(vad, test_vad_tone_bursts_in_noise_are_utterances);
    tcase_add_test(vad, test_vad_recognizer_flag_holds_the_utterance);
    tcase_add_test(resampler, test_resampler_keeps_the_pass_band);
    tcase_add_test(resampler, test_resampler_removes_what_would_alias);
    tcase_add_test(resampler, test_resampler_pieces_do_not_matter);
    tcase_add_test(resampler, test_resampler_upsamples);
    tcase_add_test(resampler, test_resampler_survives_nan_and_infinity);
    tcase_add_test(resampler, test_file_claiming_a_huge_rate_is_refused);
    tcase_add_test(capture, test_capture_file_plays_in_real_time);
    tcase_add_test(capture, test_capture_missing_file_fails);
    suite_add_tcase(s, ring);
    suite_add_tcase(s, vad);
    suite_add_tcase(s, resampler);
    suite_add_tcase(s, capture);
    return s;
}

HK_CHECK_MAIN(audio_suite)
