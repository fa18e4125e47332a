/* hearken-recognizer-sphinx.c — hearken-recognizer.h on CMU PocketSphinx
 * (5prealpha, as Debian ships it). */
#include "hearken-recognizer.h"

#include <pocketsphinx.h>
#include <sphinxbase/err.h>

#include "hearken-audio-error.h"

/* PocketSphinx's models, from pkg-config (pocketsphinx-en-us). */
#define ACOUSTIC_MODEL   SPHINX_MODEL_DIR "/en-us/en-us"
#define DICTATION_LM     SPHINX_MODEL_DIR "/en-us/en-us.lm.bin"
#define DICTATION_DICT   SPHINX_MODEL_DIR "/en-us/cmudict-en-us.dict"

struct _HearkenRecognizer
{
  ps_decoder_t *decoder;
  cmd_ln_t     *config;
  gboolean      in_utterance;
};

gboolean
hearken_recognizer_models_installed (const char **ret_where)
{
  if (ret_where)
    *ret_where = ACOUSTIC_MODEL;
  return g_file_test (ACOUSTIC_MODEL "/mdef", G_FILE_TEST_IS_REGULAR);
}

static gboolean
check_model_file (const char  *path,
                  const char  *what,
                  GError     **error)
{
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return TRUE;
  g_set_error (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_NO_MODEL,
               "The %s %s is missing: install pocketsphinx-en-us (and Hearken’s data)",
               what, path);
  return FALSE;
}

/* Decoder settings tuned on spoken commands (tests/voice): the command
 * model is small and trusted (a high language weight); a wider Gaussian
 * selection (topn) recovers words the default drops; dither (with a fixed
 * seed, so results repeat) keeps digital silence from confusing the
 * front end, which real microphones never deliver. */
static cmd_ln_t *
make_config (HearkenRecognizerMode  mode,
             const char            *lm,
             const char            *dict)
{
  gboolean command = mode == HEARKEN_RECOGNIZER_COMMAND;

  return cmd_ln_init (NULL, ps_args (), TRUE,
                      "-hmm", ACOUSTIC_MODEL,
                      "-lm", lm,
                      "-dict", dict,
                      "-samprate", "16000",
                      "-lw", command ? "12" : "6.5",
                      "-topn", "16",
                      "-dither", "yes",
                      "-seed", "1",
                      "-logfn", "/dev/null",
                      NULL);
}

HearkenRecognizer *
hearken_recognizer_new (HearkenRecognizerMode   mode,
                        const char             *command_dir,
                        GError                **error)
{
  g_autoptr(HearkenRecognizer) self = g_new0 (HearkenRecognizer, 1);
  g_autofree char *lm = NULL;
  g_autofree char *dict = NULL;

  g_return_val_if_fail (mode == HEARKEN_RECOGNIZER_DICTATION || command_dir, NULL);

  if (mode == HEARKEN_RECOGNIZER_COMMAND)
    {
      lm = g_build_filename (command_dir, "commands.lm", NULL);
      dict = g_build_filename (command_dir, "commands.dict", NULL);
    }
  else
    {
      lm = g_strdup (DICTATION_LM);
      dict = g_strdup (DICTATION_DICT);
    }
  if (!check_model_file (ACOUSTIC_MODEL "/mdef", "acoustic model", error) ||
      !check_model_file (lm, "language model", error) ||
      !check_model_file (dict, "pronunciation dictionary", error))
    return NULL;

  /* PocketSphinx logs to stderr by default: the daemon's log is ours */
  err_set_logfp (NULL);
  self->config = make_config (mode, lm, dict);
  if (self->config)
    self->decoder = ps_init (self->config);
  if (!self->decoder)
    {
      g_set_error (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_NO_MODEL,
                   "PocketSphinx could not load its models (%s, %s)", lm, dict);
      return NULL;
    }
  return g_steal_pointer (&self);
}

void
hearken_recognizer_free (HearkenRecognizer *self)
{
  if (!self)
    return;
  if (self->decoder)
    ps_free (self->decoder);
  if (self->config)
    cmd_ln_free_r (self->config);
  g_free (self);
}

static gboolean
sphinx_failed (const char  *what,
               GError     **error)
{
  g_set_error (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_FAILED,
               "The speech recogniser failed to %s", what);
  return FALSE;
}

gboolean
hearken_recognizer_start (HearkenRecognizer  *self,
                          GError            **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (self->in_utterance)
    ps_end_utt (self->decoder);
  self->in_utterance = FALSE;
  if (ps_start_utt (self->decoder) < 0)
    return sphinx_failed ("start an utterance", error);
  self->in_utterance = TRUE;
  return TRUE;
}

gboolean
hearken_recognizer_feed (HearkenRecognizer  *self,
                         const gint16       *samples,
                         gsize               n,
                         GError            **error)
{
  g_return_val_if_fail (self != NULL && self->in_utterance, FALSE);

  if (n > 0 && ps_process_raw (self->decoder, samples, n, FALSE, FALSE) < 0)
    return sphinx_failed ("process audio", error);
  return TRUE;
}

gboolean
hearken_recognizer_in_speech (HearkenRecognizer *self)
{
  return self->in_utterance && ps_get_in_speech (self->decoder);
}

static char *
current_hypothesis (HearkenRecognizer *self)
{
  int32 score;
  const char *hyp = ps_get_hyp (self->decoder, &score);

  return g_strdup (hyp ? hyp : "");
}

char *
hearken_recognizer_partial (HearkenRecognizer *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (!self->in_utterance)
    return g_strdup ("");
  return current_hypothesis (self);
}

char *
hearken_recognizer_decode (HearkenRecognizer  *self,
                           const gint16       *samples,
                           gsize               n,
                           double             *ret_confidence,
                           GError            **error)
{
  g_return_val_if_fail (self != NULL && !self->in_utterance, NULL);

  if (!hearken_recognizer_start (self, error))
    return NULL;
  if (n > 0 && ps_process_raw (self->decoder, samples, n, FALSE, TRUE) < 0)
    {
      ps_end_utt (self->decoder);
      self->in_utterance = FALSE;
      sphinx_failed ("process audio", error);
      return NULL;
    }
  return hearken_recognizer_finish (self, ret_confidence, error);
}

char *
hearken_recognizer_finish (HearkenRecognizer  *self,
                           double             *ret_confidence,
                           GError            **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (self != NULL && self->in_utterance, NULL);

  self->in_utterance = FALSE;
  if (ps_end_utt (self->decoder) < 0)
    {
      sphinx_failed ("end an utterance", error);
      return NULL;
    }
  text = current_hypothesis (self);
  if (ret_confidence)
    *ret_confidence = *text ? logmath_exp (ps_get_logmath (self->decoder),
                                           ps_get_prob (self->decoder))
                            : 0.0;
  return g_steal_pointer (&text);
}
