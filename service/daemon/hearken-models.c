/* hearken-models.c — finding models and reading what they are. */
#include "hearken-models.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "gguf.h"
#include "hearken-error.h"
#include "hearken-limits.h"
#include "hearken-sandbox.h"

struct _HearkenModels
{
  GObject  parent_instance;

  GStrv    dirs;
};

G_DEFINE_FINAL_TYPE (HearkenModels, hearken_models, G_TYPE_OBJECT)

/* What ListModels says about one file. */
typedef struct {
  char    *name;
  char    *architecture;
  char    *quantization;
  char    *error;          /* NULL for a readable GGUF */
} ModelInfo;

static void
model_info_clear (ModelInfo *info)
{
  g_clear_pointer (&info->name, g_free);
  g_clear_pointer (&info->architecture, g_free);
  g_clear_pointer (&info->quantization, g_free);
  g_clear_pointer (&info->error, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ModelInfo, model_info_clear)

/* general.file_type, as llama.cpp numbers it: the quantization mix a file
 * was made with, which names it better than any one tensor type (Q4_K_M
 * holds Q4_K and Q6_K tensors). */
static const char *const file_type_names[] = {
  [0] = "F32",      [1] = "F16",      [2] = "Q4_0",     [3] = "Q4_1",
  [7] = "Q8_0",     [8] = "Q5_0",     [9] = "Q5_1",     [10] = "Q2_K",
  [11] = "Q3_K_S",  [12] = "Q3_K_M",  [13] = "Q3_K_L",  [14] = "Q4_K_S",
  [15] = "Q4_K_M",  [16] = "Q5_K_S",  [17] = "Q5_K_M",  [18] = "Q6_K",
  [19] = "IQ2_XXS", [20] = "IQ2_XS",  [21] = "Q2_K_S",  [22] = "IQ3_XS",
  [23] = "IQ3_XXS", [24] = "IQ1_S",   [25] = "IQ4_NL",  [26] = "IQ3_S",
  [27] = "IQ3_M",   [28] = "IQ2_S",   [29] = "IQ2_M",   [30] = "IQ4_XS",
  [31] = "IQ1_M",   [32] = "BF16",    [36] = "TQ1_0",   [37] = "TQ2_0",
};

/* ----------------------------------------------------- reading a file */

static char *
file_stem (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);

  if (g_str_has_suffix (base, ".gguf"))
    base[strlen (base) - strlen (".gguf")] = '\0';
  return g_steal_pointer (&base);
}

static char *
gguf_string (const hk_gguf *g,
             const char    *key)
{
  hk_gguf_str value;
  g_autofree char *text = NULL;

  if (!hk_gguf_get_str (g, key, &value))
    return NULL;
  text = hk_gguf_str_dup (value);
  /* Metadata goes out over D-Bus, which takes only UTF-8. */
  if (!text || !g_utf8_validate (text, -1, NULL))
    return NULL;
  return g_steal_pointer (&text);
}

/* The type holding most bytes among the matrices: what a file without
 * general.file_type mostly is. */
static char *
dominant_type (const hk_gguf *g)
{
  guint64 bytes[HK_TYPE_COUNT] = { 0 };
  guint best = HK_TYPE_COUNT;

  for (guint64 i = 0; i < hk_gguf_n_tensors (g); i++)
    {
      const hk_gguf_tensor *t = hk_gguf_tensor_at (g, i);

      if (t->n_dims >= 2 && (guint) t->type < HK_TYPE_COUNT)
        bytes[t->type] += t->size;
    }
  for (guint type = 0; type < HK_TYPE_COUNT; type++)
    if (bytes[type] > 0 && (best == HK_TYPE_COUNT || bytes[type] > bytes[best]))
      best = type;
  if (best == HK_TYPE_COUNT)
    return g_strdup ("");
  return g_ascii_strup (hk_type_name ((hk_type) best), -1);
}

static char *
quantization (const hk_gguf *g)
{
  guint32 file_type;

  if (hk_gguf_get_u32 (g, "general.file_type", &file_type) &&
      file_type < G_N_ELEMENTS (file_type_names) && file_type_names[file_type])
    return g_strdup (file_type_names[file_type]);
  return dominant_type (g);
}

