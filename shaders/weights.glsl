/* weights.glsl — reading weights of every type: one of WTYPE_F32, WTYPE_F16,
 * WTYPE_BF16, WTYPE_Q8_0, WTYPE_Q4_0, WTYPE_Q5_0, WTYPE_Q4_K, WTYPE_Q5_K,
 * WTYPE_Q6_K is defined by the build.
 *
 * The weights are binding 5, a texel buffer of 16-byte quads, laid out as
 * service/engine/vulkan/vk-layout.h says: the blocks are ggml's
 * (service/engine/quant.h), those whose size is not a multiple of 16 bytes
 * rearranged so that every read is a whole, aligned quad.  A row holds k
 * weights; rows are counted from the start of the buffer.
 *
 *   unit32(row, k, u, w)   weights 32u…32u+31 of a row, as 8 vec4
 *                          (k % 32 == 0)
 *   dequant1(row, k, i)    weight i of a row, for any k of the float types
 *   unit32_q8(row, k, u, q, so)
 *                          the same unit of a quantized type as integers,
 *                          for the kernels that multiply bytes (dot8.glsl):
 *                          two uvec4 of 4 signed bytes a word (weights
 *                          4j…4j+3 in word j) and, for its halves of 16
 *                          weights, a scale and an offset: weight i =
 *                          so[i / 16] * q[i] + so[2 + i / 16]; unit32 is
 *                          not made from it: lavapipe ran that form 20%
 *                          slower on q4_0 prompts (measured)
 */

layout(binding = 5) uniform usamplerBuffer W;

uvec4
wq(uint q)
{
    return texelFetch(W, int(q));
}

/* The four nibbles at bit `shift` of each byte of v. */
vec4
nibbles(uint v, uint shift)
{
    v >>= shift;
    return vec4(v & 0xFu, (v >> 8) & 0xFu, (v >> 16) & 0xFu, (v >> 24) & 0xFu);
}

/* The four signed bytes of v. */
vec4
bytes_signed(uint v)
{
    return vec4(int(v << 24) >> 24, int(v << 16) >> 24, int(v << 8) >> 24, int(v) >> 24);
}

/* ------------------------------------------------------------ float types */
#if defined(WTYPE_F32)

void
unit32(uint row, uint k, uint u, out vec4 w[8])
{
    uint q0 = (row * k + 32u * u) / 4u;
    [[unroll]] for (uint j = 0u; j < 8u; j++)
        w[j] = uintBitsToFloat(wq(q0 + j));
}

float
dequant1(uint row, uint k, uint i)
{
    uint e = row * k + i;
    return uintBitsToFloat(wq(e / 4u)[e % 4u]);
}

#elif defined(WTYPE_F16) || defined(WTYPE_BF16)

#if defined(WTYPE_F16)
vec2
pair_of(uint v)
{
    return unpackHalf2x16(v);
}
#else
vec2
pair_of(uint v)
{
    return vec2(uintBitsToFloat(v << 16), uintBitsToFloat(v & 0xFFFF0000u));
}
#endif

void
unit32(uint row, uint k, uint u, out vec4 w[8])
{
    uint q0 = (row * k + 32u * u) / 8u;
    [[unroll]] for (uint j = 0u; j < 4u; j++) {
        uvec4 v = wq(q0 + j);
        w[2u * j] = vec4(pair_of(v.x), pair_of(v.y));
        w[2u * j + 1u] = vec4(pair_of(v.z), pair_of(v.w));
    }
}

float
dequant1(uint row, uint k, uint i)
{
    uint e = row * k + i;
    return pair_of(wq(e / 8u)[e % 8u / 2u])[e % 2u];
}

/* ---------------------------------------------- blocks of 32: d * q */
#elif defined(WTYPE_Q8_0) || defined(WTYPE_Q4_0) || defined(WTYPE_Q5_0)

/* A row: the blocks' quants (2 quads each for q8_0, 1 for the others),
 * then 8 bytes per block (d as f32, q5_0's qh), padded to a quad. */
#if defined(WTYPE_Q8_0)
#define QUANT_QUADS 2u
#else
#define QUANT_QUADS 1u
#endif

uint
row_quads(uint k)
{
    uint blocks = k / 32u;
    return (blocks * (QUANT_QUADS * 16u + 8u) + 15u) / 16u;
}

