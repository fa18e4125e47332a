/* hearken-actions-slots.c — durations, application names, file names and
 * settings panels out of what the person said. */
#include "hearken-actions-slots.h"

#include <gio/gdesktopappinfo.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

static gboolean
is_cjk (gunichar c)
{
  return (c >= 0x3400 && c <= 0x9fff) || (c >= 0xf900 && c <= 0xfaff) ||
         (c >= 0x20000 && c <= 0x2ffff);
}

/* Lowercase and width-folded ("Ｆｉｒｅｆｏｘ" = "firefox"). */
static char *
fold_text (const char *text)
{
  g_autofree char *normal = g_utf8_normalize (text, -1, G_NORMALIZE_ALL);

  return g_utf8_casefold (normal ? normal : "", -1);
}

/* Whether word occurs in text on its own (not inside a longer word). */
static gboolean
contains_word (const char *text,
               const char *word)
{
  gsize len = strlen (word);

  for (const char *p = strstr (text, word); p; p = strstr (p + 1, word))
    {
      gboolean starts = p == text || !g_ascii_isalnum (p[-1]);
      gboolean ends = !g_ascii_isalnum (p[len]);

      if (starts && ends)
        return TRUE;
    }
  return FALSE;
}

/* ----------------------------------------------------------- durations */

typedef enum {
  TOKEN_NUMBER,       /* value; article: "a", "an" */
  TOKEN_FRACTION,     /* "half", "quarter", 半 */
  TOKEN_UNIT,         /* value: seconds */
  TOKEN_SKIP,         /* "and", "of", 个: no effect */
  TOKEN_WORD,         /* anything else */
} TokenKind;

typedef struct {
  double    total;
  double    pending;
  double    last_unit;
  gboolean  has_pending;
  gboolean  pending_article;    /* "a"/"an": a number only if a unit follows */
  gboolean  pending_fraction;   /* a fraction with no number before it */
  gboolean  any_unit;
} DurationParse;

typedef struct {
  const char *word;
  TokenKind   kind;
  double      value;
} WordMeaning;

static const WordMeaning english_words[] = {
  { "a", TOKEN_NUMBER, 1 }, { "an", TOKEN_NUMBER, 1 },
  { "zero", TOKEN_NUMBER, 0 }, { "one", TOKEN_NUMBER, 1 }, { "two", TOKEN_NUMBER, 2 },
  { "three", TOKEN_NUMBER, 3 }, { "four", TOKEN_NUMBER, 4 }, { "five", TOKEN_NUMBER, 5 },
  { "six", TOKEN_NUMBER, 6 }, { "seven", TOKEN_NUMBER, 7 }, { "eight", TOKEN_NUMBER, 8 },
  { "nine", TOKEN_NUMBER, 9 }, { "ten", TOKEN_NUMBER, 10 }, { "eleven", TOKEN_NUMBER, 11 },
  { "twelve", TOKEN_NUMBER, 12 }, { "thirteen", TOKEN_NUMBER, 13 },
  { "fourteen", TOKEN_NUMBER, 14 }, { "fifteen", TOKEN_NUMBER, 15 },
  { "sixteen", TOKEN_NUMBER, 16 }, { "seventeen", TOKEN_NUMBER, 17 },
  { "eighteen", TOKEN_NUMBER, 18 }, { "nineteen", TOKEN_NUMBER, 19 },
  { "twenty", TOKEN_NUMBER, 20 }, { "thirty", TOKEN_NUMBER, 30 }, { "forty", TOKEN_NUMBER, 40 },
  { "fifty", TOKEN_NUMBER, 50 }, { "sixty", TOKEN_NUMBER, 60 }, { "seventy", TOKEN_NUMBER, 70 },
  { "eighty", TOKEN_NUMBER, 80 }, { "ninety", TOKEN_NUMBER, 90 },
  { "couple", TOKEN_NUMBER, 2 },
  { "half", TOKEN_FRACTION, 0.5 }, { "quarter", TOKEN_FRACTION, 0.25 },
  { "s", TOKEN_UNIT, 1 }, { "sec", TOKEN_UNIT, 1 }, { "secs", TOKEN_UNIT, 1 },
  { "second", TOKEN_UNIT, 1 }, { "seconds", TOKEN_UNIT, 1 },
  { "m", TOKEN_UNIT, 60 }, { "min", TOKEN_UNIT, 60 }, { "mins", TOKEN_UNIT, 60 },
  { "minute", TOKEN_UNIT, 60 }, { "minutes", TOKEN_UNIT, 60 },
  { "h", TOKEN_UNIT, 3600 }, { "hr", TOKEN_UNIT, 3600 }, { "hrs", TOKEN_UNIT, 3600 },
  { "hour", TOKEN_UNIT, 3600 }, { "hours", TOKEN_UNIT, 3600 },
  { "day", TOKEN_UNIT, 86400 }, { "days", TOKEN_UNIT, 86400 },
  { "and", TOKEN_SKIP, 0 }, { "of", TOKEN_SKIP, 0 },
};

