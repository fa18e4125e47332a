/* Chat formats against the real templates of the model families.
 *
 * The templates are the chat_template values of the models'
 * tokenizer_config.json files.  Each expected text is what the template
 * gives for the conversation below when transformers renders it (Jinja2
 * with trim_blocks and lstrip_blocks), less the BOS it starts with, which
 * the tokenizer adds.  Llama 3.2's template writes today's date where
 * strftime_now exists and "26 Jul 2024" otherwise; the text below is the
 * latter.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "chat-template.h"
#include "hk-check.h"

static const hk_chat_message conversation[] = {
    { "system", "You are a helpful assistant" },
    { "user", "Hello" },
    { "assistant", "  Hi there  " },
    { "user", "Who are you?" },
};

typedef struct render_case {
    const char *model;
    const char *template_text;
    hk_chat_format format;
    bool with_system;      /* the whole conversation, or from "Hello" on */
    bool assistant_prompt;
    const char *expected;
} render_case;

/* Qwen2.5-Instruct */
static const char QWEN25_INSTRUCT[] =
    "{%- if tools %}\n"
    "    {{- '<|im_start|>system\\n' }}\n"
    "    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- messages[0]['content'] }}\n"
    "    {%- else %}\n"
    "        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}\n"
    "    {%- endif %}\n"
    "    {{- \"\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>\" }}\n"
    "    {%- for tool in tools %}\n"
    "        {{- \"\\n\" }}\n"
    "        {{- tool | tojson }}\n"
    "    {%- endfor %}\n"
    "    {{- \"\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\\"name\\\": <function-name>, \\\"arguments\\\": <args-json-object>}\\n</tool_call><|im_end|>\\n\" }}\n"
    "{%- else %}\n"
    "    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
    "    {%- else %}\n"
    "        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}\n"
    "    {%- endif %}\n"
    "{%- endif %}\n"
    "{%- for message in messages %}\n"
    "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or (message.role == \"assistant\" and not message.tool_calls) %}\n"
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
    "    {%- elif message.role == \"assistant\" %}\n"
    "        {{- '<|im_start|>' + message.role }}\n"
    "        {%- if message.content %}\n"
    "            {{- '\\n' + message.content }}\n"
    "        {%- endif %}\n"
    "        {%- for tool_call in message.tool_calls %}\n"
    "            {%- if tool_call.function is defined %}\n"
    "                {%- set tool_call = tool_call.function %}\n"
    "            {%- endif %}\n"
    "            {{- '\\n<tool_call>\\n{\"name\": \"' }}\n"
    "            {{- tool_call.name }}\n"
    "            {{- '\", \"arguments\": ' }}\n"
    "            {{- tool_call.arguments | tojson }}\n"
    "            {{- '}\\n</tool_call>' }}\n"
    "        {%- endfor %}\n"
    "        {{- '<|im_end|>\\n' }}\n"
    "    {%- elif message.role == \"tool\" %}\n"
    "        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != \"tool\") %}\n"
    "            {{- '<|im_start|>user' }}\n"
    "        {%- endif %}\n"
    "        {{- '\\n<tool_response>\\n' }}\n"
    "        {{- message.content }}\n"
    "        {{- '\\n</tool_response>' }}\n"
    "        {%- if loop.last or (messages[loop.index0 + 1].role != \"tool\") %}\n"
    "            {{- '<|im_end|>\\n' }}\n"
    "        {%- endif %}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n";

/* SmolLM2-Instruct */
static const char SMOLLM2_INSTRUCT[] =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n"
    "' + message['content'] + '<|im_end|>' + '\n"
    "'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n"
    "' }}{% endif %}";

/* Llama-2-chat */
static const char LLAMA2_CHAT[] =
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

/* Meta-Llama-3-Instruct */
static const char LLAMA3_INSTRUCT[] =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n"
    "\n"
    "'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n"
    "\n"
    "' }}{% endif %}";

