/* hearken-scheduler.c — the queue, the worker thread and the way back to
 * the main loop.
 *
 * Threads: the main thread submits, cancels and receives events; the
 * worker takes jobs from the queue, owns the generator and posts events.
 * The queue, the event list and the flags below the mutex are shared; a
 * job's cancel reason is atomic; everything else belongs to one side.
 */
#include "hearken-scheduler.h"

#include "hearken-error.h"
#include "hearken-limits.h"

typedef enum {
  JOB_TURN,
  JOB_LOAD,
} JobKind;

typedef enum {
  CANCEL_NONE,
  CANCEL_ASKED,
  CANCEL_SENDER_LEFT,
  CANCEL_SHUTDOWN,
} CancelReason;

typedef struct {
  JobKind          kind;
  guint64          turn;
  char            *conversation;
  char            *sender;
  char            *model_path;
  HearkenPlacement placement;     /* backend owned */
  guint            n_ctx;
  HearkenSampling  sampling;
  GStrv            roles;
  GStrv            texts;
  gint             cancel;        /* CancelReason, atomic */
  GTask           *task;          /* JOB_LOAD */
  GString         *reply;         /* written by the worker */
} Job;

typedef enum {
  EVENT_DELTA,
  EVENT_DONE,
  EVENT_MODEL,
} EventKind;

typedef struct {
  EventKind               kind;
  Job                    *job;          /* DELTA: borrowed; DONE: owned */
  char                   *text;         /* DELTA */
  GError                 *error;        /* DONE */
  HearkenGenerationStats  stats;        /* DONE */
  char                   *model_name;   /* DONE */
  char                   *state;        /* DONE, MODEL */
  char                   *loaded_path;  /* MODEL */
  char                   *backend;      /* DONE, MODEL */
  char                   *device;       /* MODEL */
  char                   *backend_reason; /* MODEL */
} Event;

/* A D-Bus sender with turns in the scheduler, watched so its turns die
 * with it. */
typedef struct {
  HearkenScheduler *scheduler;
  char             *name;
  guint             n_jobs;
  guint             watch_id;
} Sender;

struct _HearkenScheduler
{
  GObject       parent_instance;

  GMainContext *context;
  GThread      *worker;

  /* main thread only */
  GHashTable   *jobs_by_turn;     /* guint64* → Job*, until delivered */
  GHashTable   *senders;          /* name → Sender* */
  char         *state;
  char         *loaded_path;
  char         *backend;
  char         *device;
  char         *backend_reason;

  /* shared, under mutex */
  GMutex        mutex;
  GCond         cond;
  GQueue        queue;            /* Job*, waiting */
  GQueue        events;           /* Event*, for the main thread */
  GSource      *drain_source;     /* set while a drain is pending */
  gboolean      quit;
  guint         idle_unload_seconds;

  /* worker only */
  HearkenGenerator *generator;
  gint64        last_used;
};

G_DEFINE_FINAL_TYPE (HearkenScheduler, hearken_scheduler, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_LOADED_PATH,
  PROP_BACKEND,
  PROP_DEVICE,
  PROP_BACKEND_REASON,
  N_PROPS
};

