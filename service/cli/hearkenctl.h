/* hearkenctl.h — what the hearkenctl subcommands share: the connection
 * to hearkend, the output mode, and the way errors are reported. */
#pragma once

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#define HKCTL_BUS_NAME  "org.hearken.Assistant1"
#define HKCTL_PATH      "/org/hearken/Assistant1"
#define HKCTL_INTERFACE "org.hearken.Assistant1"

enum {
  HKCTL_EXIT_OK = 0,
  HKCTL_EXIT_ERROR = 1,
  HKCTL_EXIT_USAGE = 2,
};

typedef struct {
  GDBusConnection *bus;     /* NULL until hkctl_bus() */
  gboolean         json;
} HkctlContext;

/* A subcommand: argv[0] is its name; returns an exit status. */
typedef int (*HkctlCommandFunc) (HkctlContext *ctx,
                                 int           argc,
                                 char        **argv);

/* The session bus, connected on first use. */
GDBusConnection *hkctl_bus (HkctlContext  *ctx,
                            GError       **error);

/* A method of org.hearken.Assistant1, waiting for the answer (generation
 * is never waited for here: Send returns at once). */
GVariant *hkctl_call (HkctlContext        *ctx,
                      const char          *method,
                      GVariant            *params,
                      const GVariantType  *reply_type,
                      GError             **error);

/* "hearkenctl: <message>" on stderr, the D-Bus error name stripped;
 * returns HKCTL_EXIT_ERROR. */
int       hkctl_fail (const GError *error);
/* A usage error for the subcommand: returns HKCTL_EXIT_USAGE. */
int       hkctl_usage (const char *usage,
                       const char *problem);

/* Parse a subcommand's options (entries may be NULL) and check that
 * exactly n_args arguments remain (n_args_max: how many at most, or -1 for
 * no limit).  Returns FALSE after printing a usage error. */
gboolean  hkctl_parse (int                 *argc,
                       char              ***argv,
                       const GOptionEntry  *entries,
                       const char          *usage,
                       int                  n_args_min,
                       int                  n_args_max);

/* Print a JSON node on stdout and consume it. */
void      hkctl_print_json (JsonNode *node);
/* A GVariant as JSON (a{sv} is an object, arrays are arrays). */
JsonNode *hkctl_variant_to_json (GVariant *value);

/* The subcommands, one group per file. */
int hkctl_ask        (HkctlContext *ctx, int argc, char **argv);
int hkctl_chat       (HkctlContext *ctx, int argc, char **argv);
int hkctl_classify   (HkctlContext *ctx, int argc, char **argv);
int hkctl_transcribe (HkctlContext *ctx, int argc, char **argv);
int hkctl_listen     (HkctlContext *ctx, int argc, char **argv);
int hkctl_feedback   (HkctlContext *ctx, int argc, char **argv);
int hkctl_status     (HkctlContext *ctx, int argc, char **argv);
int hkctl_models     (HkctlContext *ctx, int argc, char **argv);
int hkctl_model      (HkctlContext *ctx, int argc, char **argv);
int hkctl_history    (HkctlContext *ctx, int argc, char **argv);
int hkctl_forget     (HkctlContext *ctx, int argc, char **argv);
int hkctl_intents    (HkctlContext *ctx, int argc, char **argv);
int hkctl_microphones (HkctlContext *ctx, int argc, char **argv);

/* model pull, in hearkenctl-pull.c */
int hkctl_model_pull (HkctlContext *ctx, const char *name_or_url);
