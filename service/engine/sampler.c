/* sampler.c — the next token from the logits.
 *
 * The steps, in llama.cpp's order: repetition, frequency and presence
 * penalties over the last repeat_last_n accepted tokens; then greedy, or
 * top-k, top-p and min-p on the model's own distribution, temperature on
 * what survives, and a draw from a seeded xoshiro256**.
 *
 * Called once per generated token over the whole vocabulary (150k for
 * Qwen), so nothing sorts it: top-k keeps a heap of k in one read of the
 * logits, top-p is a quickselect by probability mass, O(n) on average, and
 * the draw needs no order.
 */
#include "sampler.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Longest penalty window; the window is sorted on every draw. */
#define HK_SAMPLER_MAX_WINDOW 65536

void
hk_sampler_params_init(hk_sampler_params *p)
{
    *p = (hk_sampler_params) {
        .temperature = 0.8f,
        .top_k = 40,
        .top_p = 0.95f,
        .min_p = 0.05f,
        .repeat_penalty = 1.0f,
        .repeat_last_n = 64,
        .frequency_penalty = 0.0f,
        .presence_penalty = 0.0f,
        .seed = 0,
    };
}

/* ------------------------------------------------------------------- random */

typedef struct hk_rng {
    uint64_t s[4];
} hk_rng;

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* splitmix64 spreads any seed, 0 included, over the whole state. */
static void
rng_seed(hk_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna). */
static uint64_t
rng_next(hk_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1), from the 53 high bits. */
static double
rng_uniform(hk_rng *r)
{
    return (double) (rng_next(r) >> 11) * 0x1.0p-53;
}

/* --------------------------------------------------------------- candidates */

typedef struct hk_candidate {
    int32_t id;
    float   logit;     /* after the penalties */
    float   weight;    /* unnormalised probability, once a step needs it */
} hk_candidate;

struct hk_sampler {
    hk_sampler_params p;
    uint32_t n_vocab;
    hk_rng   rng;
    size_t   window;         /* repeat_last_n, bounded */
    int32_t *recent;         /* (window) ring of the last accepted tokens */
    size_t   n_recent;       /* how much of the ring is filled */
    size_t   next_recent;    /* where the next accepted token goes */
    int32_t *sorted_recent;  /* (window) scratch: recent, sorted to count */
    float   *logits;         /* (n_vocab) scratch: cleaned and penalised */
    hk_candidate *cand;      /* (n_vocab) scratch: the surviving candidates */
};

/* The order every step agrees on: higher logit first, then lower id, so
 * that ties resolve the same way whatever the algorithm. */
static bool
better(hk_candidate a, hk_candidate b)
{
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

static void
swap(hk_candidate *a, hk_candidate *b)
{
    hk_candidate t = *a;
    *a = *b;
    *b = t;
}

/* NaN becomes -inf and +inf the largest float, so softmax stays finite. */
static void
load_logits(hk_sampler *s, const float *logits)
{
    for (uint32_t i = 0; i < s->n_vocab; i++) {
        float l = isnan(logits[i]) ? -INFINITY : logits[i];
        s->logits[i] = l > FLT_MAX ? FLT_MAX : l;
    }
}

static int
compare_ids(const void *a, const void *b)
{
    int32_t x = *(const int32_t *) a, y = *(const int32_t *) b;
    return (x > y) - (x < y);
}

/* llama.cpp's repetition penalty (a seen token's positive logit divided,
 * a negative one multiplied) and OpenAI's frequency and presence
 * penalties, by each token's count in the window. */
static void
apply_penalties(hk_sampler *s)
{
    const hk_sampler_params *p = &s->p;
    size_t n = s->n_recent;
    int32_t *ids = s->sorted_recent;

    if (n == 0 || (p->repeat_penalty == 1.0f && p->frequency_penalty == 0.0f
                   && p->presence_penalty == 0.0f))
        return;
    memcpy(ids, s->recent, n * sizeof *ids);
    qsort(ids, n, sizeof *ids, compare_ids);

    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && ids[j] == ids[i]; j++)
            ;
        if (ids[i] < 0 || (uint32_t) ids[i] >= s->n_vocab)
            continue;
        float *l = &s->logits[ids[i]];
        *l = *l <= 0.0f ? *l * p->repeat_penalty : *l / p->repeat_penalty;
        *l -= (float) (j - i) * p->frequency_penalty + p->presence_penalty;
    }
}

