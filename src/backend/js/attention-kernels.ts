// The js backend's attention and rotary kernels: adapters from tensors to
// the readable references in attention.ts and rotary.ts.

import type { Tensor } from '../../tensor/tensor.js';
import type { AttentionParams, RotaryParams } from '../kernels.js';
import { type AttentionInputs, attentionBackwardReference, attentionForwardReference, type FloatArray } from './attention.js';
import { applyRotaryBackwardReference, applyRotaryReference } from './rotary.js';

/** k or v with only the first keyLength rows of each (b, kv head): the reference wants them dense. */
function denseKeys(t: Tensor, p: AttentionParams): FloatArray {
  const all = t.view() as FloatArray;
  if (p.keyCapacity === p.keyLength) return all;
  const D = p.headDim;
  const rows = p.batch * p.numKvHeads;
  const out = all instanceof Float64Array ? new Float64Array(rows * p.keyLength * D) : new Float32Array(rows * p.keyLength * D);
  for (let r = 0; r < rows; r++) out.set(all.subarray(r * p.keyCapacity * D, (r * p.keyCapacity + p.keyLength) * D), r * p.keyLength * D);
  return out;
}

function inputs(q: Tensor, k: Tensor, v: Tensor, p: AttentionParams): AttentionInputs<FloatArray> {
  return {
    query: q.view() as FloatArray,
    key: denseKeys(k, p),
    value: denseKeys(v, p),
    batch: p.batch,
    numHeads: p.numHeads,
    numKvHeads: p.numKvHeads,
    queryLength: p.queryLength,
    keyLength: p.keyLength,
    headDim: p.headDim,
    scale: p.scale,
    mask: p.mask ? (p.mask.view() as Uint8Array | FloatArray) : undefined,
    maskKind: p.mask ? (p.mask.dtype === 'bool' ? 'bool' : 'additive') : 'none',
    maskStrides: p.maskStrides,
    causal: p.causal,
    windowLeft: p.windowLeft,
    windowRight: p.windowRight,
    alibiSlopes: p.alibiSlopes ? p.alibiSlopes.view() : undefined,
    softcap: p.softcap,
    dropoutP: p.dropoutP,
    dropoutSeed: p.dropoutSeed,
  };
}

export function attentionForward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, p: AttentionParams): void {
  const r = attentionForwardReference(inputs(q, k, v, p));
  out.view().set(r.output);
  logSumExp.view().set(r.logSumExp);
}

export function attentionDecode(q: Tensor, k: Tensor, v: Tensor, out: Tensor, p: AttentionParams): void {
  out.view().set(attentionForwardReference(inputs(q, k, v, p)).output);
}

export function attentionWeights(q: Tensor, k: Tensor, _logSumExp: Tensor, weights: Tensor, p: AttentionParams): void {
  weights.view().set(attentionForwardReference(inputs(q, k, k, p)).weights);
}

export function attentionBackward(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  _out: Tensor,
  _logSumExp: Tensor,
  gradOut: Tensor,
  gradQ: Tensor,
  gradK: Tensor,
  gradV: Tensor,
  p: AttentionParams,
): void {
  const g = attentionBackwardReference({ ...inputs(q, k, v, p), gradOutput: gradOut.view() as FloatArray });
  gradQ.view().set(g.gradQuery);
  gradK.view().set(g.gradKey);
  gradV.view().set(g.gradValue);
}

export function rotary(x: Tensor, out: Tensor, cos: Tensor, sin: Tensor, positions: Tensor | null, p: RotaryParams): void {
  const args = {
    input: x.view() as FloatArray,
    cos: cos.view() as FloatArray,
    sin: sin.view() as FloatArray,
    batch: p.batch,
    numHeads: p.numHeads,
    seqLength: p.seqLength,
    headDim: p.headDim,
    rotaryDim: p.rotaryDim,
    interleaved: p.interleaved,
    positionOffset: p.positionOffset,
    positions: positions ? (positions.view() as Int32Array) : undefined,
  };
  out.view().set(p.inverse ? applyRotaryBackwardReference(args) : applyRotaryReference(args));
}
