/* backend-failover.h — a backend that carries on on the CPU when its
 * device fails.
 *
 * It wraps a primary backend (Vulkan) and a spare (the CPU).  Ops go to
 * the primary and are kept in a log until the step's sync.  When the
 * primary fails — a tensor it cannot allocate, a step that does not run,
 * a lost device — every tensor moves to the spare, the step's logged ops
 * run again there, and from then on the backend is the spare: the caller
 * sees a step that succeeded, and hk_backend_failover_reason says why the
 * device was left.
 *
 * What moves: weights are borrowed again from the host memory they were
 * uploaded from (which outlives them, as backend.h requires); the KV
 * cache comes from a mirror on the spare, kept up to date by reading back
 * each step's k and v (a few KiB per token, and the cache's memory once
 * more on the host); activations start from zero, so a step must write
 * them before it reads them, as the forward pass does.
 */
#pragma once

#include "backend.h"

/* Takes both backends, also when it fails. */
int hk_backend_failover_new(hk_backend *primary, hk_backend *spare, hk_backend **ret,
                            hk_error *err);

/* Why be left its primary ("vulkan: the device was lost
 * (VK_ERROR_DEVICE_LOST)"), or NULL: it has not, or it is not a
 * failover backend. */
const char *hk_backend_failover_reason(hk_backend *be);
