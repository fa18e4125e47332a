/* tokenizer-pre.c — the pre-tokenizers of byte-level BPE models: regular
 * expressions that cut text into words before merging, one set per
 * tokenizer.ggml.pre value.
 *
 * A set is applied the way llama.cpp applies it (the reference the test
 * vectors come from): each expression runs on every piece the previous
 * one left, separately, and the text between two matches stays a piece of
 * its own.  So a lookahead or a $ sees only the end of its piece.  GRegex
 * (PCRE2 with Unicode properties) reads the patterns as written. */
#include "tokenizer-private.h"

#include <errno.h>

#include "unicode.h"

#define MAX_PATTERNS 6

/* GPT-2's own: contractions, letters, digits, other symbols, each with an
 * optional space in front, and whitespace that leaves its last character
 * to the word after it. */
#define GPT2_WORDS \
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

/* Llama 3 and Qwen2: contractions in either case, a letter run with one
 * non-letter in front, digits in threes (Qwen2: one by one), symbols with
 * their newlines, newline runs with the whitespace before them. */
#define LLAMA3_WORDS(digits) \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])" \
    "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" digits "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*" \
    "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* CJK ideographs, with the ranges before them and Hangul, as DeepSeek's
 * tokenizer.json writes them. */
#define DEEPSEEK_CJK "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+"

typedef struct pre_spec {
    const char *names[6];                /* tokenizer.ggml.pre values, NULL-terminated */
    const char *patterns[MAX_PATTERNS];  /* applied in turn, NULL-terminated */
    bool        ignore_merges;           /* a word that is a token skips the merges */
    bool        add_bos;                 /* when tokenizer.ggml.add_bos_token is absent */
} pre_spec;

static const pre_spec specs[] = {
    {
        /* "default" is what a file without tokenizer.ggml.pre gets: the
         * byte-level pre-tokenizer of GPT-2, which GPT-NeoX copies. */
        { "default", "gpt-2", "mpt", "phi-2", "olmo", NULL },
        { GPT2_WORDS },
        false, false,
    },
    {
        { "llama-bpe", "llama3", "llama-v3", NULL },
        { LLAMA3_WORDS("{1,3}") },
        true, true,
    },
    {
        { "dbrx", "smaug-bpe", NULL },
        { LLAMA3_WORDS("{1,3}") },
        false, false,
    },
    {
        { "qwen2", "deepseek-r1-qwen", "stablelm2", NULL },
        { LLAMA3_WORDS("") },
        false, false,
    },
    {
        { "deepseek-llm", NULL },
        {
            "[\\r\\n]",
            /* cased letters, as DeepSeek's tokenizer.json lists them */
            "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"
            "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}"
            "\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}"
            "\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}"
            "\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}"
            "\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}"
            "\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}"
            "\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}"
            "\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}"
            "\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}"
            "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}"
            "\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}"
            "\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}"
            "\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}"
            "\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}"
            "\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"
            "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}"
            "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
            /* ASCII and full-width punctuation, quotes, the ideographic space and stops */
            "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
            "\\s+$",
            DEEPSEEK_CJK,
            "\\p{N}+",
        },
        false, false,
    },
    {
        { "deepseek-coder", NULL },
        { "[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", DEEPSEEK_CJK, "\\p{N}" },
        false, false,
    },
    {
        { "falcon", NULL },
        { "[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2_WORDS, "[0-9][0-9][0-9]" },
        false, false,
    },
    {
        /* GPT-2's words with every digit apart */
        { "starcoder", "refact", "smollm", "command-r", NULL },
        { "\\p{N}", GPT2_WORDS },
        false, false,
    },
};

struct hk_pre {
    const pre_spec *spec;
    GRegex         *regex[MAX_PATTERNS];
    size_t          n_regex;
};

static const pre_spec *
find_spec(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(specs); i++)
        for (const char *const *n = specs[i].names; *n; n++)
            if (g_str_equal(*n, name))
                return &specs[i];
    return NULL;
}