/* Longest first, so 分钟 is one unit, not 分 then 钟. */
static const WordMeaning chinese_words[] = {
  { "小时", TOKEN_UNIT, 3600 }, { "钟头", TOKEN_UNIT, 3600 }, { "分钟", TOKEN_UNIT, 60 },
  { "秒钟", TOKEN_UNIT, 1 }, { "刻钟", TOKEN_UNIT, 900 },
  { "分", TOKEN_UNIT, 60 }, { "秒", TOKEN_UNIT, 1 }, { "刻", TOKEN_UNIT, 900 },
  { "天", TOKEN_UNIT, 86400 },
  { "半", TOKEN_FRACTION, 0.5 }, { "个", TOKEN_SKIP, 0 },
};

static gboolean
is_round_tens (double v)
{
  return v >= 20 && v < 100 && fmod (v, 10) == 0;
}

static void
take_number (DurationParse *p,
             double         value,
             gboolean       article)
{
  /* "two and a half": the article belongs to the fraction */
  if (article && p->has_pending && !p->pending_article)
    return;
  /* "twenty five" */
  if (!article && p->has_pending && !p->pending_article && !p->pending_fraction &&
      is_round_tens (p->pending) && value < 10)
    {
      p->pending += value;
      return;
    }
  p->pending = value;
  p->has_pending = TRUE;
  p->pending_article = article;
  p->pending_fraction = FALSE;
}

static void
take_fraction (DurationParse *p,
               double         fraction)
{
  /* "two and a half", 一个半 */
  if (p->has_pending && !p->pending_article)
    {
      p->pending += fraction;
      return;
    }
  /* "half an hour", or a fraction of the last unit: "an hour and a half" */
  p->pending = fraction;
  p->has_pending = TRUE;
  p->pending_article = FALSE;
  p->pending_fraction = TRUE;
}

static void
take_unit (DurationParse *p,
           double         seconds)
{
  if (!p->has_pending)
    return;
  p->total += p->pending * seconds;
  p->last_unit = seconds;
  p->any_unit = TRUE;
  p->has_pending = FALSE;
}

static void
take_token (DurationParse *p,
            TokenKind      kind,
            double         value,
            gboolean       article)
{
  switch (kind)
    {
    case TOKEN_NUMBER:
      take_number (p, value, article);
      break;
    case TOKEN_FRACTION:
      take_fraction (p, value);
      break;
    case TOKEN_UNIT:
      take_unit (p, value);
      break;
    case TOKEN_SKIP:
      break;
    case TOKEN_WORD:
      /* "set a timer": that "a" counted nothing */
      if (p->has_pending && p->pending_article)
        p->has_pending = FALSE;
      break;
    }
}

static void
take_english_word (DurationParse *p,
                   const char    *word)
{
  for (gsize i = 0; i < G_N_ELEMENTS (english_words); i++)
    if (g_str_equal (english_words[i].word, word))
      {
        gboolean article = g_str_equal (word, "a") || g_str_equal (word, "an");

        take_token (p, english_words[i].kind, english_words[i].value, article);
        return;
      }
  take_token (p, TOKEN_WORD, 0, FALSE);
}

