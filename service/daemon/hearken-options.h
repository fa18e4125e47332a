/* hearken-options.h — the a{sv} dictionaries D-Bus callers pass.
 *
 * Generation options (Ask, StartConversation, Send): temperature d (0…2),
 * top_p d (0 < p ≤ 1), max_tokens u (1…8192), seed t, system s, dry_run b
 * (actions say what they would do instead of doing it).  Feedback
 * extras: intent s, comment s.  An unknown key, a value of the wrong type
 * or out of range is refused with HEARKEN_ERROR_INVALID_ARGUMENT (too
 * long: HEARKEN_ERROR_TOO_LONG), the message naming the key and what it
 * takes.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gboolean  has_temperature;
  double    temperature;
  gboolean  has_top_p;
  double    top_p;
  gboolean  has_max_tokens;
  guint     max_tokens;
  gboolean  has_seed;
  guint64   seed;
  char     *system;            /* NULL when not given */
  gboolean  has_dry_run;
  gboolean  dry_run;
} HearkenOptions;

typedef struct {
  char     *intent;            /* NULL when not given */
  char     *comment;
} HearkenFeedbackExtra;

/* HEARKEN_ERROR_TOO_LONG, naming what and the limit, when value has more
 * than max_bytes bytes. */
gboolean hearken_check_length               (const char            *what,
                                             const char            *value,
                                             gsize                  max_bytes,
                                             GError               **error);

gboolean hearken_options_parse              (GVariant              *vardict,
                                             HearkenOptions        *ret_options,
                                             GError               **error);
void     hearken_options_clear              (HearkenOptions        *options);
/* Options given in over win over those of base (a Send's over its
 * conversation's). */
void     hearken_options_merge              (HearkenOptions        *base,
                                             const HearkenOptions  *over);

gboolean hearken_feedback_extra_parse       (GVariant              *vardict,
                                             HearkenFeedbackExtra  *ret_extra,
                                             GError               **error);
void     hearken_feedback_extra_clear       (HearkenFeedbackExtra  *extra);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HearkenOptions, hearken_options_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HearkenFeedbackExtra, hearken_feedback_extra_clear)

G_END_DECLS
