/* intent_params.h — the push constants of the intent CNN's shaders
 * (shaders/intent_*.comp), read by the shaders and by
 * service/engine/vulkan/vk-intent.c, as params.h is for the language
 * model's.  Every buffer is bound whole as storage; *_off fields are where
 * an array starts in its buffer, in 32-bit elements.  The ops are those of
 * service/engine/intent-ops.h, with the same shapes. */
#ifndef HK_SHADER_INTENT_PARAMS_H
#define HK_SHADER_INTENT_PARAMS_H

/* the 32-bit types, as params.h names them (whichever comes first) */
#ifndef HK_U32
#ifdef GL_core_profile
#define HK_U32 uint
#define HK_F32 float
#else
#include <stdint.h>
#define HK_U32 uint32_t
#define HK_F32 float
#endif
#endif

/* intent_embed: x (pad + n_pos + pad, dim) = zero rows, the mean of the
 * rows of E that each position's features name, zero rows.  The feature
 * table (uint) holds start (n_pos + 1) at start_off, ids at ids_off.
 * bindings: 0 E, 1 features (the step's upload buffer), 2 x */
struct hk_shader_intent_embed {
    HK_U32 dim;
    HK_U32 n_pos;
    HK_U32 pad;
    HK_U32 start_off;
    HK_U32 ids_off;
    HK_U32 e_off;
    HK_U32 x_off;
};

/* intent_embed_backward: grads (n_rows, dim) = for each touched row, the
 * sum of its entries' weight × a row of dx.  The plan (uint) holds
 * row_start (n_rows + 1) at start_off, then entries as (dx row, weight
 * bits) pairs at entry_off.
 * bindings: 0 dx, 1 plan (the step's upload buffer), 2 grads */
struct hk_shader_intent_embed_backward {
    HK_U32 dim;
    HK_U32 n_rows;
    HK_U32 dx_off;
    HK_U32 start_off;
    HK_U32 entry_off;
    HK_U32 grad_off;
};

/* intent_conv_pool: pooled, argmax (n_filters) = max over the windows of
 * relu(b + W · x[t .. t + width)), argmax -1 when none is positive.
 * intent_conv_backward_w: dW (n_filters, width * dim) and db (n_filters)
 * += the winning window's gradient.
 * intent_conv_backward_x: dx (n_pos, dim) += the gradient of the windows
 * that won, gathered per element.
 * bindings: conv_pool 0 x, 1 W, 2 b, 3 pooled, 4 argmax (int);
 * backward_w 0 dpooled, 1 argmax, 2 x, 3 dW, 4 db;
 * backward_x 0 dpooled, 1 argmax, 2 W, 3 dx */
struct hk_shader_intent_conv {
    HK_U32 n_pos;
    HK_U32 dim;
    HK_U32 n_filters;
    HK_U32 width;
    HK_U32 x_off;          /* x, or dx */
    HK_U32 w_off;          /* W, or dW */
    HK_U32 b_off;          /* b, or db */
    HK_U32 pooled_off;     /* pooled, or dpooled */
    HK_U32 argmax_off;
};

/* intent_dense: y (n_out) = W (n_out, n_in) h + b.
 * intent_dense_backward_w: dW += dy ⊗ h, db += dy.
 * intent_dense_backward_x: dh (n_in) = Wᵀ dy.
 * bindings: dense 0 W, 1 b, 2 h, 3 y; backward_w 0 h, 1 dy, 2 dW, 3 db;
 * backward_x 0 W, 1 dy, 2 dh */
struct hk_shader_intent_dense {
    HK_U32 n_in;
    HK_U32 n_out;
    HK_U32 w_off;          /* W, or dW */
    HK_U32 b_off;          /* b, or db */
    HK_U32 h_off;          /* h, or dh */
    HK_U32 y_off;          /* y, or dy */
};

/* intent_softmax: out (n) = softmax(in).
 * intent_xent_grad: out (n) = scale (in - onehot(label)), in the probs.
 * intent_mul: out (n) *= in (dropout's mask, forward and backward).
 * bindings: 0 in, 1 out */
struct hk_shader_intent_vector {
    HK_U32 n;
    HK_U32 in_off;
    HK_U32 out_off;
    HK_U32 label;
    HK_F32 scale;
};

/* intent_adam_dense: n parameters; intent_adam_rows: the rows (uint) of
 * the table that a batch touched, n = n_rows * dim, grads (n_rows, dim).
 * The moments m and v have the parameters' layout; c1 and c2 are the
 * bias corrections of the step.
 * bindings: 0 param, 1 grad, 2 m, 3 v, 4 rows (adam_rows, the step's
 * upload buffer) */
struct hk_shader_intent_adam {
    HK_U32 n;
    HK_U32 dim;
    HK_U32 p_off;
    HK_U32 g_off;
    HK_U32 rows_off;
    HK_F32 lr;
    HK_F32 beta1;
    HK_F32 beta2;
    HK_F32 eps;
    HK_F32 c1;
    HK_F32 c2;
};

#endif
