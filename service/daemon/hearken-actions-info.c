/* hearken-actions-info.c — actions that tell: time, date, battery,
 * system_info, network_status. */
#include "hearken-actions-private.h"

#include <glib/gi18n.h>
#include <string.h>
#include <sys/statvfs.h>

/* ---------------------------------------------------------- time, date */

void
hearken_action_time (HearkenActions *self,
                     GTask          *task,
                     const char     *text,
                     gboolean        dry_run)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  /* Translators: the time of day, in g_date_time_format() notation */
  g_autofree char *clock = g_date_time_format (now, _("%H:%M"));

  hearken_action_reply (task, _("It’s %s."), clock);
}

void
hearken_action_date (HearkenActions *self,
                     GTask          *task,
                     const char     *text,
                     gboolean        dry_run)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  /* Translators: today's date, in g_date_time_format() notation */
  g_autofree char *day = g_date_time_format (now, _("%A, %-d %B %Y"));

  hearken_action_reply (task, _("Today is %s."), day);
}

/* ------------------------------------------------------------ readers */

static char *
read_trimmed (const char *dir,
              const char *name,
              const char *file)
{
  g_autofree char *path = g_build_filename (dir, name, file, NULL);
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return g_strstrip (contents);
}

/* For g_ptr_array_sort: its items are char *. */
static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* The names in folder (none when it cannot be read), sorted: BAT0 before
 * BAT1, whatever the order on disk. */
static GPtrArray *
sorted_entries (const char *folder)
{
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  return names;
}

void
hearken_battery_info_clear (HearkenBatteryInfo *info)
{
  g_clear_pointer (&info->status, g_free);
  info->found = FALSE;
}

void
hearken_read_battery (const char         *power_supply_dir,
                      HearkenBatteryInfo *ret_info)
{
  g_autoptr(GPtrArray) names = sorted_entries (power_supply_dir);

  memset (ret_info, 0, sizeof *ret_info);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *type = read_trimmed (power_supply_dir, names->pdata[i], "type");
      g_autofree char *capacity = NULL;
      gint64 percent;

      if (g_strcmp0 (type, "Battery") != 0)
        continue;
      capacity = read_trimmed (power_supply_dir, names->pdata[i], "capacity");
      if (!capacity || !g_ascii_string_to_signed (capacity, 10, 0, 100, &percent, NULL))
        continue;
      ret_info->found = TRUE;
      ret_info->percent = (int) percent;
      ret_info->status = read_trimmed (power_supply_dir, names->pdata[i], "status");
      return;
    }
}

gboolean
hearken_read_backlight (const char       *backlight_dir,
                        HearkenBacklight *ret_backlight)
{
  g_autoptr(GPtrArray) names = sorted_entries (backlight_dir);

  memset (ret_backlight, 0, sizeof *ret_backlight);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *brightness = read_trimmed (backlight_dir, names->pdata[i], "brightness");
      g_autofree char *max = read_trimmed (backlight_dir, names->pdata[i], "max_brightness");

      if (!brightness || !max ||
          !g_ascii_string_to_signed (max, 10, 1, G_MAXINT32, &ret_backlight->max, NULL) ||
          !g_ascii_string_to_signed (brightness, 10, 0, ret_backlight->max,
                                     &ret_backlight->brightness, NULL))
        continue;
      ret_backlight->name = g_strdup (names->pdata[i]);
      return TRUE;
    }
  memset (ret_backlight, 0, sizeof *ret_backlight);
  return FALSE;
}

void
hearken_backlight_clear (HearkenBacklight *backlight)
{
  g_clear_pointer (&backlight->name, g_free);
}

gint64
hearken_backlight_step (const HearkenBacklight *backlight,
                        int                     direction)
{
  gint64 step = MAX (backlight->max / 10, 1);
  gint64 next = backlight->brightness + (direction > 0 ? step : -step);

  return CLAMP (next, 1, backlight->max);
}

char *
hearken_read_network_interfaces (const char *net_dir)
{
  g_autoptr(GDir) dir = g_dir_open (net_dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) list = g_string_new (NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    if (!g_str_equal (name, "lo"))
      g_ptr_array_add (names, g_strdup (name));
  if (names->len == 0)
    return NULL;
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *state = read_trimmed (net_dir, names->pdata[i], "operstate");
      g_autofree char *wireless = g_build_filename (net_dir, names->pdata[i], "wireless", NULL);
      const char *kind = g_file_test (wireless, G_FILE_TEST_IS_DIR) ? _("wireless") : _("wired");
      const char *up = g_strcmp0 (state, "up") == 0 ? _("up") : _("down");

      if (list->len)
        g_string_append (list, _(", "));
      /* Translators: interface (wired or wireless) is up or down */
      g_string_append_printf (list, _("%s (%s) is %s"), (char *) names->pdata[i], kind, up);
    }
  return g_string_free (g_steal_pointer (&list), FALSE);
}

