/* hearken-intents.c — the intent model on its worker thread.
 *
 * Threads: the main thread submits jobs and receives their results (GTask
 * callbacks); the pool runs one job at a time, in order, and only it
 * touches the model.  Tasks have no source object: a worker must never
 * drop the last reference to this object, whose dispose waits for it.
 */
#include "hearken-intents.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "hearken-error.h"
#include "intent.h"

/* Jobs waiting or running; more is a client flooding the service. */
#define MAX_JOBS 64

typedef enum {
  JOB_CLASSIFY,
  JOB_LEARN,
  JOB_RESET,
} JobKind;

typedef struct {
  HearkenIntents *self;       /* outlives the job: dispose waits for it */
  JobKind         kind;
  char           *text;       /* CLASSIFY */
  GStrv           texts;      /* LEARN */
  GStrv           intents;    /* LEARN */
} Job;

struct _HearkenIntents
{
  GObject          parent_instance;

  char            *shipped_path;
  char            *user_path;
  GThreadPool     *pool;
  gint             n_jobs;    /* atomic */

  /* worker only */
  hk_intent_model *model;
  guint64          learn_seed;
};

G_DEFINE_FINAL_TYPE (HearkenIntents, hearken_intents, G_TYPE_OBJECT)

/* ---------------------------------------------------------------- jobs */

static void
job_free (Job *job)
{
  g_free (job->text);
  g_strfreev (job->texts);
  g_strfreev (job->intents);
  g_free (job);
}

/* "time, date, battery, …" */
static char *
list_labels (const hk_intent_model *model)
{
  int n = hk_intent_model_n_labels (model);
  g_autoptr(GString) list = g_string_new (NULL);

  for (int i = 0; i < n; i++)
    g_string_append_printf (list, "%s%s", i ? ", " : "", hk_intent_model_label (model, i));
  return g_string_free (g_steal_pointer (&list), FALSE);
}

static hk_intent_model *
load_model (const char  *path,
            GError     **error)
{
  hk_intent_model *model = NULL;
  hk_error err = { 0 };

  if (hk_intent_model_load (path, &model, &err) < 0)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_MODEL_LOAD,
                   "The intent model %s could not be loaded: %s", path, err.message);
      return NULL;
    }
  return model;
}

/* The person's model if they have one that loads, else the shipped one. */
static gboolean
ensure_model (HearkenIntents  *self,
              GError         **error)
{
  g_autoptr(GError) user_error = NULL;

  if (self->model)
    return TRUE;
  if (g_file_test (self->user_path, G_FILE_TEST_EXISTS))
    {
      self->model = load_model (self->user_path, &user_error);
      if (self->model)
        return TRUE;
      g_warning ("%s; using the shipped intent model", user_error->message);
    }
  if (!g_file_test (self->shipped_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_AVAILABLE,
                   "There is no intent model: %s is missing (building Hearken trains it "
                   "from data/intents; HEARKEN_INTENT_MODEL names another file)",
                   self->shipped_path);
      return FALSE;
    }
  self->model = load_model (self->shipped_path, error);
  return self->model != NULL;
}

typedef struct {
  const char *label;
  double      probability;
} Prediction;

static int
compare_predictions (gconstpointer a,
                     gconstpointer b,
                     gpointer      user_data)
{
  const Prediction *pa = a, *pb = b;

  return (pa->probability < pb->probability) - (pa->probability > pb->probability);
}

