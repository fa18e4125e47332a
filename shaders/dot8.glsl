/* dot8.glsl — a unit of 32 quantized weights (weights.glsl unit32_q8)
 * times a block of 32 activations quantized to bytes (quantize_q8.comp),
 * four byte products at a time in the device's integer dot product
 * (SPV_KHR_integer_dot_product, declared here as the glslc of Debian 12
 * has no GLSL name for it).
 *
 * With weight i = s[i / 16] * q[i] + o[i / 16] and x[i] = d * a[i]:
 *   w · x = d * Σ_halves (s * Σ q a + o * Σ a)
 * where Σ a is the block's own sum per half, kept beside its bytes.
 *
 * The blocks are binding 6, a texel buffer of 16-byte quads.
 */
#extension GL_EXT_spirv_intrinsics : require

layout(binding = 6) uniform usamplerBuffer XQ;

/* OpSDotKHR (4450) on packed 4 x 8-bit operands (capabilities
 * DotProductKHR 6019, DotProductInput4x8BitPackedKHR 6018; format 0:
 * PackedVectorFormat4x8Bit). */
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018],
                  id = 4450)
int sdot4x8(uint a, uint b, spirv_literal int packed_format);

/* Block b of the quantized activations: its bytes, and (d, Σ a of each
 * half). */
void
x8_block(uint b, out uvec4 a[2], out vec3 meta)
{
    a[0] = texelFetch(XQ, int(3u * b));
    a[1] = texelFetch(XQ, int(3u * b + 1u));
    uvec4 m = texelFetch(XQ, int(3u * b + 2u));
    meta = vec3(uintBitsToFloat(m.x), float(int(m.y)), float(int(m.z)));
}

/* Σ q a of a half: four words of four bytes each */
int
dot_half(uvec4 q, uvec4 a)
{
    return sdot4x8(q.x, a.x, 0) + sdot4x8(q.y, a.y, 0) + sdot4x8(q.z, a.z, 0) +
           sdot4x8(q.w, a.w, 0);
}

float
dot_unit8(const uvec4 q[2], vec4 so, const uvec4 a[2], vec3 meta)
{
    float lo = float(dot_half(q[0], a[0])), hi = float(dot_half(q[1], a[1]));
    return meta.x * (so.x * lo + so.y * hi + so.z * meta.y + so.w * meta.z);
}