enum {
  DELTA,
  TURN_DONE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* ----------------------------------------------------------------- jobs */

static void
job_free (Job *job)
{
  g_free (job->conversation);
  g_free (job->sender);
  g_free (job->model_path);
  g_free ((char *) job->placement.backend);
  g_strfreev (job->roles);
  g_strfreev (job->texts);
  g_clear_object (&job->task);
  if (job->reply)
    g_string_free (job->reply, TRUE);
  g_free (job);
}

static Job *
job_new_turn (const HearkenTurnRequest *request)
{
  Job *job = g_new0 (Job, 1);

  job->kind = JOB_TURN;
  job->turn = request->turn;
  job->conversation = g_strdup (request->conversation);
  job->sender = g_strdup (request->sender);
  job->model_path = g_strdup (request->model_path);
  job->placement = request->placement;
  job->placement.backend = g_strdup (request->placement.backend);
  job->n_ctx = request->n_ctx;
  job->sampling = request->sampling;
  job->roles = g_new0 (char *, request->n_messages + 1);
  job->texts = g_new0 (char *, request->n_messages + 1);
  for (gsize i = 0; i < request->n_messages; i++)
    {
      job->roles[i] = g_strdup (request->messages[i].role);
      job->texts[i] = g_strdup (request->messages[i].content);
    }
  job->reply = g_string_new (NULL);
  return job;
}

static GError *
cancel_error (const Job    *job,
              CancelReason  reason)
{
  const char *why = reason == CANCEL_SENDER_LEFT ? "its client left the bus"
                  : reason == CANCEL_SHUTDOWN ? "hearkend is stopping"
                  : "Cancel was called";

  return g_error_new (HEARKEN_ERROR, HEARKEN_ERROR_CANCELLED,
                      "Turn %" G_GUINT64_FORMAT " was cancelled: %s", job->turn, why);
}

/* --------------------------------------------------------------- events */

static void
event_free (Event *event)
{
  if (event->kind == EVENT_DONE)
    job_free (event->job);
  g_free (event->text);
  g_clear_error (&event->error);
  g_free (event->model_name);
  g_free (event->state);
  g_free (event->loaded_path);
  g_free (event->backend);
  g_free (event->device);
  g_free (event->backend_reason);
  g_free (event);
}

static gboolean drain_events_cb (gpointer user_data);

/* From either thread: queue the event and make sure the main context will
 * run the drain.  An idle source, not g_main_context_invoke(): that would
 * run the drain on the worker whenever the main loop is not running (as
 * during shutdown). */
static void
post_event (HearkenScheduler *self,
            Event            *event)
{
  GSource *source = NULL;

  g_mutex_lock (&self->mutex);
  g_queue_push_tail (&self->events, event);
  if (!self->drain_source)
    {
      source = self->drain_source = g_idle_source_new ();
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, drain_events_cb, self, NULL);
      g_source_set_static_name (source, "[hearken] scheduler events");
    }
  g_mutex_unlock (&self->mutex);

  if (source)
    g_source_attach (source, self->context);
}

static void
post_model_state (HearkenScheduler *self,
                  const char       *state)
{
  Event *event = g_new0 (Event, 1);

  event->kind = EVENT_MODEL;
  event->state = g_strdup (state);
  if (self->generator)
    {
      event->loaded_path = g_strdup (hearken_generator_get_path (self->generator));
      event->backend = g_strdup (hearken_generator_get_backend (self->generator));
      event->device = g_strdup (hearken_generator_get_device (self->generator));
      event->backend_reason = g_strdup (hearken_generator_get_backend_reason (self->generator));
    }
  post_event (self, event);
}

/* Idle when nothing waits: said before the turn's end, so that whoever
 * hears of the end finds the state already idle. */
static void
post_idle_if_nothing_waits (HearkenScheduler *self)
{
  gboolean empty;

  g_mutex_lock (&self->mutex);
  empty = g_queue_is_empty (&self->queue);
  g_mutex_unlock (&self->mutex);
  if (empty)
    post_model_state (self, "idle");
}

static void
post_done (HearkenScheduler             *self,
           Job                          *job,
           GError                       *error,
           const HearkenGenerationStats *stats)
{
  Event *event = g_new0 (Event, 1);

  event->kind = EVENT_DONE;
  event->job = job;
  event->error = error;
  if (stats)
    event->stats = *stats;
  if (self->generator && job->kind == JOB_TURN)
    {
      event->model_name = g_strdup (hearken_generator_get_name (self->generator));
      event->backend = g_strdup (hearken_generator_get_backend (self->generator));
    }
  post_event (self, event);
}

