// Dev harness for the fused attention kernels (assembly/attention*.ts,
// assembly/rotary.ts): checks them against the js reference over many random
// configurations, checks the reference's backward against finite
// differences, and times them single-threaded.
//
//   node --import tsx scripts/attention-harness.mjs              # check + time
//   node --import tsx scripts/attention-harness.mjs --check      # only correctness
//   node --import tsx scripts/attention-harness.mjs --time       # only timings
//   options: --build relaxed|simd (default relaxed) · --configs N (random configs, default 300)
//            --tiles BRxBC (forward tiles, default 64x64) · --bwd-tiles BRxBC · --reps N · --tune
//
// Threads are simulated: a kernel is called for tid = 0..n−1 one after the
// other, which is valid because the shares are disjoint; the decode merge
// and the dQ pass are called after all shares of the first step.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import {
  attentionBackwardReference,
  attentionDropoutHash,
  attentionForwardReference,
  broadcastMaskStrides,
} from '../src/backend/js/attention.ts';
import { applyRotaryBackwardReference, applyRotaryReference, rotaryTables } from '../src/backend/js/rotary.ts';
import {
  ATTENTION_PARAMS_BYTES,
  AttentionParam,
  MaskKind,
  ROTARY_PARAMS_BYTES,
  RotaryParam,
  writeAttentionParams,
  writeRotaryParams,
} from '../src/backend/wasm/attention-params.ts';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
v8.setFlagsFromString('--no-liftoff');

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name, fallback) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : fallback;
};
const tiles = (text) => text.split('x').map(Number);
const BUILD = option('--build', 'relaxed');
const CONFIGS = Number(option('--configs', 300));
const [FWD_BR, FWD_BC] = tiles(option('--tiles', '64x64'));
const [BWD_BR, BWD_BC] = tiles(option('--bwd-tiles', '64x64'));
const REPS = Number(option('--reps', 7));

// ---------------------------------------------------------------------------
// wasm instance over a shared memory, with a bump allocator that surrounds
// every block with NaN guards (a kernel reading outside its tensors shows up
// as NaN in the results)
// ---------------------------------------------------------------------------

