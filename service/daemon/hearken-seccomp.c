/* hearken-seccomp.c — the system calls hearkend refuses itself.
 *
 * An allow-list would have to follow every library hearkend loads
 * (Vulkan drivers, PortAudio's back ends, GIO modules), and one missing
 * call would break the service on some machine; a deny-list of what only
 * an attacker wants keeps the service whole.  Denied calls fail with
 * EPERM rather than killing the process, so a library probing for a
 * feature carries on without it.
 */
#include "hearken-seccomp.h"

#include <errno.h>
#include <gio/gio.h>
#include <seccomp.h>
#include <sys/socket.h>

#if defined(__SANITIZE_ADDRESS__)
#define HEARKEN_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEARKEN_SANITIZED 1
#endif
#endif

static const int denied_calls[] = {
  /* other processes' memory */
  SCMP_SYS (process_vm_readv), SCMP_SYS (process_vm_writev), SCMP_SYS (kcmp),
  /* the file system's shape */
  SCMP_SYS (mount), SCMP_SYS (umount2), SCMP_SYS (pivot_root), SCMP_SYS (chroot),
  SCMP_SYS (fsopen), SCMP_SYS (fsmount), SCMP_SYS (move_mount), SCMP_SYS (open_tree),
  SCMP_SYS (swapon), SCMP_SYS (swapoff), SCMP_SYS (quotactl),
  SCMP_SYS (open_by_handle_at), SCMP_SYS (name_to_handle_at),
  /* namespaces: a way around the Landlock domain's view */
  SCMP_SYS (unshare), SCMP_SYS (setns),
  /* the kernel itself */
  SCMP_SYS (init_module), SCMP_SYS (finit_module), SCMP_SYS (delete_module),
  SCMP_SYS (kexec_load), SCMP_SYS (kexec_file_load), SCMP_SYS (reboot),
  SCMP_SYS (bpf), SCMP_SYS (perf_event_open), SCMP_SYS (userfaultfd),
  SCMP_SYS (iopl), SCMP_SYS (ioperm), SCMP_SYS (syslog), SCMP_SYS (acct),
  SCMP_SYS (lookup_dcookie), SCMP_SYS (vhangup),
  /* the clock everyone shares */
  SCMP_SYS (settimeofday), SCMP_SYS (clock_settime), SCMP_SYS (adjtimex),
  SCMP_SYS (clock_adjtime),
  /* the kernel keyring */
  SCMP_SYS (add_key), SCMP_SYS (request_key), SCMP_SYS (keyctl),
};

static gboolean
failed (GError **error,
        int      code)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (-code),
               "Could not set up the seccomp filter: %s", g_strerror (-code));
  return FALSE;
}

/* Downloads need TCP, the bus and audio need UNIX sockets, name lookups
 * netlink; nothing needs to read or forge packets below them. */
static int
deny_raw_sockets (scmp_filter_ctx filter)
{
  /* the low bits of the type, under SOCK_NONBLOCK and SOCK_CLOEXEC */
  const scmp_datum_t type_mask = 0xf;
  int code;

  if ((code = seccomp_rule_add (filter, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (socket), 1,
                                SCMP_A0 (SCMP_CMP_EQ, AF_PACKET))) < 0 ||
      (code = seccomp_rule_add (filter, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (socket), 1,
                                SCMP_A1 (SCMP_CMP_MASKED_EQ, type_mask, SOCK_RAW))) < 0)
    return code;
  return seccomp_rule_add (filter, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (socket), 1,
                           SCMP_A1 (SCMP_CMP_MASKED_EQ, type_mask, SOCK_PACKET));
}

gboolean
hearken_seccomp_restrict (GError **error)
{
  scmp_filter_ctx filter = seccomp_init (SCMP_ACT_ALLOW);
  int code = 0;

  if (!filter)
    return failed (error, -ENOMEM);
  for (gsize i = 0; code >= 0 && i < G_N_ELEMENTS (denied_calls); i++)
    code = seccomp_rule_add (filter, SCMP_ACT_ERRNO (EPERM), denied_calls[i], 0);
#ifndef HEARKEN_SANITIZED
  /* LeakSanitizer stops the threads with ptrace to look for leaks */
  if (code >= 0)
    code = seccomp_rule_add (filter, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (ptrace), 0);
#endif
  if (code >= 0)
    code = deny_raw_sockets (filter);
  /* every thread: GLib's may already run */
  if (code >= 0)
    code = seccomp_attr_set (filter, SCMP_FLTATR_CTL_TSYNC, 1);
  if (code >= 0)
    code = seccomp_load (filter);
  seccomp_release (filter);
  if (code < 0)
    return failed (error, code);
  return TRUE;
}
