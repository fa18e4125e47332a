/* fuzz-audio.c — libFuzzer target for the audio file reader.
 *
 * `hearken transcribe FILE` hands any file to hearken-audio-file.c, which
 * reads it through libsndfile by descriptor.  Each input is written to a
 * memfd and opened through /proc/self/fd, then read to its end as the
 * transcriber does.  Any bytes either open and read or fail with a
 * message; what reads comes out as 16 kHz mono, never more of it than the
 * length limit allows.  The limit is a few seconds, so a header claiming
 * hours is refused at once, as the real ten-minute limit refuses it.
 */
#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "hearken-audio-error.h"
#include "hearken-audio-file.h"

#define REQUIRE(cond) do { if (!(cond)) __builtin_trap(); } while (0)

#include "fuzz-memfd.h"

#define MAX_SECONDS 4.0

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libsndfile 1.2.0 (Debian 12) drops the Vorbis decoder's state when an
 * OGG file's headers turn out broken (found here, reproduced with
 * sf_open and sf_close alone on corpus/audio/bad-truncated.ogg). */
const char *
__lsan_default_suppressions(void)
{
    return "leak:vorbis_info_init\n";
}


/* Descriptors open on the input: only the target's own after each input,
 * or the reader leaked one. */
static int
input_fds(void)
{
    g_autoptr(GDir) fds = g_dir_open("/proc/self/fd", 0, NULL);
    const char *name;
    struct stat input, other;
    int count = 0;

    REQUIRE(fds && fstat(fuzz_input_fd, &input) == 0);
    while ((name = g_dir_read_name(fds))) {
        int n = atoi(name);

        if (fstat(n, &other) == 0 && other.st_dev == input.st_dev && other.st_ino == input.st_ino)
            count++;
    }
    return count;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_input_create("audio");
    return 0;
}

static void
require_audio_error(const GError *error)
{
    REQUIRE(error && error->domain == HEARKEN_AUDIO_ERROR);
    REQUIRE(error->code == HEARKEN_AUDIO_ERROR_BAD_FILE || error->code == HEARKEN_AUDIO_ERROR_TOO_LONG);
    REQUIRE(error->message && *error->message);
}

/* The file's samples, piece by piece, to the end or an error. */
static void
read_all(HearkenAudioFile *file)
{
    g_autoptr(GArray) piece = g_array_new(FALSE, FALSE, sizeof(gint16));
    g_autoptr(GError) error = NULL;
    /* the resampler's output for n input frames, rounded up, plus its flush */
    double max_samples = MAX_SECONDS * HEARKEN_AUDIO_RATE + 2;
    double samples = 0;

    for (;;) {
        if (!hearken_audio_file_read(file, piece, &error)) {
            require_audio_error(error);
            return;
        }
        REQUIRE(!error);
        if (piece->len == 0)
            break;
        samples += piece->len;
        REQUIRE(samples <= max_samples);
    }
    /* the end stays the end */
    REQUIRE(hearken_audio_file_read(file, piece, &error) && piece->len == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(HearkenAudioFile) file = NULL;
    double seconds;

    fuzz_input_write(data, size);
    file = hearken_audio_file_open(fuzz_input_path, MAX_SECONDS, &error);
    if (!file) {
        require_audio_error(error);
        REQUIRE(input_fds() == 1);
        return 0;
    }
    REQUIRE(!error);
    seconds = hearken_audio_file_get_duration(file);
    REQUIRE(isfinite(seconds) && seconds >= 0 && seconds <= MAX_SECONDS);
    REQUIRE(hearken_audio_file_get_rate(file) > 0 && hearken_audio_file_get_channels(file) > 0);
    read_all(file);
    g_clear_pointer(&file, hearken_audio_file_free);
    REQUIRE(input_fds() == 1);
    return 0;
}
