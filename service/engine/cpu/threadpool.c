/* threadpool.c — spin-then-sleep workers that run one task at a time.
 *
 * The caller publishes a task by bumping `generation`; workers watch it,
 * spinning first (a token's next op follows within microseconds) and
 * sleeping on `wake` after a while, so an idle engine costs no CPU.
 * `n_pending` counts the workers that have not finished the task yet.
 */
#include "threadpool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* How a thread waits for others: PAUSE for a few microseconds (the next op
 * or the other threads' share is usually that close), then give the core
 * away at each look (the thread waited for, or another program, may need
 * it: the machine may have fewer free cores than threads).  An idle
 * worker sleeps after its yields, about a millisecond on an idle machine. */
#define SPIN_PAUSES 1000
#define SPIN_YIELDS 2000

typedef struct worker {
    hk_threadpool *pool;
    int            ith;
    pthread_t      thread;
} worker;

struct hk_threadpool {
    int     n_threads;
    int     n_started;      /* workers running */
    worker *workers;        /* n_threads - 1 */

    /* The task, written by the caller before generation is bumped. */
    hk_task_fn fn;
    void      *ctx;
    int        nth;

    /* Each counter on its own cache line: they are hammered by every thread. */
    alignas(64) atomic_uint generation;
    alignas(64) atomic_int  n_pending;
    alignas(64) atomic_int  barrier_count;
    alignas(64) atomic_uint barrier_phase;
    alignas(64) atomic_int  n_sleeping;
    atomic_bool quit;

    pthread_mutex_t lock;
    pthread_cond_t  wake;
};

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static void
spin_round(int *rounds)
{
    if (*rounds < SPIN_PAUSES) {
        ++*rounds;
        cpu_relax();
    } else {
        sched_yield();
    }
}

static unsigned
wait_for_task(hk_threadpool *pool, unsigned seen)
{
    int rounds = 0;
    for (int i = 0; i < SPIN_PAUSES + SPIN_YIELDS; i++) {
        unsigned gen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        if (gen != seen)
            return gen;
        spin_round(&rounds);
    }

    /* Announce the sleep before the last look at generation: the caller
     * bumps generation before it looks at n_sleeping (both seq_cst), so
     * one of the two sees the other and no wake-up is lost. */
    atomic_fetch_add(&pool->n_sleeping, 1);
    pthread_mutex_lock(&pool->lock);
    unsigned gen;
    while ((gen = atomic_load(&pool->generation)) == seen)
        pthread_cond_wait(&pool->wake, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
    atomic_fetch_sub(&pool->n_sleeping, 1);
    return gen;
}

static void *
worker_main(void *arg)
{
    worker *w = arg;
    hk_threadpool *pool = w->pool;
    unsigned seen = 0;

    for (;;) {
        seen = wait_for_task(pool, seen);
        if (atomic_load_explicit(&pool->quit, memory_order_acquire))
            return NULL;
        if (w->ith < pool->nth)
            pool->fn(pool->ctx, w->ith, pool->nth);
        atomic_fetch_sub_explicit(&pool->n_pending, 1, memory_order_release);
    }
}

static void
publish(hk_threadpool *pool)
{
    atomic_fetch_add(&pool->generation, 1);
    if (atomic_load(&pool->n_sleeping) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }
}

int
hk_threadpool_new(int n_threads, hk_threadpool **ret, hk_error *err)
{
    if (n_threads < 1 || n_threads > 1024)
        return hk_error_set(err, -EINVAL, "thread count %d out of range (1…1024)", n_threads);

    size_t size = (sizeof(hk_threadpool) + 63) / 64 * 64;
    hk_threadpool *pool = aligned_alloc(64, size);
    if (!pool)
        return hk_error_set(err, -ENOMEM, "out of memory for the thread pool");
    memset(pool, 0, size);
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);

    pool->workers = calloc((size_t)n_threads, sizeof(worker));
    if (!pool->workers) {
        hk_threadpool_free(pool);
        return hk_error_set(err, -ENOMEM, "out of memory for the thread pool");
    }
    for (int i = 1; i < n_threads; i++) {
        worker *w = &pool->workers[pool->n_started];
        w->pool = pool;
        w->ith = i;
        int rc = pthread_create(&w->thread, NULL, worker_main, w);
        if (rc != 0) {
            hk_threadpool_free(pool);
            return hk_error_set(err, -rc, "cannot start worker thread %d of %d: %s",
                                i, n_threads, strerror(rc));
        }
        pool->n_started++;
    }
    *ret = pool;
    return 0;
}

void
hk_threadpool_free(hk_threadpool *pool)
{
    if (!pool)
        return;
    atomic_store(&pool->quit, true);
    publish(pool);
    for (int i = 0; i < pool->n_started; i++)
        pthread_join(pool->workers[i].thread, NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool->workers);
    free(pool);
}

int
hk_threadpool_n_threads(const hk_threadpool *pool)
{
    return pool->n_threads;
}

void
hk_threadpool_run(hk_threadpool *pool, int nth, hk_task_fn fn, void *ctx)
{
    if (nth > pool->n_threads)
        nth = pool->n_threads;
    if (nth <= 1) {
        fn(ctx, 0, 1);
        return;
    }

    pool->fn = fn;
    pool->ctx = ctx;
    pool->nth = nth;
    /* Every worker acknowledges every task, even one it sits out, so none
     * can read the next task's fields while still on this one. */
    atomic_store_explicit(&pool->n_pending, pool->n_threads - 1, memory_order_relaxed);
    publish(pool);

    fn(ctx, 0, nth);

    int rounds = 0;
    while (atomic_load_explicit(&pool->n_pending, memory_order_acquire) > 0)
        spin_round(&rounds);
}

void
hk_threadpool_barrier(hk_threadpool *pool, int nth)
{
    if (nth <= 1)
        return;
    unsigned phase = atomic_load_explicit(&pool->barrier_phase, memory_order_acquire);
    if (atomic_fetch_add_explicit(&pool->barrier_count, 1, memory_order_acq_rel) == nth - 1) {
        atomic_store_explicit(&pool->barrier_count, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&pool->barrier_phase, 1, memory_order_release);
        return;
    }
    int rounds = 0;
    while (atomic_load_explicit(&pool->barrier_phase, memory_order_acquire) == phase)
        spin_round(&rounds);
}
