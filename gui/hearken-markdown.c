/* hearken-markdown.c — see hearken-markdown.h. */
#include "hearken-markdown.h"

#include <string.h>

#include <cmark.h>

typedef struct
{
  GString *out;
  /* Per open list, the number of the next item (0 for bullets). */
  GArray  *list_numbers;
} Renderer;

static void
append_escaped (Renderer   *r,
                const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text ? text : "", -1);

  g_string_append (r->out, escaped);
}

/* Blocks are separated by one empty line, except inside tight lists. */
static void
start_block (Renderer *r)
{
  if (r->out->len == 0)
    return;
  if (r->out->str[r->out->len - 1] != '\n')
    g_string_append_c (r->out, '\n');
  if (r->list_numbers->len == 0)
    g_string_append_c (r->out, '\n');
}

static void
start_item (Renderer *r)
{
  int *number = &g_array_index (r->list_numbers, int, r->list_numbers->len - 1);

  if (r->out->len > 0 && r->out->str[r->out->len - 1] != '\n')
    g_string_append_c (r->out, '\n');
  for (guint i = 1; i < r->list_numbers->len; i++)
    g_string_append (r->out, "    ");
  if (*number > 0)
    g_string_append_printf (r->out, "%d. ", (*number)++);
  else
    g_string_append (r->out, "• ");
}

static void
render_heading (Renderer *r,
                int       level,
                gboolean  entering)
{
  static const char *const sizes[] = { "x-large", "large", "medium" };

  if (entering)
    {
      start_block (r);
      g_string_append_printf (r->out, "<span size=\"%s\" weight=\"bold\">",
                              sizes[CLAMP (level, 1, 3) - 1]);
    }
  else
    g_string_append (r->out, "</span>");
}

static void
render_code_block (Renderer   *r,
                   cmark_node *node)
{
  g_autofree char *code = g_strdup (cmark_node_get_literal (node));

  g_strchomp (code);
  start_block (r);
  g_string_append (r->out, "<tt>");
  append_escaped (r, code);
  g_string_append (r->out, "</tt>");
}

static void
render_link (Renderer   *r,
             cmark_node *node,
             gboolean    entering)
{
  if (entering)
    {
      g_autofree char *url = g_markup_escape_text (cmark_node_get_url (node), -1);

      g_string_append_printf (r->out, "<a href=\"%s\">", url);
    }
  else
    g_string_append (r->out, "</a>");
}

static void
render_node (Renderer        *r,
             cmark_node      *node,
             cmark_event_type event)
{
  gboolean entering = event == CMARK_EVENT_ENTER;

  switch (cmark_node_get_type (node))
    {
    case CMARK_NODE_PARAGRAPH:
      if (entering && cmark_node_get_type (cmark_node_parent (node)) != CMARK_NODE_ITEM)
        start_block (r);
      break;
    case CMARK_NODE_HEADING:
      render_heading (r, cmark_node_get_heading_level (node), entering);
      break;
    case CMARK_NODE_LIST:
      if (entering)
        {
          int first = cmark_node_get_list_type (node) == CMARK_ORDERED_LIST
                        ? MAX (cmark_node_get_list_start (node), 1) : 0;

          start_block (r);
          g_array_append_val (r->list_numbers, first);
        }
      else
        g_array_set_size (r->list_numbers, r->list_numbers->len - 1);
      break;
    case CMARK_NODE_ITEM:
      if (entering)
        start_item (r);
      break;
    case CMARK_NODE_BLOCK_QUOTE:
      if (entering)
        {
          start_block (r);
          g_string_append (r->out, "<i>");
        }
      else
        g_string_append (r->out, "</i>");
      break;
    case CMARK_NODE_CODE_BLOCK:
      render_code_block (r, node);
      break;
    case CMARK_NODE_HTML_BLOCK:
      start_block (r);
      append_escaped (r, cmark_node_get_literal (node));
      break;
    case CMARK_NODE_THEMATIC_BREAK:
      start_block (r);
      g_string_append (r->out, "―――");
      break;
    case CMARK_NODE_TEXT:
    case CMARK_NODE_HTML_INLINE:
      append_escaped (r, cmark_node_get_literal (node));
      break;
    case CMARK_NODE_CODE:
      g_string_append (r->out, "<tt>");
      append_escaped (r, cmark_node_get_literal (node));
      g_string_append (r->out, "</tt>");
      break;
    case CMARK_NODE_SOFTBREAK:
      g_string_append_c (r->out, ' ');
      break;
    case CMARK_NODE_LINEBREAK:
      g_string_append_c (r->out, '\n');
      break;
    case CMARK_NODE_EMPH:
      g_string_append (r->out, entering ? "<i>" : "</i>");
      break;
    case CMARK_NODE_STRONG:
      g_string_append (r->out, entering ? "<b>" : "</b>");
      break;
    case CMARK_NODE_LINK:
    case CMARK_NODE_IMAGE:
      render_link (r, node, entering);
      break;
    default:
      break;
    }
}

/**
 * hearken_markdown_to_pango:
 * @markdown: UTF-8 Markdown, possibly cut off mid-way (a streaming reply)
 *
 * Returns: (transfer full): Pango markup for a #GtkLabel
 */
char *
hearken_markdown_to_pango (const char *markdown)
{
  Renderer r = { g_string_new (NULL), g_array_new (FALSE, FALSE, sizeof (int)) };
  cmark_node *document;
  cmark_iter *iter;
  cmark_event_type event;

  g_return_val_if_fail (markdown != NULL, NULL);

  document = cmark_parse_document (markdown, strlen (markdown), CMARK_OPT_DEFAULT);
  iter = cmark_iter_new (document);
  while ((event = cmark_iter_next (iter)) != CMARK_EVENT_DONE)
    render_node (&r, cmark_iter_get_node (iter), event);
  cmark_iter_free (iter);
  cmark_node_free (document);
  g_array_unref (r.list_numbers);
  return g_string_free (r.out, FALSE);
}