static GVariant *
classify (HearkenIntents  *self,
          const char      *text,
          GError         **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(sd)"));
  g_autofree float *probs = NULL;
  g_autofree Prediction *predictions = NULL;
  hk_error err = { 0 };
  int n;

  if (!ensure_model (self, error))
    return NULL;
  n = hk_intent_model_n_labels (self->model);
  probs = g_new (float, n);
  if (hk_intent_classify (self->model, text, probs, &err) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Classifying: %s", err.message);
      return NULL;
    }
  predictions = g_new (Prediction, n);
  for (int i = 0; i < n; i++)
    predictions[i] = (Prediction) { hk_intent_model_label (self->model, i), probs[i] };
  /* stable, so ties keep the model's order */
  g_qsort_with_data (predictions, n, sizeof *predictions, compare_predictions, NULL);
  for (int i = 0; i < n; i++)
    g_variant_builder_add (&builder, "(sd)", predictions[i].label, predictions[i].probability);
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static gboolean
save_user_model (HearkenIntents  *self,
                 GError         **error)
{
  g_autofree char *dir = g_path_get_dirname (self->user_path);
  hk_error err = { 0 };

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Could not create %s: %s", dir, g_strerror (saved_errno));
      return FALSE;
    }
  if (hk_intent_model_save (self->model, self->user_path, &err) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Saving the intent model: %s", err.message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
learn (HearkenIntents  *self,
       Job             *job,
       GError         **error)
{
  guint n = g_strv_length (job->texts);
  g_autofree hk_intent_example *examples = g_new (hk_intent_example, n);
  hk_error err = { 0 };
  gint64 start = g_get_monotonic_time ();
  guint n_examples = 0;

  if (!ensure_model (self, error))
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      int label = hk_intent_model_label_index (self->model, job->intents[i]);

      /* the new correction must name an intent; an older one stored while
       * there was no model to check it is left out */
      if (label < 0 && i == 0)
        {
          g_autofree char *labels = list_labels (self->model);

          g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                       "“%s” is not an intent; the intents are %s", job->intents[i], labels);
          return FALSE;
        }
      if (label >= 0)
        examples[n_examples++] = (hk_intent_example) { job->texts[i], label };
    }
  if (hk_intent_finetune (self->model, examples, n_examples, HK_INTENT_FINETUNE_STEPS, self->learn_seed++, &err) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Fine-tuning the intent model: %s",
                   err.message);
      /* the steps before the failure changed it: start again from the file */
      g_clear_pointer (&self->model, hk_intent_model_free);
      return FALSE;
    }
  g_debug ("Learned from %u corrections in %.1f ms", n_examples,
           (g_get_monotonic_time () - start) / 1000.0);
  return TRUE;
}

/* After a correction's answer: saving the whole model takes longer than
 * learning did, and the model in memory already serves the next job.  A
 * failure leaves the previous version on disk (the save is atomic); the
 * next correction saves again. */
static void
save_learned (HearkenIntents *self)
{
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  if (!save_user_model (self, &error))
    g_warning ("The intent model learned a correction, but %s", error->message);
  else
    g_debug ("Saved %s in %.1f ms", self->user_path, (g_get_monotonic_time () - start) / 1000.0);
}

static gboolean
reset (HearkenIntents  *self,
       GError         **error)
{
  int saved_errno;

  g_clear_pointer (&self->model, hk_intent_model_free);
  if (g_unlink (self->user_path) == 0)
    return TRUE;
  saved_errno = errno;
  if (saved_errno == ENOENT)
    return TRUE;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "Could not remove %s: %s", self->user_path, g_strerror (saved_errno));
  return FALSE;
}

static void
run_job (gpointer data,
         gpointer user_data)
{
  GTask *task = data;
  Job *job = g_task_get_task_data (task);
  HearkenIntents *self = job->self;
  GError *error = NULL;
  GVariant *predictions;

  switch (job->kind)
    {
    case JOB_CLASSIFY:
      predictions = classify (self, job->text, &error);
      if (predictions)
        g_task_return_pointer (task, predictions, (GDestroyNotify) g_variant_unref);
      else
        g_task_return_error (task, error);
      break;
    case JOB_LEARN:
      if (learn (self, job, &error))
        {
          g_task_return_boolean (task, TRUE);
          save_learned (self);
        }
      else
        g_task_return_error (task, error);
      break;
    case JOB_RESET:
      if (reset (self, &error))
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, error);
      break;
    }
  g_atomic_int_add (&self->n_jobs, -1);
  g_object_unref (task);
}

/* Queues a job; the task carries it. */
static void
submit (HearkenIntents      *self,
        Job                 *job,
        gpointer             source_tag,
        GAsyncReadyCallback  callback,
        gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);

  job->self = self;
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  if (g_atomic_int_get (&self->n_jobs) >= MAX_JOBS)
    {
      g_task_return_new_error (task, HEARKEN_ERROR, HEARKEN_ERROR_BUSY,
                               "%d intent requests are waiting, the most hearkend takes; "
                               "try again in a moment", MAX_JOBS);
      g_object_unref (task);
      return;
    }
  g_atomic_int_inc (&self->n_jobs);
  g_thread_pool_push (self->pool, task, NULL);
}

