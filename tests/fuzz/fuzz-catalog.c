/* fuzz-catalog.c — libFuzzer target for the models catalog (models.json).
 *
 * The catalog is read from a file, so each input is written to a memfd
 * and read through /proc/self/fd.  Any bytes either load or fail with a
 * message; a catalog that loads finds each of its entries by name and by
 * URL, and every entry keeps the promises of hearken-catalog.h.
 */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hearken-catalog.h"
#include "hearken-error.h"

#define REQUIRE(cond) do { if (!(cond)) __builtin_trap(); } while (0)

#include "fuzz-memfd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

/* json-glib 1.6.6 (Debian 12) reads input with several top-level values
 * ("{}{}") as valid and drops all but the last root without freeing it
 * (found here, reproduced with json-glib alone).  GLib has no frame
 * pointers, so the suppression needs the slow unwinder to see the frame. */
const char *
__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

const char *
__lsan_default_suppressions(void)
{
    /* the second: this target's own parse, for the lookups */
    return "leak:json_parser_load_from_mapped_file\n"
           "leak:json_parser_load_from_data\n";
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_input_create("models.json");
    return 0;
}

static bool
is_lower_hex(const char *s)
{
    for (; *s; s++)
        if (!g_ascii_isdigit(*s) && !(*s >= 'a' && *s <= 'f'))
            return false;
    return true;
}

static void
check_entry(const HearkenCatalogEntry *entry)
{
    REQUIRE(entry->name && *entry->name && entry->title && entry->url);
    REQUIRE(g_str_has_prefix(entry->url, "https://") || g_str_has_prefix(entry->url, "http://"));
    REQUIRE(entry->size > 0);
    REQUIRE(!entry->sha256 || (strlen(entry->sha256) == 64 && is_lower_hex(entry->sha256)));
}

/* Every "name" and "url" string of the input: when the catalog loaded,
 * lookups by them find an entry (the first of that name, maybe). */
static void
check_lookups(const HearkenCatalog *catalog, const uint8_t *data, size_t size)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonArray *models;

    REQUIRE(json_parser_load_from_data(parser, (const char *) data, (gssize) size, NULL));
    models = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)), "models");
    for (guint i = 0; i < json_array_get_length(models); i++) {
        JsonObject *model = json_array_get_object_element(models, i);
        const char *name = json_object_get_string_member(model, "name");
        const char *url = json_object_get_string_member(model, "url");
        const HearkenCatalogEntry *by_name = hearken_catalog_lookup(catalog, name);
        const HearkenCatalogEntry *by_url = hearken_catalog_lookup(catalog, url);

        REQUIRE(by_name && (g_ascii_strcasecmp(by_name->name, name) == 0 || strcmp(by_name->url, name) == 0));
        REQUIRE(by_url && (strcmp(by_url->url, url) == 0 || g_ascii_strcasecmp(by_url->name, url) == 0));
        check_entry(by_name);
        check_entry(by_url);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(HearkenCatalog) catalog = NULL;

    fuzz_input_write(data, size);
    catalog = hearken_catalog_new_from_file(fuzz_input_path, &error);
    if (!catalog) {
        REQUIRE(error && error->message && *error->message);
        REQUIRE(error->domain == HEARKEN_ERROR || error->domain == JSON_PARSER_ERROR ||
                error->domain == G_FILE_ERROR);
        return 0;
    }
    REQUIRE(!error);

    g_autofree char *names = hearken_catalog_names(catalog);
    REQUIRE(names && g_utf8_validate(names, -1, NULL));
    /* names are never empty, URLs start with their scheme */
    REQUIRE(!hearken_catalog_lookup(catalog, ""));
    check_lookups(catalog, data, size);
    return 0;
}