/* ------------------------------------------------------ main-thread side */

static void
set_string (HearkenScheduler  *self,
            char             **field,
            const char        *value,
            guint              prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
sender_unref_job (HearkenScheduler *self,
                  const char       *name)
{
  Sender *sender = g_hash_table_lookup (self->senders, name);

  if (sender && --sender->n_jobs == 0)
    g_hash_table_remove (self->senders, name);
}

/* A turn's end reaches the service: signal it, forget the job. */
static void
deliver_done (HearkenScheduler *self,
              Job              *job,
              const GError     *error,
              const Event      *event)
{
  HearkenTurnResult result = {
    .turn = job->turn,
    .conversation = job->conversation,
    .reply = job->reply ? job->reply->str : "",
    .error = error,
    .model_name = event ? event->model_name : NULL,
    .backend = event ? event->backend : NULL,
  };

  if (event)
    result.stats = event->stats;
  g_hash_table_remove (self->jobs_by_turn, &job->turn);
  g_signal_emit (self, signals[TURN_DONE], 0, &result);
  sender_unref_job (self, job->sender);
}

static void
deliver_load (Job          *job,
              const GError *error)
{
  if (error)
    g_task_return_error (job->task, g_error_copy (error));
  else
    g_task_return_boolean (job->task, TRUE);
}

/* Consecutive pieces of one turn go out as one Delta: the bus carries
 * what the main loop can keep up with, not one message per token. */
static GList *
deliver_deltas (HearkenScheduler *self,
                GList            *link)
{
  Event *first = link->data;
  g_autoptr(GString) text = g_string_new (first->text);

  while (link->next && ((Event *) link->next->data)->kind == EVENT_DELTA &&
         ((Event *) link->next->data)->job == first->job)
    {
      link = link->next;
      g_string_append (text, ((Event *) link->data)->text);
    }
  g_signal_emit (self, signals[DELTA], 0, first->job->turn, first->job->conversation, text->str);
  return link;
}

static gboolean
drain_events_cb (gpointer user_data)
{
  HearkenScheduler *self = HEARKEN_SCHEDULER (user_data);
  GQueue events = G_QUEUE_INIT;

  g_mutex_lock (&self->mutex);
  events = self->events;
  g_queue_init (&self->events);
  g_clear_pointer (&self->drain_source, g_source_unref);
  g_mutex_unlock (&self->mutex);

  for (GList *link = events.head; link; link = link->next)
    {
      Event *event = link->data;

      switch (event->kind)
        {
        case EVENT_DELTA:
          link = deliver_deltas (self, link);
          break;
        case EVENT_DONE:
          if (event->job->kind == JOB_LOAD)
            deliver_load (event->job, event->error);
          else
            deliver_done (self, event->job, event->error, event);
          break;
        case EVENT_MODEL:
          set_string (self, &self->loaded_path, event->loaded_path, PROP_LOADED_PATH);
          if (event->backend)
            {
              set_string (self, &self->backend, event->backend, PROP_BACKEND);
              set_string (self, &self->backend_reason, event->backend_reason,
                          PROP_BACKEND_REASON);
              set_string (self, &self->device, event->device, PROP_DEVICE);
            }
          set_string (self, &self->state, event->state, PROP_STATE);
          break;
        default:
          g_assert_not_reached ();
        }
    }
  g_queue_clear_full (&events, (GDestroyNotify) event_free);
  return G_SOURCE_REMOVE;
}

/* Ends a job the worker has not taken, or asks the worker to end it. */
static void
cancel_job (HearkenScheduler *self,
            Job              *job,
            CancelReason      reason)
{
  gboolean was_waiting;

  g_mutex_lock (&self->mutex);
  was_waiting = g_queue_remove (&self->queue, job);
  if (!was_waiting)
    g_atomic_int_set (&job->cancel, reason);
  g_mutex_unlock (&self->mutex);

  if (was_waiting)
    {
      g_autoptr(GError) error = cancel_error (job, reason);

      deliver_done (self, job, error, NULL);
      job_free (job);
    }
}

static void
sender_vanished_cb (GDBusConnection *connection,
                    const char      *name,
                    gpointer         user_data)
{
  Sender *sender = user_data;
  HearkenScheduler *self = sender->scheduler;
  g_autoptr(GPtrArray) jobs = g_ptr_array_new ();
  GHashTableIter iter;
  Job *job;

  g_debug ("%s left the bus; cancelling its turns", name);
  g_hash_table_iter_init (&iter, self->jobs_by_turn);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &job))
    if (g_str_equal (job->sender, name))
      g_ptr_array_add (jobs, job);
  for (guint i = 0; i < jobs->len; i++)
    cancel_job (self, jobs->pdata[i], CANCEL_SENDER_LEFT);
}

