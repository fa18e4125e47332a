/* hearken-predictions.c — see hearken-predictions.h. */
#include "hearken-predictions.h"

#include <glib/gi18n.h>

#include "hearken-intent-names.h"

#define N_SHOWN 3

struct _HearkenPredictions
{
  GtkWidget  parent_instance;

  guint      n_shown;
};

G_DEFINE_FINAL_TYPE (HearkenPredictions, hearken_predictions, GTK_TYPE_WIDGET)

static void
remove_children (HearkenPredictions *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  self->n_shown = 0;
}

static GtkWidget *
prediction_new (const char *intent,
                double      probability)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *name = gtk_label_new (hearken_intent_display_name (intent));
  GtkWidget *bar = gtk_level_bar_new_for_interval (0.0, 1.0);
  g_autofree char *percent = g_strdup_printf ("%.0f%%", probability * 100.0);
  GtkWidget *value = gtk_label_new (percent);
  g_autofree char *tooltip = NULL;

  gtk_label_set_xalign (GTK_LABEL (name), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_label_set_width_chars (GTK_LABEL (name), 16);
  gtk_label_set_max_width_chars (GTK_LABEL (name), 16);
  gtk_level_bar_set_value (GTK_LEVEL_BAR (bar), CLAMP (probability, 0.0, 1.0));
  /* the default offsets colour low values as warnings; a low confidence
   * is information, not a problem */
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_FULL);
  gtk_widget_set_size_request (bar, 96, -1);
  gtk_widget_set_valign (bar, GTK_ALIGN_CENTER);
  gtk_label_set_width_chars (GTK_LABEL (value), 4);
  gtk_label_set_xalign (GTK_LABEL (value), 1.0);
  gtk_widget_add_css_class (value, "numeric");
  gtk_widget_add_css_class (box, "prediction");
  gtk_box_append (GTK_BOX (box), name);
  gtk_box_append (GTK_BOX (box), bar);
  gtk_box_append (GTK_BOX (box), value);
  /* Translators: a predicted intent and how sure the model is of it */
  tooltip = g_strdup_printf (_("Intent “%s”, confidence %s"), hearken_intent_display_name (intent), percent);
  gtk_widget_set_tooltip_text (box, tooltip);
  return box;
}

static void
hearken_predictions_dispose (GObject *object)
{
  remove_children (HEARKEN_PREDICTIONS (object));
  G_OBJECT_CLASS (hearken_predictions_parent_class)->dispose (object);
}

static void
hearken_predictions_class_init (HearkenPredictionsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearken_predictions_dispose;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "predictions");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
hearken_predictions_init (HearkenPredictions *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));

  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 2);
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

GtkWidget *
hearken_predictions_new (void)
{
  return g_object_new (HEARKEN_TYPE_PREDICTIONS, NULL);
}

void
hearken_predictions_set (HearkenPredictions *self,
                         GVariant           *predictions)
{
  const char *intent;
  double probability;
  GVariantIter iter;

  g_return_if_fail (HEARKEN_IS_PREDICTIONS (self));
  g_return_if_fail (predictions == NULL ||
                    g_variant_is_of_type (predictions, G_VARIANT_TYPE ("a(sd)")));

  remove_children (self);
  if (predictions)
    {
      g_variant_iter_init (&iter, predictions);
      while (self->n_shown < N_SHOWN && g_variant_iter_next (&iter, "(&sd)", &intent, &probability))
        {
          gtk_widget_set_parent (prediction_new (intent, probability), GTK_WIDGET (self));
          self->n_shown++;
        }
    }
  gtk_widget_set_visible (GTK_WIDGET (self), self->n_shown > 0);
}

guint
hearken_predictions_get_n_shown (HearkenPredictions *self)
{
  g_return_val_if_fail (HEARKEN_IS_PREDICTIONS (self), 0);
  return self->n_shown;
}
