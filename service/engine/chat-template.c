/* chat-template.c — chat formats, detected by their markers and written by
 * hand.
 *
 * Each renderer writes what its family's Jinja template produces when
 * transformers runs it (trim_blocks, lstrip_blocks), less the leading BOS.
 * The end-of-sequence text the templates put between turns ("</s>" for
 * llama2, mistral and zephyr, "<|endoftext|>" for phi3) is written out,
 * because those families use those strings.
 */
#include "chat-template.h"

#include <glib.h>
#include <string.h>

/* ---------------------------------------------------------------- detection */

static bool
has(const char *text, const char *marker)
{
    return strstr(text, marker) != NULL;
}

/* Mistral's v3 template glues "[/INST]" to the message ("…" + "[/INST]");
 * the v1 template of v0.2 writes it after a space (' [/INST]'). */
static bool
glues_end_of_instruction(const char *text)
{
    return has(text, "'[/INST]") || has(text, "\"[/INST]");
}

static bool
detect_known(const char *t, hk_chat_format *ret)
{
    if (has(t, "<|im_start|>"))
        *ret = HK_CHAT_CHATML;
    else if (has(t, "<|start_header_id|>"))
        *ret = has(t, "Cutting Knowledge Date") ? HK_CHAT_LLAMA31 : HK_CHAT_LLAMA3;
    else if (has(t, "<start_of_turn>"))
        *ret = HK_CHAT_GEMMA;
    else if (has(t, "<|user|>"))
        *ret = has(t, "<|end|>") ? HK_CHAT_PHI3 : HK_CHAT_ZEPHYR;
    else if (has(t, "[INST]") && has(t, "<<SYS>>"))
        *ret = HK_CHAT_LLAMA2;
    else if (has(t, "[INST]"))
        *ret = glues_end_of_instruction(t) ? HK_CHAT_MISTRAL_V3 : HK_CHAT_MISTRAL;
    else
        return false;
    return true;
}

hk_chat_format
hk_chat_detect(const char *template_text, bool *ret_fallback)
{
    hk_chat_format format = HK_CHAT_CHATML;
    bool known = template_text && detect_known(template_text, &format);

    if (ret_fallback)
        *ret_fallback = !known;
    return format;
}

const char *
hk_chat_format_name(hk_chat_format format)
{
    switch (format) {
    case HK_CHAT_CHATML:     return "chatml";
    case HK_CHAT_LLAMA2:     return "llama2";
    case HK_CHAT_LLAMA3:     return "llama3";
    case HK_CHAT_ZEPHYR:     return "zephyr";
    case HK_CHAT_PHI3:       return "phi3";
    case HK_CHAT_GEMMA:      return "gemma";
    case HK_CHAT_MISTRAL:    return "mistral";
    case HK_CHAT_LLAMA31:    return "llama3.1";
    case HK_CHAT_MISTRAL_V3: return "mistral-v3";
    }
    return "unknown";
}

/* ----------------------------------------------------------------- messages */

typedef enum role_kind { ROLE_OTHER, ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT } role_kind;

static role_kind
role_of(const hk_chat_message *m)
{
    if (!m->role)
        return ROLE_OTHER;
    if (strcmp(m->role, "system") == 0)
        return ROLE_SYSTEM;
    if (strcmp(m->role, "user") == 0)
        return ROLE_USER;
    if (strcmp(m->role, "assistant") == 0)
        return ROLE_ASSISTANT;
    return ROLE_OTHER;
}

static const char *
text_of(const hk_chat_message *m)
{
    return m->content ? m->content : "";
}

/* A conversation split the way the templates without a system role see
 * it: the leading system message apart, the turns after it. */
typedef struct turns {
    const char *system;             /* NULL when there is none */
    const hk_chat_message *m;
    size_t n;
} turns;

static turns
split_system(const hk_chat_message *messages, size_t n)
{
    if (n > 0 && role_of(&messages[0]) == ROLE_SYSTEM)
        return (turns) { text_of(&messages[0]), messages + 1, n - 1 };
    return (turns) { NULL, messages, n };
}

/* Python's str.strip(), which Jinja's trim and the templates' .strip()
 * call; \v is spelled out because GLib does not count it as a space. */
static bool
is_strip_space(gunichar c)
{
    return c == '\v' || g_unichar_isspace(c);
}

static void
append_stripped(GString *out, const char *s)
{
    const char *end = s + strlen(s);

    while (s < end && is_strip_space(g_utf8_get_char_validated(s, end - s)))
        s = g_utf8_next_char(s);
    while (end > s) {
        const char *last = g_utf8_find_prev_char(s, end);
        if (!last || !is_strip_space(g_utf8_get_char_validated(last, end - last)))
            break;
        end = last;
    }
    g_string_append_len(out, s, end - s);
}

/* ---------------------------------------------------------------- renderers */

