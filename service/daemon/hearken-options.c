/* hearken-options.c — checking what D-Bus callers pass. */
#include "hearken-options.h"

#include <string.h>

#include "hearken-error.h"
#include "hearken-limits.h"

#define OPTIONS_HELP "temperature (d), top_p (d), max_tokens (u), seed (t), system (s) and dry_run (b)"
#define EXTRA_HELP   "intent (s) and comment (s)"

gboolean
hearken_check_length (const char  *what,
                      const char  *value,
                      gsize        max_bytes,
                      GError     **error)
{
  gsize length = strlen (value);

  if (length <= max_bytes)
    return TRUE;
  g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_TOO_LONG,
               "%s is %" G_GSIZE_FORMAT " bytes long; the limit is %" G_GSIZE_FORMAT " bytes",
               what, length, max_bytes);
  return FALSE;
}

/* Whether key's value has the type; when not, an error naming both. */
static gboolean
check_type (const char          *key,
            GVariant            *value,
            const GVariantType  *type,
            const char          *help,
            GError             **error)
{
  if (g_variant_is_of_type (value, type))
    return TRUE;
  g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
               "Option “%s” takes a value of type '%s', not '%s'; options are %s",
               key, (const char *) type, g_variant_get_type_string (value), help);
  return FALSE;
}

/* Keys come from the caller, of any length: the message quotes the start
 * (whole characters, so it stays UTF-8). */
#define QUOTED_KEY_CHARS 64

static gboolean
unknown_key (const char  *key,
             const char  *help,
             GError     **error)
{
  gboolean cut = g_utf8_strlen (key, -1) > QUOTED_KEY_CHARS;
  g_autofree char *quoted = cut ? g_utf8_substring (key, 0, QUOTED_KEY_CHARS) : g_strdup (key);

  g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
               "Unknown option “%s%s”; options are %s", quoted, cut ? "…" : "", help);
  return FALSE;
}

static gboolean
out_of_range (const char  *key,
              const char  *range,
              GError     **error)
{
  g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
               "Option “%s” must be %s", key, range);
  return FALSE;
}

typedef gboolean (*ParseEntry) (gpointer     target,
                                const char  *key,
                                GVariant    *value,
                                GError     **error);

/* Hands each entry of an a{sv} to parse_entry, up to the first it refuses. */
static gboolean
parse_vardict (GVariant    *vardict,
               ParseEntry   parse_entry,
               gpointer     target,
               GError     **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, vardict);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      gboolean ok = parse_entry (target, key, value, error);

      g_variant_unref (value);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_option (gpointer     target,
              const char  *key,
              GVariant    *value,
              GError     **error)
{
  HearkenOptions *o = target;

  if (g_str_equal (key, "temperature"))
    {
      if (!check_type (key, value, G_VARIANT_TYPE_DOUBLE, OPTIONS_HELP, error))
        return FALSE;
      o->temperature = g_variant_get_double (value);
      o->has_temperature = TRUE;
      /* written so that NaN fails */
      if (!(o->temperature >= 0 && o->temperature <= 2))
        return out_of_range (key, "from 0 to 2", error);
    }
  else if (g_str_equal (key, "top_p"))
    {
      if (!check_type (key, value, G_VARIANT_TYPE_DOUBLE, OPTIONS_HELP, error))
        return FALSE;
      o->top_p = g_variant_get_double (value);
      o->has_top_p = TRUE;
      if (!(o->top_p > 0 && o->top_p <= 1))
        return out_of_range (key, "above 0 and at most 1", error);
    }
  else if (g_str_equal (key, "max_tokens"))
    {
      if (!check_type (key, value, G_VARIANT_TYPE_UINT32, OPTIONS_HELP, error))
        return FALSE;
      o->max_tokens = g_variant_get_uint32 (value);
      o->has_max_tokens = TRUE;
      if (o->max_tokens < 1 || o->max_tokens > HEARKEN_MAX_REPLY_TOKENS)
        return out_of_range (key, "from 1 to " G_STRINGIFY (HEARKEN_MAX_REPLY_TOKENS), error);
    }
  else if (g_str_equal (key, "seed"))
    {
      if (!check_type (key, value, G_VARIANT_TYPE_UINT64, OPTIONS_HELP, error))
        return FALSE;
      o->seed = g_variant_get_uint64 (value);
      o->has_seed = TRUE;
    }
  else if (g_str_equal (key, "system"))
    {
      if (!check_type (key, value, G_VARIANT_TYPE_STRING, OPTIONS_HELP, error) ||
          !hearken_check_length ("The system prompt", g_variant_get_string (value, NULL),
                                 HEARKEN_MAX_SYSTEM_BYTES, error))
        return FALSE;
      g_free (o->system);
      o->system = g_variant_dup_string (value, NULL);
    }
  else if (g_str_equal (key, "dry_run"))
    {
      if (!check_type (key, value, G_VARIANT_TYPE_BOOLEAN, OPTIONS_HELP, error))
        return FALSE;
      o->dry_run = g_variant_get_boolean (value);
      o->has_dry_run = TRUE;
    }
  else
    return unknown_key (key, OPTIONS_HELP, error);
  return TRUE;
}

