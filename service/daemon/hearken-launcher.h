/* hearken-launcher.h — opening the apps a person asks for, outside
 * hearkend's sandbox.
 *
 * hearkend confines itself (hearken-sandbox.h), and its children inherit
 * the confinement: an app it started would find the person's files shut.
 * So before confining itself hearkend forks a launcher, which keeps the
 * freedom hearkend was started with and opens apps on request.  It takes
 * two requests only, an installed desktop app by ID and a known settings
 * program with a panel name, so a hearkend taken over cannot run commands
 * of its choosing through it.
 *
 * Without a launcher (a process that does not confine itself, such as a
 * test), the same requests are carried out in process.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Forks the launcher.  Call before any other thread exists: the child
 * runs on after fork and may only trust a single-threaded parent. */
gboolean hearken_launcher_start         (GError     **error);

/* Opens the desktop app desktop_id ("org.gnome.Calculator.desktop"). */
gboolean hearken_launcher_open_app      (const char  *desktop_id,
                                         GError     **error);

/* The path of the first settings program installed, of those the
 * launcher runs (gnome-control-center, systemsettings,
 * xfce4-settings-manager, in that order), or NULL. */
char    *hearken_launcher_find_settings_program (void);

/* Runs the settings program (a path hearken_launcher_find_settings_program()
 * gives) with the panel (letters, digits and '-'), or none when panel is
 * NULL. */
gboolean hearken_launcher_open_settings (const char  *program,
                                         const char  *panel,
                                         GError     **error);

G_END_DECLS
