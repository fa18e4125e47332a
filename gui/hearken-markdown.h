/* hearken-markdown.h — Markdown (CommonMark, through cmark) to Pango
 * markup, for the labels that show replies.
 *
 * Headings, paragraphs, lists (bullets and numbers), block quotes, code
 * blocks and inline code in monospace, links, emphasis and strong.  Raw
 * HTML is shown as text: a reply is never trusted to be markup.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *hearken_markdown_to_pango (const char *markdown);

G_END_DECLS