/* Ties go to the lowest id: only a strictly larger logit wins.  The best
 * value stays in a register; reading logits[best] back each time made
 * every step wait for the last. */
static int32_t
argmax(const float *logits, uint32_t n)
{
    uint32_t best = 0;
    float best_logit = logits[0];
    for (uint32_t i = 1; i < n; i++) {
        if (logits[i] > best_logit) {
            best_logit = logits[i];
            best = i;
        }
    }
    return (int32_t) best;
}

static size_t
all_candidates(const float *logits, uint32_t n, hk_candidate *c)
{
    for (uint32_t i = 0; i < n; i++)
        c[i] = (hk_candidate) { .id = (int32_t) i, .logit = logits[i] };
    return n;
}

/* Restores the heap below i: c[0] is the worst of c[0, k). */
static void
sift_down(hk_candidate *c, size_t k, size_t i)
{
    for (;;) {
        size_t worst = i, l = 2 * i + 1, r = l + 1;
        if (l < k && better(c[worst], c[l]))
            worst = l;
        if (r < k && better(c[worst], c[r]))
            worst = r;
        if (worst == i)
            return;
        swap(&c[i], &c[worst]);
        i = worst;
    }
}

/* The k best logits as candidates c[0, k), in no order, in one read of the
 * logits: most fail a single comparison with the worst one kept.  A later
 * id never wins a tie, so "larger" is enough to replace it. */
static size_t
top_k_candidates(const float *logits, uint32_t n, size_t k, hk_candidate *c)
{
    all_candidates(logits, (uint32_t) k, c);
    for (size_t i = k / 2; i-- > 0;)
        sift_down(c, k, i);
    for (uint32_t i = (uint32_t) k; i < n; i++) {
        if (logits[i] > c[0].logit) {
            c[0] = (hk_candidate) { .id = (int32_t) i, .logit = logits[i] };
            sift_down(c, k, 0);
        }
    }
    return k;
}

static size_t
best_candidate(const hk_candidate *c, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++) {
        if (better(c[i], c[best]))
            best = i;
    }
    return best;
}

/* ------------------------------------------------------------------ filters */

/* Lomuto partition of c[lo, hi) around the median of three; returns where
 * the pivot lands: better ones before it, worse ones after. */
static size_t
partition(hk_candidate *c, size_t lo, size_t hi)
{
    size_t mid = lo + (hi - lo) / 2, last = hi - 1;

    if (better(c[mid], c[lo]))
        swap(&c[mid], &c[lo]);
    if (better(c[last], c[lo]))
        swap(&c[last], &c[lo]);
    if (better(c[mid], c[last]))
        swap(&c[mid], &c[last]);

    size_t store = lo;
    for (size_t i = lo; i < last; i++) {
        if (better(c[i], c[last]))
            swap(&c[i], &c[store++]);
    }
    swap(&c[store], &c[last]);
    return store;
}

/* Quickselect by weight: the fewest best of c[0, n) whose weights add up
 * to want, moved to the front in no order; returns how many.  O(n) on
 * average, where sorting would be O(n log n). */
static size_t
select_mass(hk_candidate *c, size_t n, double want)
{
    size_t lo = 0, hi = n;
    double ahead = 0.0;     /* the weight of c[0, lo), all better than c[lo, hi) */

    while (lo < hi) {
        size_t p = partition(c, lo, hi);
        double left = 0.0;
        for (size_t i = lo; i < p; i++)
            left += c[i].weight;
        if (ahead + left >= want) {
            hi = p;
            continue;
        }
        ahead += left + c[p].weight;
        if (ahead >= want)
            return p + 1;
        lo = p + 1;
    }
    return lo > 0 ? lo : 1;
}

/* The fewest best tokens whose probabilities add up to top_p. */
static size_t
keep_top_p(hk_candidate *c, size_t n, float top_p, float max)
{
    if (!(top_p < 1.0f) || n <= 1)
        return n;

    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        c[i].weight = expf(c[i].logit - max);
        total += c[i].weight;
    }
    return select_mass(c, n, (double) top_p * total);
}

