/* hk-nmse.h — how the tests compare a result with its reference, as ggml's
 * test-backend-ops does: NaNs first, infinities' signs next, then the
 * normalized mean squared error over the finite values. */
#pragma once

#include <check.h>
#include <math.h>
#include <stddef.h>

static inline double
hk_nmse_f64(const float *got, const double *want, size_t n)
{
    double err = 0.0, norm = 0.0;
    size_t nans = 0, infs = 0;
    for (size_t i = 0; i < n; i++) {
        nans += isnan(got[i]) != 0;
        infs += isinf(got[i]) && got[i] != want[i];
        if (isfinite(got[i]) && isfinite(want[i])) {
            err += (got[i] - want[i]) * (got[i] - want[i]);
            norm += want[i] * want[i];
        }
    }
    ck_assert_msg(nans == 0, "%zu NaNs", nans);
    ck_assert_msg(infs == 0, "%zu infinities the reference does not have", infs);
    return err / (norm > 0 ? norm : 1.0);
}

static inline double
hk_nmse(const float *got, const float *want, size_t n)
{
    double err = 0.0, norm = 0.0;
    size_t nans = 0, infs = 0;
    for (size_t i = 0; i < n; i++) {
        nans += isnan(got[i]) != 0;
        infs += isinf(got[i]) && got[i] != want[i];
        if (isfinite(got[i]) && isfinite(want[i])) {
            err += ((double)got[i] - want[i]) * ((double)got[i] - want[i]);
            norm += (double)want[i] * want[i];
        }
    }
    ck_assert_msg(nans == 0, "%zu NaNs", nans);
    ck_assert_msg(infs == 0, "%zu infinities the reference does not have", infs);
    return err / (norm > 0 ? norm : 1.0);
}
