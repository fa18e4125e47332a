/* map-guard.h — surviving a mapped file that shrinks while in use.
 *
 * Model weights are read straight from a mapping of the file.  When
 * another program truncates the file (a download rewriting it in place, a
 * copy over it), reading a page past its new end raises SIGBUS, which
 * would kill the whole service.  With the guard installed, such a read
 * finds zeros instead: the handler maps a zero page over the page that
 * faulted and marks the mapping damaged.  Whoever computed with it checks
 * hk_map_guard_damaged() afterwards and reports the file as changed.
 * Faults anywhere else go to the handler that was there before.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Installs the process-wide SIGBUS handler; later calls do nothing. */
int  hk_map_guard_install(hk_error *err);

/* Guards [base, base + size); returns the slot, or -1 when every slot is
 * taken (the mapping then works unguarded). */
int  hk_map_guard_add(const void *base, size_t size);
/* Before the mapping goes; accepts -1. */
void hk_map_guard_remove(int slot);
/* Whether a read of the mapping found the file shorter; false for -1. */
bool hk_map_guard_damaged(int slot);
