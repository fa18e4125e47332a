/* hearken-sandbox.c — which folders hearkend may reach, and entering the
 * sandbox.  The folders must exist when the domain is made: the ones
 * hearkend writes are created first. */
#include "hearken-sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <unistd.h>

#include "hearken-error.h"
#include "hearken-landlock.h"
#include "hearken-seccomp.h"

static void
rule_clear (HearkenLandlockRule *rule)
{
  g_free (rule->path);
}

static void
allow (GArray        *rules,
       const char    *path,
       HearkenAccess  access)
{
  HearkenLandlockRule rule = { g_strdup (path), access };

  g_array_append_val (rules, rule);
}

static void
allow_under (GArray        *rules,
             const char    *folder,
             const char    *name,
             HearkenAccess  access)
{
  g_autofree char *path = g_build_filename (folder, name, NULL);

  allow (rules, path, access);
}

/* A folder that may appear only later: made now, or the rule would have
 * nothing to attach to. */
static void
allow_made (GArray        *rules,
            const char    *folder,
            const char    *name,
            HearkenAccess  access)
{
  g_autofree char *path = g_build_filename (folder, name, NULL);

  if (g_mkdir_with_parents (path, 0700) != 0)
    g_message ("Could not create %s: %s", path, g_strerror (errno));
  allow (rules, path, access);
}

/* The folder of the file an environment variable names. */
static void
allow_folder_of (GArray     *rules,
                 const char *variable)
{
  const char *file = g_getenv (variable);
  g_autofree char *folder = NULL;

  if (!file || !*file)
    return;
  folder = g_path_get_dirname (file);
  allow (rules, folder, HEARKEN_ACCESS_READ);
}

static void
allow_system (GArray *rules)
{
  /* /bin, /lib and the like are links into /usr on a merged system */
  static const char *const programs[] = { "/usr", "/opt", "/bin", "/sbin", "/lib", "/lib32",
                                          "/lib64", "/libx32" };
  static const char *const readable[] = { "/etc", "/proc", "/sys", "/run", "/var/lib" };

  for (gsize i = 0; i < G_N_ELEMENTS (programs); i++)
    allow (rules, programs[i], HEARKEN_ACCESS_READ | HEARKEN_ACCESS_EXECUTE);
  for (gsize i = 0; i < G_N_ELEMENTS (readable); i++)
    allow (rules, readable[i], HEARKEN_ACCESS_READ);
  /* GPU render nodes, sound cards, shared memory of the audio servers */
  allow (rules, "/dev", HEARKEN_ACCESS_READ | HEARKEN_ACCESS_WRITE);
  /* the dconf database, the bus and audio servers' sockets */
  allow (rules, g_get_user_runtime_dir (), HEARKEN_ACCESS_READ | HEARKEN_ACCESS_WRITE);
}

static void
allow_data_folders (GArray *rules)
{
  const char * const *system = g_get_system_data_dirs ();
  const char *home = g_get_user_data_dir ();

  for (gsize i = 0; system[i]; i++)
    allow (rules, system[i], HEARKEN_ACCESS_READ);
  /* the person's own apps, file types and the Flatpak apps' exports */
  allow_under (rules, home, "applications", HEARKEN_ACCESS_READ);
  allow_under (rules, home, "mime", HEARKEN_ACCESS_READ);
  allow_under (rules, home, "flatpak/exports/share", HEARKEN_ACCESS_READ);
}

static void
allow_settings (GArray *rules)
{
  const char *config = g_get_user_config_dir ();

  allow_made (rules, config, "dconf", HEARKEN_ACCESS_READ);
  /* the keyfile back end of GSettings, where there is no dconf */
  if (g_strcmp0 (g_getenv ("GSETTINGS_BACKEND"), "keyfile") == 0)
    allow_made (rules, config, "glib-2.0/settings", HEARKEN_ACCESS_READ | HEARKEN_ACCESS_WRITE);
}

/* The audio system's own configuration, which its libraries read in the
 * process that records: ALSA's, PulseAudio's (and its cookie) and
 * PipeWire's. */
static void
allow_audio_settings (GArray *rules)
{
  const char *home = g_get_home_dir ();
  const char *config = g_get_user_config_dir ();

  allow_under (rules, home, ".asoundrc", HEARKEN_ACCESS_READ);
  allow_under (rules, home, ".pulse-cookie", HEARKEN_ACCESS_READ);
  allow_under (rules, config, "pulse", HEARKEN_ACCESS_READ);
  allow_under (rules, config, "pipewire", HEARKEN_ACCESS_READ);
}

