/* hearken-generator.c — the engine behind one loaded model. */
#include "hearken-generator.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend-failover.h"
#include "backend-select.h"
#include "gguf.h"
#include "map-guard.h"
#include "hearken-error.h"
#include "model.h"
#include "session.h"
#include "tokenizer.h"

struct _HearkenGenerator
{
  GObject          parent_instance;

  char            *path;
  char            *name;
  char            *backend_asked;
  int              vulkan_device;
  guint            threads;
  guint            n_ctx_asked;
  hk_chat_format   format;

  hk_gguf         *gguf;
  hk_tokenizer    *tokenizer;
  hk_backend      *backend;
  char             select_reason[HK_BACKEND_REASON_MAX];
  GStatBuf         file_stat;    /* the file as loaded */
  hk_model        *model;
  hk_session      *session;
  /* (n_past,) the tokens whose keys and values the session holds: the
   * next turn of a conversation reads only what follows them */
  GArray          *cached;
  /* the text those tokens spell, the last prompt's markup included */
  GString         *cached_text;
};

G_DEFINE_FINAL_TYPE (HearkenGenerator, hearken_generator, G_TYPE_OBJECT)

/* Text a model may write when its end-of-turn marker is not a single
 * token of its vocabulary: the reply ends there. */
static const char *const chatml_stops[] = { "<|im_end|>", "<|im_start|>" };
static const char *const llama2_stops[] = { "[INST]" };
static const char *const llama3_stops[] = { "<|eot_id|>", "<|start_header_id|>" };
static const char *const zephyr_stops[] = { "</s>", "<|user|>" };
static const char *const phi3_stops[]   = { "<|end|>", "<|user|>" };
static const char *const gemma_stops[]  = { "<end_of_turn>", "<start_of_turn>" };

static const char *const *
stops_for (hk_chat_format format,
           gsize         *ret_n)
{
  switch (format)
    {
    case HK_CHAT_CHATML:  *ret_n = G_N_ELEMENTS (chatml_stops); return chatml_stops;
    case HK_CHAT_LLAMA2:
    case HK_CHAT_MISTRAL: *ret_n = G_N_ELEMENTS (llama2_stops); return llama2_stops;
    case HK_CHAT_LLAMA3:  *ret_n = G_N_ELEMENTS (llama3_stops); return llama3_stops;
    case HK_CHAT_ZEPHYR:  *ret_n = G_N_ELEMENTS (zephyr_stops); return zephyr_stops;
    case HK_CHAT_PHI3:    *ret_n = G_N_ELEMENTS (phi3_stops);   return phi3_stops;
    case HK_CHAT_GEMMA:   *ret_n = G_N_ELEMENTS (gemma_stops);  return gemma_stops;
    default:              *ret_n = 0;                           return NULL;
    }
}

static void
hearken_generator_finalize (GObject *object)
{
  HearkenGenerator *self = (HearkenGenerator *) object;

  /* The session uses the model, the model the backend and the mapping. */
  g_clear_pointer (&self->session, hk_session_free);
  g_clear_pointer (&self->cached, g_array_unref);
  if (self->cached_text)
    g_string_free (self->cached_text, TRUE);
  g_clear_pointer (&self->model, hk_model_free);
  g_clear_pointer (&self->backend, hk_backend_free);
  g_clear_pointer (&self->tokenizer, hk_tokenizer_free);
  g_clear_pointer (&self->gguf, hk_gguf_close);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->backend_asked, g_free);

  G_OBJECT_CLASS (hearken_generator_parent_class)->finalize (object);
}

static void
hearken_generator_class_init (HearkenGeneratorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hearken_generator_finalize;
}

static void
hearken_generator_init (HearkenGenerator *self)
{
  self->cached = g_array_new (FALSE, FALSE, sizeof (int32_t));
  self->cached_text = g_string_new (NULL);
}

static char *
model_name (const hk_gguf *g,
            const char    *path)
{
  hk_gguf_str value;
  g_autofree char *name = NULL;
  g_autofree char *base = NULL;

  if (hk_gguf_get_str (g, "general.name", &value) && value.len > 0)
    {
      name = hk_gguf_str_dup (value);
      if (name && g_utf8_validate (name, -1, NULL))
        return g_steal_pointer (&name);
    }
  base = g_filename_display_basename (path);
  if (g_str_has_suffix (base, ".gguf"))
    base[strlen (base) - strlen (".gguf")] = '\0';
  return g_steal_pointer (&base);
}

