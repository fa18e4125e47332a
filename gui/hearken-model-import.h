/* hearken-model-import.h — bringing a model file the person chose into
 * the models folder, where hearkend's sandbox lets it read. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The models folder hearkend reads first ($XDG_DATA_HOME/hearken/models). */
char *hearken_model_import_folder (void);

/* Puts file into folder: a hard link where both lie on one file system
 * (at once, and no space taken), else a copy, under the file's own name
 * (or NAME-2.gguf, … when another file has it).  A file already in folder
 * stays where it is.  Finishes with the path hearkend should load. */
void  hearken_model_import_async  (GFile               *file,
                                   const char          *folder,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
char *hearken_model_import_finish (GAsyncResult        *result,
                                   GError             **error);

G_END_DECLS