/* A field of /proc/meminfo, in bytes. */
static guint64
meminfo_bytes (const char *meminfo,
               const char *field)
{
  const char *line = strstr (meminfo, field);

  if (!line)
    return 0;
  return g_ascii_strtoull (line + strlen (field), NULL, 10) * 1024;
}

static char *
describe_uptime (double seconds)
{
  guint64 minutes = (guint64) seconds / 60;
  guint64 days = minutes / (24 * 60), hours = minutes / 60 % 24;

  if (days)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u day, %u h", "%u days, %u h", days),
                            (guint) days, (guint) hours);
  return g_strdup_printf (_("%u h %u min"), (guint) hours, (guint) (minutes % 60));
}

char *
hearken_read_system_info (const char *proc_dir,
                          const char *home)
{
  g_autofree char *meminfo_path = g_build_filename (proc_dir, "meminfo", NULL);
  g_autofree char *loadavg_path = g_build_filename (proc_dir, "loadavg", NULL);
  g_autofree char *uptime_path = g_build_filename (proc_dir, "uptime", NULL);
  g_autofree char *meminfo = NULL, *loadavg = NULL, *uptime = NULL;
  g_autoptr(GString) info = g_string_new (NULL);
  struct statvfs disk;

  if (g_file_get_contents (meminfo_path, &meminfo, NULL, NULL))
    {
      guint64 total = meminfo_bytes (meminfo, "MemTotal:");
      guint64 available = meminfo_bytes (meminfo, "MemAvailable:");
      g_autofree char *used_text = g_format_size (total - MIN (available, total));
      g_autofree char *total_text = g_format_size (total);

      g_string_append_printf (info, _("Memory: %s of %s in use."), used_text, total_text);
    }
  if (g_file_get_contents (loadavg_path, &loadavg, NULL, NULL))
    g_string_append_printf (info, _(" Load: %.2f over the last minute, on %u processors."),
                            g_ascii_strtod (loadavg, NULL), g_get_num_processors ());
  if (g_file_get_contents (uptime_path, &uptime, NULL, NULL))
    {
      g_autofree char *up = describe_uptime (g_ascii_strtod (uptime, NULL));

      g_string_append_printf (info, _(" Up for %s."), up);
    }
  if (statvfs (home, &disk) == 0)
    {
      g_autofree char *free_text = g_format_size ((guint64) disk.f_bavail * disk.f_frsize);
      g_autofree char *size_text = g_format_size ((guint64) disk.f_blocks * disk.f_frsize);

      g_string_append_printf (info, _(" Home folder: %s free of %s."), free_text, size_text);
    }
  if (info->len == 0)
    return g_strdup (_("I can’t read the system’s state here: /proc is not available."));
  return g_strdup (g_strstrip (info->str));
}

/* -------------------------------------------------------- system_info */

static void
system_info_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  g_task_return_pointer (task, hearken_read_system_info ("/proc", g_get_home_dir ()), g_free);
}

void
hearken_action_system_info (HearkenActions *self,
                            GTask          *task,
                            const char     *text,
                            gboolean        dry_run)
{
  /* statvfs can wait on a network home folder */
  g_task_run_in_thread (task, system_info_thread);
}

/* ------------------------------------------------------------ battery */

static void
battery_from_sysfs (GTask *task)
{
  g_auto(HearkenBatteryInfo) battery = { 0 };

  hearken_read_battery ("/sys/class/power_supply", &battery);
  if (!battery.found)
    hearken_action_reply (task, "%s", _("This computer has no battery that I can see: it runs on mains power."));
  else if (battery.status && *battery.status)
    hearken_action_reply (task, _("The battery is at %d%% (%s)."), battery.percent, battery.status);
  else
    hearken_action_reply (task, _("The battery is at %d%%."), battery.percent);
}

/* UPower's Device.State */
static const char *
upower_state (guint32 state)
{
  switch (state)
    {
    case 1: return _("charging");
    case 2: return _("discharging");
    case 3: return _("empty");
    case 4: return _("fully charged");
    case 5: return _("waiting to charge");
    case 6: return _("waiting to discharge");
    default: return NULL;
    }
}

