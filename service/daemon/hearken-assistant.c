/* hearken-assistant.c — the D-Bus API of hearkend. */
#include "hearken-assistant.h"

#include <string.h>

#include "hearken-backend.h"
#include "hearken-error.h"
#include "hearken-limits.h"
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

  /* The model LoadModel chose; it holds until the model setting changes. */
  char                          *chosen_model;
  /* Ask calls waiting for their turn: guint64* turn → invocation (the
   * handler's reference, which answering the call gives up). */
  GHashTable                    *asks;
};

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

static gboolean
return_not_available (GDBusMethodInvocation *invocation,
                      const char            *message)
{
  g_dbus_method_invocation_return_error_literal (invocation, HEARKEN_ERROR,
                                                 HEARKEN_ERROR_NOT_AVAILABLE, message);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

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
  if (!hearken_feedback_extra_parse (arg_extra, &extra, &error) ||
      !hearken_store_add_feedback (self->store, arg_turn, arg_rating,
                                   extra.intent, extra.comment, &error))
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

/* Stores the user's message, then queues the reply; returns its turn. */
static guint64
start_turn (HearkenAssistant       *self,
            GDBusMethodInvocation  *invocation,
            const char             *id,
            const char             *text,
            const HearkenOptions   *options,
            const char             *model_path,
            GError                **error)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  HearkenTurnRecord user = {
    .conversation = id,
    .role = "user",
    .text = text,
    .state = HEARKEN_TURN_COMPLETE,
  };
  HearkenTurnRequest request = {
    .conversation = id,
    .connection = g_dbus_method_invocation_get_connection (invocation),
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
  hearken_scheduler_submit (self->scheduler, &request);
  g_debug ("Turn %" G_GUINT64_FORMAT " of %s queued for %s", request.turn, id, sender);
  return request.turn;
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
  g_autofree char *model_path = NULL;
  guint64 turn;

  if (!check_conversation_id (arg_id, &error) ||
      !check_message ("The message", arg_text, &error) ||
      !turn_options (self, arg_id, arg_options, &options, &error) ||
      !(model_path = resolve_model (self, &error)) ||
      !(turn = start_turn (self, invocation, arg_id, arg_text, &options, model_path, &error)))
    return return_error (invocation, error);

  hearken_dbus_assistant1_complete_send (object, invocation, turn);
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
  g_autofree char *model_path = NULL;
  g_autofree char *id = g_uuid_string_random ();
  guint64 turn;

  if (!check_message ("The prompt", arg_prompt, &error) ||
      !hearken_options_parse (arg_options, &options, &error) ||
      !(model_path = resolve_model (self, &error)) ||
      !hearken_scheduler_check_room (self->scheduler,
                                     g_dbus_method_invocation_get_sender (invocation), &error) ||
      !hearken_store_add_conversation (self->store, id, arg_options, &error) ||
      !(turn = start_turn (self, invocation, id, arg_prompt, &options, model_path, &error)))
    return return_error (invocation, error);

  g_hash_table_insert (self->asks, g_memdup2 (&turn, sizeof turn), invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_cancel (HearkenDBusAssistant1 *object,
               GDBusMethodInvocation *invocation,
               guint64                arg_turn)
{
  HearkenAssistant *self = HEARKEN_ASSISTANT (object);
  g_autoptr(GError) error = NULL;

  if (!hearken_scheduler_cancel (self->scheduler, arg_turn, &error))
    return return_error (invocation, error);

  hearken_dbus_assistant1_complete_cancel (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static GVariant *
turn_info (const HearkenTurnResult *result)
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
  return g_variant_dict_end (&dict);
}

static void
store_reply (HearkenAssistant        *self,
             const HearkenTurnResult *result)
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
    .state = !result->error ? HEARKEN_TURN_COMPLETE
           : g_error_matches (result->error, HEARKEN_ERROR, HEARKEN_ERROR_CANCELLED)
             ? HEARKEN_TURN_CANCELLED : HEARKEN_TURN_FAILED,
  };

  /* ForgetAll may have taken the conversation meanwhile. */
  if (!hearken_store_add_turn (self->store, &record, &error))
    g_debug ("Turn %" G_GUINT64_FORMAT " not stored: %s", result->turn, error->message);
}

static void
scheduler_delta_cb (HearkenAssistant *self,
                    guint64           turn,
                    const char       *conversation,
                    const char       *text,
                    HearkenScheduler *scheduler)
{
  g_assert (HEARKEN_IS_ASSISTANT (self));

  /* An Ask's reply comes back whole, not as signals. */
  if (!g_hash_table_contains (self->asks, &turn))
    hearken_dbus_assistant1_emit_delta (HEARKEN_DBUS_ASSISTANT1 (self), conversation, turn, text);
}

static void
scheduler_turn_done_cb (HearkenAssistant        *self,
                        const HearkenTurnResult *result,
                        HearkenScheduler        *scheduler)
{
  HearkenDBusAssistant1 *iface = HEARKEN_DBUS_ASSISTANT1 (self);
  g_autoptr(GDBusMethodInvocation) ask = NULL;
  g_autofree guint64 *ask_key = NULL;

  g_assert (HEARKEN_IS_ASSISTANT (self));

  store_reply (self, result);
  g_hash_table_steal_extended (self->asks, &result->turn, (gpointer *) &ask_key, (gpointer *) &ask);

  if (result->error)
    g_debug ("Turn %" G_GUINT64_FORMAT " failed: %s", result->turn, result->error->message);
  if (ask && result->error)
    return_error (g_steal_pointer (&ask), result->error);
  else if (ask)
    hearken_dbus_assistant1_complete_ask (iface, g_steal_pointer (&ask),
                                          result->reply, turn_info (result));
  else if (result->error)
    {
      g_autofree char *name = dbus_error_name (result->error);

      hearken_dbus_assistant1_emit_failed (iface, result->conversation, result->turn,
                                           name, result->error->message);
    }
  else
    hearken_dbus_assistant1_emit_finished (iface, result->conversation, result->turn,
                                           result->reply, turn_info (result));
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

static gboolean
handle_classify (HearkenDBusAssistant1 *object,
                 GDBusMethodInvocation *invocation,
                 const char            *arg_text)
{
  return return_not_available (invocation,
                               "Classify is not available yet: it comes with Hearken’s "
                               "intent model");
}

static gboolean
handle_transcribe_file (HearkenDBusAssistant1 *object,
                        GDBusMethodInvocation *invocation,
                        const char            *arg_path)
{
  return return_not_available (invocation,
                               "TranscribeFile is not available yet: it comes with Hearken’s "
                               "voice input (speech recognition)");
}

static gboolean
handle_start_listening (HearkenDBusAssistant1 *object,
                        GDBusMethodInvocation *invocation,
                        GVariant              *arg_options)
{
  return return_not_available (invocation,
                               "StartListening is not available yet: it comes with Hearken’s "
                               "voice input (microphone capture and speech recognition)");
}

static gboolean
handle_stop_listening (HearkenDBusAssistant1 *object,
                       GDBusMethodInvocation *invocation)
{
  return return_not_available (invocation,
                               "StopListening is not available yet: it comes with Hearken’s "
                               "voice input (microphone capture and speech recognition)");
}

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
  iface->handle_list_conversations = handle_list_conversations;
  iface->handle_feedback = handle_feedback;
  iface->handle_forget_all = handle_forget_all;
  iface->handle_list_models = handle_list_models;
  iface->handle_pull_model = handle_pull_model;
  iface->handle_classify = handle_classify;
  iface->handle_transcribe_file = handle_transcribe_file;
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
