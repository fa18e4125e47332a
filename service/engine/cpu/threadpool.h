/* threadpool.h — the CPU backend's worker threads.
 *
 * The workers are created once and live as long as the pool.  A forward
 * pass runs about a hundred short tasks per token, so handing out a task
 * must cost far less than waking a sleeping thread: idle workers spin for a
 * while before they sleep on a condition variable.
 */
#pragma once

#include "error.h"

typedef struct hk_threadpool hk_threadpool;

/* One task: called on threads ith = 0…nth-1, the caller being thread 0. */
typedef void (*hk_task_fn)(void *ctx, int ith, int nth);

/* n_threads counts the caller, so n_threads - 1 workers are started. */
int  hk_threadpool_new(int n_threads, hk_threadpool **ret, hk_error *err);
void hk_threadpool_free(hk_threadpool *pool);  /* accepts NULL */

int  hk_threadpool_n_threads(const hk_threadpool *pool);

/* Run fn on nth threads (1 ≤ nth ≤ the pool's size; 1 runs it in the
 * caller alone) and return when every thread has finished it. */
void hk_threadpool_run(hk_threadpool *pool, int nth, hk_task_fn fn, void *ctx);

/* Inside a task: wait until all nth threads of the task have arrived. */
void hk_threadpool_barrier(hk_threadpool *pool, int nth);