static void
sender_free (Sender *sender)
{
  g_bus_unwatch_name (sender->watch_id);
  g_free (sender->name);
  g_free (sender);
}

static void
sender_ref_job (HearkenScheduler *self,
                GDBusConnection  *connection,
                const char       *name)
{
  Sender *sender = g_hash_table_lookup (self->senders, name);

  if (!sender)
    {
      sender = g_new0 (Sender, 1);
      sender->scheduler = self;
      sender->name = g_strdup (name);
      g_hash_table_insert (self->senders, sender->name, sender);
      sender->watch_id = g_bus_watch_name_on_connection (connection, name,
                                                         G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                         NULL, sender_vanished_cb,
                                                         sender, NULL);
    }
  sender->n_jobs++;
}

/* ---------------------------------------------------------- worker side */

static gboolean
ensure_model (HearkenScheduler  *self,
              const Job         *job,
              GError           **error)
{
  if (self->generator &&
      hearken_generator_matches (self->generator, job->model_path, &job->placement, job->n_ctx))
    return TRUE;

  g_clear_object (&self->generator);
  post_model_state (self, "loading");
  g_debug ("Loading %s (backend %s)", job->model_path, job->placement.backend);
  self->generator = hearken_generator_new (job->model_path, &job->placement, job->n_ctx, error);
  return self->generator != NULL;
}

typedef struct {
  HearkenScheduler *scheduler;
  Job              *job;
} PieceTarget;

static gboolean
piece_cb (const char *text,
          gpointer    user_data)
{
  PieceTarget *target = user_data;
  Event *event = g_new0 (Event, 1);

  g_string_append (target->job->reply, text);
  event->kind = EVENT_DELTA;
  event->job = target->job;
  event->text = g_strdup (text);
  post_event (target->scheduler, event);
  return g_atomic_int_get (&target->job->cancel) == CANCEL_NONE;
}

static void
run_turn (HearkenScheduler *self,
          Job              *job)
{
  g_autoptr(GError) error = NULL;
  g_autofree hk_chat_message *messages = NULL;
  HearkenGenerationStats stats = { 0 };
  PieceTarget target = { self, job };
  guint n = g_strv_length (job->roles);
  CancelReason reason;

  if (!ensure_model (self, job, &error))
    {
      post_idle_if_nothing_waits (self);
      post_done (self, job, g_steal_pointer (&error), NULL);
      return;
    }
  /* cancelled while the model loaded */
  reason = g_atomic_int_get (&job->cancel);
  if (reason != CANCEL_NONE)
    {
      post_idle_if_nothing_waits (self);
      post_done (self, job, cancel_error (job, reason), NULL);
      return;
    }
  post_model_state (self, "busy");

  messages = g_new (hk_chat_message, n);
  for (guint i = 0; i < n; i++)
    messages[i] = (hk_chat_message) { job->roles[i], job->texts[i] };

  hearken_generator_reply (self->generator, messages, n, &job->sampling,
                           piece_cb, &target, &stats, &error);
  /* a file cut short under the model leaves nothing worth keeping */
  if (hearken_generator_file_changed (self->generator))
    g_clear_object (&self->generator);
  reason = g_atomic_int_get (&job->cancel);
  if (!error && reason != CANCEL_NONE)
    error = cancel_error (job, reason);
  post_idle_if_nothing_waits (self);
  post_done (self, job, g_steal_pointer (&error), &stats);
}

