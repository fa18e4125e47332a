/* tokenizer.h — text to token ids and back, from a GGUF file's metadata.
 *
 * Two kinds, as tokenizer.ggml.model names them: "llama" (SentencePiece
 * style, with byte fallback) and "gpt2" (byte-level BPE with a
 * pre-tokenizer chosen by tokenizer.ggml.pre).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "gguf.h"

typedef struct hk_tokenizer hk_tokenizer;

int  hk_tokenizer_load(const hk_gguf *g, hk_tokenizer **ret, hk_error *err);
void hk_tokenizer_free(hk_tokenizer *t);  /* accepts NULL */

/* "llama" or "gpt2"; the pre-tokenizer name ("default" when none is set). */
const char *hk_tokenizer_kind(const hk_tokenizer *t);
const char *hk_tokenizer_pre(const hk_tokenizer *t);

uint32_t hk_tokenizer_n_vocab(const hk_tokenizer *t);
int32_t  hk_tokenizer_bos(const hk_tokenizer *t);      /* -1 when the model has none */
int32_t  hk_tokenizer_eos(const hk_tokenizer *t);      /* -1 when the model has none */
bool     hk_tokenizer_wants_bos(const hk_tokenizer *t); /* tokenizer.ggml.add_bos_token, or the kind's default */
/* End of generation: EOS, EOT and the chat formats' end-of-turn tokens
 * (<|im_end|>, <|eot_id|>, <|end|>, <end_of_turn>…). */
bool     hk_tokenizer_is_eog(const hk_tokenizer *t, int32_t id);

/* Encode len bytes of UTF-8 text.  With parse_special, control tokens
 * written in the text (<|im_start|>, </s>…) become their ids; without, they
 * are encoded as plain text.  *ret_ids is malloc'd. */
int hk_tokenizer_encode(const hk_tokenizer *t, const char *text, size_t len,
                        bool add_bos, bool parse_special,
                        int32_t **ret_ids, size_t *ret_n, hk_error *err);

/* The bytes of one token ("▁the" → " the", "<0x0A>" → "\n").  Control
 * tokens give "" unless render_special.  Returns the length, which may be
 * more than size (then nothing past size is written); -1 for an id out of
 * range. */
int hk_tokenizer_piece(const hk_tokenizer *t, int32_t id, bool render_special,
                       char *buf, size_t size);

/* All ids to a malloc'd, NUL-terminated string (invalid UTF-8 replaced by
 * U+FFFD, NUL bytes left out). */
char *hk_tokenizer_decode(const hk_tokenizer *t, const int32_t *ids, size_t n,
                          bool render_special);

/* Streaming decode for generation: push ids one at a time, get back only
 * whole UTF-8 characters; bytes of an unfinished character wait for the
 * next push. */
typedef struct hk_detokenizer hk_detokenizer;

hk_detokenizer *hk_detokenizer_new(const hk_tokenizer *t);
void            hk_detokenizer_free(hk_detokenizer *d);  /* accepts NULL */
/* The text now complete, valid UTF-8 without NUL bytes, NUL-terminated,
 * owned by d and valid until the next call. */
const char     *hk_detokenizer_push(hk_detokenizer *d, int32_t id);
/* What is left at the end (an unfinished character becomes U+FFFD). */
const char     *hk_detokenizer_flush(hk_detokenizer *d);
