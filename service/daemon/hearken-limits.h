/* hearken-limits.h — a bound on everything a D-Bus caller can make
 * hearkend allocate or store.  Error messages quote these numbers, so a
 * caller who hits one knows what to change.
 */
#pragma once

/* Bytes of a prompt or a message (UTF-8). */
#define HEARKEN_MAX_TEXT_BYTES          (64 * 1024)
/* Bytes of a system prompt given in the options. */
#define HEARKEN_MAX_SYSTEM_BYTES        (16 * 1024)
/* Bytes of a conversation id; ours are 36-character UUIDs. */
#define HEARKEN_MAX_ID_BYTES            64
/* Bytes of a model path or name. */
#define HEARKEN_MAX_PATH_BYTES          4096
/* Bytes of a text Classify takes; a longer message is classified by its
 * start (the model reads the first 128 words anyway). */
#define HEARKEN_MAX_CLASSIFY_BYTES      (4 * 1024)
/* Intent corrections a fine-tune trains on: the new one and the latest
 * before it since the last ResetIntents (the model already learned those;
 * going over them again keeps the newest from pushing them out).  Each
 * adds some 20 ms. */
#define HEARKEN_MAX_LEARNED_CORRECTIONS 3
/* Bytes of an intent name and of a feedback comment. */
#define HEARKEN_MAX_INTENT_BYTES        128
#define HEARKEN_MAX_COMMENT_BYTES       (4 * 1024)
/* Longest reply a caller may ask for, in tokens (the schema's max-tokens range). */
#define HEARKEN_MAX_REPLY_TOKENS        8192
/* Conversations kept in the store; ForgetAll makes room. */
#define HEARKEN_MAX_CONVERSATIONS       10000
/* Turns (user and assistant messages) in one conversation. */
#define HEARKEN_MAX_TURNS_PER_CONVERSATION 1000
/* Turns one D-Bus sender may have waiting or running at once. */
#define HEARKEN_MAX_QUEUED_PER_SENDER   4
/* Turns waiting or running, all senders together. */
#define HEARKEN_MAX_QUEUED_TOTAL        64
/* Model downloads running at once, and the longest file one may bring
 * when the catalog gives no size. */
#define HEARKEN_MAX_PULLS               4
#define HEARKEN_MAX_DOWNLOAD_BYTES      (G_GUINT64_CONSTANT (64) << 30)