static int
chinese_digit (gunichar c)
{
  static const gunichar digits[] = { 0x96f6, 0x4e00, 0x4e8c, 0x4e09, 0x56db, 0x4e94,
                                     0x516d, 0x4e03, 0x516b, 0x4e5d };  /* 零一二…九 */

  if (c == 0x3007)          /* 〇 */
    return 0;
  if (c == 0x4e24)          /* 两 */
    return 2;
  for (int i = 0; i < 10; i++)
    if (digits[i] == c)
      return i;
  return -1;
}

static gboolean
is_chinese_numeral (gunichar c)
{
  return chinese_digit (c) >= 0 || c == 0x5341 /* 十 */ || c == 0x767e /* 百 */;
}

/* 十五 = 15, 二十 = 20, 一百二十 = 120; consumes the numerals at *p. */
static double
read_chinese_number (const char **p)
{
  double total = 0, digit = 0;

  while (**p && is_chinese_numeral (g_utf8_get_char (*p)))
    {
      gunichar c = g_utf8_get_char (*p);

      if (c == 0x5341)
        {
          total += (digit ? digit : 1) * 10;
          digit = 0;
        }
      else if (c == 0x767e)
        {
          total += (digit ? digit : 1) * 100;
          digit = 0;
        }
      else
        digit = chinese_digit (c);
      *p = g_utf8_next_char (*p);
    }
  return total + digit;
}

/* Consumes one CJK token at *p. */
static void
take_chinese (DurationParse  *p,
              const char    **text)
{
  if (is_chinese_numeral (g_utf8_get_char (*text)))
    {
      take_token (p, TOKEN_NUMBER, read_chinese_number (text), FALSE);
      return;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (chinese_words); i++)
    if (g_str_has_prefix (*text, chinese_words[i].word))
      {
        take_token (p, chinese_words[i].kind, chinese_words[i].value, FALSE);
        *text += strlen (chinese_words[i].word);
        return;
      }
  take_token (p, TOKEN_WORD, 0, FALSE);
  *text = g_utf8_next_char (*text);
}

static void
take_digits (DurationParse  *p,
             const char    **text)
{
  const char *start = *text;
  g_autofree char *number = NULL;

  while (g_ascii_isdigit (**text) || (**text == '.' && g_ascii_isdigit ((*text)[1])))
    (*text)++;
  number = g_strndup (start, *text - start);
  take_token (p, TOKEN_NUMBER, g_ascii_strtod (number, NULL), FALSE);
}

static void
take_ascii_word (DurationParse  *p,
                 const char    **text)
{
  const char *start = *text;
  g_autofree char *word = NULL;

  while (g_ascii_isalpha (**text))
    (*text)++;
  word = g_ascii_strdown (start, *text - start);
  take_english_word (p, word);
}

/**
 * hearken_parse_duration:
 *
 * Numbers and units add up ("1 hour 20 minutes"); a fraction after the
 * last unit is a fraction of it ("an hour and a half", 两分半).
 */
gboolean
hearken_parse_duration (const char *text,
                        guint      *ret_seconds)
{
  g_autofree char *folded = NULL;
  DurationParse p = { 0 };
  const char *s;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (ret_seconds != NULL, FALSE);

  folded = fold_text (text);
  for (s = folded; *s;)
    {
      gunichar c = g_utf8_get_char (s);

      if (g_ascii_isdigit (*s))
        take_digits (&p, &s);
      else if (g_ascii_isalpha (*s))
        take_ascii_word (&p, &s);
      else if (is_cjk (c))
        take_chinese (&p, &s);
      else
        s = g_utf8_next_char (s);
    }
  if (p.has_pending && p.pending_fraction && p.any_unit)
    p.total += p.pending * p.last_unit;

  if (!p.any_unit || p.total < 0.5)
    return FALSE;
  *ret_seconds = p.total >= G_MAXUINT ? G_MAXUINT : (guint) lround (p.total);
  return TRUE;
}