/* Llama-3.2-Instruct */
static const char LLAMA32_INSTRUCT[] =
    "{{- bos_token }}\n"
    "{%- if custom_tools is defined %}\n"
    "    {%- set tools = custom_tools %}\n"
    "{%- endif %}\n"
    "{%- if not tools_in_user_message is defined %}\n"
    "    {%- set tools_in_user_message = true %}\n"
    "{%- endif %}\n"
    "{%- if not date_string is defined %}\n"
    "    {%- if strftime_now is defined %}\n"
    "        {%- set date_string = strftime_now(\"%d %b %Y\") %}\n"
    "    {%- else %}\n"
    "        {%- set date_string = \"26 Jul 2024\" %}\n"
    "    {%- endif %}\n"
    "{%- endif %}\n"
    "{%- if not tools is defined %}\n"
    "    {%- set tools = none %}\n"
    "{%- endif %}\n"
    "\n"
    "{#- This block extracts the system message, so we can slot it into the right place. #}\n"
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {%- set system_message = messages[0]['content']|trim %}\n"
    "    {%- set messages = messages[1:] %}\n"
    "{%- else %}\n"
    "    {%- set system_message = \"\" %}\n"
    "{%- endif %}\n"
    "\n"
    "{#- System message #}\n"
    "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n"
    "{%- if tools is not none %}\n"
    "    {{- \"Environment: ipython\\n\" }}\n"
    "{%- endif %}\n"
    "{{- \"Cutting Knowledge Date: December 2023\\n\" }}\n"
    "{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n"
    "{%- if tools is not none and not tools_in_user_message %}\n"
    "    {{- \"You have access to the following functions. To call a function, please respond with JSON for a function call.\" }}\n"
    "    {{- 'Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.' }}\n"
    "    {{- \"Do not use variables.\\n\\n\" }}\n"
    "    {%- for t in tools %}\n"
    "        {{- t | tojson(indent=4) }}\n"
    "        {{- \"\\n\\n\" }}\n"
    "    {%- endfor %}\n"
    "{%- endif %}\n"
    "{{- system_message }}\n"
    "{{- \"<|eot_id|>\" }}\n"
    "\n"
    "{#- Custom tools are passed in a user message with some extra guidance #}\n"
    "{%- if tools_in_user_message and not tools is none %}\n"
    "    {#- Extract the first user message so we can plug it in here #}\n"
    "    {%- if messages | length != 0 %}\n"
    "        {%- set first_user_message = messages[0]['content']|trim %}\n"
    "        {%- set messages = messages[1:] %}\n"
    "    {%- else %}\n"
    "        {{- raise_exception(\"Cannot put tools in the first user message when there's no first user message!\") }}\n"
    "{%- endif %}\n"
    "    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}\n"
    "    {{- \"Given the following functions, please respond with a JSON for a function call \" }}\n"
    "    {{- \"with its proper arguments that best answers the given prompt.\\n\\n\" }}\n"
    "    {{- 'Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.' }}\n"
    "    {{- \"Do not use variables.\\n\\n\" }}\n"
    "    {%- for t in tools %}\n"
    "        {{- t | tojson(indent=4) }}\n"
    "        {{- \"\\n\\n\" }}\n"
    "    {%- endfor %}\n"
    "    {{- first_user_message + \"<|eot_id|>\"}}\n"
    "{%- endif %}\n"
    "\n"
    "{%- for message in messages %}\n"
    "    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}\n"
    "        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}\n"
    "    {%- elif 'tool_calls' in message %}\n"
    "        {%- if not message.tool_calls|length == 1 %}\n"
    "            {{- raise_exception(\"This model only supports single tool-calls at once!\") }}\n"
    "        {%- endif %}\n"
    "        {%- set tool_call = message.tool_calls[0].function %}\n"
    "        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}\n"
    "        {{- '{\"name\": \"' + tool_call.name + '\", ' }}\n"
    "        {{- '\"parameters\": ' }}\n"
    "        {{- tool_call.arguments | tojson }}\n"
    "        {{- \"}\" }}\n"
    "        {{- \"<|eot_id|>\" }}\n"
    "    {%- elif message.role == \"tool\" or message.role == \"ipython\" %}\n"
    "        {{- \"<|start_header_id|>ipython<|end_header_id|>\\n\\n\" }}\n"
    "        {%- if message.content is mapping or message.content is iterable %}\n"
    "            {{- message.content | tojson }}\n"
    "        {%- else %}\n"
    "            {{- message.content }}\n"
    "        {%- endif %}\n"
    "        {{- \"<|eot_id|>\" }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
    "{%- endif %}\n";

