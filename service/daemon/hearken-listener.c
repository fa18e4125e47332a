/* hearken-listener.c — TranscribeFile and listening sessions. */
#include "hearken-listener.h"

#include <string.h>
#include <unistd.h>

#include "hearken-audio-error.h"
#include "hearken-capture.h"
#include "hearken-error.h"
#include "hearken-limits.h"
#include "hearken-sandbox.h"
#include "hearken-transcriber.h"

#define SCHEMA_ID "org.hearken.Hearken"
/* The pause that ends an utterance, by default and at the extremes. */
#define DEFAULT_SILENCE_MS 800
#define MIN_SILENCE_MS 200
#define MAX_SILENCE_MS 5000
/* Files transcribed at once: each holds a recogniser (tens of MB). */
#define MAX_TRANSCRIPTIONS 2

struct _HearkenListener
{
  GObject       parent_instance;

  char         *command_dir;
  GMainContext *context;
  gint          transcriptions;   /* atomic */
  struct _Session *session;       /* the running one, or NULL */
  struct _Session *ending;        /* the one StopListening ends, while it
                                   * reports the last transcript */
  guint         generation;       /* numbers sessions, to drop a late event */
  gboolean      starting;
  GError       *lost;             /* why the last session ended by itself */
};

G_DEFINE_FINAL_TYPE (HearkenListener, hearken_listener, G_TYPE_OBJECT)

enum {
  SIGNAL_LISTENING,
  SIGNAL_LEVEL,
  SIGNAL_PARTIAL,
  SIGNAL_TRANSCRIPT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct _Session {
  HearkenListener      *listener;   /* a reference */
  guint                 generation;
  HearkenVoiceConfig    config;
  char                 *device;
  char                 *file;
  gboolean              push_to_talk;
  char                 *conversation;
  HearkenVoicePipeline *pipeline;
  HearkenCapture       *capture;
  GString              *text;       /* the transcripts so far (worker thread) */
  double                last_confidence;
  char                 *tail;       /* the transcript stopping decoded */
  GError               *failure;    /* the pipeline's, from the worker thread */
} Session;

/* ------------------------------------------------------------- errors */

/* The audio library's errors under the names D-Bus callers know. */
static GError *
to_hearken_error (GError *error)
{
  static const struct { int audio; int hearken; } map[] = {
    { HEARKEN_AUDIO_ERROR_NO_DEVICE, HEARKEN_ERROR_NO_AUDIO_DEVICE },
    { HEARKEN_AUDIO_ERROR_NOT_FOUND, HEARKEN_ERROR_NOT_FOUND },
    { HEARKEN_AUDIO_ERROR_PERMISSION_DENIED, HEARKEN_ERROR_PERMISSION_DENIED },
    { HEARKEN_AUDIO_ERROR_BAD_FILE, HEARKEN_ERROR_INVALID_ARGUMENT },
    { HEARKEN_AUDIO_ERROR_TOO_LONG, HEARKEN_ERROR_TOO_LONG },
    { HEARKEN_AUDIO_ERROR_NO_MODEL, HEARKEN_ERROR_NOT_AVAILABLE },
  };

  if (error->domain != HEARKEN_AUDIO_ERROR)
    return error;
  for (gsize i = 0; i < G_N_ELEMENTS (map); i++)
    if (error->code == map[i].audio)
      {
        error->domain = HEARKEN_ERROR;
        error->code = map[i].hearken;
        return error;
      }
  /* the recogniser failed: an internal error */
  error->domain = G_IO_ERROR;
  error->code = G_IO_ERROR_FAILED;
  return error;
}

/* A file the sandbox keeps hearkend from reading says where it should go
 * (the check is the worker's own open, not one more on the main thread). */
static GError *
file_error (GError     *error,
            const char *path)
{
  g_autofree char *own_folder = NULL;

  if (!g_error_matches (error, HEARKEN_AUDIO_ERROR, HEARKEN_AUDIO_ERROR_PERMISSION_DENIED))
    return to_hearken_error (error);
  g_error_free (error);
  own_folder = g_build_filename (g_get_user_data_dir (), "hearken", NULL);
  return hearken_sandbox_permission_error (path, own_folder);
}

static char *
command_dir_default (void)
{
  const char *env = g_getenv ("HEARKEN_VOICE_DIR");

  return g_strdup (env && *env ? env : HEARKEN_VOICE_DATADIR);
}

/* ------------------------------------------------------ TranscribeFile */

typedef struct {
  char   *text;
  double  confidence;
} TranscribeResult;

static void
transcribe_result_free (TranscribeResult *result)
{
  g_free (result->text);
  g_free (result);
}

/* What to transcribe: a file the caller opened, or a path hearkend opens. */
typedef struct {
  char *path;   /* the path, or a name for the file in messages */
  int   fd;     /* -1 for a path */
} TranscribeSource;

static void
transcribe_source_free (TranscribeSource *source)
{
  if (source->fd >= 0)
    close (source->fd);
  g_free (source->path);
  g_free (source);
}

static HearkenAudioFile *
open_source (TranscribeSource  *source,
             GError           **error)
{
  int fd = source->fd;

  if (fd < 0)
    return hearken_audio_file_open (source->path, HEARKEN_TRANSCRIBE_MAX_SECONDS, error);
  /* the audio file owns the descriptor from here on */
  source->fd = -1;
  return hearken_audio_file_open_fd (fd, source->path, HEARKEN_TRANSCRIBE_MAX_SECONDS, error);
}

static void
transcribe_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  HearkenListener *self = source_object;
  TranscribeSource *source = task_data;
  HearkenVoiceConfig config = {
    .mode = HEARKEN_RECOGNIZER_COMMAND,
    .command_dir = self->command_dir,
    .end_silence_ms = DEFAULT_SILENCE_MS,
    .live = FALSE,
  };
  g_auto(HearkenTranscript) transcript = { 0 };
  g_autoptr(HearkenAudioFile) file = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  TranscribeResult *result;

