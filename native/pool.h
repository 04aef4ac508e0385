// A small persistent thread pool: the caller is thread 0, workers 1..n−1
// spin briefly on a generation counter, then sleep on a condition variable.
#ifndef ATTUNE_POOL_H
#define ATTUNE_POOL_H

typedef void (*pool_task)(void *ctx, int thread, int threads);

/** Runs task(ctx, t, n) on threads t = 0..n−1 (the caller is thread 0) and waits for all. */
void pool_run(pool_task task, void *ctx, int threads);
/**
 * The same for a task that takes its work items from a shared counter (any
 * thread may do any item, and a thread that finds none returns): once the
 * caller's own call returns, workers that have not started yet are not
 * waited for (on a busy machine a sleeping worker can take milliseconds to
 * be scheduled). A task with barriers or a fixed split must use pool_run.
 */
void pool_run_dynamic(pool_task task, void *ctx, int threads);
/** Waits until all `threads` threads of the running task reach it (spin, then yield). */
void pool_barrier(int threads);
/** Starts or stops workers so that up to n threads can run (n ≥ 1). */
int pool_resize(int n);
int pool_size(void);

#endif
