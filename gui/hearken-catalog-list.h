/* hearken-catalog-list.h — the catalog's recommended models (the
 * hearken/models.json that hearkend pulls from), each with its size and a
 * Download button that pulls it through the service with a progress bar.
 */
#pragma once

#include <gtk/gtk.h>

#include "hearken-dbus.h"

G_BEGIN_DECLS

#define HEARKEN_TYPE_CATALOG_LIST (hearken_catalog_list_get_type ())

G_DECLARE_FINAL_TYPE (HearkenCatalogList, hearken_catalog_list, HEARKEN, CATALOG_LIST, GtkWidget)

GtkWidget *hearken_catalog_list_new       (void);
void       hearken_catalog_list_set_proxy (HearkenCatalogList    *self,
                                           HearkenDBusAssistant1 *proxy);
guint      hearken_catalog_list_get_n_models (HearkenCatalogList *self);

G_END_DECLS