  if (!(file = open_source (source, &error)) ||
      !hearken_transcribe (file, &config, cancellable, &transcript, &error))
    {
      g_atomic_int_dec_and_test (&self->transcriptions);
      g_task_return_error (task, file_error (g_steal_pointer (&error), source->path));
      return;
    }
  g_debug ("Transcribed %s (%.1f s of audio) in %.2f s", source->path, transcript.audio_seconds,
           (g_get_monotonic_time () - start) / 1e6);
  result = g_new0 (TranscribeResult, 1);
  result->text = g_steal_pointer (&transcript.text);
  result->confidence = transcript.confidence;
  g_atomic_int_dec_and_test (&self->transcriptions);
  g_task_return_pointer (task, result, (GDestroyNotify) transcribe_result_free);
}

static gboolean
check_path (const char  *path,
            GError     **error)
{
  if (!g_path_is_absolute (path))
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                   "“%s” is not an absolute path: the service does not share the "
                   "caller’s folder", path);
      return FALSE;
    }
  if (strlen (path) > HEARKEN_MAX_PATH_BYTES)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                   "A path has at most %d bytes", HEARKEN_MAX_PATH_BYTES);
      return FALSE;
    }
  return TRUE;
}

/* Takes source. */
static void
transcribe_async (HearkenListener     *self,
                  TranscribeSource    *source,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);

  g_task_set_task_data (task, source, (GDestroyNotify) transcribe_source_free);
  if (g_atomic_int_add (&self->transcriptions, 1) >= MAX_TRANSCRIPTIONS)
    {
      g_atomic_int_dec_and_test (&self->transcriptions);
      g_task_return_new_error (task, HEARKEN_ERROR, HEARKEN_ERROR_BUSY,
                               "%d files are being transcribed already; try again when "
                               "one is done", MAX_TRANSCRIPTIONS);
      return;
    }
  g_task_run_in_thread (task, transcribe_thread);
}

