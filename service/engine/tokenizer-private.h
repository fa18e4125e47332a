/* tokenizer-private.h — what the tokenizer's files share: the vocabulary,
 * the encoder's working state and the merge loop both kinds run.
 *
 * tokenizer.c        loading, special tokens, encode driver, pieces, decoding
 * tokenizer-merge.c  the merge loop both kinds share
 * tokenizer-spm.c    SentencePiece-style merges by score, byte fallback
 * tokenizer-bpe.c    byte-level BPE: merges by rank
 * tokenizer-pre.c    the pre-tokenizers that cut text into words for BPE
 */
#pragma once

#include <glib.h>

#include "tokenizer.h"

/* tokenizer.ggml.token_type */
enum {
    HK_TOKEN_NORMAL       = 1,
    HK_TOKEN_UNKNOWN      = 2,
    HK_TOKEN_CONTROL      = 3,
    HK_TOKEN_USER_DEFINED = 4,
    HK_TOKEN_UNUSED       = 5,
    HK_TOKEN_BYTE         = 6,
};

typedef enum hk_tokenizer_model {
    HK_TOKENIZER_SPM,   /* "llama" */
    HK_TOKENIZER_BPE,   /* "gpt2" */
} hk_tokenizer_model;

typedef struct hk_token {
    uint32_t offset;  /* of its text in hk_tokenizer.text */
    uint32_t len;
    float    score;   /* SPM: the higher, the earlier it merges */
    int32_t  type;    /* HK_TOKEN_*, or whatever else the file says */
} hk_token;

typedef struct hk_bpe hk_bpe;  /* tokenizer-bpe.c */

/* The hash is kept beside the id so that a probe rarely reads the token. */
typedef struct hk_vocab_slot {
    uint32_t hash;
    int32_t  id;    /* -1 when free */
} hk_vocab_slot;

#define HK_TOKENIZER_MAX_EOG 16

struct hk_tokenizer {
    hk_tokenizer_model model;
    char     *pre_name;
    uint32_t  n_vocab;
    hk_token *tokens;        /* (n_vocab) */
    char     *text;          /* every token's text, back to back */
    hk_vocab_slot *index;    /* text → id by open addressing: (index_mask + 1) slots */
    uint32_t  index_mask;

    int32_t bos, eos, unk;   /* -1 when the model has none */
    int32_t eog[HK_TOKENIZER_MAX_EOG];
    size_t  n_eog;
    bool    add_bos;

    /* Tokens cut out of the text before the model's own splitting:
     * user-defined ones always, control and unknown ones with
     * parse_special.  Longest first, as a longer one wins an overlap. */
    int32_t  *specials;            /* (n_specials) ids */
    uint32_t *special_by_byte;     /* (n_specials) indices into specials, by first byte */
    uint32_t  special_first[257];  /* those starting with byte b: [special_first[b], special_first[b + 1]) */
    size_t    n_specials;

    /* SPM: the <0xNN> tokens; BPE: the token of the byte's stand-in
     * character.  -1 when the vocabulary lacks it. */
    int32_t byte_token[256];

    /* SPM */
    bool add_space_prefix;
    bool spm_words_apart;    /* no token has ▁ after another character, so words merge alone */

    hk_bpe *bpe;             /* BPE only */
};

int32_t hk_vocab_find(const hk_tokenizer *t, const char *s, size_t len);

static inline const char *
hk_token_text(const hk_tokenizer *t, int32_t id)
{
    return t->text + t->tokens[id].offset;
}

/* ---------------------------------------------------------------- merging */

/* A run of text that is one token (id) or one character not yet merged
 * (id -1 when no token spells it).  Symbols form a list through prev and
 * next; a symbol merged into its left neighbour has len 0. */
typedef struct hk_symbol {
    uint32_t start, len;
    int32_t  prev, next;
    int32_t  id;
} hk_symbol;

/* Two neighbours that could merge into token id.  The lowest key merges
 * first, the leftmost among equals; size is their length when queued, so
 * a pair that changed since is recognised and dropped. */