class Wasm {
  constructor(file) {
    this.memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
    const module = new WebAssembly.Module(readFileSync(new URL(`../wasm/${file}`, import.meta.url)));
    this.exports = new WebAssembly.Instance(module, { env: { memory: this.memory, abort: () => {} } }).exports;
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

const wasm = new Wasm(`attune-${BUILD}-mt.wasm`);
const K = wasm.exports;

// ---------------------------------------------------------------------------
// Random data
// ---------------------------------------------------------------------------

let rngState = 0x12345678;
function random() {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (items) => items[Math.floor(random() * items.length)];
function randomNormal(n, amplitude = 1) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amplitude * Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  return out;
}

// ---------------------------------------------------------------------------
// Running the kernels
// ---------------------------------------------------------------------------

/** Element strides (batch, head, row) of [B, heads, rows(capacity), D] in layout 'bhnd' or 'bnhd'. */
function strides(layout, heads, rows, D) {
  return layout === 'bnhd' ? [rows * heads * D, D, heads * D] : [heads * rows * D, rows * D, D];
}

/** Copies contiguous [B, heads, n, D] data into a tensor of the given layout and row capacity (unused rows stay NaN). */
function placeTensor(data, B, heads, n, D, layout, capacity = n) {
  const ptr = wasm.alloc(B * heads * capacity * D * 4);
  const view = wasm.f32(ptr, B * heads * capacity * D);
  const [sb, sh, sr] = strides(layout, heads, capacity, D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < heads; h++)
      for (let r = 0; r < n; r++) view.set(data.subarray(((b * heads + h) * n + r) * D, ((b * heads + h) * n + r + 1) * D), b * sb + h * sh + r * sr);
  return ptr;
}

function readTensor(ptr, B, heads, n, D, layout, capacity = n) {
  const view = wasm.f32(ptr, B * heads * capacity * D);
  const out = new Float32Array(B * heads * n * D);
  const [sb, sh, sr] = strides(layout, heads, capacity, D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < heads; h++)
      for (let r = 0; r < n; r++) out.set(view.subarray(b * sb + h * sh + r * sr, b * sb + h * sh + r * sr + D), ((b * heads + h) * n + r) * D);
  return out;
}

/** The params block for configuration c with tensors at ptrs; returns its pointer. */
function writeParams(c, ptrs, tileRows, tileCols) {
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

function run(kernel, params, nthreads) {
  for (let t = 0; t < nthreads; t++) kernel(params, t, nthreads);
}

/** Inputs of configuration c placed in wasm memory: pointers for the params. */
function placeInputs(c, data) {
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

function kernelForward(c, data, nthreads, tileRows = c.Br, tileCols = c.Bc) {
  wasm.reset();
  const ptrs = placeInputs(c, data);
  const probe = writeParams(c, ptrs, tileRows, tileCols);
  const scratch = wasm.scratch(K.flashAttentionForwardScratchBytes(probe), nthreads);
  const params = writeParams(c, { ...ptrs, scratch: scratch.ptr, scratchStride: scratch.stride }, tileRows, tileCols);
  run(K.flashAttentionForward, params, nthreads);
  scratch.check();
  return {
    output: readTensor(ptrs.output, c.B, c.H, c.Nq, c.D, c.layout),
    logSumExp: wasm.f32(ptrs.logSumExp, c.B * c.H * c.Nq).slice(),
    ptrs,
    params,
  };
}

function kernelWeights(c, data, nthreads) {
  const { ptrs } = kernelForward(c, data, 1);
  const weights = wasm.alloc(c.B * c.H * c.Nq * c.Nk * 4);
  const probe = writeParams(c, ptrs, c.Br, c.Bc);
  const scratch = wasm.scratch(K.flashAttentionForwardScratchBytes(probe), nthreads);
  const params = writeParams(c, { ...ptrs, weights, scratch: scratch.ptr, scratchStride: scratch.stride }, c.Br, c.Bc);
  run(K.attentionWeights, params, nthreads);
  scratch.check();
  return wasm.f32(weights, c.B * c.H * c.Nq * c.Nk).slice();
}

function kernelBackward(c, data, nthreads) {
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
  run(K.flashAttentionBackward, params, nthreads);
  run(K.flashAttentionBackwardDq, params, nthreads);
  scratch.check();
  return {
    gradQuery: readTensor(grads.gradQuery, c.B, c.H, c.Nq, c.D, c.layout),
    gradKey: wasm.f32(grads.gradKey, c.B * c.Hk * c.Nk * c.D).slice(),
    gradValue: wasm.f32(grads.gradValue, c.B * c.Hk * c.Nk * c.D).slice(),
    dqPass: K.flashAttentionBackwardNeedsDqPass(params, nthreads),
  };
}

function kernelDecode(c, data, nthreads) {
  wasm.reset();
  const ptrs = placeInputs(c, data);
  const probe = writeParams(c, ptrs, c.Br, c.Bc);
  ptrs.partials = wasm.alloc(K.attentionDecodePartialsBytes(probe));
  const scratch = wasm.scratch(K.attentionDecodeScratchBytes(probe), nthreads);
  const params = writeParams(c, { ...ptrs, scratch: scratch.ptr, scratchStride: scratch.stride }, c.Br, c.Bc);
  run(K.attentionDecode, params, nthreads);
  run(K.attentionDecodeMerge, params, nthreads);
  scratch.check();
  return { output: readTensor(ptrs.output, c.B, c.H, c.Nq, c.D, c.layout), logSumExp: wasm.f32(ptrs.logSumExp, c.B * c.H * c.Nq).slice() };
}

// ---------------------------------------------------------------------------
// Configurations
// ---------------------------------------------------------------------------

function baseConfig(overrides = {}) {
  const c = {
    B: 1,
    H: 2,
    Hk: 1,
    Nq: 17,
    Nk: 23,
    D: 8,
    causal: false,
    windowLeft: -1,
    windowRight: -1,
    maskKind: 'none',
    maskShape: null,
    alibi: false,
    softcap: 0,
    dropoutP: 0,
    dropoutSeed: 0,
    layout: 'bhnd',
    kvCapacity: 0,
    Br: 16,
    Bc: 16,
    bwdBr: 16,
    bwdBc: 16,
    fullyMaskedRow: -1,
    amplitude: 1,
    ...overrides,
  };
  c.kvCapacity = Math.max(c.kvCapacity, c.Nk);
  c.scale ??= 1 / Math.sqrt(c.D);
  return c;
}

function randomConfig(options) {
  const H = pick([1, 2, 3, 4]);
  const Hk = pick([1, H, H > 1 && H % 2 === 0 ? 2 : 1].filter((x) => H % x === 0));
  const Nq = pick([1, 2, 5, 16, 31, 64, 97]);
  const Nk = pick([1, 3, Nq, Nq + 7, 33, 80, 130]);
  const c = baseConfig({
    B: pick([1, 2]),
    H,
    Hk,
    Nq,
    Nk,
    D: pick([1, 3, 4, 5, 8, 12, 16, 31, 32, 64]),
    layout: pick(['bhnd', 'bhnd', 'bnhd']),
    kvCapacity: random() < 0.3 ? Nk + randInt(1, 9) : Nk,
    Br: pick([4, 8, 16, 32, 64]),
    Bc: pick([4, 8, 12, 16, 32, 64]),
    bwdBr: pick([4, 8, 16, 32]),
    bwdBc: pick([4, 8, 16, 32]),
  });
  const want = (name) => options.includes(name) || (options.includes('random') && random() < 0.35);
  if (want('causal')) c.causal = true;
  if (want('window')) {
    c.windowLeft = pick([-1, 0, 1, 5, 20]);
    c.windowRight = pick([-1, 0, 2, 9]);
  }
  if (want('mask')) {
    c.maskKind = pick(['bool', 'additive']);
    c.maskShape = pick([
      [c.Nq, c.Nk],
      [1, 1, c.Nq, c.Nk],
      [c.B, 1, c.Nq, c.Nk],
      [c.B, c.H, c.Nq, c.Nk],
      [c.B, 1, 1, c.Nk],
    ]);
    if (random() < 0.5) c.fullyMaskedRow = randInt(0, c.Nq - 1);
  }
  if (want('alibi')) c.alibi = true;
  if (want('softcap')) c.softcap = pick([0.5, 2, 30]);
  if (want('dropout')) {
    c.dropoutP = pick([0.1, 0.5, 0.9]);
    c.dropoutSeed = randInt(0, 0xffffffff);
  }
  if (want('scale')) c.scale = pick([0.05, 0.7, 2]);
  return c;
}

function makeData(c) {
  const data = {
    q: randomNormal(c.B * c.H * c.Nq * c.D, c.amplitude),
    k: randomNormal(c.B * c.Hk * c.Nk * c.D, c.amplitude),
    v: randomNormal(c.B * c.Hk * c.Nk * c.D),
    dO: randomNormal(c.B * c.H * c.Nq * c.D),
  };
  if (c.maskKind !== 'none') {
    const size = c.maskShape.reduce((a, b) => a * b, 1);
    c.maskStrides = broadcastMaskStrides(c.maskShape, { batch: c.B, numHeads: c.H, queryLength: c.Nq, keyLength: c.Nk });
    if (c.maskKind === 'bool') {
      data.mask = new Uint8Array(size);
      for (let i = 0; i < size; i++) data.mask[i] = random() < 0.75 ? 1 : 0;
    } else {
      data.mask = new Float32Array(size);
      for (let i = 0; i < size; i++) data.mask[i] = random() < 0.1 ? -Infinity : 4 * random() - 3;
    }
    if (c.fullyMaskedRow >= 0 && c.maskStrides[2] !== 0) {
      // every mask entry of that query row masks the key
      const [sb, sh, si, sj] = c.maskStrides;
      for (let b = 0; b < (sb ? c.B : 1); b++)
        for (let h = 0; h < (sh ? c.H : 1); h++)
          for (let j = 0; j < c.Nk; j++) data.mask[b * sb + h * sh + c.fullyMaskedRow * si + j * sj] = c.maskKind === 'bool' ? 0 : -Infinity;
    }
  }
  if (c.alibi) {
    data.slopes = new Float32Array(c.H);
    for (let h = 0; h < c.H; h++) data.slopes[h] = 2 ** (-8 * (h + 1) / c.H);
  }
  return data;
}

function referenceArgs(c, data) {
  const f64 = (a) => Float64Array.from(a);
  return {
    batch: c.B,
    numHeads: c.H,
    numKvHeads: c.Hk,
    queryLength: c.Nq,
    keyLength: c.Nk,
    headDim: c.D,
    query: f64(data.q),
    key: f64(data.k),
    value: f64(data.v),
    gradOutput: f64(data.dO),
    scale: Math.fround(c.scale),
    mask: data.mask instanceof Float32Array ? f64(data.mask) : data.mask,
    maskKind: c.maskKind,
    maskStrides: c.maskStrides,
    causal: c.causal,
    windowLeft: c.windowLeft,
    windowRight: c.windowRight,
    alibiSlopes: data.slopes,
    softcap: Math.fround(c.softcap),
    dropoutP: Math.fround(c.dropoutP),
    dropoutSeed: c.dropoutSeed,
  };
}

// ---------------------------------------------------------------------------
// Comparison: max |x − r| ≤ tol · max(max |r|, floor) per tensor, no NaN.
// Gradients use the largest |r| of dQ, dK, dV together as the floor: dQ or dK
// can cancel to ~0 (one visible key: dS = P·(dP − D) = 0) where f32 leaves
// ε·|dP|, so their own max is not their error scale;
// log-sum-exp: equal infinities, else |x − r| ≤ tol · max(1, |r|)
// ---------------------------------------------------------------------------

function compare(name, got, want, tol, floor = 1e-6) {
  let maxRef = 0;
  let maxErr = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    if (Number.isFinite(want[i])) maxRef = Math.max(maxRef, Math.abs(want[i]));
  }
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    let err;
    if (Number.isNaN(g)) err = Infinity;
    else if (!Number.isFinite(w) || !Number.isFinite(g)) err = g === w ? 0 : Infinity;
    else err = Math.abs(g - w) / (name === 'logSumExp' ? Math.max(1, Math.abs(w)) : Math.max(maxRef, floor));
    if (err > maxErr) {
      maxErr = err;
      at = i;
    }
  }
  return { name, ok: maxErr <= tol, maxErr, at, got: got[at], want: want[at] };
}

function describe(c) {
  const opts = [];
  if (c.causal) opts.push('causal');
  if (c.windowLeft >= 0 || c.windowRight >= 0) opts.push(`window(${c.windowLeft},${c.windowRight})`);
  if (c.maskKind !== 'none') opts.push(`${c.maskKind}-mask[${c.maskShape}]${c.fullyMaskedRow >= 0 ? `-row${c.fullyMaskedRow}` : ''}`);
  if (c.alibi) opts.push('alibi');
  if (c.softcap) opts.push(`softcap=${c.softcap}`);
  if (c.dropoutP) opts.push(`dropout=${c.dropoutP}`);
  if (c.amplitude !== 1) opts.push(`amp=${c.amplitude}`);
  return (
    `B${c.B} H${c.H}/${c.Hk} Nq${c.Nq} Nk${c.Nk}${c.kvCapacity > c.Nk ? `(cap${c.kvCapacity})` : ''} D${c.D} ${c.layout} ` +
    `fwd${c.Br}x${c.Bc} bwd${c.bwdBr}x${c.bwdBc} scale=${c.scale.toPrecision(3)} ${opts.join(' ')}`
  );
}

const failures = [];
const tally = { forward: 0, backward: 0, decode: 0, weights: 0 };
const worst = { output: 0, logSumExp: 0, grads: 0, decode: 0, weights: 0 };

function checkConfig(c, { backward = true, decode = c.Nq <= 8, tolOut = 1e-5, tolGrad = 1e-4 } = {}) {
  const data = makeData(c);
  const args = referenceArgs(c, data);
  const ref = attentionForwardReference(args);
  const refGrad = backward ? attentionBackwardReference(args) : null;
  const report = (kind, results) => {
    for (const r of results) {
      const key = r.name.startsWith('grad') ? 'grads' : kind.startsWith('decode') ? 'decode' : kind.startsWith('weights') ? 'weights' : r.name;
      if (Number.isFinite(r.maxErr)) worst[key] = Math.max(worst[key], r.maxErr);
      if (!r.ok) failures.push(`${kind}: ${describe(c)}: ${r.name} err ${r.maxErr.toExponential(2)} at ${r.at} (got ${r.got}, want ${r.want})`);
    }
  };
  for (const n of [1, 2, 3]) {
    const out = kernelForward(c, data, n);
    report(`forward x${n}`, [compare('output', out.output, ref.output, tolOut), compare('logSumExp', out.logSumExp, ref.logSumExp, tolOut)]);
    tally.forward++;
    if (backward) {
      const g = kernelBackward(c, data, n);
      const gradScale = Math.max(...[refGrad.gradQuery, refGrad.gradKey, refGrad.gradValue].map((t) => t.reduce((m, x) => Math.max(m, Math.abs(x)), 0)));
      report(`backward x${n}${g.dqPass ? ' (dQ pass)' : ''}`, [
        compare('gradQuery', g.gradQuery, refGrad.gradQuery, tolGrad, gradScale),
        compare('gradKey', g.gradKey, refGrad.gradKey, tolGrad, gradScale),
        compare('gradValue', g.gradValue, refGrad.gradValue, tolGrad, gradScale),
      ]);
      tally.backward++;
    }
    if (decode) {
      for (const splits of [1, 3]) {
        const d = kernelDecode({ ...c, decodeSplits: splits }, data, n);
        report(`decode x${n} splits ${splits}`, [compare('output', d.output, ref.output, tolOut), compare('logSumExp', d.logSumExp, ref.logSumExp, tolOut)]);
        tally.decode++;
      }
    }
  }
  if (c.Nk * c.Nq * c.B * c.H < 200000) {
    report('weights x2', [compare('weights', kernelWeights(c, data, 2), ref.weights, tolOut)]);
    tally.weights++;
  }
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

function checkLayouts() {
  const out = wasm.alloc(4 * 128);
  const n = K.attentionParamsLayout(out);
  const got = Array.from(new Int32Array(wasm.memory.buffer, out, n));
  const want = Object.values(AttentionParam);
  if (n !== want.length || got.some((v, i) => v !== want[i])) failures.push(`params layout: wasm ${got} vs ts ${want}`);
  const nr = K.rotaryParamsLayout(out);
  const gotR = Array.from(new Int32Array(wasm.memory.buffer, out, nr));
  const wantR = Object.values(RotaryParam);
  if (nr !== wantR.length || gotR.some((v, i) => v !== wantR[i])) failures.push(`rotary layout: wasm ${gotR} vs ts ${wantR}`);
  console.log(`params layouts: attention ${n} fields, rotary ${nr} fields ${got.length === want.length ? 'agree' : 'DIFFER'}`);
}

function checkDropoutHash() {
  wasm.reset();
  const out = wasm.alloc(4 * 64);
  let count = 0;
  for (let t = 0; t < 200; t++) {
    const seed = randInt(0, 0xffffffff);
    const [b, h, i, j0] = [randInt(0, 7), randInt(0, 31), randInt(0, 100000), randInt(0, 100000)];
    K.attentionDropoutHashes(seed, b, h, i, j0, 64, out);
    const got = new Uint32Array(wasm.memory.buffer, out, 64);
    for (let j = 0; j < 64; j++) {
      count++;
      if (got[j] !== attentionDropoutHash(seed, b, h, i, j0 + j)) {
        failures.push(`dropout hash differs at seed ${seed} (${b},${h},${i},${j0 + j}): wasm ${got[j]} js ${attentionDropoutHash(seed, b, h, i, j0 + j)}`);
        return;
      }
    }
  }
  // the keep rate is p-accurate
  let kept = 0;
  for (let j = 0; j < 100000; j++) kept += attentionDropoutHash(7, 0, 0, 3, j) >>> 8 >= Math.floor(Math.fround(0.3) * 16777216) ? 1 : 0;
  console.log(`dropout hash: ${count} values agree bit for bit; keep rate at p=0.3: ${(kept / 100000).toFixed(4)}`);
}

/** The reference's backward against central differences of L = Σ O∘W, float64, tiny shapes. */
function checkFiniteDifferences() {
  const cases = [
    {},
    { causal: true, Nq: 4, Nk: 4 },
    { causal: true },
    { windowLeft: 1, windowRight: 0 },
    { maskKind: 'bool', maskShape: [3, 5] },
    { maskKind: 'additive', maskShape: [2, 1, 3, 5] },
    { alibi: true, causal: true },
    { softcap: 1.5 },
    { dropoutP: 0.4, dropoutSeed: 99 },
    { H: 4, Hk: 2, softcap: 2, alibi: true, maskKind: 'additive', maskShape: [3, 5], dropoutP: 0.3, dropoutSeed: 5 },
  ];
  let worstErr = 0;
  for (const overrides of cases) {
    const c = baseConfig({ B: 2, H: 2, Hk: 1, Nq: 3, Nk: 5, D: 3, ...overrides });
    const data = makeData(c);
    const args = referenceArgs(c, data);
    const weights = Float64Array.from(randomNormal(c.B * c.H * c.Nq * c.D));
    const loss = (a) => attentionForwardReference(a).output.reduce((s, o, i) => s + o * weights[i], 0);
    const grads = attentionBackwardReference({ ...args, gradOutput: weights });
    for (const [name, grad] of [
      ['query', grads.gradQuery],
      ['key', grads.gradKey],
      ['value', grads.gradValue],
    ]) {
      const x = args[name];
      let maxGrad = 0;
      let maxErr = 0;
      for (let i = 0; i < x.length; i++) {
        const eps = 1e-6;
        const saved = x[i];
        x[i] = saved + eps;
        const up = loss(args);
        x[i] = saved - eps;
        const down = loss(args);
        x[i] = saved;
        const numeric = (up - down) / (2 * eps);
        maxGrad = Math.max(maxGrad, Math.abs(numeric));
        maxErr = Math.max(maxErr, Math.abs(numeric - grad[i]));
      }
      const rel = maxErr / Math.max(maxGrad, 1e-12);
      worstErr = Math.max(worstErr, rel);
      if (!(rel < 1e-6)) failures.push(`finite differences: ${describe(c)}: d${name} relative error ${rel.toExponential(2)}`);
    }
  }
  console.log(`finite differences (float64 reference): ${cases.length} configs, worst relative error ${worstErr.toExponential(2)}`);
}

function checkRotary() {
  let worstErr = 0;
  let count = 0;
  for (let t = 0; t < 60; t++) {
    wasm.reset();
    const [B, H, N] = [randInt(1, 2), randInt(1, 3), randInt(1, 20)];
    const D = pick([2, 4, 6, 8, 10, 16, 64, 66]);
    const rotaryDim = pick([D, D, D - (D % 4 === 2 ? 2 : 4) > 0 ? D - (D % 4 === 2 ? 2 : 4) : D, 2]);
    const interleaved = random() < 0.5;
    const positionOffset = randInt(0, 30);
    const usePositions = random() < 0.3;
    const maxPositions = 64;
    const { cos, sin } = rotaryTables(maxPositions, rotaryDim);
    const input = randomNormal(B * H * N * D);
    const positions = usePositions ? Int32Array.from({ length: B * N }, () => randInt(0, maxPositions - 1)) : undefined;
    const args = { input, batch: B, numHeads: H, seqLength: N, headDim: D, rotaryDim, interleaved, positionOffset, positions, cos, sin };
    const inPlace = random() < 0.3;
    for (const [kernel, reference] of [
      [K.applyRotary, applyRotaryReference],
      [K.applyRotaryBackward, applyRotaryBackwardReference],
    ]) {
      const want = reference({ ...args, input: Float64Array.from(input), cos: Float64Array.from(cos), sin: Float64Array.from(sin) });
      const inPtr = wasm.put(input);
      const outPtr = inPlace ? inPtr : wasm.alloc(input.byteLength);
      const params = wasm.alloc(ROTARY_PARAMS_BYTES);
      writeRotaryParams(wasm.memory.buffer, params, {
        input: inPtr,
        output: outPtr,
        cos: wasm.put(cos),
        sin: wasm.put(sin),
        positions: positions ? wasm.put(new Uint8Array(positions.buffer)) : 0,
        positionsStrideBatch: N,
        batch: B,
        numHeads: H,
        seqLength: N,
        headDim: D,
        rotaryDim,
        interleaved: interleaved ? 1 : 0,
        positionOffset,
        tableStride: rotaryDim / 2,
        inputStrideBatch: H * N * D,
        inputStrideHead: N * D,
        inputStrideRow: D,
        outputStrideBatch: H * N * D,
        outputStrideHead: N * D,
        outputStrideRow: D,
      });
      const n = randInt(1, 3);
      run(kernel, params, n);
      const r = compare('rotary', wasm.f32(outPtr, input.length), want, 1e-6);
      worstErr = Math.max(worstErr, r.maxErr);
      count++;
      if (!r.ok) failures.push(`rotary: B${B} H${H} N${N} D${D} rot${rotaryDim} ${interleaved ? 'interleaved' : 'half'} err ${r.maxErr}`);
    }
  }
  console.log(`rotary: ${count} forward/backward runs vs reference, worst error ${worstErr.toExponential(2)}`);
}

function checkAll() {
  const t0 = performance.now();
  checkLayouts();
  checkDropoutHash();
  checkFiniteDifferences();
  checkRotary();
  // the source material's worked example: Q = I, K, V 3×3, d_k = 3
  {
    const c = baseConfig({ B: 1, H: 1, Hk: 1, Nq: 3, Nk: 3, D: 3, Br: 4, Bc: 4 });
    const data = {
      q: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]),
      k: Float32Array.from([1, 1, 1, 1, 0, 0, 0, 1, 1]),
      v: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]),
    };
    const out = kernelForward(c, data, 1).output;
    const ref = attentionForwardReference(referenceArgs(c, { ...data, dO: new Float32Array(9) })).output;
    const r = compare('output', out, ref, 1e-6);
    if (!r.ok) failures.push(`worked example: err ${r.maxErr}`);
    console.log(`worked example (Q=I, K, V 3×3): row 0 = [${Array.from(out.subarray(0, 3), (x) => x.toFixed(4))}]`);
  }
  // every option alone, then together, then random mixes
  const single = ['none', 'causal', 'window', 'mask', 'alibi', 'softcap', 'dropout', 'scale'];
  let configs = 0;
  for (const option of single) {
    for (let t = 0; t < 6; t++) {
      checkConfig(randomConfig([option]));
      configs++;
    }
  }
  for (let t = 0; t < 8; t++) {
    checkConfig(randomConfig(['causal', 'window', 'mask', 'alibi', 'softcap', 'dropout', 'scale']));
    configs++;
  }
  // fully masked rows from position alone: more query rows than keys, causal
  for (const [Nq, Nk] of [
    [20, 5],
    [9, 1],
  ]) {
    checkConfig(baseConfig({ Nq, Nk, causal: true, Br: 4, Bc: 4 }));
    checkConfig(baseConfig({ Nq, Nk, windowLeft: 0, windowRight: 0, Nk: Nk + 30 }));
    configs += 2;
  }
  // large scores (±1e4) stay finite: inputs ~100, scale 1 → |s| ~ 1e4
  for (let t = 0; t < 4; t++) {
    const c = randomConfig(['random']);
    c.amplitude = 100 / Math.sqrt(Math.sqrt(c.D));
    c.scale = 1;
    c.softcap = 0;
    checkConfig(c, { tolOut: 2e-2, tolGrad: Infinity });
    configs++;
  }
  for (let t = configs; t < CONFIGS; t++) checkConfig(randomConfig(['random']));
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    `kernel vs reference: ${Math.max(CONFIGS, configs)} configs × threads 1,2,3: ${tally.forward} forward, ${tally.backward} backward, ` +
      `${tally.decode} decode, ${tally.weights} weights runs in ${seconds} s`,
  );
  console.log(
    `  worst errors (tensor-relative): output ${worst.output.toExponential(2)}, logSumExp ${worst.logSumExp.toExponential(2)}, ` +
      `grads ${worst.grads.toExponential(2)}, decode ${worst.decode.toExponential(2)}, weights ${worst.weights.toExponential(2)}`,
  );
}

