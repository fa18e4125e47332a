/* Markdown in replies: what hearken_markdown_to_pango makes of each
 * construct a reply may hold, and that every result is valid Pango markup
 * (a label shows nothing at all for invalid markup). */
#include <pango/pango.h>
#include <string.h>

#include "hk-check.h"
#include "hearken-markdown.h"

typedef struct
{
  const char *markdown;
  const char *markup;
} Case;

static const Case cases[] = {
  { "plain words", "plain words" },
  { "# Title\n\nBody", "<span size=\"x-large\" weight=\"bold\">Title</span>\n\nBody" },
  { "### Small", "<span size=\"medium\" weight=\"bold\">Small</span>" },
  { "*em* and **strong**", "<i>em</i> and <b>strong</b>" },
  { "use `ls -l` here", "use <tt>ls -l</tt> here" },
  { "```\nint x = 1 < 2;\n```", "<tt>int x = 1 &lt; 2;</tt>" },
  { "- one\n- two", "• one\n• two" },
  { "3. three\n4. four", "3. three\n4. four" },
  { "- outer\n  - inner", "• outer\n    • inner" },
  { "[GNOME](https://gnome.org)", "<a href=\"https://gnome.org\">GNOME</a>" },
  { "a <b>raw</b> & tag", "a &lt;b&gt;raw&lt;/b&gt; &amp; tag" },
  { "first\nsecond", "first second" },
  { "one\n\ntwo", "one\n\ntwo" },
  /* a reply cut off while it streams */
  { "**unfinished", "**unfinished" },
  { "```\ncode not closed", "<tt>code not closed</tt>" },
};

START_TEST (test_markdown_construct)
{
  const Case *c = &cases[_i];
  g_autofree char *markup = hearken_markdown_to_pango (c->markdown);
  g_autoptr(GError) error = NULL;

  ck_assert_str_eq (markup, c->markup);
  /* GtkLabel takes <a> itself; Pango does not know it */
  if (strstr (markup, "<a ") == NULL)
    ck_assert_msg (pango_parse_markup (markup, -1, 0, NULL, NULL, NULL, &error),
                 "invalid markup for %s: %s", c->markdown, error ? error->message : "");
}
END_TEST

static Suite *
markdown_suite (void)
{
  Suite *suite = suite_create ("gui-markdown");
  TCase *tc = tcase_create ("markdown");

  tcase_add_loop_test (tc, test_markdown_construct, 0, G_N_ELEMENTS (cases));
  suite_add_tcase (suite, tc);
  return suite;
}

HK_CHECK_MAIN (markdown_suite)
