/* vk-intent.h — the intent CNN (intent-ops.h) on Vulkan.
 *
 * Each op of intent-ops.h is a compute shader (shaders/intent_*.comp)
 * recorded with the language model's device, pipelines and recorder: ops
 * add dispatches, nothing runs until hk_vk_intent_sync.  Arrays live in
 * device buffers of 32-bit elements and are named by a span (a buffer and
 * the element the array starts at), so the views of intent-private.h
 * (a width's filters inside the block of dense weights, a width's pooled
 * features) are spans of one buffer.
 *
 * The embedding's backward pass gathers rather than scatters: the host
 * knows which rows each text touches, so it lists, per touched row, the
 * rows of dx that feed it (hk_vk_intent_rows), and one invocation per
 * element of a row gradient sums them in the CPU's order.  No atomics
 * (floats have none on many devices), and the result is deterministic.
 *
 * On top, a model's classify forward in one command buffer, with the
 * weights uploaded once, and a training step (forward, backward and Adam
 * over a batch) in one submission.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "intent-private.h"
#include "vulkan/vk-recorder.h"

typedef struct hk_vk_intent hk_vk_intent;

/* An array on the device: elements off… of mem's buffer. */
typedef struct hk_vk_span {
    hk_vk_mem *mem;
    uint32_t   off;
} hk_vk_span;

/* device < 0: the best-ranked one; allow_cpu as for hk_vk_device_open. */
int  hk_vk_intent_new(int device, bool allow_cpu, hk_vk_intent **ret, hk_error *err);
void hk_vk_intent_free(hk_vk_intent *v);   /* accepts NULL */
const char *hk_vk_intent_description(const hk_vk_intent *v);

/* A device buffer of n 32-bit elements, filled from data (NULL: zeros). */
int  hk_vk_intent_alloc(hk_vk_intent *v, size_t n, const void *data, hk_vk_mem **ret,
                        hk_error *err);
void hk_vk_intent_release(hk_vk_intent *v, hk_vk_mem *m);   /* accepts NULL */
/* dst receives n elements of s once the step has run. */
void hk_vk_intent_read(hk_vk_intent *v, hk_vk_span s, size_t n, void *dst);
/* Run what was recorded: 0, or the first failure since the last sync. */
int  hk_vk_intent_sync(hk_vk_intent *v, hk_error *err);

/* ---------------------------------------------------------------- ops (intent-ops.h) */

void hk_vk_intent_embed_forward(hk_vk_intent *v, hk_vk_span E, uint32_t dim,
                                const hk_intent_features *f, uint32_t pad, hk_vk_span x);
void hk_vk_intent_conv_pool_forward(hk_vk_intent *v, hk_vk_span x, uint32_t n_pos, uint32_t dim,
                                    hk_vk_span W, hk_vk_span b, uint32_t n_filters,
                                    uint32_t width, hk_vk_span pooled, hk_vk_span argmax);
/* dx.mem NULL when the input needs no gradient. */
void hk_vk_intent_conv_pool_backward(hk_vk_intent *v, hk_vk_span dpooled, hk_vk_span argmax,
                                     hk_vk_span x, uint32_t n_pos, uint32_t dim, hk_vk_span W,
                                     uint32_t n_filters, uint32_t width, hk_vk_span dW,
                                     hk_vk_span db, hk_vk_span dx);
/* h (n) *= mask (n): dropout's forward with a mask the host drew, and its backward. */
void hk_vk_intent_mul(hk_vk_intent *v, hk_vk_span mask, uint32_t n, hk_vk_span h);
void hk_vk_intent_dense_forward(hk_vk_intent *v, hk_vk_span W, hk_vk_span b, hk_vk_span h,
                                uint32_t n_in, uint32_t n_out, hk_vk_span logits);
void hk_vk_intent_dense_backward(hk_vk_intent *v, hk_vk_span W, hk_vk_span h, hk_vk_span dlogits,
                                 uint32_t n_in, uint32_t n_out, hk_vk_span dW, hk_vk_span db,
                                 hk_vk_span dh);
