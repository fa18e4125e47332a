/* fuzz-chat-template.c — libFuzzer target for chat-format detection and
 * rendering.
 *
 * An input is a flags byte, then parts separated by NUL: the template
 * text, then messages, each a role byte followed by its content.  The
 * template is detected and its default system prompt read; the messages
 * are rendered in every format.  Whatever the bytes, rendering must not
 * fail; valid UTF-8 must stay valid; and a user or assistant message that
 * needs no trimming must appear in the text as it is, in every format.
 */
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat-template.h"

#define REQUIRE(cond) do { if (!(cond)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MESSAGES 64

/* "tool" and NULL are roles the renderers must leave out. */
static const char *const roles[] = { "system", "user", "assistant", "tool", NULL };

static const hk_chat_format formats[] = {
    HK_CHAT_CHATML, HK_CHAT_LLAMA2, HK_CHAT_LLAMA3, HK_CHAT_ZEPHYR, HK_CHAT_PHI3,
    HK_CHAT_GEMMA, HK_CHAT_MISTRAL, HK_CHAT_LLAMA31, HK_CHAT_MISTRAL_V3,
};

static void
check_template(const char *template_text)
{
    bool fallback = false;
    hk_chat_format format = hk_chat_detect(template_text, &fallback);
    const char *name = hk_chat_format_name(format);

    REQUIRE(name && *name);
    REQUIRE(!fallback || format == HK_CHAT_CHATML);
    REQUIRE(hk_chat_detect(template_text, NULL) == format);

    char *system = hk_chat_default_system(template_text);
    REQUIRE(!system || (template_text && strlen(system) < strlen(template_text)));
    free(system);
}

/* Trimming cannot change a text that starts and ends with a letter. */
static bool
needs_no_trimming(const char *s)
{
    size_t len = strlen(s);
    return len > 0 && g_ascii_isalnum(s[0]) && g_ascii_isalnum(s[len - 1]);
}

static void
check_render(hk_chat_format format, const hk_chat_message *m, size_t n, bool prompt, bool all_valid)
{
    char *text = hk_chat_render(format, m, n, prompt);

    REQUIRE(text);
    REQUIRE(!all_valid || g_utf8_validate(text, -1, NULL));
    for (size_t i = 0; i < n; i++) {
        bool spoken = m[i].role && (strcmp(m[i].role, "user") == 0 || strcmp(m[i].role, "assistant") == 0);
        if (spoken && m[i].content && needs_no_trimming(m[i].content))
            REQUIRE(strstr(text, m[i].content));
    }
    free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool prompt = data[0] & 1;
    /* A copy with a NUL after the last part too. */
    char *copy = g_malloc(size);
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = '\0';
    const char *end = copy + size - 1;

    const char *template_text = copy;
    check_template(template_text);
    if (data[0] & 2)
        check_template(NULL);

    hk_chat_message m[MAX_MESSAGES];
    size_t n = 0;
    bool all_valid = true;
    for (const char *p = template_text + strlen(template_text); p < end && n < MAX_MESSAGES;
         p += strlen(p)) {
        p++;  /* the NUL before this part */
        uint8_t role = p < end ? (uint8_t) *p++ : 0;
        m[n].role = roles[role % G_N_ELEMENTS(roles)];
        m[n].content = role & 0x80 ? NULL : p;
        all_valid = all_valid && g_utf8_validate(p, -1, NULL);
        n++;
    }

    for (size_t f = 0; f < G_N_ELEMENTS(formats); f++)
        check_render(formats[f], m, n, prompt, all_valid);
    free(hk_chat_render(HK_CHAT_CHATML, NULL, 3, prompt));
    g_free(copy);
    return 0;
}
