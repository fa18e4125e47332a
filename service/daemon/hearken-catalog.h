/* hearken-catalog.h — the catalog of recommended models (models.json).
 *
 * A JSON object {"models": [{"name", "title", "url", "size", "license",
 * "sha256"?}…]}: what PullModel downloads when given a name.  The file
 * is hearken/models.json in the user's data folder, then in each of
 * $XDG_DATA_DIRS (where meson installs it); the first one found counts.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char    *name;      /* what `hearkenctl model pull NAME` takes */
  char    *title;
  char    *url;
  guint64  size;      /* bytes of the file, about: downloads may be a tenth longer */
  char    *license;
  char    *sha256;    /* lower-case hex, or NULL when not known */
} HearkenCatalogEntry;

typedef struct _HearkenCatalog HearkenCatalog;

/* An empty catalog when no file is found. */
HearkenCatalog            *hearken_catalog_load_default (GError             **error);
HearkenCatalog            *hearken_catalog_new_from_file (const char         *path,
                                                          GError            **error);
void                       hearken_catalog_free          (HearkenCatalog      *self);

/* The entry of that name, or whose URL is that one; NULL when none. */
const HearkenCatalogEntry *hearken_catalog_lookup        (const HearkenCatalog *self,
                                                          const char           *name_or_url);
/* "a, b, c": the names, for error messages. */
char                      *hearken_catalog_names         (const HearkenCatalog *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearkenCatalog, hearken_catalog_free)

G_END_DECLS