static void
run_load (HearkenScheduler *self,
          Job              *job)
{
  GError *error = NULL;

  /* LoadModel's reply must find the model loaded */
  ensure_model (self, job, &error);
  post_idle_if_nothing_waits (self);
  post_done (self, job, error, NULL);
}

/* Waits for a job; unloads the model when it has been idle long enough.
 * Called and returns with the mutex held. */
static Job *
wait_for_job (HearkenScheduler *self)
{
  while (!self->quit && g_queue_is_empty (&self->queue))
    {
      gint64 deadline;

      if (!self->generator || self->idle_unload_seconds == 0)
        {
          g_cond_wait (&self->cond, &self->mutex);
          continue;
        }
      deadline = self->last_used + self->idle_unload_seconds * G_TIME_SPAN_SECOND;
      if (g_get_monotonic_time () < deadline)
        {
          g_cond_wait_until (&self->cond, &self->mutex, deadline);
          continue;
        }

      g_mutex_unlock (&self->mutex);
      g_debug ("Unloading %s after %u idle seconds",
               hearken_generator_get_path (self->generator), self->idle_unload_seconds);
      g_clear_object (&self->generator);
      post_model_state (self, "idle");
      g_mutex_lock (&self->mutex);
    }
  return self->quit ? NULL : g_queue_pop_head (&self->queue);
}

static gpointer
worker_main (gpointer data)
{
  HearkenScheduler *self = data;
  Job *job;

  g_mutex_lock (&self->mutex);
  while ((job = wait_for_job (self)))
    {
      g_mutex_unlock (&self->mutex);

      if (job->kind == JOB_LOAD)
        run_load (self, job);
      else
        run_turn (self, job);
      self->last_used = g_get_monotonic_time ();

      g_mutex_lock (&self->mutex);
    }
  g_mutex_unlock (&self->mutex);

  g_clear_object (&self->generator);
  return NULL;
}

/* -------------------------------------------------------------- object */

static void
hearken_scheduler_dispose (GObject *object)
{
  HearkenScheduler *self = (HearkenScheduler *) object;

  hearken_scheduler_shutdown (self);

  G_OBJECT_CLASS (hearken_scheduler_parent_class)->dispose (object);
}

static void
hearken_scheduler_finalize (GObject *object)
{
  HearkenScheduler *self = (HearkenScheduler *) object;

  g_queue_clear_full (&self->events, (GDestroyNotify) event_free);
  g_clear_pointer (&self->jobs_by_turn, g_hash_table_unref);
  g_clear_pointer (&self->senders, g_hash_table_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->state, g_free);
  g_clear_pointer (&self->loaded_path, g_free);
  g_clear_pointer (&self->backend, g_free);
  g_clear_pointer (&self->device, g_free);
  g_clear_pointer (&self->backend_reason, g_free);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (hearken_scheduler_parent_class)->finalize (object);
}

