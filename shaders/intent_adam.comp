#version 450
/* intent_adam: one Adam step, one invocation per parameter: all of them
 * (intent_adam_dense), or the rows of a table that a batch touched
 * (intent_adam_rows, built with WTYPE_ROWS: lazy Adam, grads packed by row). */
#include "common.glsl"
#include "intent_params.h"

layout(push_constant) uniform Push { hk_shader_intent_adam p; };

layout(binding = 0, std430) buffer Param { float param[]; };
layout(binding = 1, std430) readonly buffer Grad { float grad[]; };
layout(binding = 2, std430) buffer M { float m[]; };
layout(binding = 3, std430) buffer V { float v[]; };
#ifdef WTYPE_ROWS
layout(binding = 4, std430) readonly buffer Rows { uint rows[]; };
#endif

void
main()
{
    uint i = global_id();
    if (i >= p.n)
        return;
#ifdef WTYPE_ROWS
    uint at = p.p_off + rows[p.rows_off + i / p.dim] * p.dim + i % p.dim;
#else
    uint at = p.p_off + i;
#endif
    float g = grad[p.g_off + i];
    m[at] = p.beta1 * m[at] + (1.0 - p.beta1) * g;
    v[at] = p.beta2 * v[at] + (1.0 - p.beta2) * g * g;
    param[at] -= p.lr * (m[at] / p.c1) / (sqrt(v[at] / p.c2) + p.eps);
}