static hk_chat_format
chat_format (const hk_gguf *g)
{
  hk_gguf_str value;
  g_autofree char *template_text = NULL;

  if (hk_gguf_get_str (g, "tokenizer.chat_template", &value))
    template_text = hk_gguf_str_dup (value);
  return hk_chat_detect (template_text, NULL);
}

static gboolean
open_session (HearkenGenerator  *self,
              hk_error          *err)
{
  hk_session_params params;
  guint n_ctx_train = hk_model_hparams (self->model)->n_ctx_train;

  hk_session_params_init (&params);
  params.n_ctx = n_ctx_train > 0 ? MIN (self->n_ctx_asked, n_ctx_train) : self->n_ctx_asked;
  return hk_session_new (self->model, self->tokenizer, &params, &self->session, err) == 0;
}

static int
select_backend (HearkenGenerator *self,
                hk_error         *err)
{
  hk_backend_request request;

  hk_backend_request_init (&request);
  request.backend = self->backend_asked;
  request.n_threads = (int) MIN (self->threads, G_MAXINT);
  request.vulkan_device = self->vulkan_device;
  return hk_backend_select (&request, &self->backend, self->select_reason, err);
}

/* What the kernel could give without swapping, or 0 when it does not
 * say. */
static guint64
memory_available (void)
{
  g_autofree char *meminfo = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL) ||
      !(line = strstr (meminfo, "MemAvailable:")))
    return 0;
  return g_ascii_strtoull (line + strlen ("MemAvailable:"), NULL, 10) * 1024;
}

/* Refuses a model the machine cannot hold before anything is allocated:
 * running out of memory halfway would take the whole session down. */
static gboolean
check_memory (HearkenGenerator *self,
              hk_error         *err)
{
  guint64 need, have = memory_available ();
  g_autofree char *need_text = NULL;
  g_autofree char *have_text = NULL;

  if (hk_model_memory_needed (self->gguf, self->n_ctx_asked, HK_SESSION_DEFAULT_BATCH,
                              &need, err) < 0)
    return FALSE;
  if (have == 0 || need <= have)
    return TRUE;
  need_text = g_format_size (need);
  have_text = g_format_size (have);
  hk_error_set (err, -ENOMEM, "it needs about %s of memory with a context of %u tokens, and "
                "%s is available; close other programs, or choose a smaller model or a "
                "shorter context", need_text, self->n_ctx_asked, have_text);
  return FALSE;
}

HearkenGenerator *
hearken_generator_new (const char              *path,
                       const HearkenPlacement  *placement,
                       guint                    n_ctx,
                       GError                 **error)
{
  g_autoptr(HearkenGenerator) self = NULL;
  g_autofree char *display = NULL;
  hk_error err = { 0 };

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (placement != NULL && placement->backend != NULL, NULL);
  g_return_val_if_fail (n_ctx > 0, NULL);

  self = g_object_new (HEARKEN_TYPE_GENERATOR, NULL);
  self->path = g_strdup (path);
  self->backend_asked = g_strdup (placement->backend);
  self->vulkan_device = placement->vulkan_device;
  self->threads = placement->threads;
  self->n_ctx_asked = n_ctx;

  if (g_stat (path, &self->file_stat) < 0)
    {
      int saved_errno = errno;

      display = g_filename_display_name (path);
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_MODEL_LOAD,
                   "Could not load the model %s: %s", display, g_strerror (saved_errno));
      return NULL;
    }
  if (hk_map_guard_install (&err) < 0 ||
      hk_gguf_open (path, &self->gguf, &err) < 0 ||
      !check_memory (self, &err) ||
      hk_tokenizer_load (self->gguf, &self->tokenizer, &err) < 0 ||
      select_backend (self, &err) < 0 ||
      hk_model_load (self->gguf, self->backend, &self->model, &err) < 0 ||
      !open_session (self, &err))
    {
      display = g_filename_display_name (path);
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_MODEL_LOAD,
                   "Could not load the model %s: %s", display, err.message);
      return NULL;
    }

  self->name = model_name (self->gguf, path);
  self->format = chat_format (self->gguf);
  return g_steal_pointer (&self);
}

gboolean
hearken_generator_matches (HearkenGenerator       *self,
                           const char             *path,
                           const HearkenPlacement *placement,
                           guint                   n_ctx)
{
  g_return_val_if_fail (HEARKEN_IS_GENERATOR (self), FALSE);

  return g_str_equal (self->path, path) &&
         !hearken_generator_file_changed (self) &&
         g_strcmp0 (self->backend_asked, placement->backend) == 0 &&
         self->vulkan_device == placement->vulkan_device &&
         self->threads == placement->threads &&
         self->n_ctx_asked == n_ctx;
}

