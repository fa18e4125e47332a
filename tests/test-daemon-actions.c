/* hearkend's actions: the slots taken from what was said (durations in
 * English and Chinese, application names against .desktop files this test
 * writes, file names, settings panels), the readers of /sys and /proc on
 * folders this test makes, and the actions themselves in dry-run mode, so
 * nothing on the machine changes. */
#include <string.h>

#include "daemon/hk-glib-check.h"
#include "hearken-actions-private.h"
#include "hearken-actions-slots.h"

/* The folder main() makes: applications, a home folder, fake /sys and /proc. */
static char *root;

static gboolean
make_file(const char *dir, const char *name, const char *contents, int mode)
{
    char *path = g_build_filename(dir, name, NULL);
    char *parent = g_path_get_dirname(path);
    gboolean ok = g_mkdir_with_parents(parent, 0700) == 0 &&
                  g_file_set_contents(path, contents, -1, NULL) &&
                  g_chmod(path, mode) == 0;

    g_free(parent);
    g_free(path);
    return ok;
}

static void
write_file(const char *dir, const char *name, const char *contents)
{
    ck_assert_msg(make_file(dir, name, contents, 0600), "could not write %s/%s", dir, name);
}

/* ------------------------------------------------------------ durations */

typedef struct {
    const char *text;
    guint       seconds;
} DurationCase;

static const DurationCase durations[] = {
    { "set a timer for 5 minutes", 300 },
    { "timer 90 seconds", 90 },
    { "an hour and a half", 5400 },
    { "half an hour", 1800 },
    { "two and a half hours", 9000 },
    { "a minute and 30 seconds", 90 },
    { "1h30m", 5400 },
    { "1.5 hours please", 5400 },
    { "twenty five minutes", 1500 },
    { "a quarter of an hour", 900 },
    { "remind me in a couple of minutes", 120 },
    { "Set A Timer For FIVE Minutes", 300 },
    { "五分钟", 300 },
    { "一个半小时", 5400 },
    { "设置一个十五分钟的计时器", 900 },
    { "半小时后提醒我", 1800 },
    { "两分半", 150 },
    { "三十秒", 30 },
    { "一小时二十分钟", 4800 },
    { "一刻钟", 900 },
    { "倒计时2分钟", 120 },
    { "ｔｉｍｅｒ　１０　ｍｉｎｕｔｅｓ", 600 },
};

START_TEST(test_durations_in_english_and_chinese)
{
    const DurationCase *c = &durations[_i];
    guint seconds = 0;

    ck_assert_msg(hearken_parse_duration(c->text, &seconds), "no duration in “%s”", c->text);
    ck_assert_msg(seconds == c->seconds, "“%s” is %u s, not %u", c->text, seconds, c->seconds);
}
END_TEST

START_TEST(test_no_duration_without_a_unit)
{
    static const char *const texts[] = {
        "set a timer", "timer for 10", "start a timer please", "", "设置一个计时器", "a minute",
    };
    guint seconds = 0;

    /* "a minute" alone is a duration; the others name none */
    for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
        gboolean found = hearken_parse_duration(texts[i], &seconds);
        ck_assert_msg(found == g_str_equal(texts[i], "a minute"), "“%s”", texts[i]);
    }
    ck_assert(hearken_parse_duration("a minute", &seconds));
    ck_assert_uint_eq(seconds, 60);
}
END_TEST

START_TEST(test_durations_read_back)
{
    char *text = hearken_format_duration(5430);

    ck_assert_str_eq(text, "1 hour 30 minutes 30 seconds");
    g_free(text);
    text = hearken_format_duration(60);
    ck_assert_str_eq(text, "1 minute");
    g_free(text);
    text = hearken_format_duration(0);
    ck_assert_str_eq(text, "0 seconds");
    g_free(text);
}
END_TEST

/* ---------------------------------------------------------- applications */