typedef struct hk_bigram {
    uint32_t key;
    int32_t  left, right;
    int32_t  id;
    uint32_t size;
} hk_bigram;

/* Whether symbols left and right can merge; fills b->key and b->id. */
typedef bool (*hk_pair_fn)(const void *ctx, const hk_symbol *sym, int32_t left, int32_t right,
                           hk_bigram *b);

typedef struct hk_merger {
    hk_symbol *sym;   /* (n_sym) */
    size_t     n_sym, cap_sym;
    hk_bigram *heap;  /* (n_heap) binary min-heap on (key, left) */
    size_t     n_heap, cap_heap;
} hk_merger;

/* Room for n symbols; the caller fills start, len and id of each. */
hk_symbol *hk_merger_start(hk_merger *m, size_t n);
/* Link the symbols and merge the best pair until none can. */
void       hk_merger_run(hk_merger *m, hk_pair_fn pair, const void *ctx);
void       hk_merger_clear(hk_merger *m);

/* ---------------------------------------------------------------- encoding */

typedef struct hk_ids {
    int32_t *v;  /* (n) */
    size_t   n, cap;
} hk_ids;

void hk_ids_push(hk_ids *ids, int32_t id);

/* What one encode call works with. */
typedef struct hk_encoder {
    const hk_tokenizer *t;
    hk_ids      ids;       /* the result so far */
    hk_merger   merger;
    GHashTable *words;     /* word → its ids, so a repeated word merges once */
    GString    *scratch;   /* SPM: the escaped text; BPE: a word in byte-level form */
    GArray     *spans;     /* BPE: the words of a fragment (hk_span) */
} hk_encoder;

typedef struct hk_span {
    size_t start, len;
} hk_span;

/* Append the ids of a word seen before in this call; false when new. */
bool hk_encoder_recall(hk_encoder *e, const char *word, size_t len);
/* The ids from index first on are the word's. */
void hk_encoder_remember(hk_encoder *e, const char *word, size_t len, size_t first);

/* ---------------------------------------------------------------- the two kinds */

/* SPM: reads add_space_prefix, finds the byte tokens. */
int  hk_spm_load(hk_tokenizer *t, const hk_gguf *g, hk_error *err);
/* Encode a fragment of plain text; after_special: it starts the text or
 * follows a special token, where SentencePiece puts its space prefix. */
void hk_spm_encode(hk_encoder *e, const char *text, size_t len, bool after_special);
/* The text of a normal token, ▁ back to spaces. */
void hk_spm_append_piece(const hk_tokenizer *t, int32_t id, GString *out);

/* BPE: reads the merges and the pre-tokenizer. */
int  hk_bpe_load(hk_tokenizer *t, const hk_gguf *g, hk_error *err);
void hk_bpe_free(hk_bpe *bpe);  /* accepts NULL */
/* Whether the pre-tokenizer wants a BOS when the file does not say. */
bool hk_bpe_default_add_bos(const hk_bpe *bpe);
int  hk_bpe_encode(hk_encoder *e, const char *text, size_t len, hk_error *err);
/* The bytes of a normal token, stand-in characters back to bytes. */
void hk_bpe_append_piece(const hk_tokenizer *t, int32_t id, GString *out);

/* ---------------------------------------------------------------- pre-tokenizers */

typedef struct hk_pre hk_pre;

/* name is tokenizer.ggml.pre; an unknown one is an error. */
int  hk_pre_new(const char *name, hk_pre **ret, hk_error *err);
void hk_pre_free(hk_pre *p);  /* accepts NULL */
/* Llama 3 style: a word that is a token as a whole skips the merges. */
bool hk_pre_ignores_merges(const hk_pre *p);
bool hk_pre_adds_bos(const hk_pre *p);
/* Cut text into words (hk_span, in order, covering it all). */
int  hk_pre_split(const hk_pre *p, const char *text, size_t len, GArray *words, hk_error *err);
