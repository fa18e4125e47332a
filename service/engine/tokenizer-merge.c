/* tokenizer-merge.c — the merge loop both kinds run on a word: neighbours
 * whose concatenation is a token join, the best pair first, until no pair
 * can.  What "best" means is the kind's: the highest score for
 * SentencePiece, the lowest rank for BPE.  Shaped after llama.cpp's, so
 * ties break the same way (the leftmost pair first). */
#include "tokenizer-private.h"

hk_symbol *
hk_merger_start(hk_merger *m, size_t n)
{
    if (n > m->cap_sym) {
        m->cap_sym = MAX(n, 2 * m->cap_sym);
        m->sym = g_renew(hk_symbol, m->sym, m->cap_sym);
    }
    m->n_sym = n;
    m->n_heap = 0;
    return m->sym;
}

static bool
bigram_before(const hk_bigram *a, const hk_bigram *b)
{
    return a->key < b->key || (a->key == b->key && a->left < b->left);
}

static void
heap_push(hk_merger *m, hk_bigram b)
{
    if (m->n_heap == m->cap_heap) {
        m->cap_heap = MAX(16, 2 * m->cap_heap);
        m->heap = g_renew(hk_bigram, m->heap, m->cap_heap);
    }
    size_t i = m->n_heap++;
    while (i > 0 && bigram_before(&b, &m->heap[(i - 1) / 2])) {
        m->heap[i] = m->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    m->heap[i] = b;
}

static hk_bigram
heap_pop(hk_merger *m)
{
    hk_bigram top = m->heap[0];
    hk_bigram last = m->heap[--m->n_heap];
    size_t i = 0;

    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= m->n_heap)
            break;
        if (child + 1 < m->n_heap && bigram_before(&m->heap[child + 1], &m->heap[child]))
            child++;
        if (!bigram_before(&m->heap[child], &last))
            break;
        m->heap[i] = m->heap[child];
        i = child;
    }
    if (m->n_heap > 0)
        m->heap[i] = last;
    return top;
}

static void
try_pair(hk_merger *m, hk_pair_fn pair, const void *ctx, int32_t left, int32_t right)
{
    hk_bigram b;

    if (left < 0 || right < 0 || !pair(ctx, m->sym, left, right, &b))
        return;
    b.left = left;
    b.right = right;
    b.size = m->sym[left].len + m->sym[right].len;
    heap_push(m, b);
}

void
hk_merger_run(hk_merger *m, hk_pair_fn pair, const void *ctx)
{
    hk_symbol *s = m->sym;
    int32_t n = (int32_t) m->n_sym;

    for (int32_t i = 0; i < n; i++) {
        s[i].prev = i - 1;
        s[i].next = i + 1 < n ? i + 1 : -1;
    }
    for (int32_t i = 1; i < n; i++)
        try_pair(m, pair, ctx, i - 1, i);

    while (m->n_heap > 0) {
        hk_bigram b = heap_pop(m);
        hk_symbol *l = &s[b.left], *r = &s[b.right];
        /* Symbols only grow, so unchanged lengths mean an unchanged pair. */
        if (l->len == 0 || r->len == 0 || l->len + r->len != b.size)
            continue;
        l->len += r->len;
        l->id = b.id;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0)
            s[r->next].prev = b.left;
        try_pair(m, pair, ctx, l->prev, b.left);
        try_pair(m, pair, ctx, b.left, l->next);
    }
}

void
hk_merger_clear(hk_merger *m)
{
    g_free(m->sym);
    g_free(m->heap);
    *m = (hk_merger) { 0 };
}
