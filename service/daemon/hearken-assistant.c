/* hearken-assistant.c — the D-Bus API of hearkend. */
#include "hearken-assistant.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hearken-actions.h"
#include "hearken-backend.h"
#include "hearken-error.h"
#include "hearken-intents.h"
#include "hearken-limits.h"
#ifdef HAVE_VOICE
#include "hearken-listener.h"
#endif
#include "hearken-options.h"
#include "hearken-puller.h"
#include "hearken-scheduler.h"

struct _HearkenAssistant
{
  HearkenDBusAssistant1Skeleton  parent_instance;

  HearkenSettings               *settings;
  HearkenStore                  *store;
  HearkenModels                 *models;
  HearkenScheduler              *scheduler;
  HearkenPuller                 *puller;
  HearkenIntents                *intents;
  HearkenActions                *actions;
#ifdef HAVE_VOICE
  HearkenListener               *listener;
  /* Watches the client that started listening: gone, the microphone
   * closes.  Its push-to-talk turns are its own. */
  guint                          listener_client_watch;
  char                          *listener_client;
#endif

  /* The model LoadModel chose; it holds until the model setting changes. */
  char                          *chosen_model;
  /* Ask calls waiting for their turn: guint64* turn → invocation (the
   * handler's reference, which answering the call gives up). */
  GHashTable                    *asks;
  /* What the intent model said of the turns not yet ended: guint64* turn
   * → TurnPrediction*. */
  GHashTable                    *predictions;
  /* Turns an action is answering: guint64* turn → ActionTurn*. */
  GHashTable                    *action_turns;
};

/* The intent model's prediction for a turn. */
typedef struct {
  char     *intent;         /* NULL: not classified (no intent model) */
  double    confidence;
  gboolean  by_action;      /* an action answers, not the language model */
} TurnPrediction;

static void hearken_assistant_iface_init (HearkenDBusAssistant1Iface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (HearkenAssistant, hearken_assistant,
                               HEARKEN_DBUS_TYPE_ASSISTANT1_SKELETON,
                               G_IMPLEMENT_INTERFACE (HEARKEN_DBUS_TYPE_ASSISTANT1,
                                                      hearken_assistant_iface_init))

/* ------------------------------------------------------------ helpers */

/* Errors of our domain go out under their org.hearken.Error.* names;
 * anything else (the disk is full, SQLite failed) is an internal failure,
 * logged here because the caller cannot fix it. */
static gboolean
return_error (GDBusMethodInvocation *invocation,
              const GError          *error)
{
  if (error->domain == HEARKEN_ERROR)
    {
      g_debug ("%s from %s: %s", g_dbus_method_invocation_get_method_name (invocation),
               g_dbus_method_invocation_get_sender (invocation), error->message);
      g_dbus_method_invocation_return_gerror (invocation, error);
    }
  else
    {
      g_warning ("%s: %s", g_dbus_method_invocation_get_method_name (invocation), error->message);
      g_dbus_method_invocation_return_error_literal (invocation, G_DBUS_ERROR,
                                                     G_DBUS_ERROR_FAILED, error->message);
    }
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The D-Bus name of an error for a Failed signal, as return_error would
 * send it. */
static char *
dbus_error_name (const GError *error)
{
  if (error->domain == HEARKEN_ERROR)
    return g_dbus_error_encode_gerror (error);
  return g_strdup ("org.freedesktop.DBus.Error.Failed");
}

#ifndef HAVE_VOICE
/* for the methods of features this build lacks */
static gboolean
return_not_available (GDBusMethodInvocation *invocation,
                      const char            *message)
{
  g_dbus_method_invocation_return_error_literal (invocation, HEARKEN_ERROR,
                                                 HEARKEN_ERROR_NOT_AVAILABLE, message);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}
#endif

static gboolean
check_conversation_id (const char  *id,
                       GError     **error)
{
  if (!*id)
    {
      g_set_error_literal (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                           "The conversation id is empty; StartConversation gives one");
      return FALSE;
    }
  if (strlen (id) > HEARKEN_MAX_ID_BYTES)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                   "A conversation id has at most %d bytes; StartConversation gives one",
                   HEARKEN_MAX_ID_BYTES);
      return FALSE;
    }
  return TRUE;
}

/* The model file the settings name, if they name one by path: ListModels
 * shows it even outside the model folders. */
static char *
configured_model_path (HearkenAssistant *self)
{
  g_autofree char *model = hearken_settings_dup_model (self->settings);

  if (!g_path_is_absolute (model))
    return NULL;
  return g_steal_pointer (&model);
}

/* ----------------------------------------------------------- properties */

/* The file the next turn will use: the one LoadModel chose, else the one
 * the settings name (or the first installed). */
static char *
resolve_model (HearkenAssistant  *self,
               GError           **error)
{
  g_autofree char *wanted = NULL;

  if (self->chosen_model)
    return g_strdup (self->chosen_model);
  wanted = hearken_settings_dup_model (self->settings);
  return hearken_models_resolve (self->models, wanted, error);
}

static void
update_model (HearkenAssistant *self)
{
  HearkenDBusAssistant1 *iface = HEARKEN_DBUS_ASSISTANT1 (self);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = resolve_model (self, &error);

  if (!path)
    g_debug ("No model yet: %s", error->message);
  hearken_dbus_assistant1_set_model (iface, path ? path : "");
}

/* Backend, Device and BackendReason say where the last loaded model ran
 * and why; before the first load, what the settings ask for. */
static void
update_backend (HearkenAssistant *self)
{
  HearkenDBusAssistant1 *iface = HEARKEN_DBUS_ASSISTANT1 (self);
  g_autofree char *plan_reason = NULL;
  const char *planned = hearken_backend_plan (self->settings, &plan_reason);
  const char *running = hearken_scheduler_get_backend (self->scheduler);
  const char *device = hearken_scheduler_get_device (self->scheduler);
  const char *reason = hearken_scheduler_get_backend_reason (self->scheduler);

  hearken_dbus_assistant1_set_backend (iface, running ? running : planned);
  hearken_dbus_assistant1_set_device (iface, device ? device : "");
  hearken_dbus_assistant1_set_backend_reason (iface, running ? reason : plan_reason);
}

/* The scheduler sets backend, then device: device's notify sees both. */
static void
scheduler_backend_changed_cb (HearkenAssistant *self,
                              GParamSpec       *pspec,
                              HearkenScheduler *scheduler)
{
  g_assert (HEARKEN_IS_ASSISTANT (self));

  update_backend (self);
}

static void
scheduler_state_changed_cb (HearkenAssistant *self,
                            GParamSpec       *pspec,
                            HearkenScheduler *scheduler)
{
  g_assert (HEARKEN_IS_ASSISTANT (self));

  hearken_dbus_assistant1_set_state (HEARKEN_DBUS_ASSISTANT1 (self),
                                     hearken_scheduler_get_state (scheduler));
}

static void
idle_unload_changed_cb (HearkenAssistant *self,
                        GParamSpec       *pspec,
                        HearkenSettings  *settings)
{
  g_assert (HEARKEN_IS_ASSISTANT (self));

  hearken_scheduler_set_idle_unload (self->scheduler,
                                     hearken_settings_get_idle_unload_seconds (settings));
}

