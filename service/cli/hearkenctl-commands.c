/* hearkenctl's one-call subcommands: classify, transcribe, feedback,
 * status, models, model load, history, forget.  Each is one method call
 * (or a few property reads) and prints the answer as text or JSON. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hearkenctl.h"

#define CLASSIFY_USAGE   N_("classify TEXT")
#define TRANSCRIBE_USAGE N_("transcribe FILE.wav")
#define FEEDBACK_USAGE   N_("feedback TURN up|down [--intent NAME] [--comment TEXT]")
#define STATUS_USAGE     "status"
#define MODELS_USAGE     "models"
#define MODEL_USAGE      N_("model load PATH|NAME | model pull NAME|URL")
#define HISTORY_USAGE    N_("history [ID]")
#define FORGET_USAGE     "forget"

static const char *const properties[] = {
  "Version", "Backend", "Device", "BackendReason", "Model", "State", NULL,
};

/* A JSON object with one member, for the commands that only act. */
static void
print_json_member (const char *name,
                   JsonNode   *value)
{
  JsonObject *object = json_object_new ();
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);

  json_object_set_member (object, name, value);
  json_node_take_object (root, object);
  hkctl_print_json (root);
}

/* A call whose answer is printed, or the error; returns the exit status
 * with *ret_reply set on success. */
static int
call_or_fail (HkctlContext        *ctx,
              const char          *method,
              GVariant            *params,
              const GVariantType  *reply_type,
              GVariant           **ret_reply)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = hkctl_call (ctx, method, params, reply_type, &error);

  if (!reply)
    return hkctl_fail (error);
  *ret_reply = reply;
  return HKCTL_EXIT_OK;
}

int
hkctl_classify (HkctlContext  *ctx,
                int            argc,
                char         **argv)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) predictions = NULL;
  g_autofree char *text = NULL;
  GVariantIter iter;
  const char *intent;
  double p;
  int status;

  if (!hkctl_parse (&argc, &argv, NULL, _(CLASSIFY_USAGE), 1, -1))
    return HKCTL_EXIT_USAGE;
  text = g_strjoinv (" ", argv + 1);
  status = call_or_fail (ctx, "Classify", g_variant_new ("(s)", text), G_VARIANT_TYPE ("(a(sd))"), &reply);
  if (status != HKCTL_EXIT_OK)
    return status;
  predictions = g_variant_get_child_value (reply, 0);
  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_array (builder);
      g_variant_iter_init (&iter, predictions);
      while (g_variant_iter_next (&iter, "(&sd)", &intent, &p))
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "intent");
          json_builder_add_string_value (builder, intent);
          json_builder_set_member_name (builder, "probability");
          json_builder_add_double_value (builder, p);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      hkctl_print_json (json_builder_get_root (builder));
      return HKCTL_EXIT_OK;
    }
  g_variant_iter_init (&iter, predictions);
  while (g_variant_iter_next (&iter, "(&sd)", &intent, &p))
    g_print ("%-24s %.3f\n", intent, p);
  return HKCTL_EXIT_OK;
}

/* The file goes to the service opened: its sandbox keeps it from the
 * person's folders, where recordings are. */
static int
transcribe_opened (HkctlContext  *ctx,
                   const char    *path,
                   GVariant     **ret_reply)
{
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GError) error = NULL;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  int saved = errno;

  if (fd < 0)
    {
      g_printerr (_("hearkenctl: cannot open %s: %s\n"), path, g_strerror (saved));
      return HKCTL_EXIT_ERROR;
    }
  g_unix_fd_list_append (fds, fd, NULL);
  close (fd);
  if (!hkctl_bus (ctx, &error) ||
      !(*ret_reply = g_dbus_connection_call_with_unix_fd_list_sync (
          ctx->bus, HKCTL_BUS_NAME, HKCTL_PATH, HKCTL_INTERFACE, "TranscribeFd",
          g_variant_new ("(h)", 0), G_VARIANT_TYPE ("(sd)"), G_DBUS_CALL_FLAGS_NONE, G_MAXINT,
          fds, NULL, NULL, &error)))
    return hkctl_fail (error);
  return HKCTL_EXIT_OK;
}

int
hkctl_transcribe (HkctlContext  *ctx,
                  int            argc,
                  char         **argv)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *path = NULL;
  const char *text;
  double confidence;
  int status;

  if (!hkctl_parse (&argc, &argv, NULL, _(TRANSCRIBE_USAGE), 1, 1))
    return HKCTL_EXIT_USAGE;
  path = g_canonicalize_filename (argv[1], NULL);
  status = transcribe_opened (ctx, path, &reply);
  if (status != HKCTL_EXIT_OK)
    return status;
  g_variant_get (reply, "(&sd)", &text, &confidence);
  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, text);
      json_builder_set_member_name (builder, "confidence");
      json_builder_add_double_value (builder, confidence);
      json_builder_end_object (builder);
      hkctl_print_json (json_builder_get_root (builder));
    }
  else
    g_print ("%s\n", text);
  return HKCTL_EXIT_OK;
}

