#include "types.h"

typedef struct type_info {
    const char *name;
    uint32_t    block_elems;
    uint32_t    block_bytes;
    bool        supported;
} type_info;

static const type_info types[HK_TYPE_COUNT] = {
    [HK_TYPE_F32]     = { "f32",     1,       4,   true  },
    [HK_TYPE_F16]     = { "f16",     1,       2,   true  },
    [HK_TYPE_Q4_0]    = { "q4_0",    32,      18,  true  },
    [HK_TYPE_Q4_1]    = { "q4_1",    32,      20,  false },
    [HK_TYPE_Q5_0]    = { "q5_0",    32,      22,  true  },
    [HK_TYPE_Q5_1]    = { "q5_1",    32,      24,  false },
    [HK_TYPE_Q8_0]    = { "q8_0",    32,      34,  true  },
    [HK_TYPE_Q8_1]    = { "q8_1",    32,      36,  false },
    [HK_TYPE_Q2_K]    = { "q2_K",    HK_QK_K, 84,  false },
    [HK_TYPE_Q3_K]    = { "q3_K",    HK_QK_K, 110, false },
    [HK_TYPE_Q4_K]    = { "q4_K",    HK_QK_K, 144, true  },
    [HK_TYPE_Q5_K]    = { "q5_K",    HK_QK_K, 176, true  },
    [HK_TYPE_Q6_K]    = { "q6_K",    HK_QK_K, 210, true  },
    [HK_TYPE_Q8_K]    = { "q8_K",    HK_QK_K, 292, false },
    [HK_TYPE_IQ2_XXS] = { "iq2_xxs", HK_QK_K, 66,  false },
    [HK_TYPE_IQ2_XS]  = { "iq2_xs",  HK_QK_K, 74,  false },
    [HK_TYPE_IQ3_XXS] = { "iq3_xxs", HK_QK_K, 98,  false },
    [HK_TYPE_IQ1_S]   = { "iq1_s",   HK_QK_K, 50,  false },
    [HK_TYPE_IQ4_NL]  = { "iq4_nl",  32,      18,  false },
    [HK_TYPE_IQ3_S]   = { "iq3_s",   HK_QK_K, 110, false },
    [HK_TYPE_IQ2_S]   = { "iq2_s",   HK_QK_K, 82,  false },
    [HK_TYPE_IQ4_XS]  = { "iq4_xs",  HK_QK_K, 136, false },
    [HK_TYPE_I8]      = { "i8",      1,       1,   false },
    [HK_TYPE_I16]     = { "i16",     1,       2,   false },
    [HK_TYPE_I32]     = { "i32",     1,       4,   false },
    [HK_TYPE_I64]     = { "i64",     1,       8,   false },
    [HK_TYPE_F64]     = { "f64",     1,       8,   false },
    [HK_TYPE_IQ1_M]   = { "iq1_m",   HK_QK_K, 56,  false },
    [HK_TYPE_BF16]    = { "bf16",    1,       2,   true  },
    [HK_TYPE_TQ1_0]   = { "tq1_0",   HK_QK_K, 54,  false },
    [HK_TYPE_TQ2_0]   = { "tq2_0",   HK_QK_K, 66,  false },
    [HK_TYPE_MXFP4]   = { "mxfp4",   32,      17,  false },
};

bool
hk_type_is_known(uint32_t id)
{
    return id < HK_TYPE_COUNT && types[id].name != NULL;
}

const char *
hk_type_name(hk_type type)
{
    return hk_type_is_known(type) ? types[type].name : "unknown";
}

size_t
hk_type_block_elems(hk_type type)
{
    return hk_type_is_known(type) ? types[type].block_elems : 0;
}

size_t
hk_type_block_bytes(hk_type type)
{
    return hk_type_is_known(type) ? types[type].block_bytes : 0;
}

size_t
hk_type_row_bytes(hk_type type, uint64_t n)
{
    size_t block = hk_type_block_elems(type);
    if (block == 0 || n % block != 0)
        return 0;
    uint64_t blocks = n / block;
    if (blocks > SIZE_MAX / types[type].block_bytes)
        return 0;
    return (size_t)blocks * types[type].block_bytes;
}

bool
hk_type_is_supported(hk_type type)
{
    return hk_type_is_known(type) && types[type].supported;
}