/* TinyLlama-1.1B-Chat-v1.0 */
static const char TINYLLAMA_CHAT[] =
    "{% for message in messages %}\n"
    "{% if message['role'] == 'user' %}\n"
    "{{ '<|user|>\n"
    "' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'system' %}\n"
    "{{ '<|system|>\n"
    "' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'assistant' %}\n"
    "{{ '<|assistant|>\n"
    "'  + message['content'] + eos_token }}\n"
    "{% endif %}\n"
    "{% if loop.last and add_generation_prompt %}\n"
    "{{ '<|assistant|>' }}\n"
    "{% endif %}\n"
    "{% endfor %}";

/* Phi-3-mini-4k-instruct */
static const char PHI3_MINI_INSTRUCT[] =
    "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n"
    "' + message['content'] + '<|end|>\n"
    "'}}{% elif message['role'] == 'user' %}{{'<|user|>\n"
    "' + message['content'] + '<|end|>\n"
    "'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n"
    "' + message['content'] + '<|end|>\n"
    "'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n"
    "' }}{% else %}{{ eos_token }}{% endif %}";

/* gemma-2-it */
static const char GEMMA2_IT[] =
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n"
    "' + message['content'] | trim + '<end_of_turn>\n"
    "' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n"
    "'}}{% endif %}";

