/* hearken-application.h — the hearken GtkApplication (org.hearken.Hearken):
 * one window, the app-wide actions and their shortcuts. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define HEARKEN_TYPE_APPLICATION (hearken_application_get_type ())

G_DECLARE_FINAL_TYPE (HearkenApplication, hearken_application, HEARKEN, APPLICATION, AdwApplication)

HearkenApplication *hearken_application_new (void);

G_END_DECLS