static const char *const desktop_files[][2] = {
    { "firefox.desktop",
      "[Desktop Entry]\nType=Application\nName=Firefox\nGenericName=Web Browser\n"
      "Exec=firefox %u\nKeywords=internet;www;\n" },
    { "org.gnome.TextEditor.desktop",
      "[Desktop Entry]\nType=Application\nName=Text Editor\nExec=gnome-text-editor\n"
      "Keywords=notepad;txt;\n" },
    { "org.gnome.Terminal.desktop",
      "[Desktop Entry]\nType=Application\nName=Terminal\nExec=gnome-terminal\n"
      "Keywords=shell;prompt;command;终端;\n" },
    { "hidden-helper.desktop",
      "[Desktop Entry]\nType=Application\nName=Hidden Helper\nExec=hidden-helper\nNoDisplay=true\n" },
};

static const char *const app_commands[] = {
    "firefox", "gnome-text-editor", "gnome-terminal", "hidden-helper",
};

typedef struct {
    const char *text;
    const char *app_id;   /* NULL: no app */
} AppCase;

static const AppCase app_cases[] = {
    { "open firefox please", "firefox.desktop" },
    { "could you launch Firefox", "firefox.desktop" },
    { "open firefx", "firefox.desktop" },
    { "start the web browser", "firefox.desktop" },
    { "open the browser", "firefox.desktop" },
    { "open the text editor", "org.gnome.TextEditor.desktop" },
    { "launch notepad", "org.gnome.TextEditor.desktop" },
    { "run gnome-text-editor", "org.gnome.TextEditor.desktop" },
    { "打开终端", "org.gnome.Terminal.desktop" },
    { "请帮我打开 terminal", "org.gnome.Terminal.desktop" },
    { "open photoshop", NULL },
    { "open hidden helper", NULL },
};

START_TEST(test_app_names_match_installed_apps)
{
    const AppCase *c = &app_cases[_i];
    GList *apps = g_app_info_get_all();
    char *name = hearken_slot_app_name(c->text);
    GAppInfo *app = hearken_match_app(apps, name);

    if (c->app_id) {
        ck_assert_msg(app != NULL, "“%s” (“%s”) matched no app", c->text, name);
        ck_assert_str_eq(g_app_info_get_id(app), c->app_id);
    } else
        ck_assert_msg(app == NULL, "“%s” matched %s", c->text, app ? g_app_info_get_id(app) : "");
    g_clear_object(&app);
    g_free(name);
    g_list_free_full(apps, g_object_unref);
}
END_TEST

START_TEST(test_slots)
{
    char *name = hearken_slot_app_name("could you please open the text editor");

    ck_assert_str_eq(name, "text editor");
    g_free(name);
    name = hearken_slot_file_name("where is my file called \"Tax Return 2025.pdf\"");
    ck_assert_str_eq(name, "tax return 2025.pdf");
    g_free(name);
    name = hearken_slot_file_name("find the files named budget");
    ck_assert_str_eq(name, "budget");
    g_free(name);
    name = hearken_slot_file_name("帮我找一下简历文件");
    ck_assert_str_eq(name, "简历");
    g_free(name);

    ck_assert_str_eq(hearken_slot_settings_panel("open the wifi settings"), "wifi");
    ck_assert_str_eq(hearken_slot_settings_panel("wireless network settings"), "wifi");
    ck_assert_str_eq(hearken_slot_settings_panel("打开蓝牙设置"), "bluetooth");
    ck_assert_str_eq(hearken_slot_settings_panel("change my wallpaper"), "background");
    /* "screenshot" is not "screen" */
    ck_assert_ptr_null(hearken_slot_settings_panel("settings for screenshots"));
    ck_assert_ptr_null(hearken_slot_settings_panel("open settings"));
}
END_TEST

/* --------------------------------------------------------------- readers */