char *
hearken_format_duration (guint seconds)
{
  guint hours = seconds / 3600, minutes = seconds / 60 % 60, rest = seconds % 60;
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);

  if (hours)
    g_ptr_array_add (parts, g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u hour", "%u hours", hours), hours));
  if (minutes)
    g_ptr_array_add (parts, g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u minute", "%u minutes", minutes), minutes));
  if (rest || parts->len == 0)
    g_ptr_array_add (parts, g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u second", "%u seconds", rest), rest));
  g_ptr_array_add (parts, NULL);
  return g_strjoinv (" ", (char **) parts->pdata);
}

/* --------------------------------------------------------------- slots */

/* Words around an application's name: requests, politeness, articles. */
static const char *const app_filler_words[] = {
  "please", "pls", "plz", "kindly", "hey", "hi", "hearken", "can", "could", "would",
  "will", "you", "u", "i", "want", "wanna", "need", "to", "me", "for", "my", "the",
  "a", "an", "open", "opening", "launch", "start", "run", "fire", "up", "bring",
  "show", "app", "application", "program", "programme", "now", "quickly", "go",
  "ahead", "and", "let", "s", "up", NULL
};
static const char *const app_filler_phrases[] = {
  "能不能", "可不可以", "应用程序", "帮我", "帮忙", "麻烦", "给我", "替我", "我要", "我想",
  "可以", "打开", "开启", "启动", "运行", "开一下", "一下", "应用", "程序", "软件",
  "好吗", "请", "你", "能", "把", "吧", "呢", "吗", NULL
};

/* Words around a file's name. */
static const char *const file_filler_words[] = {
  "find", "search", "look", "looking", "locate", "where", "wheres", "is", "are",
  "was", "my", "the", "a", "an", "for", "file", "files", "named", "called", "name",
  "document", "documents", "doc", "please", "can", "could", "you", "me", "help",
  "i", "in", "on", "computer", "home", "folder", "all", "any", "with", "of", "up",
  "show", "get", "lost", "put", "did", "do", "have", "which", "that", "s", "some",
  "hey", "pls", NULL
};
static const char *const file_filler_phrases[] = {
  "有没有", "在哪里", "在哪儿", "在哪", "哪里", "找一下", "搜一下", "帮我", "找到",
  "查找", "搜索", "寻找", "文件夹", "文件", "名为", "叫做", "名字", "我的", "电脑",
  "一下", "请", "找", "叫", "的", "里", "上", "是", NULL
};

static gboolean
is_word_char (gunichar c)
{
  return g_unichar_isalnum (c) || c == '-' || c == '_' || c == '.' || c == '+';
}

/* A text quoted in “…”, "…" or '…' is the slot as it stands. */
static char *
quoted (const char *text)
{
  static const char *const pairs[][2] = { { "“", "”" }, { "\"", "\"" }, { "「", "」" }, { "'", "'" } };

  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      const char *open = strstr (text, pairs[i][0]);
      const char *close;

      if (!open)
        continue;
      open += strlen (pairs[i][0]);
      close = strstr (open, pairs[i][1]);
      if (close && close > open)
        return g_strndup (open, close - open);
    }
  return NULL;
}

static char *
strip_fillers (const char         *text,
               const char * const *words,
               const char * const *phrases)
{
  g_autofree char *folded = fold_text (text);
  g_autoptr(GString) kept = g_string_new (NULL);
  g_autoptr(GString) cleaned = g_string_new (folded);
  const char *p;

  /* Chinese has no spaces: the fillers go, leaving a gap. */
  for (guint i = 0; phrases[i]; i++)
    g_string_replace (cleaned, phrases[i], " ", 0);

  for (p = cleaned->str; *p;)
    {
      const char *start;
      g_autofree char *word = NULL;

      if (!is_word_char (g_utf8_get_char (p)))
        {
          p = g_utf8_next_char (p);
          continue;
        }
      start = p;
      while (*p && is_word_char (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);
      word = g_strndup (start, p - start);
      if (g_strv_contains (words, word))
        continue;
      if (kept->len)
        g_string_append_c (kept, ' ');
      g_string_append (kept, word);
    }
  return g_string_free (g_steal_pointer (&kept), FALSE);
}

char *
hearken_slot_app_name (const char *text)
{
  g_autofree char *in_quotes = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  if ((in_quotes = quoted (text)))
    return fold_text (in_quotes);
  return strip_fillers (text, app_filler_words, app_filler_phrases);
}

char *
hearken_slot_file_name (const char *text)
{
  g_autofree char *in_quotes = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  if ((in_quotes = quoted (text)))
    return g_strstrip (fold_text (in_quotes));
  return strip_fillers (text, file_filler_words, file_filler_phrases);
}

/* -------------------------------------------------------- applications */

/* Only letters and digits, lowercase: "Text Editor" and "text-editor"
 * both become "texteditor". */
static GArray *
match_key (const char *text)
{
  g_autofree char *folded = fold_text (text);
  GArray *key = g_array_new (FALSE, FALSE, sizeof (gunichar));

  for (const char *p = folded; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isalnum (c))
        g_array_append_val (key, c);
    }
  return key;
}

static gboolean
key_has_cjk (const GArray *key)
{
  for (guint i = 0; i < key->len; i++)
    if (is_cjk (g_array_index (key, gunichar, i)))
      return TRUE;
  return FALSE;
}

static gboolean
key_contains (const GArray *haystack,
              const GArray *needle)
{
  if (needle->len == 0 || needle->len > haystack->len)
    return FALSE;
  for (guint i = 0; i + needle->len <= haystack->len; i++)
    if (memcmp (&g_array_index (haystack, gunichar, i), needle->data,
                needle->len * sizeof (gunichar)) == 0)
      return TRUE;
  return FALSE;
}

/* Names longer than this are compared by containment only. */
#define MAX_EDIT_CHARS 64

static guint
edit_distance (const GArray *a,
               const GArray *b)
{
  guint row[MAX_EDIT_CHARS + 1];

  for (guint j = 0; j <= b->len; j++)
    row[j] = j;
  for (guint i = 1; i <= a->len; i++)
    {
      guint diagonal = row[0];

      row[0] = i;
      for (guint j = 1; j <= b->len; j++)
        {
          guint above = row[j];
          guint cost = g_array_index (a, gunichar, i - 1) != g_array_index (b, gunichar, j - 1);

          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diagonal + cost);
          diagonal = above;
        }
    }
  return row[b->len];
}

