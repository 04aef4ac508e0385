// Plain-JS references the benchmarked systems are checked against, before timing.
//
// B batch · H heads · Nq query rows · Nk key rows · D head dim
//
// To stay cheap at large sizes the reference computes a sample of each output: up to
// 64 rows of a GEMM; for attention, the first and last head of the first and last
// batch, with up to 64 query rows each for the forward and all rows for the backward
// (dK and dV need every row). Entries outside the sample are NaN and not compared.
// Results are cached in the OS temp folder, keyed by workload and seed, so the child
// processes of one run compute each reference once.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AttentionWorkload, Inputs, MatmulWorkload, Outputs, Workload } from './harness.js';
import { inputShapes, shapeSize } from './harness.js';

const sampledRows = 64;

function matmulReference(w: MatmulWorkload, { a, b }: Inputs): Outputs {
  const [m, k] = w.shapeA.slice(-2);
  const n = w.shapeB[w.shapeB.length - 1];
  const batchA = shapeSize(w.shapeA.slice(0, -2));
  const batchB = shapeSize(w.shapeB.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    throw new Error(`reference matmul: only equal or size-1 batches, got [${w.shapeA}]×[${w.shapeB}]`);
  }
  const batch = Math.max(batchA, batchB);
  const rows = batch * m;
  const c = new Float32Array(rows * n).fill(Number.NaN);
  const step = Math.max(1, Math.floor(rows / sampledRows));
  const acc = new Float64Array(n);
  for (let row = 0; row < rows; row += step) {
    const z = Math.floor(row / m);
    const i = row % m;
    const aRow = (batchA === 1 ? 0 : z) * m * k + i * k;
    const bBase = (batchB === 1 ? 0 : z) * k * n;
    acc.fill(0);
    for (let p = 0; p < k; p++) {
      const x = a[aRow + p];
      const bRow = bBase + p * n;
      for (let j = 0; j < n; j++) acc[j] += x * b[bRow + j];
    }
    c.set(acc, row * n);
  }
  return { c };
}

/** The (batch, head) slices the attention reference computes. */
function sampledHeads(w: AttentionWorkload): number[] {
  const heads = w.batch * w.numHeads;
  const picks = [0, w.numHeads - 1, heads - w.numHeads, heads - 1];
  return [...new Set(picks)].sort((x, y) => x - y);
}

/**
 * One (batch, head) slice, row by row with the row's scores materialised:
 * s = q_i·Kᵀ·scale (masked), p = softmax(s), o_i = p·V. With dO, every row also adds
 * its share of the backward, so dK and dV are complete after the last row.
 * Forward only: just the sampled rows.
 */
function attentionSlice(
  w: AttentionWorkload,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  dOut: Float32Array | undefined,
  out: { o: Float32Array; dq?: Float32Array; dk?: Float32Array; dv?: Float32Array },
) {
  const { seqQ: nq, seqK: nk, headDim: d } = w;
  const scale = 1 / Math.sqrt(d);
  const offset = nk - nq;
  const backward = dOut !== undefined;
  const step = backward ? 1 : Math.max(1, Math.floor(nq / sampledRows));
  const p = new Float64Array(nk);
  const o = new Float64Array(d);
  if (backward) {
    out.dq?.fill(0);
    out.dk?.fill(0);
    out.dv?.fill(0);
  }
  for (let i = 0; i < nq; i += step) {
    const visible = w.causal ? Math.max(0, Math.min(nk, i + offset + 1)) : nk;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < visible; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += q[i * d + c] * k[j * d + c];
      p[j] = s * scale;
      if (p[j] > max) max = p[j];
    }
    let sum = 0;
    for (let j = 0; j < visible; j++) {
      p[j] = Math.exp(p[j] - max);
      sum += p[j];
    }
    // a fully masked row (visible = 0) yields zeros
    o.fill(0);
    for (let j = 0; j < visible; j++) {
      p[j] /= sum;
      for (let c = 0; c < d; c++) o[c] += p[j] * v[j * d + c];
    }
    out.o.set(o, i * d);
    if (!dOut || !out.dq || !out.dk || !out.dv) continue;
    const { dq, dk, dv } = out;
    // D_i = rowsum(dO ∘ O)
    let rowDot = 0;
    for (let c = 0; c < d; c++) rowDot += dOut[i * d + c] * o[c];
    for (let j = 0; j < visible; j++) {
      // dV += Pᵀ·dO   (forward: O = P·V);  dP = dO·Vᵀ
      let dp = 0;
      for (let c = 0; c < d; c++) {
        dv[j * d + c] += p[j] * dOut[i * d + c];
        dp += dOut[i * d + c] * v[j * d + c];
      }
      // dS = P ∘ (dP − D)   (forward: P = softmax(S));  S = Q·Kᵀ·scale
      const ds = p[j] * (dp - rowDot) * scale;
      for (let c = 0; c < d; c++) {
        dq[i * d + c] += ds * k[j * d + c];
        dk[j * d + c] += ds * q[i * d + c];
      }
    }
  }
}

