// The runtime half of scripts/attention-harness.mjs: the wasm instance over a
// shared memory, real threads, tensor placement, the params block, the kernel
// runners, seeded random data and the timing helpers.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ATTENTION_PARAMS_BYTES, MaskKind, writeAttentionParams } from '../src/backend/wasm/attention-params.ts';

// ---------------------------------------------------------------------------
// wasm instance over a shared memory, with a bump allocator that surrounds
// every block with NaN guards (a kernel reading outside its tensors shows up
// as NaN in the results)
// ---------------------------------------------------------------------------

export class Wasm {
  constructor(file) {
    this.memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
    this.module = new WebAssembly.Module(readFileSync(new URL(`../wasm/${file}`, import.meta.url)));
    this.exports = new WebAssembly.Instance(this.module, { env: { memory: this.memory, abort: () => {} } }).exports;
    this.reset();
  }
  reset() {
    this.top = 4096;
  }
  alloc(bytes) {
    const start = Math.ceil(this.top / 64) * 64 + 64;
    const end = start + Math.ceil(bytes / 64) * 64 + 64;
    if (end > this.memory.buffer.byteLength) this.memory.grow(Math.ceil((end - this.memory.buffer.byteLength) / 65536) + 16);
    new Uint32Array(this.memory.buffer, start - 64, (end - start + 64) / 4).fill(0x7fc00000);
    this.top = end;
    return start;
  }
  f32(ptr, n) {
    return new Float32Array(this.memory.buffer, ptr, n);
  }
  put(array) {
    const ptr = this.alloc(array.byteLength || 4);
    if (array instanceof Uint8Array) new Uint8Array(this.memory.buffer, ptr, array.length).set(array);
    else this.f32(ptr, array.length).set(array);
    return ptr;
  }
  /** Per-thread scratch with a guard after each region's usable bytes; returns { ptr, stride, check() }. */
  scratch(bytes, nthreads) {
    const stride = Math.ceil(bytes / 64) * 64 + 64;
    const ptr = this.alloc(stride * nthreads);
    const guard = new Uint32Array(this.memory.buffer, ptr, (stride * nthreads) / 4);
    return {
      ptr,
      stride,
      check: () => {
        // the kernels use at most bytes − 64 past a 64-aligned start (64 is alignment slack)
        for (let t = 0; t < nthreads; t++) {
          for (let o = t * stride + bytes - 64; o < (t + 1) * stride; o += 4) {
            if (guard[o / 4] !== 0x7fc00000) throw new Error(`scratch overflow: thread ${t}, byte ${o - t * stride} of ${bytes}`);
          }
        }
      },
    };
  }
}

/** The instance the harness runs; set by init(). */
export let wasm = null;
export let K = null;
export function init(build) {
  wasm = new Wasm(`attune-${build}-mt.wasm`);
  K = wasm.exports;
}