static gboolean
parse_rating (const char *word,
              int        *ret_rating)
{
  if (g_str_equal (word, "up"))
    *ret_rating = 1;
  else if (g_str_equal (word, "down"))
    *ret_rating = -1;
  else
    return FALSE;
  return TRUE;
}

int
hkctl_feedback (HkctlContext  *ctx,
                int            argc,
                char         **argv)
{
  g_autofree char *intent = NULL;
  g_autofree char *comment = NULL;
  const GOptionEntry entries[] = {
    { "intent", 'i', 0, G_OPTION_ARG_STRING, &intent, N_("The intent the text should have had"), N_("NAME") },
    { "comment", 'c', 0, G_OPTION_ARG_STRING, &comment, N_("A word on the answer"), N_("TEXT") },
    { NULL }
  };
  g_autoptr(GVariant) reply = NULL;
  GVariantBuilder extra;
  guint64 turn;
  int rating;
  int status;

  if (!hkctl_parse (&argc, &argv, entries, _(FEEDBACK_USAGE), 2, 2))
    return HKCTL_EXIT_USAGE;
  if (!g_ascii_string_to_unsigned (argv[1], 10, 1, G_MAXUINT64, &turn, NULL))
    return hkctl_usage (_(FEEDBACK_USAGE), _("TURN is the number of a turn, as history shows it"));
  if (!parse_rating (argv[2], &rating))
    return hkctl_usage (_(FEEDBACK_USAGE), _("the rating is up or down"));

  g_variant_builder_init (&extra, G_VARIANT_TYPE_VARDICT);
  if (intent)
    g_variant_builder_add (&extra, "{sv}", "intent", g_variant_new_string (intent));
  if (comment)
    g_variant_builder_add (&extra, "{sv}", "comment", g_variant_new_string (comment));
  status = call_or_fail (ctx, "Feedback", g_variant_new ("(tia{sv})", turn, rating, &extra), NULL, &reply);
  if (status != HKCTL_EXIT_OK)
    return status;
  if (ctx->json)
    print_json_member ("turn", json_node_init_int (json_node_alloc (), (gint64) turn));
  return HKCTL_EXIT_OK;
}

/* The service's properties, read through org.freedesktop.DBus.Properties. */
static int
get_properties (HkctlContext  *ctx,
                GVariant     **ret_properties)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  if (!hkctl_bus (ctx, &error))
    return hkctl_fail (error);
  reply = g_dbus_connection_call_sync (ctx->bus, HKCTL_BUS_NAME, HKCTL_PATH,
                                       "org.freedesktop.DBus.Properties", "GetAll",
                                       g_variant_new ("(s)", HKCTL_INTERFACE),
                                       G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE,
                                       -1, NULL, &error);
  if (!reply)
    return hkctl_fail (error);
  *ret_properties = g_variant_get_child_value (reply, 0);
  return HKCTL_EXIT_OK;
}

int
hkctl_status (HkctlContext  *ctx,
              int            argc,
              char         **argv)
{
  g_autoptr(GVariant) values = NULL;
  int status;

  if (!hkctl_parse (&argc, &argv, NULL, STATUS_USAGE, 0, 0))
    return HKCTL_EXIT_USAGE;
  status = get_properties (ctx, &values);
  if (status != HKCTL_EXIT_OK)
    return status;
  if (ctx->json)
    {
      hkctl_print_json (hkctl_variant_to_json (values));
      return HKCTL_EXIT_OK;
    }
  for (const char *const *name = properties; *name; name++)
    {
      const char *value = "";

      g_variant_lookup (values, *name, "&s", &value);
      g_print ("%-14s %s\n", *name, *value ? value : "-");
    }
  return HKCTL_EXIT_OK;
}

static void
print_model (GVariant *model)
{
  const char *name = "", *path = "", *architecture = "", *quantization = "";
  guint64 size = 0;
  gboolean loaded = FALSE;
  g_autofree char *size_text = NULL;

  g_variant_lookup (model, "name", "&s", &name);
  g_variant_lookup (model, "path", "&s", &path);
  g_variant_lookup (model, "architecture", "&s", &architecture);
  g_variant_lookup (model, "quantization", "&s", &quantization);
  g_variant_lookup (model, "size", "t", &size);
  g_variant_lookup (model, "loaded", "b", &loaded);
  size_text = g_format_size (size);
  g_print ("%s %-32s %9s  %-8s %-8s %s\n", loaded ? "*" : " ", name, size_text,
           architecture, quantization, path);
}

int
hkctl_models (HkctlContext  *ctx,
              int            argc,
              char         **argv)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) models = NULL;
  GVariantIter iter;
  GVariant *model;
  int status;

  if (!hkctl_parse (&argc, &argv, NULL, MODELS_USAGE, 0, 0))
    return HKCTL_EXIT_USAGE;
  status = call_or_fail (ctx, "ListModels", NULL, G_VARIANT_TYPE ("(aa{sv})"), &reply);
  if (status != HKCTL_EXIT_OK)
    return status;
  models = g_variant_get_child_value (reply, 0);
  if (ctx->json)
    {
      hkctl_print_json (hkctl_variant_to_json (models));
      return HKCTL_EXIT_OK;
    }
  if (g_variant_n_children (models) == 0)
    {
      g_print (_("No models found.  Download one with “hearkenctl model pull NAME”, "
                 "or point HEARKEN_MODEL at a GGUF file.\n"));
      return HKCTL_EXIT_OK;
    }
  g_variant_iter_init (&iter, models);
  while ((model = g_variant_iter_next_value (&iter)))
    {
      print_model (model);
      g_variant_unref (model);
    }
  return HKCTL_EXIT_OK;
}