function attentionReference(w: AttentionWorkload, inputs: Inputs): Outputs {
  const { seqQ: nq, seqK: nk, headDim: d } = w;
  const backward = w.pass === 'forwardBackward';
  const qSize = shapeSize(inputShapes(w).q);
  const kSize = shapeSize(inputShapes(w).k);
  const result: Outputs = { o: new Float32Array(qSize).fill(Number.NaN) };
  if (backward) {
    result.dq = new Float32Array(qSize).fill(Number.NaN);
    result.dk = new Float32Array(kSize).fill(Number.NaN);
    result.dv = new Float32Array(kSize).fill(Number.NaN);
  }
  for (const head of sampledHeads(w)) {
    const qs = [head * nq * d, (head + 1) * nq * d] as const;
    const ks = [head * nk * d, (head + 1) * nk * d] as const;
    attentionSlice(
      w,
      inputs.q.subarray(...qs),
      inputs.k.subarray(...ks),
      inputs.v.subarray(...ks),
      backward ? inputs.dOut.subarray(...qs) : undefined,
      {
        o: result.o.subarray(...qs),
        dq: result.dq?.subarray(...qs),
        dk: result.dk?.subarray(...ks),
        dv: result.dv?.subarray(...ks),
      },
    );
  }
  return result;
}

/** Reference outputs (sampled, NaN elsewhere) of a workload on the given inputs. */
export function referenceOutputs(w: Workload, inputs: Inputs): Outputs {
  return w.kind === 'matmul' ? matmulReference(w, inputs) : attentionReference(w, inputs);
}

/** referenceOutputs, computed once per (workload, seed) and kept in the OS temp folder. */
export function cachedReference(w: Workload, seed: number, inputs: Inputs): Outputs {
  const key = createHash('sha1')
    .update(JSON.stringify({ w, seed, v: 2 }))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(os.tmpdir(), 'attune-bench-reference');
  const file = path.join(dir, `${key}.json`);
  if (existsSync(file)) {
    try {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      const outputs: Outputs = {};
      for (const [name, base64] of Object.entries(stored)) {
        const bytes = Buffer.from(base64, 'base64');
        outputs[name] = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
      }
      return outputs;
    } catch {
      // a damaged cache entry is recomputed below
    }
  }
  const outputs = referenceOutputs(w, inputs);
  mkdirSync(dir, { recursive: true });
  const stored = Object.fromEntries(
    Object.entries(outputs).map(([name, data]) => [name, Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64')]),
  );
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(stored));
  renameSync(tmp, file);
  return outputs;
}

/** The names a system must return for a workload. */
export function requiredOutputs(w: Workload): string[] {
  if (w.kind === 'matmul') return ['c'];
  return w.pass === 'forward' ? ['o'] : ['dq', 'dk', 'dv'];
}

export interface Comparison {
  /** Largest over outputs of max |x − ref| / max |ref| on the sampled entries. */
  maxRelError: number;
  /** What disagreed, if anything. */
  problem?: string;
}

export function compareOutputs(w: Workload, actual: Outputs, reference: Outputs, tolerance: number): Comparison {
  let maxRelError = 0;
  const problems: string[] = [];
  for (const name of Object.keys(reference)) {
    const ref = reference[name];
    const got = actual[name];
    if (!got) {
      if (requiredOutputs(w).includes(name)) problems.push(`output ${name} missing`);
      continue;
    }
    if (got.length !== ref.length) {
      problems.push(`output ${name} has ${got.length} values, expected ${ref.length}`);
      continue;
    }
    let maxDiff = 0;
    let maxRef = 0;
    let worst = -1;
    for (let i = 0; i < ref.length; i++) {
      const r = ref[i];
      if (Number.isNaN(r)) continue;
      const diff = Math.abs(got[i] - r);
      if (!(diff <= maxDiff)) {
        // NaN in the output lands here too
        maxDiff = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
        worst = i;
      }
      maxRef = Math.max(maxRef, Math.abs(r));
    }
    const rel = maxDiff / (maxRef || 1);
    maxRelError = Math.max(maxRelError, rel);
    if (!(rel <= tolerance)) {
      problems.push(`${name}[${worst}] = ${got[worst]}, reference ${ref[worst]} (rel err ${rel.toExponential(1)})`);
    }
  }
  return { maxRelError, problem: problems.length ? problems.join('; ') : undefined };
}
