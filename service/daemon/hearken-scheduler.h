/* hearken-scheduler.h — one generation at a time, on a worker thread.
 *
 * Turns wait in one queue and run first come, first served, whoever sent
 * them; each sender may have HEARKEN_MAX_QUEUED_PER_SENDER turns waiting
 * or running.  Any turn can be cancelled, and a sender that leaves the bus
 * has its turns cancelled.  The worker loads the model a turn needs (and
 * unloads it after the idle time); the main loop never waits for it.
 * Signals and property changes come on the main context of the thread
 * that made the scheduler, in the order the worker produced them.
 */
#pragma once

#include <gio/gio.h>

#include "hearken-generator.h"

G_BEGIN_DECLS

/* What a turn needs.  The scheduler copies what it keeps. */
typedef struct {
  guint64                 turn;
  const char             *conversation;
  GDBusConnection        *connection;    /* the sender's, to see it leave */
  const char             *sender;
  const char             *model_path;
  HearkenPlacement        placement;
  guint                   n_ctx;
  HearkenSampling         sampling;
  const hk_chat_message  *messages;
  gsize                   n_messages;
} HearkenTurnRequest;

/* How a turn ended, for the turn-done signal. */
typedef struct {
  guint64                 turn;
  const char             *conversation;
  const char             *reply;         /* what was produced, even on failure */
  const GError           *error;         /* NULL when the reply is complete */
  const char             *model_name;    /* NULL when no model was loaded */
  const char             *backend;
  HearkenGenerationStats  stats;
} HearkenTurnResult;

#define HEARKEN_TYPE_SCHEDULER (hearken_scheduler_get_type ())

G_DECLARE_FINAL_TYPE (HearkenScheduler, hearken_scheduler, HEARKEN, SCHEDULER, GObject)

HearkenScheduler *hearken_scheduler_new              (void);

/* HEARKEN_ERROR_BUSY when sender may not queue another turn. */
gboolean          hearken_scheduler_check_room       (HearkenScheduler          *self,
                                                      const char                *sender,
                                                      GError                   **error);
/* Queues a turn; its pieces come as ::delta, its end as ::turn-done. */
void              hearken_scheduler_submit           (HearkenScheduler          *self,
                                                      const HearkenTurnRequest  *request);
/* HEARKEN_ERROR_NOT_FOUND for a turn that is not waiting or running. */
gboolean          hearken_scheduler_cancel           (HearkenScheduler          *self,
                                                      guint64                    turn,
                                                      GError                   **error);

/* Loads a model ahead of the turns that will need it, after those queued. */
void              hearken_scheduler_load_async       (HearkenScheduler          *self,
                                                      const char                *path,
                                                      const HearkenPlacement    *placement,
                                                      guint                      n_ctx,
                                                      GAsyncReadyCallback        callback,
                                                      gpointer                   user_data);
gboolean          hearken_scheduler_load_finish      (HearkenScheduler          *self,
                                                      GAsyncResult              *result,
                                                      GError                   **error);

/* 0: keep the model loaded. */
void              hearken_scheduler_set_idle_unload  (HearkenScheduler          *self,
                                                      guint                      seconds);

/* "idle", "loading" or "busy". */
const char       *hearken_scheduler_get_state        (HearkenScheduler          *self);
/* The loaded model's file, or NULL. */
const char       *hearken_scheduler_get_loaded_path  (HearkenScheduler          *self);
/* Where the last loaded model ran ("cpu", "CPU, 4 threads, avx2"), or NULL. */
const char       *hearken_scheduler_get_backend      (HearkenScheduler          *self);
const char       *hearken_scheduler_get_device       (HearkenScheduler          *self);
/* Why the last loaded model runs there, or NULL. */
const char       *hearken_scheduler_get_backend_reason (HearkenScheduler        *self);

/* Cancels everything, waits for the worker, delivers what it produced. */
void              hearken_scheduler_shutdown         (HearkenScheduler          *self);

G_END_DECLS