void
unit32(uint row, uint k, uint u, out vec4 w[8])
{
    uint base = row * row_quads(k);
    uvec4 meta = wq(base + k / 32u * QUANT_QUADS + u / 2u);
    float d = uintBitsToFloat(u % 2u == 0u ? meta.x : meta.z);
#if defined(WTYPE_Q8_0)
    uvec4 a = wq(base + 2u * u), b = wq(base + 2u * u + 1u);
    uint v[8] = uint[8](a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w);
    [[unroll]] for (uint j = 0u; j < 8u; j++)
        w[j] = d * bytes_signed(v[j]);
#else
    /* weight j in the low nibble of byte j, j + 16 in the high one */
    uvec4 q = wq(base + u);
    uint v[4] = uint[4](q.x, q.y, q.z, q.w);
#if defined(WTYPE_Q5_0)
    uint qh = u % 2u == 0u ? meta.y : meta.w;
    [[unroll]] for (uint j = 0u; j < 8u; j++) {
        uint h = qh >> (4u * j);
        vec4 high = vec4(h & 1u, (h >> 1) & 1u, (h >> 2) & 1u, (h >> 3) & 1u) * 16.0;
        w[j] = d * (nibbles(v[j % 4u], j / 4u * 4u) + high - 16.0);
    }
#else
    [[unroll]] for (uint j = 0u; j < 8u; j++)
        w[j] = d * (nibbles(v[j % 4u], j / 4u * 4u) - 8.0);
#endif
#endif
}

void
unit32_q8(uint row, uint k, uint u, out uvec4 q[2], out vec4 so)
{
    uint base = row * row_quads(k);
    uvec4 meta = wq(base + k / 32u * QUANT_QUADS + u / 2u);
    float d = uintBitsToFloat(u % 2u == 0u ? meta.x : meta.z);
#if defined(WTYPE_Q8_0)
    q[0] = wq(base + 2u * u);
    q[1] = wq(base + 2u * u + 1u);
    so = vec4(d, d, 0.0, 0.0);
#else
    uvec4 v = wq(base + u);
    q[0] = v & 0x0F0F0F0Fu;
    q[1] = (v >> 4) & 0x0F0F0F0Fu;
#if defined(WTYPE_Q5_0)
    /* bit j of qh, weight j's fifth, goes to bit 4 of its byte */
    uint qh = u % 2u == 0u ? meta.y : meta.w;
    [[unroll]] for (uint j = 0u; j < 8u; j++) {
        uint h = qh >> (4u * j);
        q[j / 4u][j % 4u] |= ((h & 1u) << 4) | ((h & 2u) << 11) | ((h & 4u) << 18) |
                             ((h & 8u) << 25);
    }
    so = vec4(d, d, -16.0 * d, -16.0 * d);
#else
    so = vec4(d, d, -8.0 * d, -8.0 * d);
#endif
#endif
}

/* ------------------------------------ k-quants: super-blocks of 256 */
#elif defined(WTYPE_Q4_K) || defined(WTYPE_Q5_K)

/* Blocks as ggml has them: quad 0 is d, dmin (f16) and the 12 bytes of
 * scales; q5_K's qh[32] follow; then qs[128]: sub-block j (32 weights) of
 * 64-weight chunk c = j / 2 is the low nibbles of qs[32c…32c+31] for even
 * j, the high ones for odd; q5_K's fifth bit of weight l of sub-block j is
 * bit j of qh[l]. */
#if defined(WTYPE_Q4_K)
#define BLOCK_QUADS 9u
#define QS_QUAD 1u
#else
#define BLOCK_QUADS 11u
#define QS_QUAD 3u
#endif

uint
scale_byte(uvec4 head, uint i)
{
    uint word = i < 4u ? head.y : i < 8u ? head.z : head.w;
    return (word >> (8u * (i % 4u))) & 0xFFu;
}

/* Sub-block j's 6-bit scale and min, packed as ggml packs them. */
vec2
scale_min(uvec4 head, uint j)
{
    if (j < 4u)
        return vec2(scale_byte(head, j) & 63u, scale_byte(head, j + 4u) & 63u);
    uint s = scale_byte(head, j + 4u);
    return vec2((s & 0xFu) | ((scale_byte(head, j - 4u) >> 6) << 4),
                (s >> 4) | ((scale_byte(head, j) >> 6) << 4));
}

void
unit32(uint row, uint k, uint u, out vec4 w[8])
{
    uint base = (row * (k / 256u) + u / 8u) * BLOCK_QUADS, j = u % 8u;
    uvec4 head = wq(base);
    vec2 dm = unpackHalf2x16(head.x);
    vec2 sm = scale_min(head, j);
    float scale = dm.x * sm.x, min = dm.y * sm.y;
    uvec4 a = wq(base + QS_QUAD + j / 2u * 2u), b = wq(base + QS_QUAD + j / 2u * 2u + 1u);
    uint v[8] = uint[8](a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w);
#if defined(WTYPE_Q5_K)
    uvec4 ha = wq(base + 1u), hb = wq(base + 2u);
    uint h[8] = uint[8](ha.x, ha.y, ha.z, ha.w, hb.x, hb.y, hb.z, hb.w);
#endif
    [[unroll]] for (uint i = 0u; i < 8u; i++) {
        vec4 q = nibbles(v[i], (j % 2u) * 4u);
#if defined(WTYPE_Q5_K)
        uint hi = h[i] >> j;
        q += vec4(hi & 1u, (hi >> 8) & 1u, (hi >> 16) & 1u, (hi >> 24) & 1u) * 16.0;
#endif
        w[i] = scale * q - min;
    }
}

