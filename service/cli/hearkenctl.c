/* hearkenctl — the scriptable client of hearkend (org.hearken.Assistant1).
 *
 * Each group of subcommands lives in its own hearkenctl-<group>.c; the
 * table below names them.  Exit status: 0 success, 1 error (one line on
 * stderr, the service's message), 2 usage.  --json, anywhere on the line,
 * makes the output JSON.
 */
#include <locale.h>
#include <stdio.h>

#include "hearkenctl.h"

typedef struct {
  const char       *name;
  const char       *args;
  const char       *summary;
  HkctlCommandFunc  run;
} HkctlCommand;

static const HkctlCommand commands[] = {
  { "ask", N_("[OPTIONS] TEXT"), N_("ask a question; the answer streams as it comes"), hkctl_ask },
  { "chat", N_("[OPTIONS]"), N_("a conversation, one line of standard input per turn"), hkctl_chat },
  { "classify", N_("TEXT"), N_("the intents of a text, most probable first"), hkctl_classify },
  { "transcribe", N_("FILE.wav"), N_("the text spoken in a recording"), hkctl_transcribe },
  { "listen", N_("[--dictation] [--continuous] [--file FILE]"), N_("what the microphone hears, as it comes"), hkctl_listen },
  { "microphones", "", N_("the microphones the service hears, by the names input-device takes"), hkctl_microphones },
  { "feedback", N_("TURN up|down [--intent NAME] [--comment TEXT]"), N_("rate an answer"), hkctl_feedback },
  { "status", "", N_("the service's version, backend, model and state"), hkctl_status },
  { "models", "", N_("the models found on this machine"), hkctl_models },
  { "model", N_("load PATH|NAME | pull NAME|URL"), N_("load a model, or download one"), hkctl_model },
  { "history", N_("[ID]"), N_("the conversations, or the turns of one"), hkctl_history },
  { "forget", "", N_("wipe the history and the feedback"), hkctl_forget },
  { "intents", N_("reset | history"), N_("return to the shipped intent model, or list the corrections it learned"), hkctl_intents },
  { NULL, NULL, NULL, NULL },
};

/* ─── shared helpers ─────────────────────────────────────────────────── */

GDBusConnection *
hkctl_bus (HkctlContext  *ctx,
           GError       **error)
{
  g_autoptr(GError) local_error = NULL;

  if (ctx->bus)
    return ctx->bus;
  ctx->bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &local_error);
  if (!ctx->bus)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                 _("no session bus (%s); run hearkenctl in a desktop session, or start one: "
                   "dbus-run-session -- sh -c 'hearkend & hearkenctl …'"),
                 local_error->message);
  return ctx->bus;
}

GVariant *
hkctl_call (HkctlContext        *ctx,
            const char          *method,
            GVariant            *params,
            const GVariantType  *reply_type,
            GError             **error)
{
  if (!hkctl_bus (ctx, error))
    return NULL;
  /* generation is not waited for here; a model load may take a while */
  return g_dbus_connection_call_sync (ctx->bus, HKCTL_BUS_NAME, HKCTL_PATH,
                                      HKCTL_INTERFACE, method, params, reply_type,
                                      G_DBUS_CALL_FLAGS_NONE, G_MAXINT, NULL, error);
}

int
hkctl_fail (const GError *error)
{
  g_autoptr(GError) copy = g_error_copy (error);

  g_dbus_error_strip_remote_error (copy);
  g_printerr ("hearkenctl: %s\n", copy->message);
  return HKCTL_EXIT_ERROR;
}

int
hkctl_usage (const char *usage,
             const char *problem)
{
  g_printerr ("hearkenctl: %s\n", problem);
  g_printerr (_("usage: hearkenctl %s\n"), usage);
  return HKCTL_EXIT_USAGE;
}

gboolean
hkctl_parse (int                 *argc,
             char              ***argv,
             const GOptionEntry  *entries,
             const char          *usage,
             int                  n_args_min,
             int                  n_args_max)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  int n_args;

  g_option_context_set_help_enabled (context, FALSE);
  if (entries)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      hkctl_usage (usage, error->message);
      return FALSE;
    }
  n_args = *argc - 1;
  for (int i = 1; i < *argc; i++)
    if ((*argv)[i][0] == '-' && (*argv)[i][1] != '\0')
      {
        g_autofree char *problem = g_strdup_printf (_("unknown option “%s”"), (*argv)[i]);
        hkctl_usage (usage, problem);
        return FALSE;
      }
  if (n_args < n_args_min || (n_args_max >= 0 && n_args > n_args_max))
    {
      hkctl_usage (usage, n_args < n_args_min ? _("missing argument") : _("too many arguments"));
      return FALSE;
    }
  return TRUE;
}

JsonNode *
hkctl_variant_to_json (GVariant *value)
{
  return json_gvariant_serialize (value);
}

void
hkctl_print_json (JsonNode *node)
{
  g_autofree char *text = json_to_string (node, TRUE);

  g_print ("%s\n", text);
  json_node_unref (node);
}

/* ─── main ───────────────────────────────────────────────────────────── */

static void
print_usage (FILE *out)
{
  fprintf (out, "%s\n\n%s\n", _("usage: hearkenctl [--json] COMMAND [ARGS…]"), _("commands:"));
  for (const HkctlCommand *c = commands; c->name; c++)
    /* _("") would be the catalog's header */
    fprintf (out, "  %s%s%s\n      %s\n", c->name, *c->args ? " " : "",
             *c->args ? _(c->args) : "", _(c->summary));
}

/* Take --json out of argv wherever it is, and say whether it was there. */
static gboolean
take_json_flag (int   *argc,
                char **argv)
{
  gboolean found = FALSE;
  int kept = 0;

  for (int i = 0; i < *argc; i++)
    {
      if (g_str_equal (argv[i], "--json"))
        found = TRUE;
      else
        argv[kept++] = argv[i];
    }
  argv[kept] = NULL;
  *argc = kept;
  return found;
}

static const HkctlCommand *
find_command (const char *name)
{
  for (const HkctlCommand *c = commands; c->name; c++)
    if (g_str_equal (name, c->name))
      return c;
  return NULL;
}

int
main (int   argc,
      char *argv[])
{
  HkctlContext ctx = { 0 };
  const HkctlCommand *command;
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  ctx.json = take_json_flag (&argc, argv);
  if (argc < 2)
    {
      print_usage (stderr);
      return HKCTL_EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      print_usage (stdout);
      return HKCTL_EXIT_OK;
    }
  command = find_command (argv[1]);
  if (!command)
    {
      g_printerr (_("hearkenctl: unknown command “%s”\n"), argv[1]);
      print_usage (stderr);
      return HKCTL_EXIT_USAGE;
    }

  status = command->run (&ctx, argc - 1, argv + 1);
  if (ctx.bus)
    g_dbus_connection_flush_sync (ctx.bus, NULL, NULL);
  g_clear_object (&ctx.bus);
  return status;
}