void
hearken_listener_transcribe_file_async (HearkenListener     *self,
                                        const char          *path,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  TranscribeSource *source;
  GError *error = NULL;

  g_return_if_fail (HEARKEN_IS_LISTENER (self));

  if (!check_path (path, &error))
    {
      g_task_report_error (self, callback, user_data, hearken_listener_transcribe_file_async,
                           error);
      return;
    }
  source = g_new0 (TranscribeSource, 1);
  source->path = g_strdup (path);
  source->fd = -1;
  transcribe_async (self, source, callback, user_data);
}

void
hearken_listener_transcribe_fd_async (HearkenListener     *self,
                                      int                  fd,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  TranscribeSource *source;

  g_return_if_fail (HEARKEN_IS_LISTENER (self));
  g_return_if_fail (fd >= 0);

  source = g_new0 (TranscribeSource, 1);
  source->path = g_strdup ("the file passed");
  source->fd = fd;
  transcribe_async (self, source, callback, user_data);
}

gboolean
hearken_listener_transcribe_file_finish (HearkenListener  *self,
                                         GAsyncResult     *result,
                                         char            **ret_text,
                                         double           *ret_confidence,
                                         GError          **error)
{
  TranscribeResult *transcribed = g_task_propagate_pointer (G_TASK (result), error);

  if (!transcribed)
    return FALSE;
  *ret_text = g_steal_pointer (&transcribed->text);
  *ret_confidence = transcribed->confidence;
  transcribe_result_free (transcribed);
  return TRUE;
}

/* ---------------------------------------------------------- devices */

static void
list_devices_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  GError *error = NULL;
  GStrv names = hearken_capture_list_devices (&error);

  if (!names)
    g_task_return_error (task, to_hearken_error (error));
  else
    g_task_return_pointer (task, names, (GDestroyNotify) g_strfreev);
}

void
hearken_listener_list_devices_async (HearkenListener     *self,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);

  g_return_if_fail (HEARKEN_IS_LISTENER (self));

  g_task_set_source_tag (task, hearken_listener_list_devices_async);
  g_task_run_in_thread (task, list_devices_thread);
}

