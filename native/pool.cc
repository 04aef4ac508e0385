// The pool behind pool.h. One task runs at a time (kernels are called from
// the JS thread, one after another), so one generation counter is enough.
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <atomic>
#include <stdint.h>
#include <stdlib.h>

#define MAX_THREADS 256
#define SPIN_ROUNDS 20000 /* a few hundred µs of spinning (PAUSE is ~60 cycles on Zen) before sleeping */
#define WAIT_SPINS 2000   /* the caller and the barrier yield the core after this many */

static pthread_t workers[MAX_THREADS];
static int size = 1;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static std::atomic<unsigned> generation;
static std::atomic<int> sleepers;
static std::atomic<int> pending;
static std::atomic<int> tickets; /* participations left to claim in this run; the caller takes the rest back */
static std::atomic<int> stop_below; /* workers with index ≥ this exit */

/* Atomic: a worker cancelled from one dynamic run may read them while the next run sets them. */
static std::atomic<pool_task> current_task;
static std::atomic<void *> current_ctx;
static std::atomic<int> current_threads;

static std::atomic<int> barrier_count;
static std::atomic<unsigned> barrier_phase;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* The generation each worker starts from, set by its creator (a worker that read it itself could miss a task published meanwhile). */
static unsigned start_generation[MAX_THREADS];

static void *worker_main(void *arg) {
  int index = (int)(intptr_t)arg;
  unsigned seen = start_generation[index];
  for (;;) {
    unsigned g;
    int spins = 0;
    while ((g = std::atomic_load_explicit(&generation, std::memory_order_acquire)) == seen) {
      if (++spins < SPIN_ROUNDS) {
        cpu_relax();
        continue;
      }
      pthread_mutex_lock(&lock);
      std::atomic_fetch_add(&sleepers, 1);
      while (std::atomic_load(&generation) == seen) pthread_cond_wait(&wake, &lock);
      std::atomic_fetch_sub(&sleepers, 1);
      pthread_mutex_unlock(&lock);
      spins = 0;
    }
    seen = g;
    if (index >= std::atomic_load(&stop_below)) return NULL;
    if (index < current_threads.load() && tickets.fetch_sub(1, std::memory_order_acq_rel) > 0) {
      current_task.load()(current_ctx.load(), index, current_threads.load());
      std::atomic_fetch_sub_explicit(&pending, 1, std::memory_order_release);
    }
  }
}

static void publish(void) {
  std::atomic_fetch_add_explicit(&generation, 1, std::memory_order_release);
  if (std::atomic_load(&sleepers) > 0) {
    pthread_mutex_lock(&lock);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
  }
}

int pool_resize(int n) {
  if (n < 1) n = 1;
  if (n > MAX_THREADS) n = MAX_THREADS;
  if (n < size) {
    std::atomic_store(&stop_below, n);
    current_threads = 0;
    publish();
    for (int i = n; i < size; i++) pthread_join(workers[i], NULL);
    size = n;
  } else {
    std::atomic_store(&stop_below, MAX_THREADS);
    for (int i = size; i < n; i++) {
      start_generation[i] = std::atomic_load(&generation);
      if (pthread_create(&workers[i], NULL, worker_main, (void *)(intptr_t)i) != 0) {
        n = i;
        break;
      }
    }
    size = n;
  }
  return size;
}

int pool_size(void) { return size; }

static void run(pool_task task, void *ctx, int threads, bool dynamic) {
  if (threads > size) threads = size;
  if (threads <= 1) {
    task(ctx, 0, 1);
    return;
  }
  current_task = task;
  current_ctx = ctx;
  current_threads = threads;
  std::atomic_store(&barrier_count, 0);
  std::atomic_store(&pending, threads - 1);
  tickets.store(threads - 1, std::memory_order_release);
  publish();
  task(ctx, 0, threads);
  if (dynamic) {
    /* every item is taken: workers that have not claimed a participation yet need not run */
    int unclaimed = tickets.exchange(0, std::memory_order_acq_rel);
    if (unclaimed > 0) std::atomic_fetch_sub_explicit(&pending, unclaimed, std::memory_order_acq_rel);
  }
  for (int spins = 0; std::atomic_load_explicit(&pending, std::memory_order_acquire) > 0;) {
    if (++spins > WAIT_SPINS) sched_yield();
    else cpu_relax();
  }
}

void pool_run(pool_task task, void *ctx, int threads) { run(task, ctx, threads, false); }

void pool_run_dynamic(pool_task task, void *ctx, int threads) { run(task, ctx, threads, true); }

void pool_barrier(int threads) {
  if (threads <= 1) return;
  unsigned phase = std::atomic_load_explicit(&barrier_phase, std::memory_order_acquire);
  if (std::atomic_fetch_add_explicit(&barrier_count, 1, std::memory_order_acq_rel) == threads - 1) {
    std::atomic_store_explicit(&barrier_count, 0, std::memory_order_relaxed);
    std::atomic_fetch_add_explicit(&barrier_phase, 1, std::memory_order_release);
    return;
  }
  int spins = 0;
  while (std::atomic_load_explicit(&barrier_phase, std::memory_order_acquire) == phase) {
    if (++spins > WAIT_SPINS) sched_yield();
    else cpu_relax();
  }
}
