/* hearken-message-row.c — see hearken-message-row.h. */
#include "hearken-message-row-private.h"

#include <glib/gi18n.h>

#include "hearken-intent-names.h"
#include "hearken-markdown.h"


enum {
  PROP_0,
  PROP_RATING,
  N_PROPS
};

enum {
  FEEDBACK,
  REGENERATE,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (HearkenMessageRow, hearken_message_row, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
show_text (HearkenMessageRow *self)
{
  if (self->role == HEARKEN_MESSAGE_ASSISTANT)
    {
      g_autofree char *markup = hearken_markdown_to_pango (self->text->str);

      gtk_label_set_markup (self->body_label, markup);
    }
  else
    gtk_label_set_text (self->body_label, self->text->str);
  gtk_widget_set_visible (GTK_WIDGET (self->body_label), self->text->len > 0);
}

static void
show_status (HearkenMessageRow *self,
             const char        *status,
             gboolean           busy)
{
  gtk_label_set_text (self->status_label, status);
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_widget_set_visible (self->status_box, status != NULL);
}

static void
update_actions (HearkenMessageRow *self)
{
  gboolean done = self->role == HEARKEN_MESSAGE_ASSISTANT && !self->generating;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "message.copy", self->text->len > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "message.regenerate", done);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "message.rating", done && self->turn != 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "message.send-comment", done && self->turn != 0);
  gtk_widget_set_visible (self->footer, done);
}

static void
send_feedback (HearkenMessageRow *self,
               const char        *intent,
               const char        *comment)
{
  g_signal_emit (self, signals[FEEDBACK], 0, self->rating, intent, comment);
}

static void
comment_activate_cb (HearkenMessageRow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "message.send-comment", NULL);
}

static void
intent_row_activated_cb (HearkenMessageRow *self,
                         GtkListBoxRow     *row)
{
  const char *intent = g_object_get_data (G_OBJECT (row), "intent");

  /* "not what I meant" is a bad answer by definition */
  hearken_message_row_show_rating (self, -1, intent);
  gtk_popover_popdown (GTK_POPOVER (self->more_popover));
  send_feedback (self, intent, NULL);
}

static void
copy_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  HearkenMessageRow *self = HEARKEN_MESSAGE_ROW (widget);

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), self->text->str);
}

static void
regenerate_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  g_signal_emit (widget, signals[REGENERATE], 0);
}

static void
send_comment_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  HearkenMessageRow *self = HEARKEN_MESSAGE_ROW (widget);
  const char *comment = gtk_editable_get_text (self->comment_entry);

  if (!*comment)
    return;
  send_feedback (self, NULL, comment);
  gtk_editable_set_text (self->comment_entry, "");
  gtk_popover_popdown (GTK_POPOVER (self->more_popover));
}

static void
set_rating (HearkenMessageRow *self,
            int                rating)
{
  if (self->rating == rating)
    return;
  self->rating = CLAMP (rating, -1, 1);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RATING]);
}

static void
hearken_message_row_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), HEARKEN_TYPE_MESSAGE_ROW);
  G_OBJECT_CLASS (hearken_message_row_parent_class)->dispose (object);
}

static void
hearken_message_row_finalize (GObject *object)
{
  HearkenMessageRow *self = HEARKEN_MESSAGE_ROW (object);

  g_string_free (self->text, TRUE);
  G_OBJECT_CLASS (hearken_message_row_parent_class)->finalize (object);
}

