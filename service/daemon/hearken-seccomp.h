/* hearken-seccomp.h — a seccomp filter against what a model runner never
 * needs: debugging other processes, mounts, kernel modules, raw sockets. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Every thread of the process, and what it starts from now on, gets
 * EPERM from the system calls hearkend has no use for. */
gboolean hearken_seccomp_restrict (GError **error);

G_END_DECLS