int
hk_pre_new(const char *name, hk_pre **ret, hk_error *err)
{
    const pre_spec *spec = find_spec(name);

    if (!spec)
        return hk_error_set(err, -ENOTSUP, "tokenizer.ggml.pre \"%.64s\" is not a pre-tokenizer this engine knows",
                            name);

    hk_pre *p = g_new0(hk_pre, 1);
    p->spec = spec;
    for (; p->n_regex < MAX_PATTERNS && spec->patterns[p->n_regex]; p->n_regex++) {
        GError *gerr = NULL;
        p->regex[p->n_regex] = g_regex_new(spec->patterns[p->n_regex],
                                           G_REGEX_OPTIMIZE | G_REGEX_DOLLAR_ENDONLY, 0, &gerr);
        if (!p->regex[p->n_regex]) {
            int r = hk_error_set(err, -EINVAL, "pre-tokenizer \"%s\", pattern %zu: %s",
                                 name, p->n_regex, gerr->message);
            g_error_free(gerr);
            hk_pre_free(p);
            return r;
        }
    }
    *ret = p;
    return 0;
}

void
hk_pre_free(hk_pre *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_regex; i++)
        g_regex_unref(p->regex[i]);
    g_free(p);
}

bool
hk_pre_ignores_merges(const hk_pre *p)
{
    return p->spec->ignore_merges;
}

bool
hk_pre_adds_bos(const hk_pre *p)
{
    return p->spec->add_bos;
}

static void
push_span(GArray *out, size_t start, size_t len)
{
    hk_span s = { start, len };
    g_array_append_val(out, s);
}

/* The matches of re in span, and the text between them, in order. */
static int
split_span(GRegex *re, const char *text, hk_span span, GArray *out, hk_error *err)
{
    GMatchInfo *match = NULL;
    GError *gerr = NULL;
    size_t done = 0;

    g_regex_match_full(re, text + span.start, (gssize) span.len, 0, G_REGEX_MATCH_NOTEMPTY, &match, &gerr);
    while (!gerr && g_match_info_matches(match)) {
        gint from, to;
        g_match_info_fetch_pos(match, 0, &from, &to);
        if ((size_t) from > done)
            push_span(out, span.start + done, (size_t) from - done);
        push_span(out, span.start + (size_t) from, (size_t) (to - from));
        done = (size_t) to;
        g_match_info_next(match, &gerr);
    }
    g_match_info_free(match);
    if (gerr) {
        int r = hk_error_set(err, -EINVAL, "pre-tokenizer: %s", gerr->message);
        g_error_free(gerr);
        return r;
    }
    if (done < span.len)
        push_span(out, span.start + done, span.len - done);
    return 0;
}

/* Every pattern in turn on valid UTF-8, as GRegex requires. */
static int
split_valid(const hk_pre *p, const char *text, hk_span whole, GArray *words, hk_error *err)
{
    GArray *pieces = g_array_new(FALSE, FALSE, sizeof(hk_span));
    GArray *next = g_array_new(FALSE, FALSE, sizeof(hk_span));
    int r = 0;

    g_array_append_val(pieces, whole);
    for (size_t k = 0; k < p->n_regex && r == 0; k++) {
        bool last = k + 1 == p->n_regex;
        GArray *out = last ? words : next;
        g_array_set_size(next, 0);
        for (size_t i = 0; i < pieces->len && r == 0; i++)
            r = split_span(p->regex[k], text, g_array_index(pieces, hk_span, i), out, err);
        GArray *swap = pieces;
        pieces = next;
        next = swap;
    }
    g_array_free(pieces, TRUE);
    g_array_free(next, TRUE);
    return r;
}

int
hk_pre_split(const hk_pre *p, const char *text, size_t len, GArray *words, hk_error *err)
{
    g_array_set_size(words, 0);
    for (size_t i = 0; i < len;) {
        size_t valid = hk_utf8_valid_prefix(text + i, len - i);
        if (valid == 0) {
            /* An ill-formed byte is a word of its own: the byte-level
             * alphabet spells any byte. */
            push_span(words, i, 1);
            i++;
            continue;
        }
        int r = split_valid(p, text, (hk_span) { i, valid }, words, err);
        if (r < 0)
            return r;
        i += valid;
    }
    return 0;
}
