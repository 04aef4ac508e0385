// The source of a pool worker, as a string so the same code runs as a Node
// worker_thread (eval) and as a browser Web Worker (Blob URL) with no build
// step. A worker instantiates the shared wasm module over the shared memory
// and then loops: wait for a new job sequence number, run its share
// (tid < nthreads), count itself done. Layout: see ControlSlot in thread-pool.ts.

export const workerSource = `
const SEQ = 0, DONE = 1, KERNEL = 2, NTHREADS = 3, ARGC = 4, ERROR = 5, READY = 6, ARGS_BYTE = 64, SPIN = 20000;
function start(data) {
  const { module, memory, control, names, tid } = data;
  const ctl = new Int32Array(control);
  const args = new Float64Array(control, ARGS_BYTE, 32);
  const instance = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('wasm abort'); } } });
  const fns = names.map((n) => instance.exports[n]);
  Atomics.add(ctl, READY, 1);
  Atomics.notify(ctl, READY);
  let seen = 0;
  for (;;) {
    // Spin briefly before sleeping: kernels often come back to back (a decode
    // and its merge, the ops of a training step), and a futex wake costs ~40 µs.
    for (let spin = 0; spin < SPIN && Atomics.load(ctl, SEQ) === seen; spin++);
    Atomics.wait(ctl, SEQ, seen);
    seen = Atomics.load(ctl, SEQ);
    if (seen < 0) return;
    const n = ctl[NTHREADS];
    if (tid < n) {
      try {
        const argc = ctl[ARGC];
        const a = new Array(argc + 2);
        for (let i = 0; i < argc; i++) a[i] = args[i];
        a[argc] = tid;
        a[argc + 1] = n;
        fns[ctl[KERNEL]](...a);
      } catch (e) {
        Atomics.store(ctl, ERROR, tid + 1);
      }
    }
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
}
if (typeof require === 'function') {
  const { workerData } = require('node:worker_threads');
  start(workerData);
} else {
  self.onmessage = (e) => start(e.data);
}
`;