/* Qwen, SmolLM: <|im_start|>role\n…<|im_end|>\n, nothing trimmed. */
static void
render_chatml(GString *out, const hk_chat_message *m, size_t n, bool prompt)
{
    for (size_t i = 0; i < n; i++) {
        if (role_of(&m[i]) == ROLE_OTHER)
            continue;
        g_string_append_printf(out, "<|im_start|>%s\n%s<|im_end|>\n",
                               m[i].role, text_of(&m[i]));
    }
    if (prompt)
        g_string_append(out, "<|im_start|>assistant\n");
}

static void
append_llama3_turn(GString *out, const char *role_name, const char *text)
{
    g_string_append_printf(out, "<|start_header_id|>%s<|end_header_id|>\n\n", role_name);
    append_stripped(out, text);
    g_string_append(out, "<|eot_id|>");
}

/* Llama 3: every message trimmed. */
static void
render_llama3(GString *out, const hk_chat_message *m, size_t n, bool prompt)
{
    for (size_t i = 0; i < n; i++) {
        if (role_of(&m[i]) != ROLE_OTHER)
            append_llama3_turn(out, m[i].role, text_of(&m[i]));
    }
    if (prompt)
        g_string_append(out, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

/* Llama 3.1, 3.2, 3.3: the system turn is always there and carries the
 * knowledge cut-off and a date.  3.1 and 3.3 write the date below as a
 * constant; 3.2 writes today's when the renderer offers strftime_now and
 * this one otherwise, which keeps a prompt the same from day to day. */
static void
render_llama31(GString *out, const hk_chat_message *messages, size_t n, bool prompt)
{
    turns t = split_system(messages, n);

    g_string_append(out, "<|start_header_id|>system<|end_header_id|>\n\n"
                         "Cutting Knowledge Date: December 2023\n"
                         "Today Date: 26 Jul 2024\n\n");
    append_stripped(out, t.system ? t.system : "");
    g_string_append(out, "<|eot_id|>");
    render_llama3(out, t.m, t.n, prompt);
}

/* TinyLlama (zephyr): the template's newline after each output line stays,
 * and it opens the assistant's turn only after a last message. */
static void
render_zephyr(GString *out, const hk_chat_message *m, size_t n, bool prompt)
{
    for (size_t i = 0; i < n; i++) {
        if (role_of(&m[i]) == ROLE_OTHER)
            continue;
        g_string_append_printf(out, "<|%s|>\n%s</s>\n", m[i].role, text_of(&m[i]));
    }
    if (prompt && n > 0)
        g_string_append(out, "<|assistant|>\n");
}

/* Phi-3: a conversation rendered without the assistant's opening ends with
 * the end-of-text token. */
static void
render_phi3(GString *out, const hk_chat_message *m, size_t n, bool prompt)
{
    for (size_t i = 0; i < n; i++) {
        if (role_of(&m[i]) == ROLE_OTHER)
            continue;
        g_string_append_printf(out, "<|%s|>\n%s<|end|>\n", m[i].role, text_of(&m[i]));
    }
    g_string_append(out, prompt ? "<|assistant|>\n" : "<|endoftext|>");
}

/* Gemma: no system role; Gemma 3's template puts the system prompt and a
 * blank line in front of the first user message (Gemma 2's refuses one).
 * Contents are trimmed, the system prompt is not. */
static void
render_gemma(GString *out, const hk_chat_message *messages, size_t n, bool prompt)
{
    turns t = split_system(messages, n);
    const char *system = t.system;

    for (size_t i = 0; i < t.n; i++) {
        role_kind r = role_of(&t.m[i]);
        if (r != ROLE_USER && r != ROLE_ASSISTANT)
            continue;
        g_string_append_printf(out, "<start_of_turn>%s\n", r == ROLE_USER ? "user" : "model");
        if (r == ROLE_USER && system) {
            g_string_append_printf(out, "%s\n\n", system);
            system = NULL;
        }
        append_stripped(out, text_of(&t.m[i]));
        g_string_append(out, "<end_of_turn>\n");
    }
    if (prompt)
        g_string_append(out, "<start_of_turn>model\n");
}

/* Llama 2: the system prompt goes between <<SYS>> markers at the head of
 * the first user message, and the whole message is stripped after that.
 * Every user turn but the very first starts with BOS written as text. */
static void
render_llama2(GString *out, const hk_chat_message *messages, size_t n, bool prompt)
{
    turns t = split_system(messages, n);
    const char *system = t.system;

    for (size_t i = 0; i < t.n; i++) {
        role_kind r = role_of(&t.m[i]);
        if (r == ROLE_USER) {
            g_autofree char *content = system
                ? g_strdup_printf("<<SYS>>\n%s\n<</SYS>>\n\n%s", system, text_of(&t.m[i]))
                : g_strdup(text_of(&t.m[i]));
            system = NULL;
            g_string_append(out, out->len > 0 ? "<s>[INST] " : "[INST] ");
            append_stripped(out, content);
            g_string_append(out, " [/INST]");
        } else if (r == ROLE_ASSISTANT) {
            g_string_append_c(out, ' ');
            append_stripped(out, text_of(&t.m[i]));
            g_string_append(out, " </s>");
        }
    }
}

/* Mistral v0.2 (the v1 template): spaces around [INST] … [/INST], the
 * system prompt and a blank line in front of the first user message,
 * nothing trimmed.  The model answers after [/INST]: no prompt to add. */
static void
render_mistral(GString *out, const hk_chat_message *messages, size_t n, bool prompt)
{
    turns t = split_system(messages, n);
    const char *system = t.system;

    for (size_t i = 0; i < t.n; i++) {
        role_kind r = role_of(&t.m[i]);
        if (r == ROLE_USER && system) {
            g_string_append_printf(out, " [INST] %s\n\n%s [/INST]", system, text_of(&t.m[i]));
            system = NULL;
        } else if (r == ROLE_USER) {
            g_string_append_printf(out, " [INST] %s [/INST]", text_of(&t.m[i]));
        } else if (r == ROLE_ASSISTANT) {
            g_string_append_printf(out, " %s</s>", text_of(&t.m[i]));
        }
    }
}

/* Mistral v0.3: [/INST] glued to the text, the system prompt in front of
 * the last message when that is the user's (anywhere else the template
 * leaves it out), assistant messages trimmed. */
static void
render_mistral_v3(GString *out, const hk_chat_message *messages, size_t n, bool prompt)
{
    turns t = split_system(messages, n);

    for (size_t i = 0; i < t.n; i++) {
        role_kind r = role_of(&t.m[i]);
        bool last = i + 1 == t.n;
        if (r == ROLE_USER && last && t.system) {
            g_string_append_printf(out, "[INST] %s\n\n%s[/INST]", t.system, text_of(&t.m[i]));
        } else if (r == ROLE_USER) {
            g_string_append_printf(out, "[INST] %s[/INST]", text_of(&t.m[i]));
        } else if (r == ROLE_ASSISTANT) {
            g_string_append_c(out, ' ');
            append_stripped(out, text_of(&t.m[i]));
            g_string_append(out, "</s>");
        }
    }
}

typedef void (*renderer)(GString *out, const hk_chat_message *m, size_t n, bool prompt);

static renderer
renderer_for(hk_chat_format format)
{
    switch (format) {
    case HK_CHAT_CHATML:     return render_chatml;
    case HK_CHAT_LLAMA2:     return render_llama2;
    case HK_CHAT_LLAMA3:     return render_llama3;
    case HK_CHAT_ZEPHYR:     return render_zephyr;
    case HK_CHAT_PHI3:       return render_phi3;
    case HK_CHAT_GEMMA:      return render_gemma;
    case HK_CHAT_MISTRAL:    return render_mistral;
    case HK_CHAT_LLAMA31:    return render_llama31;
    case HK_CHAT_MISTRAL_V3: return render_mistral_v3;
    }
    return render_chatml;
}

char *
hk_chat_render(hk_chat_format format, const hk_chat_message *messages,
               size_t n_messages, bool add_assistant_prompt)
{
    GString *out = g_string_new(NULL);

    if (!messages)
        n_messages = 0;
    renderer_for(format)(out, messages, n_messages, add_assistant_prompt);
    /* g_malloc is malloc since GLib 2.46, so the caller's free() fits. */
    return g_string_free(out, FALSE);
}

/* ----------------------------------------------------- default system prompt */

/* The text of a Jinja string literal from s up to end, escapes resolved. */
static char *
unescape_literal(const char *s, const char *end)
{
    GString *out = g_string_sized_new(end - s);

    for (; s < end; s++) {
        if (*s != '\\' || s + 1 == end) {
            g_string_append_c(out, *s);
            continue;
        }
        s++;
        g_string_append_c(out, *s == 'n' ? '\n' : *s == 't' ? '\t' : *s);
    }
    return g_string_free(out, FALSE);
}

/* The literal '<|im_start|>system\n…<|im_end|>' of a chatml template, where
 * … is plain text (the line that writes the user's system prompt splices
 * in an expression instead). */
char *
hk_chat_default_system(const char *template_text)
{
    static const char open[] = "<|im_start|>system";
    static const char close[] = "<|im_end|>";

    for (const char *s = template_text; s && (s = strstr(s, open)); s += sizeof open - 1) {
        const char *text = s + sizeof open - 1;
        if (g_str_has_prefix(text, "\\n"))
            text += 2;
        else if (*text == '\n')
            text += 1;
        else
            continue;

        const char *end = strstr(text, close);
        const char *quote = strpbrk(text, "'\"");
        if (!end || end == text || (quote && quote < end))
            continue;
        return unescape_literal(text, end);
    }
    return NULL;
}
