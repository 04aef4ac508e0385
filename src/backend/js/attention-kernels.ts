// The js backend's attention and rotary kernels: adapters from tensors to
// the readable references in attention.ts and rotary.ts, which take the same
// parameter object (src/backend/attention-schema.ts) with arrays for tensors.

import type { Tensor } from '../../tensor/tensor.js';
import type { AttentionParams, RotaryParams } from '../kernels.js';
import {
  type AttentionInputs,
  attentionBackwardReference,
  attentionForwardReference,
  type FloatArray,
  type ReferenceAttentionParams,
} from './attention.js';
import { applyRotaryBackwardReference, applyRotaryReference } from './rotary.js';

function referenceParams(p: AttentionParams): ReferenceAttentionParams {
  return {
    ...p,
    mask: p.mask ? (p.mask.view() as Uint8Array | FloatArray) : null,
    alibiSlopes: p.alibiSlopes ? (p.alibiSlopes.view() as FloatArray) : null,
  };
}

function inputs(q: Tensor, k: Tensor, v: Tensor): AttentionInputs<FloatArray> {
  return { query: q.view() as FloatArray, key: k.view() as FloatArray, value: v.view() as FloatArray };
}

export function attentionForward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, p: AttentionParams): void {
  const r = attentionForwardReference(referenceParams(p), inputs(q, k, v));
  out.view().set(r.output);
  logSumExp.view().set(r.logSumExp);
}

export function attentionDecode(q: Tensor, k: Tensor, v: Tensor, out: Tensor, p: AttentionParams): void {
  out.view().set(attentionForwardReference(referenceParams(p), inputs(q, k, v)).output);
}

export function attentionWeights(q: Tensor, k: Tensor, _logSumExp: Tensor, weights: Tensor, p: AttentionParams): void {
  weights.view().set(attentionForwardReference(referenceParams(p), inputs(q, k, k)).weights);
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
  const g = attentionBackwardReference(referenceParams(p), { ...inputs(q, k, v), gradOutput: gradOut.view() as FloatArray });
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
