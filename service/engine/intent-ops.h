/* intent-ops.h — the operations of the intent CNN, forward and backward,
 * on the CPU.
 *
 * Each is a plain function over float arrays whose shapes the comment
 * gives (row-major, the last index fastest), so another backend can
 * implement the same list.  The model (intent.c) and the training loop
 * (intent-train.c) are written over these and nothing else.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "intent-features.h"

/* Gradients of the embedding rows one batch touched: a dense gradient of
 * the whole table would cost more than the rest of a training step. */
typedef struct hk_intent_row_grads {
    uint32_t  dim;
    uint32_t  n_rows;    /* rows touched so far */
    uint32_t *rows;      /* (n_rows) bucket ids, in the order first touched */
    float    *grads;     /* (n_rows, dim) */
    int32_t  *slot;      /* (n_buckets) index into rows, -1 when untouched */
    uint32_t  cap_rows;
} hk_intent_row_grads;

int  hk_intent_row_grads_init(hk_intent_row_grads *g, uint32_t n_buckets, uint32_t dim);
/* Forget the rows touched, keep the memory. */
void hk_intent_row_grads_reset(hk_intent_row_grads *g);
void hk_intent_row_grads_clear(hk_intent_row_grads *g);

/* x (pad + n_positions + pad, dim): pad zero rows, then for each position
 * the mean of the rows of E (n_buckets, dim) its features name, then pad
 * zero rows. */
void hk_intent_embed_forward(const float *E, uint32_t dim, const hk_intent_features *f,
                             uint32_t pad, float *x);
/* Adds dx (same layout as x) back to the touched rows of E; -ENOMEM possible. */
int  hk_intent_embed_backward(const float *dx, const hk_intent_features *f, uint32_t pad,
                              hk_intent_row_grads *g);

/* One convolution width: pre[t, k] = b[k] + W[k] · x[t .. t+width) for
 * t < n_pos - width + 1, then ReLU and max over t:
 *     pooled (n_filters) = max_t relu(pre[t, k]);  argmax (n_filters) = t, or -1
 * when no window is positive (pooled 0, no gradient).
 * W (n_filters, width * dim), b (n_filters), x (n_pos, dim), n_pos >= width.
 * The hot spot of the model: n_pos * width * dim * n_filters multiply-adds. */
void hk_intent_conv_pool_forward(const float *x, uint32_t n_pos, uint32_t dim,
                                 const float *W, const float *b, uint32_t n_filters, uint32_t width,
                                 float *pooled, int32_t *argmax);
/* Only the window that won each filter's max gets a gradient:
 *     dW[k] += dpooled[k] x[t_k ..];  db[k] += dpooled[k];  dx[t_k ..] += dpooled[k] W[k]
 * dx may be NULL when the input needs no gradient. */
void hk_intent_conv_pool_backward(const float *dpooled, const int32_t *argmax,
                                  const float *x, uint32_t dim,
                                  const float *W, uint32_t n_filters, uint32_t width,
                                  float *dW, float *db, float *dx);

/* Inverted dropout: h (n) *= mask, mask[i] = 0 with probability p, else
 * 1 / (1 - p); the backward pass multiplies by the same mask. *rng is a
 * splitmix64 state; drawing the mask alone takes the same draws. */
void hk_intent_dropout_mask(uint32_t n, float p, uint64_t *rng, float *mask);
void hk_intent_dropout_forward(float *h, uint32_t n, float p, uint64_t *rng, float *mask);
void hk_intent_dropout_backward(float *dh, const float *mask, uint32_t n);

/* logits (n_out) = W (n_out, n_in) h (n_in) + b (n_out) */
void hk_intent_dense_forward(const float *W, const float *b, const float *h,
                             uint32_t n_in, uint32_t n_out, float *logits);
/* dW += dlogits ⊗ h;  db += dlogits;  dh = Wᵀ dlogits */
void hk_intent_dense_backward(const float *W, const float *h, const float *dlogits,
                              uint32_t n_in, uint32_t n_out, float *dW, float *db, float *dh);

/* probs (n) = softmax(logits) */
void hk_intent_softmax(const float *logits, uint32_t n, float *probs);
/* The gradient of the cross-entropy -log probs[label] with respect to the
 * logits, scaled by scale (1 / batch size): dlogits (n) = scale (probs -
 * onehot(label)). */
void hk_intent_softmax_xent_grad(const float *probs, uint32_t n, int label, float scale, float *dlogits);

/* Adam with bias correction for step t (from 1), on n parameters. */
typedef struct hk_intent_adam {
    float    lr, beta1, beta2, eps;
    uint32_t t;
} hk_intent_adam;

void hk_intent_adam_dense(const hk_intent_adam *a, float *param, const float *grad,
                          float *m, float *v, size_t n);
/* Lazy ("sparse") Adam: only the rows the batch touched move; their
 * moments live in the (n_buckets, dim) tables m and v. */
void hk_intent_adam_rows(const hk_intent_adam *a, float *E, const hk_intent_row_grads *g,
                         float *m, float *v);

/* splitmix64: deterministic everywhere, for shuffling, dropout and init. */
uint64_t hk_intent_rng_next(uint64_t *state);
/* Uniform in [0, 1). */
float    hk_intent_rng_float(uint64_t *state);