GStrv
hearken_listener_list_devices_finish (HearkenListener  *self,
                                      GAsyncResult     *result,
                                      GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------- events to the main context */

typedef enum { EVENT_LEVEL, EVENT_PARTIAL, EVENT_TRANSCRIPT, EVENT_ENDED } EventKind;

typedef struct {
  HearkenListener *listener;
  guint            generation;
  EventKind        kind;
  char            *text;
  double           value;
  GError          *error;
} Event;

static void
event_free (Event *event)
{
  g_object_unref (event->listener);
  g_free (event->text);
  g_clear_error (&event->error);
  g_free (event);
}

static void end_session (HearkenListener *self);

static gboolean
deliver_event (gpointer data)
{
  Event *event = data;
  HearkenListener *self = event->listener;

  /* from a session StopListening has ended already */
  if (!self->session || self->session->generation != event->generation)
    return G_SOURCE_REMOVE;
  switch (event->kind)
    {
    case EVENT_LEVEL:
      g_signal_emit (self, signals[SIGNAL_LEVEL], 0, event->value);
      break;
    case EVENT_PARTIAL:
      g_signal_emit (self, signals[SIGNAL_PARTIAL], 0, event->text);
      break;
    case EVENT_TRANSCRIPT:
      g_signal_emit (self, signals[SIGNAL_TRANSCRIPT], 0, event->text, event->value);
      break;
    case EVENT_ENDED:
      g_clear_error (&self->lost);
      if (event->error)
        {
          g_message ("Listening stopped: %s", event->error->message);
          self->lost = to_hearken_error (g_steal_pointer (&event->error));
        }
      end_session (self);
      break;
    }
  return G_SOURCE_REMOVE;
}

static void
post_event (Session    *session,
            EventKind   kind,
            const char *text,
            double      value,
            GError     *error)
{
  Event *event = g_new0 (Event, 1);

  event->listener = g_object_ref (session->listener);
  event->generation = session->generation;
  event->kind = kind;
  event->text = g_strdup (text);
  event->value = value;
  event->error = error;
  g_main_context_invoke_full (session->listener->context, G_PRIORITY_DEFAULT,
                              deliver_event, event, (GDestroyNotify) event_free);
}

/* Pipeline callbacks, on the capture worker thread. */
static void
session_level_cb (double   level,
                  gpointer user_data)
{
  post_event (user_data, EVENT_LEVEL, NULL, level, NULL);
}

static void
session_partial_cb (const char *text,
                    gpointer    user_data)
{
  post_event (user_data, EVENT_PARTIAL, text, 0.0, NULL);
}

static void
session_transcript_cb (const char *text,
                       double      confidence,
                       gpointer    user_data)
{
  Session *session = user_data;

  if (session->text->len > 0)
    g_string_append_c (session->text, ' ');
  g_string_append (session->text, text);
  session->last_confidence = confidence;
  post_event (session, EVENT_TRANSCRIPT, text, confidence, NULL);
}

static const HearkenVoiceCallbacks session_callbacks = {
  .level = session_level_cb,
  .partial = session_partial_cb,
  .transcript = session_transcript_cb,
};

/* Capture callbacks, on the capture worker thread. */
static void
session_samples_cb (const gint16 *samples,
                    gsize         n,
                    gpointer      user_data)
{
  Session *session = user_data;

  /* after a failure the session only waits to be ended */
  if (!session->failure)
    hearken_voice_pipeline_feed (session->pipeline, samples, n, &session->failure);
}

static void
session_stopped_cb (const GError *error,
                    gpointer      user_data)
{
  Session *session = user_data;

  /* a file's last utterance has no silence after it */
  if (!session->failure)
    hearken_voice_pipeline_finish (session->pipeline, &session->failure);
  post_event (session, EVENT_ENDED, NULL, 0.0,
              error ? g_error_copy (error)
                    : session->failure ? g_error_copy (session->failure) : NULL);
}

static const HearkenCaptureCallbacks capture_callbacks = {
  .samples = session_samples_cb,
  .stopped = session_stopped_cb,
};

/* ------------------------------------------------------------ sessions */

static void
session_free (Session *session)
{
  hearken_capture_stop (session->capture);
  g_clear_pointer (&session->pipeline, hearken_voice_pipeline_free);
  if (session->text)
    g_string_free (session->text, TRUE);
  g_clear_error (&session->failure);
  g_free (session->tail);
  g_free (session->device);
  g_free (session->file);
  g_free (session->conversation);
  g_clear_object (&session->listener);
  g_free (session);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Session, session_free)

static gboolean
lookup_silence (GVariantDict  *dict,
                guint         *ret_ms,
                GError       **error)
{
  guint32 ms = DEFAULT_SILENCE_MS;

  g_variant_dict_lookup (dict, "silence_ms", "u", &ms);
  if (ms < MIN_SILENCE_MS || ms > MAX_SILENCE_MS)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                   "silence_ms is %u; it must be %d to %d milliseconds",
                   ms, MIN_SILENCE_MS, MAX_SILENCE_MS);
      return FALSE;
    }
  *ret_ms = ms;
  return TRUE;
}

static gboolean
lookup_mode (GVariantDict           *dict,
             HearkenRecognizerMode  *ret_mode,
             GError                **error)
{
  const char *mode = "command";

  g_variant_dict_lookup (dict, "mode", "&s", &mode);
  if (g_str_equal (mode, "command"))
    *ret_mode = HEARKEN_RECOGNIZER_COMMAND;
  else if (g_str_equal (mode, "dictation"))
    *ret_mode = HEARKEN_RECOGNIZER_DICTATION;
  else
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                   "The mode “%s” is unknown; it is “command” or “dictation”", mode);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_option_names (GVariant  *options,
                    GError   **error)
{
  static const char *const known[] = {
    "mode", "silence_ms", "device", "push_to_talk", "conversation", "file", NULL,
  };
  GVariantIter iter;
  const char *key;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
    if (!g_strv_contains (known, key))
      {
        g_autofree char *list = g_strjoinv (", ", (char **) known);

        g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                     "StartListening has no option “%s”; its options are %s", key, list);
        return FALSE;
      }
  return TRUE;
}