static void
model_setting_changed_cb (HearkenAssistant *self,
                          GParamSpec       *pspec,
                          HearkenSettings  *settings)
{
  g_assert (HEARKEN_IS_ASSISTANT (self));

  /* A new choice in the settings replaces LoadModel's. */
  g_clear_pointer (&self->chosen_model, g_free);
  update_model (self);
}

static void
reload_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!hearken_scheduler_load_finish (HEARKEN_SCHEDULER (object), result, &error))
    g_warning ("Could not move the model to the new backend: %s", error->message);
}

/* A loaded model moves to the backend, device or threads the settings now
 * ask for at once, so the properties show the change; one not loaded will
 * load there. */
static void
backend_setting_changed_cb (HearkenAssistant *self,
                            GParamSpec       *pspec,
                            HearkenSettings  *settings)
{
  const char *loaded = hearken_scheduler_get_loaded_path (self->scheduler);
  HearkenPlacement placement;

  g_assert (HEARKEN_IS_ASSISTANT (self));

  if (!loaded)
    {
      update_backend (self);
      return;
    }
  hearken_backend_placement (settings, &placement);
  hearken_scheduler_load_async (self->scheduler, loaded, &placement,
                                hearken_settings_get_context_length (settings),
                                reload_done_cb, NULL);
}

static void
keep_history_changed_cb (HearkenAssistant *self,
                         GParamSpec       *pspec,
                         HearkenSettings  *settings)
{
  g_autoptr(GError) error = NULL;
  gboolean keep = hearken_settings_get_keep_history (settings);

  g_assert (HEARKEN_IS_ASSISTANT (self));

  if (!hearken_store_set_keep_history (self->store, keep, &error))
    g_warning ("Could not switch history %s: %s", keep ? "on" : "off", error->message);
  else
    g_debug ("History is %s", keep ? "kept" : "not kept");
}

/* ------------------------------------------------------ history methods */

static gboolean
handle_start_conversation (HearkenDBusAssistant1 *object,
                           GDBusMethodInvocation *invocation,
                           GVariant              *arg_options)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_auto(HearkenOptions) options = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *id = g_uuid_string_random ();

  if (!hearken_options_parse (arg_options, &options, &error) ||
      !hearken_store_add_conversation (self->store, id, arg_options, &error))
    return return_error (invocation, error);

  hearken_dbus_assistant1_complete_start_conversation (object, invocation, id);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_history (HearkenDBusAssistant1 *object,
                GDBusMethodInvocation *invocation,
                const char            *arg_id)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_autoptr(GError) error = NULL;
  GVariant *turns;

  if (!check_conversation_id (arg_id, &error) ||
      !(turns = hearken_store_history (self->store, arg_id, &error)))
    return return_error (invocation, error);

  hearken_dbus_assistant1_complete_history (object, invocation, turns);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_ratings (HearkenDBusAssistant1 *object,
                GDBusMethodInvocation *invocation,
                const char            *arg_id)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_autoptr(GError) error = NULL;
  GVariant *ratings;

  if (!check_conversation_id (arg_id, &error) ||
      !(ratings = hearken_store_ratings (self->store, arg_id, &error)))
    return return_error (invocation, error);

  hearken_dbus_assistant1_complete_ratings (object, invocation, ratings);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_list_conversations (HearkenDBusAssistant1 *object,
                           GDBusMethodInvocation *invocation)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_autoptr(GError) error = NULL;
  GVariant *conversations = hearken_store_list_conversations (self->store, &error);

  if (!conversations)
    return return_error (invocation, error);

  hearken_dbus_assistant1_complete_list_conversations (object, invocation, conversations);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ------------------------------------------------------ intent methods */

static gboolean check_message (const char  *what,
                               const char  *text,
                               GError     **error);

/* A call waiting for the intent model; a correction's details. */
typedef struct {
  HearkenAssistant      *self;          /* a reference */
  GDBusMethodInvocation *invocation;    /* the handler's reference */
  guint64                turn;
  int                    rating;
  char                  *intent;
  char                  *comment;
} IntentCall;

static IntentCall *
intent_call_new (HearkenAssistant      *self,
                 GDBusMethodInvocation *invocation)
{
  IntentCall *call = g_new0 (IntentCall, 1);

  call->self = g_object_ref (self);
  call->invocation = invocation;
  return call;
}

static void
intent_call_free (IntentCall *call)
{
  g_object_unref (call->self);
  g_free (call->intent);
  g_free (call->comment);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IntentCall, intent_call_free)

/* The start of text, at most max_bytes long, cut between characters. */
static char *
utf8_prefix (const char *text,
             gsize       max_bytes)
{
  const char *end;

  if (strlen (text) <= max_bytes)
    return g_strdup (text);
  end = g_utf8_find_prev_char (text, text + max_bytes + 1);
  return g_strndup (text, end - text);
}

static void
classify_done_cb (GObject      *source_object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(IntentCall) call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) predictions = hearken_intents_classify_finish (call->self->intents, result, &error);

  if (!predictions)
    {
      return_error (call->invocation, error);
      return;
    }
  hearken_dbus_assistant1_complete_classify (HEARKEN_DBUS_ASSISTANT1 (call->self),
                                             call->invocation, predictions);
}