gboolean
hearken_generator_file_changed (HearkenGenerator *self)
{
  GStatBuf now;

  g_return_val_if_fail (HEARKEN_IS_GENERATOR (self), FALSE);

  if (hk_gguf_damaged (self->gguf) || g_stat (self->path, &now) < 0)
    return TRUE;
  return now.st_dev != self->file_stat.st_dev || now.st_ino != self->file_stat.st_ino ||
         now.st_size != self->file_stat.st_size ||
         now.st_mtime != self->file_stat.st_mtime;
}

const char *
hearken_generator_get_path (HearkenGenerator *self)
{
  g_return_val_if_fail (HEARKEN_IS_GENERATOR (self), NULL);

  return self->path;
}

const char *
hearken_generator_get_name (HearkenGenerator *self)
{
  g_return_val_if_fail (HEARKEN_IS_GENERATOR (self), NULL);

  return self->name;
}

const char *
hearken_generator_get_backend (HearkenGenerator *self)
{
  g_return_val_if_fail (HEARKEN_IS_GENERATOR (self), NULL);

  return hk_backend_name (self->backend);
}

const char *
hearken_generator_get_device (HearkenGenerator *self)
{
  g_return_val_if_fail (HEARKEN_IS_GENERATOR (self), NULL);

  return hk_backend_description (self->backend);
}

const char *
hearken_generator_get_backend_reason (HearkenGenerator *self)
{
  const char *failed_over;

  g_return_val_if_fail (HEARKEN_IS_GENERATOR (self), NULL);

  failed_over = hk_backend_failover_reason (self->backend);
  return failed_over ? failed_over : self->select_reason;
}

/* ------------------------------------------------------------- replies */

typedef struct {
  HearkenPieceFunc  func;
  gpointer          user_data;
  gboolean          stopped;
  GArray           *generated;   /* the reply's tokens */
  const hk_gguf    *gguf;        /* a file cut short ends the reply */
} PieceRelay;

static bool
relay_piece (const char *text,
             int32_t     token,
             void       *user)
{
  PieceRelay *relay = user;

  if (hk_gguf_damaged (relay->gguf))
    return false;
  if (token >= 0)
    g_array_append_val (relay->generated, token);
  if (!*text)
    return true;
  if (!relay->func (text, relay->user_data))
    relay->stopped = TRUE;
  return !relay->stopped;
}

/* Tokens of text, or -1 when it cannot be encoded.  special: text is a
 * rendered prompt, markup included. */
static gssize
count_tokens (HearkenGenerator *self,
              const char       *text,
              gboolean          special)
{
  int32_t *ids = NULL;
  size_t n = 0;

  if (hk_tokenizer_encode (self->tokenizer, text, strlen (text), special, special, &ids, &n, NULL) < 0)
    return -1;
  free (ids);
  return (gssize) n;
}

static guint64
content_tokens (HearkenGenerator *self,
                const char       *content)
{
  gssize n = count_tokens (self, content, FALSE);

  return n > 0 ? (guint64) n : 0;
}

/* The oldest message worth trying: walking back from the newest while
 * the messages' own tokens, the system message's included, fit in budget.
 * The chat markup comes on top, so the rendered prompt is still checked;
 * this only keeps a long history from being tokenized again and again. */
static gsize
first_candidate (HearkenGenerator      *self,
                 const hk_chat_message *messages,
                 gsize                  n_messages,
                 gsize                  n_system,
                 guint                  budget)
{
  guint64 total = 0;
  gsize from = n_messages - 1;

  for (gsize i = 0; i < n_system; i++)
    total += content_tokens (self, messages[i].content);
  /* the newest message is kept whatever its length */
  total += content_tokens (self, messages[from].content);
  while (from > n_system)
    {
      total += content_tokens (self, messages[from - 1].content);
      if (total > budget)
        break;
      from--;
    }
  return from;
}

/* The system message, then messages[from…n), in the chat format. */
static char *
render (HearkenGenerator      *self,
        const hk_chat_message *messages,
        gsize                  n_messages,
        gsize                  n_system,
        gsize                  from)
{
  g_autofree hk_chat_message *kept = g_new (hk_chat_message, n_messages);
  gsize n = 0;

  for (gsize i = 0; i < n_system; i++)
    kept[n++] = messages[i];
  for (gsize i = from; i < n_messages; i++)
    kept[n++] = messages[i];
  return hk_chat_render (self->format, kept, n, TRUE);
}