START_TEST(test_battery_from_sysfs)
{
    char *dir = g_build_filename(root, "sys-battery", NULL);
    g_auto(HearkenBatteryInfo) info = { 0 };

    write_file(dir, "AC/type", "Mains\n");
    write_file(dir, "BAT1/type", "Battery\n");
    write_file(dir, "BAT1/capacity", "40\n");
    write_file(dir, "BAT0/type", "Battery\n");
    write_file(dir, "BAT0/capacity", "76\n");
    write_file(dir, "BAT0/status", "Charging\n");
    hearken_read_battery(dir, &info);
    ck_assert(info.found);
    ck_assert_int_eq(info.percent, 76);
    ck_assert_str_eq(info.status, "Charging");
    hearken_battery_info_clear(&info);

    hearken_read_battery("/nonexistent", &info);
    ck_assert(!info.found);
    g_free(dir);
}
END_TEST

START_TEST(test_backlight_from_sysfs)
{
    char *dir = g_build_filename(root, "sys-backlight", NULL);
    g_auto(HearkenBacklight) backlight = { 0 };

    /* a broken one first by name, then a good one */
    write_file(dir, "acpi_video0/brightness", "5\n");
    write_file(dir, "acpi_video0/max_brightness", "0\n");
    write_file(dir, "intel_backlight/brightness", "4000\n");
    write_file(dir, "intel_backlight/max_brightness", "19200\n");
    ck_assert(hearken_read_backlight(dir, &backlight));
    ck_assert_str_eq(backlight.name, "intel_backlight");
    ck_assert_int_eq(backlight.max, 19200);
    ck_assert_int_eq(hearken_backlight_step(&backlight, 1), 4000 + 1920);
    ck_assert_int_eq(hearken_backlight_step(&backlight, -1), 4000 - 1920);
    /* never off, never past the top */
    backlight.brightness = 1000;
    ck_assert_int_eq(hearken_backlight_step(&backlight, -1), 1);
    backlight.brightness = 19000;
    ck_assert_int_eq(hearken_backlight_step(&backlight, 1), 19200);
    hearken_backlight_clear(&backlight);

    ck_assert(!hearken_read_backlight("/nonexistent", &backlight));
    ck_assert_ptr_null(backlight.name);
    g_free(dir);
}
END_TEST

START_TEST(test_network_interfaces_from_sysfs)
{
    char *dir = g_build_filename(root, "sys-net", NULL);
    char *text;

    write_file(dir, "lo/operstate", "unknown\n");
    write_file(dir, "eth0/operstate", "down\n");
    write_file(dir, "wlan0/operstate", "up\n");
    write_file(dir, "wlan0/wireless/.keep", "");
    text = hearken_read_network_interfaces(dir);
    ck_assert_str_eq(text, "eth0 (wired) is down, wlan0 (wireless) is up");
    g_free(text);
    ck_assert_ptr_null(hearken_read_network_interfaces("/nonexistent"));
    g_free(dir);
}
END_TEST

START_TEST(test_system_info_from_proc)
{
    char *dir = g_build_filename(root, "proc", NULL);
    char *text;

    write_file(dir, "meminfo", "MemTotal:       16000000 kB\nMemFree:  1000 kB\nMemAvailable:    4000000 kB\n");
    write_file(dir, "loadavg", "0.52 0.40 0.30 1/200 1234\n");
    write_file(dir, "uptime", "183900.5 1000.0\n");
    text = hearken_read_system_info(dir, root);
    /* g_format_size puts a no-break space before the unit */
    ck_assert_msg(strstr(text, "Memory: 12.3") && strstr(text, "of 16.4"), "%s", text);
    ck_assert_msg(strstr(text, "Load: 0.52"), "%s", text);
    ck_assert_msg(strstr(text, "Up for 2 days, 3 h."), "%s", text);
    ck_assert_msg(strstr(text, "Home folder:"), "%s", text);
    g_free(text);
    g_free(dir);
}
END_TEST