static void
battery_upower_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = hearken_action_bus_call_finish (result, &error);
  g_autoptr(GVariant) props = NULL;
  gboolean present = FALSE;
  double percent = 0;
  guint32 state = 0;
  gint64 to_empty = 0;

  if (reply)
    {
      props = g_variant_get_child_value (reply, 0);
      g_variant_lookup (props, "IsPresent", "b", &present);
    }
  /* no UPower, or no battery behind its display device */
  if (!present || !g_variant_lookup (props, "Percentage", "d", &percent))
    {
      if (error)
        g_debug ("UPower: %s; reading /sys", error->message);
      battery_from_sysfs (task);
      return;
    }
  g_variant_lookup (props, "State", "u", &state);
  g_variant_lookup (props, "TimeToEmpty", "x", &to_empty);
  if (state == 2 && to_empty > 0)
    hearken_action_reply (task, _("The battery is at %.0f%%, discharging: about %u h %u min left."),
                          percent, (guint) (to_empty / 3600), (guint) (to_empty / 60 % 60));
  else if (upower_state (state))
    hearken_action_reply (task, _("The battery is at %.0f%% (%s)."), percent, upower_state (state));
  else
    hearken_action_reply (task, _("The battery is at %.0f%%."), percent);
}

void
hearken_action_battery (HearkenActions *self,
                        GTask          *task,
                        const char     *text,
                        gboolean        dry_run)
{
  hearken_action_bus_call (G_BUS_TYPE_SYSTEM, "org.freedesktop.UPower",
                           "/org/freedesktop/UPower/devices/DisplayDevice",
                           "org.freedesktop.DBus.Properties", "GetAll",
                           g_variant_new ("(s)", "org.freedesktop.UPower.Device"),
                           G_VARIANT_TYPE ("(a{sv})"), g_task_get_cancellable (task),
                           battery_upower_cb, g_object_ref (task));
}

/* ----------------------------------------------------- network_status */

static void
network_from_sysfs (GTask *task)
{
  g_autofree char *interfaces = hearken_read_network_interfaces ("/sys/class/net");

  if (!interfaces)
    hearken_action_reply (task, "%s", _("I see no network interface on this computer."));
  else
    hearken_action_reply (task, _("NetworkManager is not running, so I can only tell the "
                                  "interfaces: %s."), interfaces);
}

/* NetworkManager's NMState */
static const char *
nm_state (guint32 state)
{
  if (state >= 70)
    return _("connected to the internet");
  if (state >= 50)
    return _("connected to a local network, without internet access");
  if (state >= 40)
    return _("connecting");
  if (state >= 30)
    return _("disconnecting");
  if (state >= 20)
    return _("not connected");
  return _("asleep (networking is off)");
}

static const char *
nm_connection_type (const char *type)
{
  if (g_str_equal (type, "802-11-wireless"))
    return _("Wi-Fi");
  if (g_str_equal (type, "802-3-ethernet"))
    return _("a wired connection");
  if (g_str_equal (type, "vpn") || g_str_equal (type, "wireguard"))
    return _("a VPN");
  return type;
}

static void
network_manager_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = hearken_action_bus_call_finish (result, &error);
  g_autoptr(GVariant) props = NULL;
  guint32 state = 0;
  const char *type = NULL;

  if (!reply)
    {
      g_debug ("NetworkManager: %s; reading /sys", error->message);
      network_from_sysfs (task);
      return;
    }
  props = g_variant_get_child_value (reply, 0);
  g_variant_lookup (props, "State", "u", &state);
  if (state >= 50 && g_variant_lookup (props, "PrimaryConnectionType", "&s", &type) && *type)
    hearken_action_reply (task, _("The computer is %s, through %s."), nm_state (state),
                          nm_connection_type (type));
  else
    hearken_action_reply (task, _("The computer is %s."), nm_state (state));
}

void
hearken_action_network_status (HearkenActions *self,
                               GTask          *task,
                               const char     *text,
                               gboolean        dry_run)
{
  hearken_action_bus_call (G_BUS_TYPE_SYSTEM, "org.freedesktop.NetworkManager",
                           "/org/freedesktop/NetworkManager",
                           "org.freedesktop.DBus.Properties", "GetAll",
                           g_variant_new ("(s)", "org.freedesktop.NetworkManager"),
                           G_VARIANT_TYPE ("(a{sv})"), g_task_get_cancellable (task),
                           network_manager_cb, g_object_ref (task));
}