/* gemma-3-it */
static const char GEMMA3_IT[] =
    "{{ bos_token }}\n"
    "{%- if messages[0]['role'] == 'system' -%}\n"
    "    {%- if messages[0]['content'] is string -%}\n"
    "        {%- set first_user_prefix = messages[0]['content'] + '\n"
    "\n"
    "' -%}\n"
    "    {%- else -%}\n"
    "        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n"
    "\n"
    "' -%}\n"
    "    {%- endif -%}\n"
    "    {%- set loop_messages = messages[1:] -%}\n"
    "{%- else -%}\n"
    "    {%- set first_user_prefix = \"\" -%}\n"
    "    {%- set loop_messages = messages -%}\n"
    "{%- endif -%}\n"
    "{%- for message in loop_messages -%}\n"
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}\n"
    "        {{ raise_exception(\"Conversation roles must alternate user/assistant/user/assistant/...\") }}\n"
    "    {%- endif -%}\n"
    "    {%- if (message['role'] == 'assistant') -%}\n"
    "        {%- set role = \"model\" -%}\n"
    "    {%- else -%}\n"
    "        {%- set role = message['role'] -%}\n"
    "    {%- endif -%}\n"
    "    {{ '<start_of_turn>' + role + '\n"
    "' + (first_user_prefix if loop.first else \"\") }}\n"
    "    {%- if message['content'] is string -%}\n"
    "        {{ message['content'] | trim }}\n"
    "    {%- elif message['content'] is iterable -%}\n"
    "        {%- for item in message['content'] -%}\n"
    "            {%- if item['type'] == 'image' -%}\n"
    "                {{ '<start_of_image>' }}\n"
    "            {%- elif item['type'] == 'text' -%}\n"
    "                {{ item['text'] | trim }}\n"
    "            {%- endif -%}\n"
    "        {%- endfor -%}\n"
    "    {%- else -%}\n"
    "        {{ raise_exception(\"Invalid content type\") }}\n"
    "    {%- endif -%}\n"
    "    {{ '<end_of_turn>\n"
    "' }}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "    {{'<start_of_turn>model\n"
    "'}}\n"
    "{%- endif -%}\n";

/* Mistral-7B-Instruct-v0.2 */
static const char MISTRAL_V02_INSTRUCT[] =
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {%- set system_message = messages[0]['content'] %}\n"
    "    {%- set loop_messages = messages[1:] %}\n"
    "{%- else %}\n"
    "    {%- set loop_messages = messages %}\n"
    "{%- endif %}\n"
    "\n"
    "{{- bos_token }}\n"
    "{%- for message in loop_messages %}\n"
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
    "        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}\n"
    "    {%- endif %}\n"
    "    {%- if message['role'] == 'user' %}\n"
    "        {%- if loop.first and system_message is defined %}\n"
    "            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n"
    "        {%- else %}\n"
    "            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n"
    "        {%- endif %}\n"
    "    {%- elif message['role'] == 'assistant' %}\n"
    "        {{- ' ' + message['content'] + eos_token}}\n"
    "    {%- else %}\n"
    "        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n";

/* Mistral-7B-Instruct-v0.3 */
static const char MISTRAL_V03_INSTRUCT[] =
    "{%- if messages[0][\"role\"] == \"system\" %}\n"
    "    {%- set system_message = messages[0][\"content\"] %}\n"
    "    {%- set loop_messages = messages[1:] %}\n"
    "{%- else %}\n"
    "    {%- set loop_messages = messages %}\n"
    "{%- endif %}\n"
    "{%- if not tools is defined %}\n"
    "    {%- set tools = none %}\n"
    "{%- endif %}\n"
    "{%- set user_messages = loop_messages | selectattr(\"role\", \"equalto\", \"user\") | list %}\n"
    "\n"
    "{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}\n"
    "{%- set ns = namespace() %}\n"
    "{%- set ns.index = 0 %}\n"
    "{%- for message in loop_messages %}\n"
    "    {%- if not (message.role == \"tool\" or message.role == \"tool_results\" or (message.tool_calls is defined and message.tool_calls is not none)) %}\n"
    "        {%- if (message[\"role\"] == \"user\") != (ns.index % 2 == 0) %}\n"
    "            {{- raise_exception(\"After the optional system message, conversation roles must alternate user/assistant/user/assistant/...\") }}\n"
    "        {%- endif %}\n"
    "        {%- set ns.index = ns.index + 1 %}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "\n"
    "{{- bos_token }}\n"
    "{%- for message in loop_messages %}\n"
    "    {%- if message[\"role\"] == \"user\" %}\n"
    "        {%- if tools is not none and (message == user_messages[-1]) %}\n"
    "            {{- \"[AVAILABLE_TOOLS] [\" }}\n"
    "            {%- for tool in tools %}\n"
    "                {%- set tool = tool.function %}\n"
    "                {{- '{\"type\": \"function\", \"function\": {' }}\n"
    "                {%- for key, val in tool.items() if key != \"return\" %}\n"
    "                    {%- if val is string %}\n"
    "                        {{- '\"' + key + '\": \"' + val + '\"' }}\n"
    "                    {%- else %}\n"
    "                        {{- '\"' + key + '\": ' + val|tojson }}\n"
    "                    {%- endif %}\n"
    "                    {%- if not loop.last %}\n"
    "                        {{- \", \" }}\n"
    "                    {%- endif %}\n"
    "                {%- endfor %}\n"
    "                {{- \"}}\" }}\n"
    "                {%- if not loop.last %}\n"
    "                    {{- \", \" }}\n"
    "                {%- else %}\n"
    "                    {{- \"]\" }}\n"
    "                {%- endif %}\n"
    "            {%- endfor %}\n"
    "            {{- \"[/AVAILABLE_TOOLS]\" }}\n"
    "            {%- endif %}\n"
    "        {%- if loop.last and system_message is defined %}\n"
    "            {{- \"[INST] \" + system_message + \"\\n\\n\" + message[\"content\"] + \"[/INST]\" }}\n"
    "        {%- else %}\n"
    "            {{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}\n"
    "        {%- endif %}\n"
    "    {%- elif message.tool_calls is defined and message.tool_calls is not none %}\n"
    "        {{- \"[TOOL_CALLS] [\" }}\n"
    "        {%- for tool_call in message.tool_calls %}\n"
    "            {%- set out = tool_call.function|tojson %}\n"
    "            {{- out[:-1] }}\n"
    "            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}\n"
    "                {{- raise_exception(\"Tool call IDs should be alphanumeric strings with length 9!\") }}\n"
    "            {%- endif %}\n"
    "            {{- ', \"id\": \"' + tool_call.id + '\"}' }}\n"
    "            {%- if not loop.last %}\n"
    "                {{- \", \" }}\n"
    "            {%- else %}\n"
    "                {{- \"]\" + eos_token }}\n"
    "            {%- endif %}\n"
    "        {%- endfor %}\n"
    "    {%- elif message[\"role\"] == \"assistant\" %}\n"
    "        {{- \" \" + message[\"content\"]|trim + eos_token}}\n"
    "    {%- elif message[\"role\"] == \"tool_results\" or message[\"role\"] == \"tool\" %}\n"
    "        {%- if message.content is defined and message.content.content is defined %}\n"
    "            {%- set content = message.content.content %}\n"
    "        {%- else %}\n"
    "            {%- set content = message.content %}\n"
    "        {%- endif %}\n"
    "        {{- '[TOOL_RESULTS] {\"content\": ' + content|string + \", \" }}\n"
    "        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}\n"
    "            {{- raise_exception(\"Tool call IDs should be alphanumeric strings with length 9!\") }}\n"
    "        {%- endif %}\n"
    "        {{- '\"call_id\": \"' + message.tool_call_id + '\"}[/TOOL_RESULTS]' }}\n"
    "    {%- else %}\n"
    "        {{- raise_exception(\"Only user and assistant roles are supported, with the exception of an initial optional system message!\") }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n";

static const render_case render_cases[] = {
    { "Qwen2.5-Instruct", QWEN25_INSTRUCT, HK_CHAT_CHATML, true, true,
      "<|im_start|>system\n"
      "You are a helpful assistant<|im_end|>\n"
      "<|im_start|>user\n"
      "Hello<|im_end|>\n"
      "<|im_start|>assistant\n"
      "  Hi there  <|im_end|>\n"
      "<|im_start|>user\n"
      "Who are you?<|im_end|>\n"
      "<|im_start|>assistant\n" },
    { "Qwen2.5-Instruct", QWEN25_INSTRUCT, HK_CHAT_CHATML, true, false,
      "<|im_start|>system\n"
      "You are a helpful assistant<|im_end|>\n"
      "<|im_start|>user\n"
      "Hello<|im_end|>\n"
      "<|im_start|>assistant\n"
      "  Hi there  <|im_end|>\n"
      "<|im_start|>user\n"
      "Who are you?<|im_end|>\n" },
    { "SmolLM2-Instruct", SMOLLM2_INSTRUCT, HK_CHAT_CHATML, true, true,
      "<|im_start|>system\n"
      "You are a helpful assistant<|im_end|>\n"
      "<|im_start|>user\n"
      "Hello<|im_end|>\n"
      "<|im_start|>assistant\n"
      "  Hi there  <|im_end|>\n"
      "<|im_start|>user\n"
      "Who are you?<|im_end|>\n"
      "<|im_start|>assistant\n" },
    { "Llama-2-chat", LLAMA2_CHAT, HK_CHAT_LLAMA2, true, true,
      "[INST] <<SYS>>\n"
      "You are a helpful assistant\n"
      "<</SYS>>\n"
      "\n"
      "Hello [/INST] Hi there </s><s>[INST] Who are you? [/INST]" },
    { "Llama-2-chat", LLAMA2_CHAT, HK_CHAT_LLAMA2, false, true,
      "[INST] Hello [/INST] Hi there </s><s>[INST] Who are you? [/INST]" },
    { "Meta-Llama-3-Instruct", LLAMA3_INSTRUCT, HK_CHAT_LLAMA3, true, true,
      "<|start_header_id|>system<|end_header_id|>\n"
      "\n"
      "You are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
      "\n"
      "Hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
      "\n"
      "Hi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
      "\n"
      "Who are you?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
      "\n" },
    { "Meta-Llama-3-Instruct", LLAMA3_INSTRUCT, HK_CHAT_LLAMA3, false, false,
      "<|start_header_id|>user<|end_header_id|>\n"
      "\n"
      "Hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
      "\n"
      "Hi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
      "\n"
      "Who are you?<|eot_id|>" },
    { "Llama-3.2-Instruct", LLAMA32_INSTRUCT, HK_CHAT_LLAMA31, true, true,
      "<|start_header_id|>system<|end_header_id|>\n"
      "\n"
      "Cutting Knowledge Date: December 2023\n"
      "Today Date: 26 Jul 2024\n"
      "\n"
      "You are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
      "\n"
      "Hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
      "\n"
      "Hi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
      "\n"
      "Who are you?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
      "\n" },
    { "Llama-3.2-Instruct", LLAMA32_INSTRUCT, HK_CHAT_LLAMA31, false, true,
      "<|start_header_id|>system<|end_header_id|>\n"
      "\n"
      "Cutting Knowledge Date: December 2023\n"
      "Today Date: 26 Jul 2024\n"
      "\n"
      "<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
      "\n"
      "Hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
      "\n"
      "Hi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
      "\n"
      "Who are you?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
      "\n" },
    { "TinyLlama-1.1B-Chat-v1.0", TINYLLAMA_CHAT, HK_CHAT_ZEPHYR, true, true,
      "<|system|>\n"
      "You are a helpful assistant</s>\n"
      "<|user|>\n"
      "Hello</s>\n"
      "<|assistant|>\n"
      "  Hi there  </s>\n"
      "<|user|>\n"
      "Who are you?</s>\n"
      "<|assistant|>\n" },
    { "TinyLlama-1.1B-Chat-v1.0", TINYLLAMA_CHAT, HK_CHAT_ZEPHYR, false, false,
      "<|user|>\n"
      "Hello</s>\n"
      "<|assistant|>\n"
      "  Hi there  </s>\n"
      "<|user|>\n"
      "Who are you?</s>\n" },
    { "Phi-3-mini-4k-instruct", PHI3_MINI_INSTRUCT, HK_CHAT_PHI3, true, true,
      "<|system|>\n"
      "You are a helpful assistant<|end|>\n"
      "<|user|>\n"
      "Hello<|end|>\n"
      "<|assistant|>\n"
      "  Hi there  <|end|>\n"
      "<|user|>\n"
      "Who are you?<|end|>\n"
      "<|assistant|>\n" },
    { "Phi-3-mini-4k-instruct", PHI3_MINI_INSTRUCT, HK_CHAT_PHI3, true, false,
      "<|system|>\n"
      "You are a helpful assistant<|end|>\n"
      "<|user|>\n"
      "Hello<|end|>\n"
      "<|assistant|>\n"
      "  Hi there  <|end|>\n"
      "<|user|>\n"
      "Who are you?<|end|>\n"
      "<|endoftext|>" },
    { "gemma-2-it", GEMMA2_IT, HK_CHAT_GEMMA, false, true,
      "<start_of_turn>user\n"
      "Hello<end_of_turn>\n"
      "<start_of_turn>model\n"
      "Hi there<end_of_turn>\n"
      "<start_of_turn>user\n"
      "Who are you?<end_of_turn>\n"
      "<start_of_turn>model\n" },
    { "gemma-3-it", GEMMA3_IT, HK_CHAT_GEMMA, true, true,
      "<start_of_turn>user\n"
      "You are a helpful assistant\n"
      "\n"
      "Hello<end_of_turn>\n"
      "<start_of_turn>model\n"
      "Hi there<end_of_turn>\n"
      "<start_of_turn>user\n"
      "Who are you?<end_of_turn>\n"
      "<start_of_turn>model\n" },
    { "Mistral-7B-Instruct-v0.2", MISTRAL_V02_INSTRUCT, HK_CHAT_MISTRAL, true, true,
      " [INST] You are a helpful assistant\n"
      "\n"
      "Hello [/INST]   Hi there  </s> [INST] Who are you? [/INST]" },
    { "Mistral-7B-Instruct-v0.2", MISTRAL_V02_INSTRUCT, HK_CHAT_MISTRAL, false, true,
      " [INST] Hello [/INST]   Hi there  </s> [INST] Who are you? [/INST]" },
    { "Mistral-7B-Instruct-v0.3", MISTRAL_V03_INSTRUCT, HK_CHAT_MISTRAL_V3, true, true,
      "[INST] Hello[/INST] Hi there</s>[INST] You are a helpful assistant\n"
      "\n"
      "Who are you?[/INST]" },
    { "Mistral-7B-Instruct-v0.3", MISTRAL_V03_INSTRUCT, HK_CHAT_MISTRAL_V3, false, true,
      "[INST] Hello[/INST] Hi there</s>[INST] Who are you?[/INST]" },
};

static const char QWEN25_WITHOUT_SYSTEM[] =
    "<|im_start|>system\n"
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
    "<|im_start|>user\n"
    "Hello<|im_end|>\n"
    "<|im_start|>assistant\n"
    "  Hi there  <|im_end|>\n"
    "<|im_start|>user\n"
    "Who are you?<|im_end|>\n"
    "<|im_start|>assistant\n";

static const char SMOLLM2_WITHOUT_SYSTEM[] =
    "<|im_start|>system\n"
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\n"
    "Hello<|im_end|>\n"
    "<|im_start|>assistant\n"
    "  Hi there  <|im_end|>\n"
    "<|im_start|>user\n"
    "Who are you?<|im_end|>\n"
    "<|im_start|>assistant\n";

START_TEST(test_render_matches_template)
{
    const render_case *c = &render_cases[_i];
    const hk_chat_message *messages = c->with_system ? conversation : conversation + 1;
    size_t n = G_N_ELEMENTS(conversation) - (c->with_system ? 0 : 1);
    bool fallback = true;

    ck_assert_msg(hk_chat_detect(c->template_text, &fallback) == c->format,
                  "%s: detected %s, want %s", c->model,
                  hk_chat_format_name(hk_chat_detect(c->template_text, NULL)),
                  hk_chat_format_name(c->format));
    ck_assert(!fallback);

    char *text = hk_chat_render(c->format, messages, n, c->assistant_prompt);
    ck_assert_msg(strcmp(text, c->expected) == 0, "%s:\n got [%s]\nwant [%s]",
                  c->model, text, c->expected);
    free(text);
}
END_TEST

START_TEST(test_unrecognised_falls_back_to_chatml)
{
    const char *unknown[] = {
        NULL,
        "",
        "{% for message in messages %}{{ message['content'] }}{% endfor %}",
        "### Instruction:\n{{ prompt }}\n### Response:\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(unknown); i++) {
        bool fallback = false;
        ck_assert_int_eq(hk_chat_detect(unknown[i], &fallback), HK_CHAT_CHATML);
        ck_assert(fallback);
    }
    /* ret_fallback is optional. */
    ck_assert_int_eq(hk_chat_detect(NULL, NULL), HK_CHAT_CHATML);
}
END_TEST

START_TEST(test_format_names)
{
    ck_assert_str_eq(hk_chat_format_name(HK_CHAT_CHATML), "chatml");
    ck_assert_str_eq(hk_chat_format_name(HK_CHAT_LLAMA2), "llama2");
    ck_assert_str_eq(hk_chat_format_name(HK_CHAT_LLAMA3), "llama3");
    ck_assert_str_eq(hk_chat_format_name(HK_CHAT_ZEPHYR), "zephyr");
    ck_assert_str_eq(hk_chat_format_name(HK_CHAT_PHI3), "phi3");
    ck_assert_str_eq(hk_chat_format_name(HK_CHAT_GEMMA), "gemma");
    ck_assert_str_eq(hk_chat_format_name(HK_CHAT_MISTRAL), "mistral");
    ck_assert_str_eq(hk_chat_format_name(HK_CHAT_LLAMA31), "llama3.1");
    ck_assert_str_eq(hk_chat_format_name(HK_CHAT_MISTRAL_V3), "mistral-v3");
    ck_assert_str_eq(hk_chat_format_name((hk_chat_format) 99), "unknown");
}
END_TEST

static void
assert_default_system_reproduces(const char *template_text, const char *want_system,
                                 const char *want_text)
{
    char *system = hk_chat_default_system(template_text);
    ck_assert_ptr_nonnull(system);
    ck_assert_str_eq(system, want_system);

    hk_chat_message messages[G_N_ELEMENTS(conversation)];
    memcpy(messages, conversation, sizeof conversation);
    messages[0].content = system;
    char *text = hk_chat_render(HK_CHAT_CHATML, messages, G_N_ELEMENTS(messages), true);
    ck_assert_str_eq(text, want_text);
    free(text);
    free(system);
}

/* Without a system message, Qwen's and SmolLM's templates write their own;
 * put first, it gives what the templates give. */
START_TEST(test_default_system_prompt)
{
    assert_default_system_reproduces(QWEN25_INSTRUCT,
        "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
        QWEN25_WITHOUT_SYSTEM);
    assert_default_system_reproduces(SMOLLM2_INSTRUCT,
        "You are a helpful AI assistant named SmolLM, trained by Hugging Face",
        SMOLLM2_WITHOUT_SYSTEM);

    ck_assert_ptr_null(hk_chat_default_system(NULL));
    ck_assert_ptr_null(hk_chat_default_system(LLAMA3_INSTRUCT));
    ck_assert_ptr_null(hk_chat_default_system(
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
        "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"));
}
END_TEST

/* Every format, fed what a careless caller could pass. */
START_TEST(test_hostile_messages)
{
    hk_chat_format format = (hk_chat_format) _i;
    const hk_chat_message hostile[] = {
        { "system", NULL },
        { "user", "" },
        { "tool", "LEFT OUT" },
        { NULL, "ALSO LEFT OUT" },
        { "assistant", NULL },
        { "user", "\xff\xfe  " },   /* not UTF-8, with spaces to trim */
        { "system", "late system" },
        { "user", NULL },
    };

    for (size_t n = 0; n <= G_N_ELEMENTS(hostile); n++) {
        char *text = hk_chat_render(format, hostile, n, true);
        ck_assert_ptr_nonnull(text);
        ck_assert_ptr_null(strstr(text, "LEFT OUT"));
        free(text);
    }
    char *text = hk_chat_render(format, NULL, 3, true);
    ck_assert_ptr_nonnull(text);
    free(text);
}
END_TEST

START_TEST(test_empty_content)
{
    const hk_chat_message messages[] = { { "user", NULL }, { "assistant", "" } };
    char *text = hk_chat_render(HK_CHAT_CHATML, messages, 2, true);
    ck_assert_str_eq(text, "<|im_start|>user\n<|im_end|>\n"
                           "<|im_start|>assistant\n<|im_end|>\n"
                           "<|im_start|>assistant\n");
    free(text);

    text = hk_chat_render(HK_CHAT_LLAMA3, NULL, 0, true);
    ck_assert_str_eq(text, "<|start_header_id|>assistant<|end_header_id|>\n\n");
    free(text);
}
END_TEST

static Suite *
chat_template_suite(void)
{
    Suite *s = suite_create("chat-template");
    TCase *tc = tcase_create("templates");
    tcase_add_loop_test(tc, test_render_matches_template, 0, G_N_ELEMENTS(render_cases));
    tcase_add_test(tc, test_unrecognised_falls_back_to_chatml);
    tcase_add_test(tc, test_format_names);
    tcase_add_test(tc, test_default_system_prompt);
    tcase_add_loop_test(tc, test_hostile_messages, HK_CHAT_CHATML, HK_CHAT_MISTRAL_V3 + 1);
    tcase_add_test(tc, test_empty_content);
    suite_add_tcase(s, tc);
    return s;
}

HK_CHECK_MAIN(chat_template_suite)