static void
model_info_read (ModelInfo  *info,
                 const char *path)
{
  hk_gguf *g = NULL;
  hk_error err = { 0 };

  if (hk_gguf_open (path, &g, &err) < 0)
    {
      info->name = file_stem (path);
      info->architecture = g_strdup ("");
      info->quantization = g_strdup ("");
      info->error = g_utf8_make_valid (err.message, -1);
      return;
    }

  info->name = gguf_string (g, "general.name");
  if (!info->name || !*info->name)
    {
      g_free (info->name);
      info->name = file_stem (path);
    }
  info->architecture = gguf_string (g, "general.architecture");
  if (!info->architecture)
    info->architecture = g_strdup ("");
  info->quantization = quantization (g);
  hk_gguf_close (g);
}

/* --------------------------------------------------- finding the files */

static gint
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The *.gguf files of the folders, folder by folder, by name within a
 * folder.  Unreadable folders are skipped: a missing system folder is
 * normal. */
static GPtrArray *
find_files (HearkenModels *self)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  for (guint d = 0; self->dirs[d]; d++)
    {
      g_autoptr(GDir) dir = g_dir_open (self->dirs[d], 0, NULL);
      g_autoptr(GPtrArray) names = g_ptr_array_new ();
      const char *name;

      if (!dir)
        continue;
      while ((name = g_dir_read_name (dir)))
        if (g_str_has_suffix (name, ".gguf"))
          g_ptr_array_add (names, (gpointer) name);
      g_ptr_array_sort (names, compare_strings);

      for (guint i = 0; i < names->len; i++)
        {
          g_autofree char *path = g_build_filename (self->dirs[d], names->pdata[i], NULL);

          if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add (paths, g_steal_pointer (&path));
        }
    }
  return g_steal_pointer (&paths);
}

static guint64
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (guint64) st.st_size : 0;
}

/* ------------------------------------------------------------- object */

static void
hearken_models_finalize (GObject *object)
{
  HearkenModels *self = (HearkenModels *) object;

  g_clear_pointer (&self->dirs, g_strfreev);

  G_OBJECT_CLASS (hearken_models_parent_class)->finalize (object);
}

static void
hearken_models_class_init (HearkenModelsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hearken_models_finalize;
}

static void
hearken_models_init (HearkenModels *self)
{
}

GStrv
hearken_models_default_dirs (void)
{
  const char * const *system_dirs = g_get_system_data_dirs ();
  guint n = g_strv_length ((char **) system_dirs);
  GStrv dirs = g_new0 (char *, n + 2);

  dirs[0] = g_build_filename (g_get_user_data_dir (), "hearken", "models", NULL);
  for (guint i = 0; i < n; i++)
    dirs[i + 1] = g_build_filename (system_dirs[i], "hearken", "models", NULL);
  return dirs;
}

HearkenModels *
hearken_models_new (const char * const *dirs)
{
  HearkenModels *self;

  g_return_val_if_fail (dirs != NULL, NULL);

  self = g_object_new (HEARKEN_TYPE_MODELS, NULL);
  self->dirs = g_strdupv ((char **) dirs);
  return self;
}

static GVariant *
model_entry (const char *path,
             const char *loaded_path)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_auto(ModelInfo) info = { 0 };
  g_autofree char *display_path = g_filename_display_name (path);

  model_info_read (&info, path);
  g_variant_dict_insert (&dict, "path", "s", display_path);
  g_variant_dict_insert (&dict, "name", "s", info.name);
  g_variant_dict_insert (&dict, "size", "t", file_size (path));
  g_variant_dict_insert (&dict, "architecture", "s", info.architecture);
  g_variant_dict_insert (&dict, "quantization", "s", info.quantization);
  g_variant_dict_insert (&dict, "loaded", "b", g_strcmp0 (path, loaded_path) == 0);
  if (info.error)
    g_variant_dict_insert (&dict, "error", "s", info.error);
  return g_variant_dict_end (&dict);
}