// Real threads: workers instantiate the same module over the same memory and
// wait on a shared control block; thread 0 is the caller. Used to check that
// shares are race-free under true concurrency and to time 2 threads.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl, done, tid, names } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory, abort() {} } }).exports;
const base = 4 * tid;
let generation = 0;
for (;;) {
  Atomics.wait(ctrl, base, generation);
  generation = Atomics.load(ctrl, base);
  if (ctrl[base + 1] < 0) break;
  kernels[names[ctrl[base + 1]]](ctrl[base + 2], tid, ctrl[base + 3]);
  Atomics.store(done, tid, 1);
  Atomics.notify(done, tid);
}`;

export class ThreadTeam {
  constructor(size) {
    this.size = size;
    this.ctrl = new Int32Array(new SharedArrayBuffer(16 * size));
    this.done = new Int32Array(new SharedArrayBuffer(4 * size));
    this.names = Object.keys(K).filter((name) => typeof K[name] === 'function');
    this.workers = [];
    for (let tid = 1; tid < size; tid++) {
      const workerData = { module: wasm.module, memory: wasm.memory, ctrl: this.ctrl, done: this.done, tid, names: this.names };
      this.workers.push(new Worker(WORKER_SOURCE, { eval: true, workerData }));
    }
  }
  run(name, params, nthreads) {
    for (let tid = 1; tid < nthreads; tid++) {
      const base = 4 * tid;
      this.ctrl[base + 1] = this.names.indexOf(name);
      this.ctrl[base + 2] = params;
      this.ctrl[base + 3] = nthreads;
      Atomics.store(this.done, tid, 0);
      Atomics.add(this.ctrl, base, 1);
      Atomics.notify(this.ctrl, base);
    }
    K[name](params, 0, nthreads);
    for (let tid = 1; tid < nthreads; tid++) while (Atomics.load(this.done, tid) === 0) Atomics.wait(this.done, tid, 0, 1000);
  }
  close() {
    for (let tid = 1; tid < this.size; tid++) {
      this.ctrl[4 * tid + 1] = -1;
      Atomics.add(this.ctrl, 4 * tid, 1);
      Atomics.notify(this.ctrl, 4 * tid);
    }
  }
}
/** When set, kernels run on real threads instead of one after the other. */
let team = null;
export function startThreads(size) {
  team = new ThreadTeam(size);
}
export function stopThreads() {
  team?.close();
  team = null;
}

// ---------------------------------------------------------------------------
// Random data
// ---------------------------------------------------------------------------

let rngState = 0x12345678;
export function random() {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
export const randInt = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
export const pick = (items) => items[Math.floor(random() * items.length)];
export function randomNormal(n, amplitude = 1) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amplitude * Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  return out;
}

// ---------------------------------------------------------------------------
// Running the kernels
// ---------------------------------------------------------------------------

/** Element strides (batch, head, row) of [B, heads, rows(capacity), D] in layout 'bhnd' or 'bnhd'. */
export function strides(layout, heads, rows, D) {
  return layout === 'bnhd' ? [rows * heads * D, D, heads * D] : [heads * rows * D, rows * D, D];
}

/** Copies contiguous [B, heads, n, D] data into a tensor of the given layout and row capacity (unused rows stay NaN). */
export function placeTensor(data, B, heads, n, D, layout, capacity = n) {
  const ptr = wasm.alloc(B * heads * capacity * D * 4);
  const view = wasm.f32(ptr, B * heads * capacity * D);
  const [sb, sh, sr] = strides(layout, heads, capacity, D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < heads; h++)
      for (let r = 0; r < n; r++)
        view.set(data.subarray(((b * heads + h) * n + r) * D, ((b * heads + h) * n + r + 1) * D), b * sb + h * sh + r * sr);
  return ptr;
}

export function readTensor(ptr, B, heads, n, D, layout, capacity = n) {
  const view = wasm.f32(ptr, B * heads * capacity * D);
  const out = new Float32Array(B * heads * n * D);
  const [sb, sh, sr] = strides(layout, heads, capacity, D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < heads; h++)
      for (let r = 0; r < n; r++)
        out.set(view.subarray(b * sb + h * sh + r * sr, b * sb + h * sh + r * sr + D), ((b * heads + h) * n + r) * D);
  return out;
}

/** The params block for configuration c with tensors at ptrs; returns its pointer. */
export function writeParams(c, ptrs, tileRows, tileCols) {
  const params = wasm.alloc(ATTENTION_PARAMS_BYTES);
  const [qb, qh, qr] = strides(c.layout, c.H, c.Nq, c.D);
  const [kb, kh, kr] = strides(c.layout, c.Hk, c.kvCapacity, c.D);
  const [gb, gh, gr] = strides('bhnd', c.Hk, c.Nk, c.D);
  const fields = {
    ...ptrs,
    batch: c.B,
    numHeads: c.H,
    numKvHeads: c.Hk,
    queryLength: c.Nq,
    keyLength: c.Nk,
    headDim: c.D,
    queryStrideBatch: qb,
    queryStrideHead: qh,
    queryStrideRow: qr,
    keyStrideBatch: kb,
    keyStrideHead: kh,
    keyStrideRow: kr,
    valueStrideBatch: kb,
    valueStrideHead: kh,
    valueStrideRow: kr,
    outputStrideBatch: qb,
    outputStrideHead: qh,
    outputStrideRow: qr,
    gradOutputStrideBatch: qb,
    gradOutputStrideHead: qh,
    gradOutputStrideRow: qr,
    gradQueryStrideBatch: qb,
    gradQueryStrideHead: qh,
    gradQueryStrideRow: qr,
    gradKeyStrideBatch: gb,
    gradKeyStrideHead: gh,
    gradKeyStrideRow: gr,
    gradValueStrideBatch: gb,
    gradValueStrideHead: gh,
    gradValueStrideRow: gr,
    maskKind: MaskKind[c.maskKind],
    causal: c.causal ? 1 : 0,
    windowLeft: c.windowLeft,
    windowRight: c.windowRight,
    scale: c.scale,
    softcap: c.softcap,
    dropoutP: c.dropoutP,
    dropoutSeed: c.dropoutSeed,
    blockRows: tileRows,
    blockCols: tileCols,
    decodeSplits: c.decodeSplits ?? 1,
  };
  if (c.maskKind !== 'none') {
    const [sb, sh, si, sj] = c.maskStrides;
    Object.assign(fields, { maskStrideBatch: sb, maskStrideHead: sh, maskStrideQuery: si, maskStrideKey: sj });
  }
  writeAttentionParams(wasm.memory.buffer, params, fields);
  return params;
}

export function run(name, params, nthreads) {
  if (team && nthreads > 1) team.run(name, params, nthreads);
  else for (let t = 0; t < nthreads; t++) K[name](params, t, nthreads);
}

/** Inputs of configuration c placed in wasm memory: pointers for the params. */
export function placeInputs(c, data) {
  const ptrs = {
    query: placeTensor(data.q, c.B, c.H, c.Nq, c.D, c.layout),
    key: placeTensor(data.k, c.B, c.Hk, c.Nk, c.D, c.layout, c.kvCapacity),
    value: placeTensor(data.v, c.B, c.Hk, c.Nk, c.D, c.layout, c.kvCapacity),
    output: wasm.alloc(c.B * c.H * c.Nq * c.D * 4),
    logSumExp: wasm.alloc(c.B * c.H * c.Nq * 4),
  };
  if (data.mask) ptrs.mask = wasm.put(data.mask);
  if (data.slopes) ptrs.alibiSlopes = wasm.put(data.slopes);
  return ptrs;
}

export function kernelForward(c, data, nthreads, tileRows = c.Br, tileCols = c.Bc) {
  wasm.reset();
  const ptrs = placeInputs(c, data);
  const probe = writeParams(c, ptrs, tileRows, tileCols);
  const scratch = wasm.scratch(K.flashAttentionForwardScratchBytes(probe), nthreads);
  const params = writeParams(c, { ...ptrs, scratch: scratch.ptr, scratchStride: scratch.stride }, tileRows, tileCols);
  run('flashAttentionForward', params, nthreads);
  scratch.check();
  return {
    output: readTensor(ptrs.output, c.B, c.H, c.Nq, c.D, c.layout),
    logSumExp: wasm.f32(ptrs.logSumExp, c.B * c.H * c.Nq).slice(),
    ptrs,
    params,
  };
}

export function kernelWeights(c, data, nthreads) {
  const { ptrs } = kernelForward(c, data, 1);
  const weights = wasm.alloc(c.B * c.H * c.Nq * c.Nk * 4);
  const probe = writeParams(c, ptrs, c.Br, c.Bc);
  const scratch = wasm.scratch(K.flashAttentionForwardScratchBytes(probe), nthreads);
  const params = writeParams(c, { ...ptrs, weights, scratch: scratch.ptr, scratchStride: scratch.stride }, c.Br, c.Bc);
  run('attentionWeights', params, nthreads);
  scratch.check();
  return wasm.f32(weights, c.B * c.H * c.Nq * c.Nk).slice();
}

export function kernelBackward(c, data, nthreads) {
  const { ptrs } = kernelForward(c, data, 1);
  const grads = {
    gradOutput: placeTensor(data.dO, c.B, c.H, c.Nq, c.D, c.layout),
    gradQuery: wasm.alloc(c.B * c.H * c.Nq * c.D * 4),
    gradKey: wasm.alloc(c.B * c.Hk * c.Nk * c.D * 4),
    gradValue: wasm.alloc(c.B * c.Hk * c.Nk * c.D * 4),
  };
  const probe = writeParams(c, ptrs, c.bwdBr, c.bwdBc);
  const scratch = wasm.scratch(K.flashAttentionBackwardScratchBytes(probe), nthreads);
  const params = writeParams(c, { ...ptrs, ...grads, scratch: scratch.ptr, scratchStride: scratch.stride }, c.bwdBr, c.bwdBc);
  run('flashAttentionBackward', params, nthreads);
  run('flashAttentionBackwardDq', params, nthreads);
  scratch.check();
  return {
    gradQuery: readTensor(grads.gradQuery, c.B, c.H, c.Nq, c.D, c.layout),
    gradKey: wasm.f32(grads.gradKey, c.B * c.Hk * c.Nk * c.D).slice(),
    gradValue: wasm.f32(grads.gradValue, c.B * c.Hk * c.Nk * c.D).slice(),
    dqPass: K.flashAttentionBackwardNeedsDqPass(params, nthreads),
  };
}

export function kernelDecode(c, data, nthreads) {
  wasm.reset();
  const ptrs = placeInputs(c, data);
  const probe = writeParams(c, ptrs, c.Br, c.Bc);
  ptrs.partials = wasm.alloc(K.attentionDecodePartialsBytes(probe));
  const scratch = wasm.scratch(K.attentionDecodeScratchBytes(probe), nthreads);
  const params = writeParams(c, { ...ptrs, scratch: scratch.ptr, scratchStride: scratch.stride }, c.Br, c.Bc);
  run('attentionDecode', params, nthreads);
  run('attentionDecodeMerge', params, nthreads);
  scratch.check();
  return { output: readTensor(ptrs.output, c.B, c.H, c.Nq, c.D, c.layout), logSumExp: wasm.f32(ptrs.logSumExp, c.B * c.H * c.Nq).slice() };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// The machine is shared: each timing rep is paired with a measurement of the
// single-core wasm FMA (or mul+add) ceiling taken right before it, from
// ../shared/tools/wasm-peak.wasm when present, so a busy machine shows up as
// a low ceiling rather than as a slow kernel. Reported: median ms, and the
// median of per-rep fractions of the ceiling.
const peakFile = new URL('../../shared/tools/wasm-peak.wasm', import.meta.url);
let peakProbe;
/** Compiled on first use: after the caller has enabled relaxed SIMD. */
function probe() {
  if (peakProbe === undefined) {
    try {
      peakProbe = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(peakFile)), { env: { abort: () => {} } }).exports;
    } catch {
      peakProbe = null;
    }
  }
  return peakProbe;
}
export function measurePeak(relaxed = true) {
  const peak = probe();
  if (!peak) return Number.NaN;
  const n = 2_000_000;
  const fn = relaxed ? peak.peakFma : peak.peakMulAdd;
  const t0 = performance.now();
  fn(n);
  return (2 * 4 * 12 * n) / (performance.now() - t0) / 1e6;
}

/** Median ms per call and median fraction of the concurrently measured ceiling, given the flops of one call. */
export function timeIt(fn, reps, minMs, flops, relaxed = true) {
  fn();
  fn();
  measurePeak(relaxed);
  const times = [];
  const fractions = [];
  for (let r = 0; r < reps; r++) {
    const peak = measurePeak(relaxed);
    let calls = 0;
    const t0 = performance.now();
    do {
      fn();
      calls++;
    } while (performance.now() - t0 < minMs);
    const ms = (performance.now() - t0) / calls;
    times.push(ms);
    fractions.push(flops / ms / 1e6 / peak);
  }
  return { ms: median(times), best: Math.min(...times), fraction: median(fractions) };
}
