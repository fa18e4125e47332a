/* hearken-catalog.c — the catalog of recommended models (models.json). */
#include "hearken-catalog.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "hearken-error.h"

struct _HearkenCatalog
{
  GPtrArray *entries;   /* HearkenCatalogEntry* */
};

static void
entry_free (HearkenCatalogEntry *entry)
{
  g_free (entry->name);
  g_free (entry->title);
  g_free (entry->url);
  g_free (entry->license);
  g_free (entry->sha256);
  g_free (entry);
}

static HearkenCatalog *
catalog_new (void)
{
  HearkenCatalog *self = g_new0 (HearkenCatalog, 1);

  self->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  return self;
}

void
hearken_catalog_free (HearkenCatalog *self)
{
  if (!self)
    return;
  g_ptr_array_unref (self->entries);
  g_free (self);
}

static gboolean
is_sha256 (const char *hex)
{
  if (strlen (hex) != 64)
    return FALSE;
  for (const char *c = hex; *c; c++)
    if (!g_ascii_isxdigit (*c))
      return FALSE;
  return TRUE;
}

static const char *
string_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (!node || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* One entry; a bad one names its position, so the file can be fixed. */
static HearkenCatalogEntry *
parse_entry (JsonNode    *node,
             guint        index,
             const char  *path,
             GError     **error)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const char *name = object ? string_member (object, "name") : NULL;
  const char *url = object ? string_member (object, "url") : NULL;
  const char *sha256 = object ? string_member (object, "sha256") : NULL;
  JsonNode *size = object ? json_object_get_member (object, "size") : NULL;
  HearkenCatalogEntry *entry;

  if (!name || !*name || !url ||
      !(g_str_has_prefix (url, "https://") || g_str_has_prefix (url, "http://")) ||
      !size || json_node_get_value_type (size) != G_TYPE_INT64 || json_node_get_int (size) <= 0 ||
      (sha256 && !is_sha256 (sha256)))
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                   "Model %u of the catalog %s needs a name, an http(s) url and a size in bytes "
                   "(and a sha256 of 64 hex digits, when it has one)", index + 1, path);
      return NULL;
    }
  entry = g_new0 (HearkenCatalogEntry, 1);
  entry->name = g_strdup (name);
  entry->title = g_strdup (string_member (object, "title") ? string_member (object, "title") : name);
  entry->url = g_strdup (url);
  entry->size = (guint64) json_node_get_int (size);
  entry->license = g_strdup (string_member (object, "license"));
  entry->sha256 = sha256 ? g_ascii_strdown (sha256, -1) : NULL;
  return entry;
}

HearkenCatalog *
hearken_catalog_new_from_file (const char  *path,
                               GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(HearkenCatalog) self = catalog_new ();
  JsonNode *root;
  JsonObject *object;
  JsonArray *models;

  if (!json_parser_load_from_mapped_file (parser, path, error))
    return NULL;
  root = json_parser_get_root (parser);
  object = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  models = object && json_object_has_member (object, "models")
           && JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, "models"))
           ? json_object_get_array_member (object, "models") : NULL;
  if (!models)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                   "The catalog %s is not an object with a \"models\" array", path);
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (models); i++)
    {
      HearkenCatalogEntry *entry = parse_entry (json_array_get_element (models, i), i, path, error);

      if (!entry)
        return NULL;
      g_ptr_array_add (self->entries, entry);
    }
  return g_steal_pointer (&self);
}

HearkenCatalog *
hearken_catalog_load_default (GError **error)
{
  g_autoptr(GPtrArray) dirs = g_ptr_array_new ();

  g_ptr_array_add (dirs, (gpointer) g_get_user_data_dir ());
  for (const char *const *dir = g_get_system_data_dirs (); *dir; dir++)
    g_ptr_array_add (dirs, (gpointer) *dir);
  for (guint i = 0; i < dirs->len; i++)
    {
      g_autofree char *path = g_build_filename (dirs->pdata[i], "hearken", "models.json", NULL);

      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return hearken_catalog_new_from_file (path, error);
    }
  return catalog_new ();
}

const HearkenCatalogEntry *
hearken_catalog_lookup (const HearkenCatalog *self,
                        const char           *name_or_url)
{
  g_return_val_if_fail (self != NULL, NULL);

  for (guint i = 0; i < self->entries->len; i++)
    {
      const HearkenCatalogEntry *entry = self->entries->pdata[i];

      if (g_ascii_strcasecmp (entry->name, name_or_url) == 0 || g_str_equal (entry->url, name_or_url))
        return entry;
    }
  return NULL;
}

char *
hearken_catalog_names (const HearkenCatalog *self)
{
  GString *names = g_string_new (NULL);

  for (guint i = 0; i < self->entries->len; i++)
    {
      const HearkenCatalogEntry *entry = self->entries->pdata[i];

      g_string_append_printf (names, "%s%s", i ? ", " : "", entry->name);
    }
  return g_string_free (names, FALSE);
}