/* The input-device setting, read when listening starts. */
static char *
input_device_setting (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = source
                                      ? g_settings_schema_source_lookup (source, SCHEMA_ID, TRUE)
                                      : NULL;
  g_autoptr(GSettings) settings = NULL;

  if (!schema)
    return g_strdup ("");
  settings = g_settings_new_full (schema, NULL, NULL);
  return g_settings_get_string (settings, "input-device");
}

static Session *
session_from_options (HearkenListener  *self,
                      GVariant         *options,
                      GError          **error)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (options);
  g_autoptr(Session) session = g_new0 (Session, 1);

  session->listener = g_object_ref (self);
  session->config.command_dir = self->command_dir;
  session->config.live = TRUE;
  session->text = g_string_new (NULL);
  if (!check_option_names (options, error) ||
      !lookup_mode (&dict, &session->config.mode, error) ||
      !lookup_silence (&dict, &session->config.end_silence_ms, error))
    return NULL;
  g_variant_dict_lookup (&dict, "push_to_talk", "b", &session->push_to_talk);
  if (!g_variant_dict_lookup (&dict, "conversation", "s", &session->conversation))
    session->conversation = g_strdup ("");
  if (!g_variant_dict_lookup (&dict, "device", "s", &session->device))
    session->device = input_device_setting ();
  if (g_variant_dict_lookup (&dict, "file", "s", &session->file) &&
      !check_path (session->file, error))
    return NULL;
  return g_steal_pointer (&session);
}

/* Loads the recogniser and opens the source: slow, so on a thread. */
static void
start_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  Session *session = task_data;
  GError *error = NULL;

  session->pipeline = hearken_voice_pipeline_new (&session->config, &session_callbacks,
                                                  session, &error);
  if (session->pipeline)
    session->capture = session->file
                       ? hearken_capture_start_file (session->file,
                                                     HEARKEN_TRANSCRIBE_MAX_SECONDS,
                                                     &capture_callbacks, session, &error)
                       : hearken_capture_start_device (session->device, &capture_callbacks,
                                                       session, &error);
  if (!session->capture)
    {
      error = session->file ? file_error (error, session->file) : to_hearken_error (error);
      session_free (session);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, session, (GDestroyNotify) session_free);
}

void
hearken_listener_start_async (HearkenListener     *self,
                              GVariant            *options,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);
  GError *error = NULL;
  Session *session;

  g_return_if_fail (HEARKEN_IS_LISTENER (self));

  if (self->session || self->starting)
    {
      g_task_return_new_error (task, HEARKEN_ERROR, HEARKEN_ERROR_BUSY,
                               "Hearken is listening already; StopListening ends it");
      return;
    }
  if (!(session = session_from_options (self, options, &error)))
    {
      g_task_return_error (task, error);
      return;
    }
  self->starting = TRUE;
  session->generation = ++self->generation;
  /* the thread frees the session if it fails, else returns it */
  g_task_set_task_data (task, session, NULL);
  g_task_run_in_thread (task, start_thread);
}

gboolean
hearken_listener_start_finish (HearkenListener  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  Session *session = g_task_propagate_pointer (G_TASK (result), error);

  self->starting = FALSE;
  if (!session)
    return FALSE;
  self->session = session;
  g_clear_error (&self->lost);
  g_signal_emit (self, signals[SIGNAL_LISTENING], 0, TRUE);
  return TRUE;
}

/* The source ended or failed by itself. */
static void
end_session (HearkenListener *self)
{
  g_clear_pointer (&self->session, session_free);
  g_signal_emit (self, signals[SIGNAL_LISTENING], 0, FALSE);
}