/* Tokens at least min_p times as likely as the best one. */
static size_t
keep_min_p(hk_candidate *c, size_t n, float min_p, float max)
{
    if (!(min_p > 0.0f))
        return n;

    float floor_logit = max + logf(min_p < 1.0f ? min_p : 1.0f);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i].logit >= floor_logit)
            c[kept++] = c[i];
    }
    return kept;
}

/* softmax(logit / temperature) over c[0, n), then one draw. */
static int32_t
draw(hk_sampler *s, hk_candidate *c, size_t n, float temperature, float max)
{
    double total = 0.0;

    for (size_t i = 0; i < n; i++) {
        c[i].weight = expf((c[i].logit - max) / temperature);
        total += c[i].weight;
    }
    double u = rng_uniform(&s->rng) * total;
    for (size_t i = 0; i < n; i++) {
        u -= c[i].weight;
        if (u < 0.0)
            return c[i].id;
    }
    return c[n - 1].id;   /* rounding left u a hair above zero */
}

int32_t
hk_sampler_sample(hk_sampler *s, const float *logits)
{
    const hk_sampler_params *p = &s->p;
    hk_candidate *c = s->cand;
    size_t n;

    load_logits(s, logits);
    apply_penalties(s);
    if (!(p->temperature > 0.0f))
        return argmax(s->logits, s->n_vocab);

    if (p->top_k > 0 && (uint32_t) p->top_k < s->n_vocab)
        n = top_k_candidates(s->logits, s->n_vocab, (size_t) p->top_k, c);
    else
        n = all_candidates(s->logits, s->n_vocab, c);

    /* Each filter keeps the best candidate, so its logit stays the maximum. */
    hk_candidate best = c[best_candidate(c, n)];
    if (best.logit == -INFINITY)
        return best.id;     /* nothing to weigh: the lowest id, as greedy */
    n = keep_top_p(c, n, p->top_p, best.logit);
    n = keep_min_p(c, n, p->min_p, best.logit);
    return draw(s, c, n, p->temperature, best.logit);
}

/* -------------------------------------------------------------- life cycle */

hk_sampler *
hk_sampler_new(const hk_sampler_params *p, uint32_t n_vocab)
{
    hk_sampler *s;

    if (n_vocab == 0 || n_vocab > INT32_MAX)
        return NULL;
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (p)
        s->p = *p;
    else
        hk_sampler_params_init(&s->p);
    /* A penalty that is not positive would flip or blow up logits. */
    if (!(s->p.repeat_penalty > 0.0f))
        s->p.repeat_penalty = 1.0f;
    s->n_vocab = n_vocab;
    s->window = s->p.repeat_last_n > 0 ? (size_t) s->p.repeat_last_n : 0;
    if (s->window > HK_SAMPLER_MAX_WINDOW)
        s->window = HK_SAMPLER_MAX_WINDOW;

    s->logits = malloc(n_vocab * sizeof *s->logits);
    s->cand = malloc(n_vocab * sizeof *s->cand);
    s->recent = malloc((s->window + 1) * sizeof *s->recent);
    s->sorted_recent = malloc((s->window + 1) * sizeof *s->sorted_recent);
    if (!s->logits || !s->cand || !s->recent || !s->sorted_recent) {
        hk_sampler_free(s);
        return NULL;
    }
    hk_sampler_reset(s);
    return s;
}

void
hk_sampler_free(hk_sampler *s)
{
    if (!s)
        return;
    free(s->logits);
    free(s->cand);
    free(s->recent);
    free(s->sorted_recent);
    free(s);
}

void
hk_sampler_reset(hk_sampler *s)
{
    s->n_recent = 0;
    s->next_recent = 0;
    rng_seed(&s->rng, s->p.seed);
}

void
hk_sampler_accept(hk_sampler *s, int32_t token)
{
    if (s->window == 0)
        return;
    s->recent[s->next_recent] = token;
    s->next_recent = (s->next_recent + 1) % s->window;
    if (s->n_recent < s->window)
        s->n_recent++;
}
