/* common.glsl — what every shader starts with (after #version 450): the
 * extensions, the push constant structs and the workgroup size.
 *
 * The workgroup size is specialization constant 0, so the host picks it
 * for the device (a GPU wants more invocations than lavapipe does) without
 * another SPIR-V file; each shader states its own default.
 */
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_control_flow_attributes : enable

#include "params.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

/* The invocation's index in a one-dimensional dispatch, which the host
 * folds into rows of at most 65535 workgroups (the limit every device
 * has). */
uint
global_id()
{
    return (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * WG + gl_LocalInvocationID.x;
}