/* 0 (unrelated) to 100 (the same): containment for names said in part
 * ("editor" for "Text Editor"), edit distance for typos ("firefx"). */
static double
name_score (const GArray *query,
            const char   *candidate)
{
  g_autoptr(GArray) key = NULL;
  guint shortest = key_has_cjk (query) ? 2 : 3;
  guint distance;

  if (!candidate || !*candidate)
    return 0;
  key = match_key (candidate);
  if (key->len == 0)
    return 0;
  if (key->len == query->len && key_contains (key, query))
    return 100;
  if (query->len >= shortest && key_contains (key, query))
    return 70 + 20.0 * query->len / key->len;
  if (key->len >= shortest && key_contains (query, key))
    return 60 + 20.0 * key->len / query->len;
  if (query->len < 4 || query->len > MAX_EDIT_CHARS || key->len > MAX_EDIT_CHARS)
    return 0;
  distance = edit_distance (query, key);
  if (distance > MAX (1u, MIN (query->len, key->len) / 4))
    return 0;
  return 60 - 10.0 * distance;
}

/* The basename of the command, and the id without ".desktop" and without
 * its reverse-DNS prefix ("org.gnome.TextEditor" → "TextEditor"). */
static void
collect_command_names (GAppInfo  *app,
                       GPtrArray *names)
{
  const char *executable = g_app_info_get_executable (app);
  const char *id = g_app_info_get_id (app);

  if (executable)
    g_ptr_array_add (names, g_path_get_basename (executable));
  if (id)
    {
      g_autofree char *bare = g_strdup (id);
      const char *last;

      if (g_str_has_suffix (bare, ".desktop"))
        bare[strlen (bare) - strlen (".desktop")] = '\0';
      last = strrchr (bare, '.');
      g_ptr_array_add (names, g_strdup (last ? last + 1 : bare));
    }
}

