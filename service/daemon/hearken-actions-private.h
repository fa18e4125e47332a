/* hearken-actions-private.h — what the action files share: the object,
 * the shape of an action, the D-Bus and reply helpers, and the readers of
 * /sys and /proc (taking their folder, so tests can give their own). */
#pragma once

#include "hearken-actions.h"

G_BEGIN_DECLS

/* Timers waiting at once: a caller cannot make hearkend hold more. */
#define HEARKEN_MAX_TIMERS 16

typedef struct {
  HearkenActions *actions;      /* which outlives its timers */
  guint           source_id;
  guint           seconds;
} HearkenTimer;

struct _HearkenActions
{
  GObject  parent_instance;

  GList   *timers;              /* HearkenTimer*, newest first */
};

/* An action: answers task (a GTask returning the reply, a string) from
 * text; with dry_run, does nothing that has side effects. */
typedef void (*HearkenActionFunc) (HearkenActions *self,
                                   GTask          *task,
                                   const char     *text,
                                   gboolean        dry_run);

/* Ends task with a reply. */
void  hearken_action_reply        (GTask       *task,
                                   const char  *format,
                                   ...) G_GNUC_PRINTF (2, 3);

/* One method call on the session or system bus; the reply, or an error
 * when the bus or the service is not there. */
void      hearken_action_bus_call        (GBusType             bus_type,
                                          const char          *name,
                                          const char          *path,
                                          const char          *interface,
                                          const char          *method,
                                          GVariant            *parameters,
                                          const GVariantType  *reply_type,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
GVariant *hearken_action_bus_call_finish (GAsyncResult        *result,
                                          GError             **error);

/* Runs argv without a shell, waiting for it off the main loop; the reply
 * says done_message on success, or what failed. */
void      hearken_action_run_program     (GTask               *task,
                                          const char * const  *argv,
                                          const char          *done_message);
/* "wpctl set-volume @DEFAULT_AUDIO_SINK@ 5%+": for dry-run replies. */
char     *hearken_action_describe_argv   (const char * const  *argv);

/* ------------------------------------------------ readers of /sys, /proc */

typedef struct {
  gboolean found;
  int      percent;
  char    *status;            /* "Charging", "Discharging", "Full", … */
} HearkenBatteryInfo;

/* The first battery under power_supply_dir (/sys/class/power_supply). */
void      hearken_read_battery           (const char          *power_supply_dir,
                                          HearkenBatteryInfo  *ret_info);
void      hearken_battery_info_clear     (HearkenBatteryInfo  *info);

typedef struct {
  char   *name;               /* "intel_backlight" */
  gint64  brightness;
  gint64  max;
} HearkenBacklight;

/* The first backlight by name under backlight_dir (/sys/class/backlight)
 * with a maximum above 0; FALSE when there is none. */
gboolean  hearken_read_backlight         (const char          *backlight_dir,
                                          HearkenBacklight    *ret_backlight);
void      hearken_backlight_clear        (HearkenBacklight    *backlight);
/* The brightness a tenth of the range up (direction > 0) or down gives,
 * within 1 and the maximum: 0 would be a black screen. */
gint64    hearken_backlight_step         (const HearkenBacklight *backlight,
                                          int                  direction);

/* "eth0 (wired) is up, wlan0 (wireless) is down" from net_dir
 * (/sys/class/net), leaving out loopback; NULL when there is no interface. */
char     *hearken_read_network_interfaces (const char         *net_dir);

/* Memory, load, uptime and free space under home from proc_dir (/proc). */
char     *hearken_read_system_info       (const char          *proc_dir,
                                          const char          *home);

/* ---------------------------------------------------------------- actions */

void hearken_action_time              (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_date              (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_battery           (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_system_info       (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_network_status    (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);

void hearken_action_open_app          (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_volume_up         (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_volume_down       (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_volume_mute       (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_brightness_up     (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_brightness_down   (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_media_play_pause  (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_media_next        (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_lock_screen       (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_screenshot        (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_open_settings     (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);

void hearken_action_set_timer         (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_action_cancel            (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);
void hearken_actions_clear_timers     (HearkenActions *self);

void hearken_action_search_files      (HearkenActions *self, GTask *task, const char *text, gboolean dry_run);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HearkenBacklight, hearken_backlight_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HearkenBatteryInfo, hearken_battery_info_clear)

G_END_DECLS