/* The prompt for the most recent messages that leave room for the reply:
 * at least half the context, or max_tokens when that is less. */
static char *
fitting_prompt (HearkenGenerator       *self,
                const hk_chat_message  *messages,
                gsize                   n_messages,
                guint                   max_tokens,
                GError                **error)
{
  guint n_ctx = hk_session_n_ctx (self->session);
  guint reserve = MIN (max_tokens, n_ctx / 2);
  gsize n_system = n_messages > 1 && g_str_equal (messages[0].role, "system") ? 1 : 0;
  gsize from = first_candidate (self, messages, n_messages, n_system, n_ctx - reserve);

  /* a conversation restarts on a user message */
  while (from < n_messages - 1 && !g_str_equal (messages[from].role, "user"))
    from++;

  for (;;)
    {
      char *prompt = render (self, messages, n_messages, n_system, from);
      gssize n_tokens = count_tokens (self, prompt, TRUE);
      gsize next = from + 1;

      if (n_tokens >= 0 && (guint) n_tokens + reserve <= n_ctx)
        return prompt;
      /* a conversation restarts on a user message */
      while (next < n_messages - 1 && !g_str_equal (messages[next].role, "user"))
        next++;
      if (next >= n_messages)
        {
          /* only the last message is left: the reply gets what room remains */
          if (n_tokens >= 0 && (guint) n_tokens < n_ctx)
            return prompt;
          free (prompt);
          g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_TOO_LONG,
                       "The message does not fit in the model’s context of %u tokens; "
                       "shorten it or raise the context-length setting", n_ctx);
          return NULL;
        }
      free (prompt);
      from = next;
    }
}

static void
forget_cache (HearkenGenerator *self)
{
  hk_session_clear (self->session);
  g_array_set_size (self->cached, 0);
  g_string_truncate (self->cached_text, 0);
}

/* The prompt's tokens.  When it continues the text the cache spells (the
 * last prompt and the reply the model wrote), those tokens are taken as
 * they are and only the rest is encoded: the reply's own tokens, which
 * encoding its text again need not give back. */
static int
encode_prompt (HearkenGenerator  *self,
               const char        *prompt,
               int32_t          **ret_ids,
               size_t            *ret_n,
               hk_error          *err)
{
  size_t n_cached = self->cached->len;
  const char *rest = prompt + self->cached_text->len;
  int32_t *rest_ids = NULL;
  size_t n_rest = 0;

  if (n_cached == 0 || !g_str_has_prefix (prompt, self->cached_text->str) || !*rest)
    return hk_tokenizer_encode (self->tokenizer, prompt, strlen (prompt),
                                hk_tokenizer_wants_bos (self->tokenizer), TRUE, ret_ids, ret_n, err);
  if (hk_tokenizer_encode (self->tokenizer, rest, strlen (rest), FALSE, TRUE, &rest_ids, &n_rest, err) < 0)
    return -1;
  *ret_ids = g_new (int32_t, n_cached + n_rest);
  memcpy (*ret_ids, self->cached->data, n_cached * sizeof (int32_t));
  memcpy (*ret_ids + n_cached, rest_ids, n_rest * sizeof (int32_t));
  free (rest_ids);
  *ret_n = n_cached + n_rest;
  return 0;
}

/* The text of the reply's tokens the session fed back, as the stream gave
 * it: the detokenizer starts after the prompt's last token. */
static void
append_reply_text (HearkenGenerator *self,
                   int32_t           last_prompt_token,
                   const int32_t    *fed,
                   guint             n_fed)
{
  hk_detokenizer *detok = hk_detokenizer_new (self->tokenizer);

  hk_detokenizer_push (detok, last_prompt_token);
  for (guint i = 0; i < n_fed; i++)
    g_string_append (self->cached_text, hk_detokenizer_push (detok, fed[i]));
  g_string_append (self->cached_text, hk_detokenizer_flush (detok));
  hk_detokenizer_free (detok);
}

/* Keep the tokens the prompt shares with the cache, at least one short of
 * the whole prompt (its last token's logits start the reply); returns how
 * many are kept. */
