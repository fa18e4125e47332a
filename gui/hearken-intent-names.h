/* hearken-intent-names.h — what a person calls an intent of the intent
 * model ("set_timer" is "Set a timer"), translated. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The intent's name for people; an intent this table does not know (a
 * newer intent model) is shown as its id. */
const char *hearken_intent_display_name (const char *intent);

G_END_DECLS
