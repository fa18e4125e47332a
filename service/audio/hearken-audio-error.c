/* hearken-audio-error.c — the error domain of the voice input library. */
#include "hearken-audio-error.h"

G_DEFINE_QUARK (hearken-audio-error-quark, hearken_audio_error)