static double
app_score (GAppInfo     *app,
           const GArray *query)
{
  g_autoptr(GPtrArray) others = g_ptr_array_new_with_free_func (g_free);
  double best = MAX (name_score (query, g_app_info_get_name (app)),
                     name_score (query, g_app_info_get_display_name (app)));

  collect_command_names (app, others);
  if (G_IS_DESKTOP_APP_INFO (app))
    {
      GDesktopAppInfo *desktop = G_DESKTOP_APP_INFO (app);
      const char * const *keywords = g_desktop_app_info_get_keywords (desktop);

      g_ptr_array_add (others, g_strdup (g_desktop_app_info_get_generic_name (desktop)));
      for (guint i = 0; keywords && keywords[i]; i++)
        g_ptr_array_add (others, g_strdup (keywords[i]));
    }
  /* A match on the name beats the same match on a keyword. */
  for (guint i = 0; i < others->len; i++)
    best = MAX (best, 0.9 * name_score (query, others->pdata[i]));
  return best;
}

/* Below this, "open photoshop" finds nothing rather than something. */
#define MIN_APP_SCORE 45

GAppInfo *
hearken_match_app (GList      *apps,
                   const char *name)
{
  g_autoptr(GArray) query = NULL;
  GAppInfo *best = NULL;
  double best_score = MIN_APP_SCORE;

  g_return_val_if_fail (name != NULL, NULL);

  query = match_key (name);
  if (query->len == 0)
    return NULL;
  for (GList *l = apps; l; l = l->next)
    {
      GAppInfo *app = l->data;
      double score;

      if (!g_app_info_should_show (app))
        continue;
      score = app_score (app, query);
      if (score > best_score)
        {
          best = app;
          best_score = score;
        }
    }
  return best ? g_object_ref (best) : NULL;
}

/* ------------------------------------------------------------- settings */

typedef struct {
  const char *panel;
  const char *words[10];
} PanelWords;

/* First match wins: "wireless network" is wifi, not network. */
static const PanelWords panels[] = {
  { "wifi", { "wifi", "wi-fi", "wlan", "wireless", "无线", NULL } },
  { "network", { "network", "ethernet", "vpn", "proxy", "网络", NULL } },
  { "bluetooth", { "bluetooth", "蓝牙", NULL } },
  { "display", { "display", "displays", "monitor", "screen", "resolution", "显示", "屏幕", "分辨率", NULL } },
  { "sound", { "sound", "audio", "volume", "speaker", "microphone", "声音", "音量", "音频", NULL } },
  { "power", { "power", "battery", "电源", "电池", NULL } },
  { "keyboard", { "keyboard", "shortcut", "shortcuts", "键盘", "快捷键", NULL } },
  { "mouse", { "mouse", "touchpad", "trackpad", "鼠标", "触摸板", NULL } },
  { "background", { "background", "wallpaper", "背景", "壁纸", NULL } },
  { "notifications", { "notification", "notifications", "通知", NULL } },
  { "privacy", { "privacy", "隐私", NULL } },
  { "printers", { "printer", "printers", "打印", NULL } },
  { "users", { "user", "users", "account", "accounts", "用户", "账户", NULL } },
  { "region", { "language", "region", "语言", "区域", NULL } },
};

const char *
hearken_slot_settings_panel (const char *text)
{
  g_autofree char *folded = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  folded = fold_text (text);
  for (gsize i = 0; i < G_N_ELEMENTS (panels); i++)
    for (guint j = 0; panels[i].words[j]; j++)
      {
        const char *word = panels[i].words[j];
        gboolean ascii = g_str_is_ascii (word);

        if (ascii ? contains_word (folded, word) : strstr (folded, word) != NULL)
          return panels[i].panel;
      }
  return NULL;
}
