/* hearken-landlock.c — Landlock rulesets from HearkenLandlockRules. */
#include "hearken-landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* newer than the kernel headers Debian 12 builds with */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

/* the rights a rule may give a file that is not a folder */
#define FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
                     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)

int
hearken_landlock_abi (void)
{
  long abi = syscall (SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

  return abi < 0 ? 0 : (int) abi;
}

/* Everything about files the kernel can check: what is not handled stays
 * allowed.  Rights of later versions (ioctl on devices, networking) are
 * not taken: hearkend needs them, and the seccomp filter covers sockets. */
static guint64
handled_rights (int abi)
{
  guint64 rights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                   LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
                   LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                   LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
                   LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                   LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                   LANDLOCK_ACCESS_FS_MAKE_SYM;

  if (abi >= 2)
    rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3)
    rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
  return rights;
}

static guint64
kernel_rights (HearkenAccess access,
               guint64       handled)
{
  guint64 rights = 0;

  if (access & HEARKEN_ACCESS_LIST)
    rights |= LANDLOCK_ACCESS_FS_READ_DIR;
  if (access & HEARKEN_ACCESS_READ)
    rights |= LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
  if (access & HEARKEN_ACCESS_EXECUTE)
    rights |= LANDLOCK_ACCESS_FS_EXECUTE;
  if (access & HEARKEN_ACCESS_WRITE)
    rights |= handled & ~(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
                          LANDLOCK_ACCESS_FS_READ_DIR);
  return rights & handled;
}

static gboolean
set_errno_error (GError     **error,
                 int          saved,
                 const char  *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", what,
               g_strerror (saved));
  return FALSE;
}

/* TRUE also when the path does not exist: nothing there to allow. */
static gboolean
add_rule (int                        ruleset,
          const HearkenLandlockRule *rule,
          guint64                    handled,
          GError                   **error)
{
  struct landlock_path_beneath_attr beneath = { 0 };
  struct stat st;
  int fd = open (rule->path, O_PATH | O_CLOEXEC);
  int saved;

  if (fd < 0)
    return TRUE;
  beneath.parent_fd = fd;
  beneath.allowed_access = kernel_rights (rule->access, handled);
  if (fstat (fd, &st) == 0 && !S_ISDIR (st.st_mode))
    beneath.allowed_access &= FILE_RIGHTS;
  if (beneath.allowed_access == 0 ||
      syscall (SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) == 0)
    {
      close (fd);
      return TRUE;
    }
  saved = errno;
  close (fd);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
               "Landlock refused the rule for %s: %s", rule->path, g_strerror (saved));
  return FALSE;
}

gboolean
hearken_landlock_restrict (const HearkenLandlockRule  *rules,
                           gsize                       n_rules,
                           GError                    **error)
{
  int abi = hearken_landlock_abi ();
  struct landlock_ruleset_attr attr = { .handled_access_fs = handled_rights (abi) };
  int ruleset;
  gboolean ok = TRUE;

  if (abi <= 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "The kernel has no Landlock");
      return FALSE;
    }
  ruleset = syscall (SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (ruleset < 0)
    return set_errno_error (error, errno, "Could not make a Landlock ruleset");
  for (gsize i = 0; ok && i < n_rules; i++)
    ok = add_rule (ruleset, &rules[i], attr.handled_access_fs, error);
  /* without it, an unprivileged process may not restrict itself */
  if (ok && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    ok = set_errno_error (error, errno, "Could not set no_new_privs");
  if (ok && syscall (SYS_landlock_restrict_self, ruleset, 0) != 0)
    ok = set_errno_error (error, errno, "Could not enter the Landlock domain");
  close (ruleset);
  return ok;
}
