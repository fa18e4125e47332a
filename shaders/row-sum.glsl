/* row-sum.glsl — the matrix × vector kernels' rows shared among TPR
 * invocations: which rows and lane an invocation has (row_lane), and the
 * last step, where the lanes add up their partial sums (row_sum), which
 * lane 0 then holds.
 *
 * Built with ROW_SUM_SUBGROUP (the host takes that form where TPR is the
 * device's subgroup size and the device adds across a subgroup), a row's
 * lanes are one subgroup and add in one instruction; else they are
 * neighbours (lane tid % TPR) and meet in a tree in shared memory, a
 * barrier a level.  The subgroup's size is checked where the shader runs,
 * so a driver that runs another size still gets the tree.
 */
#if defined(ROW_SUM_SUBGROUP)
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

shared float partial[TPR > 1u ? WG * R : 1u];

bool
by_subgroup()
{
#if defined(ROW_SUM_SUBGROUP)
    return TPR > 1u && gl_SubgroupSize == TPR;
#else
    return false;
#endif
}

/* The invocation's lane, and its group of lanes in the workgroup. */
uint
row_lane(uint tid, out uint group)
{
#if defined(ROW_SUM_SUBGROUP)
    if (by_subgroup()) {
        group = gl_SubgroupID;
        return gl_SubgroupInvocationID;
    }
#endif
    group = tid / TPR;
    return tid % TPR;
}

void
row_sum(uint tid, uint lane, inout float acc[R])
{
    if (TPR == 1u)
        return;
#if defined(ROW_SUM_SUBGROUP)
    if (by_subgroup()) {
        [[unroll]] for (uint r = 0u; r < R; r++)
            acc[r] = subgroupAdd(acc[r]);
        return;
    }
#endif
    [[unroll]] for (uint r = 0u; r < R; r++)
        partial[r * WG + tid] = acc[r];
    barrier();
    for (uint s = TPR / 2u; s > 0u; s /= 2u) {
        if (lane < s)
            [[unroll]] for (uint r = 0u; r < R; r++)
                partial[r * WG + tid] += partial[r * WG + tid + s];
        barrier();
    }
    [[unroll]] for (uint r = 0u; r < R; r++)
        acc[r] = partial[r * WG + tid];
    barrier();
}
