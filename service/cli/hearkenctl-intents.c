/* hearkenctl intents: the intent model's learning — `intents history`
 * lists the corrections it learned from, `intents reset` returns to the
 * shipped model. */
#include "hearkenctl.h"

#define INTENTS_USAGE N_("intents reset | intents history")

static int
intents_reset (HkctlContext *ctx)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = hkctl_call (ctx, "ResetIntents", NULL, NULL, &error);

  if (!reply)
    return hkctl_fail (error);
  if (ctx->json)
    {
      JsonObject *object = json_object_new ();
      JsonNode *root = json_node_new (JSON_NODE_OBJECT);

      json_object_set_boolean_member (object, "reset", TRUE);
      json_node_take_object (root, object);
      hkctl_print_json (root);
    }
  else
    g_print ("%s\n", _("The intent model is the shipped one again; the corrections stay in the history."));
  return HKCTL_EXIT_OK;
}

static void
print_corrections_json (GVariant *corrections)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  GVariantIter iter;
  const char *text, *intent;
  guint64 turn, when;

  json_builder_begin_array (builder);
  g_variant_iter_init (&iter, corrections);
  while (g_variant_iter_next (&iter, "(t&s&st)", &turn, &text, &intent, &when))
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "turn");
      json_builder_add_int_value (builder, (gint64) turn);
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, text);
      json_builder_set_member_name (builder, "intent");
      json_builder_add_string_value (builder, intent);
      json_builder_set_member_name (builder, "time");
      json_builder_add_int_value (builder, (gint64) when);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  hkctl_print_json (json_builder_get_root (builder));
}

static int
intents_history (HkctlContext *ctx)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = hkctl_call (ctx, "IntentCorrections", NULL,
                                          G_VARIANT_TYPE ("(a(tsst))"), &error);
  g_autoptr(GVariant) corrections = NULL;
  GVariantIter iter;
  const char *text, *intent;
  guint64 turn, when;

  if (!reply)
    return hkctl_fail (error);
  corrections = g_variant_get_child_value (reply, 0);
  if (ctx->json)
    {
      print_corrections_json (corrections);
      return HKCTL_EXIT_OK;
    }
  if (g_variant_n_children (corrections) == 0)
    g_print ("%s\n", _("No corrections yet: hearkenctl feedback TURN down --intent NAME teaches one."));
  g_variant_iter_init (&iter, corrections);
  while (g_variant_iter_next (&iter, "(t&s&st)", &turn, &text, &intent, &when))
    {
      g_autoptr(GDateTime) time = g_date_time_new_from_unix_local ((gint64) when);
      g_autofree char *date = time ? g_date_time_format (time, "%Y-%m-%d %H:%M") : g_strdup ("-");

      g_print ("%s  %" G_GUINT64_FORMAT "  %-18s %s\n", date, turn, intent, text);
    }
  return HKCTL_EXIT_OK;
}

int
hkctl_intents (HkctlContext  *ctx,
               int            argc,
               char         **argv)
{
  if (!hkctl_parse (&argc, &argv, NULL, _(INTENTS_USAGE), 1, 1))
    return HKCTL_EXIT_USAGE;
  if (g_str_equal (argv[1], "reset"))
    return intents_reset (ctx);
  if (g_str_equal (argv[1], "history"))
    return intents_history (ctx);
  return hkctl_usage (_(INTENTS_USAGE), _("intents takes reset or history"));
}
