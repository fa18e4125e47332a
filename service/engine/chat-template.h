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
 * turn when add_assistant_prompt.  Returns a malloc'd string. */
char *hk_chat_render(hk_chat_format format, const hk_chat_message *messages,
                     size_t n_messages, bool add_assistant_prompt);
