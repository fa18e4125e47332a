/* intent.h — the intent model: a small text CNN that says what a person
 * wants ("volume_up", "set_timer", … "chat") from what they typed or said.
 *
 * Text becomes a sequence of positions, each the mean of the embeddings of
 * a few hashed features (a word and its character 3-grams; a CJK character
 * with its neighbours, so Chinese needs no segmenter); convolutions of
 * widths 2, 3 and 4 with ReLU and max pooling over the positions, then a
 * dense layer and a softmax.  The model is a GGUF file
 * (general.architecture = "hearken-intent") that also holds the examples it
 * was trained on, so a fine-tune on a person's corrections can replay them
 * and forget nothing.
 *
 * A model is thread-compatible: one model per thread, or a lock in the
 * caller; hk_intent_classify writes to scratch memory inside the model.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct hk_intent_model hk_intent_model;

typedef struct hk_intent_example {
    const char *text;   /* UTF-8; invalid bytes are skipped */
    int         label;  /* index into the model's labels */
} hk_intent_example;

/* ---------------------------------------------------------------- files */

int  hk_intent_model_load(const char *path, hk_intent_model **ret, hk_error *err);
/* Atomic: writes a temporary file beside path, then renames it over path. */
int  hk_intent_model_save(const hk_intent_model *m, const char *path, hk_error *err);
void hk_intent_model_free(hk_intent_model *m);   /* accepts NULL */

int         hk_intent_model_n_labels(const hk_intent_model *m);
const char *hk_intent_model_label(const hk_intent_model *m, int i);   /* NULL out of range */
int         hk_intent_model_label_index(const hk_intent_model *m, const char *name); /* -1 if unknown */

/* ---------------------------------------------------------------- inference */

/* probs[hk_intent_model_n_labels(m)] receives the softmax over the labels. */
int hk_intent_classify(hk_intent_model *m, const char *text, float *probs, hk_error *err);

/* ---------------------------------------------------------------- training */

typedef struct hk_intent_config {
    uint32_t n_buckets;      /* hashed feature buckets (rows of the embedding) */
    uint32_t dim;            /* embedding size */
    uint32_t n_filters;      /* filters per convolution width */
    uint32_t epochs;
    uint32_t batch_size;
    float    learning_rate;  /* Adam */
    float    dropout;        /* on the pooled features, while training */
    float    typo_rate;      /* letters swapped or dropped in training texts, as people mistype */
    uint32_t average_from;   /* the model is the mean of the weights after each epoch from this one */
    uint64_t seed;           /* initial weights, shuffling, dropout, typos and the feature hash */
    struct hk_vk_intent *device;   /* the Vulkan device the steps run on (vulkan/vk-intent.h),
                                      NULL: the CPU; the same model either way, within rounding */
} hk_intent_config;

/* The defaults the shipped model is trained with. */
void hk_intent_config_init(hk_intent_config *c);

/* Train a model from scratch on examples whose labels index label_names.
 * Deterministic: the same examples, labels and config give the same model. */
int hk_intent_train(const hk_intent_config *c,
                    const char *const *label_names, int n_labels,
                    const hk_intent_example *examples, size_t n_examples,
                    hk_intent_model **ret, hk_error *err);

/* The examples the model was trained on (stored in the file), for replay.
 * The text stays valid while the model lives. */
size_t            hk_intent_model_n_replay(const hk_intent_model *m);
hk_intent_example hk_intent_model_replay(const hk_intent_model *m, size_t i);

/* A few Adam steps on the corrections, each step mixed with replayed
 * training examples so the rest is not forgotten; fast enough to run while
 * the person waits (well under 200 ms).  The corrections are not added to
 * the replay set: the caller keeps its own history of them. */
#define HK_INTENT_FINETUNE_STEPS 3   /* per correction: three corrections teach a phrasing */
int hk_intent_finetune(hk_intent_model *m, const hk_intent_example *corrections, size_t n,
                       int steps, uint64_t seed, hk_error *err);
