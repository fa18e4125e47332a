/* fuzz-settings.c — libFuzzer target for the settings hearkend reads.
 *
 * Where GSettings keeps its values in a keyfile (GSETTINGS_BACKEND=keyfile,
 * and every Flatpak sandbox: ~/.config/glib-2.0/settings/keyfile) the user
 * can write anything into them with a text editor; the environment
 * overrides are anything a script sets.  An input is that keyfile's text,
 * then, after NUL bytes, the values of HEARKEN_BACKEND,
 * HEARKEN_VULKAN_DEVICE and HEARKEN_MODEL (a missing part: unset).
 *
 * Each input is a fresh keyfile backend for the file; hearkend's own
 * default backend forwards to it, so HearkenSettings reads it through the
 * real path: hearken_settings_new and every getter.  The settings fail
 * exactly when an override is invalid, and otherwise every value is one
 * the service can use: in the schema's range, finite, valid UTF-8, the
 * override where there is one, the same through the getters and the
 * properties.
 */
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gio.h>
#include <gio/gsettingsbackend.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearken-settings.h"

#define REQUIRE(cond) do { if (!(cond)) __builtin_trap(); } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ------------------------------------------------- the forwarding backend */

/* GSettings makes its default backend once per process; this one reads
 * from whichever keyfile backend the current input made. */
typedef struct {
    GSettingsBackend parent_instance;
} FuzzBackend;
typedef struct {
    GSettingsBackendClass parent_class;
} FuzzBackendClass;

GType fuzz_backend_get_type(void);
G_DEFINE_TYPE(FuzzBackend, fuzz_backend, G_TYPE_SETTINGS_BACKEND)

static GSettingsBackend *current;

static GVariant *
fuzz_backend_read(GSettingsBackend *backend, const char *key, const GVariantType *type,
                  gboolean default_value)
{
    return G_SETTINGS_BACKEND_GET_CLASS(current)->read(current, key, type, default_value);
}

static gboolean
fuzz_backend_get_writable(GSettingsBackend *backend, const char *key)
{
    return G_SETTINGS_BACKEND_GET_CLASS(current)->get_writable(current, key);
}

static void
fuzz_backend_class_init(FuzzBackendClass *klass)
{
    GSettingsBackendClass *backend_class = G_SETTINGS_BACKEND_CLASS(klass);

    backend_class->read = fuzz_backend_read;
    backend_class->get_writable = fuzz_backend_get_writable;
}

static void
fuzz_backend_init(FuzzBackend *self)
{
}

/* ------------------------------------------------------------ the setup */

/* A warning or a critical, from hearken-settings.c or GLib, is a bug:
 * here it is a crash.  But one: GLib 2.74's g_variant_parse hands a
 * quoted string that is not UTF-8 to g_variant_new_string, which refuses
 * it with a critical, and the key reads as its default (found here; a
 * GLib bug that hearkend cannot avoid, and harmless to it). */