static gboolean
handle_classify (HearkenDBusAssistant1 *object,
                 GDBusMethodInvocation *invocation,
                 const char            *arg_text)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_autoptr(GError) error = NULL;

  if (!hearken_check_length ("The text", arg_text, HEARKEN_MAX_CLASSIFY_BYTES, &error) ||
      !check_message ("The text", arg_text, &error))
    return return_error (invocation, error);

  hearken_intents_classify_async (self->intents, arg_text, classify_done_cb,
                                  intent_call_new (self, invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
learn_done_cb (GObject      *source_object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(IntentCall) call = user_data;
  g_autoptr(GError) error = NULL;

  /* Without a model the correction is kept, to be learned from with the
   * next one a model takes. */
  if (!hearken_intents_learn_finish (call->self->intents, result, &error) &&
      g_error_matches (error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_AVAILABLE))
    {
      g_debug ("Correction kept, not learned: %s", error->message);
      g_clear_error (&error);
    }
  if (error ||
      !hearken_store_add_feedback (call->self->store, call->turn, call->rating,
                                   call->intent, call->comment, &error))
    {
      return_error (call->invocation, error);
      return;
    }
  g_debug ("Turn %" G_GUINT64_FORMAT " corrected to %s", call->turn, call->intent);
  hearken_dbus_assistant1_complete_feedback (HEARKEN_DBUS_ASSISTANT1 (call->self), call->invocation);
}

/* Fine-tunes on the correction with the earlier ones still learned, then
 * stores it: a correction the model refuses is not kept. */
static gboolean
learn_correction (HearkenAssistant      *self,
                  GDBusMethodInvocation *invocation,
                  guint64                turn,
                  int                    rating,
                  HearkenFeedbackExtra  *extra)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = hearken_store_dup_turn_input (self->store, turn, &error);
  g_autoptr(GVariant) learned = NULL;
  g_autofree HearkenCorrection *corrections = NULL;
  g_autofree char *start = NULL;
  g_autoptr(GHashTable) seen = NULL;
  IntentCall *call;
  gsize n = 0;
  GVariantIter iter;

  if (!text ||
      !(learned = hearken_store_learned_corrections (self->store,
                                                     HEARKEN_MAX_LEARNED_CORRECTIONS - 1, &error)))
    return return_error (invocation, error);

  start = utf8_prefix (text, HEARKEN_MAX_CLASSIFY_BYTES);
  corrections = g_new (HearkenCorrection, g_variant_n_children (learned) + 1);
  corrections[n++] = (HearkenCorrection) { start, extra->intent };
  seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_add (seen, start);
  /* A text corrected again counts once, as last corrected: repeating it
   * would weigh it over everything the model knows. */
  g_variant_iter_init (&iter, learned);
  while (g_variant_iter_next (&iter, "(&s&s)", &corrections[n].text, &corrections[n].intent))
    if (g_hash_table_add (seen, (gpointer) corrections[n].text))
      n++;

  call = intent_call_new (self, invocation);
  call->turn = turn;
  call->rating = rating;
  call->intent = g_steal_pointer (&extra->intent);
  call->comment = g_steal_pointer (&extra->comment);
  hearken_intents_learn_async (self->intents, corrections, n, learn_done_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
reset_done_cb (GObject      *source_object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(IntentCall) call = user_data;
  g_autoptr(GError) error = NULL;

  if (!hearken_intents_reset_finish (call->self->intents, result, &error) ||
      !hearken_store_reset_corrections (call->self->store, &error))
    {
      return_error (call->invocation, error);
      return;
    }
  g_debug ("Intent model reset at the request of %s",
           g_dbus_method_invocation_get_sender (call->invocation));
  hearken_dbus_assistant1_complete_reset_intents (HEARKEN_DBUS_ASSISTANT1 (call->self),
                                                  call->invocation);
}

static gboolean
handle_reset_intents (HearkenDBusAssistant1 *object,
                      GDBusMethodInvocation *invocation)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);

  hearken_intents_reset_async (self->intents, reset_done_cb, intent_call_new (self, invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_intent_corrections (HearkenDBusAssistant1 *object,
                           GDBusMethodInvocation *invocation)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_autoptr(GError) error = NULL;
  GVariant *corrections = hearken_store_intent_corrections (self->store, &error);

  if (!corrections)
    return return_error (invocation, error);

  hearken_dbus_assistant1_complete_intent_corrections (object, invocation, corrections);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_feedback (HearkenDBusAssistant1 *object,
                 GDBusMethodInvocation *invocation,
                 guint64                arg_turn,
                 gint                   arg_rating,
                 GVariant              *arg_extra)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_auto(HearkenFeedbackExtra) extra = { 0 };
  g_autoptr(GError) error = NULL;

  if (arg_rating < -1 || arg_rating > 1)
    {
      g_set_error (&error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                   "The rating is %d; it must be -1 (bad), 0 (neutral) or 1 (good)", arg_rating);
      return return_error (invocation, error);
    }
  if (!hearken_feedback_extra_parse (arg_extra, &extra, &error))
    return return_error (invocation, error);
  if (extra.intent)
    return learn_correction (self, invocation, arg_turn, arg_rating, &extra);
  if (!hearken_store_add_feedback (self->store, arg_turn, arg_rating, NULL, extra.comment, &error))
    return return_error (invocation, error);

  hearken_dbus_assistant1_complete_feedback (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_forget_all (HearkenDBusAssistant1 *object,
                   GDBusMethodInvocation *invocation)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_autoptr(GError) error = NULL;

  if (!hearken_store_forget_all (self->store, &error))
    return return_error (invocation, error);

  g_debug ("History forgotten at the request of %s",
           g_dbus_method_invocation_get_sender (invocation));
  hearken_dbus_assistant1_complete_forget_all (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---------------------------------------------------------- generation */

static gboolean
check_message (const char  *what,
               const char  *text,
               GError     **error)
{
  const char *p = text;

  if (!hearken_check_length (what, text, HEARKEN_MAX_TEXT_BYTES, error))
    return FALSE;
  while (g_ascii_isspace (*p))
    p++;
  if (!*p)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT, "%s is empty", what);
      return FALSE;
    }
  return TRUE;
}

/* The settings, then the conversation's options, then the call's. */
static void
sampling_for (HearkenAssistant     *self,
              const HearkenOptions *options,
              HearkenSampling      *ret_sampling)
{
  ret_sampling->temperature = options->has_temperature
                              ? options->temperature
                              : hearken_settings_get_temperature (self->settings);
  ret_sampling->top_p = options->has_top_p ? options->top_p
                                           : hearken_settings_get_top_p (self->settings);
  ret_sampling->max_tokens = options->has_max_tokens
                             ? options->max_tokens
                             : hearken_settings_get_max_tokens (self->settings);
  ret_sampling->seed = options->has_seed ? options->seed
                                         : (guint64) g_random_int () << 32 | g_random_int ();
}

static char *
system_prompt_for (HearkenAssistant     *self,
                   const HearkenOptions *options)
{
  if (options->system)
    return g_strdup (options->system);
  return hearken_settings_dup_system_prompt (self->settings);
}

/* The options a turn runs with: the conversation's, then the call's. */
static gboolean
turn_options (HearkenAssistant  *self,
              const char        *id,
              GVariant          *call_options,
              HearkenOptions    *ret_options,
              GError           **error)
{
  g_autoptr(GVariant) stored = hearken_store_get_options (self->store, id, error);
  g_auto(HearkenOptions) options = { 0 };
  g_auto(HearkenOptions) given = { 0 };
  g_autoptr(GError) stored_error = NULL;

  if (!stored || !hearken_options_parse (call_options, &given, error))
    return FALSE;
  /* Options were checked when the conversation started; a file edited
   * since then only loses them. */
  if (!hearken_options_parse (stored, &options, &stored_error))
    g_debug ("Ignoring the stored options of %s: %s", id, stored_error->message);
  hearken_options_merge (&options, &given);
  *ret_options = options;
  memset (&options, 0, sizeof options);
  return TRUE;
}

static void
turn_prediction_free (TurnPrediction *prediction)
{
  g_free (prediction->intent);
  g_free (prediction);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TurnPrediction, turn_prediction_free)

/* Kept until the turn ends, for its info and its record. */
static void
remember_prediction (HearkenAssistant     *self,
                     guint64               turn,
                     const TurnPrediction *prediction)
{
  TurnPrediction *kept = g_new0 (TurnPrediction, 1);

  *kept = *prediction;
  kept->intent = g_strdup (prediction->intent);
  g_hash_table_insert (self->predictions, g_memdup2 (&turn, sizeof turn), kept);
}

/* Stores the user's message, then queues the reply; returns its turn. */
static guint64
start_turn (HearkenAssistant       *self,
            GDBusConnection        *connection,
            const char             *sender,
            const char             *id,
            const char             *text,
            const HearkenOptions   *options,
            const char             *model_path,
            const TurnPrediction   *prediction,
            GError                **error)
{
  HearkenTurnRecord user = {
    .conversation = id,
    .role = "user",
    .text = text,
    .intent = prediction->intent,
    .confidence = prediction->confidence,
    .state = HEARKEN_TURN_COMPLETE,
  };
  HearkenTurnRequest request = {
    .conversation = id,
    .connection = connection,
    .sender = sender,
    .model_path = model_path,
    .n_ctx = hearken_settings_get_context_length (self->settings),
  };
  g_autoptr(GVariant) context = NULL;
  g_autofree char *system = system_prompt_for (self, options);
  g_autofree hk_chat_message *messages = NULL;
  gsize n = 0;
  GVariantIter iter;
  const char *role, *content;

  if (!hearken_scheduler_check_room (self->scheduler, sender, error))
    return 0;
  user.turn = hearken_store_reserve_turn (self->store);
  if (!hearken_store_add_turn (self->store, &user, error) ||
      !(context = hearken_store_get_context (self->store, id, error)))
    return 0;

  hearken_backend_placement (self->settings, &request.placement);
  messages = g_new (hk_chat_message, g_variant_n_children (context) + 1);
  if (*system)
    messages[n++] = (hk_chat_message) { "system", system };
  g_variant_iter_init (&iter, context);
  while (g_variant_iter_next (&iter, "(&s&s)", &role, &content))
    messages[n++] = (hk_chat_message) { role, content };

  request.turn = hearken_store_reserve_turn (self->store);
  request.messages = messages;
  request.n_messages = n;
  sampling_for (self, options, &request.sampling);
  remember_prediction (self, request.turn, prediction);
  hearken_scheduler_submit (self->scheduler, &request);
  g_debug ("Turn %" G_GUINT64_FORMAT " of %s queued for %s", request.turn, id, sender);
  return request.turn;
}

/* ------------------------------------------------------- action turns */

/* A turn an action answers. */
typedef struct {
  HearkenAssistant *self;           /* a reference */
  guint64           turn;
  char             *conversation;
  GCancellable     *cancellable;
} ActionTurn;

static void
action_turn_free (ActionTurn *action)
{
  g_object_unref (action->self);
  g_free (action->conversation);
  g_object_unref (action->cancellable);
  g_free (action);
}

static void turn_delta (HearkenAssistant *self, guint64 turn, const char *conversation, const char *text);
static void turn_done  (HearkenAssistant *self, const HearkenTurnResult *result);

static void
action_done_cb (GObject      *source_object,
                GAsyncResult *result,
                gpointer      user_data)
{
  ActionTurn *action = user_data;
  HearkenAssistant *self = action->self;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = hearken_actions_run_finish (HEARKEN_ACTIONS (source_object), result, &error);
  HearkenTurnResult done = {
    .turn = action->turn,
    .conversation = action->conversation,
    .reply = reply ? reply : "",
  };

  /* disposed meanwhile: nobody is left to tell */
  if (!self->action_turns)
    {
      action_turn_free (action);
      return;
    }
  g_hash_table_remove (self->action_turns, &action->turn);
  if (reply)
    turn_delta (self, action->turn, action->conversation, reply);
  else
    {
      g_clear_error (&error);
      error = g_error_new (HEARKEN_ERROR, HEARKEN_ERROR_CANCELLED,
                           "Turn %" G_GUINT64_FORMAT " was cancelled: Cancel was called",
                           action->turn);
      done.error = error;
    }
  turn_done (self, &done);
  action_turn_free (action);
}

/* Stores the user's message, then starts the action that answers it;
 * returns the reply's turn. */
static guint64
start_action_turn (HearkenAssistant      *self,
                   const char            *id,
                   const char            *text,
                   const HearkenOptions  *options,
                   const TurnPrediction  *prediction,
                   GError               **error)
{
  HearkenTurnRecord user = {
    .conversation = id,
    .role = "user",
    .text = text,
    .intent = prediction->intent,
    .confidence = prediction->confidence,
    .state = HEARKEN_TURN_COMPLETE,
  };
  gboolean dry_run = options->has_dry_run ? options->dry_run : hearken_actions_dry_run_from_env ();
  ActionTurn *action;

  user.turn = hearken_store_reserve_turn (self->store);
  if (!hearken_store_add_turn (self->store, &user, error))
    return 0;

  action = g_new0 (ActionTurn, 1);
  action->self = g_object_ref (self);
  action->turn = hearken_store_reserve_turn (self->store);
  action->conversation = g_strdup (id);
  action->cancellable = g_cancellable_new ();
  g_hash_table_insert (self->action_turns, &action->turn, action);
  remember_prediction (self, action->turn, prediction);
  hearken_actions_run_async (self->actions, prediction->intent, text, dry_run,
                             action->cancellable, action_done_cb, action);
  g_debug ("Turn %" G_GUINT64_FORMAT " of %s answered by the %s action",
           action->turn, id, prediction->intent);
  return action->turn;
}

static gboolean
check_action_room (HearkenAssistant  *self,
                   GError           **error)
{
  if (g_hash_table_size (self->action_turns) < HEARKEN_MAX_QUEUED_TOTAL)
    return TRUE;
  g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_BUSY,
               "hearkend has %d actions running, the most it takes; "
               "try again when some have finished", HEARKEN_MAX_QUEUED_TOTAL);
  return FALSE;
}

/* ------------------------------------------------------ Send and Ask */

/* A Send or an Ask, checked, while the intent model reads its text; or
 * what push-to-talk heard, without a call to answer. */
typedef struct {
  HearkenAssistant      *self;          /* a reference */
  GDBusMethodInvocation *invocation;    /* the handler's reference, or NULL */
  GDBusConnection       *connection;    /* where the turn's client is */
  char                  *sender;        /* its unique name */
  char                  *id;            /* Send's conversation */
  char                  *text;
  HearkenOptions         options;
  GVariant              *ask_options;   /* an Ask's, for its new conversation */
} TurnCall;

static void
turn_call_free (TurnCall *call)
{
  g_object_unref (call->self);
  g_object_unref (call->connection);
  g_free (call->sender);
  g_free (call->id);
  g_free (call->text);
  hearken_options_clear (&call->options);
  g_clear_pointer (&call->ask_options, g_variant_unref);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TurnCall, turn_call_free)

/* The top prediction, and whether an action answers: it is sure enough,
 * and not chat. */
static void
read_prediction (HearkenAssistant *self,
                 GVariant         *predictions,
                 TurnPrediction   *ret_prediction)
{
  if (!predictions || g_variant_n_children (predictions) == 0)
    return;
  g_variant_get_child (predictions, 0, "(sd)", &ret_prediction->intent, &ret_prediction->confidence);
  ret_prediction->by_action = ret_prediction->confidence >= hearken_settings_get_intent_threshold (self->settings) &&
                              hearken_actions_handles (ret_prediction->intent);
}

/* Starts the turn by its prediction: an action, else the language model
 * (whose absence is then an error). */
static guint64
route_turn (HearkenAssistant      *self,
            TurnCall              *call,
            const TurnPrediction  *prediction,
            GError               **error)
{
  const char *sender = call->sender;
  g_autofree char *model_path = NULL;
  g_autofree char *ask_id = NULL;
  const char *id = call->id;

  if (prediction->by_action ? !check_action_room (self, error)
                            : (!(model_path = resolve_model (self, error)) ||
                               !hearken_scheduler_check_room (self->scheduler, sender, error)))
    return 0;
  if (call->ask_options)
    {
      id = ask_id = g_uuid_string_random ();
      if (!hearken_store_add_conversation (self->store, id, call->ask_options, error))
        return 0;
    }
  if (prediction->by_action)
    return start_action_turn (self, id, call->text, &call->options, prediction, error);
  return start_turn (self, call->connection, call->sender, id, call->text, &call->options,
                     model_path, prediction, error);
}

static void
turn_classified_cb (GObject      *source_object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(TurnCall) call = user_data;
  HearkenAssistant *self = call->self;
  g_autoptr(GError) classify_error = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) predictions = hearken_intents_classify_finish (self->intents, result,
                                                                     &classify_error);
  TurnPrediction prediction = { 0 };
  guint64 turn;

  /* without an intent model, the language model answers everything */
  if (!predictions)
    g_debug ("Not classified: %s", classify_error->message);
  read_prediction (self, predictions, &prediction);
  turn = route_turn (self, call, &prediction, &error);
  g_free (prediction.intent);

  if (!call->invocation)
    {
      if (!turn)
        g_message ("Push-to-talk could not send what was said: %s", error->message);
    }
  else if (!turn)
    return_error (call->invocation, error);
  else if (call->ask_options)
    g_hash_table_insert (self->asks, g_memdup2 (&turn, sizeof turn), call->invocation);
  else
    hearken_dbus_assistant1_complete_send (HEARKEN_DBUS_ASSISTANT1 (self), call->invocation, turn);
}

static void
classify_turn (HearkenAssistant *self,
               TurnCall         *call)
{
  g_autofree char *start = utf8_prefix (call->text, HEARKEN_MAX_CLASSIFY_BYTES);

  hearken_intents_classify_async (self->intents, start, turn_classified_cb, call);
}

/* invocation may be NULL: then the turn is sender's on connection. */
static TurnCall *
turn_call_new (HearkenAssistant      *self,
               GDBusMethodInvocation *invocation,
               GDBusConnection       *connection,
               const char            *sender,
               const char            *text,
               HearkenOptions        *options)
{
  TurnCall *call = g_new0 (TurnCall, 1);

  call->self = g_object_ref (self);
  call->invocation = invocation;
  call->connection = g_object_ref (invocation ? g_dbus_method_invocation_get_connection (invocation)
                                              : connection);
  call->sender = g_strdup (invocation ? g_dbus_method_invocation_get_sender (invocation) : sender);
  call->text = g_strdup (text);
  call->options = *options;
  memset (options, 0, sizeof *options);
  return call;
}

static gboolean
handle_send (HearkenDBusAssistant1 *object,
             GDBusMethodInvocation *invocation,
             const char            *arg_id,
             const char            *arg_text,
             GVariant              *arg_options)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_auto(HearkenOptions) options = { 0 };
  g_autoptr(GError) error = NULL;
  TurnCall *call;

  if (!check_conversation_id (arg_id, &error) ||
      !check_message ("The message", arg_text, &error) ||
      !turn_options (self, arg_id, arg_options, &options, &error))
    return return_error (invocation, error);

  call = turn_call_new (self, invocation, NULL, NULL, arg_text, &options);
  call->id = g_strdup (arg_id);
  classify_turn (self, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_ask (HearkenDBusAssistant1 *object,
            GDBusMethodInvocation *invocation,
            const char            *arg_prompt,
            GVariant              *arg_options)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_auto(HearkenOptions) options = { 0 };
  g_autoptr(GError) error = NULL;
  TurnCall *call;

  if (!check_message ("The prompt", arg_prompt, &error) ||
      !hearken_options_parse (arg_options, &options, &error))
    return return_error (invocation, error);

  call = turn_call_new (self, invocation, NULL, NULL, arg_prompt, &options);
  call->ask_options = g_variant_ref (arg_options);
  classify_turn (self, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_cancel (HearkenDBusAssistant1 *object,
               GDBusMethodInvocation *invocation,
               guint64                arg_turn)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_autoptr(GError) error = NULL;
  ActionTurn *action = g_hash_table_lookup (self->action_turns, &arg_turn);

  if (action)
    g_cancellable_cancel (action->cancellable);
  else if (!hearken_scheduler_cancel (self->scheduler, arg_turn, &error))
    return return_error (invocation, error);

  hearken_dbus_assistant1_complete_cancel (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static GVariant *
turn_info (const HearkenTurnResult *result,
           const TurnPrediction    *prediction)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  g_variant_dict_insert (&dict, "turn", "t", result->turn);
  /* an Ask's conversation, for Send and History to go on with it */
  g_variant_dict_insert (&dict, "conversation", "s", result->conversation);
  g_variant_dict_insert (&dict, "tokens", "u", result->stats.tokens);
  g_variant_dict_insert (&dict, "prompt_tokens", "u", result->stats.prompt_tokens);
  g_variant_dict_insert (&dict, "tokens_per_second", "d", result->stats.tokens_per_second);
  g_variant_dict_insert (&dict, "backend", "s", result->backend ? result->backend : "");
  g_variant_dict_insert (&dict, "model", "s", result->model_name ? result->model_name : "");
  if (prediction && prediction->intent)
    {
      g_variant_dict_insert (&dict, "intent", "s", prediction->intent);
      g_variant_dict_insert (&dict, "confidence", "d", prediction->confidence);
    }
  if (prediction && prediction->by_action)
    g_variant_dict_insert (&dict, "action", "s", prediction->intent);
  return g_variant_dict_end (&dict);
}

static void
store_reply (HearkenAssistant        *self,
             const HearkenTurnResult *result,
             const TurnPrediction    *prediction)
{
  g_autoptr(GError) error = NULL;
  HearkenTurnRecord record = {
    .turn = result->turn,
    .conversation = result->conversation,
    .role = "assistant",
    .text = result->reply,
    .model = result->model_name,
    .backend = result->backend,
    .tokens = result->stats.tokens,
    .tokens_per_second = result->stats.tokens_per_second,
    .intent = prediction ? prediction->intent : NULL,
    .confidence = prediction ? prediction->confidence : 0,
    .state = !result->error ? HEARKEN_TURN_COMPLETE
           : g_error_matches (result->error, HEARKEN_ERROR, HEARKEN_ERROR_CANCELLED)
             ? HEARKEN_TURN_CANCELLED : HEARKEN_TURN_FAILED,
  };

  /* ForgetAll may have taken the conversation meanwhile. */
  if (!hearken_store_add_turn (self->store, &record, &error))
    g_debug ("Turn %" G_GUINT64_FORMAT " not stored: %s", result->turn, error->message);
}

/* The next piece of a reply, generated or an action's. */
static void
turn_delta (HearkenAssistant *self,
            guint64           turn,
            const char       *conversation,
            const char       *text)
{
  /* An Ask's reply comes back whole, not as signals. */
  if (!g_hash_table_contains (self->asks, &turn))
    hearken_dbus_assistant1_emit_delta (HEARKEN_DBUS_ASSISTANT1 (self), conversation, turn, text);
}

static void
scheduler_delta_cb (HearkenAssistant *self,
                    guint64           turn,
                    const char       *conversation,
                    const char       *text,
                    HearkenScheduler *scheduler)
{
  g_assert (HEARKEN_IS_ASSISTANT (self));

  turn_delta (self, turn, conversation, text);
}

/* The end of a turn, generated or an action's: stored, then answered. */
static void
turn_done (HearkenAssistant        *self,
           const HearkenTurnResult *result)
{
  HearkenDBusAssistant1 *iface = HEARKEN_DBUS_ASSISTANT1 (self);
  g_autoptr(GDBusMethodInvocation) ask = NULL;
  g_autofree guint64 *ask_key = NULL;
  g_autofree guint64 *prediction_key = NULL;
  g_autoptr(TurnPrediction) prediction = NULL;

  g_hash_table_steal_extended (self->predictions, &result->turn,
                               (gpointer *) &prediction_key, (gpointer *) &prediction);
  store_reply (self, result, prediction);
  g_hash_table_steal_extended (self->asks, &result->turn, (gpointer *) &ask_key, (gpointer *) &ask);

  if (result->error)
    g_debug ("Turn %" G_GUINT64_FORMAT " failed: %s", result->turn, result->error->message);
  if (ask && result->error)
    return_error (g_steal_pointer (&ask), result->error);
  else if (ask)
    hearken_dbus_assistant1_complete_ask (iface, g_steal_pointer (&ask),
                                          result->reply, turn_info (result, prediction));
  else if (result->error)
    {
      g_autofree char *name = dbus_error_name (result->error);

      hearken_dbus_assistant1_emit_failed (iface, result->conversation, result->turn,
                                           name, result->error->message);
    }
  else
    hearken_dbus_assistant1_emit_finished (iface, result->conversation, result->turn,
                                           result->reply, turn_info (result, prediction));
}

static void
scheduler_turn_done_cb (HearkenAssistant        *self,
                        const HearkenTurnResult *result,
                        HearkenScheduler        *scheduler)
{
  g_assert (HEARKEN_IS_ASSISTANT (self));

  turn_done (self, result);
}

/* ------------------------------------------------------- model methods */

typedef struct {
  HearkenModels *models;
  char          *extra_path;
  char          *loaded_path;
} ListModelsData;

static void
list_models_data_free (ListModelsData *data)
{
  g_clear_object (&data->models);
  g_clear_pointer (&data->extra_path, g_free);
  g_clear_pointer (&data->loaded_path, g_free);
  g_free (data);
}

/* Reading the headers waits on the disk: not on the main loop. */
static void
list_models_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  ListModelsData *data = task_data;

  g_task_return_pointer (task,
                         g_variant_ref_sink (hearken_models_list (data->models,
                                                                  data->extra_path,
                                                                  data->loaded_path)),
                         (GDestroyNotify) g_variant_unref);
}

/* user_data: the handler's reference to the invocation. */
static void
list_models_done_cb (GObject      *source_object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (source_object);
  GDBusMethodInvocation *invocation = user_data;
  g_autoptr(GVariant) models = g_task_propagate_pointer (G_TASK (result), NULL);

  hearken_dbus_assistant1_complete_list_models (HEARKEN_DBUS_ASSISTANT1 (self), invocation, models);
  /* A folder may have gained the model the settings ask for. */
  update_model (self);
}

static gboolean
handle_list_models (HearkenDBusAssistant1 *object,
                    GDBusMethodInvocation *invocation)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_autoptr(GTask) task = g_task_new (self, NULL, list_models_done_cb, invocation);
  ListModelsData *data = g_new0 (ListModelsData, 1);

  data->models = g_object_ref (self->models);
  data->extra_path = self->chosen_model ? g_strdup (self->chosen_model)
                                        : configured_model_path (self);
  data->loaded_path = g_strdup (hearken_scheduler_get_loaded_path (self->scheduler));
  g_task_set_task_data (task, data, (GDestroyNotify) list_models_data_free);
  g_task_run_in_thread (task, list_models_thread);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

typedef struct {
  HearkenAssistant      *self;
  GDBusMethodInvocation *invocation;    /* the handler's reference */
} LoadModelCall;

static void
load_model_done_cb (GObject      *source_object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  LoadModelCall *call = user_data;
  g_autoptr(HearkenAssistant) self = call->self;
  GDBusMethodInvocation *invocation = call->invocation;
  g_autoptr(GError) error = NULL;

  g_free (call);
  if (!hearken_scheduler_load_finish (HEARKEN_SCHEDULER (source_object), result, &error))
    {
      return_error (invocation, error);
      return;
    }
  update_model (self);
  hearken_dbus_assistant1_complete_load_model (HEARKEN_DBUS_ASSISTANT1 (self), invocation);
}

static gboolean
handle_load_model (HearkenDBusAssistant1 *object,
                   GDBusMethodInvocation *invocation,
                   const char            *arg_path_or_name)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  HearkenPlacement placement;
  LoadModelCall *call;

  if (!*arg_path_or_name)
    {
      g_set_error_literal (&error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                           "Give a model’s name or the path of a .gguf file; "
                           "ListModels lists the installed ones");
      return return_error (invocation, error);
    }
  if (!(path = hearken_models_resolve (self->models, arg_path_or_name, &error)))
    return return_error (invocation, error);

  g_free (self->chosen_model);
  self->chosen_model = g_strdup (path);
  call = g_new0 (LoadModelCall, 1);
  call->self = g_object_ref (self);
  call->invocation = invocation;
  hearken_backend_placement (self->settings, &placement);
  hearken_scheduler_load_async (self->scheduler, path, &placement,
                                hearken_settings_get_context_length (self->settings),
                                load_model_done_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_pull_model (HearkenDBusAssistant1 *object,
                   GDBusMethodInvocation *invocation,
                   const char            *arg_name_or_url)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_autoptr(GError) error = NULL;
  guint64 job;

  if (!hearken_puller_start (self->puller, arg_name_or_url, &job, &error))
    return return_error (invocation, error);
  hearken_dbus_assistant1_complete_pull_model (object, invocation, job);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
pull_progress_cb (HearkenAssistant *self,
                  guint64           job,
                  guint64           done,
                  guint64           total)
{
  hearken_dbus_assistant1_emit_progress (HEARKEN_DBUS_ASSISTANT1 (self), job, done, total);
}

static void
pull_finished_cb (HearkenAssistant *self,
                  guint64           job,
                  const char       *path,
                  const char       *error)
{
  hearken_dbus_assistant1_emit_pull_finished (HEARKEN_DBUS_ASSISTANT1 (self), job, path, error);
}

/* ------------------------------------------------ later features' methods */

#ifdef HAVE_VOICE
static void
transcribe_file_done_cb (GObject      *source_object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  double confidence;

  if (!hearken_listener_transcribe_file_finish (HEARKEN_LISTENER (source_object), result,
                                                &text, &confidence, &error))
    return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(sd)", text, confidence));
}

static gboolean
handle_transcribe_file (HearkenDBusAssistant1 *object,
                        GDBusMethodInvocation *invocation,
                        const char            *arg_path)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);

  hearken_listener_transcribe_file_async (self->listener, arg_path,
                                          transcribe_file_done_cb, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
list_audio_devices_done_cb (GObject      *source_object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = hearken_listener_list_devices_finish (HEARKEN_LISTENER (source_object),
                                                             result, &error);

  if (!names)
    return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(^as)", names));
}

static gboolean
handle_list_audio_devices (HearkenDBusAssistant1 *object,
                           GDBusMethodInvocation *invocation)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);

  hearken_listener_list_devices_async (self->listener, list_audio_devices_done_cb, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_transcribe_fd (HearkenDBusAssistant1 *object,
                      GDBusMethodInvocation *invocation,
                      GUnixFDList           *fd_list,
                      GVariant              *arg_file)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_autoptr(GError) error = NULL;
  struct stat st;
  int fd = -1;

  if (fd_list)
    fd = g_unix_fd_list_get (fd_list, g_variant_get_handle (arg_file), &error);
  if (fd < 0)
    {
      g_dbus_method_invocation_return_error (invocation, HEARKEN_ERROR,
                                             HEARKEN_ERROR_INVALID_ARGUMENT,
                                             "TranscribeFd needs the file passed with the call%s%s",
                                             error ? ": " : "", error ? error->message : "");
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  /* a pipe the caller never writes to would hold a worker for good */
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      g_dbus_method_invocation_return_error_literal (invocation, HEARKEN_ERROR,
                                                     HEARKEN_ERROR_INVALID_ARGUMENT,
                                                     "TranscribeFd takes a recording's file, "
                                                     "not a pipe, device or folder");
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  hearken_listener_transcribe_fd_async (self->listener, fd, transcribe_file_done_cb, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
listening_client_vanished_cb (GDBusConnection *connection,
                              const char      *name,
                              gpointer         user_data)
{
  HearkenAssistant *self = user_data;

  g_debug ("%s left while listening: the microphone closes", name);
  g_clear_handle_id (&self->listener_client_watch, g_bus_unwatch_name);
  hearken_listener_stop_async (self->listener, NULL, NULL);
}

typedef struct {
  HearkenAssistant      *self;
  GDBusMethodInvocation *invocation;    /* the handler's reference */
} StartListeningCall;

static void
start_listening_done_cb (GObject      *source_object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  StartListeningCall *call = user_data;
  g_autoptr(HearkenAssistant) self = call->self;
  GDBusMethodInvocation *invocation = call->invocation;
  g_autoptr(GError) error = NULL;

  g_free (call);
  if (!hearken_listener_start_finish (HEARKEN_LISTENER (source_object), result, &error))
    {
      return_error (invocation, error);
      return;
    }
  g_clear_handle_id (&self->listener_client_watch, g_bus_unwatch_name);
  g_free (self->listener_client);
  self->listener_client = g_strdup (g_dbus_method_invocation_get_sender (invocation));
  self->listener_client_watch =
    g_bus_watch_name_on_connection (g_dbus_method_invocation_get_connection (invocation),
                                    g_dbus_method_invocation_get_sender (invocation),
                                    G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
                                    listening_client_vanished_cb, self, NULL);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static gboolean
handle_start_listening (HearkenDBusAssistant1 *object,
                        GDBusMethodInvocation *invocation,
                        GVariant              *arg_options)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  StartListeningCall *call = g_new0 (StartListeningCall, 1);

  call->self = g_object_ref (self);
  call->invocation = invocation;
  hearken_listener_start_async (self->listener, arg_options,
                                start_listening_done_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
stop_listening_done_cb (GObject      *source_object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = hearken_listener_stop_finish (HEARKEN_LISTENER (source_object),
                                                        result, &error);

  if (!text)
    return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", text));
}

static gboolean
handle_stop_listening (HearkenDBusAssistant1 *object,
                       GDBusMethodInvocation *invocation)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);

  hearken_listener_stop_async (self->listener, stop_listening_done_cb, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
listener_listening_cb (HearkenAssistant *self,
                       gboolean          listening)
{
  if (!listening)
    g_clear_handle_id (&self->listener_client_watch, g_bus_unwatch_name);
  hearken_dbus_assistant1_emit_listening (HEARKEN_DBUS_ASSISTANT1 (self), listening);
}

static void
listener_level_cb (HearkenAssistant *self,
                   double            level)
{
  hearken_dbus_assistant1_emit_level (HEARKEN_DBUS_ASSISTANT1 (self), level);
}

static void
listener_partial_cb (HearkenAssistant *self,
                     const char       *text)
{
  hearken_dbus_assistant1_emit_partial (HEARKEN_DBUS_ASSISTANT1 (self), text);
}

/* Push-to-talk: what was said becomes a turn of the client that started
 * listening, exactly as if it had sent the text: classified, queued,
 * streamed and stored like any other, and cancelled if the client goes. */
static void
send_transcript (HearkenAssistant *self,
                 const char       *text)
{
  GDBusConnection *bus = g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self));
  const char *id = hearken_listener_get_conversation (self->listener);
  /* the defaults, as for a Send without options */
  g_auto(HearkenOptions) options = { 0 };
  g_autofree char *new_id = NULL;
  g_autoptr(GError) error = NULL;
  TurnCall *call;

  if (!bus || !self->listener_client)
    return;
  if (!check_message ("What was said", text, &error))
    {
      g_message ("Push-to-talk could not send what was said: %s", error->message);
      return;
    }
  if (!*id)
    {
      new_id = g_uuid_string_random ();
      if (!hearken_store_add_conversation (self->store, new_id, NULL, &error))
        {
          g_message ("Push-to-talk could not start a conversation: %s", error->message);
          return;
        }
      hearken_listener_set_conversation (self->listener, new_id);
      id = new_id;
    }
  call = turn_call_new (self, NULL, bus, self->listener_client, text, &options);
  call->id = g_strdup (id);
  classify_turn (self, call);
}

static void
listener_transcript_cb (HearkenAssistant *self,
                        const char       *text,
                        double            confidence)
{
  hearken_dbus_assistant1_emit_transcript (HEARKEN_DBUS_ASSISTANT1 (self), text, confidence);
  if (hearken_listener_get_push_to_talk (self->listener))
    send_transcript (self, text);
}

static void
connect_listener (HearkenAssistant *self)
{
  self->listener = hearken_listener_new ();
  g_signal_connect_object (self->listener, "listening",
                           G_CALLBACK (listener_listening_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->listener, "level",
                           G_CALLBACK (listener_level_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->listener, "partial",
                           G_CALLBACK (listener_partial_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->listener, "transcript",
                           G_CALLBACK (listener_transcript_cb), self, G_CONNECT_SWAPPED);
}
#else
static gboolean
handle_transcribe_file (HearkenDBusAssistant1 *object,
                        GDBusMethodInvocation *invocation,
                        const char            *arg_path)
{
  return return_not_available (invocation,
                               "TranscribeFile is not available: this hearkend was built "
                               "without voice input (PortAudio, PocketSphinx, libsndfile)");
}

static gboolean
handle_transcribe_fd (HearkenDBusAssistant1 *object,
                      GDBusMethodInvocation *invocation,
                      GUnixFDList           *fd_list,
                      GVariant              *arg_file)
{
  return return_not_available (invocation,
                               "TranscribeFd is not available: this hearkend was built "
                               "without voice input (PortAudio, PocketSphinx, libsndfile)");
}

static gboolean
handle_list_audio_devices (HearkenDBusAssistant1 *object,
                           GDBusMethodInvocation *invocation)
{
  return return_not_available (invocation,
                               "ListAudioDevices is not available: this hearkend was built "
                               "without voice input (PortAudio, PocketSphinx, libsndfile)");
}

static gboolean
handle_start_listening (HearkenDBusAssistant1 *object,
                        GDBusMethodInvocation *invocation,
                        GVariant              *arg_options)
{
  return return_not_available (invocation,
                               "StartListening is not available: this hearkend was built "
                               "without voice input (PortAudio, PocketSphinx, libsndfile)");
}

static gboolean
handle_stop_listening (HearkenDBusAssistant1 *object,
                       GDBusMethodInvocation *invocation)
{
  return return_not_available (invocation,
                               "StopListening is not available: this hearkend was built "
                               "without voice input (PortAudio, PocketSphinx, libsndfile)");
}

static void
connect_listener (HearkenAssistant *self)
{
  /* built without voice input: its methods answer NotAvailable */
}
#endif

/* -------------------------------------------------------------- object */

static void
hearken_assistant_iface_init (HearkenDBusAssistant1Iface *iface)
{
  iface->handle_ask = handle_ask;
  iface->handle_send = handle_send;
  iface->handle_cancel = handle_cancel;
  iface->handle_load_model = handle_load_model;
  iface->handle_start_conversation = handle_start_conversation;
  iface->handle_history = handle_history;
  iface->handle_ratings = handle_ratings;
  iface->handle_list_conversations = handle_list_conversations;
  iface->handle_feedback = handle_feedback;
  iface->handle_forget_all = handle_forget_all;
  iface->handle_list_models = handle_list_models;
  iface->handle_pull_model = handle_pull_model;
  iface->handle_classify = handle_classify;
  iface->handle_reset_intents = handle_reset_intents;
  iface->handle_intent_corrections = handle_intent_corrections;
  iface->handle_transcribe_file = handle_transcribe_file;
  iface->handle_transcribe_fd = handle_transcribe_fd;
  iface->handle_list_audio_devices = handle_list_audio_devices;
  iface->handle_start_listening = handle_start_listening;
  iface->handle_stop_listening = handle_stop_listening;
}

static void
hearken_assistant_dispose (GObject *object)
{
  HearkenAssistant *self = (HearkenAssistant *) object;

  /* Ends the turns in flight while the store can still record them. */
  if (self->scheduler)
    hearken_scheduler_shutdown (self->scheduler);
  g_clear_object (&self->scheduler);
  /* cancels the downloads, whose jobs hold the puller until they end */
  if (self->puller)
    g_object_run_dispose (G_OBJECT (self->puller));
  g_clear_object (&self->puller);
  /* waits for the intent model's worker */
  g_clear_object (&self->intents);
  g_clear_object (&self->actions);
#ifdef HAVE_VOICE
  g_clear_handle_id (&self->listener_client_watch, g_bus_unwatch_name);
  g_clear_pointer (&self->listener_client, g_free);
  g_clear_object (&self->listener);
#endif
  g_clear_pointer (&self->predictions, g_hash_table_unref);
  g_clear_pointer (&self->action_turns, g_hash_table_unref);
  g_clear_pointer (&self->asks, g_hash_table_unref);
  g_clear_pointer (&self->chosen_model, g_free);
  g_clear_object (&self->settings);
  g_clear_object (&self->store);
  g_clear_object (&self->models);

  G_OBJECT_CLASS (hearken_assistant_parent_class)->dispose (object);
}

static void
hearken_assistant_class_init (HearkenAssistantClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hearken_assistant_dispose;
}

static void
hearken_assistant_init (HearkenAssistant *self)
{
  self->asks = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  self->predictions = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                             (GDestroyNotify) turn_prediction_free);
  /* the ActionTurn owns itself: freed when its action answers */
  self->action_turns = g_hash_table_new (g_int64_hash, g_int64_equal);
}

HearkenAssistant *
hearken_assistant_new (HearkenSettings *settings,
                       HearkenStore    *store,
                       HearkenModels   *models)
{
  HearkenAssistant *self;
  HearkenDBusAssistant1 *iface;
  g_autofree char *models_folder = NULL;

  g_return_val_if_fail (HEARKEN_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (HEARKEN_IS_STORE (store), NULL);
  g_return_val_if_fail (HEARKEN_IS_MODELS (models), NULL);

  self = g_object_new (HEARKEN_TYPE_ASSISTANT, NULL);
  self->settings = g_object_ref (settings);
  self->store = g_object_ref (store);
  self->models = g_object_ref (models);
  self->scheduler = hearken_scheduler_new ();
  models_folder = g_build_filename (g_get_user_data_dir (), "hearken", "models", NULL);
  self->puller = hearken_puller_new (models_folder);
  self->intents = hearken_intents_new_default ();
  self->actions = hearken_actions_new ();
  connect_listener (self);

  iface = HEARKEN_DBUS_ASSISTANT1 (self);
  hearken_dbus_assistant1_set_version (iface, HEARKEN_VERSION);
  hearken_dbus_assistant1_set_state (iface, hearken_scheduler_get_state (self->scheduler));
  update_model (self);
  update_backend (self);
  keep_history_changed_cb (self, NULL, settings);
  idle_unload_changed_cb (self, NULL, settings);

  g_signal_connect_object (self->scheduler, "delta",
                           G_CALLBACK (scheduler_delta_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->scheduler, "turn-done",
                           G_CALLBACK (scheduler_turn_done_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->scheduler, "notify::state",
                           G_CALLBACK (scheduler_state_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->scheduler, "notify::device",
                           G_CALLBACK (scheduler_backend_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->puller, "progress",
                           G_CALLBACK (pull_progress_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->puller, "finished",
                           G_CALLBACK (pull_finished_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (settings, "notify::idle-unload-seconds",
                           G_CALLBACK (idle_unload_changed_cb), self, G_CONNECT_SWAPPED);

  g_signal_connect_object (settings, "notify::model",
                           G_CALLBACK (model_setting_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->scheduler, "notify::backend-reason",
                           G_CALLBACK (scheduler_backend_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (settings, "notify::backend",
                           G_CALLBACK (backend_setting_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (settings, "notify::vulkan-device",
                           G_CALLBACK (backend_setting_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (settings, "notify::threads",
                           G_CALLBACK (backend_setting_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (settings, "notify::keep-history",
                           G_CALLBACK (keep_history_changed_cb), self, G_CONNECT_SWAPPED);
  return self;
}