/* --------------------------------------------------------------- actions */

typedef struct {
    char     *reply;
    GError   *error;
    gboolean  done;
} ActionResult;

static void
action_done_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    ActionResult *r = data;

    r->reply = hearken_actions_run_finish(HEARKEN_ACTIONS(source), result, &r->error);
    r->done = TRUE;
}

/* Runs intent's action on text and returns its reply. */
static char *
run_action(HearkenActions *actions, const char *intent, const char *text, gboolean dry_run)
{
    ActionResult r = { 0 };

    hearken_actions_run_async(actions, intent, text, dry_run, NULL, action_done_cb, &r);
    while (!r.done)
        g_main_context_iteration(NULL, TRUE);
    hk_assert_no_error(r.error);
    ck_assert_ptr_nonnull(r.reply);
    return r.reply;
}

#define assert_reply(actions, intent, text, dry_run, expected)                  \
    do {                                                                        \
        char *reply_ = run_action((actions), (intent), (text), (dry_run));      \
        ck_assert_msg(strstr(reply_, (expected)), "%s(“%s”) said “%s”, not “%s”", \
                      (intent), (text), reply_, (expected));                    \
        g_free(reply_);                                                         \
    } while (0)

START_TEST(test_every_intent_but_chat_has_an_action)
{
    static const char *const intents[] = {
        "time", "date", "battery", "system_info", "network_status", "open_app", "volume_up",
        "volume_down", "volume_mute", "brightness_up", "brightness_down", "media_play_pause",
        "media_next", "set_timer", "screenshot", "lock_screen", "search_files", "open_settings",
        "weather", "greeting", "thanks", "help", "cancel",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(intents); i++)
        ck_assert_msg(hearken_actions_handles(intents[i]), "%s", intents[i]);
    ck_assert(!hearken_actions_handles("chat"));
    ck_assert(!hearken_actions_handles("make_coffee"));
}
END_TEST

START_TEST(test_actions_in_dry_run_say_what_they_would_do)
{
    HearkenActions *actions = hearken_actions_new();
    GDateTime *now = g_date_time_new_now_local();
    char *hour = g_date_time_format(now, "%H:");
    char *volume = g_find_program_in_path("wpctl");

    if (!volume)
        volume = g_find_program_in_path("pactl");
    assert_reply(actions, "time", "what time is it", TRUE, hour);
    assert_reply(actions, "date", "what's the date", TRUE, "Today is");
    assert_reply(actions, "set_timer", "set a timer for an hour and a half", TRUE,
                 "Would set a timer for 1 hour 30 minutes");
    assert_reply(actions, "set_timer", "set a timer", TRUE, "For how long?");
    assert_reply(actions, "set_timer", "timer for 3 days", TRUE, "up to 24 hours");
    assert_reply(actions, "open_app", "open firefox", TRUE, "Would open Firefox (firefox.desktop)");
    assert_reply(actions, "open_app", "open photoshop", TRUE, "no installed app called “photoshop”");
    assert_reply(actions, "open_app", "open", TRUE, "Which app?");
    assert_reply(actions, "volume_up", "louder", TRUE, volume ? "Would run: " : "can’t change the volume");
    assert_reply(actions, "lock_screen", "lock the screen", TRUE,
                 "Would call org.freedesktop.ScreenSaver.Lock");
    assert_reply(actions, "screenshot", "take a screenshot", TRUE,
                 "Would call org.freedesktop.portal.Screenshot.Screenshot");
    assert_reply(actions, "brightness_up", "brighter", TRUE,
                 "Would call org.gnome.SettingsDaemon.Power.Screen.StepUp");
    assert_reply(actions, "weather", "will it rain", TRUE, "needs the network");
    assert_reply(actions, "help", "help", TRUE, "set a timer");
    assert_reply(actions, "system_info", "how is the system", TRUE, "Memory:");
    g_free(volume);
    g_free(hour);
    g_date_time_unref(now);
    g_object_unref(actions);
}
END_TEST

