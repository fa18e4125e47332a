/* hearken-landlock.h — confining the process to a list of folders with
 * Landlock, the kernel's unprivileged file access control. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a rule lets the process do under its folder. */
typedef enum {
  HEARKEN_ACCESS_LIST    = 1 << 0,  /* read folders' entries, not files */
  HEARKEN_ACCESS_READ    = 1 << 1,  /* read files and folders */
  HEARKEN_ACCESS_EXECUTE = 1 << 2,  /* run programs, map libraries */
  HEARKEN_ACCESS_WRITE   = 1 << 3,  /* write, make, remove, rename, truncate */
} HearkenAccess;

typedef struct {
  char          *path;
  HearkenAccess  access;
} HearkenLandlockRule;

/* The Landlock ABI version the kernel offers, 0 when it has none. */
int      hearken_landlock_abi      (void);

/* From now on, this thread and the threads and processes it starts reach
 * the file system only as rules allow; a rule whose path does not exist
 * is left out.  Needs a kernel with Landlock (hearken_landlock_abi () > 0).
 * Other threads that already run are not confined: call it before any. */
gboolean hearken_landlock_restrict (const HearkenLandlockRule  *rules,
                                    gsize                       n_rules,
                                    GError                    **error);

G_END_DECLS