/* -------------------------------------------------------------- object */

static void
hearken_intents_dispose (GObject *object)
{
  HearkenIntents *self = (HearkenIntents *) object;

  /* runs what is queued, so every caller gets its answer */
  if (self->pool)
    g_thread_pool_free (g_steal_pointer (&self->pool), FALSE, TRUE);
  g_clear_pointer (&self->model, hk_intent_model_free);

  G_OBJECT_CLASS (hearken_intents_parent_class)->dispose (object);
}

static void
hearken_intents_finalize (GObject *object)
{
  HearkenIntents *self = (HearkenIntents *) object;

  g_free (self->shipped_path);
  g_free (self->user_path);

  G_OBJECT_CLASS (hearken_intents_parent_class)->finalize (object);
}

static void
hearken_intents_class_init (HearkenIntentsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hearken_intents_dispose;
  object_class->finalize = hearken_intents_finalize;
}

static void
hearken_intents_init (HearkenIntents *self)
{
  /* one thread: jobs run in the order they came */
  self->pool = g_thread_pool_new (run_job, NULL, 1, FALSE, NULL);
  /* the same corrections in the same order teach the same model */
  self->learn_seed = 1;
}

HearkenIntents *
hearken_intents_new (const char *shipped_path,
                     const char *user_path)
{
  HearkenIntents *self;

  g_return_val_if_fail (shipped_path != NULL && user_path != NULL, NULL);

  self = g_object_new (HEARKEN_TYPE_INTENTS, NULL);
  self->shipped_path = g_strdup (shipped_path);
  self->user_path = g_strdup (user_path);
  return self;
}

HearkenIntents *
hearken_intents_new_default (void)
{
  const char *env = g_getenv ("HEARKEN_INTENT_MODEL");
  g_autofree char *shipped = env && *env ? g_canonicalize_filename (env, NULL)
                                         : g_build_filename (HEARKEN_DATADIR, "hearken",
                                                             "intents.gguf", NULL);
  g_autofree char *user = g_build_filename (g_get_user_data_dir (), "hearken", "intents.gguf", NULL);

  return hearken_intents_new (shipped, user);
}

void
hearken_intents_classify_async (HearkenIntents      *self,
                                const char          *text,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  Job *job;

  g_return_if_fail (HEARKEN_IS_INTENTS (self));
  g_return_if_fail (text != NULL);

  job = g_new0 (Job, 1);
  job->kind = JOB_CLASSIFY;
  job->text = g_strdup (text);
  submit (self, job, hearken_intents_classify_async, callback, user_data);
}

GVariant *
hearken_intents_classify_finish (HearkenIntents  *self,
                                 GAsyncResult    *result,
                                 GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == hearken_intents_classify_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
hearken_intents_learn_async (HearkenIntents          *self,
                             const HearkenCorrection *corrections,
                             gsize                    n_corrections,
                             GAsyncReadyCallback      callback,
                             gpointer                 user_data)
{
  Job *job;

  g_return_if_fail (HEARKEN_IS_INTENTS (self));
  g_return_if_fail (corrections != NULL && n_corrections > 0);

  job = g_new0 (Job, 1);
  job->kind = JOB_LEARN;
  job->texts = g_new0 (char *, n_corrections + 1);
  job->intents = g_new0 (char *, n_corrections + 1);
  for (gsize i = 0; i < n_corrections; i++)
    {
      job->texts[i] = g_strdup (corrections[i].text);
      job->intents[i] = g_strdup (corrections[i].intent);
    }
  submit (self, job, hearken_intents_learn_async, callback, user_data);
}

gboolean
hearken_intents_learn_finish (HearkenIntents  *self,
                              GAsyncResult    *result,
                              GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == hearken_intents_learn_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
hearken_intents_reset_async (HearkenIntents      *self,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  Job *job;

  g_return_if_fail (HEARKEN_IS_INTENTS (self));

  job = g_new0 (Job, 1);
  job->kind = JOB_RESET;
  submit (self, job, hearken_intents_reset_async, callback, user_data);
}

gboolean
hearken_intents_reset_finish (HearkenIntents  *self,
                              GAsyncResult    *result,
                              GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == hearken_intents_reset_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
