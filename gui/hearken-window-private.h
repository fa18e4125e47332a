/* hearken-window-private.h — the window's parts, for its own files and
 * for the tests that drive the real widgets. */
#pragma once

#include "hearken-first-run.h"
#include "hearken-window.h"

G_BEGIN_DECLS

struct _HearkenWindow
{
  AdwApplicationWindow   parent_instance;

  HearkenDBusAssistant1 *proxy;
  GCancellable          *cancellable;
  /* The conversation shown; NULL until the first message of a new one. */
  char                  *conversation_id;
  /* Replies of the conversation shown: guint64* turn → HearkenMessageRow. */
  GHashTable            *replies;
  /* The reply being written, whose turn Send has not told yet when its
   * first pieces arrive. */
  GtkWidget             *pending_reply;
  guint64                generating_turn;
  gboolean               generating;
  gboolean               listening;

  AdwToastOverlay       *toast_overlay;
  AdwLeaflet            *leaflet;
  GtkStack              *sidebar_stack;
  GtkListBox            *conversation_list;
  AdwWindowTitle        *window_title;
  GtkWidget             *state_spinner;
  GtkStack              *stack;
  AdwStatusPage         *no_service_page;
  HearkenFirstRun       *first_run;
  AdwStatusPage         *empty_page;
  GtkScrolledWindow     *chat_scroller;
  GtkListBox            *message_list;
  GtkRevealer           *voice_revealer;
  GtkLevelBar           *level_bar;
  GtkLabel              *partial_label;
  GtkWidget             *composer;
  GtkWidget             *voice_button;
  GtkTextView           *composer_view;
  GtkStack              *send_stack;
};

G_END_DECLS