static guint
reuse_cache (HearkenGenerator *self,
             const int32_t    *ids,
             size_t            n_ids)
{
  const int32_t *cached = (const int32_t *) (gpointer) self->cached->data;
  guint keep = 0;

  while (keep < self->cached->len && keep + 1 < n_ids && cached[keep] == ids[keep])
    keep++;
  hk_session_truncate (self->session, keep);
  g_array_set_size (self->cached, keep);
  return keep;
}

/* After a reply: the cache holds the prompt's new tokens, then the reply's
 * tokens the session fed back (not the last one it sampled). */
static void
remember_cache (HearkenGenerator *self,
                const char       *prompt,
                const int32_t    *read,
                size_t            n_read,
                GArray           *generated)
{
  guint n_past = hk_session_n_past (self->session);
  guint n_fed;

  g_array_append_vals (self->cached, read, n_read);
  g_string_assign (self->cached_text, prompt);
  n_fed = n_past >= self->cached->len ? n_past - self->cached->len : G_MAXUINT;
  if (n_fed > generated->len)
    {
      /* not what the session holds: start the next turn afresh */
      forget_cache (self);
      return;
    }
  g_array_append_vals (self->cached, generated->data, n_fed);
  append_reply_text (self, read[n_read - 1], (const int32_t *) (gpointer) generated->data, n_fed);
}

gboolean
hearken_generator_reply (HearkenGenerator        *self,
                         const hk_chat_message   *messages,
                         gsize                    n_messages,
                         const HearkenSampling   *sampling,
                         HearkenPieceFunc         piece_func,
                         gpointer                 user_data,
                         HearkenGenerationStats  *ret_stats,
                         GError                 **error)
{
  g_autoptr(GArray) generated = g_array_new (FALSE, FALSE, sizeof (int32_t));
  PieceRelay relay = { piece_func, user_data, FALSE, generated, self->gguf };
  hk_generate_params params;
  hk_generate_stats stats = { 0 };
  hk_error err = { 0 };
  int32_t *ids = NULL;
  size_t n_ids = 0;
  guint keep;
  char *prompt;
  int rc;

  g_return_val_if_fail (HEARKEN_IS_GENERATOR (self), FALSE);
  g_return_val_if_fail (messages != NULL && n_messages > 0, FALSE);
  g_return_val_if_fail (sampling != NULL && piece_func != NULL, FALSE);

  prompt = fitting_prompt (self, messages, n_messages, sampling->max_tokens, error);
  if (!prompt)
    return FALSE;
  rc = encode_prompt (self, prompt, &ids, &n_ids, &err);
  if (rc < 0 || n_ids == 0)
    {
      free (prompt);
      free (ids);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Could not encode the prompt: %s",
                   rc < 0 ? err.message : "it is empty");
      return FALSE;
    }

  hk_generate_params_init (&params);
  params.max_tokens = sampling->max_tokens;
  params.sampler.temperature = (float) sampling->temperature;
  params.sampler.top_p = (float) sampling->top_p;
  params.sampler.seed = sampling->seed;
  params.stops = stops_for (self->format, &params.n_stops);
  params.parse_special = TRUE;

  /* The prompt holds the whole conversation; what the cache holds of it
   * already (the last turn's prompt and reply) is not read again. */
  keep = reuse_cache (self, ids, n_ids);
  rc = hk_session_generate_ids (self->session, ids + keep, n_ids - keep, &params,
                                relay_piece, &relay, &stats, &err);
  if (hk_gguf_damaged (self->gguf))
    {
      g_autofree char *display = g_filename_display_name (self->path);

      forget_cache (self);
      free (prompt);
      free (ids);
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_MODEL_LOAD,
                   "The model file %s was cut short by another program while this reply "
                   "was written, so the reply is lost; the next turn loads the file again",
                   display);
      return FALSE;
    }

  /* The context filling up during the reply ends the reply, nothing worse. */
  if (rc < 0 && !(rc == -ENOSPC && stats.n_generated > 0))
    {
      forget_cache (self);
      free (prompt);
      free (ids);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Generation failed: %s", err.message);
      return FALSE;
    }
  remember_cache (self, prompt, ids + keep, n_ids - keep, generated);
  free (prompt);
  free (ids);

  if (ret_stats)
    {
      ret_stats->prompt_tokens = stats.n_prompt;
      ret_stats->tokens = stats.n_generated;
      ret_stats->tokens_per_second = stats.gen_seconds > 0 ? stats.n_generated / stats.gen_seconds : 0;
    }
  return TRUE;
}