GVariant *
hearken_models_list (HearkenModels *self,
                     const char    *extra_path,
                     const char    *loaded_path)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));
  g_autoptr(GPtrArray) paths = NULL;

  g_return_val_if_fail (HEARKEN_IS_MODELS (self), NULL);

  paths = find_files (self);
  if (extra_path && g_file_test (extra_path, G_FILE_TEST_IS_REGULAR) &&
      !g_ptr_array_find_with_equal_func (paths, extra_path, g_str_equal, NULL))
    g_ptr_array_insert (paths, 0, g_strdup (extra_path));

  for (guint i = 0; i < paths->len; i++)
    g_variant_builder_add_value (&builder, model_entry (paths->pdata[i], loaded_path));
  return g_variant_builder_end (&builder);
}

static char *
resolve_path (HearkenModels  *self,
              const char     *path,
              GError        **error)
{
  if (!g_path_is_absolute (path))
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_INVALID_ARGUMENT,
                   "“%s” is a relative path; give the model file’s absolute path", path);
      return NULL;
    }
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND,
                   "There is no model file at %s", path);
      return NULL;
    }
  if (!hearken_sandbox_check_readable (path, self->dirs[0] ? self->dirs[0] : "the models folder", error))
    return NULL;
  return g_canonicalize_filename (path, NULL);
}

static gboolean
names_match (const char *a,
             const char *b)
{
  g_autofree char *fa = g_utf8_casefold (a, -1);
  g_autofree char *fb = g_utf8_casefold (b, -1);

  return g_str_equal (fa, fb);
}

static char *
no_model_message (HearkenModels *self)
{
  return g_strdup_printf ("No usable language model is installed. Download one from the catalog "
                          "(hearkenctl model pull qwen2.5-0.5b-instruct), put a GGUF file in %s, "
                          "or set HEARKEN_MODEL=/path/to/model.gguf",
                          self->dirs[0] ? self->dirs[0] : "~/.local/share/hearken/models");
}

static gboolean
is_readable_gguf (const char *path)
{
  hk_gguf *g = NULL;

  if (hk_gguf_open (path, &g, NULL) < 0)
    return FALSE;
  hk_gguf_close (g);
  return TRUE;
}

/* The first file whose header reads: a damaged download must not hide the
 * good model beside it. */
static char *
first_usable (HearkenModels  *self,
              GPtrArray      *paths,
              GError        **error)
{
  g_autofree char *message = NULL;

  for (guint i = 0; i < paths->len; i++)
    if (is_readable_gguf (paths->pdata[i]))
      return g_strdup (paths->pdata[i]);

  message = no_model_message (self);
  g_set_error_literal (error, HEARKEN_ERROR, HEARKEN_ERROR_NO_MODEL, message);
  return NULL;
}

char *
hearken_models_resolve (HearkenModels  *self,
                        const char     *path_or_name,
                        GError        **error)
{
  g_autoptr(GPtrArray) paths = NULL;

  g_return_val_if_fail (HEARKEN_IS_MODELS (self), NULL);
  g_return_val_if_fail (path_or_name != NULL, NULL);

  if (strlen (path_or_name) > HEARKEN_MAX_PATH_BYTES)
    {
      g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_TOO_LONG,
                   "A model path or name has at most %d bytes", HEARKEN_MAX_PATH_BYTES);
      return NULL;
    }
  if (strchr (path_or_name, '/'))
    return resolve_path (self, path_or_name, error);

  paths = find_files (self);
  if (!*path_or_name)
    return first_usable (self, paths, error);

  for (guint i = 0; i < paths->len; i++)
    {
      g_autofree char *base = g_path_get_basename (paths->pdata[i]);
      g_autofree char *stem = file_stem (paths->pdata[i]);

      if (g_str_equal (base, path_or_name) || g_str_equal (stem, path_or_name))
        return g_strdup (paths->pdata[i]);
    }
  for (guint i = 0; i < paths->len; i++)
    {
      g_auto(ModelInfo) info = { 0 };

      model_info_read (&info, paths->pdata[i]);
      if (!info.error && names_match (info.name, path_or_name))
        return g_strdup (paths->pdata[i]);
    }

  g_set_error (error, HEARKEN_ERROR, HEARKEN_ERROR_NOT_FOUND,
               "No installed model is called “%s”; ListModels (hearkenctl models) lists "
               "them, and the absolute path of a .gguf file works too", path_or_name);
  return NULL;
}
