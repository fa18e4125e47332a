/* backend-cpu.h — the backend that runs on the CPU's cores.
 *
 * Ops run at once, split between a pool of threads created with the
 * backend: matmuls by rows of the weight, attention by kv head and block of
 * tokens, the small ops by rows.  Weights are not copied: tensors point
 * into the mapped model file.
 */
#pragma once

#include "backend.h"

/* n_threads 0: hk_backend_cpu_default_threads(). */
int hk_backend_cpu_new(int n_threads, hk_backend **ret, hk_error *err);

/* The default thread count: the cores this process may run on. */
int hk_backend_cpu_default_threads(void);
