/* map-guard.c — a SIGBUS handler that patches holes in mapped files. */
#include "map-guard.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A process maps a few models at a time; more go unguarded. */
#define N_SLOTS 64

typedef struct guard_slot {
    atomic_bool       taken;
    _Atomic uintptr_t start;   /* 0: not guarding */
    _Atomic uintptr_t end;
    atomic_bool       damaged;
} guard_slot;

static guard_slot slots[N_SLOTS];
static struct sigaction previous;

static guard_slot *
slot_holding(uintptr_t addr)
{
    for (int i = 0; i < N_SLOTS; i++) {
        uintptr_t start = atomic_load(&slots[i].start);
        if (start && addr >= start && addr < atomic_load(&slots[i].end))
            return &slots[i];
    }
    return NULL;
}

/* Hands a fault that is not ours to whoever handled SIGBUS before. */
static void
pass_on(int sig, siginfo_t *info, void *context)
{
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(sig, info, context);
        return;
    }
    if (previous.sa_handler == SIG_IGN)
        return;
    if (previous.sa_handler != SIG_DFL) {
        previous.sa_handler(sig);
        return;
    }
    /* the faulting read runs again on return, and dies as it would have */
    signal(SIGBUS, SIG_DFL);
}

static void
on_sigbus(int sig, siginfo_t *info, void *context)
{
    int saved_errno = errno;
    uintptr_t addr = (uintptr_t)info->si_addr;
    guard_slot *slot = info->si_code == BUS_ADRERR ? slot_holding(addr) : NULL;

    if (slot) {
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        void *hole = (void *)(addr & ~(page - 1));
        /* mmap is a plain system call on Linux, safe in a handler */
        if (mmap(hole, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
            atomic_store(&slot->damaged, true);
            errno = saved_errno;
            return;
        }
    }
    pass_on(sig, info, context);
    errno = saved_errno;
}

static int install_errno;

static void
install_once(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGBUS, &action, &previous) < 0)
        install_errno = errno;
}

int
hk_map_guard_install(hk_error *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_once);
    if (install_errno)
        return hk_error_set(err, -install_errno, "cannot install the SIGBUS handler: %s",
                            strerror(install_errno));
    return 0;
}

int
hk_map_guard_add(const void *base, size_t size)
{
    if (!base || size == 0)
        return -1;
    for (int i = 0; i < N_SLOTS; i++) {
        bool expected = false;
        if (!atomic_compare_exchange_strong(&slots[i].taken, &expected, true))
            continue;
        /* start last: a handler that sees it sees the whole range */
        atomic_store(&slots[i].end, (uintptr_t)base + size);
        atomic_store(&slots[i].damaged, false);
        atomic_store(&slots[i].start, (uintptr_t)base);
        return i;
    }
    return -1;
}

void
hk_map_guard_remove(int slot)
{
    if (slot < 0 || slot >= N_SLOTS)
        return;
    atomic_store(&slots[slot].start, 0);
    atomic_store(&slots[slot].taken, false);
}

bool
hk_map_guard_damaged(int slot)
{
    return slot >= 0 && slot < N_SLOTS && atomic_load(&slots[slot].damaged);
}