void
unit32_q8(uint row, uint k, uint u, out uvec4 q[2], out vec4 so)
{
    uint base = (row * (k / 256u) + u / 8u) * BLOCK_QUADS, j = u % 8u;
    uvec4 head = wq(base);
    vec2 dm = unpackHalf2x16(head.x);
    vec2 sm = scale_min(head, j);
    uint shift = (j % 2u) * 4u;
    q[0] = (wq(base + QS_QUAD + j / 2u * 2u) >> shift) & 0x0F0F0F0Fu;
    q[1] = (wq(base + QS_QUAD + j / 2u * 2u + 1u) >> shift) & 0x0F0F0F0Fu;
#if defined(WTYPE_Q5_K)
    q[0] |= ((wq(base + 1u) >> j) & 0x01010101u) << 4;
    q[1] |= ((wq(base + 2u) >> j) & 0x01010101u) << 4;
#endif
    float scale = dm.x * sm.x, min = dm.y * sm.y;
    so = vec4(scale, scale, -min, -min);
}

#elif defined(WTYPE_Q6_K)

/* Blocks padded to 14 quads: ql[128], qh[64], scales[16] (int8), then d
 * as an f32.  Each half of 128 weights: quarter q (32 weights) takes the
 * nibble q / 2 of ql[l + 32 * (q % 2)] and bits 2q of qh[l], minus 32,
 * times scale[l / 16 + 2q]. */

void
unit32(uint row, uint k, uint u, out vec4 w[8])
{
    uint base = (row * (k / 256u) + u / 8u) * 14u, j = u % 8u;
    uint half_ = j / 4u, quarter = j % 4u;
    uint qlq = base + half_ * 4u + (quarter % 2u) * 2u, qhq = base + 8u + half_ * 2u;
    uvec4 la = wq(qlq), lb = wq(qlq + 1u), ha = wq(qhq), hb = wq(qhq + 1u);
    uvec4 sc = wq(base + 12u);
    float d = uintBitsToFloat(wq(base + 13u).x);
    uint l[8] = uint[8](la.x, la.y, la.z, la.w, lb.x, lb.y, lb.z, lb.w);
    uint h[8] = uint[8](ha.x, ha.y, ha.z, ha.w, hb.x, hb.y, hb.z, hb.w);
    /* scales s and s + 1: weights 0…15 and 16…31 of the unit */
    uint s = half_ * 8u + 2u * quarter;
    uint sword = sc[s / 4u];
    float s0 = d * float(int(sword << (24u - 8u * (s % 4u))) >> 24);
    float s1 = d * float(int(sword << (16u - 8u * (s % 4u))) >> 24);
    [[unroll]] for (uint i = 0u; i < 8u; i++) {
        uint hi = h[i] >> (2u * quarter);
        vec4 q = nibbles(l[i], quarter / 2u * 4u) +
                 vec4(hi & 3u, (hi >> 8) & 3u, (hi >> 16) & 3u, (hi >> 24) & 3u) * 16.0;
        w[i] = (i < 4u ? s0 : s1) * (q - 32.0);
    }
}

void
unit32_q8(uint row, uint k, uint u, out uvec4 q[2], out vec4 so)
{
    uint base = (row * (k / 256u) + u / 8u) * 14u, j = u % 8u;
    uint half_ = j / 4u, quarter = j % 4u;
    uint qlq = base + half_ * 4u + (quarter % 2u) * 2u, qhq = base + 8u + half_ * 2u;
    uint lshift = quarter / 2u * 4u, hshift = 2u * quarter;
    q[0] = ((wq(qlq) >> lshift) & 0x0F0F0F0Fu) | (((wq(qhq) >> hshift) & 0x03030303u) << 4);
    q[1] = ((wq(qlq + 1u) >> lshift) & 0x0F0F0F0Fu) |
           (((wq(qhq + 1u) >> hshift) & 0x03030303u) << 4);
    uvec4 sc = wq(base + 12u);
    float d = uintBitsToFloat(wq(base + 13u).x);
    uint s = half_ * 8u + 2u * quarter;
    uint sword = sc[s / 4u];
    float s0 = d * float(int(sword << (24u - 8u * (s % 4u))) >> 24);
    float s1 = d * float(int(sword << (16u - 8u * (s % 4u))) >> 24);
    so = vec4(s0, s1, -32.0 * s0, -32.0 * s1);
}

#else
#error "define one WTYPE_*"
#endif

#if !defined(WTYPE_F32) && !defined(WTYPE_F16) && !defined(WTYPE_BF16)
/* Quantized rows are whole units: never a weight at a time. */
float
dequant1(uint row, uint k, uint i)
{
    vec4 w[8];
    unit32(row, k, i / 32u, w);
    return w[i % 32u / 4u][i % 4u];
}
#endif
