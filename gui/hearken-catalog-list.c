/* hearken-catalog-list.c — see hearken-catalog-list.h.
 *
 * Signals: "pulled" (path) when a download has finished and the model is
 * installed.
 */
#include "hearken-catalog-list.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

struct _HearkenCatalogList
{
  GtkWidget              parent_instance;

  HearkenDBusAssistant1 *proxy;
  GCancellable          *cancellable;
  GtkListBox            *list;
  /* Rows downloading: guint64* job → AdwActionRow. */
  GHashTable            *jobs;
  guint                  n_models;
};

enum {
  PULLED,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (HearkenCatalogList, hearken_catalog_list, GTK_TYPE_WIDGET)

static guint signals[N_SIGNALS];

/* The catalog hearkend reads: the user's copy first, then the system's. */
static JsonParser *
load_catalog (void)
{
  g_autoptr(GPtrArray) dirs = g_ptr_array_new ();
  const char *const *system_dirs = g_get_system_data_dirs ();

  g_ptr_array_add (dirs, (gpointer) g_get_user_data_dir ());
  for (guint i = 0; system_dirs[i]; i++)
    g_ptr_array_add (dirs, (gpointer) system_dirs[i]);
  for (guint i = 0; i < dirs->len; i++)
    {
      g_autofree char *path = g_build_filename (dirs->pdata[i], "hearken", "models.json", NULL);
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      if (json_parser_load_from_file (parser, path, &error))
        return g_steal_pointer (&parser);
      g_warning ("%s: %s", path, error->message);
    }
  return NULL;
}

typedef struct
{
  HearkenCatalogList *self;
  GtkWidget          *row;
} PullCall;

static GtkWidget *
row_part (GtkWidget  *row,
          const char *name)
{
  return g_object_get_data (G_OBJECT (row), name);
}

static void
show_downloading (GtkWidget *row,
                  gboolean   downloading)
{
  gtk_widget_set_visible (row_part (row, "button"), !downloading);
  gtk_widget_set_visible (row_part (row, "progress"), downloading);
}

static void
pull_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  PullCall *call = user_data;
  g_autoptr(GError) error = NULL;
  guint64 job;

  if (hearken_dbus_assistant1_call_pull_model_finish (HEARKEN_DBUS_ASSISTANT1 (source), &job, result, &error))
    {
      guint64 *key = g_new (guint64, 1);

      *key = job;
      g_hash_table_insert (call->self->jobs, key, g_object_ref (call->row));
    }
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_dbus_error_strip_remote_error (error);
      show_downloading (call->row, FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (call->row), error->message);
    }
  g_object_unref (call->row);
  g_free (call);
}

static void
download_clicked_cb (GtkButton *button,
                     GtkWidget *row)
{
  HearkenCatalogList *self = HEARKEN_CATALOG_LIST (gtk_widget_get_ancestor (row, HEARKEN_TYPE_CATALOG_LIST));
  PullCall *call;

  if (!self->proxy)
    return;
  call = g_new0 (PullCall, 1);
  call->self = self;
  call->row = g_object_ref (row);
  show_downloading (row, TRUE);
  gtk_progress_bar_pulse (GTK_PROGRESS_BAR (row_part (row, "progress")));
  hearken_dbus_assistant1_call_pull_model (self->proxy, g_object_get_data (G_OBJECT (row), "name"),
                                           self->cancellable, pull_done_cb, call);
}

static void
progress_cb (HearkenCatalogList *self,
             guint64             job,
             guint64             done,
             guint64             total)
{
  GtkWidget *row = g_hash_table_lookup (self->jobs, &job);
  GtkProgressBar *bar;
  g_autofree char *done_text = g_format_size (done);

  if (!row)
    return;
  bar = GTK_PROGRESS_BAR (row_part (row, "progress"));
  if (total > 0)
    {
      g_autofree char *total_text = g_format_size (total);
      /* Translators: download progress, "120 MB of 491 MB" */
      g_autofree char *text = g_strdup_printf (_("%s of %s"), done_text, total_text);

      gtk_progress_bar_set_fraction (bar, (double) done / (double) total);
      gtk_progress_bar_set_text (bar, text);
    }
  else
    {
      gtk_progress_bar_pulse (bar);
      gtk_progress_bar_set_text (bar, done_text);
    }
}