static void
hearken_message_row_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  HearkenMessageRow *self = HEARKEN_MESSAGE_ROW (object);

  switch (prop_id)
    {
    case PROP_RATING:
      g_value_set_int (value, self->rating);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* Only the thumbs (the "message.rating" property action) set the
 * property: a change made there is the user's, so it is sent. */
static void
hearken_message_row_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  HearkenMessageRow *self = HEARKEN_MESSAGE_ROW (object);

  switch (prop_id)
    {
    case PROP_RATING:
      if (self->rating != g_value_get_int (value))
        {
          set_rating (self, g_value_get_int (value));
          send_feedback (self, NULL, NULL);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hearken_message_row_class_init (HearkenMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearken_message_row_dispose;
  object_class->finalize = hearken_message_row_finalize;
  object_class->get_property = hearken_message_row_get_property;
  object_class->set_property = hearken_message_row_set_property;

  properties[PROP_RATING] =
    g_param_spec_int ("rating", NULL, NULL, -1, 1, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * HearkenMessageRow::feedback:
   * @rating: -1, 0 or +1
   * @intent: (nullable): the intent the user meant
   * @comment: (nullable): the user's comment
   */
  signals[FEEDBACK] =
    g_signal_new ("feedback", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_INT, G_TYPE_STRING, G_TYPE_STRING);
  signals[REGENERATE] =
    g_signal_new ("regenerate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearken/Hearken/hearken-message-row.ui");
  gtk_widget_class_set_css_name (widget_class, "message");
  gtk_widget_class_bind_template_child (widget_class, HearkenMessageRow, role_label);
  gtk_widget_class_bind_template_child (widget_class, HearkenMessageRow, body_label);
  gtk_widget_class_bind_template_child (widget_class, HearkenMessageRow, status_box);
  gtk_widget_class_bind_template_child (widget_class, HearkenMessageRow, spinner);
  gtk_widget_class_bind_template_child (widget_class, HearkenMessageRow, status_label);
  gtk_widget_class_bind_template_child (widget_class, HearkenMessageRow, predictions);
  gtk_widget_class_bind_template_child (widget_class, HearkenMessageRow, footer);
  gtk_widget_class_bind_template_child (widget_class, HearkenMessageRow, stats_label);
  gtk_widget_class_bind_template_child (widget_class, HearkenMessageRow, more_popover);
  gtk_widget_class_bind_template_child (widget_class, HearkenMessageRow, comment_entry);
  gtk_widget_class_bind_template_child (widget_class, HearkenMessageRow, intent_box);
  gtk_widget_class_bind_template_child (widget_class, HearkenMessageRow, intent_list);
  gtk_widget_class_bind_template_child (widget_class, HearkenMessageRow, chosen_intent_label);
  gtk_widget_class_bind_template_callback (widget_class, comment_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, intent_row_activated_cb);

  gtk_widget_class_install_action (widget_class, "message.copy", NULL, copy_action);
  gtk_widget_class_install_action (widget_class, "message.regenerate", NULL, regenerate_action);
  gtk_widget_class_install_action (widget_class, "message.send-comment", NULL, send_comment_action);
  gtk_widget_class_install_property_action (widget_class, "message.rating", "rating");

  g_type_ensure (HEARKEN_TYPE_PREDICTIONS);
}

static void
hearken_message_row_init (HearkenMessageRow *self)
{
  self->text = g_string_new (NULL);
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * hearken_message_row_new:
 * @role: who speaks
 * @text: what was said so far (empty for a reply about to stream)
 *
 * Returns: (transfer floating): a new row
 */
GtkWidget *
hearken_message_row_new (HearkenMessageRole  role,
                         const char         *text)
{
  HearkenMessageRow *self = g_object_new (HEARKEN_TYPE_MESSAGE_ROW, NULL);

  g_return_val_if_fail (text != NULL, NULL);

  self->role = role;
  g_string_assign (self->text, text);
  gtk_widget_add_css_class (GTK_WIDGET (self), role == HEARKEN_MESSAGE_USER ? "user" : "assistant");
  gtk_label_set_text (self->role_label, role == HEARKEN_MESSAGE_USER ? _("You") : _("Hearken"));
  if (role == HEARKEN_MESSAGE_USER)
    {
      /* the user's bubble hugs its text, on the right */
      gtk_widget_set_halign (GTK_WIDGET (self->body_label), GTK_ALIGN_END);
      gtk_label_set_xalign (self->role_label, 1.0);
      gtk_widget_set_halign (GTK_WIDGET (self->predictions), GTK_ALIGN_END);
    }
  show_text (self);
  update_actions (self);
  return GTK_WIDGET (self);
}

HearkenMessageRole
hearken_message_row_get_role (HearkenMessageRow *self)
{
  g_return_val_if_fail (HEARKEN_IS_MESSAGE_ROW (self), HEARKEN_MESSAGE_USER);
  return self->role;
}

const char *
hearken_message_row_get_text (HearkenMessageRow *self)
{
  g_return_val_if_fail (HEARKEN_IS_MESSAGE_ROW (self), NULL);
  return self->text->str;
}

guint64
hearken_message_row_get_turn (HearkenMessageRow *self)
{
  g_return_val_if_fail (HEARKEN_IS_MESSAGE_ROW (self), 0);
  return self->turn;
}

void
hearken_message_row_set_turn (HearkenMessageRow *self,
                              guint64            turn)
{
  g_return_if_fail (HEARKEN_IS_MESSAGE_ROW (self));
  self->turn = turn;
  update_actions (self);
}

gboolean
hearken_message_row_get_generating (HearkenMessageRow *self)
{
  g_return_val_if_fail (HEARKEN_IS_MESSAGE_ROW (self), FALSE);
  return self->generating;
}

void
hearken_message_row_append (HearkenMessageRow *self,
                            const char        *delta)
{
  g_return_if_fail (HEARKEN_IS_MESSAGE_ROW (self));
  g_return_if_fail (self->role == HEARKEN_MESSAGE_ASSISTANT);

  if (!self->generating)
    {
      self->generating = TRUE;
      show_status (self, _("Writing…"), TRUE);
    }
  g_string_append (self->text, delta);
  show_text (self);
  update_actions (self);
}

static char *
stats_text (GVariant *info)
{
  g_autoptr(GString) stats = g_string_new (NULL);
  const char *backend = NULL, *model = NULL;
  double speed;
  guint tokens;

  if (g_variant_lookup (info, "tokens", "u", &tokens))
    /* Translators: how long a reply is */
    g_string_append_printf (stats, g_dngettext (NULL, "%u token", "%u tokens", tokens), tokens);
  if (g_variant_lookup (info, "tokens_per_second", "d", &speed))
    /* Translators: generation speed; the separator comes first */
    g_string_append_printf (stats, _(" · %.1f tokens/s"), speed);
  if (g_variant_lookup (info, "backend", "&s", &backend))
    g_string_append_printf (stats, " · %s", g_str_equal (backend, "cpu") ? _("CPU") : _("Vulkan"));
  if (g_variant_lookup (info, "model", "&s", &model))
    {
      g_autofree char *name = g_path_get_basename (model);

      g_string_append_printf (stats, " · %s", name);
    }
  return g_string_free (g_steal_pointer (&stats), FALSE);
}

void
hearken_message_row_finish (HearkenMessageRow *self,
                            const char        *reply,
                            GVariant          *info)
{
  g_return_if_fail (HEARKEN_IS_MESSAGE_ROW (self));
  g_return_if_fail (reply != NULL);

  self->generating = FALSE;
  g_string_assign (self->text, reply);
  show_text (self);
  show_status (self, NULL, FALSE);
  if (info)
    {
      g_autofree char *stats = stats_text (info);

      gtk_label_set_text (self->stats_label, stats);
    }
  update_actions (self);
}

void
hearken_message_row_fail (HearkenMessageRow *self,
                          const char        *message)
{
  g_return_if_fail (HEARKEN_IS_MESSAGE_ROW (self));

  self->generating = FALSE;
  show_text (self);
  show_status (self, message, FALSE);
  gtk_widget_add_css_class (self->status_box, "error");
  update_actions (self);
}

void
hearken_message_row_stop (HearkenMessageRow *self)
{
  g_return_if_fail (HEARKEN_IS_MESSAGE_ROW (self));

  self->generating = FALSE;
  show_text (self);
  show_status (self, _("Stopped"), FALSE);
  update_actions (self);
}

static GtkWidget *
intent_row_new (const char *intent)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *label = gtk_label_new (hearken_intent_display_name (intent));

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_widget_set_margin_start (label, 8);
  gtk_widget_set_margin_end (label, 8);
  gtk_widget_set_margin_top (label, 6);
  gtk_widget_set_margin_bottom (label, 6);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);
  g_object_set_data_full (G_OBJECT (row), "intent", g_strdup (intent), g_free);
  return row;
}

void
hearken_message_row_set_predictions (HearkenMessageRow *self,
                                     GVariant          *predictions)
{
  GVariantIter iter;
  const char *intent;
  GtkWidget *child;

  g_return_if_fail (HEARKEN_IS_MESSAGE_ROW (self));

  if (self->role == HEARKEN_MESSAGE_USER)
    {
      hearken_predictions_set (self->predictions, predictions);
      return;
    }
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->intent_list))))
    gtk_list_box_remove (self->intent_list, child);
  if (predictions)
    {
      g_variant_iter_init (&iter, predictions);
      while (g_variant_iter_next (&iter, "(&sd)", &intent, NULL))
        gtk_list_box_append (self->intent_list, intent_row_new (intent));
    }
  gtk_widget_set_visible (self->intent_box, predictions && g_variant_n_children (predictions) > 0);
}

int
hearken_message_row_get_rating (HearkenMessageRow *self)
{
  g_return_val_if_fail (HEARKEN_IS_MESSAGE_ROW (self), 0);
  return self->rating;
}

void
hearken_message_row_show_rating (HearkenMessageRow *self,
                                 int                rating,
                                 const char        *intent)
{
  g_return_if_fail (HEARKEN_IS_MESSAGE_ROW (self));

  set_rating (self, rating);
  if (intent && *intent)
    {
      /* Translators: shown after the user picked the intent they meant */
      g_autofree char *chosen = g_strdup_printf (_("You meant “%s”"), hearken_intent_display_name (intent));

      gtk_label_set_text (self->chosen_intent_label, chosen);
      gtk_widget_set_visible (GTK_WIDGET (self->chosen_intent_label), TRUE);
    }
}