static void
allow_named_by_environment (GArray *rules)
{
  static const char *const folder_lists[] = { "GSETTINGS_SCHEMA_DIR", "HEARKEN_SANDBOX_ALLOW" };
  const char *voice = g_getenv ("HEARKEN_VOICE_DIR");

  allow_folder_of (rules, "HEARKEN_MODEL");
  allow_folder_of (rules, "HEARKEN_INTENT_MODEL");
  if (voice && *voice)
    allow (rules, voice, HEARKEN_ACCESS_READ);
  for (gsize i = 0; i < G_N_ELEMENTS (folder_lists); i++)
    {
      g_auto(GStrv) folders = g_strsplit (g_getenv (folder_lists[i]) ?: "", ":", -1);

      for (gsize j = 0; folders[j]; j++)
        if (*folders[j])
          allow (rules, folders[j], HEARKEN_ACCESS_READ);
    }
}

/* The GPU drivers' shader caches: without them, each start compiles the
 * shaders again.  Mesa's (both its layouts) and NVIDIA's. */
static void
allow_shader_caches (GArray *rules)
{
  static const char *const in_cache[] = { "mesa_shader_cache", "mesa_shader_cache_db", "nvidia" };

  for (gsize i = 0; i < G_N_ELEMENTS (in_cache); i++)
    allow_under (rules, g_get_user_cache_dir (), in_cache[i],
                 HEARKEN_ACCESS_READ | HEARKEN_ACCESS_WRITE);
  allow_under (rules, g_get_home_dir (), ".nv", HEARKEN_ACCESS_READ | HEARKEN_ACCESS_WRITE);
}

GArray *
hearken_sandbox_rules (void)
{
  GArray *rules = g_array_new (FALSE, FALSE, sizeof (HearkenLandlockRule));

  g_array_set_clear_func (rules, (GDestroyNotify) rule_clear);
  allow_system (rules);
  allow_data_folders (rules);
  allow_settings (rules);
  allow_audio_settings (rules);
  allow_named_by_environment (rules);
  allow (rules, LOCALEDIR, HEARKEN_ACCESS_READ);
  allow (rules, g_get_home_dir (), HEARKEN_ACCESS_LIST);
  allow_made (rules, g_get_user_data_dir (), "hearken", HEARKEN_ACCESS_READ | HEARKEN_ACCESS_WRITE);
  allow_made (rules, g_get_user_cache_dir (), "hearken", HEARKEN_ACCESS_READ | HEARKEN_ACCESS_WRITE);
  allow_shader_caches (rules);
  return rules;
}

gboolean
hearken_sandbox_confine (GError **error)
{
  g_autoptr(GArray) rules = NULL;
  g_autoptr(GError) landlock_error = NULL;
  g_autoptr(GError) seccomp_error = NULL;

  if (g_strcmp0 (g_getenv ("HEARKEN_SANDBOX"), "off") == 0)
    {
      g_message ("Not confined: HEARKEN_SANDBOX=off");
      return TRUE;
    }
  rules = hearken_sandbox_rules ();
  if (!hearken_landlock_restrict ((HearkenLandlockRule *) rules->data, rules->len,
                                  &landlock_error))
    {
      if (!g_error_matches (landlock_error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
        {
          g_propagate_error (error, g_steal_pointer (&landlock_error));
          return FALSE;
        }
      g_message ("Files not confined: %s", landlock_error->message);
    }
  if (!hearken_seccomp_restrict (&seccomp_error))
    {
      if (!g_error_matches (seccomp_error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
        {
          g_propagate_error (error, g_steal_pointer (&seccomp_error));
          return FALSE;
        }
      g_message ("System calls not filtered: %s", seccomp_error->message);
    }
  return TRUE;
}

gboolean
hearken_sandbox_check_readable (const char  *path,
                                const char  *move_to,
                                GError     **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  int saved = errno;

  if (fd >= 0)
    {
      close (fd);
      return TRUE;
    }
  if (saved != EACCES && saved != EPERM)
    return TRUE;
  g_propagate_error (error, hearken_sandbox_permission_error (path, move_to));
  return FALSE;
}

GError *
hearken_sandbox_permission_error (const char *path,
                                  const char *move_to)
{
  return g_error_new (HEARKEN_ERROR, HEARKEN_ERROR_PERMISSION_DENIED,
                      "hearkend may not read %s: for your privacy it reads only its own folders "
                      "and the system's. Move or copy the file into %s",
                      path, move_to);
}