START_TEST(test_timers_are_bounded_and_cancelled)
{
    HearkenActions *actions = hearken_actions_new();

    /* a real timer, far off: it only holds a GLib timeout */
    assert_reply(actions, "set_timer", "set a timer for 5 minutes", FALSE, "Timer set for 5 minutes");
    assert_reply(actions, "cancel", "never mind", FALSE, "never mind");
    assert_reply(actions, "cancel", "cancel the timer", TRUE, "Would cancel the timer of 5 minutes");
    assert_reply(actions, "cancel", "cancel the timer", FALSE, "Cancelled the timer of 5 minutes");
    assert_reply(actions, "cancel", "cancel the timer", FALSE, "never mind");

    for (int i = 0; i < HEARKEN_MAX_TIMERS; i++)
        assert_reply(actions, "set_timer", "一小时", FALSE, "Timer set for 1 hour");
    assert_reply(actions, "set_timer", "一小时", FALSE, "the most I keep");
    /* dispose removes the timeouts */
    g_object_unref(actions);
}
END_TEST

START_TEST(test_search_finds_files_in_home)
{
    HearkenActions *actions = hearken_actions_new();
    const char *home = g_get_home_dir();

    write_file(home, "Documents/Quarterly-Report.odt", "");
    write_file(home, ".cache/report-cache.bin", "");
    write_file(home, "Music/song.ogg", "");
    assert_reply(actions, "search_files", "find the file named report", TRUE,
                 "Found 1 match for “report”: ~/Documents/Quarterly-Report.odt.");
    assert_reply(actions, "search_files", "where is my tax return", TRUE, "Nothing in your home folder");
    assert_reply(actions, "search_files", "find files", TRUE, "Which file?");
    g_object_unref(actions);
}
END_TEST

/* ---------------------------------------------------------- media players */

/* A stand-in MPRIS player: a bus name of its own and a PlaybackStatus. */
static const char player_xml[] =
    "<node><interface name='org.mpris.MediaPlayer2.Player'>"
    "<property name='PlaybackStatus' type='s' access='read'/>"
    "</interface></node>";

static GVariant *
player_get_property(GDBusConnection *connection, const char *sender, const char *path,
                    const char *interface, const char *property, GError **error,
                    gpointer status)
{
    return g_variant_new_string(status);
}

