/* hearken-message-row-private.h — the row's parts, for its own file and
 * for the tests that drive the real widgets. */
#pragma once

#include "hearken-message-row.h"
#include "hearken-predictions.h"

G_BEGIN_DECLS

struct _HearkenMessageRow
{
  GtkWidget           parent_instance;

  HearkenMessageRole  role;
  GString            *text;
  guint64             turn;
  int                 rating;
  gboolean            generating;

  GtkLabel           *role_label;
  GtkLabel           *body_label;
  GtkWidget          *status_box;
  GtkSpinner         *spinner;
  GtkLabel           *status_label;
  HearkenPredictions *predictions;
  GtkWidget          *footer;
  GtkLabel           *stats_label;
  GtkWidget          *more_popover;
  GtkEditable        *comment_entry;
  GtkWidget          *intent_box;
  GtkListBox         *intent_list;
  GtkLabel           *chosen_intent_label;
};

G_END_DECLS