void hk_vk_intent_softmax(hk_vk_intent *v, hk_vk_span logits, uint32_t n, hk_vk_span probs);
void hk_vk_intent_softmax_xent_grad(hk_vk_intent *v, hk_vk_span probs, uint32_t n, int label,
                                    float scale, hk_vk_span dlogits);
void hk_vk_intent_adam_dense(hk_vk_intent *v, const hk_intent_adam *a, hk_vk_span param,
                             hk_vk_span grad, hk_vk_span m, hk_vk_span vv, size_t n);

/* The embedding rows a batch touched, in the order first touched (as
 * hk_intent_row_grads has them), and for each the rows of dx it gathers
 * from, with their weights. */
typedef struct hk_vk_intent_rows {
    uint32_t  n_rows;
    uint32_t *rows;       /* (n_rows) bucket ids */
    int32_t  *slot;       /* (n_buckets) index into rows, -1 when untouched */
    size_t    n_entries;
    uint32_t *entries;    /* (n_entries, 3): row slot, dx row, weight bits */
    uint32_t  cap_rows;
    size_t    cap_entries;
} hk_vk_intent_rows;

int  hk_vk_intent_rows_init(hk_vk_intent_rows *g, uint32_t n_buckets);
void hk_vk_intent_rows_reset(hk_vk_intent_rows *g);
void hk_vk_intent_rows_clear(hk_vk_intent_rows *g);
/* The rows text f touches, embedded at dx rows dx_row0 + pad + p; 0 or -ENOMEM. */
int  hk_vk_intent_rows_add(hk_vk_intent_rows *g, const hk_intent_features *f, uint32_t pad,
                           uint32_t dx_row0);

/* grads (g->n_rows, dim) = each touched row's gradient from dx. */
void hk_vk_intent_embed_backward(hk_vk_intent *v, hk_vk_span dx, uint32_t dim,
                                 const hk_vk_intent_rows *g, hk_vk_span grads);
/* Lazy Adam on the rows of E (n_buckets, dim) g touched. */
void hk_vk_intent_adam_rows(hk_vk_intent *v, const hk_intent_adam *a, hk_vk_span E,
                            uint32_t dim, const hk_vk_intent_rows *g, hk_vk_span grads,
                            hk_vk_span m, hk_vk_span vv);

/* ---------------------------------------------------------------- a model */

typedef struct hk_vk_intent_model hk_vk_intent_model;

/* m's weights on the device; m must outlive the result (its
 * hyperparameters and labels are read from it). */
int  hk_vk_intent_model_new(hk_vk_intent *v, const hk_intent_model *m, hk_vk_intent_model **ret,
                            hk_error *err);
void hk_vk_intent_model_free(hk_vk_intent_model *vm);   /* accepts NULL */

/* hk_intent_classify on the device: the forward pass in one submission. */
int  hk_vk_intent_classify(hk_vk_intent_model *vm, const char *text, float *probs,
                           hk_error *err);

/* Training a model on the device: its weights, their gradients and Adam's
 * moments stay there from step to step. */
typedef struct hk_vk_intent_trainer hk_vk_intent_trainer;

/* Steps of up to max_batch examples on m with Adam's settings adam (its t
 * the steps already taken, whose moments start at zero all the same); m
 * must outlive the trainer. */
int  hk_vk_intent_trainer_new(hk_vk_intent *v, hk_intent_model *m, uint32_t max_batch,
                              const hk_intent_adam *adam, hk_vk_intent_trainer **ret,
                              hk_error *err);
void hk_vk_intent_trainer_free(hk_vk_intent_trainer *t);   /* accepts NULL */

/* One Adam step on the mean cross-entropy of the batch, as intent-train.c
 * takes it: the texts as given (typos already added), and each example's
 * dropout mask (n, hk_intent_pooled_size), drawn by the caller with
 * hk_intent_dropout_mask; NULL: no dropout. */
int  hk_vk_intent_train_step(hk_vk_intent_trainer *t, const hk_intent_example *batch, size_t n,
                             const float *masks, hk_error *err);
/* The weights trained so far, into the model. */
int  hk_vk_intent_trainer_download(hk_vk_intent_trainer *t, hk_error *err);