static void
hearken_scheduler_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  HearkenScheduler *self = HEARKEN_SCHEDULER (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_string (value, self->state);
      break;
    case PROP_LOADED_PATH:
      g_value_set_string (value, self->loaded_path);
      break;
    case PROP_BACKEND:
      g_value_set_string (value, self->backend);
      break;
    case PROP_DEVICE:
      g_value_set_string (value, self->device);
      break;
    case PROP_BACKEND_REASON:
      g_value_set_string (value, self->backend_reason);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hearken_scheduler_class_init (HearkenSchedulerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = hearken_scheduler_dispose;
  object_class->finalize = hearken_scheduler_finalize;
  object_class->get_property = hearken_scheduler_get_property;

  properties[PROP_STATE] = g_param_spec_string ("state", NULL, NULL, "idle", flags);
  properties[PROP_LOADED_PATH] = g_param_spec_string ("loaded-path", NULL, NULL, NULL, flags);
  properties[PROP_BACKEND] = g_param_spec_string ("backend", NULL, NULL, NULL, flags);
  properties[PROP_DEVICE] = g_param_spec_string ("device", NULL, NULL, NULL, flags);
  properties[PROP_BACKEND_REASON] =
    g_param_spec_string ("backend-reason", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * HearkenScheduler::delta:
   * @turn: the turn
   * @conversation: its conversation
   * @text: the next piece of the reply
   */
  signals[DELTA] = g_signal_new ("delta", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                 0, NULL, NULL, NULL, G_TYPE_NONE,
                                 3, G_TYPE_UINT64, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * HearkenScheduler::turn-done:
   * @result: (type HearkenTurnResult): how the turn ended
   */
  signals[TURN_DONE] = g_signal_new ("turn-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                     0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
hearken_scheduler_init (HearkenScheduler *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->jobs_by_turn = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->senders = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) sender_free);
  self->state = g_strdup ("idle");
  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  g_queue_init (&self->queue);
  g_queue_init (&self->events);
  self->worker = g_thread_new ("hearken-worker", worker_main, self);
}

HearkenScheduler *
hearken_scheduler_new (void)
{
  return g_object_new (HEARKEN_TYPE_SCHEDULER, NULL);
}

gboolean
hearken_scheduler_check_room (HearkenScheduler  *self,
                              const char        *sender,
                              GError           **error)
{
  Sender *s;

  g_return_val_if_fail (HEARKEN_IS_SCHEDULER (self), FALSE);
  g_return_val_if_fail (sender != NULL, FALSE);

  s = g_hash_table_lookup (self->senders, sender);
  if (s && s->n_jobs >= HEARKEN_MAX_QUEUED_PER_SENDER)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_BUSY,
                   "You have %d turns waiting or running, the most one client may have; "
                   "wait for one to finish or Cancel one", HEARKEN_MAX_QUEUED_PER_SENDER);
      return FALSE;
    }
  if (g_hash_table_size (self->jobs_by_turn) >= HEARKEN_MAX_QUEUED_TOTAL)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_BUSY,
                   "hearkend has %d turns waiting or running, the most it takes; "
                   "try again when some have finished", HEARKEN_MAX_QUEUED_TOTAL);
      return FALSE;
    }
  return TRUE;
}

void
hearken_scheduler_submit (HearkenScheduler         *self,
                          const HearkenTurnRequest *request)
{
  Job *job;

  g_return_if_fail (HEARKEN_IS_SCHEDULER (self));
  g_return_if_fail (request != NULL && request->n_messages > 0);
  g_return_if_fail (G_IS_DBUS_CONNECTION (request->connection));
  g_return_if_fail (!g_hash_table_contains (self->jobs_by_turn, &request->turn));

  job = job_new_turn (request);
  g_hash_table_insert (self->jobs_by_turn, &job->turn, job);
  sender_ref_job (self, request->connection, job->sender);

  g_mutex_lock (&self->mutex);
  g_queue_push_tail (&self->queue, job);
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->mutex);
}

gboolean
hearken_scheduler_cancel (HearkenScheduler  *self,
                          guint64            turn,
                          GError           **error)
{
  Job *job;

  g_return_val_if_fail (HEARKEN_IS_SCHEDULER (self), FALSE);

  job = g_hash_table_lookup (self->jobs_by_turn, &turn);
  if (!job)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND,
                   "Turn %" G_GUINT64_FORMAT " is not waiting or running; "
                   "it may have finished already", turn);
      return FALSE;
    }
  cancel_job (self, job, CANCEL_ASKED);
  return TRUE;
}

