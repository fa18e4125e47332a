/* bench-matmul — single-threaded speed of hk_cpu_matmul_rows per type.
 *
 *   bench-matmul [--isa scalar|avx2|avx512] [--type NAME]
 *
 * Generation (one token): weights streamed from memory, reported in GB/s
 * of weights read, beside this machine's plain read bandwidth (a summing
 * loop over 1 GiB).  Prompt processing (128 tokens): compute-bound,
 * reported in GFLOP/s (2 · rows · k · tokens per call).  Built, not run, by
 * meson: the figures are for people.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/matmul.h"
#include "quant.h"

static const hk_type bench_types[] = {
    HK_TYPE_F32, HK_TYPE_F16, HK_TYPE_BF16, HK_TYPE_Q8_0, HK_TYPE_Q4_0,
    HK_TYPE_Q5_0, HK_TYPE_Q4_K, HK_TYPE_Q5_K, HK_TYPE_Q6_K,
};

typedef struct shape {
    int64_t rows, k;
} shape;

static const shape shapes[] = { { 2048, 2048 }, { 5632, 2048 } };

#define PROMPT_TOKENS 128
/* Enough copies of a weight matrix that cycling through them always
 * reads from memory, never from the last-level cache. */
#define STREAM_BYTES ((size_t)512 << 20)
#define BANDWIDTH_BYTES ((size_t)1 << 30)
#define MIN_SECONDS 0.4

/* This thread's CPU time: on a shared machine, time other processes
 * take the core from us does not count against the kernel. */
static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_state = 1;

static uint8_t
rng_byte(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint8_t)(rng_state >> 56);
}

/* Random blocks with small, valid scales: speed does not depend on the
 * values, and quantizing real floats would take longer than the bench. */
static void
fill_weights(hk_type type, uint8_t *w, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        w[i] = rng_byte();
    size_t bb = hk_type_block_bytes(type);
    hk_fp16 d = hk_f32_to_fp16(0.001f);
    size_t d_at = type == HK_TYPE_Q6_K ? offsetof(hk_block_q6_K, d) : 0;
    for (size_t off = 0; off < bytes; off += bb) {
        switch (type) {
        case HK_TYPE_F16:
        case HK_TYPE_BF16:
            w[off + 1] &= 0x3f;     /* finite, small */
            break;
        case HK_TYPE_F32:
            if (off % 4 == 0)
                memcpy(w + off, &(float){ 0.01f }, sizeof(float));
            break;
        case HK_TYPE_Q4_K:
        case HK_TYPE_Q5_K:
            memcpy(w + off + 2, &d, sizeof d);
            /* fall through */
        default:
            memcpy(w + off + d_at, &d, sizeof d);
            break;
        }
    }
}

static double
read_bandwidth(void)
{
    size_t n = BANDWIDTH_BYTES / sizeof(uint64_t);
    uint64_t *buf = malloc(BANDWIDTH_BYTES);
    for (size_t i = 0; i < n; i++)
        buf[i] = i;
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t i = 0; i < n; i += 4) {
            s0 += buf[i];
            s1 += buf[i + 1];
            s2 += buf[i + 2];
            s3 += buf[i + 3];
        }
        double gbs = (double)BANDWIDTH_BYTES / (now() - t0) / 1e9;
        if (s0 + s1 + s2 + s3 == 42)    /* keep the sums alive */
            puts("");
        best = gbs > best ? gbs : best;
    }
    free(buf);
    return best;
}

/* Seconds per call, best over repeated timed runs of at least MIN_SECONDS. */
static double
time_matmul(hk_type type, const uint8_t *w, size_t w_bytes, int copies, int64_t rows, int64_t k,
            const void *xq, int64_t n_cols, float *y)
{
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        int calls = 0;
        double t0 = now(), t;
        do {
            const uint8_t *wc = w + (size_t)(calls % copies) * w_bytes;
            hk_cpu_matmul_rows(type, wc, k, 0, rows, xq, n_cols, y, rows);
            calls++;
            t = now() - t0;
        } while (t < MIN_SECONDS);
        best = t / calls < best ? t / calls : best;
    }
    return best;
}

static void
bench_type(hk_type type)
{
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t rows = shapes[s].rows, k = shapes[s].k;
        size_t w_bytes = hk_type_row_bytes(type, (uint64_t)k) * (size_t)rows;
        int copies = (int)(STREAM_BYTES / w_bytes) + 1;
        uint8_t *w = malloc(w_bytes * (size_t)copies);
        fill_weights(type, w, w_bytes);
        for (int c = 1; c < copies; c++)
            memcpy(w + (size_t)c * w_bytes, w, w_bytes);

        size_t xrb = hk_cpu_activation_row_bytes(type, k);
        float *x = malloc((size_t)k * sizeof(float));
        uint8_t *xq = malloc(xrb * PROMPT_TOKENS);
        float *y = malloc((size_t)(rows * PROMPT_TOKENS) * sizeof(float));
        for (int64_t t = 0; t < PROMPT_TOKENS; t++) {
            for (int64_t i = 0; i < k; i++)
                x[i] = (float)((rng_byte() - 128) / 64.0);
            hk_cpu_quantize_activation(type, x, xq + t * xrb, k);
        }

        double gen = time_matmul(type, w, w_bytes, copies, rows, k, xq, 1, y);
        double pp = time_matmul(type, w, w_bytes, 1, rows, k, xq, PROMPT_TOKENS, y);
        printf("%-6s %5lld x %-5lld %8.2f %8.1f %10.1f %10.1f\n", hk_type_name(type),
               (long long)rows, (long long)k, (double)w_bytes / 1e6, gen * 1e6,
               (double)w_bytes / gen / 1e9, 2.0 * rows * k * PROMPT_TOKENS / pp / 1e9);
        free(w);
        free(x);
        free(xq);
        free(y);
    }
}

static int
parse_isa(const char *name, hk_cpu_isa *ret)
{
    for (int i = HK_CPU_ISA_SCALAR; i <= HK_CPU_ISA_AVX512; i++) {
        if (strcmp(name, hk_cpu_isa_name((hk_cpu_isa)i)) == 0) {
            *ret = (hk_cpu_isa)i;
            return 0;
        }
    }
    return -1;
}

int
main(int argc, char **argv)
{
    hk_cpu_isa isa = hk_cpu_isa_detect();
    const char *only = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
            if (parse_isa(argv[++i], &isa) < 0) {
                fprintf(stderr, "bench-matmul: unknown ISA '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else {
            fprintf(stderr, "usage: bench-matmul [--isa scalar|avx2|avx512] [--type NAME]\n");
            return 2;
        }
    }
    if (!hk_cpu_isa_set(isa)) {
        fprintf(stderr, "bench-matmul: this CPU cannot run %s\n", hk_cpu_isa_name(isa));
        return 1;
    }

    double bw = read_bandwidth();
    printf("isa %s, one thread; memory read bandwidth %.1f GB/s\n", hk_cpu_isa_name(isa), bw);
    printf("%-6s %-13s %8s %8s %10s %10s\n", "type", "rows x k", "MB", "gen us",
           "gen GB/s", "pp GFLOP/s");
    for (size_t t = 0; t < sizeof bench_types / sizeof bench_types[0]; t++)
        if (!only || strcmp(only, hk_type_name(bench_types[t])) == 0)
            bench_type(bench_types[t]);
    return 0;
}