static GDBusConnection *
start_player(const char *name, const char *status)
{
    static const GDBusInterfaceVTable vtable = { NULL, player_get_property, NULL, { 0 } };
    GDBusNodeInfo *node = g_dbus_node_info_new_for_xml(player_xml, NULL);
    char *address = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SESSION, NULL, NULL);
    GError *error = NULL;
    GDBusConnection *connection = g_dbus_connection_new_for_address_sync(
        address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                 G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
    GVariant *reply;

    hk_assert_no_error(error);
    g_dbus_connection_register_object(connection, "/org/mpris/MediaPlayer2", node->interfaces[0],
                                      &vtable, (gpointer) status, NULL, &error);
    hk_assert_no_error(error);
    reply = g_dbus_connection_call_sync(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "RequestName",
                                        g_variant_new("(su)", name, 0), NULL,
                                        G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
    hk_assert_no_error(error);
    g_variant_unref(reply);
    g_dbus_node_info_unref(node);
    g_free(address);
    return connection;
}

/* "pause the music" goes to what is heard: the playing player, else a
 * paused one, not merely the first by name. */
START_TEST(test_media_commands_go_to_the_playing_player)
{
    GTestDBus *bus = g_test_dbus_new(G_TEST_DBUS_NONE);
    HearkenActions *actions;
    GDBusConnection *stopped, *paused, *playing;

    g_test_dbus_up(bus);
    actions = hearken_actions_new();
    stopped = start_player("org.mpris.MediaPlayer2.aaa", "Stopped");
    paused = start_player("org.mpris.MediaPlayer2.bbb", "Paused");
    assert_reply(actions, "media_play_pause", "pause the music", TRUE,
                 "PlayPause on org.mpris.MediaPlayer2.bbb");
    playing = start_player("org.mpris.MediaPlayer2.ccc", "Playing");
    assert_reply(actions, "media_next", "next song", TRUE, "Next on org.mpris.MediaPlayer2.ccc");
    g_object_unref(playing);
    g_object_unref(paused);
    g_object_unref(stopped);
    g_object_unref(actions);
    g_test_dbus_down(bus);
    g_object_unref(bus);
}
END_TEST

static Suite *
actions_suite(void)
{
    Suite *s = suite_create("daemon-actions");
    TCase *slots = tcase_create("slots");
    TCase *readers = tcase_create("readers");
    TCase *actions = tcase_create("actions");

    tcase_add_loop_test(slots, test_durations_in_english_and_chinese, 0, G_N_ELEMENTS(durations));
    tcase_add_test(slots, test_no_duration_without_a_unit);
    tcase_add_test(slots, test_durations_read_back);
    tcase_add_loop_test(slots, test_app_names_match_installed_apps, 0, G_N_ELEMENTS(app_cases));
    tcase_add_test(slots, test_slots);
    suite_add_tcase(s, slots);

    tcase_add_test(readers, test_battery_from_sysfs);
    tcase_add_test(readers, test_backlight_from_sysfs);
    tcase_add_test(readers, test_network_interfaces_from_sysfs);
    tcase_add_test(readers, test_system_info_from_proc);
    suite_add_tcase(s, readers);

    tcase_add_test(actions, test_every_intent_but_chat_has_an_action);
    tcase_add_test(actions, test_actions_in_dry_run_say_what_they_would_do);
    tcase_add_test(actions, test_timers_are_bounded_and_cancelled);
    tcase_add_test(actions, test_search_finds_files_in_home);
    tcase_add_test(actions, test_media_commands_go_to_the_playing_player);
    suite_add_tcase(s, actions);
    return s;
}

int
main(void)
{
    char *share, *home, *bin, *path_variable;
    gboolean prepared = TRUE;
    SRunner *runner;
    int failed;

    /* Before GLib reads them: the apps, the home folder and the language
     * are this test's. */
    root = g_dir_make_tmp("hearken-actions-XXXXXX", NULL);
    share = g_build_filename(root, "share", NULL);
    home = g_build_filename(root, "home", NULL);
    bin = g_build_filename(root, "bin", NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(desktop_files); i++) {
        char *dir = g_build_filename(share, "applications", NULL);
        prepared &= make_file(dir, desktop_files[i][0], desktop_files[i][1], 0600);
        g_free(dir);
    }
    /* GLib lists only the apps whose command is installed */
    for (gsize i = 0; i < G_N_ELEMENTS(app_commands); i++)
        prepared &= make_file(bin, app_commands[i], "#!/bin/sh\n", 0700);
    if (!prepared) {
        fprintf(stderr, "Could not write the test's applications under %s\n", root);
        return EXIT_FAILURE;
    }
    path_variable = g_strconcat(bin, ":", g_getenv("PATH"), NULL);
    g_setenv("PATH", path_variable, TRUE);
    g_mkdir_with_parents(home, 0700);
    g_setenv("XDG_DATA_DIRS", share, TRUE);
    g_setenv("XDG_DATA_HOME", home, TRUE);
    g_setenv("HOME", home, TRUE);
    g_setenv("LANGUAGE", "C", TRUE);
    g_unsetenv("DBUS_SESSION_BUS_ADDRESS");

    runner = srunner_create(actions_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    hk_tmpdir_remove(root);
    g_free(share);
    g_free(home);
    g_free(bin);
    g_free(path_variable);
    g_free(root);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