void
hearken_scheduler_load_async (HearkenScheduler       *self,
                              const char             *path,
                              const HearkenPlacement *placement,
                              guint                   n_ctx,
                              GAsyncReadyCallback     callback,
                              gpointer                user_data)
{
  Job *job;

  g_return_if_fail (HEARKEN_IS_SCHEDULER (self));
  g_return_if_fail (path != NULL);
  g_return_if_fail (placement != NULL && placement->backend != NULL);

  job = g_new0 (Job, 1);
  job->kind = JOB_LOAD;
  job->model_path = g_strdup (path);
  job->placement = *placement;
  job->placement.backend = g_strdup (placement->backend);
  job->n_ctx = n_ctx;
  job->task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (job->task, hearken_scheduler_load_async);

  g_mutex_lock (&self->mutex);
  g_queue_push_tail (&self->queue, job);
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->mutex);
}

gboolean
hearken_scheduler_load_finish (HearkenScheduler  *self,
                               GAsyncResult      *result,
                               GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
hearken_scheduler_set_idle_unload (HearkenScheduler *self,
                                   guint             seconds)
{
  g_return_if_fail (HEARKEN_IS_SCHEDULER (self));

  g_mutex_lock (&self->mutex);
  self->idle_unload_seconds = seconds;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->mutex);
}

const char *
hearken_scheduler_get_state (HearkenScheduler *self)
{
  g_return_val_if_fail (HEARKEN_IS_SCHEDULER (self), NULL);

  return self->state;
}

const char *
hearken_scheduler_get_loaded_path (HearkenScheduler *self)
{
  g_return_val_if_fail (HEARKEN_IS_SCHEDULER (self), NULL);

  return self->loaded_path;
}

const char *
hearken_scheduler_get_backend (HearkenScheduler *self)
{
  g_return_val_if_fail (HEARKEN_IS_SCHEDULER (self), NULL);

  return self->backend;
}

const char *
hearken_scheduler_get_device (HearkenScheduler *self)
{
  g_return_val_if_fail (HEARKEN_IS_SCHEDULER (self), NULL);

  return self->device;
}

const char *
hearken_scheduler_get_backend_reason (HearkenScheduler *self)
{
  g_return_val_if_fail (HEARKEN_IS_SCHEDULER (self), NULL);

  return self->backend_reason;
}

void
hearken_scheduler_shutdown (HearkenScheduler *self)
{
  g_autoptr(GPtrArray) waiting = g_ptr_array_new ();
  GHashTableIter iter;
  Job *job;

  g_return_if_fail (HEARKEN_IS_SCHEDULER (self));

  if (!self->worker)
    return;

  g_mutex_lock (&self->mutex);
  self->quit = TRUE;
  while ((job = g_queue_pop_head (&self->queue)))
    g_ptr_array_add (waiting, job);
  g_hash_table_iter_init (&iter, self->jobs_by_turn);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &job))
    g_atomic_int_set (&job->cancel, CANCEL_SHUTDOWN);
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->mutex);

  g_thread_join (self->worker);
  self->worker = NULL;

  /* What the worker finished, then what it never started. */
  if (self->drain_source)
    g_source_destroy (self->drain_source);
  drain_events_cb (self);
  for (guint i = 0; i < waiting->len; i++)
    {
      g_autoptr(GError) error = NULL;

      job = waiting->pdata[i];
      if (job->kind == JOB_LOAD)
        {
          error = g_error_new_literal (HEARKEN_ERROR, HEARKEN_ERROR_CANCELLED,
                                       "hearkend is stopping");
          deliver_load (job, error);
        }
      else
        {
          error = cancel_error (job, CANCEL_SHUTDOWN);
          deliver_done (self, job, error, NULL);
        }
      job_free (job);
    }
  g_hash_table_remove_all (self->senders);
}
