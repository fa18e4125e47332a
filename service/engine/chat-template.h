/* chat-template.h — rendering a conversation in a model's chat format.
 *
 * The format is detected from tokenizer.chat_template by its markers, not
 * by running the Jinja template.  The rendered text contains control
 * tokens as text (<|im_start|>…), to be encoded with parse_special; it does
 * not start with BOS, which the tokenizer adds.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum hk_chat_format {
    HK_CHAT_CHATML,     /* Qwen, SmolLM: <|im_start|>role\n…<|im_end|> */
    HK_CHAT_LLAMA2,     /* [INST] <<SYS>> … [/INST] */
    HK_CHAT_LLAMA3,     /* <|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|> */
    HK_CHAT_ZEPHYR,     /* TinyLlama: <|user|>\n…</s> */
    HK_CHAT_PHI3,       /* <|user|>\n…<|end|> */
    HK_CHAT_GEMMA,      /* <start_of_turn>user\n…<end_of_turn> */
    HK_CHAT_MISTRAL,    /* [INST] … [/INST] without <<SYS>> */
    /* Versions of a family whose templates differ in more than markers: */
    HK_CHAT_LLAMA31,    /* Llama 3.1+: llama3 opened by a dated system header */
    HK_CHAT_MISTRAL_V3, /* Mistral v0.3: [INST] …[/INST], system prompt in the last turn */
} hk_chat_format;

typedef struct hk_chat_message {
    const char *role;     /* "system", "user" or "assistant" */
    const char *content;
} hk_chat_message;

/* template may be NULL (the file has none).  *ret_fallback (may be NULL)
 * is set when nothing was recognised and chatml was chosen. */
hk_chat_format hk_chat_detect(const char *template_text, bool *ret_fallback);

const char *hk_chat_format_name(hk_chat_format format);  /* "chatml", "llama3"… */

/* The messages in the format, followed by the opening of the assistant's
 * turn when add_assistant_prompt.  Returns a malloc'd string.
 *
 * The text is what the family's own template produces, whitespace and
 * trimming included.  A NULL content is empty; a message whose role is
 * not one of the three is left out.  Formats without a system role
 * (llama2, gemma, mistral) fold a leading system message into the first
 * user turn (the last one for mistral-v3) as their templates do, and drop
 * later ones. */
char *hk_chat_render(hk_chat_format format, const hk_chat_message *messages,
                     size_t n_messages, bool add_assistant_prompt);

/* The system prompt a chatml template writes when the conversation has
 * none (Qwen's "You are Qwen, created by Alibaba Cloud…"), or NULL.  The
 * caller puts it first when the user gave no system prompt.  Returns a
 * malloc'd string. */
char *hk_chat_default_system(const char *template_text);
