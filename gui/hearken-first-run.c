/* hearken-first-run.c — see hearken-first-run.h. */
#include "hearken-first-run.h"

#include <glib/gi18n.h>

#include "hearken-catalog-list.h"

struct _HearkenFirstRun
{
  GtkWidget              parent_instance;

  HearkenDBusAssistant1 *proxy;
  GCancellable          *cancellable;

  GtkWidget             *status_page;
  HearkenCatalogList    *catalog;
  GtkLabel              *status_label;
};

enum {
  MODEL_READY,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (HearkenFirstRun, hearken_first_run, GTK_TYPE_WIDGET)

static guint signals[N_SIGNALS];

static void
show_status (HearkenFirstRun *self,
             const char      *status)
{
  gtk_label_set_text (self->status_label, status);
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), status != NULL);
}

static void
load_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  HearkenFirstRun *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!hearken_dbus_assistant1_call_load_model_finish (HEARKEN_DBUS_ASSISTANT1 (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_dbus_error_strip_remote_error (error);
      show_status (self, error->message);
      return;
    }
  show_status (self, NULL);
  g_signal_emit (self, signals[MODEL_READY], 0);
}

static void
pulled_cb (HearkenFirstRun *self,
           const char      *path)
{
  show_status (self, _("Loading the model…"));
  hearken_dbus_assistant1_call_load_model (self->proxy, path, self->cancellable, load_done_cb, self);
}

static void
hearken_first_run_dispose (GObject *object)
{
  HearkenFirstRun *self = HEARKEN_FIRST_RUN (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->proxy);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARKEN_TYPE_FIRST_RUN);
  G_OBJECT_CLASS (hearken_first_run_parent_class)->dispose (object);
}

static void
hearken_first_run_finalize (GObject *object)
{
  g_clear_object (&HEARKEN_FIRST_RUN (object)->cancellable);
  G_OBJECT_CLASS (hearken_first_run_parent_class)->finalize (object);
}

static void
hearken_first_run_class_init (HearkenFirstRunClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearken_first_run_dispose;
  object_class->finalize = hearken_first_run_finalize;
  signals[MODEL_READY] =
    g_signal_new ("model-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  g_type_ensure (HEARKEN_TYPE_CATALOG_LIST);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearken/Hearken/hearken-first-run.ui");
  gtk_widget_class_bind_template_child (widget_class, HearkenFirstRun, status_page);
  gtk_widget_class_bind_template_child (widget_class, HearkenFirstRun, catalog);
  gtk_widget_class_bind_template_child (widget_class, HearkenFirstRun, status_label);
  gtk_widget_class_bind_template_callback (widget_class, pulled_cb);
}

static void
hearken_first_run_init (HearkenFirstRun *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
}

void
hearken_first_run_set_proxy (HearkenFirstRun       *self,
                             HearkenDBusAssistant1 *proxy)
{
  g_return_if_fail (HEARKEN_IS_FIRST_RUN (self));

  g_set_object (&self->proxy, proxy);
  hearken_catalog_list_set_proxy (self->catalog, proxy);
  if (hearken_catalog_list_get_n_models (self->catalog) == 0)
    show_status (self, _("No catalog of models was found. Put a .gguf file in ~/.local/share/hearken/models, or choose one in Preferences."));
}

guint
hearken_first_run_get_n_models (HearkenFirstRun *self)
{
  g_return_val_if_fail (HEARKEN_IS_FIRST_RUN (self), 0);
  return hearken_catalog_list_get_n_models (self->catalog);
}
