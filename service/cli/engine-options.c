/* engine-options.c — shared options and model loading for the commands
 * that run a model. */
#include "engine-options.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "backend-failover.h"

void
engine_error(const char *fmt, ...)
{
    va_list ap;
    fputs("hearken-engine: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

double
engine_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool
bad_value(const engine_options *o, const char *name, const char *arg, const char *why)
{
    engine_error("%s: %s '%s' %s", o->command, name, arg, why);
    return false;
}

bool
engine_parse_u64(const engine_options *o, const char *name, const char *arg, uint64_t *ret)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-')
        return bad_value(o, name, arg, "is not a whole number");
    *ret = v;
    return true;
}

bool
engine_parse_u32(const engine_options *o, const char *name, const char *arg,
                 uint32_t min, uint32_t max, uint32_t *ret)
{
    uint64_t v;
    if (!engine_parse_u64(o, name, arg, &v))
        return false;
    if (v < min || v > max) {
        char range[64];
        snprintf(range, sizeof range, "is out of range (%u…%u)", min, max);
        return bad_value(o, name, arg, range);
    }
    *ret = (uint32_t)v;
    return true;
}

bool
engine_parse_float(const engine_options *o, const char *name, const char *arg,
                   float min, float max, float *ret)
{
    char *end;
    errno = 0;
    float v = strtof(arg, &end);
    if (errno != 0 || end == arg || *end != '\0' || !isfinite(v))
        return bad_value(o, name, arg, "is not a number");
    if (v < min || v > max) {
        char range[64];
        snprintf(range, sizeof range, "is out of range (%g…%g)", min, max);
        return bad_value(o, name, arg, range);
    }
    *ret = v;
    return true;
}

int
engine_options_parse(engine_options *o, int opt, const char *arg)
{
    uint32_t v;
    switch (opt) {
    case 'm':
        o->model_path = arg;
        return 1;
    case 't':
        if (!engine_parse_u32(o, "-t", arg, 1, 1024, &v))
            return -1;
        o->n_threads = (int)v;
        return 1;
    case 'c':
        if (!engine_parse_u32(o, "-c", arg, 1, 1u << 20, &v))
            return -1;
        o->n_ctx = v;
        return 1;
    case ENGINE_OPT_BACKEND:
        if (!hk_backend_name_is_valid(arg)) {
            bad_value(o, "--backend", arg, "is not auto, vulkan or cpu");
            return -1;
        }
        o->backend = arg;
        return 1;
    default:
        return 0;
    }
}

int
engine_options_finish(engine_options *o, int argc, char **argv)
{
    if (optind < argc) {
        engine_error("%s: unexpected argument '%s'", o->command, argv[optind]);
        return -1;
    }
    if (!o->model_path) {
        engine_error("%s: no model given (-m MODEL.gguf)", o->command);
        return -1;
    }
    return 0;
}

void
engine_options_unknown(const engine_options *o, char **argv)
{
    if (optopt)
        engine_error("%s: option -%c is unknown or needs a value", o->command, optopt);
    else
        engine_error("%s: option '%s' is unknown or needs a value", o->command, argv[optind - 1]);
}

bool
engine_model_load(const engine_options *o, bool want_tokenizer, engine_model *ret)
{
    engine_model em = { 0 };
    hk_error err = { 0 };
    double t0 = engine_now();

    int rc = hk_gguf_open(o->model_path, &em.gguf, &err);
    if (rc == 0 && want_tokenizer)
        rc = hk_tokenizer_load(em.gguf, &em.tok, &err);
    hk_backend_request request;
    hk_backend_request_init(&request);
    request.backend = o->backend;
    request.n_threads = o->n_threads;
    if (rc == 0)
        rc = hk_backend_select(&request, &em.backend, em.backend_reason, &err);
    if (rc == 0)
        rc = hk_model_load(em.gguf, em.backend, &em.model, &err);
    if (rc < 0) {
        engine_error("%s: %s", o->model_path, err.message);
        engine_model_free(&em);
        return false;
    }
    em.load_seconds = engine_now() - t0;
    *ret = em;
    return true;
}

void
engine_print_backend(const engine_model *em)
{
    const char *left = hk_backend_failover_reason(em->backend);
    fprintf(stderr, "backend:    %s (%s)\n", hk_backend_name(em->backend),
            hk_backend_description(em->backend));
    fprintf(stderr, "reason:     %s\n", left ? left : em->backend_reason);
}

void
engine_model_free(engine_model *em)
{
    hk_model_free(em->model);
    hk_backend_free(em->backend);
    hk_tokenizer_free(em->tok);
    hk_gguf_close(em->gguf);
    *em = (engine_model){ 0 };
}
