/* hearken-models.h — the GGUF models hearkend can use.
 *
 * Models are the *.gguf files in the model folders, user folder first
 * ($XDG_DATA_HOME/hearken/models, then hearken/models under each of
 * $XDG_DATA_DIRS, /usr/share included), plus the file HEARKEN_MODEL names.
 * Listing reads each file's GGUF header; it blocks on the disk, so the
 * service calls it from a worker thread.  The object is immutable and may
 * be used from any thread.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define HEARKEN_TYPE_MODELS (hearken_models_get_type ())

G_DECLARE_FINAL_TYPE (HearkenModels, hearken_models, HEARKEN, MODELS, GObject)

/* The folders above, for the current environment. */
GStrv          hearken_models_default_dirs (void);

HearkenModels *hearken_models_new          (const char * const *dirs);

/* aa{sv}: path s, name s, size t, architecture s, quantization s,
 * loaded b, and error s for a file that is not a usable GGUF.  extra_path
 * (a file named outside the folders) and loaded_path may be NULL. */
GVariant      *hearken_models_list         (HearkenModels       *self,
                                            const char          *extra_path,
                                            const char          *loaded_path);

/* The file for a path, a file name (with or without .gguf), or a model's
 * name as ListModels shows it; an empty string gives the first installed
 * model.  Errors: HEARKEN_ERROR_NOT_FOUND, HEARKEN_ERROR_NO_MODEL (nothing
 * installed). */
char          *hearken_models_resolve      (HearkenModels       *self,
                                            const char          *path_or_name,
                                            GError             **error);

G_END_DECLS
