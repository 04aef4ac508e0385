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
import v8 from 'node:v8';
import {
  attentionBackwardReference,
  attentionDropoutHash,
  attentionForwardReference,
  broadcastMaskStrides,
} from '../src/backend/js/attention.ts';
import { applyRotaryBackwardReference, applyRotaryReference, rotaryTables } from '../src/backend/js/rotary.ts';
import { AttentionParam, ROTARY_PARAMS_BYTES, RotaryParam, writeRotaryParams } from '../src/backend/wasm/attention-params.ts';
import {
  init,
  K,
  kernelBackward,
  kernelDecode,
  kernelForward,
  kernelWeights,
  measurePeak,
  pick,
  placeInputs,
  placeTensor,
  randInt,
  random,
  randomNormal,
  run,
  startThreads,
  stopThreads,
  timeIt as timeWith,
  wasm,
  writeParams,
} from './attention-harness-runtime.mjs';

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
init(BUILD);
const timeIt = (fn, reps, minMs, flops) => timeWith(fn, reps, minMs, flops, BUILD === 'relaxed');

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
    D: pick([1, 3, 4, 5, 8, 12, 16, 31, 32, 64, 64, 128, 256]),
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
      [c.Nq, 1],
    ]);
    if (random() < 0.5) c.fullyMaskedRow = randInt(0, c.Nq - 1);
  }
  if (want('alibi')) c.alibi = true;
  if (want('softcap')) c.softcap = pick([0.5, 2, 30]);
  if (want('dropout')) {
    c.dropoutP = pick([0.1, 0.5, 0.9]);
    c.dropoutSeed = randInt(0, 0xffffffff);
  }
  // logits of std up to ~6 for unit inputs; huge scores have their own test (f32 scores carry ε·|s| error)
  if (want('scale')) c.scale = pick([0.3, 2, 6]) / Math.sqrt(c.D);
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
          for (let j = 0; j < c.Nk; j++)
            data.mask[b * sb + h * sh + c.fullyMaskedRow * si + j * sj] = c.maskKind === 'bool' ? 0 : -Infinity;
    }
  }
  if (c.alibi) {
    data.slopes = new Float32Array(c.H);
    for (let h = 0; h < c.H; h++) data.slopes[h] = 2 ** ((-8 * (h + 1)) / c.H);
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
      const key = r.name.startsWith('grad')
        ? 'grads'
        : kind.startsWith('decode')
          ? 'decode'
          : kind.startsWith('weights')
            ? 'weights'
            : r.name;
      if (Number.isFinite(r.maxErr) && tolOut <= 1e-5) worst[key] = Math.max(worst[key], r.maxErr);
      if (!r.ok)
        failures.push(`${kind}: ${describe(c)}: ${r.name} err ${r.maxErr.toExponential(2)} at ${r.at} (got ${r.got}, want ${r.want})`);
    }
  };
  for (const n of [1, 2, 3]) {
    const out = kernelForward(c, data, n);
    report(`forward x${n}`, [
      compare('output', out.output, ref.output, tolOut),
      compare('logSumExp', out.logSumExp, ref.logSumExp, tolOut),
    ]);
    tally.forward++;
    if (backward) {
      const g = kernelBackward(c, data, n);
      const gradScale = Math.max(
        ...[refGrad.gradQuery, refGrad.gradKey, refGrad.gradValue].map((t) => t.reduce((m, x) => Math.max(m, Math.abs(x)), 0)),
      );
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
        report(`decode x${n} splits ${splits}`, [
          compare('output', d.output, ref.output, tolOut),
          compare('logSumExp', d.logSumExp, ref.logSumExp, tolOut),
        ]);
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
        failures.push(
          `dropout hash differs at seed ${seed} (${b},${h},${i},${j0 + j}): wasm ${got[j]} js ${attentionDropoutHash(seed, b, h, i, j0 + j)}`,
        );
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
      ['applyRotary', applyRotaryReference],
      ['applyRotaryBackward', applyRotaryBackwardReference],
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
    checkConfig(baseConfig({ Nq, windowLeft: 0, windowRight: 0, Nk: Nk + 30 }));
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
  // the same on real threads (2 and 3 running at once over the shared memory)
  startThreads(3);
  const realThreads = Math.max(20, Math.round(CONFIGS / 10));
  for (let t = 0; t < realThreads; t++) checkConfig(randomConfig(['random']));
  stopThreads();
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    `kernel vs reference: ${Math.max(CONFIGS, configs)} configs (+ ${realThreads} on real threads) × threads 1,2,3: ` +
      `${tally.forward} forward, ${tally.backward} backward, ` +
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

function benchSetup(N, causal, { Nq = N, fwd = [FWD_BR, FWD_BC], bwd = [BWD_BR, BWD_BC], H = 8, D = 64, splits = 1, threads = 1 } = {}) {
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
  const bytes = Math.max(
    K.flashAttentionForwardScratchBytes(probeF),
    K.flashAttentionBackwardScratchBytes(probeB),
    K.attentionDecodeScratchBytes(probeF),
  );
  const scratch = wasm.scratch(bytes, threads);
  ptrs.partials = wasm.alloc(K.attentionDecodePartialsBytes(probeF));
  const common = { ...ptrs, scratch: scratch.ptr, scratchStride: scratch.stride };
  return { c, fwdParams: writeParams(c, common, fwd[0], fwd[1]), bwdParams: writeParams(c, common, bwd[0], bwd[1]) };
}

function timeAll() {
  const threadCounts = option('--threads', '1').split(',').map(Number);
  const maxThreads = Math.max(...threadCounts);
  if (maxThreads > 1) startThreads(maxThreads);
  console.log(
    `\ntiming (${BUILD} build, B=1 H=8 D=64, median of ${REPS}; forward tiles ${FWD_BR}x${FWD_BC}, backward ${BWD_BR}x${BWD_BC})`,
  );
  console.log(
    `single-core ${BUILD === 'relaxed' ? 'relaxed_madd' : 'mul+add'} ceiling now: ${measurePeak(BUILD === 'relaxed').toFixed(1)} GFLOP/s ` +
      '("of ceiling": against threads × the single-core ceiling measured beside each rep)',
  );
  console.log('case                        threads  median ms    GFLOP/s  of ceiling  best GFLOP/s');
  const rows = [];
  const line = (name, threads, { ms, best, fraction }, flops) => {
    const gflops = flops / ms / 1e6;
    rows.push({ name, threads, ms, gflops, fraction: fraction / threads, bestGflops: flops / best / 1e6 });
    console.log(
      `${name.padEnd(28)} ${String(threads).padStart(7)} ${ms.toFixed(3).padStart(10)} ${gflops.toFixed(1).padStart(10)} ` +
        `${((100 * fraction) / threads).toFixed(0).padStart(10)}% ${(flops / best / 1e6).toFixed(1).padStart(12)}`,
    );
  };
  for (const N of [512, 2048]) {
    for (const causal of [false, true]) {
      for (const threads of threadCounts) {
        const { fwdParams, bwdParams } = benchSetup(N, causal, { threads });
        const flops = (4 * 8 * N * N * 64) / (causal ? 2 : 1);
        const forward = () => run('flashAttentionForward', fwdParams, threads);
        line(`forward N=${N}${causal ? ' causal' : ''}`, threads, timeIt(forward, REPS, 50, flops), flops);
        const both = () => {
          forward();
          run('flashAttentionBackward', bwdParams, threads);
          run('flashAttentionBackwardDq', bwdParams, threads);
        };
        line(`fwd+bwd N=${N}${causal ? ' causal' : ''}`, threads, timeIt(both, REPS, 50, 3.5 * flops), 3.5 * flops);
      }
    }
  }
  for (const threads of threadCounts) {
    for (const splits of [1, 4]) {
      const { fwdParams } = benchSetup(4096, false, { Nq: 1, splits, threads });
      const decode = () => {
        run('attentionDecode', fwdParams, threads);
        run('attentionDecodeMerge', fwdParams, threads);
      };
      line(
        `decode 1x4096${splits > 1 ? ` splits=${splits}` : ''}`,
        threads,
        timeIt(decode, REPS, 100, 4 * 8 * 4096 * 64),
        4 * 8 * 4096 * 64,
      );
    }
  }
  stopThreads();
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
      console.log(
        `  bwd ${br}x${bc}: median ${(flops / ms / 1e6).toFixed(1)} GFLOP/s (${(100 * fraction).toFixed(0)}% of ceiling), best ${(flops / best / 1e6).toFixed(1)}`,
      );
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