static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
    if (!(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
        return G_LOG_WRITER_HANDLED;
    for (gsize i = 0; i < n_fields; i++) {
        if (strcmp(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0 &&
            strstr(fields[i].value, "g_variant_new_string: assertion 'g_utf8_validate"))
            return G_LOG_WRITER_HANDLED;
    }
    g_log_writer_default(level, fields, n_fields, data);
    __builtin_trap();
}

static char *dir;
static char *keyfile_path;
static GSettingsSchema *schema;

static void
remove_dir(void)
{
    g_unlink(keyfile_path);
    g_rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    g_autoptr(GError) error = NULL;
    GSettingsSchemaSource *source;

    g_log_set_writer_func(log_writer, NULL, NULL);
    /* the schema meson compiled into the build tree, unless told otherwise */
    g_setenv("GSETTINGS_SCHEMA_DIR", HEARKEN_SCHEMA_DIR, FALSE);
    g_io_extension_point_register(G_SETTINGS_BACKEND_EXTENSION_POINT_NAME);
    g_io_extension_point_implement(G_SETTINGS_BACKEND_EXTENSION_POINT_NAME, fuzz_backend_get_type(),
                                   "hearken-fuzz", 1000);
    g_setenv("GSETTINGS_BACKEND", "hearken-fuzz", TRUE);

    source = g_settings_schema_source_get_default();
    schema = source ? g_settings_schema_source_lookup(source, "org.hearken.Hearken", TRUE) : NULL;
    if (!schema) {
        fprintf(stderr, "fuzz-settings: no org.hearken.Hearken schema in %s\n", g_getenv("GSETTINGS_SCHEMA_DIR"));
        exit(1);
    }
    dir = g_dir_make_tmp("fuzz-settings-XXXXXX", &error);
    if (!dir) {
        fprintf(stderr, "fuzz-settings: %s\n", error->message);
        exit(1);
    }
    keyfile_path = g_build_filename(dir, "keyfile", NULL);
    atexit(remove_dir);
    return 0;
}

/* ------------------------------------------------------------- the input */

typedef struct {
    const char *text;       /* the keyfile */
    gsize       text_len;
    char       *env[3];     /* HEARKEN_BACKEND, HEARKEN_VULKAN_DEVICE, HEARKEN_MODEL; NULL: unset */
} Input;

static const char *const env_names[] = { "HEARKEN_BACKEND", "HEARKEN_VULKAN_DEVICE", "HEARKEN_MODEL" };

static void
split_input(Input *input, const uint8_t *data, size_t size)
{
    const char *p = (const char *) data, *end = p + size;
    const char *nul = memchr(p, '\0', size);

    memset(input, 0, sizeof *input);
    input->text = p;
    input->text_len = nul ? (gsize) (nul - p) : size;
    p = nul ? nul + 1 : end;
    for (int i = 0; i < 3 && nul; i++) {
        nul = memchr(p, '\0', end - p);
        input->env[i] = g_strndup(p, nul ? nul - p : end - p);
        p = nul ? nul + 1 : end;
    }
}

static void
set_env(const Input *input)
{
    for (int i = 0; i < 3; i++) {
        if (input->env[i])
            g_setenv(env_names[i], input->env[i], TRUE);
        else
            g_unsetenv(env_names[i]);
    }
}

static void
free_input(Input *input)
{
    for (int i = 0; i < 3; i++)
        g_free(input->env[i]);
}

static gboolean
is_set(const char *value)
{
    return value && *value;
}

/* The device indexes HEARKEN_VULKAN_DEVICE may name: a decimal number
 * and nothing else, as g_ascii_string_to_signed reads it.  That refuses
 * leading white space but misses a vertical tab, after which it skips
 * any (GLib 2.74; found here, harmless). */
static gboolean
parse_device(const char *s, int *index)
{
    if (s[0] == '\v')
        s += strspn(s, " \t\n\v\f\r");

    const char *digits = s[0] == '-' || s[0] == '+' ? s + 1 : s;
    long long value;

    if (!*digits || strspn(digits, "0123456789") != strlen(digits))
        return FALSE;
    errno = 0;
    value = strtoll(s, NULL, 10);
    *index = (int) value;
    return errno == 0 && value >= -1 && value <= 63;
}

static gboolean
env_valid(const Input *input)
{
    const char *backend = input->env[0], *device = input->env[1], *model = input->env[2];
    int index;

    if (is_set(model) && !g_utf8_validate(model, -1, NULL))
        return FALSE;
    if (is_set(backend) && strcmp(backend, "auto") && strcmp(backend, "vulkan") && strcmp(backend, "cpu"))
        return FALSE;
    return !is_set(device) || parse_device(device, &index);
}

/* --------------------------------------------------------- the promises */

/* Keys that read other than their default, per input: a branch per key
 * for libFuzzer, which sees none of GLib's parsing. */
static guint non_defaults;

/* The value is in its key's schema range.  Inlined, so that each key
 * has its own branch. */
static inline __attribute__((always_inline)) void
check_schema_range(const char *key, GVariant *value)
{
    g_autoptr(GSettingsSchemaKey) schema_key = g_settings_schema_get_key(schema, key);
    g_autoptr(GVariant) fallback = g_settings_schema_key_get_default_value(schema_key);

    REQUIRE(g_settings_schema_key_range_check(schema_key, value));
    if (!g_variant_equal(value, fallback))
        non_defaults++;
}

static inline __attribute__((always_inline)) void
check_uint(const char *key, guint value, guint min, guint max)
{
    g_autoptr(GVariant) variant = g_variant_ref_sink(g_variant_new_uint32(value));

    REQUIRE(value >= min && value <= max);
    check_schema_range(key, variant);
}

static inline __attribute__((always_inline)) void
check_double(const char *key, double value, double min, double max)
{
    g_autoptr(GVariant) variant = g_variant_ref_sink(g_variant_new_double(value));

    REQUIRE(isfinite(value) && value >= min && value <= max);
    check_schema_range(key, variant);
}

static inline __attribute__((always_inline)) void
check_string(const char *key, const char *value)
{
    g_autoptr(GVariant) variant = NULL;

    REQUIRE(value && g_utf8_validate(value, -1, NULL));
    variant = g_variant_ref_sink(g_variant_new_string(value));
    check_schema_range(key, variant);
}

static void
check_overrides(HearkenSettings *settings, const Input *input)
{
    const char *backend = input->env[0], *device = input->env[1], *model = input->env[2];
    int index = -1;

    REQUIRE(hearken_settings_is_overridden(settings, "backend") == is_set(backend));
    REQUIRE(hearken_settings_is_overridden(settings, "vulkan-device") == is_set(device));
    REQUIRE(hearken_settings_is_overridden(settings, "model") == is_set(model));
    REQUIRE(!hearken_settings_is_overridden(settings, "temperature"));
    if (is_set(backend))
        REQUIRE(strcmp(hearken_settings_get_backend(settings), backend) == 0);
    if (is_set(device)) {
        REQUIRE(parse_device(device, &index));
        REQUIRE(hearken_settings_get_vulkan_device(settings) == index);
    }
}

static void
check_properties(HearkenSettings *settings)
{
    g_autofree char *model = NULL, *backend = NULL, *prompt = NULL, *model2 = NULL, *prompt2 = NULL;
    int device;
    double temperature, top_p, threshold;
    guint max_tokens, context_length, threads, idle;
    gboolean keep_history;

    g_object_get(settings, "model", &model, "backend", &backend, "vulkan-device", &device,
                 "temperature", &temperature, "top-p", &top_p, "max-tokens", &max_tokens,
                 "context-length", &context_length, "system-prompt", &prompt, "threads", &threads,
                 "keep-history", &keep_history, "idle-unload-seconds", &idle,
                 "intent-threshold", &threshold, NULL);
    model2 = hearken_settings_dup_model(settings);
    prompt2 = hearken_settings_dup_system_prompt(settings);
    REQUIRE(strcmp(model, model2) == 0 && strcmp(prompt, prompt2) == 0);
    REQUIRE(strcmp(backend, hearken_settings_get_backend(settings)) == 0);
    REQUIRE(device == hearken_settings_get_vulkan_device(settings));
    REQUIRE(temperature == hearken_settings_get_temperature(settings));
    REQUIRE(top_p == hearken_settings_get_top_p(settings));
    REQUIRE(threshold == hearken_settings_get_intent_threshold(settings));
    REQUIRE(max_tokens == hearken_settings_get_max_tokens(settings));
    REQUIRE(context_length == hearken_settings_get_context_length(settings));
    REQUIRE(threads == hearken_settings_get_threads(settings));
    REQUIRE(idle == hearken_settings_get_idle_unload_seconds(settings));
    REQUIRE(keep_history == hearken_settings_get_keep_history(settings));
}

static void
check_values(HearkenSettings *settings, const Input *input)
{
    g_autofree char *model = hearken_settings_dup_model(settings);
    g_autofree char *prompt = hearken_settings_dup_system_prompt(settings);
    const char *backend = hearken_settings_get_backend(settings);
    int device = hearken_settings_get_vulkan_device(settings);

    REQUIRE(g_utf8_validate(model, -1, NULL));
    if (!hearken_settings_is_overridden(settings, "model"))
        check_string("model", model);
    check_string("system-prompt", prompt);
    REQUIRE(strcmp(backend, "auto") == 0 || strcmp(backend, "vulkan") == 0 || strcmp(backend, "cpu") == 0);
    REQUIRE(device >= -1 && device <= 63);
    check_double("temperature", hearken_settings_get_temperature(settings), 0, 2);
    check_double("top-p", hearken_settings_get_top_p(settings), 0, 1);
    check_double("intent-threshold", hearken_settings_get_intent_threshold(settings), 0, 1);
    check_uint("max-tokens", hearken_settings_get_max_tokens(settings), 1, 8192);
    check_uint("context-length", hearken_settings_get_context_length(settings), 256, 131072);
    check_uint("threads", hearken_settings_get_threads(settings), 0, 256);
    check_uint("idle-unload-seconds", hearken_settings_get_idle_unload_seconds(settings), 0, 86400);
    (void) hearken_settings_get_keep_history(settings);
    check_overrides(settings, input);
    check_properties(settings);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(HearkenSettings) settings = NULL;
    Input input;

    split_input(&input, data, size);
    REQUIRE(g_file_set_contents(keyfile_path, input.text, input.text_len, NULL));
    set_env(&input);
    current = g_keyfile_settings_backend_new(keyfile_path, "/", NULL);

    settings = hearken_settings_new(&error);
    if (!settings) {
        REQUIRE(!env_valid(&input));
        REQUIRE(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT));
        REQUIRE(g_utf8_validate(error->message, -1, NULL));
    } else {
        REQUIRE(!error && env_valid(&input));
        check_values(settings, &input);
    }

    g_clear_object(&settings);
    g_clear_object(&current);
    free_input(&input);
    return 0;
}
