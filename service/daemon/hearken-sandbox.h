/* hearken-sandbox.h — hearkend confining itself after start-up.
 *
 * hearkend reads files it downloaded and audio and text from any program
 * on the session bus; if one of them took it over, the sandbox keeps the
 * person's files and the rest of the system out of reach.  Files: read
 * only the system, the model folders and what the environment names
 * (HEARKEN_MODEL, HEARKEN_INTENT_MODEL, HEARKEN_VOICE_DIR, and the
 * folders of GSETTINGS_SCHEMA_DIR and HEARKEN_SANDBOX_ALLOW, separated by
 * ':'); write only its own
 * data and cache folders; list, not read, the home folder (file search).
 * System calls: see hearken-seccomp.h.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The rules hearkend's Landlock domain is made of: a GArray of
 * HearkenLandlockRule, freeing its paths with it. */
GArray  *hearken_sandbox_rules   (void);

/* Confines the process for good.  Call before any other thread starts.
 * Where the kernel (or valgrind, which passes neither through) lacks a
 * part, the rest still applies and a message says what is missing;
 * HEARKEN_SANDBOX=off leaves the process free, to debug it.  FALSE when
 * confinement failed and not merely was unavailable. */
gboolean hearken_sandbox_confine (GError **error);

/* FALSE with org.hearken.Error.PermissionDenied, saying where the file
 * should go instead (move_to), when the sandbox keeps path from being
 * read; TRUE otherwise (a missing file is left to the caller's own open
 * to report). */
gboolean hearken_sandbox_check_readable (const char  *path,
                                         const char  *move_to,
                                         GError     **error);

/* That error, for a caller whose own open was refused. */
GError  *hearken_sandbox_permission_error (const char *path,
                                           const char *move_to);

G_END_DECLS