static void
pull_finished_cb (HearkenCatalogList *self,
                  guint64             job,
                  const char         *path,
                  const char         *error)
{
  g_autoptr(GtkWidget) row = NULL;

  if (!g_hash_table_steal_extended (self->jobs, &job, NULL, (gpointer *) &row))
    return;
  show_downloading (row, FALSE);
  if (*error)
    {
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), error);
      return;
    }
  gtk_widget_set_sensitive (row_part (row, "button"), FALSE);
  gtk_button_set_label (GTK_BUTTON (row_part (row, "button")), _("Installed"));
  g_signal_emit (self, signals[PULLED], 0, path);
}

static GtkWidget *
model_row_new (JsonObject *model)
{
  const char *name = json_object_get_string_member_with_default (model, "name", "");
  const char *title = json_object_get_string_member_with_default (model, "title", name);
  const char *license = json_object_get_string_member_with_default (model, "license", NULL);
  g_autofree char *size = g_format_size (json_object_get_int_member_with_default (model, "size", 0));
  g_autofree char *subtitle = license ? g_strdup_printf ("%s · %s", size, license) : g_strdup (size);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button = gtk_button_new_with_label (_("Download"));
  GtkWidget *progress = gtk_progress_bar_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "pill");
  gtk_widget_set_valign (progress, GTK_ALIGN_CENTER);
  gtk_widget_set_size_request (progress, 140, -1);
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (progress), TRUE);
  gtk_widget_set_visible (progress, FALSE);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), progress);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  g_object_set_data_full (G_OBJECT (row), "name", g_strdup (name), g_free);
  g_object_set_data (G_OBJECT (row), "button", button);
  g_object_set_data (G_OBJECT (row), "progress", progress);
  g_signal_connect (button, "clicked", G_CALLBACK (download_clicked_cb), row);
  return row;
}

static void
fill (HearkenCatalogList *self)
{
  g_autoptr(JsonParser) parser = load_catalog ();
  JsonNode *root = parser ? json_parser_get_root (parser) : NULL;
  JsonArray *models;

  if (!root || !JSON_NODE_HOLDS_OBJECT (root) ||
      !json_object_has_member (json_node_get_object (root), "models"))
    return;
  models = json_object_get_array_member (json_node_get_object (root), "models");
  for (guint i = 0; models && i < json_array_get_length (models); i++)
    {
      JsonNode *model = json_array_get_element (models, i);

      if (!JSON_NODE_HOLDS_OBJECT (model))
        continue;
      gtk_list_box_append (self->list, model_row_new (json_node_get_object (model)));
      self->n_models++;
    }
}

static void
hearken_catalog_list_dispose (GObject *object)
{
  HearkenCatalogList *self = HEARKEN_CATALOG_LIST (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->proxy);
  g_clear_pointer (&self->jobs, g_hash_table_unref);
  if (self->list)
    gtk_widget_unparent (GTK_WIDGET (self->list));
  self->list = NULL;
  G_OBJECT_CLASS (hearken_catalog_list_parent_class)->dispose (object);
}

static void
hearken_catalog_list_finalize (GObject *object)
{
  g_clear_object (&HEARKEN_CATALOG_LIST (object)->cancellable);
  G_OBJECT_CLASS (hearken_catalog_list_parent_class)->finalize (object);
}

static void
hearken_catalog_list_class_init (HearkenCatalogListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearken_catalog_list_dispose;
  object_class->finalize = hearken_catalog_list_finalize;
  signals[PULLED] =
    g_signal_new ("pulled", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
hearken_catalog_list_init (HearkenCatalogList *self)
{
  self->cancellable = g_cancellable_new ();
  self->jobs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "boxed-list");
  gtk_widget_set_parent (GTK_WIDGET (self->list), GTK_WIDGET (self));
  fill (self);
}

GtkWidget *
hearken_catalog_list_new (void)
{
  return g_object_new (HEARKEN_TYPE_CATALOG_LIST, NULL);
}

void
hearken_catalog_list_set_proxy (HearkenCatalogList    *self,
                                HearkenDBusAssistant1 *proxy)
{
  g_return_if_fail (HEARKEN_IS_CATALOG_LIST (self));

  if (self->proxy == proxy)
    return;
  if (self->proxy)
    g_signal_handlers_disconnect_by_data (self->proxy, self);
  g_set_object (&self->proxy, proxy);
  if (!proxy)
    return;
  g_signal_connect_object (proxy, "progress", G_CALLBACK (progress_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (proxy, "pull-finished", G_CALLBACK (pull_finished_cb), self, G_CONNECT_SWAPPED);
}

guint
hearken_catalog_list_get_n_models (HearkenCatalogList *self)
{
  g_return_val_if_fail (HEARKEN_IS_CATALOG_LIST (self), 0);
  return self->n_models;
}
