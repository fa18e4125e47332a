/* hearken-generator.h — a language model in memory, turning a
 * conversation into a reply.
 *
 * Wraps the engine (GGUF file, tokenizer, backend, model, session) and
 * translates its errors into GErrors; the only file of the service that
 * drives the engine's generation.  Used from the scheduler's worker
 * thread, one call at a time.
 */
#pragma once

#include <glib-object.h>

#include "chat-template.h"

G_BEGIN_DECLS

typedef struct {
  double   temperature;
  double   top_p;
  guint    max_tokens;
  guint64  seed;
} HearkenSampling;

typedef struct {
  guint    prompt_tokens;
  guint    tokens;              /* generated */
  double   tokens_per_second;   /* of the generation, prompt excluded */
} HearkenGenerationStats;

/* Called for each piece of the reply (whole UTF-8 characters); return
 * FALSE to stop, which ends the reply without an error. */
typedef gboolean (*HearkenPieceFunc) (const char *text,
                                      gpointer    user_data);

/* Where a model runs.  The scheduler copies it with the turn. */
typedef struct {
  const char *backend;         /* "auto", "vulkan" or "cpu", as the setting asks */
  int         vulkan_device;   /* -1: the best-ranked device */
  guint       threads;         /* the CPU backend's; 0: one per core */
} HearkenPlacement;

#define HEARKEN_TYPE_GENERATOR (hearken_generator_get_type ())

G_DECLARE_FINAL_TYPE (HearkenGenerator, hearken_generator, HEARKEN, GENERATOR, GObject)

/* n_ctx: context in tokens, at most the model's.  A backend that cannot
 * start leaves the model on the CPU (see get_backend_reason).
 * Errors: HEARKEN_ERROR_MODEL_LOAD. */
HearkenGenerator *hearken_generator_new         (const char              *path,
                                                 const HearkenPlacement  *placement,
                                                 guint                    n_ctx,
                                                 GError                 **error);

/* Whether the file on disk is no longer what was loaded: replaced,
 * rewritten, removed, or cut short while in use. */
gboolean          hearken_generator_file_changed (HearkenGenerator       *self);

/* Whether this is the model a turn with these settings needs (and the
 * file is still what was loaded). */
gboolean          hearken_generator_matches     (HearkenGenerator        *self,
                                                 const char              *path,
                                                 const HearkenPlacement  *placement,
                                                 guint                    n_ctx);

const char       *hearken_generator_get_path    (HearkenGenerator        *self);
/* general.name, or the file name without .gguf. */
const char       *hearken_generator_get_name    (HearkenGenerator        *self);
const char       *hearken_generator_get_backend (HearkenGenerator        *self);
const char       *hearken_generator_get_device  (HearkenGenerator        *self);
/* Why the model runs where it does: the choice at load, or why a device
 * that failed during a turn was left for the CPU. */
const char       *hearken_generator_get_backend_reason (HearkenGenerator *self);

/* The assistant's reply to messages (system first, if any; the last is the
 * user's), rendered in the model's chat format.  When the conversation
 * does not fit in the context, its oldest turns are left out; when even
 * the last message does not fit: HEARKEN_ERROR_TOO_LONG.  The KV cache of
 * the last reply is kept: the next turn of that conversation reads only
 * its new tokens (stats->prompt_tokens counts the tokens read). */
gboolean          hearken_generator_reply       (HearkenGenerator        *self,
                                                 const hk_chat_message   *messages,
                                                 gsize                    n_messages,
                                                 const HearkenSampling   *sampling,
                                                 HearkenPieceFunc         piece_func,
                                                 gpointer                 user_data,
                                                 HearkenGenerationStats  *ret_stats,
                                                 GError                 **error);

G_END_DECLS