/* Stopping waits for the worker and decodes the last utterance. */
static void
stop_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Session *session = task_data;
  GError *error = NULL;
  gsize heard_before;

  hearken_capture_stop (session->capture);
  session->capture = NULL;
  heard_before = session->text->len;
  if (!session->failure)
    hearken_voice_pipeline_finish (session->pipeline, &session->failure);
  if (session->text->len > heard_before)
    session->tail = g_strstrip (g_strdup (session->text->str + heard_before));
  if (session->failure)
    {
      error = to_hearken_error (g_steal_pointer (&session->failure));
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_strdup (session->text->str), g_free);
}

void
hearken_listener_stop_async (HearkenListener     *self,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);
  Session *session = g_steal_pointer (&self->session);

  g_return_if_fail (HEARKEN_IS_LISTENER (self));

  if (!session && self->lost)
    {
      g_task_return_error (task, g_steal_pointer (&self->lost));
      return;
    }
  if (!session)
    {
      g_task_return_new_error (task, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                               "Hearken is not listening; StartListening starts");
      return;
    }
  g_signal_emit (self, signals[SIGNAL_LISTENING], 0, FALSE);
  g_task_set_task_data (task, session, (GDestroyNotify) session_free);
  g_task_run_in_thread (task, stop_thread);
}

/* The utterance the stop cut short is a transcript like the others
 * (push-to-talk sends it). */
char *
hearken_listener_stop_finish (HearkenListener  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  Session *session = g_task_get_task_data (G_TASK (result));
  char *text = g_task_propagate_pointer (G_TASK (result), error);

  if (text && session && session->tail)
    {
      self->ending = session;
      g_signal_emit (self, signals[SIGNAL_TRANSCRIPT], 0, session->tail,
                     session->last_confidence);
      self->ending = NULL;
    }
  return text;
}

static Session *
current_session (HearkenListener *self)
{
  return self->session ? self->session : self->ending;
}

gboolean
hearken_listener_get_push_to_talk (HearkenListener *self)
{
  return current_session (self) && current_session (self)->push_to_talk;
}

const char *
hearken_listener_get_conversation (HearkenListener *self)
{
  return current_session (self) ? current_session (self)->conversation : "";
}

void
hearken_listener_set_conversation (HearkenListener *self,
                                   const char      *id)
{
  Session *session = current_session (self);

  g_return_if_fail (session != NULL);

  g_free (session->conversation);
  session->conversation = g_strdup (id);
}

/* ------------------------------------------------------------- object */

static void
hearken_listener_dispose (GObject *object)
{
  HearkenListener *self = (HearkenListener *) object;

  g_clear_pointer (&self->session, session_free);

  G_OBJECT_CLASS (hearken_listener_parent_class)->dispose (object);
}

static void
hearken_listener_finalize (GObject *object)
{
  HearkenListener *self = (HearkenListener *) object;

  g_clear_error (&self->lost);
  g_free (self->command_dir);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (hearken_listener_parent_class)->finalize (object);
}

static void
hearken_listener_class_init (HearkenListenerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hearken_listener_dispose;
  object_class->finalize = hearken_listener_finalize;

  signals[SIGNAL_LISTENING] = g_signal_new ("listening", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  signals[SIGNAL_LEVEL] = g_signal_new ("level", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                        G_TYPE_NONE, 1, G_TYPE_DOUBLE);
  signals[SIGNAL_PARTIAL] = g_signal_new ("partial", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_TRANSCRIPT] = g_signal_new ("transcript", G_TYPE_FROM_CLASS (klass),
                                             G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                             G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_DOUBLE);
}

static void
hearken_listener_init (HearkenListener *self)
{
  self->command_dir = command_dir_default ();
  self->context = g_main_context_ref_thread_default ();
}

HearkenListener *
hearken_listener_new (void)
{
  return g_object_new (HEARKEN_TYPE_LISTENER, NULL);
}
