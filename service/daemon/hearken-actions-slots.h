/* hearken-actions-slots.h — the values an action takes from what the
 * person said: a duration for set_timer, the application for open_app,
 * the name for search_files, the panel for open_settings.
 *
 * English and Simplified Chinese.  Pure functions of the text (and of the
 * applications given), so tests reach them directly.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The longest timer hearkend sets. */
#define HEARKEN_MAX_TIMER_SECONDS (24 * 60 * 60)

/* The duration said in text, in whole seconds: "5 minutes", "an hour and a
 * half", "90 seconds", "1h30m", "五分钟", "一个半小时".  FALSE when text
 * names no duration (a bare number has no unit, so it is none). */
gboolean   hearken_parse_duration      (const char   *text,
                                        guint        *ret_seconds);

/* "1 hour 30 minutes", "5 minutes", "90 seconds" → "1 minute 30 seconds":
 * for replies, translated. */
char      *hearken_format_duration     (guint         seconds);

/* What is left of text once the words around a slot are gone: "could you
 * open the text editor please" → "text editor", "打开终端" → "终端".
 * Lowercase; empty when nothing is left. */
char      *hearken_slot_app_name       (const char   *text);
char      *hearken_slot_file_name      (const char   *text);

/* The application of apps (GAppInfo) whose name, generic name, command,
 * id or keywords come closest to name, forgiving a typo or two; NULL when
 * none is close.  Applications hidden from menus are never chosen. */
GAppInfo  *hearken_match_app           (GList        *apps,
                                        const char   *name);

/* The gnome-control-center panel text asks for ("wifi", "bluetooth",
 * "sound"…), or NULL for the overview. */
const char *hearken_slot_settings_panel (const char  *text);

G_END_DECLS