/**
 * hearken_options_parse:
 * @vardict: an a{sv} from a caller
 * @ret_options: (out caller-allocates): filled on success, cleared on failure
 */
gboolean
hearken_options_parse (GVariant        *vardict,
                       HearkenOptions  *ret_options,
                       GError         **error)
{
  g_auto(HearkenOptions) options = { 0 };

  g_return_val_if_fail (g_variant_is_of_type (vardict, G_VARIANT_TYPE_VARDICT), FALSE);
  g_return_val_if_fail (ret_options != NULL, FALSE);

  if (!parse_vardict (vardict, parse_option, &options, error))
    return FALSE;
  *ret_options = options;
  memset (&options, 0, sizeof options);
  return TRUE;
}

void
hearken_options_clear (HearkenOptions *options)
{
  g_clear_pointer (&options->system, g_free);
}

void
hearken_options_merge (HearkenOptions       *base,
                       const HearkenOptions *over)
{
  g_return_if_fail (base != NULL && over != NULL);

  if (over->has_temperature)
    {
      base->has_temperature = TRUE;
      base->temperature = over->temperature;
    }
  if (over->has_top_p)
    {
      base->has_top_p = TRUE;
      base->top_p = over->top_p;
    }
  if (over->has_max_tokens)
    {
      base->has_max_tokens = TRUE;
      base->max_tokens = over->max_tokens;
    }
  if (over->has_seed)
    {
      base->has_seed = TRUE;
      base->seed = over->seed;
    }
  if (over->system)
    {
      g_free (base->system);
      base->system = g_strdup (over->system);
    }
  if (over->has_dry_run)
    {
      base->has_dry_run = TRUE;
      base->dry_run = over->dry_run;
    }
}

static gboolean
parse_extra (gpointer     target,
             const char  *key,
             GVariant    *value,
             GError     **error)
{
  HearkenFeedbackExtra *e = target;

  if (g_str_equal (key, "intent"))
    {
      if (!check_type (key, value, G_VARIANT_TYPE_STRING, EXTRA_HELP, error) ||
          !hearken_check_length ("The intent", g_variant_get_string (value, NULL),
                                 HEARKEN_MAX_INTENT_BYTES, error))
        return FALSE;
      if (!*g_variant_get_string (value, NULL))
        return out_of_range (key, "an intent name, not empty", error);
      g_free (e->intent);
      e->intent = g_variant_dup_string (value, NULL);
    }
  else if (g_str_equal (key, "comment"))
    {
      if (!check_type (key, value, G_VARIANT_TYPE_STRING, EXTRA_HELP, error) ||
          !hearken_check_length ("The comment", g_variant_get_string (value, NULL),
                                 HEARKEN_MAX_COMMENT_BYTES, error))
        return FALSE;
      g_free (e->comment);
      e->comment = g_variant_dup_string (value, NULL);
    }
  else
    return unknown_key (key, EXTRA_HELP, error);
  return TRUE;
}

gboolean
hearken_feedback_extra_parse (GVariant              *vardict,
                              HearkenFeedbackExtra  *ret_extra,
                              GError               **error)
{
  g_auto(HearkenFeedbackExtra) extra = { 0 };

  g_return_val_if_fail (g_variant_is_of_type (vardict, G_VARIANT_TYPE_VARDICT), FALSE);
  g_return_val_if_fail (ret_extra != NULL, FALSE);

  if (!parse_vardict (vardict, parse_extra, &extra, error))
    return FALSE;
  *ret_extra = extra;
  memset (&extra, 0, sizeof extra);
  return TRUE;
}

void
hearken_feedback_extra_clear (HearkenFeedbackExtra *extra)
{
  g_clear_pointer (&extra->intent, g_free);
  g_clear_pointer (&extra->comment, g_free);
}