// ---------------------------------------------------------------------------
// Timing (single thread, medians)
// ---------------------------------------------------------------------------

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// The machine is shared: each timing rep is paired with a measurement of the
// single-core wasm FMA (or mul+add) ceiling taken right before it, from
// ../shared/tools/wasm-peak.wasm when present, so a busy machine shows up as
// a low ceiling rather than as a slow kernel. Reported: median ms, and the
// median of per-rep fractions of the ceiling.
const peakFile = new URL('../../shared/tools/wasm-peak.wasm', import.meta.url);
let peakProbe = null;
try {
  peakProbe = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(peakFile)), { env: { abort: () => {} } }).exports;
} catch {
  peakProbe = null;
}
function measurePeak() {
  if (!peakProbe) return Number.NaN;
  const n = 2_000_000;
  const fn = BUILD === 'relaxed' ? peakProbe.peakFma : peakProbe.peakMulAdd;
  const t0 = performance.now();
  fn(n);
  return (2 * 4 * 12 * n) / (performance.now() - t0) / 1e6;
}

/** Median ms per call and median fraction of the concurrently measured ceiling, given the flops of one call. */
function timeIt(fn, reps, minMs, flops) {
  fn();
  fn();
  measurePeak();
  const times = [];
  const fractions = [];
  for (let r = 0; r < reps; r++) {
    const peak = measurePeak();
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

function benchSetup(N, causal, { Nq = N, fwd = [FWD_BR, FWD_BC], bwd = [BWD_BR, BWD_BC], H = 8, D = 64, splits = 1 } = {}) {
  wasm.reset();
  const c = baseConfig({ B: 1, H, Hk: H, Nq, Nk: N, D, causal, decodeSplits: splits });
  const data = {
    q: randomNormal(H * Nq * D),
    k: randomNormal(H * N * D),
    v: randomNormal(H * N * D),
    dO: randomNormal(H * Nq * D),
  };
  const ptrs = placeInputs(c, data);
  Object.assign(ptrs, {
    gradOutput: placeTensor(data.dO, 1, H, Nq, D, 'bhnd'),
    gradQuery: wasm.alloc(H * Nq * D * 4),
    gradKey: wasm.alloc(H * N * D * 4),
    gradValue: wasm.alloc(H * N * D * 4),
  });
  const probeF = writeParams(c, ptrs, fwd[0], fwd[1]);
  const probeB = writeParams(c, ptrs, bwd[0], bwd[1]);
  const bytes = Math.max(K.flashAttentionForwardScratchBytes(probeF), K.flashAttentionBackwardScratchBytes(probeB), K.attentionDecodeScratchBytes(probeF));
  const scratch = wasm.scratch(bytes, 1);
  ptrs.partials = wasm.alloc(K.attentionDecodePartialsBytes(probeF));
  const common = { ...ptrs, scratch: scratch.ptr, scratchStride: scratch.stride };
  return { c, fwdParams: writeParams(c, common, fwd[0], fwd[1]), bwdParams: writeParams(c, common, bwd[0], bwd[1]) };
}

function timeAll() {
  console.log(`\ntiming (${BUILD} build, 1 thread, B=1 H=8 D=64, median of ${REPS}; forward tiles ${FWD_BR}x${FWD_BC}, backward ${BWD_BR}x${BWD_BC})`);
  console.log(`single-core ${BUILD === 'relaxed' ? 'relaxed_madd' : 'mul+add'} ceiling now: ${measurePeak().toFixed(1)} GFLOP/s (median-of-reps fraction below is against the ceiling measured beside each rep)`);
  console.log('case                     median ms    GFLOP/s  of ceiling  best GFLOP/s');
  const rows = [];
  const line = (name, { ms, best, fraction }, flops) => {
    const gflops = flops / ms / 1e6;
    rows.push({ name, ms, gflops, fraction, bestGflops: flops / best / 1e6 });
    console.log(
      `${name.padEnd(26)} ${ms.toFixed(3).padStart(9)} ${gflops.toFixed(1).padStart(10)} ${(100 * fraction).toFixed(0).padStart(10)}% ${(flops / best / 1e6).toFixed(1).padStart(12)}`,
    );
  };
  for (const N of [512, 2048]) {
    for (const causal of [false, true]) {
      const { fwdParams, bwdParams } = benchSetup(N, causal);
      const flops = (4 * 8 * N * N * 64) / (causal ? 2 : 1);
      const fwd = timeIt(() => K.flashAttentionForward(fwdParams, 0, 1), REPS, 50, flops);
      line(`forward N=${N}${causal ? ' causal' : ''}`, fwd, flops);
      const both = timeIt(
        () => {
          K.flashAttentionForward(fwdParams, 0, 1);
          K.flashAttentionBackward(bwdParams, 0, 1);
        },
        REPS,
        50,
        3.5 * flops,
      );
      line(`fwd+bwd N=${N}${causal ? ' causal' : ''}`, both, 3.5 * flops);
    }
  }
  for (const splits of [1, 4]) {
    const { fwdParams } = benchSetup(4096, false, { Nq: 1, splits });
    const ms = timeIt(
      () => {
        K.attentionDecode(fwdParams, 0, 1);
        K.attentionDecodeMerge(fwdParams, 0, 1);
      },
      REPS,
      100,
      4 * 8 * 4096 * 64,
    );
    line(`decode 1x4096${splits > 1 ? ` splits=${splits}` : ''}`, ms, 4 * 8 * 4096 * 64);
  }
  return rows;
}

function tune() {
  console.log('\ntile sweep (forward N=2048, 1 thread)');
  for (const br of [32, 64, 128]) {
    for (const bc of [32, 64, 128, 256]) {
      for (const causal of [false, true]) {
        const { fwdParams } = benchSetup(2048, causal, { fwd: [br, bc] });
        const flops = (4 * 8 * 2048 * 2048 * 64) / (causal ? 2 : 1);
        const { ms, best, fraction } = timeIt(() => K.flashAttentionForward(fwdParams, 0, 1), 5, 50, flops);
        console.log(
          `  fwd ${br}x${bc}${causal ? ' causal' : ''}: median ${(flops / ms / 1e6).toFixed(1)} GFLOP/s (${(100 * fraction).toFixed(0)}% of ceiling), best ${(flops / best / 1e6).toFixed(1)}`,
        );
      }
    }
  }
  console.log('tile sweep (backward N=2048, 1 thread)');
  for (const br of [16, 32, 64]) {
    for (const bc of [32, 64, 128]) {
      const { bwdParams } = benchSetup(2048, false, { bwd: [br, bc] });
      const flops = 2.5 * 4 * 8 * 2048 * 2048 * 64;
      const { ms, best, fraction } = timeIt(() => K.flashAttentionBackward(bwdParams, 0, 1), 3, 50, flops);
      console.log(`  bwd ${br}x${bc}: median ${(flops / ms / 1e6).toFixed(1)} GFLOP/s (${(100 * fraction).toFixed(0)}% of ceiling), best ${(flops / best / 1e6).toFixed(1)}`);
    }
  }
}

const onlyTime = flag('--time') || flag('--tune');
const onlyCheck = flag('--check');
if (!onlyTime) {
  checkAll();
  if (failures.length) {
    console.log(`\n${failures.length} FAILURES`);
    for (const f of failures.slice(0, 40)) console.log(`  ${f}`);
    process.exitCode = 1;
  } else console.log('all checks passed');
}
if (flag('--tune')) tune();
else if (!onlyCheck) timeAll();