static int
model_load (HkctlContext *ctx,
            const char   *path_or_name)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *argument = NULL;
  int status;

  /* a path is the client's; the service's folder is another one */
  if (strchr (path_or_name, '/'))
    argument = g_canonicalize_filename (path_or_name, NULL);
  else
    argument = g_strdup (path_or_name);
  status = call_or_fail (ctx, "LoadModel", g_variant_new ("(s)", argument), NULL, &reply);
  if (status != HKCTL_EXIT_OK)
    return status;
  if (ctx->json)
    print_json_member ("model", json_node_init_string (json_node_alloc (), argument));
  return HKCTL_EXIT_OK;
}

int
hkctl_model (HkctlContext  *ctx,
             int            argc,
             char         **argv)
{
  if (!hkctl_parse (&argc, &argv, NULL, _(MODEL_USAGE), 2, 2))
    return HKCTL_EXIT_USAGE;
  if (g_str_equal (argv[1], "load"))
    return model_load (ctx, argv[2]);
  if (g_str_equal (argv[1], "pull"))
    return hkctl_model_pull (ctx, argv[2]);
  return hkctl_usage (_(MODEL_USAGE), _("model takes load or pull"));
}

static int
list_conversations (HkctlContext *ctx)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) conversations = NULL;
  GVariantIter iter;
  const char *id, *title;
  guint64 last_used;
  int status;

  status = call_or_fail (ctx, "ListConversations", NULL, G_VARIANT_TYPE ("(a(sst))"), &reply);
  if (status != HKCTL_EXIT_OK)
    return status;
  conversations = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, conversations);
  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_array (builder);
      while (g_variant_iter_next (&iter, "(&s&st)", &id, &title, &last_used))
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "id");
          json_builder_add_string_value (builder, id);
          json_builder_set_member_name (builder, "title");
          json_builder_add_string_value (builder, title);
          json_builder_set_member_name (builder, "last_used");
          json_builder_add_int_value (builder, (gint64) last_used);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      hkctl_print_json (json_builder_get_root (builder));
      return HKCTL_EXIT_OK;
    }
  while (g_variant_iter_next (&iter, "(&s&st)", &id, &title, &last_used))
    {
      g_autoptr(GDateTime) when = g_date_time_new_from_unix_local ((gint64) last_used);
      g_autofree char *date = when ? g_date_time_format (when, "%Y-%m-%d %H:%M") : g_strdup ("-");

      g_print ("%s  %s  %s\n", id, date, title);
    }
  return HKCTL_EXIT_OK;
}

static int
list_turns (HkctlContext *ctx,
            const char   *id)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) turns = NULL;
  GVariantIter iter;
  const char *role, *text;
  guint64 turn;
  int status;

  status = call_or_fail (ctx, "History", g_variant_new ("(s)", id), G_VARIANT_TYPE ("(a(tss))"), &reply);
  if (status != HKCTL_EXIT_OK)
    return status;
  turns = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, turns);
  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_array (builder);
      while (g_variant_iter_next (&iter, "(t&s&s)", &turn, &role, &text))
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "turn");
          json_builder_add_int_value (builder, (gint64) turn);
          json_builder_set_member_name (builder, "role");
          json_builder_add_string_value (builder, role);
          json_builder_set_member_name (builder, "text");
          json_builder_add_string_value (builder, text);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      hkctl_print_json (json_builder_get_root (builder));
      return HKCTL_EXIT_OK;
    }
  while (g_variant_iter_next (&iter, "(t&s&s)", &turn, &role, &text))
    g_print ("[%" G_GUINT64_FORMAT "] %s: %s\n", turn, role, text);
  return HKCTL_EXIT_OK;
}

int
hkctl_history (HkctlContext  *ctx,
               int            argc,
               char         **argv)
{
  if (!hkctl_parse (&argc, &argv, NULL, _(HISTORY_USAGE), 0, 1))
    return HKCTL_EXIT_USAGE;
  return argc == 2 ? list_turns (ctx, argv[1]) : list_conversations (ctx);
}

int
hkctl_forget (HkctlContext  *ctx,
              int            argc,
              char         **argv)
{
  g_autoptr(GVariant) reply = NULL;
  int status;

  if (!hkctl_parse (&argc, &argv, NULL, FORGET_USAGE, 0, 0))
    return HKCTL_EXIT_USAGE;
  status = call_or_fail (ctx, "ForgetAll", NULL, NULL, &reply);
  if (status != HKCTL_EXIT_OK)
    return status;
  if (ctx->json)
    print_json_member ("forgotten", json_node_init_boolean (json_node_alloc (), TRUE));
  return HKCTL_EXIT_OK;
}
